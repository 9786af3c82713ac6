//! The safe API: attribute values, spans, the ABI check, the error type, and the attribute-buffer
//! helper the metric and log APIs share with spans.
#![forbid(unsafe_code)]

use core::fmt;
use core::num::NonZeroU64;
use core::sync::atomic::{AtomicI64, Ordering::Relaxed};

use crate::abi::{self, SpanKind, Status, StatusCode};
use crate::encode::{self, BUFFER_LEN};
use crate::raw;

/// An attribute value: one of the types the wire format (and OpenTelemetry) supports.
///
/// Usually built with `.into()` (or implicitly by [`kv`]) from `&str`, `bool`, the integer types,
/// `f64`/`f32`, and slices or array references of `&str`, `bool`, `i64` and `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// A UTF-8 string.
    Str(&'a str),
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    I64(i64),
    /// A 64-bit float.
    F64(f64),
    /// An array of strings.
    StrArray(&'a [&'a str]),
    /// An array of booleans.
    BoolArray(&'a [bool]),
    /// An array of signed 64-bit integers.
    I64Array(&'a [i64]),
    /// An array of 64-bit floats.
    F64Array(&'a [f64]),
}

macro_rules! from_scalar {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$t> for Value<'_> {
            #[inline]
            fn from(v: $t) -> Self {
                Value::$variant(v as $as)
            }
        }
    )*};
}

from_scalar! {
    bool => Bool as bool,
    i64 => I64 as i64,
    i32 => I64 as i64,
    i16 => I64 as i64,
    i8 => I64 as i64,
    u32 => I64 as i64,
    u16 => I64 as i64,
    u8 => I64 as i64,
    f64 => F64 as f64,
    f32 => F64 as f64,
}

/// Saturates at `i64::MAX` (only possible on 64-bit targets).
impl From<usize> for Value<'_> {
    #[inline]
    fn from(v: usize) -> Self {
        Value::I64(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    #[inline]
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}

#[cfg(feature = "std")]
impl<'a> From<&'a std::string::String> for Value<'a> {
    #[inline]
    fn from(v: &'a std::string::String) -> Self {
        Value::Str(v)
    }
}

macro_rules! from_array {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl<'a> From<&'a [$t]> for Value<'a> {
            #[inline]
            fn from(v: &'a [$t]) -> Self {
                Value::$variant(v)
            }
        }
        impl<'a, const N: usize> From<&'a [$t; N]> for Value<'a> {
            #[inline]
            fn from(v: &'a [$t; N]) -> Self {
                Value::$variant(v)
            }
        }
    )*};
}

from_array! {
    &'a str => StrArray,
    bool => BoolArray,
    i64 => I64Array,
    f64 => F64Array,
}

/// An attribute of a span, event, measurement or log record: a key and a [`Value`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyValue<'a> {
    /// The attribute key, e.g. `"http.request.method"`.
    pub key: &'a str,
    /// The attribute value.
    pub value: Value<'a>,
}

impl<'a> KeyValue<'a> {
    /// Builds an attribute; same as [`kv`].
    #[inline]
    pub fn new(key: &'a str, value: impl Into<Value<'a>>) -> Self {
        KeyValue { key, value: value.into() }
    }
}

/// Builds an attribute: `kv("retries", 3)`, `kv("path", path)`, `kv("ports", &[80i64, 443])`.
#[inline]
pub fn kv<'a>(key: &'a str, value: impl Into<Value<'a>>) -> KeyValue<'a> {
    KeyValue { key, value: value.into() }
}

/// The status of a span, set with [`Span::set_status`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanStatus<'a> {
    /// The default: no status set.
    Unset,
    /// The operation is explicitly marked successful.
    Ok,
    /// The operation failed; the string describes the error.
    Error(&'a str),
}

/// Why a call failed: a negative status from the host, or an ABI version mismatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The host returned this (negative) status.
    Host(Status),
    /// The plugin implements another ABI version than these bindings; all spans, instruments and log
    /// records are no-ops.
    AbiMismatch {
        /// The plugin's version (whatever `abi_version()` returned).
        host: i32,
        /// The version these bindings were built for, [`abi::ABI_VERSION`].
        guest: i32,
    },
}

