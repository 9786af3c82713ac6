//! The host functions exactly as the ABI defines them: integers in, an integer out.
//!
//! One function per entry of [`abi::FUNCTIONS`](crate::abi::FUNCTIONS), with the same name,
//! parameter names and WebAssembly types (pointers and lengths are `i32`, handles `i64`). Results are
//! returned as is: `i32` functions return a [`Status`](crate::abi::Status) code (`0` ok, negative
//! error), `span_start` returns a handle (`> 0`) or a negative status, `span_current` a handle or `0`.
//! Use these when you need the status codes the [safe API](crate::Span) deliberately swallows.
//!
//! All functions are safe to call with any arguments: the host only ever *reads* guest memory, and it
//! checks every pointer/length pair against the linear memory first, so a bad pointer yields
//! [`Status::OUT_OF_BOUNDS`](crate::abi::Status::OUT_OF_BOUNDS), never undefined behaviour in the guest.
//! Obtain pointers and lengths with [`ptr`] and [`len`].
//!
//! On `wasm32` targets the functions call the `wasmedge_otel` imports. On every other target (unit tests
//! on the build machine) they call the in-process `mock` host instead, which records each call.
//!
//! ```no_run
//! use wasmedge_otel_guest::{abi, raw};
//!
//! let name = "raw-span";
//! let handle = raw::span_start(raw::ptr(name.as_bytes()), raw::len(name.as_bytes()),
//!     abi::SpanKind::Internal as i32, abi::PARENT_CURRENT, 0, 0);
//! if handle > 0 {
//!     let status = abi::Status(raw::span_end(handle));
//!     assert!(status.is_ok());
//! }
//! ```
#![allow(unsafe_code)]

/// Declares every host function once; expands to the `extern` block (wasm32), the safe wrappers, and,
/// for tests, a table of the declared signatures that is compared with `abi::FUNCTIONS`.
macro_rules! host_functions {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ident),* $(,)?) -> $ret:ident;
    )*) => {
        #[cfg(target_arch = "wasm32")]
        mod sys {
            // The attribute needs a literal; a unit test checks it against `abi::MODULE_NAME`.
            #[link(wasm_import_module = "wasmedge_otel")]
            unsafe extern "C" {
                $( pub fn $name($($arg: $ty),*) -> $ret; )*
            }
        }

        $(
            $(#[$doc])*
            #[inline]
            pub fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: the import takes and returns plain integers; the host only reads guest memory
                // after bounds-checking it, so no argument value can cause undefined behaviour here.
                #[cfg(target_arch = "wasm32")]
                unsafe {
                    sys::$name($($arg),*)
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    mock::$name($($arg),*)
                }
            }
        )*

        /// `(import name, [(parameter name, type)], result type)` of every function declared above.
        #[cfg(test)]
        pub(crate) const DECLARED: &[(&str, &[(&str, crate::abi::ValType)], crate::abi::ValType)] = &[
            $( (
                stringify!($name),
                &[$( (stringify!($arg), host_functions!(@ty $ty)) ),*],
                host_functions!(@ty $ret),
            ) ),*
        ];
    };
    (@ty i32) => { crate::abi::ValType::I32 };
    (@ty i64) => { crate::abi::ValType::I64 };
}

