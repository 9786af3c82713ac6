//! OTLP/HTTP round trips on 127.0.0.1: hand-written HTTP/1.1 requests over a plain `TcpStream`
//! (protobuf, OTLP/JSON, gzip, every error status, injected failures), both transports side by
//! side in one collector, and the real `opentelemetry-otlp` HTTP exporter (protobuf + gzip, JSON,
//! retries after `Retry-After`). Everything is bounded in time.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue as SdkKeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use prost::Message as _;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use wasmedge_otel_collector::opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use wasmedge_otel_collector::opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use wasmedge_otel_collector::opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use wasmedge_otel_collector::opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use wasmedge_otel_collector::opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use wasmedge_otel_collector::{
    Arrival, Collector, CollectorConfig, CollectorError, Failure, GrpcCode, Transport,
};

const PROTOBUF: &str = "application/x-protobuf";
const WAIT: Duration = Duration::from_secs(20);

/// `google.rpc.Status`, as the collector puts in error bodies (details left out).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// An HTTP response as read off the socket.
#[derive(Debug)]
struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    fn rpc_status(&self) -> RpcStatus {
        RpcStatus::decode(self.body.as_slice()).expect("the error body is a google.rpc.Status")
    }
}

/// Sends one HTTP/1.1 request (`Connection: close`) and reads the whole response, within 10 s.
fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    stream.set_write_timeout(Some(Duration::from_secs(10))).expect("write timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the response");
    let split = raw.windows(4).position(|window| window == b"\r\n\r\n").expect("end of the response head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status code");
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line");
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect::<Vec<_>>();
    let body = raw[split + 4..].to_vec();
    let response = HttpResponse { status, headers, body };
    if let Some(length) = response.header("content-length") {
        assert_eq!(length.parse::<usize>().ok(), Some(response.body.len()), "{response:?}");
    }
    response
}

/// POSTs `body` to `path` as protobuf with an `x-api-key` header.
fn post_protobuf(addr: SocketAddr, path: &str, body: &[u8]) -> HttpResponse {
    send(addr, "POST", path, &[("Content-Type", PROTOBUF), ("X-Api-Key", "s3cret")], body)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("compress");
    encoder.finish().expect("compress")
}

fn string(s: &str) -> Option<AnyValue> {
    Some(AnyValue { value: Some(Value::StringValue(s.into())) })
}

