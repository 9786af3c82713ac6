//! `bench-runner`: runs every wasmedge-otel benchmark side by side in one run and writes
//! BENCHMARKS.md (`make bench` builds everything, then runs this from the repository root).
//!
//! Sections, in the order they run:
//! - module sizes (raw and after `wasm-opt -Oz`);
//! - per-operation costs timed inside the guest (and inside the native baseline program), each
//!   configuration run several times, interleaved round by round so that ratios are taken between
//!   runs made at the same moment;
//! - callgrind instruction counts per operation (slopes between two N), and the profile of the
//!   plugin's per-span path;
//! - start-up (hyperfine);
//! - throughput to the test collector, and peak RSS and loss under overload;
//! - automatic instrumentation (`wasmedge-otel instrument`): size growth, cost per instrumented
//!   call, rewrite time.
//!
//! Nothing here is a pass/fail test: the targets are reported, met or missed, in the output.

mod callgrind;
mod instrument;
mod perop;
mod proc;
mod report;
mod sizes;
mod startup;
mod stats;
mod throughput;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Runs of each per-operation configuration.
    pub runs: usize,
    /// Smaller N and fewer runs, for trying the runner out (figures are not for the record).
    pub quick: bool,
    pub callgrind: bool,
    pub out: PathBuf,
    /// The command line recorded in the report.
    pub command: String,
    pub plugin_so: PathBuf,
    /// `--only instrument`: run that section alone (for working on it; the report says so).
    pub only: Option<String>,
}

/// Paths and options every section uses.
pub struct Ctx {
    pub opts: Opts,
    pub root: PathBuf,
    /// target/bench: scratch space of the runner.
    pub work: PathBuf,
    /// An empty HOME for every child, so that no `~/.wasmedge/plugin` is picked up.
    pub home: PathBuf,
    /// A directory holding only libwasmedge_otel.so (WasmEdge scans plugin directories recursively).
    pub plugin_dir: PathBuf,
    /// An empty plugin directory: "without the plugin".
    pub no_plugin_dir: PathBuf,
    pub aot: PathBuf,
    /// target/bench-guests/wasm32-wasip1 (release/ and size/).
    pub guests: PathBuf,
    /// target/guests/wasm32-wasip1/release (examples/, built by `make guests`).
    pub examples: PathBuf,
    pub native: PathBuf,
    /// Problems with the set-up itself (e.g. a wasmedge_otel plugin installed system-wide).
    pub warnings: Vec<String>,
}

impl Ctx {
    /// N scaled down in quick mode.
    pub fn n(&self, n: u64) -> u64 {
        if self.opts.quick {
            (n / 10).max(10)
        } else {
            n
        }
    }

    pub fn module(&self, name: &str, aot: bool) -> PathBuf {
        if aot {
            self.aot.join(format!("{name}.so"))
        } else {
            self.guests.join("release").join(format!("{name}.wasm"))
        }
    }
}

const USAGE: &str = "usage: bench-runner [--runs N] [--quick] [--no-callgrind] [--only instrument] [--out FILE] [--plugin SO] [--command TEXT]
Run from the repository root after `make bench`'s build steps; writes FILE (default BENCHMARKS.md).
--only instrument runs the automatic-instrumentation section alone.";

/// Sections `--only` can run alone.
const ONLY: &[&str] = &["instrument"];

