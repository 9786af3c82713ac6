//! The crate's error type, [`CollectorError`]: every way starting or querying a collector can fail.

use std::fmt;
use std::io;

use crate::received::Transport;

/// Why a collector could not be started, or why waiting on it failed.
#[derive(Debug)]
pub enum CollectorError {
    /// The listen address could not be resolved or bound (e.g. the port is in use).
    Bind {
        /// The address as given to `Collector::start` or in the `CollectorConfig`.
        addr: String,
        /// The server the address was meant for.
        transport: Transport,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The background thread or its tokio runtime could not be created.
    Runtime(io::Error),
    /// The gRPC server stopped with an error, so nothing more can be received over gRPC.
    Server(String),
    /// `Collector::start_with` was given a configuration with neither a gRPC nor an HTTP address.
    NothingToServe,
    /// The TLS certificate, key or client CA of the configuration cannot be used.
    Tls(String),
    /// Fewer items than wanted arrived before the timeout.
    Timeout {
        /// How many items were waited for.
        wanted: usize,
        /// How many had arrived when time ran out.
        got: usize,
    },
}

impl fmt::Display for CollectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CollectorError::Bind { addr, transport, source } => {
                write!(f, "cannot listen for {transport} on {addr:?}: {source}")
            }
            CollectorError::Runtime(source) => write!(f, "cannot start the collector's runtime: {source}"),
            CollectorError::Server(message) => write!(f, "the OTLP/gRPC server failed: {message}"),
            CollectorError::NothingToServe => {
                f.write_str("the collector configuration has neither a gRPC nor an HTTP listen address")
            }
            CollectorError::Tls(message) => write!(f, "cannot set up TLS: {message}"),
            CollectorError::Timeout { wanted, got } => {
                write!(f, "timed out waiting for {wanted} span(s); {got} arrived")
            }
        }
    }
}

impl std::error::Error for CollectorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CollectorError::Bind { source, .. } | CollectorError::Runtime(source) => Some(source),
            CollectorError::Server(_)
            | CollectorError::NothingToServe
            | CollectorError::Tls(_)
            | CollectorError::Timeout { .. } => None,
        }
    }
}