fn resource() -> Option<ProtoResource> {
    Some(ProtoResource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: string("http-test"),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn trace_request(names: &[&str]) -> ExportTraceServiceRequest {
    let spans = names
        .iter()
        .enumerate()
        .map(|(i, name)| Span {
            trace_id: vec![7; 16],
            span_id: vec![0, 0, 0, 0, 0, 0, 0, i as u8 + 1],
            name: (*name).into(),
            kind: 1,
            start_time_unix_nano: 1_000,
            end_time_unix_nano: 2_000,
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

fn metrics_request() -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "temperature".into(),
                    data: Some(Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            value: Some(number_data_point::Value::AsDouble(21.5)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs_request() -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord { body: string("over http"), ..Default::default() }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn http_collector() -> (Collector, SocketAddr) {
    let collector = Collector::start_with(CollectorConfig::http("127.0.0.1:0")).expect("collector starts");
    let addr = collector.http_addr().expect("serves HTTP");
    (collector, addr)
}

#[test]
fn protobuf_traces_metrics_and_logs_arrive_with_headers() {
    let (collector, addr) = http_collector();
    assert_eq!(collector.http_endpoint(), Some(format!("http://127.0.0.1:{}", addr.port())));
    assert_eq!(collector.grpc_endpoint(), None);
    assert_eq!(collector.grpc_addr(), None);
    let arrivals = collector.subscribe();

    let response = post_protobuf(addr, "/v1/traces", &trace_request(&["a", "b"]).encode_to_vec());
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), Some(PROTOBUF));
    let decoded = ExportTraceServiceResponse::decode(response.body.as_slice()).expect("a protobuf response");
    assert_eq!(decoded.partial_success, None);
    assert_eq!(post_protobuf(addr, "/v1/metrics", &metrics_request().encode_to_vec()).status, 200);
    assert_eq!(post_protobuf(addr, "/v1/logs", &logs_request().encode_to_vec()).status, 200);

    let spans = collector.wait_for_spans(2, WAIT).expect("two spans");
    assert_eq!(spans.iter().map(|s| s.span.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let traces = collector.trace_requests();
    assert_eq!(traces.len(), 1);
    assert_eq!(traces[0].request, trace_request(&["a", "b"]));
    assert_eq!(traces[0].transport, Transport::Http);
    assert_eq!(traces[0].header("x-api-key"), Some("s3cret"));
    assert!(traces[0].metadata.contains(&("content-type".to_owned(), PROTOBUF.to_owned())), "{traces:?}");
    assert!(traces[0].metadata.iter().all(|(name, _)| *name == name.to_ascii_lowercase()));

    let metrics = collector.metric_requests();
    assert_eq!(metrics.len(), 1);
    assert_eq!((&metrics[0].request, metrics[0].transport), (&metrics_request(), Transport::Http));
    assert_eq!(metrics[0].header("X-API-KEY"), Some("s3cret"));
    let logs = collector.log_requests();
    assert_eq!(logs.len(), 1);
    assert_eq!((&logs[0].request, logs[0].transport), (&logs_request(), Transport::Http));
    assert_eq!(collector.request_count(), 3);

    let kinds: Vec<&str> = arrivals
        .try_iter()
        .map(|arrival| match arrival {
            Arrival::Spans(_) => "spans",
            Arrival::Metrics(_) => "metrics",
            Arrival::Logs(_) => "logs",
        })
        .collect();
    assert_eq!(kinds, ["spans", "metrics", "logs"]);
}

#[test]
fn gzip_and_json_bodies_are_accepted() {
    let (collector, addr) = http_collector();
    let body = gzip(&trace_request(&["zipped"]).encode_to_vec());
    let response =
        send(addr, "POST", "/v1/traces", &[("Content-Type", PROTOBUF), ("Content-Encoding", "gzip")], &body);
    assert_eq!(response.status, 200, "{response:?}");

    // OTLP/JSON: lowerCamelCase names, hex ids, 64-bit integers as strings, enums as numbers.
    let json = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
        "scopeSpans":[{"scope":{"name":"json-scope"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
        "spanId":"eee19b7ec3c1b174","name":"from-json","kind":2,"startTimeUnixNano":"1544712660000000000",
        "endTimeUnixNano":"1544712661000000000","attributes":[{"key":"n","value":{"intValue":"7"}}],
        "unknownField":true}]}]}]}"#;
    let response = send(addr, "POST", "/v1/traces", &[("Content-Type", "application/json")], json.as_bytes());
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.body, b"{}");
    let response = send(
        addr,
        "POST",
        "/v1/logs",
        &[("Content-Type", "application/json; charset=utf-8"), ("Content-Encoding", "gzip")],
        &gzip(
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"zipped json"}}]}]}]}"#,
        ),
    );
    assert_eq!(response.status, 200, "{response:?}");

    let spans = collector.wait_for_spans(2, WAIT).expect("both spans");
    assert_eq!(spans[0].span.name, "zipped");
    let from_json = &spans[1];
    assert_eq!(from_json.span.name, "from-json");
    assert_eq!(from_json.trace_id_hex(), "5b8efff798038103d269b633813fc60c");
    assert_eq!(from_json.span_id_hex(), "eee19b7ec3c1b174");
    assert_eq!(from_json.duration_nanos(), 1_000_000_000);
    assert_eq!(from_json.attr("n").and_then(|v| v.value.clone()), Some(Value::IntValue(7)));
    assert_eq!(from_json.scope_name, "json-scope");
    let traces = collector.trace_requests();
    assert_eq!(traces[0].header("content-encoding"), Some("gzip"));
    assert_eq!(traces[1].header("content-type"), Some("application/json"));
    let logs = collector.log_requests();
    assert_eq!(logs[0].request.resource_logs[0].scope_logs[0].log_records[0].body, string("zipped json"));
}

