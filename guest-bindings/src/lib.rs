//! OpenTelemetry traces, metrics and logs for Rust programs running in WasmEdge with the
//! `wasmedge_otel` plugin.
//!
//! The guest does not link an OpenTelemetry SDK: each operation is one cheap call into the host
//! (import module `wasmedge_otel`), which owns the tracer, meter and logger, the context and the
//! exporter. This crate is `#![no_std]`, allocation-free and dependency-free (besides the ABI
//! definition, [`abi`]); the optional bridges for the `tracing` and `log` crates (features `tracing`
//! and `log`) allocate, and depend on those crates.
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
//! # Metrics
//!
//! The [`metrics`] module has the four synchronous instruments, [`Counter`], [`UpDownCounter`],
//! [`Histogram`] and [`Gauge`], each of `i64` or `f64` values. Create an instrument once with its builder;
//! each measurement is then one host call with its attributes, or, on an instrument
//! [bound](metrics::BoundInstrument) to fixed attributes, one call passing two numbers. The host
//! aggregates and exports them.
//!
//! ```
//! use wasmedge_otel_guest::{kv, Counter, Histogram};
//!
//! let requests = Counter::<i64>::builder("http.server.requests").unit("{request}").build();
//! let duration = Histogram::<f64>::builder("http.server.request.duration")
//!     .unit("ms")
//!     .boundaries(&[5.0, 10.0, 25.0])
//!     .build();
//! let hits = Counter::<i64>::builder("app.cache.hits").build().bind(&[kv("cache", "main")]);
//!
//! requests.add(1, &[kv("http.route", "/api/hello"), kv("http.response.status_code", 200)]);
//! duration.record(12.5, &[kv("http.route", "/api/hello")]);
//! hits.add(2);
//! ```
//!
//! # Logs
//!
//! The [`logs`] module emits log records, one host call each, with a [`Severity`], a string body and
//! attributes. The host stamps a record with the current span's trace and span ids, so a record emitted
//! inside a span belongs to its trace.
//!
//! ```
//! use wasmedge_otel_guest::{kv, logs, span, Severity};
//!
//! let _span = span!("GET /api/hello");
//! logs::info("handled request", &[kv("http.response.status_code", 200)]);
//! logs::emit(Severity::Warn2, "slow request", &[kv("duration_ms", 250.0)]);
//! ```
//!
//! # Trace context
//!
//! The [`propagation`] module carries a trace across services with W3C Trace Context headers: a server
//! starts its span under the incoming `traceparent` and `tracestate` with
//! [`SpanBuilder::remote_parent`], a client sends [`Span::traceparent`] (a [`TraceParent`], 55 bytes on
//! the stack) and [`Span::tracestate`] with its request.
//!
//! ```
//! use wasmedge_otel_guest::{Span, SpanKind};
//!
//! let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
//! let server = Span::builder("GET /api/chain").kind(SpanKind::Server).remote_parent(incoming, "").start();
//! let client = Span::builder("GET").kind(SpanKind::Client).start();
//! let outgoing = client.traceparent().unwrap(); // "traceparent: 00-4bf92f35...-<client's span id>-01"
//! assert_eq!(outgoing.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! # drop((client, server));
//! ```
//!
//! # Errors and the ABI check
//!
//! Like the OpenTelemetry API, spans, instruments and logs are infallible: their methods return `()`,
//! never panic, and a host error (a limit hit, say) only loses that piece of telemetry; a span or
//! instrument the host refused to create is a *no-op* that calls nothing. Where a result is useful you
//! get one: [`init`], [`SpanBuilder::try_start`],
//! [`InstrumentBuilder::try_build`](metrics::InstrumentBuilder::try_build) and [`logs::try_emit`]
//! return [`Error`], and the [`raw`] functions return the host's status codes for every call.
//!
//! The first span, instrument or log record (or [`init`]) asks the host for its [`ABI_VERSION`] and
//! caches the answer. If it differs from the version these bindings were built for, every span and
//! instrument is a no-op and no log record is sent: nothing reaches the host. With the `std` feature,
//! a one-line warning is printed on stderr the first time this suppresses something.
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
//! * event, exception, measurement, binding and log record attributes must arrive in the one call that
//!   uses them: those that do not fit in the space left are dropped, the others are kept, in order
//!   (for a measurement, that changes the time series it lands in: keep metric attributes few and
//!   short);
//! * an attribute whose encoding alone (`4 + key + 1 + value` bytes) is larger than the buffer is
//!   always dropped; use [`raw`] with your own buffer for bigger ones;
//! * an attribute with an empty key is dropped (the host would refuse the whole buffer for it).
//!
//! Span names, event names, status messages, exception texts, instrument names, units, descriptions and
//! boundaries, and log bodies are passed directly, without copying or size limit on the guest side (the
//! host enforces [`abi::limits`]).
//!
//! # Features
//!
//! * `std` (off by default): the warning on ABI mismatch, and `From<&String>` for [`Value`].
//!   [`Error`] implements `core::error::Error` (which is `std::error::Error`) with or without it.
//! * `tracing` (off by default): the `tracing` module, a subscriber for the `tracing` crate: its spans
//!   become host spans, their fields attributes, its events span events or log records. Needs `alloc`
//!   (not `std`) and depends on `tracing-core`.
//! * `log` (off by default): the `log` module, a logger for the `log` crate: its records become log
//!   records. Needs `alloc` (not `std`) and depends on `log`.
//!
//! A program that does not use a bridge links the same code with its feature on as without (but for
//! a few dozen bytes that `tracing-core` itself can cause): the figures below hold with both on.
//!
//! # Testing on the build machine
//!
//! On `wasm32` targets the [`raw`] functions call the imports. On every other target they call
//! `raw::mock` (which exists only there), an in-process host that records each call with its bytes,
//! so code instrumented with this crate can be unit-tested with a plain `cargo test`.
//!
//! # Size
//!
//! Nothing is generic beyond one-line conversions and the two value types of instruments, and nothing
//! formats. Every call that takes attributes shares one encoder, and only the imports a program calls
//! are linked. In a `wasm32-wasip1` release build (`opt-level = "s"`, LTO), a hello world grows by
//! about 1.3 KB with one span (`examples/hello-world`) and by about 1.7 KB with one span, one counter
//! and one log record (`examples/all-signals`), imports included; each further call site costs a few
//! dozen bytes. [`Error`]'s `Display` is linked only if you format an error, and the [`propagation`]
//! functions and their imports only if you call them.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test, not(target_arch = "wasm32")))]
extern crate std;

#[cfg(any(feature = "tracing", feature = "log"))]
extern crate alloc;

mod api;
#[cfg(any(feature = "tracing", feature = "log"))]
mod bridge;
pub mod encode;
#[cfg(feature = "log")]
pub mod log;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod raw;
#[cfg(feature = "tracing")]
pub mod tracing;

pub use api::{init, kv, Error, KeyValue, Span, SpanBuilder, SpanStatus, Value};
pub use logs::Severity;
pub use metrics::{Counter, Gauge, Histogram, UpDownCounter};
pub use propagation::{current_traceparent, TraceParent};
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
