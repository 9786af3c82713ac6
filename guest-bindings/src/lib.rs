//! OpenTelemetry spans for Rust programs running in WasmEdge with the `wasmedge_otel` plugin.
//!
//! The guest does not link an OpenTelemetry SDK: each operation is one cheap call into the host
//! (import module `wasmedge_otel`), which owns the tracer, the context and the exporter. This crate is
//! `#![no_std]`, allocation-free and dependency-free (besides the ABI definition, [`abi`]).
//!
//! ```
//! use wasmedge_otel_guest::{kv, span, Span, SpanKind, SpanStatus};
//!
//! fn handle(path: &str) -> usize {
//!     let attributes = [kv("path", path), kv("attempt", 1)];
//!     let request = Span::builder("handle").kind(SpanKind::Server).attributes(&attributes).start();
//!     let _load = span!("load", "retries" => 2, "cached" => false); // child of `request`
//!     request.add_event("loaded", &[kv("bytes", 512), kv("formats", &["json", "toml"])]);
//!     if path.is_empty() {
//!         request.set_status(SpanStatus::Error("empty path"));
//!     }
//!     path.len()
//! } // `_load` ends, then `request`
//! # assert_eq!(handle("/x"), 2);
//! ```
//!
//! # Spans
//!
//! A [`Span`] is a guard around the host's handle, ended when dropped or by [`Span::end`]. Starting a
//! span makes it the instance's *current* span, and a span started without an explicit
//! [`parent`](SpanBuilder::parent) (or [`root`](SpanBuilder::root)) is a child of the current span,
//! so nesting guards in scopes nests spans. The host decides what becomes current again when a span
//! ends. The [`span!`] macro is shorthand for [`Span::builder`] with attributes.
//!
//! # Errors and the ABI check
//!
//! Like the OpenTelemetry API, the span methods are infallible: they return `()`, never panic, and a
//! host error (a limit hit, say) only loses that piece of telemetry. Where a result is useful you get
//! one: [`init`] and [`SpanBuilder::try_start`] return [`Error`], and the [`raw`] functions return the
//! host's status codes for every call.
//!
//! The first span started (or [`init`]) asks the host for its [`ABI_VERSION`] and caches the answer.
//! If it differs from the version these bindings were built for, every span is a *no-op*: it calls
//! nothing and records nothing. With the `std` feature, a one-line warning is printed on stderr the
//! first time this suppresses a span.
//!
//! If the plugin is not loaded at all, WasmEdge refuses to instantiate the module (`unknown import`
//! `wasmedge_otel.abi_version`): imports are resolved before any guest code runs, so the bindings
//! cannot turn a missing plugin into no-op spans.
//!
//! # Attribute buffers
//!
//! Attributes are encoded in the [`abi::wire`] format into a [`BUFFER_LEN`](encode::BUFFER_LEN)-byte
//! (1 KiB) buffer on the stack, so no allocator is needed:
//!
//! * span attributes ([`SpanBuilder::attributes`], [`Span::set_attributes`]) that do not fit in one
//!   buffer are sent in several calls: a span starts with the first buffer-full and the rest follow
//!   with `span_set_attributes`, in order, so nothing is lost;
//! * event and exception attributes must arrive in the one call that creates the event: those that do
//!   not fit in the space left are dropped, the others are kept, in order;
//! * an attribute whose encoding alone (`4 + key + 1 + value` bytes) is larger than the buffer is
//!   always dropped; use [`raw`] with your own buffer for bigger ones;
//! * an attribute with an empty key is dropped (the host would refuse the whole buffer for it).
//!
//! Span names, event names, status messages and exception texts are passed directly, without copying
//! or size limit on the guest side (the host enforces [`abi::limits`]).
//!
//! # Features
//!
//! * `std` (off by default): the warning on ABI mismatch, and `From<&String>` for [`Value`].
//!   [`Error`] implements `core::error::Error` (which is `std::error::Error`) with or without it.
//!
//! # Testing on the build machine
//!
//! On `wasm32` targets the [`raw`] functions call the imports. On every other target they call
//! `raw::mock` (which exists only there), an in-process host that records each call with its bytes,
//! so code instrumented with this crate can be unit-tested with a plain `cargo test`.
//!
//! # Size
//!
//! Nothing is generic beyond one-line conversions, and nothing formats: in a `wasm32-wasip1` release
//! build (`opt-level = "s"`, LTO) the encoder and span start come to about 1.7 KB of code, plus a few
//! dozen bytes per call site for the attribute arrays and the calls. [`Error`]'s `Display` is linked
//! only if you format an error.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test, not(target_arch = "wasm32")))]
extern crate std;

mod api;
pub mod encode;
pub mod raw;

pub use api::{init, kv, Error, KeyValue, Span, SpanBuilder, SpanStatus, Value};
/// The ABI definition shared with the plugin (`wasmedge-otel-abi`).
pub use wasmedge_otel_abi as abi;
pub use wasmedge_otel_abi::{SpanKind, ABI_VERSION, MODULE_NAME};

/// Starts a span with attributes and returns its [`Span`] guard.
///
/// `span!(name, key => value, ...)` is `Span::builder(name).attributes(&[kv(key, value), ...]).start()`;
/// `span!(kind: SpanKind::Client, name, ...)` also sets the kind. Bind the guard to a named variable so
/// the span lasts until the end of the scope: `let _span = span!("load", "path" => path);` (with
/// `let _ = ...` it would end at once).
///
/// ```
/// use wasmedge_otel_guest::{span, SpanKind};
///
/// let _outer = span!(kind: SpanKind::Server, "request", "http.request.method" => "GET");
/// let inner = span!("load", "path" => "/etc/app.toml", "attempt" => 1, "ratio" => 0.5);
/// inner.end();
/// let _plain = span!("plain");
/// ```
#[macro_export]
macro_rules! span {
    (kind: $kind:expr, $name:expr $(, $key:expr => $value:expr)* $(,)?) => {
        $crate::Span::builder($name).kind($kind).attributes(&[$($crate::kv($key, $value)),*]).start()
    };
    ($name:expr $(, $key:expr => $value:expr)* $(,)?) => {
        $crate::Span::builder($name).attributes(&[$($crate::kv($key, $value)),*]).start()
    };
}

#[cfg(test)]
mod tests;