#[test]
fn bad_requests_get_the_right_status_and_store_nothing() {
    let (collector, addr) = http_collector();
    let valid = trace_request(&["never"]).encode_to_vec();

    let response = post_protobuf(addr, "/v1/traces", b"\xff\xff\xff not protobuf");
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(response.header("content-type"), Some(PROTOBUF));
    let status = response.rpc_status();
    assert_eq!(status.code, GrpcCode::InvalidArgument as i32);
    assert!(status.message.contains("protobuf"), "{status:?}");

    let response = send(addr, "POST", "/v1/traces", &[("Content-Type", "application/json")], b"{not json");
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON Status");
    assert_eq!(body["code"], GrpcCode::InvalidArgument as i32);

    let response =
        send(addr, "POST", "/v1/traces", &[("Content-Type", PROTOBUF), ("Content-Encoding", "gzip")], &valid);
    assert_eq!(response.status, 400, "not gzip: {response:?}");
    assert!(response.rpc_status().message.contains("gunzip"));

    let response = post_protobuf(addr, "/v1/spans", &valid);
    assert_eq!(response.status, 404, "{response:?}");
    assert!(response.rpc_status().message.contains("/v1/traces"));
    assert_eq!(post_protobuf(addr, "/", &valid).status, 404);

    let response = send(addr, "GET", "/v1/traces", &[], b"");
    assert_eq!(response.status, 405, "{response:?}");
    assert_eq!(response.header("allow"), Some("POST"));
    assert_eq!(send(addr, "PUT", "/v1/metrics", &[("Content-Type", PROTOBUF)], &valid).status, 405);

    let response = send(addr, "POST", "/v1/traces", &[("Content-Type", "text/plain")], &valid);
    assert_eq!(response.status, 415, "{response:?}");
    assert_eq!(send(addr, "POST", "/v1/traces", &[], &valid).status, 415, "no Content-Type");
    let response =
        send(addr, "POST", "/v1/traces", &[("Content-Type", PROTOBUF), ("Content-Encoding", "br")], &valid);
    assert_eq!(response.status, 415, "{response:?}");
    assert!(response.rpc_status().message.contains("\"br\""), "{response:?}");

    assert!(collector.trace_requests().is_empty());
    assert_eq!(collector.request_count(), 0, "rejected requests are not counted");
    // The server is still fine afterwards.
    assert_eq!(post_protobuf(addr, "/v1/traces", &valid).status, 200);
    assert_eq!(collector.trace_requests().len(), 1);
}

#[test]
fn injected_failures_answer_with_status_and_retry_after_then_succeed() {
    let (collector, addr) = http_collector();
    let body = trace_request(&["eventually"]).encode_to_vec();

    collector.fail_next(2, Failure::UNAVAILABLE.with_retry_after(Duration::from_millis(1500)));
    for _ in 0..2 {
        let response = post_protobuf(addr, "/v1/traces", &body);
        assert_eq!(response.status, 503, "{response:?}");
        assert_eq!(response.header("retry-after"), Some("2"), "whole seconds, rounded up");
        assert_eq!(response.rpc_status().code, GrpcCode::Unavailable as i32);
    }
    assert!(collector.trace_requests().is_empty());
    assert_eq!(post_protobuf(addr, "/v1/traces", &body).status, 200);
    assert_eq!(collector.trace_requests().len(), 1);

    collector.fail_next(1, Failure::RESOURCE_EXHAUSTED);
    let response = post_protobuf(addr, "/v1/metrics", &metrics_request().encode_to_vec());
    assert_eq!(response.status, 429, "{response:?}");
    assert_eq!(response.header("retry-after"), None);
    collector.fail_next(1, Failure::new(GrpcCode::InvalidArgument, 400));
    assert_eq!(post_protobuf(addr, "/v1/logs", &logs_request().encode_to_vec()).status, 400);
    assert_eq!(post_protobuf(addr, "/v1/logs", &logs_request().encode_to_vec()).status, 200);

    assert_eq!(collector.request_count(), 6, "failed requests are counted too");
    assert!(collector.metric_requests().is_empty());
    assert_eq!(collector.log_requests().len(), 1);
}

