//! The `tracing-demo` example under the real `wasmedge` CLI, interpreted and AOT-compiled: a program
//! instrumented only with the `tracing` and `log` crates exports exactly the span tree and log
//! records documented at the top of `examples/tracing-demo/src/main.rs`, through the bindings'
//! `tracing` and `log` bridges.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::span::Event;
use wasmedge_otel_tests::*;

// OTLP enumerations.
const INTERNAL: i32 = 1;
const SERVER: i32 = 2;
const STATUS_UNSET: i32 = 0;
const STATUS_ERROR: i32 = 2;

/// The request span's name: `info_span!("request", otel.name = ...)`.
const REQUEST: &str = "GET /api/orders/{id}";
/// The module path every event and record carries as `code.namespace`.
const HERE: &str = "code.namespace=s:\"tracing_demo\"";

fn status(s: &ReceivedSpan) -> (i32, String) {
    s.span.status.as_ref().map_or((STATUS_UNSET, String::new()), |st| (st.code, st.message.clone()))
}

/// Events as `(name, typed attributes)`.
fn events(s: &ReceivedSpan) -> Vec<(String, Vec<String>)> {
    s.span.events.iter().map(|e: &Event| (e.name.clone(), typed_attrs(&e.attributes))).collect()
}

fn event(name: &str, attrs: &[&str]) -> (String, Vec<String>) {
    (name.to_owned(), attrs.iter().map(|a| a.to_string()).collect())
}

fn check_tree(spans: &[ReceivedSpan], mode: Mode) {
    assert_eq!(names(spans), [REQUEST, "audit", "flush", "load_order", "parse", "validate"], "{mode:?}");
    let trace_id = spans[0].trace_id_hex();
    assert!(spans.iter().all(|s| s.trace_id_hex() == trace_id), "{mode:?}: one trace");
    let [request, load, parse, validate, flush, audit] =
        [REQUEST, "load_order", "parse", "validate", "flush", "audit"].map(|n| span(spans, n));

    // Structure: `audit` is a child of the request although `flush` was started last before it.
    assert_eq!(request.parent_span_id_hex(), "", "{mode:?}: the request is the root");
    for child in [load, validate, flush, audit] {
        assert_eq!(
            child.parent_span_id_hex(),
            request.span_id_hex(),
            "{mode:?}: {} under the request",
            child.span.name
        );
    }
    assert_eq!(parse.parent_span_id_hex(), load.span_id_hex(), "{mode:?}: parse under load_order");
    assert_eq!(
        [request, load, parse, validate, flush, audit].map(|s| s.span.kind),
        [SERVER, INTERNAL, INTERNAL, INTERNAL, INTERNAL, INTERNAL],
        "{mode:?}: otel.kind makes the request a server span"
    );

    // Attributes from fields, typed.
    assert_eq!(
        typed_attrs(&request.span.attributes),
        [
            "http.request.method=s:\"GET\"",
            "http.response.status_code=i:422",
            "http.route=s:\"/api/orders/42\"",
        ],
        "{mode:?}: otel.* fields are not attributes; the Empty field was recorded later"
    );
    assert_eq!(
        typed_attrs(&load.span.attributes),
        ["cached=b:false", "order_id=i:42", "source=s:\"primary\""],
        "{mode:?}: #[instrument] arguments"
    );
    assert_eq!(typed_attrs(&parse.span.attributes), ["bytes=i:512", "format=s:\"Json\""], "{mode:?}");
    assert_eq!(typed_attrs(&validate.span.attributes), ["order.id=i:42", "order.items=i:3"], "{mode:?}");
    assert!(flush.span.attributes.is_empty(), "{mode:?}");
    assert_eq!(typed_attrs(&audit.span.attributes), ["order.id=i:42"], "{mode:?}");

    // Events.
    for s in [request, parse, audit] {
        assert!(s.span.events.is_empty(), "{mode:?}: no events in {}", s.span.name);
    }
    assert_eq!(
        events(load),
        [event("loaded order", &[HERE, "items=i:3", "level=s:\"INFO\"", "total=f:37.5"])],
        "{mode:?}"
    );
    assert_eq!(
        events(validate),
        [
            event("order exceeds limit", &[HERE, "items=i:3", "level=s:\"WARN\"", "limit=i:2"]),
            event("validation failed", &[HERE, "level=s:\"ERROR\"", "reason=s:\"too many items\""]),
        ],
        "{mode:?}"
    );
    assert_eq!(events(flush), [event("flushed", &["bytes=i:128", HERE, "level=s:\"INFO\""])], "{mode:?}");

    // Status: the ERROR event.
    assert_eq!(status(validate), (STATUS_ERROR, "validation failed".into()), "{mode:?}");
    for s in [request, load, parse, flush, audit] {
        assert_eq!(status(s).0, STATUS_UNSET, "{mode:?}: {}", s.span.name);
    }

    // Timing: children lie within their parents; spans start and end in the documented order.
    for (child, parent) in
        [(load, request), (parse, load), (validate, request), (flush, request), (audit, request)]
    {
        assert!(child.span.start_time_unix_nano >= parent.span.start_time_unix_nano, "{mode:?}");
        assert!(
            child.span.end_time_unix_nano <= parent.span.end_time_unix_nano,
            "{mode:?}: {}",
            child.span.name
        );
    }
    let starts = [request, load, parse, validate, flush, audit].map(|s| s.span.start_time_unix_nano);
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{mode:?}: start order");
    let ends = [parse, load, validate, audit, flush, request].map(|s| s.span.end_time_unix_nano);
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{mode:?}: end order");
}

