//! Batching and export timing, end to end: `OTEL_BSP_*`, `OTEL_BLRP_*`,
//! `OTEL_METRIC_EXPORT_INTERVAL` and `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, checked on
//! how the collector receives the telemetry of hand-written guests: how many items arrive, how
//! many per request, and how many requests.
//!
//! No assertion is on speed. Where timing matters, the guest sleeps a fixed 2 s (WASI
//! `poll_oneoff`, and it checks on the monotonic clock that it did sleep that long) between two
//! batches of telemetry, and the settings under test are either far below that (100 ms, 200 ms:
//! at least one periodic export must happen in 2 s) or far above it (60 s: none can), so only an
//! ignored setting changes the outcome.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use wasmedge_otel_tests::*;

/// Polls `done` every 20 ms until it holds, failing after [`ARRIVAL_TIMEOUT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < ARRIVAL_TIMEOUT, "{what}: not within {ARRIVAL_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(wasm: &std::path::Path, c: &Collector, vars: &[(&str, &str)]) -> String {
    let mut run = Run::new(wasm, &c.endpoint());
    for (k, v) in vars {
        run = run.env(k, v);
    }
    let stderr = assert_exit(&run.output(), 0);
    assert!(!stderr.contains("ignoring"), "{vars:?}: {stderr}");
    stderr
}

/// Spans in each trace request, in arrival order.
fn spans_per_request(c: &Collector) -> Vec<usize> {
    c.trace_requests()
        .iter()
        .map(|r| {
            r.request.resource_spans.iter().flat_map(|rs| &rs.scope_spans).map(|ss| ss.spans.len()).sum()
        })
        .collect()
}

/// Log records in each logs request, in arrival order.
fn records_per_request(c: &Collector) -> Vec<usize> {
    c.log_requests()
        .iter()
        .map(|r| {
            r.request.resource_logs.iter().flat_map(|rl| &rl.scope_logs).map(|sl| sl.log_records.len()).sum()
        })
        .collect()
}

/// The key-value buffer of one string attribute `p` of `len` bytes of `x`, as a WAT data string.
fn big_attribute(len: usize) -> String {
    let header: String = [1u8, 0, 0, 0, b'p', 1]
        .iter()
        .chain(&(len as u32).to_le_bytes())
        .map(|b| format!("\\{b:02x}"))
        .collect();
    format!("{header}{}", "x".repeat(len))
}

const BIG: usize = 32 * 1024;

/// A guest that starts `n` root spans, each with one 32 KiB string attribute, keeping them all
/// open, then ends them all in a tight loop. Only `span_end` hands a span to the batch processor,
/// so the queue fills as fast as the guest can end spans, while exporting 10 such spans (320 KiB)
/// takes far longer. Exits 10/11 if a start/end fails.
fn burst_of_big_spans(n: u32) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "big")
  (data (i32.const 4096) "{attr}")
  (func (export "_start")
    (local $i i32) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (local.set $h (call $span_start (i32.const 0) (i32.const 3) (i32.const 0) (i64.const -1) (i32.const 4096) (i32.const {attr_len})))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
        (i64.store (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))) (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (if (i32.ne (call $span_end (i64.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))))) (i32.const 0))
          (then (call $proc_exit (i32.const 11))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
  )
)"#,
        imports = wat_imports(),
        attr = big_attribute(BIG),
        attr_len = 10 + BIG,
    );
    assert!(n <= 300, "handles live at 1024..4096");
    wat_guest(&format!("big_spans_{n}"), &wat)
}

/// A guest that starts and ends `n` small root spans, then emits `n` log records.
fn spans_and_logs(n: u32) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "item")
  (func (export "_start")
    (local $i i32) (local $h i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (local.set $h (call $span_start (i32.const 0) (i32.const 4) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 0)))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
        (if (i32.ne (call $span_end (local.get $h)) (i32.const 0)) (then (call $proc_exit (i32.const 11))))
        (if (i32.ne (call $log_emit (i32.const 9) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)) (i32.const 0))
          (then (call $proc_exit (i32.const 12))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest(&format!("spans_and_logs_{n}"), &wat)
}

/// A guest that emits `n` log records, each with one 32 KiB string attribute, in a tight loop.
fn burst_of_big_logs(n: u32) -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "big")
  (data (i32.const 4096) "{attr}")
  (func (export "_start")
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (if (i32.ne (call $log_emit (i32.const 9) (i32.const 0) (i32.const 3) (i32.const 4096) (i32.const {attr_len})) (i32.const 0))
          (then (call $proc_exit (i32.const 12))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
  )
)"#,
        imports = wat_imports(),
        attr = big_attribute(BIG),
        attr_len = 10 + BIG,
    );
    wat_guest(&format!("big_logs_{n}"), &wat)
}