#[test]
fn one_collector_serves_both_transports_into_one_store() {
    let collector = Collector::start_with(CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0"))
        .expect("collector starts");
    let grpc = collector.grpc_endpoint().expect("serves gRPC");
    assert_eq!(collector.endpoint(), grpc);
    let http_addr = collector.http_addr().expect("serves HTTP");
    assert_ne!(collector.local_addr(), http_addr);

    collector.fail_next(1, Failure::UNAVAILABLE.with_retry_after(Duration::from_millis(250)));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let grpc_export = |name: &'static str| {
        let grpc = grpc.clone();
        runtime.block_on(async move {
            tokio::time::timeout(WAIT, async move {
                let mut client = TraceServiceClient::connect(grpc).await.expect("connect");
                client.export(trace_request(&[name])).await
            })
            .await
            .expect("export in time")
        })
    };
    let failed = grpc_export("refused").expect_err("the injected failure");
    assert_eq!(failed.code(), GrpcCode::Unavailable);
    assert!(!failed.details().is_empty(), "the retry delay travels as google.rpc.RetryInfo");

    assert_eq!(
        post_protobuf(http_addr, "/v1/traces", &trace_request(&["over-http"]).encode_to_vec()).status,
        200
    );
    grpc_export("over-grpc").expect("accepted");

    let spans = collector.wait_for_spans(2, WAIT).expect("both spans");
    assert_eq!(spans.iter().map(|s| s.span.name.as_str()).collect::<Vec<_>>(), ["over-http", "over-grpc"]);
    let transports: Vec<Transport> = collector.trace_requests().iter().map(|r| r.transport).collect();
    assert_eq!(transports, [Transport::Http, Transport::Grpc]);
    assert_eq!(collector.request_count(), 3);
}

#[test]
fn configuration_errors_and_shutdown() {
    assert!(matches!(Collector::start_with(CollectorConfig::default()), Err(CollectorError::NothingToServe)));
    let (collector, addr) = http_collector();
    match Collector::start_with(CollectorConfig::grpc_and_http("127.0.0.1:0", addr.to_string())) {
        Err(error @ CollectorError::Bind { transport: Transport::Http, .. }) => {
            assert!(error.to_string().contains("OTLP/HTTP"), "{error}");
        }
        other => panic!("expected a bind error, got {other:?}"),
    }

    // An idle keep-alive connection and a half-sent request do not hold shutdown up.
    let _idle = TcpStream::connect(addr).expect("connect");
    let mut partial = TcpStream::connect(addr).expect("connect");
    partial
        .write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .expect("write");
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    collector.shutdown();
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown is bounded: {:?}", started.elapsed());
    let again =
        Collector::start_with(CollectorConfig::http(addr.to_string())).expect("the port is free again");
    assert_eq!(again.http_addr(), Some(addr));
}

/// Builds a tracer provider exporting with `exporter`, records `parent` with a child `child`, and
/// shuts the provider down (which flushes). No tokio runtime: the reqwest blocking client runs on
/// the batch processor's own thread.
fn record_two_spans(exporter: opentelemetry_otlp::SpanExporter) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder_empty().with_service_name("sdk-http").build())
        .build();
    let tracer = provider.tracer("sdk-http-scope");
    tracer.in_span("parent", |_cx| {
        let mut child = tracer.start("child");
        child.set_attribute(SdkKeyValue::new("n", 7));
        child.end();
    });
    provider.shutdown().expect("provider flushes and shuts down");
}

