//! The host functions exactly as the ABI defines them: numbers in, an integer out.
//!
//! One function per entry of [`abi::FUNCTIONS`](crate::abi::FUNCTIONS), with the same name,
//! parameter names and WebAssembly types (pointers and lengths are `i32`, handles and integer
//! measurements `i64`, float measurements `f64`). Results are returned as is: `i32` functions return a
//! [`Status`](crate::abi::Status) code (`0` ok, negative error) or, for [`span_traceparent`] and
//! [`span_tracestate`], a byte count; `span_start`, `span_start_remote`, `instrument_create` and
//! `metric_bind` return a handle (`> 0`) or a negative status, `span_current` a handle or `0`. Use
//! these when you need the status codes the [safe API](crate::Span) deliberately swallows.
//!
//! # Safety
//!
//! Almost every function only makes the host *read* guest memory, and the host checks every
//! pointer/length pair against the linear memory first, so those functions are safe to call with any
//! arguments: a bad pointer yields [`Status::OUT_OF_BOUNDS`](crate::abi::Status::OUT_OF_BOUNDS), never
//! undefined behaviour in the guest. Obtain pointers and lengths with [`ptr`] and [`len`] ([`ptr_f64s`]
//! and [`len_f64s`] for histogram boundaries).
//!
//! Two functions make the host *write* into guest memory: [`span_traceparent`] and [`span_tracestate`].
//! The host still refuses a buffer outside the linear memory, but it cannot know whether the guest may
//! write there: a pointer into a `static`, a string literal or a borrowed `&[u8]` would let it change
//! memory Rust assumes immutable. So these two are `unsafe fn`, with the contract that
//! `buf_ptr..+buf_len` is memory the caller may write (as through a `&mut [u8]`). Pass a buffer with
//! [`with_out_buffer`], which upholds it and also works against the mock.
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
//!     let mut header = [0u8; 55];
//!     // SAFETY: `with_out_buffer` passes the address and length of `header`, which we may write.
//!     let n = raw::with_out_buffer(&mut header, |ptr, len| unsafe {
//!         raw::span_traceparent(handle, ptr, len)
//!     });
//!     assert_eq!(n, 55);
//!     let status = abi::Status(raw::span_end(handle));
//!     assert!(status.is_ok());
//! }
//! ```
#![allow(unsafe_code)]