/// A guest that records span `A`, log record `A` and counter `c` += 1, sleeps 2 s (checking the
/// monotonic clock: exit 91 if less than 2 s passed, 90 if `poll_oneoff` fails), then records span
/// `B`, log record `B` and `c` += 1, and returns.
fn sleepy() -> PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "A")
  (data (i32.const 8) "B")
  (data (i32.const 16) "c")
  (global $counter (mut i64) (i64.const 0))
  (func $now (result i64)
    (if (i32.ne (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 1200)) (i32.const 0))
      (then (call $proc_exit (i32.const 92))))
    (i64.load (i32.const 1200)))
  ;; One relative clock subscription at 1024 (48 bytes); the event goes to 1088, the count to 1120.
  (func $sleep (param $ns i64)
    (local $start i64)
    (local.set $start (call $now))
    (i32.store (i32.const 1040) (i32.const 1))
    (i64.store (i32.const 1048) (local.get $ns))
    (if (i32.ne (call $poll_oneoff (i32.const 1024) (i32.const 1088) (i32.const 1) (i32.const 1120)) (i32.const 0))
      (then (call $proc_exit (i32.const 90))))
    (if (i64.lt_u (i64.sub (call $now) (local.get $start)) (local.get $ns))
      (then (call $proc_exit (i32.const 91)))))
  (func $record (param $name i32)
    (drop (call $span_end (call $span_start (local.get $name) (i32.const 1) (i32.const 0) (i64.const -1) (i32.const 0) (i32.const 0))))
    (drop (call $log_emit (i32.const 9) (local.get $name) (i32.const 1) (i32.const 0) (i32.const 0)))
    (drop (call $metric_record_i64 (global.get $counter) (i64.const 1) (i32.const 0) (i32.const 0))))
  (func (export "_start")
    (global.set $counter (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (if (i64.le_s (global.get $counter) (i64.const 0)) (then (call $proc_exit (i32.const 93))))
    (call $record (i32.const 0))
    (call $sleep (i64.const 2000000000))
    (call $record (i32.const 8))
  )
)"#,
        imports = wat_imports()
    );
    wat_guest("sleepy", &wat)
}

// ---------------------------------------------------------------------------------------------
// Batch span processor

#[test]
fn bsp_max_queue_size_drops_spans_beyond_the_queue() {
    let wasm = burst_of_big_spans(100);
    // Control: with the default queue (2048) all 100 spans arrive.
    let c = collector();
    run(&wasm, &c, &[("OTEL_BSP_SCHEDULE_DELAY", "60000")]);
    assert_eq!(c.wait_for_spans(100, ARRIVAL_TIMEOUT).unwrap().len(), 100);

    // A queue of 10: the guest ends 100 spans far faster than 10 of them can be exported, so
    // the queue overflows. The first 10 always fit and arrive.
    let c = collector();
    let stderr = run(&wasm, &c, &[("OTEL_BSP_MAX_QUEUE_SIZE", "10"), ("OTEL_BSP_SCHEDULE_DELAY", "60000")]);
    wait_until("metrics (flushed after spans)", || !c.metric_requests().is_empty());
    let n = c.spans().len();
    assert!((10..100).contains(&n), "{n} of 100 spans arrived through a queue of 10");
    assert!(stderr.contains("dropped"), "the loss is reported: {stderr}");
}

