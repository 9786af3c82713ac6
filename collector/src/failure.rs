//! Injected failures for reliability tests: the [`Failure`] an export is answered with while
//! `Collector::fail_next` is in effect, in its gRPC form (a status code, plus a
//! `google.rpc.RetryInfo` detail when a retry delay is set) and its HTTP form (a status, plus a
//! `Retry-After` header). The countdown itself lives in the store.

use std::time::Duration;

use crate::rpc::RpcStatus;

/// A gRPC status code, as used by [`Failure::grpc_code`] (re-exported from tonic).
pub use tonic::Code as GrpcCode;

/// How the collector answers an export instead of accepting it (see `Collector::fail_next`).
///
/// A failed request is decoded and counted (`Collector::request_count`) but not stored. The same
/// failure serves both transports: OTLP/gRPC exporters get [`Failure::grpc_code`], OTLP/HTTP
/// exporters get [`Failure::http_status`] with a `google.rpc.Status` body.
///
/// ```
/// use std::time::Duration;
/// use wasmedge_otel_collector::{Failure, GrpcCode};
///
/// let busy = Failure::UNAVAILABLE.with_retry_after(Duration::from_secs(1)); // 503 + Retry-After: 1
/// let rejected = Failure::new(GrpcCode::InvalidArgument, 400); // not retryable by the spec
/// assert_eq!(busy.http_status, 503);
/// assert_eq!(rejected.retry_after, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The status code OTLP/gRPC exporters get.
    pub grpc_code: GrpcCode,
    /// The HTTP status OTLP/HTTP exporters get (an invalid status, outside 100..=999, becomes 500).
    pub http_status: u16,
    /// A back-off hint: over HTTP a `Retry-After` header in whole seconds (rounded up); over gRPC a
    /// `google.rpc.RetryInfo` detail in the status (`grpc-status-details-bin`).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// Server unavailable: gRPC `UNAVAILABLE`, HTTP 503. Retryable by the OTLP specification.
    pub const UNAVAILABLE: Failure =
        Failure { grpc_code: GrpcCode::Unavailable, http_status: 503, retry_after: None };

    /// Throttled: gRPC `RESOURCE_EXHAUSTED`, HTTP 429 Too Many Requests. Retryable by the OTLP
    /// specification (over gRPC only when a retry delay is given).
    pub const RESOURCE_EXHAUSTED: Failure =
        Failure { grpc_code: GrpcCode::ResourceExhausted, http_status: 429, retry_after: None };

    /// Any other pair of gRPC code and HTTP status, without a retry delay.
    pub const fn new(grpc_code: GrpcCode, http_status: u16) -> Failure {
        Failure { grpc_code, http_status, retry_after: None }
    }

    /// The same failure with a back-off hint of `delay` (see [`Failure::retry_after`]).
    pub const fn with_retry_after(self, delay: Duration) -> Failure {
        Failure { retry_after: Some(delay), ..self }
    }

    /// The message carried by the gRPC status and the HTTP error body.
    pub(crate) fn message(&self) -> String {
        format!("failure injected by the test collector ({:?})", self.grpc_code)
    }

    /// The error an OTLP/gRPC export call returns.
    pub(crate) fn grpc_status(&self) -> tonic::Status {
        let message = self.message();
        match self.retry_after {
            None => tonic::Status::new(self.grpc_code, message),
            Some(delay) => {
                let details = RpcStatus::new(self.grpc_code as i32, &message, Some(delay)).to_bytes();
                tonic::Status::with_details(self.grpc_code, message, details)
            }
        }
    }

    /// The `Retry-After` header value: the delay in whole seconds, rounded up.
    pub(crate) fn retry_after_header(&self) -> Option<String> {
        self.retry_after.map(|delay| {
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            seconds.to_string()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_and_reaches_grpc_details() {
        assert_eq!(Failure::UNAVAILABLE.retry_after_header(), None);
        let failure = Failure::RESOURCE_EXHAUSTED.with_retry_after(Duration::from_millis(1001));
        assert_eq!(failure.retry_after_header().as_deref(), Some("2"));
        assert_eq!(
            Failure::UNAVAILABLE.with_retry_after(Duration::from_secs(3)).retry_after_header().as_deref(),
            Some("3")
        );

        let status = failure.grpc_status();
        assert_eq!(status.code(), GrpcCode::ResourceExhausted);
        assert!(!status.details().is_empty());
        assert!(Failure::UNAVAILABLE.grpc_status().details().is_empty());
    }
}