/// Declares every host function once; expands to the `extern` block (wasm32), the wrappers, and, for
/// tests, a table of the declared signatures that is compared with `abi::FUNCTIONS`.
///
/// A declaration is `fn name(args) -> ret;` for a function that only reads guest memory (a safe
/// wrapper), or `unsafe fn name(args) -> ret;` for one that writes it (an `unsafe` wrapper). The first
/// rules tag each declaration with its qualifier, in order, then `@expand` expands them all.
macro_rules! host_functions {
    (@tag [$($done:tt)*]) => {
        host_functions!(@expand $($done)*);
    };
    (@tag [$($done:tt)*]
        $(#[$doc:meta])* unsafe fn $name:ident($($arg:ident: $ty:ident),* $(,)?) -> $ret:ident;
        $($rest:tt)*
    ) => {
        host_functions!(@tag [$($done)* {unsafe} $(#[$doc])* fn $name($($arg: $ty),*) -> $ret;] $($rest)*);
    };
    (@tag [$($done:tt)*]
        $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ident),* $(,)?) -> $ret:ident;
        $($rest:tt)*
    ) => {
        host_functions!(@tag [$($done)* {} $(#[$doc])* fn $name($($arg: $ty),*) -> $ret;] $($rest)*);
    };
    (@expand $(
        {$($unsafe:tt)?} $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ident),*) -> $ret:ident;
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
            #[allow(clippy::too_many_arguments)] // as many as the ABI function has
            pub $($unsafe)? fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: the import takes and returns plain numbers. The host bounds-checks every
                // pointer/length pair against the linear memory before it reads or writes; a function
                // that writes is an `unsafe fn` whose caller guarantees the buffer is writable.
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
    (@ty f64) => { crate::abi::ValType::F64 };
    ($($decls:tt)*) => {
        host_functions!(@tag [] $($decls)*);
    };
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

    /// `instrument_create(...) -> i64`: creates a metric instrument of `kind` (an
    /// [`abi::InstrumentKind`](crate::abi::InstrumentKind)) recording `value_type` values (an
    /// [`abi::ValueType`](crate::abi::ValueType)), named by the UTF-8 bytes at `name_ptr..+name_len`,
    /// with a unit and a description (both may be empty). The name and unit must follow
    /// OpenTelemetry's rules (`INVALID_ARGUMENT` otherwise; see the ABI documentation). For a
    /// histogram, `bounds_ptr..+bounds_len` holds explicit bucket boundaries as little-endian `f64`s
    /// (see [`ptr_f64s`]; `bounds_len` 0 for the default ones); other kinds pass `bounds_len` 0.
    /// Creating an identical instrument again (the name compared case-insensitively) returns the same
    /// handle. Returns the handle (`> 0`) or a negative status.
    fn instrument_create(
        kind: i32,
        value_type: i32,
        name_ptr: i32,
        name_len: i32,
        unit_ptr: i32,
        unit_len: i32,
        desc_ptr: i32,
        desc_len: i32,
        bounds_ptr: i32,
        bounds_len: i32,
    ) -> i64;

    /// `metric_record_i64(instrument, value, attrs_ptr, attrs_len) -> i32`: records an integer
    /// measurement with the attributes of a wire buffer. Returns a status.
    fn metric_record_i64(instrument: i64, value: i64, attrs_ptr: i32, attrs_len: i32) -> i32;

    /// `metric_record_f64(instrument, value, attrs_ptr, attrs_len) -> i32`: records a float measurement
    /// (finite only) with the attributes of a wire buffer. Returns a status.
    fn metric_record_f64(instrument: i64, value: f64, attrs_ptr: i32, attrs_len: i32) -> i32;

    /// `metric_bind(instrument, attrs_ptr, attrs_len) -> i64`: binds the instrument to the attributes
    /// of a wire buffer; the same instrument and attribute bytes again give the same handle. Returns
    /// the bound handle (`> 0`) or a negative status.
    fn metric_bind(instrument: i64, attrs_ptr: i32, attrs_len: i32) -> i64;

    /// `metric_bound_record_i64(bound, value) -> i32`: records an integer on a bound instrument.
    fn metric_bound_record_i64(bound: i64, value: i64) -> i32;

    /// `metric_bound_record_f64(bound, value) -> i32`: records a float on a bound instrument.
    fn metric_bound_record_f64(bound: i64, value: f64) -> i32;

    /// `log_emit(severity, body_ptr, body_len, attrs_ptr, attrs_len) -> i32`: emits a log record with
    /// a severity number (0 to [`abi::severity::MAX`](crate::abi::severity::MAX)), a UTF-8 body and
    /// the attributes of a wire buffer, correlated with the current span if one is open. Returns a
    /// status.
    fn log_emit(severity: i32, body_ptr: i32, body_len: i32, attrs_ptr: i32, attrs_len: i32) -> i32;

    /// `span_traceparent(span, buf_ptr, buf_len) -> i32`: the host writes the W3C `traceparent` header
    /// value of `span` (a handle, or `0`: the current span, else the run's root context) into the
    /// buffer. Returns the number of bytes written (55, or `0` when there is no context to propagate)
    /// or a negative status: `INVALID_HANDLE`, `OUT_OF_BOUNDS`, `LIMIT_EXCEEDED` (buffer too small,
    /// nothing written).
    ///
    /// # Safety
    ///
    /// `buf_ptr..+buf_len` must be memory the caller may write, as through a `&mut [u8]` (e.g. from
    /// [`with_out_buffer`]), or `buf_len` must be 0. The host writes at most `buf_len` bytes there, at
    /// its start, and nothing outside it.
    unsafe fn span_traceparent(span: i64, buf_ptr: i32, buf_len: i32) -> i32;

    /// `span_tracestate(span, buf_ptr, buf_len) -> i32`: the host writes the W3C `tracestate` header
    /// value of the same context as [`span_traceparent`] into the buffer. Returns the number of bytes
    /// written (`0` when the trace state is empty) or a negative status.
    ///
    /// # Safety
    ///
    /// As for [`span_traceparent`]: `buf_ptr..+buf_len` must be memory the caller may write.
    unsafe fn span_tracestate(span: i64, buf_ptr: i32, buf_len: i32) -> i32;

    /// `span_start_remote(...) -> i64`: starts a span named by the UTF-8 bytes at `name_ptr..+name_len`,
    /// of `kind`, whose parent is the remote context of the incoming `traceparent` and `tracestate`
    /// header values (UTF-8, may be empty), with the attributes of a wire buffer, and makes it the
    /// current span. An invalid `traceparent` is not an error: the span then has no remote parent.
    /// Returns the new handle (`> 0`) or a negative status.
    fn span_start_remote(
        name_ptr: i32,
        name_len: i32,
        kind: i32,
        traceparent_ptr: i32,
        traceparent_len: i32,
        tracestate_ptr: i32,
        tracestate_len: i32,
        attrs_ptr: i32,
        attrs_len: i32,
    ) -> i64;

    /// `func_enter(func_id) -> i32`: an instrumented function was entered. Inserted by the
    /// `wasmedge-otel instrument` rewriter; not meant to be called by hand.
    fn func_enter(func_id: i32) -> i32;

    /// `func_exit(func_id) -> i32`: an instrumented function is returning. Inserted by the rewriter.
    fn func_exit(func_id: i32) -> i32;

    /// `func_names(table_ptr, table_len) -> i32`: registers the names of instrumented functions
    /// (repeated `func_id:u32 name_len:u32 name`). Inserted by the rewriter.
    fn func_names(table_ptr: i32, table_len: i32) -> i32;
}

/// Calls `call` with the address and length of `buf` as the ABI passes a buffer the host writes into,
/// and returns its result: the way to call [`span_traceparent`] and [`span_tracestate`].
///
/// On `wasm32` this passes `buf` itself. Against the `mock`, `buf` is copied into the simulated
/// linear memory, and back after the call, so the host's writes land in `buf` on every target.
#[inline]
pub fn with_out_buffer<R>(buf: &mut [u8], call: impl FnOnce(i32, i32) -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    {
        call(buf.as_mut_ptr() as usize as i32, len(buf))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let at = mock::place(buf);
        let result = call(at, len(buf));
        mock::copy_out(at, buf);
        result
    }
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

/// The address of `values` as consecutive little-endian `f64`s, the format of histogram boundaries.
///
/// On `wasm32` (little-endian) a `[f64]` already is that, so this is just the pointer; the `mock`
/// copies the values' little-endian bytes into its memory.
#[inline]
pub fn ptr_f64s(values: &[f64]) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        values.as_ptr() as usize as i32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        mock::place_f64s(values)
    }
}

/// The length of `values` in bytes (8 per value), as the `i32` the ABI passes lengths as.
#[inline]
pub fn len_f64s(values: &[f64]) -> i32 {
    values.len().saturating_mul(8) as i32
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