fn parse_args() -> Result<Opts, String> {
    let mut opts = Opts {
        runs: 5,
        quick: false,
        callgrind: true,
        out: PathBuf::from("BENCHMARKS.md"),
        command: "make bench".into(),
        plugin_so: PathBuf::from("target/release/libwasmedge_otel.so"),
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => opts.runs = value("--runs")?.parse().map_err(|_| "--runs takes a number")?,
            "--quick" => opts.quick = true,
            "--no-callgrind" => opts.callgrind = false,
            "--out" => opts.out = value("--out")?.into(),
            "--plugin" => opts.plugin_so = value("--plugin")?.into(),
            "--command" => opts.command = value("--command")?,
            "--only" => {
                let v = value("--only")?;
                if !ONLY.contains(&v.as_str()) {
                    return Err(format!("--only takes one of {}", ONLY.join(", ")));
                }
                opts.only = Some(v);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if opts.quick && opts.runs == 5 {
        opts.runs = 3;
    }
    if opts.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(opts)
}

fn need(path: &Path, how: &str) -> Result<(), String> {
    if path.exists() {
        Ok(())
    } else {
        Err(format!("{} is missing ({how})", path.display()))
    }
}

fn prepare(opts: Opts) -> Result<Ctx, String> {
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    need(&root.join("plugin/Cargo.toml"), "run bench-runner from the repository root")?;
    let work = root.join("target/bench");
    let mut ctx = Ctx {
        home: work.join("home"),
        plugin_dir: work.join("plugin"),
        no_plugin_dir: work.join("no-plugin"),
        aot: work.join("aot"),
        guests: root.join("target/bench-guests/wasm32-wasip1"),
        examples: root.join("target/guests/wasm32-wasip1/release"),
        native: work.join("release/bench-native"),
        warnings: Vec::new(),
        work,
        root,
        opts,
    };
    for dir in [&ctx.home, &ctx.plugin_dir, &ctx.no_plugin_dir, &ctx.aot] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // The plugin directory must hold the plugin and nothing else; the empty one nothing at all.
    for dir in [&ctx.plugin_dir, &ctx.no_plugin_dir] {
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let so = ctx.root.join(&ctx.opts.plugin_so);
    need(&so, "make plugin")?;
    std::fs::copy(&so, ctx.plugin_dir.join("libwasmedge_otel.so")).map_err(|e| e.to_string())?;
    need(&ctx.native, "cargo build --release --manifest-path bench/Cargo.toml --target-dir target/bench")?;
    need(&instrument::tool(&ctx), "cargo build --release -p wasmedge-otel-instrument")?;
    for m in ["ops", "sdk-ops"] {
        need(&ctx.module(m, false), "make bench-guests")?;
    }
    for m in ["hello-world-plain", "hello-world", "all-signals"] {
        need(&ctx.examples.join(format!("{m}.wasm")), "make guests")?;
    }
    // "Without the plugin" must mean it: WasmEdge also loads ~/.wasmedge/plugin (HOME is empty here)
    // and its system plugin directory, where `make install` may have put a copy.
    for (dir, want) in [(&ctx.no_plugin_dir, 0), (&ctx.plugin_dir, 1)] {
        let mut cmd = proc::clean("wasmedge", &ctx.home);
        cmd.arg("--version").env("WASMEDGE_PLUGIN_PATH", dir);
        let listed = proc::run(&mut cmd).map(|f| f.stdout.matches("\"wasmedge_otel\"").count()).unwrap_or(0);
        if listed != want {
            ctx.warnings.push(format!(
                "`wasmedge --version` with WASMEDGE_PLUGIN_PATH={} lists the wasmedge_otel plugin {listed} time(s), expected {want}: \
                 another copy is installed (system plugin directory?); start-up and per-op figures may be wrong",
                dir.display()
            ));
        }
    }
    // AOT: `wasmedge compile` to a shared library. (Its "universal wasm" output of sdk-ops.wasm is
    // refused at load by WasmEdge 0.14.1, "AOT section -- number of codes not matching", and it
    // then falls back to the interpreter; the .so form loads every module.)
    let to_compile = [
        ("ops", ctx.module("ops", false)),
        ("sdk-ops", ctx.module("sdk-ops", false)),
        ("hello-world-plain", ctx.examples.join("hello-world-plain.wasm")),
        ("hello-world", ctx.examples.join("hello-world.wasm")),
    ];
    // The instrumentation section compiles its own modules and needs only `ops` of these.
    let alone = ctx.opts.only.is_some();
    for (name, wasm) in to_compile.into_iter().filter(|(name, _)| !alone || *name == "ops") {
        let out = ctx.aot.join(format!("{name}.so"));
        let started = Instant::now();
        let done = proc::run(proc::clean("wasmedge", &ctx.home).arg("compile").arg(&wasm).arg(&out))
            .map_err(|e| format!("wasmedge compile: {e}"))?;
        if !done.ok() {
            return Err(format!("wasmedge compile {}: {}", wasm.display(), done.describe()));
        }
        eprintln!("bench: AOT-compiled {name} in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(ctx)
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let ctx = match prepare(opts) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env_before = report::Environment::capture(&ctx);
    if ctx.opts.only.as_deref() == Some("instrument") {
        eprintln!("bench: automatic instrumentation (alone)");
        let instr = instrument::run(&ctx);
        let md = report::render_instrument_only(&ctx, &env_before.finish(), &instr, started.elapsed());
        return write(&ctx, &md, started);
    }

    eprintln!("bench: module sizes");
    let sizes = sizes::run(&ctx);
    eprintln!("bench: per-operation costs ({} runs of each configuration, interleaved)", ctx.opts.runs);
    let perop = perop::run(&ctx);
    let cg = if ctx.opts.callgrind {
        eprintln!("bench: callgrind instruction counts");
        Some(callgrind::run(&ctx))
    } else {
        None
    };
    eprintln!("bench: start-up");
    let startup = startup::run(&ctx);
    eprintln!("bench: throughput and memory");
    let throughput = throughput::run(&ctx);
    eprintln!("bench: automatic instrumentation");
    let instr = instrument::run(&ctx);

    let env = env_before.finish();
    let md = report::render(
        &ctx,
        &env,
        &sizes,
        &perop,
        cg.as_ref(),
        &startup,
        &throughput,
        &instr,
        started.elapsed(),
    );
    write(&ctx, &md, started)
}

/// Prints the report and writes it to `--out`.
fn write(ctx: &Ctx, md: &str, started: Instant) -> ExitCode {
    println!("{md}");
    let out = ctx.root.join(&ctx.opts.out);
    if let Err(e) = std::fs::write(&out, md) {
        eprintln!("bench: cannot write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    eprintln!("bench: wrote {} in {:.0} s", out.display(), started.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}