impl Error {
    /// The symbolic name: the status name (e.g. `"INVALID_HANDLE"`, `"UNKNOWN"` for a code this ABI
    /// version does not define) or `"ABI_MISMATCH"`.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Host(status) => status.name().unwrap_or("UNKNOWN"),
            Error::AbiMismatch { .. } => "ABI_MISMATCH",
        }
    }

    /// The host status, if the host returned one.
    pub fn status(&self) -> Option<Status> {
        match self {
            Error::Host(status) => Some(*status),
            Error::AbiMismatch { .. } => None,
        }
    }

    /// Converts the `i32` result of a [`raw`] function: `Ok` for `0` (and positive values), else
    /// [`Error::Host`].
    pub fn check(code: i32) -> Result<(), Error> {
        if code >= 0 {
            Ok(())
        } else {
            Err(Error::Host(Status(code)))
        }
    }

    /// The error for a non-positive handle result (`0` is not a valid handle: reported as `INTERNAL`).
    pub(crate) fn from_handle_result(result: i64) -> Error {
        Error::Host(Status(i32::try_from(result).ok().filter(|c| *c < 0).unwrap_or(Status::INTERNAL.0)))
    }
}

/// The handle in the result of a handle-returning [`raw`] function, or the error it stands for.
pub(crate) fn handle_from_result(result: i64) -> Result<NonZeroU64, Error> {
    u64::try_from(result).ok().and_then(NonZeroU64::new).ok_or_else(|| Error::from_handle_result(result))
}

/// Encodes `attributes` into one [`BUFFER_LEN`]-byte stack buffer (those that no longer fit are dropped,
/// the others kept in order) and hands its address and length to `call`.
///
/// The one encoding path of every call that takes its attributes at once: events, exceptions,
/// measurements, bindings and log records.
#[inline]
pub(crate) fn with_attributes<R>(attributes: &[KeyValue<'_>], call: impl FnOnce(i32, i32) -> R) -> R {
    let mut buf = [0; BUFFER_LEN];
    let (attrs, _) = encode::fill(&mut buf, attributes, 0, true);
    call(raw::ptr(attrs), raw::len(attrs))
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Host(status) => {
                write!(f, "wasmedge_otel host call failed: {} ({})", self.name(), status.0)
            }
            Error::AbiMismatch { host, guest } => write!(
                f,
                "wasmedge_otel ABI mismatch: the host plugin implements ABI version {host}, these guest \
                 bindings version {guest}; telemetry is disabled"
            ),
        }
    }
}

impl core::error::Error for Error {}

// The cached ABI check: 0 = not checked yet, else CHECKED | the host's version in the low 32 bits,
// plus WARNED once the `std` warning has been printed. wasm32-wasip1 is single-threaded, but an
// atomic costs nothing there and stays correct on threaded targets. On other targets (tests against
// the mock) it is per thread, like the mock host, so that each test thread is its own "instance".
const CHECKED: i64 = 1 << 32;
#[cfg(feature = "std")]
const WARNED: i64 = 1 << 33;

#[cfg(target_arch = "wasm32")]
static ABI_CHECK: AtomicI64 = AtomicI64::new(0);

#[cfg(not(target_arch = "wasm32"))]
std::thread_local! {
    static ABI_CHECK: AtomicI64 = const { AtomicI64::new(0) };
}

