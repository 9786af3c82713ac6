//! The host functions the rewriter calls, taken from the ABI crate.
//!
//! `func_enter`, `func_exit` and `func_names` are defined once, in `wasmedge_otel_abi`
//! ([`wasmedge_otel_abi::FUNC_ENTER`], ...), which the plugin registers its host functions from.
//! This module re-exports them and converts their signatures, at compile time, into the
//! `wasmparser` types the rewriter works with ([`HostFunc`]), so there is nothing to keep in sync
//! by hand. All three live in the import module [`MODULE_NAME`] (`wasmedge_otel`).
//!
//! The limits below are the rewriter's own choices (how it splits and cuts the names table), kept
//! within the ABI's [`MAX_BUFFER_LEN`](wasmedge_otel_abi::limits::MAX_BUFFER_LEN).

use wasmedge_otel_abi as spec;
use wasmparser::ValType;

pub use wasmedge_otel_abi::{HostFunction, MODULE_NAME};

/// A host function the rewriter may import, with its signature in `wasmparser` types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFunc {
    /// Import name within [`MODULE_NAME`].
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

/// An ABI value type as a `wasmparser` one.
const fn val(ty: spec::ValType) -> ValType {
    match ty {
        spec::ValType::I32 => ValType::I32,
        spec::ValType::I64 => ValType::I64,
        spec::ValType::F64 => ValType::F64,
    }
}

/// The parameter types of `f`, which has `N` parameters.
const fn params<const N: usize>(f: HostFunction) -> [ValType; N] {
    assert!(f.params.len() == N);
    let mut out = [ValType::I32; N];
    let mut i = 0;
    while i < N {
        out[i] = val(f.params[i].ty);
        i += 1;
    }
    out
}

/// The [`HostFunc`] of an ABI crate [`HostFunction`] constant, evaluated at compile time.
macro_rules! from_abi {
    ($f:path) => {{
        const N: usize = $f.params.len();
        const PARAMS: [ValType; N] = params::<N>($f);
        const RESULTS: [ValType; 1] = [val($f.result)];
        HostFunc { name: $f.name, params: &PARAMS, results: &RESULTS }
    }};
}

/// `func_enter(func_id: i32) -> i32` ([`wasmedge_otel_abi::FUNC_ENTER`]): called on entry of an
/// instrumented function. The rewriter drops the result.
pub const FUNC_ENTER: HostFunc = from_abi!(spec::FUNC_ENTER);

/// `func_exit(func_id: i32) -> i32` ([`wasmedge_otel_abi::FUNC_EXIT`]): called on every exit of
/// an instrumented function (fallthrough, `return`, a branch to the function's outermost label,
/// and before a tail call). The rewriter drops the result.
pub const FUNC_EXIT: HostFunc = from_abi!(spec::FUNC_EXIT);

/// `func_names(table_ptr: i32, table_len: i32) -> i32` ([`wasmedge_otel_abi::FUNC_NAMES`]):
/// registers names for function ids. The table is little-endian, repeated
/// `func_id:u32, name_len:u32, name:[u8; name_len]` (UTF-8). The rewriter drops the result.
pub const FUNC_NAMES: HostFunc = from_abi!(spec::FUNC_NAMES);

/// The most bytes of names table the rewriter passes in one `func_names` call. A larger table is
/// split at entry boundaries into several calls, so the plugin must accept `func_names` more than
/// once and add to what it has. 4 KiB keeps the guest stack space borrowed for the copy small (C
/// programs linked by wasm-ld get a 64 KiB stack by default) and stays far under the ABI's 64 KiB
/// buffer limit.
pub const NAMES_CALL_MAX: usize = 4096;

/// Names longer than this many bytes are cut (at a UTF-8 character boundary) in the table, so
/// that every entry fits in one call of [`NAMES_CALL_MAX`] bytes.
pub const NAME_MAX: usize = 1024;

/// Size of one entry's header (`func_id:u32, name_len:u32`).
pub const ENTRY_HEADER: usize = 8;

const _: () = assert!(NAMES_CALL_MAX <= spec::limits::MAX_BUFFER_LEN);
const _: () = assert!(ENTRY_HEADER + NAME_MAX <= NAMES_CALL_MAX);

#[cfg(test)]
mod tests {
    use super::*;

    fn wat(t: &ValType) -> &'static str {
        match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F64 => "f64",
            _ => "other",
        }
    }

    /// Each probe is the ABI crate's function of that name, registered by the plugin (it is in
    /// `FUNCTIONS`), with the same signature.
    #[test]
    fn probes_are_the_abi_crate_functions() {
        for (mine, theirs) in
            [(FUNC_ENTER, spec::FUNC_ENTER), (FUNC_EXIT, spec::FUNC_EXIT), (FUNC_NAMES, spec::FUNC_NAMES)]
        {
            assert!(
                spec::FUNCTIONS.contains(&theirs),
                "{} is not among the functions the plugin registers",
                theirs.name
            );
            assert_eq!(mine.name, theirs.name);
            let params: Vec<&str> = theirs.params.iter().map(|p| p.ty.wat_name()).collect();
            assert_eq!(mine.params.iter().map(wat).collect::<Vec<_>>(), params, "{} params", mine.name);
            assert_eq!(mine.results.iter().map(wat).collect::<Vec<_>>(), [theirs.result.wat_name()]);
        }
        assert_eq!(FUNC_ENTER.params, [ValType::I32]);
        assert_eq!(FUNC_EXIT.results, [ValType::I32]);
        assert_eq!(FUNC_NAMES.params, [ValType::I32, ValType::I32]);
        assert_eq!(MODULE_NAME, "wasmedge_otel");
    }
}
