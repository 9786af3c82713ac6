//! What the collector hands back to callers: received requests with their gRPC metadata or HTTP
//! headers and the [`Transport`] that delivered them ([`Received`]), spans flattened out of trace
//! requests together with their resource and scope ([`ReceivedSpan`]), and the notifications a
//! subscriber gets as data arrives ([`Arrival`]).
//!
//! This module owns the flattening of an `ExportTraceServiceRequest` into spans and the conversion
//! of gRPC metadata and HTTP headers into plain string pairs; it knows nothing about networking or
//! rendering.

use std::fmt::Write as _;

use hyper::header::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use tonic::metadata::{KeyAndValueRef, MetadataMap};

/// Which OTLP transport delivered a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC (`opentelemetry.proto.collector.*.v1.*Service/Export` over HTTP/2).
    Grpc,
    /// OTLP/HTTP (`POST /v1/traces`, `/v1/metrics` or `/v1/logs`, protobuf or JSON body).
    Http,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Grpc => "OTLP/gRPC",
            Transport::Http => "OTLP/HTTP",
        })
    }
}

/// One export request exactly as it came off the wire, with the metadata it carried and the
/// transport that delivered it.
#[derive(Clone, Debug, PartialEq)]
pub struct Received<T> {
    /// The decoded request (from protobuf, or from OTLP/JSON for JSON bodies over HTTP).
    pub request: T,
    /// The request's metadata as `(name, value)` pairs in arrival order, names in lower case.
    ///
    /// Over gRPC these are the gRPC metadata entries (tonic leaves out the reserved headers such as
    /// `content-type`, `te` and `grpc-*`); values of binary (`-bin`) entries are kept in their
    /// base64 wire form. Over HTTP these are all the request's HTTP headers (`content-type`,
    /// `content-encoding`, `user-agent`, custom ones, ...); a value that is not valid UTF-8 is
    /// converted lossily.
    pub metadata: Vec<(String, String)>,
    /// The transport that delivered the request.
    pub transport: Transport,
}

impl<T> Received<T> {
    /// The value of the first metadata entry (gRPC) or header (HTTP) called `name`, compared
    /// case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.metadata.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// One span from a received trace request, with the context it was sent in.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// The span as sent.
    pub span: Span,
    /// The attributes of the resource the span was sent under (empty if the request had none).
    pub resource: Vec<KeyValue>,
    /// The name of the instrumentation scope the span was sent under (empty if none).
    pub scope_name: String,
}

impl ReceivedSpan {
    /// The value of the span attribute `key`, if the span has one.
    pub fn attr(&self, key: &str) -> Option<&AnyValue> {
        find_attr(&self.span.attributes, key)
    }

    /// The value of the span attribute `key` if it is present and a string.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        match self.attr(key)?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s),
            _ => None,
        }
    }

    /// The value of the resource attribute `key`, if the span's resource has one.
    pub fn resource_attr(&self, key: &str) -> Option<&AnyValue> {
        find_attr(&self.resource, key)
    }

    /// The trace id as 32 lower-case hex digits (or however many bytes were sent, doubled).
    pub fn trace_id_hex(&self) -> String {
        hex(&self.span.trace_id)
    }

    /// The span id as 16 lower-case hex digits.
    pub fn span_id_hex(&self) -> String {
        hex(&self.span.span_id)
    }

    /// The parent span id in hex; the empty string for a root span.
    pub fn parent_span_id_hex(&self) -> String {
        hex(&self.span.parent_span_id)
    }

    /// The span's duration in nanoseconds (zero if its end precedes its start).
    pub fn duration_nanos(&self) -> u64 {
        self.span.end_time_unix_nano.saturating_sub(self.span.start_time_unix_nano)
    }
}

/// A notification sent to subscribers (see `Collector::subscribe`) each time a request arrives.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    /// A trace request arrived; these are its spans, flattened, in request order.
    Spans(Vec<ReceivedSpan>),
    /// A metrics request arrived.
    Metrics(Received<ExportMetricsServiceRequest>),
    /// A logs request arrived.
    Logs(Received<ExportLogsServiceRequest>),
}

/// Lower-case hex encoding of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The value of the first attribute called `key`.
pub(crate) fn find_attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref())
}