#[inline]
fn with_abi_check<R>(f: impl FnOnce(&AtomicI64) -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    {
        f(&ABI_CHECK)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        ABI_CHECK.with(f)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn reset_abi_cache() {
    with_abi_check(|c| c.store(0, Relaxed));
}

/// Checks that the plugin implements the ABI version these bindings were built for.
///
/// Asks the host once (`abi_version()`) and caches the answer; later calls, and the implicit checks in
/// [`SpanBuilder::start`], [`InstrumentBuilder::build`](crate::metrics::InstrumentBuilder::build) and
/// [`logs::emit`](crate::logs::emit), cost one load. On a mismatch every span, instrument and log record
/// is a no-op (nothing reaches the host after the version query) and this returns
/// [`Error::AbiMismatch`], whose `Display` explains it.
///
/// Calling it is optional; do it at startup to report a mismatch yourself. (With feature `std`, once
/// `init` has returned the error, the first suppressed span, instrument or log record no longer prints
/// the warning: you have been told.)
pub fn init() -> Result<(), Error> {
    let result = check_abi();
    #[cfg(feature = "std")]
    if result.is_err() {
        with_abi_check(|c| c.fetch_or(WARNED, Relaxed));
    }
    result
}

/// The cached ABI check behind [`init`], [`SpanBuilder::try_start`], instrument creation and logs.
#[inline]
pub(crate) fn check_abi() -> Result<(), Error> {
    let host = host_abi_version();
    if host == abi::ABI_VERSION {
        Ok(())
    } else {
        Err(Error::AbiMismatch { host, guest: abi::ABI_VERSION })
    }
}

/// The host's ABI version, asked once. Not inlined: a guest using spans, metrics and logs checks in
/// several places, and one call is smaller than the cached load and the version query at each.
#[inline(never)]
fn host_abi_version() -> i32 {
    let state = with_abi_check(|c| {
        let state = c.load(Relaxed);
        if state & CHECKED != 0 {
            return state;
        }
        let state = CHECKED | i64::from(raw::abi_version() as u32);
        c.fetch_or(state, Relaxed) | state
    });
    state as u32 as i32
}

/// With `std`: prints the mismatch once per instance, the first time a span, instrument or log record
/// is suppressed by it.
#[cfg(feature = "std")]
pub(crate) fn warn_once(error: &Error) {
    if matches!(error, Error::AbiMismatch { .. })
        && with_abi_check(|c| c.fetch_or(WARNED, Relaxed)) & WARNED == 0
    {
        std::eprintln!("wasmedge-otel-guest: {error}");
    }
}

/// A span guard: the span is ended when the guard is dropped (or by [`Span::end`]).
///
/// A `Span` either holds the host's handle or is a *no-op* span (see [`Span::is_recording`]) when the
/// plugin speaks another ABI version or the host refused to start the span; every method of a no-op
/// span returns at once without calling the host. Methods never panic and report nothing: host errors
/// (a limit hit, say) are ignored, like OpenTelemetry's API does. Use [`SpanBuilder::try_start`],
/// [`init`] or the [`raw`] functions for status codes.
#[must_use = "a span ends when dropped: bind it with `let _span = ...` (not `let _ = ...`)"]
#[derive(Debug, Default)]
pub struct Span {
    handle: Option<NonZeroU64>,
}

impl Span {
    /// A span that records nothing and calls nothing.
    pub const fn noop() -> Span {
        Span { handle: None }
    }

    /// Starts an `Internal` span named `name`, child of the current span (a root if none is open), and
    /// makes it the current span. Shorthand for `Span::builder(name).start()`.
    #[inline]
    pub fn start(name: &str) -> Span {
        SpanBuilder::new(name).start()
    }

    /// A builder to set the kind, parent and initial attributes before starting the span.
    #[inline]
    pub fn builder(name: &str) -> SpanBuilder<'_> {
        SpanBuilder::new(name)
    }

    /// The host's handle for this span (usable with [`raw`]), `None` for a no-op span.
    #[inline]
    pub fn handle(&self) -> Option<NonZeroU64> {
        self.handle
    }

    /// Whether this span reaches the host (`false` for a no-op span).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.handle.is_some()
    }

    #[inline]
    pub(crate) fn raw_handle(&self) -> Option<i64> {
        self.handle.map(|h| h.get() as i64)
    }

    /// Sets one attribute (replacing an earlier one with the same key).
    #[inline]
    pub fn set_attribute<'v>(&self, key: &'v str, value: impl Into<Value<'v>>) {
        self.set_attributes(&[kv(key, value)]);
    }

    /// Sets attributes, in order. They are sent in as many calls as their encoding needs
    /// [`BUFFER_LEN`]-byte buffers; an attribute whose encoding alone exceeds `BUFFER_LEN` is dropped.
    pub fn set_attributes(&self, attributes: &[KeyValue<'_>]) {
        if let Some(handle) = self.raw_handle() {
            send_attributes(handle, &mut [0; BUFFER_LEN], attributes, 0);
        }
    }

    /// Adds an event with attributes. Attributes are sent in one buffer of [`BUFFER_LEN`] bytes: those
    /// that no longer fit are dropped (the others are kept, in order).
    pub fn add_event(&self, name: &str, attributes: &[KeyValue<'_>]) {
        if let Some(handle) = self.raw_handle() {
            let name = name.as_bytes();
            with_attributes(attributes, |attrs_ptr, attrs_len| {
                raw::span_add_event(handle, raw::ptr(name), raw::len(name), attrs_ptr, attrs_len)
            });
        }
    }

    /// Sets the span status. The message of [`SpanStatus::Error`] becomes the status description.
    pub fn set_status(&self, status: SpanStatus<'_>) {
        if let Some(handle) = self.raw_handle() {
            let (code, message) = match status {
                SpanStatus::Unset => (StatusCode::Unset, ""),
                SpanStatus::Ok => (StatusCode::Ok, ""),
                SpanStatus::Error(message) => (StatusCode::Error, message),
            };
            let message = message.as_bytes();
            raw::span_set_status(handle, code as i32, raw::ptr(message), raw::len(message));
        }
    }

    /// Records an exception: an `exception` event with `exception.type` = `ty`, `exception.message` =
    /// `message` and the extra `attributes` (dropped when they do not fit, as for [`Span::add_event`]).
    /// It does not change the span status; call [`Span::set_status`] for that.
    pub fn record_exception(&self, ty: &str, message: &str, attributes: &[KeyValue<'_>]) {
        if let Some(handle) = self.raw_handle() {
            let (ty, message) = (ty.as_bytes(), message.as_bytes());
            with_attributes(attributes, |attrs_ptr, attrs_len| {
                raw::span_record_exception(
                    handle,
                    raw::ptr(ty),
                    raw::len(ty),
                    raw::ptr(message),
                    raw::len(message),
                    attrs_ptr,
                    attrs_len,
                )
            });
        }
    }

    /// Ends the span now (dropping it does the same).
    #[inline]
    pub fn end(self) {}
}

/// For the `tracing` bridge, which keeps host handles as span ids rather than guards.
#[cfg(feature = "tracing")]
impl Span {
    /// The guard of the open span `handle` (ending it when dropped).
    #[inline]
    pub(crate) const fn from_handle(handle: NonZeroU64) -> Span {
        Span { handle: Some(handle) }
    }

    /// Gives up the guard without ending the span, and returns its handle (`None` for a no-op span).
    #[inline]
    pub(crate) fn into_handle(self) -> Option<NonZeroU64> {
        let handle = self.handle;
        core::mem::forget(self);
        handle
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(handle) = self.raw_handle() {
            raw::span_end(handle);
        }
    }
}

/// Sends `attributes[from..]` with `span_set_attributes`, one buffer-full at a time.
fn send_attributes(handle: i64, buf: &mut [u8; BUFFER_LEN], attributes: &[KeyValue<'_>], mut from: usize) {
    while from < attributes.len() {
        let (attrs, next) = encode::fill(buf, attributes, from, false);
        if !attrs.is_empty() {
            raw::span_set_attributes(handle, raw::ptr(attrs), raw::len(attrs));
        }
        if next <= from {
            break; // cannot happen (`fill` always advances), but never loop forever
        }
        from = next;
    }
}

/// The started span, or a no-op span for an error (reported with `std` if it is an ABI mismatch).
#[inline]
pub(crate) fn or_noop(result: Result<Span, Error>) -> Span {
    match result {
        Ok(span) => span,
        Err(_error) => {
            #[cfg(feature = "std")]
            warn_once(&_error);
            Span::noop()
        }
    }
}

/// Configures a span before starting it; see [`Span::builder`].
#[must_use = "a builder does nothing until `.start()`"]
#[derive(Clone, Copy, Debug)]
pub struct SpanBuilder<'a> {
    name: &'a str,
    kind: SpanKind,
    parent: i64,
    attributes: &'a [KeyValue<'a>],
}

impl<'a> SpanBuilder<'a> {
    /// A builder for an `Internal` span named `name`, child of the current span, without attributes.
    #[inline]
    pub fn new(name: &'a str) -> Self {
        SpanBuilder { name, kind: SpanKind::Internal, parent: abi::PARENT_CURRENT, attributes: &[] }
    }

    /// Sets the span kind (default [`SpanKind::Internal`]).
    #[inline]
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.kind = kind;
        self
    }

    /// Makes `parent` the parent instead of the current span. If `parent` is a no-op span, the current
    /// span is the parent after all.
    #[inline]
    pub fn parent(mut self, parent: &Span) -> Self {
        self.parent = parent.raw_handle().unwrap_or(abi::PARENT_CURRENT);
        self
    }

    /// Sets the `parent` argument of `span_start` as is: a handle, `PARENT_CURRENT` or `PARENT_NONE`.
    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn parent_handle(mut self, parent: i64) -> Self {
        self.parent = parent;
        self
    }

    /// Ignores the current span: the span has no parent in this guest. It starts a new trace, unless
    /// the host continues a trace it was given (see `parent` in the ABI documentation).
    #[inline]
    pub fn root(mut self) -> Self {
        self.parent = abi::PARENT_NONE;
        self
    }

    /// Sets the initial attributes (replacing earlier ones given to this builder). Those that fit in
    /// [`BUFFER_LEN`] bytes go with `span_start` (so samplers see them), the rest follow with
    /// `span_set_attributes`; an attribute whose encoding alone exceeds `BUFFER_LEN` is dropped.
    #[inline]
    pub fn attributes(mut self, attributes: &'a [KeyValue<'a>]) -> Self {
        self.attributes = attributes;
        self
    }

    /// Starts the span and makes it the current span; returns a no-op span if that fails (ABI mismatch,
    /// host error). With feature `std`, an ABI mismatch is reported once on stderr.
    pub fn start(self) -> Span {
        or_noop(self.try_start())
    }

    /// Starts the span like [`SpanBuilder::start`], but reports why it could not be started.
    /// Errors of the follow-up `span_set_attributes` calls, if any, are ignored.
    pub fn try_start(self) -> Result<Span, Error> {
        // `self.parent` is read in the closure, after the ABI check, as before this path was shared.
        self.try_start_with(|name, kind, attrs| {
            raw::span_start(
                raw::ptr(name),
                raw::len(name),
                kind,
                self.parent,
                raw::ptr(attrs),
                raw::len(attrs),
            )
        })
    }

    /// What every way of starting a span does: the ABI check, then `start(name, kind, attributes)` with
    /// the first buffer-full of attributes, then `span_set_attributes` with the rest. Generic, so that
    /// only the start functions a program uses are linked.
    #[inline]
    pub(crate) fn try_start_with(self, start: impl FnOnce(&[u8], i32, &[u8]) -> i64) -> Result<Span, Error> {
        check_abi()?;
        let mut buf = [0; BUFFER_LEN];
        let (attrs, next) = encode::fill(&mut buf, self.attributes, 0, false);
        let result = start(self.name.as_bytes(), self.kind as i32, attrs);
        let handle = handle_from_result(result)?;
        send_attributes(result, &mut buf, self.attributes, next);
        Ok(Span { handle: Some(handle) })
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::raw::mock;

    fn warned() -> bool {
        with_abi_check(|c| c.load(Relaxed)) & WARNED != 0
    }

    #[test]
    fn the_mismatch_warning_is_printed_once_by_the_first_suppressed_span() {
        mock::reset();
        mock::set_abi_version(abi::ABI_VERSION + 1);
        assert!(!warned());
        drop(Span::start("a")); // prints the warning
        assert!(warned());
        drop(Span::start("b")); // does not
        assert!(warned());
    }

    #[test]
    fn instruments_and_logs_print_the_mismatch_warning_too() {
        mock::reset();
        mock::set_abi_version(abi::ABI_VERSION + 1);
        let _ = crate::Counter::<i64>::builder("c").try_build();
        assert!(!warned(), "try_build returns the error instead");
        let _ = crate::logs::try_emit(crate::Severity::Info, "x", &[]);
        assert!(!warned(), "so does try_emit");
        crate::logs::info("x", &[]);
        assert!(warned());
        mock::reset();
        mock::set_abi_version(abi::ABI_VERSION + 1);
        let _gauge = crate::Gauge::<f64>::builder("g").build();
        assert!(warned());
    }

    #[test]
    fn no_warning_after_init_has_reported_the_mismatch() {
        mock::reset();
        mock::set_abi_version(abi::ABI_VERSION + 1);
        assert!(init().is_err());
        assert!(warned(), "init() told the caller, so starting spans stays quiet");
        mock::reset();
        assert!(init().is_ok());
        drop(Span::start("c"));
        assert!(!warned());
    }
}
