//! Which functions get probes.

use crate::names::{demangle, Glob, DEFAULT_EXCLUDES};
use crate::scan::Scan;
use crate::{Error, FunctionReport};

/// The default of `--min-instructions`: leaf functions (making no call) with fewer instructions
/// than this are left alone, since a probe pair costs far more than their body.
pub const DEFAULT_MIN_INSTRUCTIONS: u32 = 8;

/// Selection options (the command line's).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Glob patterns (`*`, `?`) over demangled names. When any is given, only functions matching
    /// one of them are candidates.
    pub include: Vec<String>,
    /// Glob patterns over demangled names. A function matching one is never instrumented.
    pub exclude: Vec<String>,
    /// Leaf functions with fewer instructions than this are skipped. `None`: the default
    /// ([`DEFAULT_MIN_INSTRUCTIONS`], or 0 with `all`).
    pub min_instructions: Option<u32>,
    /// Turns off the defaults: unnamed functions become candidates, the default exclusion list
    /// ([`crate::names::DEFAULT_EXCLUDES`]) is not applied, and the minimum size is 0 unless
    /// `min_instructions` is given. `include` and `exclude` still apply.
    pub all: bool,
}

/// The selection decision for one function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Probes were added.
    Instrumented,
    /// Matches the `--exclude` pattern.
    Excluded(String),
    /// `--include` was given and no pattern matches.
    NotIncluded,
    /// Matches this pattern of the default exclusion list.
    Runtime(&'static str),
    /// The function has no name (and `--all` was not given).
    Unnamed,
    /// A leaf function smaller than the minimum.
    Tiny,
}

impl Decision {
    /// Whether the function was instrumented.
    pub fn is_instrumented(&self) -> bool {
        matches!(self, Decision::Instrumented)
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Instrumented => f.write_str("instrumented"),
            Decision::Excluded(p) => write!(f, "excluded by --exclude '{p}'"),
            Decision::NotIncluded => f.write_str("matches no --include"),
            Decision::Runtime(p) => write!(f, "runtime internal (default exclusion '{p}')"),
            Decision::Unnamed => f.write_str("no name"),
            Decision::Tiny => f.write_str("tiny leaf function"),
        }
    }
}

pub(crate) fn select(scan: &Scan<'_>, options: &Options) -> Result<Vec<FunctionReport>, Error> {
    for p in options.include.iter().chain(&options.exclude) {
        if p.is_empty() {
            return Err(Error::Unsupported("an empty --include/--exclude pattern".into()));
        }
    }
    let min = options.min_instructions.unwrap_or(if options.all { 0 } else { DEFAULT_MIN_INSTRUCTIONS });
    let include: Vec<Glob> = options.include.iter().map(|p| Glob::new(p)).collect();
    let exclude: Vec<Glob> = options.exclude.iter().map(|p| Glob::new(p)).collect();
    let defaults: Vec<(Glob, &'static str)> =
        if options.all { Vec::new() } else { DEFAULT_EXCLUDES.iter().map(|&p| (Glob::new(p), p)).collect() };
    let mut out = Vec::with_capacity(scan.bodies.len());
    for (i, stats) in scan.bodies.iter().enumerate() {
        let id = scan.func_imports + i as u32;
        let raw = scan.func_names.get(&id).or_else(|| scan.export_names.get(&id)).copied();
        let name = raw.map(demangle);
        let subject: Vec<char> = name.as_deref().unwrap_or("").chars().collect();
        let decision = if let Some(p) = exclude.iter().find(|p| p.matches(&subject)) {
            Decision::Excluded(p.as_str().to_string())
        } else if !include.is_empty() && !include.iter().any(|p| p.matches(&subject)) {
            Decision::NotIncluded
        } else if !options.all && name.is_none() {
            Decision::Unnamed
        } else if let Some((_, p)) = defaults
            .iter()
            .find(|(g, _)| g.matches(&subject))
            .filter(|_| !crate::names::is_user_code(name.as_deref().unwrap_or("")))
        {
            Decision::Runtime(p)
        } else if !stats.calls && stats.instructions < min {
            Decision::Tiny
        } else {
            Decision::Instrumented
        };
        out.push(FunctionReport { id, name, instructions: stats.instructions, calls: stats.calls, decision });
    }
    Ok(out)
}
