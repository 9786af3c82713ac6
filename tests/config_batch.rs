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

use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use std::path::{Path, PathBuf};
use wasmedge_otel_tests::*;

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
/// The length of [`big_attribute`]`(BIG)`: its 10-byte header and the value.
const BIG_ATTR_LEN: usize = 10 + BIG;

/// A guest that starts `n` root spans, each with one 32 KiB string attribute, keeping them all
/// open, then ends them all in a tight loop. Only `span_end` hands a span to the batch processor,
/// so the queue fills as fast as the guest can end spans, while exporting 10 such spans (320 KiB)
/// takes far longer. Exits 10/11 if a start/end fails.
fn burst_of_big_spans(n: u32) -> PathBuf {
    assert!(n <= 300, "handles live at 1024..4096");
    let start_all = wat_loop(
        n,
        &format!(
            "(local.set $h (call $span_start (i32.const 0) (i32.const 3) (i32.const 0) (i64.const -1) (i32.const 4096) (i32.const {BIG_ATTR_LEN})))
        (if (i64.le_s (local.get $h) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
        (i64.store (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))) (local.get $h))"
        ),
    );
    let end_all = wat_loop(
        n,
        "(if (i32.ne (call $span_end (i64.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 3))))) (i32.const 0))
          (then (call $proc_exit (i32.const 11))))",
    );
    wat_start_guest(&format!("big_spans_{n}"), &big_data(), &format!("{start_all}\n    {end_all}"))
}

