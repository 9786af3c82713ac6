//! The `metrics-demo` example under the real `wasmedge` CLI, interpreted and AOT-compiled: exactly
//! the stdout, spans, metrics and log records documented at the top of
//! `examples/metrics-demo/src/main.rs` arrive at the OTLP collector, plus the runtime metrics of
//! `docs/metrics-and-logs.md`.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
use opentelemetry_proto::tonic::metrics::v1::{Metric, NumberDataPoint};
use wasmedge_otel_tests::*;

/// The five lines the guest prints, one per request, after the request's span has ended.
const STDOUT: &str = "GET /api/hello -> 200\n\
                      GET /api/hello -> 200\n\
                      GET /api/hello -> 200\n\
                      GET /api/hello -> 200\n\
                      GET /api/hello -> 500\n";

// OTLP enumerations.
const SERVER: i32 = 2;
const STATUS_UNSET: i32 = 0;
const STATUS_ERROR: i32 = 2;
const CUMULATIVE: i32 = 2;

/// The guest's five instruments, in creation order.
const GUEST_METRICS: [&str; 5] = [
    "http.server.requests",
    "http.server.request.duration",
    "app.cache.hits",
    "app.requests.active",
    "app.memory.used",
];

/// The runtime metrics every guest gets (docs/metrics-and-logs.md).
const RUNTIME_METRICS: [&str; 5] = [
    "wasm.memory.usage",
    "wasmedge_otel.host.calls",
    "otel.sdk.exporter.span.exported",
    "otel.sdk.exporter.log.exported",
    "otel.sdk.exporter.metric_data_point.exported",
];

/// Host calls the guest makes, from the "Host calls" section of main.rs (and `Metrics::new`,
/// `main`, `handle`):
///
/// * `abi_version` once (`init()`; the bindings cache the answer, later checks make no call): 1
/// * `instrument_create` for each of the five instruments, plus `metric_bind` for
///   `app.cache.hits`: 6
/// * `log_emit` "startup complete": 1
/// * per request: `span_start`, `metric_record_i64` (active +1), `metric_bound_record_i64`
///   (hits +2), `span_set_attributes` (status code), `log_emit` "handled request",
///   `metric_record_i64` (requests), `metric_record_f64` (duration), `metric_record_i64`
///   (active -1), `span_end` (the guard's drop): 9 × 5 = 45
/// * request 5 only: `span_set_status` and `log_emit` "request failed": 2
/// * `metric_record_i64` for `app.memory.used` after the last request: 1
///
/// Every attribute list fits the bindings' 1 KiB buffer, so no span attributes are split into an
/// extra `span_set_attributes`.
const HOST_CALLS: i64 = 1 + 6 + 1 + 9 * 5 + 2 + 1;

const WASM_PAGE: i64 = 65536;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// The attributes of the requests counter and log records, without the request number.
fn http_attrs(status: i64) -> Vec<String> {
    vec![
        s("http.request.method=s:\"GET\""),
        format!("http.response.status_code=i:{status}"),
        s("http.route=s:\"/api/hello\""),
    ]
}

fn status_code(n: i64) -> i64 {
    if n == 5 {
        500
    } else {
        200
    }
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).map(typed)
}

/// Every metric of every metrics request, in arrival order.
fn all_metrics(c: &Collector) -> Vec<Metric> {
    c.metric_requests()
        .iter()
        .flat_map(|r| r.request.resource_metrics.iter())
        .flat_map(|rm| rm.scope_metrics.iter())
        .flat_map(|sm| sm.metrics.iter())
        .cloned()
        .collect()
}

fn metric(c: &Collector, name: &str) -> Metric {
    last_metric(c, name).unwrap_or_else(|| panic!("metric {name} did not arrive"))
}