fn body(record: &LogRecord) -> String {
    match record.body.as_ref().and_then(|b| b.value.clone()) {
        Some(Value::StringValue(s)) => s,
        other => panic!("string body: {other:?}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_logs(logs: &[LogRecord], spans: &[ReceivedSpan], mode: Mode) {
    let summary: Vec<_> = logs
        .iter()
        .map(|l| (l.severity_number, l.severity_text.clone(), body(l), typed_attrs(&l.attributes)))
        .collect();
    let record = |n: i32, text: &str, body: &str, attrs: &[&str]| {
        (n, text.to_owned(), body.to_owned(), attrs.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(
        summary,
        [
            record(9, "INFO", "tracing-demo starting", &["app.version=i:2", HERE]),
            record(13, "WARN", "cache is cold", &[HERE]),
            record(9, "INFO", "order 42 loaded", &[HERE, "order_id=i:42"]),
            record(9, "INFO", "order 42 rejected", &[HERE, "target=s:\"audit\""]),
        ],
        "{mode:?}: four records in order, nothing below INFO"
    );
    for outside in &logs[..2] {
        assert!(
            outside.trace_id.is_empty() && outside.span_id.is_empty(),
            "{mode:?}: {} outside spans",
            body(outside)
        );
    }
    for (record, name) in [(&logs[2], "load_order"), (&logs[3], "audit")] {
        let s = span(spans, name);
        assert_eq!(hex(&record.trace_id), s.trace_id_hex(), "{mode:?}: {} in {name}'s trace", body(record));
        assert_eq!(hex(&record.span_id), s.span_id_hex(), "{mode:?}: {} in {name}", body(record));
        let t = record.time_unix_nano.max(record.observed_time_unix_nano);
        assert!(
            s.span.start_time_unix_nano <= t && t <= s.span.end_time_unix_nano,
            "{mode:?}: {} emitted during {name}",
            body(record)
        );
    }
}

/// Waits (bounded) until `n` log records have arrived.
fn wait_for_logs(c: &Collector, n: usize) -> Vec<LogRecord> {
    let start = Instant::now();
    loop {
        let logs = log_records(c);
        if logs.len() >= n || start.elapsed() > ARRIVAL_TIMEOUT {
            return logs;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tracing_demo_exports_its_documented_tree_and_log_records_interpreted_and_aot() {
    let wasm = example("tracing-demo");
    for mode in MODES {
        let c = collector();
        let out = Run::new(&for_mode(&wasm, mode), &c.endpoint()).output();
        let stderr = assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "GET /api/orders/42 -> 422\n", "{mode:?}");
        assert_eq!(stderr, "", "{mode:?}: nothing on stderr");

        let spans = c.wait_for_spans(6, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let logs = wait_for_logs(&c, 4);
        // The run has ended and flushed: anything more would be here already.
        assert_eq!(c.spans().len(), 6, "{mode:?}: nothing more than the tree");
        assert_eq!(log_records(&c).len(), 4, "{mode:?}: four log records, no more");
        check_tree(&spans, mode);
        check_logs(&logs, &spans, mode);
    }
}