/// The data of the big-item guests: the name `big` at 0 and [`big_attribute`]`(BIG)` at 4096.
fn big_data() -> String {
    format!(r#"(data (i32.const 0) "big") (data (i32.const 4096) "{}")"#, big_attribute(BIG))
}

/// A guest that starts and ends a small root span, then emits a log record, `n` times.
fn spans_and_logs(n: u32) -> PathBuf {
    let items = wat_loop(
        n,
        &format!(
            "{WAT_ROOT_SPAN}
        (if (i32.ne (call $log_emit (i32.const 9) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0)) (i32.const 0))
          (then (call $proc_exit (i32.const 12))))"
        ),
    );
    wat_start_guest(&format!("spans_and_logs_{n}"), r#"(data (i32.const 0) "item")"#, &items)
}

/// A guest that emits `n` log records, each with one 32 KiB string attribute, in a tight loop.
fn burst_of_big_logs(n: u32) -> PathBuf {
    let emit_all = wat_loop(
        n,
        &format!(
            "(if (i32.ne (call $log_emit (i32.const 9) (i32.const 0) (i32.const 3) (i32.const 4096) (i32.const {BIG_ATTR_LEN})) (i32.const 0))
          (then (call $proc_exit (i32.const 12))))"
        ),
    );
    wat_start_guest(&format!("big_logs_{n}"), &big_data(), &emit_all)
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
// Batch span processor and batch log record processor

/// One of the two batch processors, as the tests below drive it: its variables and how to count
/// what it delivered.
struct Processor {
    /// What it batches, for messages.
    items: &'static str,
    /// Its `..._MAX_QUEUE_SIZE` variable.
    queue_size: &'static str,
    /// Its `..._MAX_EXPORT_BATCH_SIZE` variable.
    batch_size: &'static str,
    /// Its `..._SCHEDULE_DELAY` variable.
    schedule_delay: &'static str,
    /// The `OTEL_*_EXPORTER` of the other of the two signals, turned off where only this one matters.
    other_exporter: &'static str,
    /// How many items a collector has received.
    received: fn(&Collector) -> usize,
    /// How many items each request carried, in arrival order.
    per_request: fn(&Collector) -> Vec<usize>,
}

const BSP: Processor = Processor {
    items: "spans",
    queue_size: "OTEL_BSP_MAX_QUEUE_SIZE",
    batch_size: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    schedule_delay: "OTEL_BSP_SCHEDULE_DELAY",
    other_exporter: "OTEL_LOGS_EXPORTER",
    received: |c| c.spans().len(),
    per_request: spans_per_request,
};

const BLRP: Processor = Processor {
    items: "log records",
    queue_size: "OTEL_BLRP_MAX_QUEUE_SIZE",
    batch_size: "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    schedule_delay: "OTEL_BLRP_SCHEDULE_DELAY",
    other_exporter: "OTEL_TRACES_EXPORTER",
    received: |c| log_records(c).len(),
    per_request: records_per_request,
};

impl Processor {
    /// Waits until `c` has received at least `n` items.
    fn wait_for(&self, c: &Collector, n: usize) {
        wait_until(&format!("{n} {}", self.items), ARRIVAL_TIMEOUT, || (self.received)(c) >= n);
    }

    /// Runs `wasm`, which ends 100 big items in a burst, with a 60 s schedule delay (nothing leaves
    /// before exit). Control: with the default queue (2048) all 100 arrive. Then with a queue of
    /// 10: the guest ends 100 items far faster than 10 of them can be exported, so the queue
    /// overflows; the first 10 always fit and arrive, and the loss is reported.
    fn assert_queue_of_10_drops_part_of_a_burst_of_100(&self, wasm: &Path) {
        let items = self.items;
        let delay = (self.schedule_delay, "60000");
        let c = collector();
        run_configured(wasm, &c, &[delay]);
        self.wait_for(&c, 100);
        assert_eq!((self.received)(&c), 100, "{items}: all 100 through the default queue");

        let c = collector();
        let out = run_configured(wasm, &c, &[(self.queue_size, "10"), delay]);
        wait_for_final_metrics(&c);
        let n = (self.received)(&c);
        assert!((10..100).contains(&n), "{n} of 100 {items} arrived through a queue of 10");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("dropped"), "{items}: the loss is reported: {stderr}");
    }

    /// Runs 100 items through a maximum export batch of 10 and checks that no request carried more
    /// than 10 and that all 100 arrived.
    fn assert_batch_of_10_caps_items_per_request(&self) {
        let items = self.items;
        let c = collector();
        run_configured(&spans_and_logs(100), &c, &[(self.batch_size, "10"), (self.other_exporter, "none")]);
        self.wait_for(&c, 100);
        let sizes = (self.per_request)(&c);
        assert!(sizes.iter().all(|&n| n <= 10), "at most 10 {items} per request: {sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 100, "{items}: {sizes:?}");
    }

    /// Runs [`sleepy`] with the schedule delay at `delay_ms` and returns how many of its two items
    /// (A before the 2 s sleep, B after) each request carried.
    fn sleepy_items_per_request(&self, delay_ms: &str) -> Vec<usize> {
        let c = collector();
        run_configured(&sleepy(), &c, &[(self.schedule_delay, delay_ms)]);
        self.wait_for(&c, 2);
        (self.per_request)(&c)
    }
}

#[test]
fn bsp_max_queue_size_drops_spans_beyond_the_queue() {
    BSP.assert_queue_of_10_drops_part_of_a_burst_of_100(&burst_of_big_spans(100));
}

#[test]
fn bsp_max_export_batch_size_caps_spans_per_request() {
    BSP.assert_batch_of_10_caps_items_per_request();
}

#[test]
fn bsp_schedule_delay_exports_before_exit() {
    // 100 ms: span A is exported during the 2 s sleep, span B at exit: two requests. With the
    // default 5 s, both would wait for the exit flush and travel together.
    assert_eq!(BSP.sleepy_items_per_request("100"), [1, 1], "A alone, then B");
}

#[test]
fn blrp_schedule_delay_holds_records_until_exit() {
    // 60 s: record A waits through the 2 s sleep and leaves with B in the exit flush. With the
    // default 1 s, A would be exported during the sleep, alone.
    assert_eq!(BLRP.sleepy_items_per_request("60000"), [2], "60 s: A and B in one request");
    // The control: 100 ms sends A on its own.
    assert_eq!(BLRP.sleepy_items_per_request("100"), [1, 1], "100 ms: A alone, then B");
}

#[test]
fn blrp_max_export_batch_size_caps_records_per_request() {
    BLRP.assert_batch_of_10_caps_items_per_request();
}

#[test]
fn blrp_max_queue_size_drops_records_beyond_the_queue() {
    BLRP.assert_queue_of_10_drops_part_of_a_burst_of_100(&burst_of_big_logs(100));
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// Runs [`sleepy`] with `vars` and returns how many metrics requests arrived.
fn sleepy_metric_requests(vars: &[(&str, &str)]) -> usize {
    let c = collector();
    run_configured(&sleepy(), &c, vars);
    wait_for_final_metrics(&c);
    c.metric_requests().len()
}

#[test]
fn metric_export_interval_exports_during_the_run() {
    // 200 ms: several periodic exports during the 2 s sleep, then the final one. With the default
    // 60 s, only the final one.
    let n = sleepy_metric_requests(&[("OTEL_METRIC_EXPORT_INTERVAL", "200")]);
    assert!(n >= 2, "{n} metrics requests: periodic exports happened before exit");
}

#[test]
fn metric_export_interval_default_exports_once_at_exit() {
    // The control for the test above.
    assert_eq!(sleepy_metric_requests(&[]), 1);
}

const TEMPORALITY: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
const DELTA: i32 = 1;
const CUMULATIVE: i32 = 2;

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

/// Runs `metrics-demo` with `vars` and returns the collector once its metrics have arrived.
fn demo_metrics(vars: &[(&str, &str)]) -> Collector {
    let c = collector();
    run_configured(&example("metrics-demo"), &c, vars);
    wait_until("metrics", ARRIVAL_TIMEOUT, || last_metric(&c, "http.server.requests").is_some());
    c
}

/// Checks the temporalities the temporality `preference` gives `metrics-demo`'s instruments:
/// delta for the counter and the histogram, cumulative for the up-down counter (which both the
/// specification's delta and low-memory preferences keep cumulative).
fn assert_delta_but_for_the_up_down_counter(preference: &str) {
    let c = demo_metrics(&[(TEMPORALITY, preference)]);
    assert_eq!(sum_temporality(&c, "http.server.requests"), DELTA, "{preference}: counter");
    assert_eq!(histogram_temporality(&c, "http.server.request.duration"), DELTA, "{preference}: histogram");
    assert_eq!(sum_temporality(&c, "app.requests.active"), CUMULATIVE, "{preference}: up-down counter");
}

#[test]
fn temporality_preference_delta_reports_deltas() {
    assert_delta_but_for_the_up_down_counter("delta");
}

#[test]
fn temporality_preference_lowmemory_is_delta_for_counters_only() {
    assert_delta_but_for_the_up_down_counter("LowMemory");
}

#[test]
fn temporality_is_cumulative_by_default() {
    let c = demo_metrics(&[]);
    assert_eq!(sum_temporality(&c, "http.server.requests"), CUMULATIVE);
}

#[test]
fn delta_values_restart_after_each_periodic_export() {
    // Counter c gets +1 before the sleep and +1 after. With delta and periodic exports, the points
    // sum to 2 and none exceeds 1; cumulative would end at 2.
    let c = collector();
    run_configured(&sleepy(), &c, &[(TEMPORALITY, "delta"), ("OTEL_METRIC_EXPORT_INTERVAL", "200")]);
    wait_until("metrics", ARRIVAL_TIMEOUT, || last_metric(&c, "c").is_some());
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
