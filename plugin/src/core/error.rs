//! Errors a host call can return to the guest, and how each maps onto an ABI [`Status`].

use std::fmt;
use wasmedge_otel_abi::Status;

/// Why a host call refused its input. Every variant is an expected failure reported to the
/// guest as a negative status; none of them traps the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// A `(ptr, len)` pair reaches past the guest's linear memory, or wraps around 4 GiB.
    OutOfBounds {
        /// Guest pointer.
        ptr: u32,
        /// Length asked for.
        len: u32,
        /// Size of the guest memory in bytes.
        memory_size: usize,
    },
    /// A string is not valid UTF-8.
    InvalidUtf8,
    /// A handle does not name a live object of this instance.
    InvalidHandle(u64),
    /// An integer argument is outside its documented range.
    InvalidArgument(&'static str),
    /// An attribute buffer does not follow the wire format.
    Malformed(&'static str),
    /// A configured limit was reached; nothing was recorded.
    LimitExceeded(&'static str),
}

impl HostError {
    /// The status returned to the guest for this error.
    pub fn status(&self) -> Status {
        match self {
            HostError::OutOfBounds { .. } => Status::OUT_OF_BOUNDS,
            HostError::InvalidUtf8 => Status::INVALID_UTF8,
            HostError::InvalidHandle(_) => Status::INVALID_HANDLE,
            HostError::InvalidArgument(_) => Status::INVALID_ARGUMENT,
            HostError::Malformed(_) => Status::MALFORMED,
            HostError::LimitExceeded(_) => Status::LIMIT_EXCEEDED,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::OutOfBounds { ptr, len, memory_size } => {
                write!(f, "guest range {ptr}+{len} is outside linear memory of {memory_size} bytes")
            }
            HostError::InvalidUtf8 => f.write_str("guest string is not valid UTF-8"),
            HostError::InvalidHandle(h) => write!(f, "handle {h:#x} is not live in this instance"),
            HostError::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            HostError::Malformed(what) => write!(f, "malformed attribute buffer: {what}"),
            HostError::LimitExceeded(what) => write!(f, "limit exceeded: {what}"),
        }
    }
}

impl std::error::Error for HostError {}

/// Result of the safe part of a host call.
pub type HostResult<T> = Result<T, HostError>;
