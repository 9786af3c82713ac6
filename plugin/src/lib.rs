//! # wasmedge-otel plugin
//!
//! A WasmEdge plugin (`libwasmedge_otel.so`) that gives WebAssembly guests OpenTelemetry tracing
//! through a few host functions in the `wasmedge_otel` import module, while the OpenTelemetry SDK,
//! its batching and its OTLP export run on the host.
//!
//! - [`ffi`]: everything `unsafe`: the plugin descriptor, the module instance and trampolines.
//! - [`core`]: the safe host-call logic (guest memory, handles, attributes, span tables), tested
//!   without WasmEdge.
//! - [`export`]: the SDK providers, OTLP exporters and the tokio runtime they run on.
//!
//! The ABI itself is defined once, in the `wasmedge-otel-abi` crate, and documented in
//! `docs/ABI.md`.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod core;
pub mod export;
pub mod ffi;