fn http_exporter(
    collector: &Collector,
) -> opentelemetry_otlp::SpanExporterBuilder<opentelemetry_otlp::HttpExporterBuilderSet> {
    // When this test is built together with the plugin (`cargo test --workspace`), cargo unifies
    // reqwest's features: the plugin's `rustls-no-provider` makes rustls reqwest's TLS backend,
    // and a client reqwest configures itself (the SDK's default client) then needs a process-wide
    // crypto provider. The plugin passes its own client; here the ring provider is installed.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let base = collector.http_endpoint().expect("serves HTTP");
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{base}/v1/traces"))
        .with_timeout(Duration::from_secs(10))
}

#[test]
fn sdk_http_exporter_with_gzip_protobuf() {
    let (collector, _) = http_collector();
    let exporter = http_exporter(&collector)
        .with_protocol(Protocol::HttpBinary)
        .with_compression(opentelemetry_otlp::Compression::Gzip)
        .with_headers(HashMap::from([("x-tenant".to_owned(), "acme".to_owned())]))
        .build()
        .expect("exporter builds");
    record_two_spans(exporter);

    let spans = collector.wait_for_spans(2, WAIT).expect("both spans arrive");
    let child = spans.iter().find(|s| s.span.name == "child").expect("child span");
    let parent = spans.iter().find(|s| s.span.name == "parent").expect("parent span");
    assert_eq!(child.parent_span_id_hex(), parent.span_id_hex());
    assert_eq!(child.scope_name, "sdk-http-scope");
    assert_eq!(child.attr("n").and_then(|v| v.value.clone()), Some(Value::IntValue(7)));
    let request = &collector.trace_requests()[0];
    assert_eq!(request.transport, Transport::Http);
    assert_eq!(request.header("content-type"), Some(PROTOBUF));
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    assert_eq!(request.header("x-tenant"), Some("acme"));
}

#[test]
fn sdk_http_exporter_with_json() {
    let (collector, _) = http_collector();
    let exporter =
        http_exporter(&collector).with_protocol(Protocol::HttpJson).build().expect("exporter builds");
    record_two_spans(exporter);

    let spans = collector.wait_for_spans(2, WAIT).expect("both spans arrive");
    let child = spans.iter().find(|s| s.span.name == "child").expect("child span");
    let parent = spans.iter().find(|s| s.span.name == "parent").expect("parent span");
    assert_eq!(child.parent_span_id_hex(), parent.span_id_hex());
    assert_eq!(child.trace_id_hex().len(), 32);
    assert_eq!(child.attr("n").and_then(|v| v.value.clone()), Some(Value::IntValue(7)));
    let request = &collector.trace_requests()[0];
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.transport, Transport::Http);
}

#[test]
fn sdk_http_exporter_retries_after_retry_after() {
    let (collector, _) = http_collector();
    collector.fail_next(1, Failure::UNAVAILABLE.with_retry_after(Duration::from_secs(1)));
    let exporter = http_exporter(&collector).build().expect("exporter builds");
    record_two_spans(exporter);

    collector.wait_for_spans(2, WAIT).expect("the retry delivers both spans");
    assert_eq!(collector.request_count(), 2, "one refused attempt, one retry");
    assert_eq!(collector.trace_requests().len(), 1);
}

#[test]
fn sdk_grpc_exporter_retries_after_retry_info() {
    let collector = Collector::start("127.0.0.1:0").expect("collector starts");
    // RESOURCE_EXHAUSTED is retryable over gRPC only with a RetryInfo detail, so this checks that
    // the detail is encoded the way tonic-types (used by opentelemetry-otlp) decodes it.
    collector.fail_next(1, Failure::RESOURCE_EXHAUSTED.with_retry_after(Duration::from_millis(200)));
    let endpoint = collector.endpoint();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("exporter builds");
        record_two_spans(exporter);
    });

    collector.wait_for_spans(2, WAIT).expect("the retry delivers both spans");
    assert_eq!(collector.request_count(), 2, "one refused attempt, one retry");
    assert_eq!(collector.trace_requests()[0].transport, Transport::Grpc);
}