/// `(attributes, value)` of each point, sorted by attributes.
fn points(points: &[NumberDataPoint]) -> Vec<(Vec<String>, Option<N>)> {
    let mut v: Vec<_> = points.iter().map(|p| (typed_attrs(&p.attributes), p.value)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn check_number_times(name: &str, points: &[NumberDataPoint], cumulative: bool) {
    for p in points {
        assert!(p.time_unix_nano > 0, "{name}: time set");
        if cumulative {
            assert!(
                p.start_time_unix_nano > 0 && p.start_time_unix_nano <= p.time_unix_nano,
                "{name}: cumulative start time"
            );
        }
    }
}

/// The sum `name`: its monotonicity, unit, description, temporality and points.
fn sum(
    c: &Collector,
    name: &str,
    monotonic: bool,
    unit: &str,
    description: &str,
) -> Vec<(Vec<String>, Option<N>)> {
    let m = metric(c, name);
    assert_eq!((m.unit.as_str(), m.description.as_str()), (unit, description), "{name}");
    let Some(Data::Sum(sum)) = &m.data else { panic!("{name} is a sum: {m:?}") };
    assert_eq!(sum.is_monotonic, monotonic, "{name}: monotonic");
    assert_eq!(sum.aggregation_temporality, CUMULATIVE, "{name}: cumulative temporality");
    check_number_times(name, &sum.data_points, true);
    points(&sum.data_points)
}

/// The gauge `name`: its unit and points.
fn gauge(c: &Collector, name: &str, unit: &str) -> Vec<(Vec<String>, Option<N>)> {
    let m = metric(c, name);
    assert_eq!(m.unit, unit, "{name}");
    let Some(Data::Gauge(g)) = &m.data else { panic!("{name} is a gauge: {m:?}") };
    check_number_times(name, &g.data_points, false);
    points(&g.data_points)
}

fn check_metrics(c: &Collector, mode: Mode) {
    // Each instrument arrives as one stream in each export, and nothing else arrives.
    for request in c.metric_requests() {
        let mut names: Vec<_> = request
            .request
            .resource_metrics
            .iter()
            .flat_map(|rm| rm.scope_metrics.iter())
            .flat_map(|sm| sm.metrics.iter())
            .map(|m| m.name.as_str())
            .collect();
        names.sort();
        let mut expected: Vec<_> = GUEST_METRICS.iter().chain(RUNTIME_METRICS.iter()).copied().collect();
        expected.sort();
        assert_eq!(names, expected, "{mode:?}: the metrics of one export");
    }
    assert!(all_metrics(c).iter().all(|m| m.metadata.is_empty()));

    let no_attrs: Vec<String> = Vec::new();

    // http.server.requests: 4 × 200, 1 × 500.
    assert_eq!(
        sum(c, "http.server.requests", true, "{request}", "HTTP requests handled"),
        [(http_attrs(200), Some(N::AsInt(4))), (http_attrs(500), Some(N::AsInt(1)))],
        "{mode:?}"
    );

    // http.server.request.duration: 0.5, 3, 7, 20 and 200 ms over bounds [1, 5, 10, 50, 100].
    let m = metric(c, "http.server.request.duration");
    assert_eq!(
        (m.unit.as_str(), m.description.as_str()),
        ("ms", "Duration of HTTP server requests"),
        "{mode:?}"
    );
    let Some(Data::Histogram(h)) = &m.data else { panic!("a histogram: {m:?}") };
    assert_eq!(h.aggregation_temporality, CUMULATIVE);
    assert_eq!(h.data_points.len(), 1, "{mode:?}: one attribute set");
    let p = &h.data_points[0];
    assert_eq!(typed_attrs(&p.attributes), ["http.request.method=s:\"GET\"", "http.route=s:\"/api/hello\""]);
    assert_eq!(p.explicit_bounds, [1.0, 5.0, 10.0, 50.0, 100.0]);
    assert_eq!(p.bucket_counts, [1, 1, 1, 1, 0, 1], "{mode:?}: one per bucket but (50, 100]");
    assert_eq!(p.count, 5);
    assert_eq!(p.sum, Some(230.5));
    assert_eq!(p.min, Some(0.5));
    assert_eq!(p.max, Some(200.0));
    assert!(p.start_time_unix_nano > 0 && p.start_time_unix_nano <= p.time_unix_nano);

    // app.cache.hits: the bound counter, +2 per request with cache="main".
    assert_eq!(
        sum(c, "app.cache.hits", true, "{hit}", "Cache lookups that hit"),
        [(vec![s("cache=s:\"main\"")], Some(N::AsInt(10)))],
        "{mode:?}"
    );

    // app.requests.active: +1 and -1 per request, no attributes.
    assert_eq!(
        sum(c, "app.requests.active", false, "{request}", "Requests in flight"),
        [(no_attrs.clone(), Some(N::AsInt(0)))],
        "{mode:?}"
    );

    // app.memory.used: set once.
    assert_eq!(metric(c, "app.memory.used").description, "Memory in use");
    assert_eq!(gauge(c, "app.memory.used", "By"), [(no_attrs.clone(), Some(N::AsInt(65536)))], "{mode:?}");

    // Runtime metrics of the one instance.
    let instance = vec![s("wasmedge_otel.instance=i:1")];
    let memory = gauge(c, "wasm.memory.usage", "By");
    let [(attrs, Some(N::AsInt(bytes)))] = memory.as_slice() else { panic!("{mode:?}: {memory:?}") };
    assert_eq!(attrs, &instance);
    assert!(*bytes > 0 && bytes % WASM_PAGE == 0, "{mode:?}: whole pages of linear memory, {bytes}");
    assert_eq!(
        sum(
            c,
            "wasmedge_otel.host.calls",
            true,
            "{call}",
            "Host calls the guest made into the wasmedge_otel plugin"
        ),
        [(instance, Some(N::AsInt(HOST_CALLS)))],
        "{mode:?}: every host call of the guest is counted"
    );
    // Spans and log records are flushed before the final collection, so it counts them all.
    for (name, unit, n) in [
        ("otel.sdk.exporter.span.exported", "{span}", 5),
        ("otel.sdk.exporter.log.exported", "{log_record}", 7),
    ] {
        let m = metric(c, name);
        assert_eq!(m.unit, unit, "{name}");
        let Some(Data::Sum(sum)) = &m.data else { panic!("{name} is a sum") };
        assert!(sum.is_monotonic);
        assert_eq!(points(&sum.data_points), [(no_attrs.clone(), Some(N::AsInt(n)))], "{mode:?}: {name}");
    }
}

/// The span of request `n` (its `app.request.number`).
fn request_span(spans: &[ReceivedSpan], n: i64) -> &ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| attr(&s.span.attributes, "app.request.number") == Some(format!("i:{n}")))
        .collect();
    assert_eq!(found.len(), 1, "one span for request {n}");
    found[0]
}

