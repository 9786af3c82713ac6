//! The safe core of the plugin: everything a host call does, written against plain byte slices
//! so it is tested without WasmEdge. No `unsafe` here.

pub mod attributes;
pub mod error;
pub mod functions;
pub mod guest_mem;
pub mod handles;
pub mod host;
pub mod instance;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod stats;
pub mod trace;
