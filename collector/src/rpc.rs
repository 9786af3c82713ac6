//! The few `google.rpc` protobuf messages OTLP uses to describe errors: [`RpcStatus`] (the body of
//! an OTLP/HTTP error response, and the `grpc-status-details-bin` of a gRPC error) and the
//! `RetryInfo` detail that tells an exporter how long to back off. Hand-written with
//! `prost::Message` because `opentelemetry-proto` does not ship them.

use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    /// A `google.rpc.Code` (the gRPC status code).
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    /// A developer-facing message.
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    /// Typed details, e.g. one `RetryInfo`.
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Any {
    #[prost(string, tag = "1")]
    pub(crate) type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub(crate) value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    pub(crate) retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ProtoDuration {
    #[prost(int64, tag = "1")]
    pub(crate) seconds: i64,
    #[prost(int32, tag = "2")]
    pub(crate) nanos: i32,
}

/// The `type_url` of a packed `google.rpc.RetryInfo`.
pub(crate) const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";

impl RpcStatus {
    /// A status with `code` and `message`, carrying a `RetryInfo` detail when `retry_after` is set.
    pub(crate) fn new(code: i32, message: &str, retry_after: Option<Duration>) -> RpcStatus {
        let details = retry_after
            .map(|delay| {
                let retry = RetryInfo {
                    retry_delay: Some(ProtoDuration {
                        seconds: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
                        // Always below 1e9, so it fits.
                        nanos: delay.subsec_nanos() as i32,
                    }),
                };
                Any { type_url: RETRY_INFO_TYPE_URL.to_owned(), value: retry.encode_to_vec() }
            })
            .into_iter()
            .collect();
        RpcStatus { code, message: message.to_owned(), details }
    }

    /// The protobuf encoding.
    pub(crate) fn to_bytes(&self) -> Bytes {
        Bytes::from(self.encode_to_vec())
    }

    /// The OTLP/JSON encoding (`{"code":14,"message":"..."}`; details are left out).
    pub(crate) fn to_json(&self) -> Bytes {
        Bytes::from(serde_json::json!({ "code": self.code, "message": self.message }).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_round_trips() {
        let status = RpcStatus::new(14, "try later", Some(Duration::from_millis(1500)));
        let decoded = RpcStatus::decode(status.to_bytes()).expect("decodes");
        assert_eq!(decoded.code, 14);
        assert_eq!(decoded.message, "try later");
        assert_eq!(decoded.details.len(), 1);
        assert_eq!(decoded.details[0].type_url, RETRY_INFO_TYPE_URL);
        let retry = RetryInfo::decode(decoded.details[0].value.as_slice()).expect("decodes");
        assert_eq!(retry.retry_delay, Some(ProtoDuration { seconds: 1, nanos: 500_000_000 }));
        assert!(RpcStatus::new(3, "bad", None).details.is_empty());
        assert_eq!(&RpcStatus::new(3, "bad", None).to_json()[..], br#"{"code":3,"message":"bad"}"#);
    }
}