fn check_spans(spans: &[ReceivedSpan], mode: Mode, stem: &str) {
    assert_eq!(spans.len(), 5, "{mode:?}: one span per request");
    let mut previous_end = 0;
    let mut traces = Vec::new();
    for n in 1..=5 {
        let span = request_span(spans, n);
        let code = status_code(n);
        assert_eq!(span.span.name, "GET /api/hello");
        assert_eq!(span.span.kind, SERVER, "request {n}");
        assert_eq!(span.parent_span_id_hex(), "", "request {n} is a root");
        let mut want = http_attrs(code);
        want.insert(0, format!("app.request.number=i:{n}"));
        assert_eq!(typed_attrs(&span.span.attributes), want, "{mode:?}: request {n}");
        assert!(span.span.events.is_empty() && span.span.links.is_empty(), "request {n}");
        let status = span.span.status.clone().unwrap_or_default();
        if n == 5 {
            assert_eq!((status.code, status.message.as_str()), (STATUS_ERROR, "internal server error"));
        } else {
            assert_eq!((status.code, status.message.as_str()), (STATUS_UNSET, ""), "request {n}");
        }
        // In order, one after the other.
        assert!(span.span.start_time_unix_nano >= previous_end, "request {n} starts after {}", n - 1);
        assert!(span.span.end_time_unix_nano >= span.span.start_time_unix_nano);
        previous_end = span.span.end_time_unix_nano;
        traces.push(span.trace_id_hex());
        assert_eq!(span.scope_name, "wasmedge_otel");
        assert_eq!(span.resource_attr("service.name").map(typed), Some(format!("s:{stem:?}")));
    }
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 5, "{mode:?}: five traces");
}

fn body(record: &LogRecord) -> String {
    match record.body.as_ref().and_then(|b| b.value.clone()) {
        Some(Value::StringValue(s)) => s,
        other => panic!("string body: {other:?}"),
    }
}