/// Every span of `request`, in order, paired with its resource attributes and scope name.
pub(crate) fn flatten_spans(request: &ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for resource_spans in &request.resource_spans {
        let resource = resource_spans.resource.as_ref().map(|r| r.attributes.clone()).unwrap_or_default();
        for scope_spans in &resource_spans.scope_spans {
            let scope_name = scope_spans.scope.as_ref().map(|s| s.name.clone()).unwrap_or_default();
            for span in &scope_spans.spans {
                spans.push(ReceivedSpan {
                    span: span.clone(),
                    resource: resource.clone(),
                    scope_name: scope_name.clone(),
                });
            }
        }
    }
    spans
}

/// The gRPC metadata as `(name, value)` string pairs.
pub(crate) fn metadata_pairs(metadata: &MetadataMap) -> Vec<(String, String)> {
    metadata
        .iter()
        .map(|entry| match entry {
            KeyAndValueRef::Ascii(key, value) => (
                key.as_str().to_owned(),
                value
                    .to_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|_| String::from_utf8_lossy(value.as_encoded_bytes()).into_owned()),
            ),
            KeyAndValueRef::Binary(key, value) => {
                (key.as_str().to_owned(), String::from_utf8_lossy(value.as_encoded_bytes()).into_owned())
            }
        })
        .collect()
}

/// The HTTP headers as `(name, value)` string pairs (hyper keeps names in lower case).
pub(crate) fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    fn string_kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }),
            ..Default::default()
        }
    }

    #[test]
    fn flattening_keeps_order_resource_and_scope() {
        let span = |name: &str| Span { name: name.into(), ..Default::default() };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![string_kv("service.name", "a")],
                        ..Default::default()
                    }),
                    scope_spans: vec![
                        ScopeSpans {
                            scope: Some(InstrumentationScope { name: "s1".into(), ..Default::default() }),
                            spans: vec![span("one"), span("two")],
                            ..Default::default()
                        },
                        ScopeSpans { scope: None, spans: vec![span("three")], ..Default::default() },
                    ],
                    ..Default::default()
                },
                ResourceSpans { resource: None, scope_spans: vec![], ..Default::default() },
            ],
        };
        let spans = flatten_spans(&request);
        let names: Vec<&str> = spans.iter().map(|s| s.span.name.as_str()).collect();
        assert_eq!(names, ["one", "two", "three"]);
        assert_eq!(spans[0].scope_name, "s1");
        assert_eq!(spans[2].scope_name, "");
        assert!(matches!(
            spans[2].resource_attr("service.name").and_then(|v| v.value.as_ref()),
            Some(any_value::Value::StringValue(s)) if s == "a"
        ));
    }

    #[test]
    fn ids_render_as_lower_hex() {
        let span = ReceivedSpan {
            span: Span {
                trace_id: vec![0x4b, 0xf9, 0x00, 0x0a],
                span_id: vec![0xff, 0x01],
                ..Default::default()
            },
            resource: vec![],
            scope_name: String::new(),
        };
        assert_eq!(span.trace_id_hex(), "4bf9000a");
        assert_eq!(span.span_id_hex(), "ff01");
        assert_eq!(span.parent_span_id_hex(), "");
    }

    #[test]
    fn attribute_lookup_and_headers() {
        let span = ReceivedSpan {
            span: Span { attributes: vec![string_kv("k", "v")], ..Default::default() },
            resource: vec![],
            scope_name: String::new(),
        };
        assert_eq!(span.attr_str("k"), Some("v"));
        assert!(span.attr("missing").is_none());

        let mut map = MetadataMap::new();
        map.insert("x-api-key", "secret".parse().unwrap());
        map.insert_bin("trace-bin", tonic::metadata::MetadataValue::from_bytes(b"\x01\x02"));
        let received = Received { request: (), metadata: metadata_pairs(&map), transport: Transport::Grpc };
        assert_eq!(received.header("X-Api-Key"), Some("secret"));
        assert_eq!(received.header("trace-bin"), Some("AQI"));

        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", "application/x-protobuf".parse().unwrap());
        headers.append("x-multi", "1".parse().unwrap());
        headers.append("x-multi", "2".parse().unwrap());
        let pairs = header_pairs(&headers);
        assert!(pairs.contains(&("content-type".into(), "application/x-protobuf".into())), "{pairs:?}");
        assert!(
            pairs.contains(&("x-multi".into(), "1".into()))
                && pairs.contains(&("x-multi".into(), "2".into()))
        );
        assert_eq!(Transport::Http.to_string(), "OTLP/HTTP");
    }
}