host_functions! {
    /// `abi_version() -> i32`: the plugin's ABI version, to compare with
    /// [`abi::ABI_VERSION`](crate::abi::ABI_VERSION).
    fn abi_version() -> i32;

    /// `span_start(...) -> i64`: starts a span named by the UTF-8 bytes at `name_ptr..+name_len` with
    /// the attribute buffer at `attrs_ptr..+attrs_len` (may be empty) and makes it the current span.
    /// `kind` is an [`abi::SpanKind`](crate::abi::SpanKind), `parent` a handle,
    /// [`PARENT_CURRENT`](crate::abi::PARENT_CURRENT) or [`PARENT_NONE`](crate::abi::PARENT_NONE).
    /// Returns the new handle (`> 0`) or a negative status.
    fn span_start(
        name_ptr: i32,
        name_len: i32,
        kind: i32,
        parent: i64,
        attrs_ptr: i32,
        attrs_len: i32,
    ) -> i64;

    /// `span_end(span) -> i32`: ends the span; the handle becomes invalid. Returns a status.
    fn span_end(span: i64) -> i32;

    /// `span_set_attributes(span, attrs_ptr, attrs_len) -> i32`: sets the attributes of a wire buffer.
    fn span_set_attributes(span: i64, attrs_ptr: i32, attrs_len: i32) -> i32;

    /// `span_add_event(span, name_ptr, name_len, attrs_ptr, attrs_len) -> i32`: adds an event.
    fn span_add_event(span: i64, name_ptr: i32, name_len: i32, attrs_ptr: i32, attrs_len: i32) -> i32;

    /// `span_set_status(span, code, msg_ptr, msg_len) -> i32`: sets the status; `code` is an
    /// [`abi::StatusCode`](crate::abi::StatusCode).
    fn span_set_status(span: i64, code: i32, msg_ptr: i32, msg_len: i32) -> i32;

    /// `span_record_exception(...) -> i32`: adds an `exception` event with `exception.type`,
    /// `exception.message` and the extra attributes of the wire buffer.
    fn span_record_exception(
        span: i64,
        type_ptr: i32,
        type_len: i32,
        msg_ptr: i32,
        msg_len: i32,
        attrs_ptr: i32,
        attrs_len: i32,
    ) -> i32;

    /// `span_current() -> i64`: the current span's handle, or `0` when no span is open.
    fn span_current() -> i64;
}

/// The address of `bytes` in linear memory, as the `i32` the ABI passes pointers as.
///
/// On `wasm32` this is just the pointer. Elsewhere the `mock` copies `bytes` into its simulated
/// linear memory and returns their offset there, so that calls made with it can be inspected.
#[inline]
pub fn ptr(bytes: &[u8]) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        bytes.as_ptr() as usize as i32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        mock::place(bytes)
    }
}

/// The length of `bytes` as the `i32` the ABI passes lengths as.
#[inline]
pub fn len(bytes: &[u8]) -> i32 {
    bytes.len() as i32
}

#[cfg(not(target_arch = "wasm32"))]
pub mod mock;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi;

    #[test]
    fn declared_functions_match_the_abi_exactly() {
        assert_eq!(abi::MODULE_NAME, "wasmedge_otel", "update #[link(wasm_import_module)] in raw.rs");
        assert_eq!(DECLARED.len(), abi::FUNCTIONS.len());
        for (f, (name, params, result)) in abi::FUNCTIONS.iter().zip(DECLARED) {
            assert_eq!(f.name, *name);
            assert_eq!(f.result, *result, "{name}");
            let declared: std::vec::Vec<_> =
                params.iter().map(|(n, t)| abi::Param { name: n, ty: *t }).collect();
            assert_eq!(f.params, &declared[..], "{name}");
        }
    }

    #[test]
    fn raw_calls_reach_the_mock_with_their_bytes() {
        mock::reset();
        assert_eq!(abi_version(), abi::ABI_VERSION);
        let name = b"n";
        let h = span_start(ptr(name), len(name), 0, abi::PARENT_CURRENT, ptr(&[]), 0);
        assert!(h > 0);
        assert_eq!(span_current(), h);
        assert_eq!(span_set_attributes(h, 1 << 30, 4), abi::Status::OUT_OF_BOUNDS.0);
        assert_eq!(span_end(h), 0);
        assert_eq!(span_end(h), abi::Status::INVALID_HANDLE.0);
        assert_eq!(span_current(), 0);
        let calls = mock::take_calls();
        assert_eq!(calls.len(), 7);
        assert_eq!(
            calls[1],
            mock::Call::SpanStart { name: "n".into(), kind: 0, parent: 0, attrs: std::vec![], result: h }
        );
    }
}
