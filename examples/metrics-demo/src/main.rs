//! `metrics-demo`: traces, metrics and logs of five simulated HTTP requests, fully deterministic, for
//! the end-to-end tests.
//!
//! No network and no clock: each request is a server span, and its "duration" comes from a table, so
//! every exported value below is exact. Run under `wasmedge` with the `wasmedge_otel` plugin, it
//! prints exactly these five lines to stdout,
//!
//! ```text
//! GET /api/hello -> 200
//! GET /api/hello -> 200
//! GET /api/hello -> 200
//! GET /api/hello -> 200
//! GET /api/hello -> 500
//! ```
//!
//! nothing to stderr (unless the plugin speaks another ABI version: then
//! `metrics-demo: wasmedge_otel ABI mismatch, telemetry disabled` and no telemetry at all), exits
//! with 0, and produces the following (integers are `i64`, decimals `f64`).
//!
//! # Traces
//!
//! Five traces of one span each (each a root, when the `wasmedge` process has no `TRACEPARENT`), one
//! per request `n` = 1..=5, in that order:
//!
//! ```text
//! GET /api/hello [SERVER] (root)
//!     http.request.method = "GET"             string  (given at start)
//!     http.route = "/api/hello"               string  (given at start)
//!     app.request.number = n                  i64     (given at start)
//!     http.response.status_code = 200         i64     (set later; 500 for n = 5)
//!     no events
//!     status UNSET (n = 1..=4); ERROR "internal server error" (n = 5)
//! ```
//!
//! # Metrics
//!
//! Five instruments, all created before the first span, in this order; values as exported at exit
//! (cumulative temporality, the SDK's default):
//!
//! ```text
//! http.server.requests          counter (monotonic sum), i64         unit "{request}"
//!     description "HTTP requests handled"
//!     {http.request.method="GET", http.route="/api/hello", http.response.status_code=200} = 4
//!     {http.request.method="GET", http.route="/api/hello", http.response.status_code=500} = 1
//! http.server.request.duration  histogram, f64                       unit "ms"
//!     description "Duration of HTTP server requests"
//!     {http.request.method="GET", http.route="/api/hello"}: count 5, sum 230.5, min 0.5, max 200.0,
//!         explicit bounds [1.0, 5.0, 10.0, 50.0, 100.0], bucket counts [1, 1, 1, 1, 0, 1]
//! app.cache.hits                counter (monotonic sum), i64         unit "{hit}"
//!     description "Cache lookups that hit"
//!     {cache="main"} = 10             (a bound instrument, +2 per request)
//! app.requests.active           up-down counter (non-monotonic sum), i64    unit "{request}"
//!     description "Requests in flight"
//!     no attributes = 0               (+1 at the start of each request, -1 at its end)
//! app.memory.used               gauge, i64                           unit "By"
//!     description "Memory in use"
//!     no attributes = 65536           (set once, after the last request)
//! ```
//!
//! The recorded durations are 0.5, 3.0, 7.0, 20.0 and 200.0 ms for requests 1 to 5: one in each
//! bucket `(-inf, 1]`, `(1, 5]`, `(5, 10]`, `(10, 50]`, none in `(50, 100]`, one in `(100, +inf)`.
//!
//! # Logs
//!
//! Seven log records, in this order (severity number and text; body; attributes; trace context):
//!
//! ```text
//! 13 WARN   "startup complete"   app.requests.planned = 5                     no trace id, no span id
//!  9 INFO   "handled request"    http.request.method = "GET", http.route = "/api/hello",
//!                                http.response.status_code = 200, app.request.number = 1
//!                                                                             in request 1's span
//!  9 INFO   "handled request"    (same, app.request.number = 2)               in request 2's span
//!  9 INFO   "handled request"    (same, app.request.number = 3)               in request 3's span
//!  9 INFO   "handled request"    (same, app.request.number = 4)               in request 4's span
//! 17 ERROR  "request failed"     http.response.status_code = 500, error.type = "500"
//!                                                                             in request 5's span
//!  9 INFO   "handled request"    (same, status_code = 500, app.request.number = 5)
//!                                                                             in request 5's span
//! ```
//!
//! A record "in request n's span" carries that span's trace id and span id.
//!
//! # Host calls
//!
//! `abi_version`; `instrument_create` ×5 in the table's order, with `metric_bind` right after the
//! one of `app.cache.hits`; `log_emit` (WARN); then per request `span_start`, `metric_record_i64`
//! (active +1), `metric_bound_record_i64` (hits +2), for request 5 `span_set_status` and `log_emit`
//! (ERROR), `span_set_attributes` (status code), `log_emit` (INFO), `metric_record_i64` (requests),
//! `metric_record_f64` (duration), `metric_record_i64` (active -1), `span_end`; and last
//! `metric_record_i64` (memory). Each request's stdout line is printed after its span ends.

