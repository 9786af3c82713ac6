//! Drops are never silent (issue 6, item 3). A guest that ends spans (or emits log records) faster
//! than a tiny queue can be exported loses some of them; the loss line at exit says exactly how
//! many (`arrived + dropped = ended`, counted at the collector), and the runtime metric
//! `otel.sdk.exporter.span.exported` carries the same counts: delivered without attributes, failed
//! with `error.type`.
//!
//! The figures are printed (`FIGURE` lines, see `docs/reliability.md`):
//!
//! ```sh
//! cargo test -p wasmedge-otel-tests --test reliability_drops -- --nocapture --test-threads=1
//! ```

#[path = "reliability_support.rs"]
mod rel;

use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use rel::*;
use wasmedge_otel_collector::{Failure, GrpcCode};
use wasmedge_otel_tests::*;

/// The points of the cumulative counter `name` in its last export, as (error.type, value).
fn exported_counter(c: &Collector, name: &str) -> Vec<(Option<String>, u64)> {
    let metric = last_metric(c, name).unwrap_or_else(|| panic!("{name} was exported"));
    let Some(Data::Sum(sum)) = metric.data else { panic!("{name} is a sum: {metric:?}") };
    sum.data_points
        .iter()
        .map(|p| {
            let error = p
                .attributes
                .iter()
                .find(|kv| kv.key == "error.type")
                .map(|kv| kv.value.as_ref().map_or(String::new(), typed));
            let value = match p.value {
                Some(Value::AsInt(i)) => i as u64,
                Some(Value::AsDouble(d)) => d as u64,
                None => panic!("{name}: a point without a value"),
            };
            (error, value)
        })
        .collect()
}

const N: u32 = 2000;

/// Runs the flood of `N` spans with a queue of 16 and no periodic export (60 s), logs off, and
/// returns (arrived, stderr), once the metrics (flushed last) have arrived.
fn tiny_queue_flood(c: &Collector) -> (u64, String) {
    let out = Run::new(&flood_guest(N), &c.endpoint())
        .env("OTEL_BSP_MAX_QUEUE_SIZE", "16")
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000")
        .env("OTEL_LOGS_EXPORTER", "none")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), FLOOD_STDOUT, "the guest is unaffected");
    assert!(!stderr.contains("ignoring"), "{stderr}");
    wait_until("the final metrics", ARRIVAL_TIMEOUT, || {
        last_metric(c, "otel.sdk.exporter.span.exported").is_some()
    });
    (c.spans().len() as u64, stderr)
}

#[test]
fn full_queue_drops_are_reported_exactly() {
    let c = collector();
    let (arrived, stderr) = tiny_queue_flood(&c);
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("drops reported: {stderr}"));
    assert!(dropped > 0, "a queue of 16 drops some of {N} spans: {stderr}");
    assert_eq!(failed, 0, "every export succeeded: {stderr}");
    assert_eq!(arrived + dropped, N as u64, "arrived + dropped = ended: {stderr}");

    // The same counts as the runtime metric: delivered spans, no failure point.
    let points = exported_counter(&c, "otel.sdk.exporter.span.exported");
    assert_eq!(points, [(None, arrived)], "otel.sdk.exporter.span.exported = the spans that arrived");
    println!(
        "FIGURE drops: {N} spans through a queue of 16: {arrived} arrived, {dropped} dropped (reported: \
         {lost}); otel.sdk.exporter.span.exported = {points:?}"
    );
}

#[test]
fn failed_exports_are_reported_and_counted_with_error_type() {
    // The first export (16 spans at most) is refused with a non-retryable error.
    let c = collector();
    c.fail_next(1, Failure::new(GrpcCode::InvalidArgument, 400));
    let (arrived, stderr) = tiny_queue_flood(&c);
    let (_, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert!((1..=16).contains(&failed), "one batch failed: {stderr}");
    assert_eq!(arrived + failed + dropped, N as u64, "arrived + failed + dropped = ended: {stderr}");
    let mut points = exported_counter(&c, "otel.sdk.exporter.span.exported");
    points.sort();
    assert_eq!(
        points,
        [(None, arrived), (Some("s:\"export_failed\"".into()), failed)],
        "delivered and failed spans, told apart by error.type"
    );
    println!(
        "FIGURE failed export: {N} spans, {arrived} arrived, {failed} failed (error.type=export_failed), \
         {dropped} dropped"
    );
}

/// A guest that emits `n` log records (severity INFO, body `r`) as fast as it can, then prints
/// `flood done`.
fn log_flood_guest(n: u32) -> std::path::PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  {helpers}
  (memory (export "memory") 1)
  (data (i32.const 0) "r")
  (data (i32.const 16) "flood done\n")
  (func (export "_start")
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
        (if (i32.ne (call $log_emit (i32.const 9) (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 0)) (i32.const 0))
          (then (call $proc_exit (i32.const 12))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $print (i32.const 16) (i32.const 11))
  )
)"#,
        imports = wat_imports(),
        helpers = WAT_HELPERS,
    );
    wat_guest(&format!("log_flood_{n}"), &wat)
}

/// The log part of the loss line: (lost, failed, dropped or unflushed).
fn records_lost(stderr: &str) -> Option<(u64, u64, u64)> {
    let line = stderr.lines().find(|l| l.starts_with("wasmedge_otel: telemetry lost: "))?;
    let at = line.find(" log records (")?;
    let lost: u64 = line[..at].rsplit(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
    let inner = &line[at + " log records (".len()..];
    let failed: u64 = inner.split(' ').next()?.parse().ok()?;
    let dropped: u64 = inner[inner.find(", ")? + 2..].split(' ').next()?.parse().ok()?;
    Some((lost, failed, dropped))
}

fn log_records_received(c: &Collector) -> u64 {
    log_records(c).len() as u64
}

#[test]
fn full_log_queue_drops_are_reported_exactly() {
    let c = collector();
    let out = Run::new(&log_flood_guest(N), &c.endpoint())
        .env("OTEL_BLRP_MAX_QUEUE_SIZE", "16")
        .env("OTEL_BLRP_SCHEDULE_DELAY", "60000")
        .env("OTEL_TRACES_EXPORTER", "none")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), FLOOD_STDOUT);
    wait_until("the final metrics", ARRIVAL_TIMEOUT, || {
        last_metric(&c, "otel.sdk.exporter.log.exported").is_some()
    });
    let arrived = log_records_received(&c);
    let (lost, failed, dropped) = records_lost(&stderr).unwrap_or_else(|| panic!("drops reported: {stderr}"));
    assert!(dropped > 0 && failed == 0, "{stderr}");
    assert_eq!(arrived + dropped, N as u64, "arrived + dropped = emitted: {stderr}");
    let points = exported_counter(&c, "otel.sdk.exporter.log.exported");
    assert_eq!(points, [(None, arrived)], "otel.sdk.exporter.log.exported = the records that arrived");
    println!("FIGURE log drops: {N} records through a queue of 16: {arrived} arrived, {dropped} dropped (reported: {lost})");
}