fn check_logs(logs: &[LogRecord], spans: &[ReceivedSpan], mode: Mode) {
    let summary: Vec<_> =
        logs.iter().map(|l| (l.severity_number, l.severity_text.clone(), body(l))).collect();
    let info = |_| (9, s("INFO"), s("handled request"));
    assert_eq!(
        summary,
        [
            (13, s("WARN"), s("startup complete")),
            info(1),
            info(2),
            info(3),
            info(4),
            (17, s("ERROR"), s("request failed")),
            info(5),
        ],
        "{mode:?}: seven records in order"
    );

    let startup = &logs[0];
    assert_eq!(typed_attrs(&startup.attributes), ["app.requests.planned=i:5"]);
    assert!(startup.trace_id.is_empty() && startup.span_id.is_empty(), "{mode:?}: outside any span");

    // "handled request" of request n, and "request failed", in request n's span.
    let in_span = |record: &LogRecord, n: i64| {
        let span = request_span(spans, n);
        assert_eq!(hex(&record.trace_id), span.trace_id_hex(), "{mode:?}: {} in request {n}", body(record));
        assert_eq!(hex(&record.span_id), span.span_id_hex(), "{mode:?}: {} in request {n}", body(record));
        assert_eq!(record.flags & 0xff, span.span.flags & 0xff, "trace flags of request {n}'s span");
        let t = record.time_unix_nano.max(record.observed_time_unix_nano);
        assert!(
            span.span.start_time_unix_nano <= t && t <= span.span.end_time_unix_nano,
            "{mode:?}: {} emitted during request {n}",
            body(record)
        );
    };
    for record in logs.iter().filter(|l| body(l) == "handled request") {
        let number = attr(&record.attributes, "app.request.number").expect("app.request.number");
        let n: i64 = number.strip_prefix("i:").and_then(|n| n.parse().ok()).expect("an i64");
        let mut want = http_attrs(status_code(n));
        want.insert(0, format!("app.request.number=i:{n}"));
        assert_eq!(typed_attrs(&record.attributes), want, "{mode:?}: record of request {n}");
        in_span(record, n);
    }
    let failed = &logs[5];
    assert_eq!(typed_attrs(&failed.attributes), ["error.type=s:\"500\"", "http.response.status_code=i:500"]);
    in_span(failed, 5);
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

fn resource_of_requests(c: &Collector) -> Vec<Vec<String>> {
    let keep = |attrs: &[KeyValue]| {
        typed_attrs(attrs).into_iter().filter(|a| a.starts_with("service.name=")).collect::<Vec<_>>()
    };
    let metrics = c.metric_requests();
    let logs = c.log_requests();
    metrics
        .iter()
        .flat_map(|r| r.request.resource_metrics.iter())
        .map(|rm| keep(&rm.resource.clone().unwrap_or_default().attributes))
        .chain(
            logs.iter()
                .flat_map(|r| r.request.resource_logs.iter())
                .map(|rl| keep(&rl.resource.clone().unwrap_or_default().attributes)),
        )
        .collect()
}

#[test]
fn metrics_demo_exports_what_it_documents_interpreted_and_aot() {
    let wasm = example("metrics-demo");
    for mode in MODES {
        let c = collector();
        let module = for_mode(&wasm, mode);
        let out = Run::new(&module, &c.endpoint()).output();
        let stderr = assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), STDOUT, "{mode:?}");
        assert_eq!(stderr, "", "{mode:?}: nothing on stderr");

        let spans = c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        wait_for_metrics_and_logs(&c);
        let logs = wait_for_logs(&c, 7);
        // The run has ended and flushed: anything more would be here already.
        assert_eq!(c.spans().len(), 5, "{mode:?}: nothing more than the five spans");
        assert_eq!(log_records(&c).len(), 7, "{mode:?}: seven log records, no more");

        let stem = module.file_stem().unwrap().to_string_lossy().into_owned();
        check_spans(&spans, mode, &stem);
        check_logs(&logs, &spans, mode);
        check_metrics(&c, mode);
        let resources = resource_of_requests(&c);
        assert!(!resources.is_empty());
        for r in resources {
            assert_eq!(
                r,
                [format!("service.name=s:{stem:?}")],
                "{mode:?}: metrics and logs carry the resource"
            );
        }
    }
}