use std::io::Write;

use wasmedge_otel_guest::metrics::BoundInstrument;
use wasmedge_otel_guest::{kv, logs, Counter, Gauge, Histogram, Span, SpanKind, SpanStatus, UpDownCounter};

/// Number of simulated requests; the last one fails.
const REQUESTS: usize = 5;
/// The "duration" of each request, in milliseconds: one per histogram bucket but `(50, 100]`.
const DURATIONS_MS: [f64; REQUESTS] = [0.5, 3.0, 7.0, 20.0, 200.0];
/// Explicit bucket boundaries of `http.server.request.duration`.
const BOUNDARIES_MS: [f64; 5] = [1.0, 5.0, 10.0, 50.0, 100.0];
/// Bytes reported by `app.memory.used`.
const MEMORY_USED: i64 = 65536;
const METHOD: &str = "GET";
const ROUTE: &str = "/api/hello";

struct Metrics {
    requests: Counter<i64>,
    duration: Histogram<f64>,
    cache_hits: BoundInstrument<Counter<i64>>,
    active: UpDownCounter<i64>,
    memory: Gauge<i64>,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            requests: Counter::builder("http.server.requests")
                .unit("{request}")
                .description("HTTP requests handled")
                .build(),
            duration: Histogram::builder("http.server.request.duration")
                .unit("ms")
                .description("Duration of HTTP server requests")
                .boundaries(&BOUNDARIES_MS)
                .build(),
            cache_hits: Counter::builder("app.cache.hits")
                .unit("{hit}")
                .description("Cache lookups that hit")
                .build()
                .bind(&[kv("cache", "main")]),
            active: UpDownCounter::builder("app.requests.active")
                .unit("{request}")
                .description("Requests in flight")
                .build(),
            memory: Gauge::builder("app.memory.used").unit("By").description("Memory in use").build(),
        }
    }
}

fn main() {
    // Optional, as in `hello`: a fixed message keeps `core::fmt` for `Error` out of the module.
    if wasmedge_otel_guest::init().is_err() {
        let _ =
            std::io::stderr().write_all(b"metrics-demo: wasmedge_otel ABI mismatch, telemetry disabled\n");
    }
    let metrics = Metrics::new();
    logs::warn("startup complete", &[kv("app.requests.planned", REQUESTS)]);
    for (i, &duration_ms) in DURATIONS_MS.iter().enumerate() {
        let status = handle(&metrics, i + 1, duration_ms);
        println!("{METHOD} {ROUTE} -> {status}");
    }
    metrics.memory.record(MEMORY_USED, &[]);
}

/// Serves request `number` (1-based) in a server span; returns its HTTP status code.
fn handle(metrics: &Metrics, number: usize, duration_ms: f64) -> i64 {
    let span = Span::builder("GET /api/hello")
        .kind(SpanKind::Server)
        .root()
        .attributes(&[
            kv("http.request.method", METHOD),
            kv("http.route", ROUTE),
            kv("app.request.number", number),
        ])
        .start();
    metrics.active.add(1, &[]);
    metrics.cache_hits.add(2);

    let status: i64 = if number == REQUESTS { 500 } else { 200 };
    if status >= 500 {
        span.set_status(SpanStatus::Error("internal server error"));
        logs::error("request failed", &[kv("http.response.status_code", status), kv("error.type", "500")]);
    }
    span.set_attribute("http.response.status_code", status);
    logs::info(
        "handled request",
        &[
            kv("http.request.method", METHOD),
            kv("http.route", ROUTE),
            kv("http.response.status_code", status),
            kv("app.request.number", number),
        ],
    );

    metrics.requests.add(
        1,
        &[
            kv("http.request.method", METHOD),
            kv("http.route", ROUTE),
            kv("http.response.status_code", status),
        ],
    );
    metrics.duration.record(duration_ms, &[kv("http.request.method", METHOD), kv("http.route", ROUTE)]);
    metrics.active.add(-1, &[]);
    status
}
