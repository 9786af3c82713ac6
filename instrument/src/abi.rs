//! The host functions the rewriter calls, hard-coded here until they are in the ABI crate.
//!
//! This module mirrors `wasmedge_otel_abi::{FUNC_ENTER, FUNC_EXIT, FUNC_NAMES}` (issue 9): when the
//! ABI crate gains them, replace these constants by re-exports and keep the limits below in sync.
//! All three live in the import module [`MODULE_NAME`] (`wasmedge_otel`).

use wasmparser::ValType;

pub use wasmedge_otel_abi::MODULE_NAME;

/// A host function the rewriter may import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFunc {
    /// Import name within [`MODULE_NAME`].
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

/// `func_enter(func_id: i32) -> i32`: called on entry of an instrumented function. The rewriter
/// drops the result.
pub const FUNC_ENTER: HostFunc =
    HostFunc { name: "func_enter", params: &[ValType::I32], results: &[ValType::I32] };

/// `func_exit(func_id: i32) -> i32`: called on every exit of an instrumented function (fallthrough,
/// `return`, a branch to the function's outermost label, and before a tail call). The rewriter
/// drops the result.
pub const FUNC_EXIT: HostFunc =
    HostFunc { name: "func_exit", params: &[ValType::I32], results: &[ValType::I32] };

/// `func_names(table_ptr: i32, table_len: i32) -> i32`: registers names for function ids. The
/// table is little-endian, repeated `func_id:u32, name_len:u32, name:[u8; name_len]` (UTF-8). The
/// rewriter drops the result.
pub const FUNC_NAMES: HostFunc =
    HostFunc { name: "func_names", params: &[ValType::I32, ValType::I32], results: &[ValType::I32] };

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The mirror agrees with the ABI crate's definition, once the ABI crate has it (looked up by
    /// name so that this crate builds against an ABI crate without the three functions).
    #[test]
    fn mirrors_the_abi_crate() {
        for mine in [FUNC_ENTER, FUNC_EXIT, FUNC_NAMES] {
            let Some(theirs) = wasmedge_otel_abi::FUNCTIONS.iter().find(|f| f.name == mine.name) else {
                eprintln!("wasmedge_otel_abi has no {} yet: not compared", mine.name);
                continue;
            };
            let name = |t: &ValType| match t {
                ValType::I32 => "i32",
                ValType::I64 => "i64",
                ValType::F64 => "f64",
                _ => "other",
            };
            let params: Vec<&str> = theirs.params.iter().map(|p| p.ty.wat_name()).collect();
            assert_eq!(params, mine.params.iter().map(name).collect::<Vec<_>>(), "{} params", mine.name);
            assert_eq!([theirs.result.wat_name()], [name(&mine.results[0])], "{} result", mine.name);
            assert_eq!(mine.results.len(), 1);
        }
    }
}
