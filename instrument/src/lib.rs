//! Automatic instrumentation of compiled WebAssembly modules for the `wasmedge_otel` plugin.
//!
//! [`instrument`] rewrites a core Wasm module so that each selected function calls the plugin's
//! `func_enter(id)` on entry and `func_exit(id)` on every way out, where `id` is the function's
//! index in the *original* module's function index space (imports first). The names of the
//! instrumented functions travel inside the module, in a passive data segment that the module
//! hands to `func_names` once, before its first `func_enter`; the plugin never reads the file.
//!
//! What the rewrite does, edge case by edge case, is described in `instrument/README.md`. In
//! short, each selected body becomes
//!
//! ```text
//! i32.const ID  call $__wasmedge_otel_enter
//! block (result <the function's results>)
//!   <body, with `return` turned into `br` to this block>
//! end
//! i32.const ID  call $func_exit  drop
//! ```
//!
//! and a tail call (`return_call*`) is preceded by the exit probe. Function order is kept
//! (`wasm-encoder`'s `Reencode`), new imports are appended to the import section, and every
//! function index in the module is shifted through one hook. The output is validated before it
//! is returned; input that does not validate is refused.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abi;
pub mod names;
mod rewrite;
mod scan;
mod select;

use std::fmt;

pub use select::{Decision, Options, DEFAULT_MIN_INSTRUCTIONS};

/// The WebAssembly features the rewriter accepts in its input and produces in its output: 2.0
/// (multi-value, bulk memory, reference types, SIMD, ...) plus tail calls and typed function
/// references (for `return_call_ref`).
pub fn features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    F::WASM2 | F::TAIL_CALL | F::FUNCTION_REFERENCES
}

/// Name of the custom section the rewriter adds to mark its output, so that a module is never
/// instrumented twice.
pub const MARKER_SECTION: &str = "wasmedge_otel.instrumented";

/// Why a module could not be instrumented. No output is produced in any of these cases.
#[derive(Debug)]
pub enum Error {
    /// The input is not a valid core module for [`features`].
    InvalidInput(String),
    /// The input is valid but uses something the rewriter does not handle.
    Unsupported(String),
    /// The output failed validation: a bug in the rewriter. Nothing is written.
    InvalidOutput(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) => write!(f, "input is not a valid WebAssembly module: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported input: {m}"),
            Error::InvalidOutput(m) => {
                write!(f, "internal error: the rewritten module does not validate ({m}); nothing written")
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Error::InvalidInput(e.to_string())
    }
}

impl<E: fmt::Debug> From<wasm_encoder::reencode::Error<E>> for Error {
    fn from(e: wasm_encoder::reencode::Error<E>) -> Self {
        match e {
            wasm_encoder::reencode::Error::ParseError(e) => Error::InvalidInput(e.to_string()),
            other => Error::Unsupported(format!("{other:?}")),
        }
    }
}

/// The selection decision for one defined function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionReport {
    /// Index in the original module's function index space (the `func_id` passed to the plugin).
    pub id: u32,
    /// The demangled name, if the function has one (name section, else an export name).
    pub name: Option<String>,
    /// Number of instructions in the body (without the final `end`).
    pub instructions: u32,
    /// Whether the body calls anything (`call*`, `return_call*`).
    pub calls: bool,
    /// Whether the function was instrumented, and why (not).
    pub decision: Decision,
}

/// How the names table reaches the plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// `$__wasmedge_otel_register` copies the table onto the guest stack through this global and
    /// calls `func_names`.
    Registered {
        /// The stack pointer global's index.
        stack_pointer: u32,
        /// How it was found: by name, by the code's frame allocations, or as the first exported
        /// mutable `i32` global (in that order; see the README).
        found_by: &'static str,
        /// Number of names in the table.
        names: usize,
        /// Size of the table in bytes.
        table_bytes: usize,
        /// Number of `func_names` calls it takes.
        calls: usize,
    },
    /// No table is registered: the plugin shows the functions as `func[ID]`.
    Skipped(String),
}

/// What [`instrument`] did.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every defined function, in index order.
    pub functions: Vec<FunctionReport>,
    /// Number of instrumented functions.
    pub instrumented: usize,
    /// Names registration.
    pub registration: Registration,
    /// Imports of module `wasmedge_otel` that were added (the others already existed).
    pub added_imports: Vec<&'static str>,
    /// Custom sections dropped because they point into the code by offset (`.debug_*`,
    /// `sourceMappingURL`, `external_debug_info`, `metadata.code.*`), or because they could not
    /// be parsed (`name`).
    pub dropped_sections: Vec<String>,
    /// Anything else worth telling the user.
    pub warnings: Vec<String>,
}

/// The result of [`instrument`].
#[derive(Clone, Debug)]
pub struct Instrumented {
    /// The rewritten module, validated. When nothing was selected, the input bytes unchanged.
    pub wasm: Vec<u8>,
    /// What was done.
    pub report: Report,
}

/// Rewrites `input` (a binary core Wasm module) so that the functions selected by `options`
/// report entry and exit to the `wasmedge_otel` plugin.
pub fn instrument(input: &[u8], options: &Options) -> Result<Instrumented, Error> {
    let mut validator = wasmparser::Validator::new_with_features(features());
    validator.validate_all(input).map_err(|e| Error::InvalidInput(e.to_string()))?;

    let scan = scan::Scan::new(input)?;
    let functions = select::select(&scan, options)?;
    let instrumented = functions.iter().filter(|f| f.decision.is_instrumented()).count();
    if instrumented == 0 {
        let report = Report {
            functions,
            instrumented,
            registration: Registration::Skipped("no function selected".into()),
            added_imports: Vec::new(),
            dropped_sections: Vec::new(),
            warnings: scan.warnings.clone(),
        };
        return Ok(Instrumented { wasm: input.to_vec(), report });
    }

    let (wasm, mut report) = rewrite::rewrite(input, &scan, functions)?;
    report.warnings.splice(0..0, scan.warnings.iter().cloned());

    let mut validator = wasmparser::Validator::new_with_features(features());
    validator.validate_all(&wasm).map_err(|e| Error::InvalidOutput(e.to_string()))?;
    Ok(Instrumented { wasm, report })
}