#[test]
fn bsp_max_export_batch_size_caps_spans_per_request() {
    let c = collector();
    run(
        &spans_and_logs(100),
        &c,
        &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"), ("OTEL_LOGS_EXPORTER", "none")],
    );
    c.wait_for_spans(100, ARRIVAL_TIMEOUT).unwrap();
    let sizes = spans_per_request(&c);
    assert!(sizes.iter().all(|&n| n <= 10), "at most 10 spans per request: {sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 100);
}

#[test]
fn bsp_schedule_delay_exports_before_exit() {
    // 100 ms: span A is exported during the 2 s sleep, span B at exit: two requests. With the
    // default 5 s, both would wait for the exit flush and travel together.
    let c = collector();
    run(&sleepy(), &c, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    c.wait_for_spans(2, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(spans_per_request(&c), [1, 1], "A alone, then B");
}

// ---------------------------------------------------------------------------------------------
// Batch log record processor

#[test]
fn blrp_schedule_delay_holds_records_until_exit() {
    // 60 s: record A waits through the 2 s sleep and leaves with B in the exit flush. With the
    // default 1 s, A would be exported during the sleep, alone.
    let c = collector();
    run(&sleepy(), &c, &[("OTEL_BLRP_SCHEDULE_DELAY", "60000")]);
    wait_until("2 log records", || log_records(&c).len() >= 2);
    assert_eq!(records_per_request(&c), [2], "A and B in one request");

    // The control: 100 ms sends A on its own.
    let c = collector();
    run(&sleepy(), &c, &[("OTEL_BLRP_SCHEDULE_DELAY", "100")]);
    wait_until("2 log records", || log_records(&c).len() >= 2);
    assert_eq!(records_per_request(&c), [1, 1], "A alone, then B");
}

#[test]
fn blrp_max_export_batch_size_caps_records_per_request() {
    let c = collector();
    run(
        &spans_and_logs(100),
        &c,
        &[("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "10"), ("OTEL_TRACES_EXPORTER", "none")],
    );
    wait_until("100 log records", || log_records(&c).len() >= 100);
    let sizes = records_per_request(&c);
    assert!(sizes.iter().all(|&n| n <= 10), "at most 10 records per request: {sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 100);
}

#[test]
fn blrp_max_queue_size_drops_records_beyond_the_queue() {
    let wasm = burst_of_big_logs(100);
    let c = collector();
    run(&wasm, &c, &[("OTEL_BLRP_SCHEDULE_DELAY", "60000")]);
    wait_until("100 log records", || log_records(&c).len() >= 100);

    let c = collector();
    let stderr = run(&wasm, &c, &[("OTEL_BLRP_MAX_QUEUE_SIZE", "10"), ("OTEL_BLRP_SCHEDULE_DELAY", "60000")]);
    wait_until("metrics (flushed after logs)", || !c.metric_requests().is_empty());
    let n = log_records(&c).len();
    assert!((10..100).contains(&n), "{n} of 100 records arrived through a queue of 10");
    assert!(stderr.contains("dropped"), "the loss is reported: {stderr}");
}

// ---------------------------------------------------------------------------------------------
// Metrics

#[test]
fn metric_export_interval_exports_during_the_run() {
    // 200 ms: several periodic exports during the 2 s sleep, then the final one. With the default
    // 60 s, only the final one.
    let c = collector();
    run(&sleepy(), &c, &[("OTEL_METRIC_EXPORT_INTERVAL", "200")]);
    wait_until("metrics", || !c.metric_requests().is_empty());
    let n = c.metric_requests().len();
    assert!(n >= 2, "{n} metrics requests: periodic exports happened before exit");
}

#[test]
fn metric_export_interval_default_exports_once_at_exit() {
    // The control for the test above.
    let c = collector();
    run(&sleepy(), &c, &[]);
    wait_until("metrics", || !c.metric_requests().is_empty());
    assert_eq!(c.metric_requests().len(), 1);
}

fn sum_temporality(c: &Collector, name: &str) -> i32 {
    let metric = last_metric(c, name).unwrap_or_else(|| panic!("{name} arrives"));
    let Some(Data::Sum(sum)) = metric.data else { panic!("{name} is a sum: {metric:?}") };
    sum.aggregation_temporality
}

fn histogram_temporality(c: &Collector, name: &str) -> i32 {
    let metric = last_metric(c, name).unwrap_or_else(|| panic!("{name} arrives"));
    let Some(Data::Histogram(h)) = metric.data else { panic!("{name} is a histogram: {metric:?}") };
    h.aggregation_temporality
}

const DELTA: i32 = 1;
const CUMULATIVE: i32 = 2;

#[test]
fn temporality_preference_delta_reports_deltas() {
    let c = collector();
    run(&example("metrics-demo"), &c, &[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")]);
    wait_until("metrics", || last_metric(&c, "http.server.requests").is_some());
    assert_eq!(sum_temporality(&c, "http.server.requests"), DELTA, "counter");
    assert_eq!(histogram_temporality(&c, "http.server.request.duration"), DELTA, "histogram");
    // The specification's delta preference keeps up-down counters cumulative.
    assert_eq!(sum_temporality(&c, "app.requests.active"), CUMULATIVE, "up-down counter");
}

#[test]
fn temporality_preference_lowmemory_is_delta_for_counters_only() {
    let c = collector();
    run(&example("metrics-demo"), &c, &[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "LowMemory")]);
    wait_until("metrics", || last_metric(&c, "http.server.requests").is_some());
    assert_eq!(sum_temporality(&c, "http.server.requests"), DELTA, "counter");
    assert_eq!(histogram_temporality(&c, "http.server.request.duration"), DELTA, "histogram");
    assert_eq!(sum_temporality(&c, "app.requests.active"), CUMULATIVE, "up-down counter");
}

#[test]
fn temporality_is_cumulative_by_default() {
    let c = collector();
    run(&example("metrics-demo"), &c, &[]);
    wait_until("metrics", || last_metric(&c, "http.server.requests").is_some());
    assert_eq!(sum_temporality(&c, "http.server.requests"), CUMULATIVE);
}

#[test]
fn delta_values_restart_after_each_periodic_export() {
    // Counter c gets +1 before the sleep and +1 after. With delta and periodic exports, the points
    // sum to 2 and none exceeds 1; cumulative would end at 2.
    let c = collector();
    run(
        &sleepy(),
        &c,
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
        ],
    );
    wait_until("metrics", || last_metric(&c, "c").is_some());
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
    let values: Vec<i64> = c
        .metric_requests()
        .iter()
        .flat_map(|r| r.request.resource_metrics.clone())
        .flat_map(|rm| rm.scope_metrics)
        .flat_map(|sm| sm.metrics)
        .filter(|m| m.name == "c")
        .filter_map(|m| match m.data {
            Some(Data::Sum(s)) => Some(s.data_points),
            _ => None,
        })
        .flatten()
        .filter_map(|p| match p.value {
            Some(N::AsInt(v)) => Some(v),
            _ => None,
        })
        .collect();
    assert_eq!(values.iter().sum::<i64>(), 2, "{values:?}");
    assert!(values.iter().all(|&v| v <= 1), "deltas, not totals: {values:?}");
}
