//! Collector faults (issue 6, item 1), end to end with the real `wasmedge` CLI: a collector that is
//! not running at start, that goes away mid-run, that comes back on the same port, that accepts
//! connections and never answers, and that answers with retryable errors (gRPC and OTLP/HTTP).
//! In every case the guest runs to completion with its stdout unchanged, what is lost is reported
//! with exact counts (`arrived + lost = ended`), and the process's memory stays bounded by the
//! configured queues.
//!
//! No assertion is on speed: "runs to completion" means the run ends within the harness's
//! `RUN_TIMEOUT`. Times and memory figures are printed (`FIGURE ...` lines, see
//! `docs/reliability.md`):
//!
//! ```sh
//! cargo test -p wasmedge-otel-tests --test reliability_faults -- --nocapture --test-threads=1
//! ```

#[path = "reliability_support.rs"]
mod rel;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rel::*;
use wasmedge_otel_collector::{CollectorConfig, Failure, GrpcCode};
use wasmedge_otel_tests::*;

/// The `seq` attributes of `spans`, as a set (a span delivered twice counts once).
fn seqs(spans: &[ReceivedSpan]) -> BTreeSet<i64> {
    spans.iter().map(|s| int_attr(s, "seq").expect("every tick has a seq")).collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Down, killed, restarted

#[test]
fn collector_not_running_at_start() {
    // 1 phase of 5 rounds of 4 spans, 50 ms apart, exported every 50 ms: each export is refused.
    let wasm = phased_guest(1, 5, 4, 50);
    let started = Instant::now();
    let out = Run::new(&wasm, &dead_endpoint()).env("OTEL_BSP_SCHEDULE_DELAY", "50").output();
    let took = started.elapsed();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(1), "the guest is unaffected");
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert_eq!(lost, 20, "every ended span is reported lost: {stderr}");
    println!(
        "FIGURE collector_not_running_at_start: 20 spans ended, {lost} lost ({failed} failed, {dropped} \
         dropped or unflushed), exit after {took:.2?}"
    );
}

#[test]
fn collector_started_late_receives_what_is_ended_once_it_is_up() {
    // Phase 0 runs with nothing on the port; then a collector binds that port, and phase 1 runs.
    let endpoint = dead_endpoint();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let wasm = phased_guest(2, 5, 4, 50);
    let mut run = Spawned::start(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "50")],
    );
    run.wait_for_stdout("phase 0 done");
    let c = restart_collector_on(port);
    run.go();
    let (out, _, _) = run.finish();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(2));
    let arrived = seqs(&c.spans());
    let phase1: BTreeSet<i64> = (20..40).collect();
    assert!(phase1.is_subset(&arrived), "every span of phase 1 arrives: {arrived:?}");
    let lost = spans_lost(&stderr).map_or(0, |l| l.0);
    assert_eq!(arrived.len() as u64 + lost, 40, "arrived + lost = ended: {arrived:?} {stderr}");
    println!(
        "FIGURE collector_started_late: 40 spans ended, {} arrived (20 of 20 ended after it started, {} of \
         20 ended before), {lost} lost",
        arrived.len(),
        arrived.iter().filter(|s| **s < 20).count()
    );
}

#[test]
fn collector_killed_mid_run() {
    // Phase 0: 15 rounds of 5 spans, 100 ms apart (1.5 s); the collector is shut down while it
    // runs. Phase 1 (the same again) starts only once the collector is gone.
    let c = collector();
    let rx = c.subscribe();
    let wasm = phased_guest(2, 15, 5, 100);
    let mut run = Spawned::start(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint()), ("OTEL_BSP_SCHEDULE_DELAY", "50")],
    );
    wait_until("10 spans arrive while the guest runs", ARRIVAL_TIMEOUT, || c.spans().len() >= 10);
    c.shutdown();
    let arrived = drain_spans(rx, ARRIVAL_TIMEOUT);
    run.go();
    let (out, took, _) = run.finish();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(2), "the guest is unaffected");
    let ended = 2 * 15 * 5;
    let arrived = seqs(&arrived);
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert!(lost >= 75, "at least phase 1, ended after the shutdown, is lost: {stderr}");
    assert_eq!(arrived.len() as u64 + lost, ended, "arrived + lost = ended: {arrived:?} {stderr}");
    println!(
        "FIGURE collector_killed_mid_run: {ended} spans ended, {} arrived before the shutdown, {lost} lost \
         ({failed} failed, {dropped} dropped or unflushed), exit {took:.2?} after start",
        arrived.len()
    );
}

#[test]
fn collector_restarted_mid_run_gets_what_fits_in_the_buffers() {
    // Phase 0 (50 spans) with the collector up; it is shut down; phase 1 (50 spans) runs with
    // nothing on the port; a new collector binds the same port; phase 2 (50 spans) runs.
    let c1 = collector();
    let port = c1.local_addr().port();
    let rx1 = c1.subscribe();
    let wasm = phased_guest(3, 10, 5, 50);
    let mut run = Spawned::start(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c1.endpoint()), ("OTEL_BSP_SCHEDULE_DELAY", "50")],
    );
    run.wait_for_stdout("phase 0 done");
    wait_until("phase 0 arrives", ARRIVAL_TIMEOUT, || c1.spans().len() >= 50);
    c1.shutdown();
    let before = seqs(&drain_spans(rx1, ARRIVAL_TIMEOUT));
    run.go();
    run.wait_for_stdout("phase 1 done");
    let c2 = restart_collector_on(port);
    run.go();
    let (out, _, _) = run.finish();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(3), "the guest is unaffected");

    assert_eq!(before, (0..50).collect(), "phase 0 arrived at the first collector");
    let after = seqs(&c2.spans());
    let phase2: BTreeSet<i64> = (100..150).collect();
    assert!(phase2.is_subset(&after), "every span ended after the restart arrives: {after:?}");
    let arrived: BTreeSet<i64> = before.union(&after).copied().collect();
    let lost = spans_lost(&stderr).map_or(0, |l| l.0);
    assert_eq!(arrived.len() as u64 + lost, 150, "arrived + lost = ended: {arrived:?} {stderr}");
    let buffered = after.iter().filter(|s| (50..100).contains(*s)).count();
    println!(
        "FIGURE collector_restarted_mid_run: 150 spans ended; 50/50 before the shutdown arrived; {buffered}/50 \
         ended while it was down were delivered after the restart; 50/50 ended after the restart arrived; \
         {lost} lost (reported)"
    );
}

#[test]
fn collector_accepting_but_never_answering() {
    let hole = BlackHole::start();
    let wasm = phased_guest(1, 10, 5, 50);
    let (out, took, _) = run_measured(
        &wasm,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &hole.endpoint()), ("OTEL_BSP_SCHEDULE_DELAY", "50")],
    );
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(1), "the guest is unaffected");
    assert!(hole.accepted() >= 1, "the exporter connected to the black hole");
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert_eq!(lost, 50, "nothing can have arrived: {stderr}");
    println!(
        "FIGURE collector_never_answering: 50 spans ended, {lost} lost ({failed} failed, {dropped} dropped or \
         unflushed), exit {took:.2?} after start"
    );
}

// ---------------------------------------------------------------------------------------------
// Error answers: retried, then delivered

/// Runs a 2 s guest ending 100 spans against a collector that answers the first two exports with
/// `failure`; asserts they were retried and everything arrived, nothing reported lost.
fn retried_then_delivered(http: bool, failure: Failure) {
    let c = if http {
        Collector::start_with(CollectorConfig::http("127.0.0.1:0")).expect("start the HTTP collector")
    } else {
        collector()
    };
    c.fail_next(2, failure);
    let endpoint = if http { c.http_endpoint().unwrap() } else { c.endpoint() };
    let protocol = if http { "http/protobuf" } else { "grpc" };
    let wasm = phased_guest(1, 20, 5, 100);
    let (out, took, _) = run_measured(
        &wasm,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(1), "the guest is unaffected");
    let arrived = seqs(&c.spans());
    assert_eq!(arrived, (0..100).collect(), "everything is delivered in the end; stderr: {stderr}");
    let accepted = c.trace_requests().len();
    assert_eq!(c.request_count(), accepted + 2, "two answered with {failure:?}, then retried");
    assert!(c.request_count() > accepted, "the exporter retried");
    assert!(spans_lost(&stderr).is_none(), "nothing lost: {stderr}");
    println!(
        "FIGURE retried {protocol} {:?}/{} retry_after={:?}: {} requests for {accepted} accepted, 100/100 spans \
         delivered, exit {took:.2?} after start",
        failure.grpc_code, failure.http_status, failure.retry_after,
        c.request_count()
    );
}

#[test]
fn grpc_unavailable_is_retried_and_delivered() {
    retried_then_delivered(false, Failure::UNAVAILABLE);
}

#[test]
fn grpc_resource_exhausted_with_retry_info_is_retried_and_delivered() {
    retried_then_delivered(false, Failure::RESOURCE_EXHAUSTED.with_retry_after(Duration::from_secs(1)));
}

#[test]
fn http_503_with_retry_after_is_retried_and_delivered() {
    retried_then_delivered(true, Failure::UNAVAILABLE.with_retry_after(Duration::from_secs(1)));
}

#[test]
fn http_429_with_retry_after_is_retried_and_delivered() {
    retried_then_delivered(true, Failure::RESOURCE_EXHAUSTED.with_retry_after(Duration::from_secs(1)));
}

#[test]
fn non_retryable_error_is_not_retried_and_is_reported() {
    // gRPC INVALID_ARGUMENT (HTTP 400) must not be retried (OTLP specification): that batch is
    // lost, and reported as failed; the rest arrives.
    let c = collector();
    c.fail_next(1, Failure::new(GrpcCode::InvalidArgument, 400));
    let wasm = phased_guest(1, 20, 5, 100);
    let out = Run::new(&wasm, &c.endpoint())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_METRICS_EXPORTER", "none")
        .env("OTEL_LOGS_EXPORTER", "none")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), phased_stdout(1));
    let arrived = seqs(&c.spans());
    assert_eq!(c.request_count(), c.trace_requests().len() + 1, "the refused request was not retried");
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert!(failed > 0 && dropped == 0, "{stderr}");
    assert_eq!(arrived.len() as u64 + lost, 100, "arrived + lost = ended: {stderr}");
}

// ---------------------------------------------------------------------------------------------
// Memory stays bounded by the queues

/// Peak RSS allowed for a flood with the default queue (2048 spans): the plugin's baseline (a
/// one-span run, ~66 MiB with the debug build) plus a generous allowance. What 1,000,000 spans
/// would need if they were all kept (~1 KiB each) is about 1 GiB.
const FLOOD_PEAK_LIMIT_KIB: u64 = 200 * 1024;
const FLOOD: u32 = 1_000_000;

fn flood_memory_is_bounded(label: &str, endpoint: &str) {
    let (base, _, base_peak) = run_measured(&flood_guest(1), &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)]);
    assert_exit(&base, 0);
    let (out, took, peak) = run_measured(&flood_guest(FLOOD), &[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)]);
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), FLOOD_STDOUT, "the guest is unaffected");
    let (lost, failed, dropped) = spans_lost(&stderr).unwrap_or_else(|| panic!("loss reported: {stderr}"));
    assert_eq!(lost, FLOOD as u64, "nothing can arrive, everything is reported: {stderr}");
    assert!(peak > 0, "the peak RSS was sampled");
    assert!(
        peak < FLOOD_PEAK_LIMIT_KIB,
        "{label}: peak RSS {peak} KiB over {FLOOD_PEAK_LIMIT_KIB} KiB for {FLOOD} spans through a 2048-span queue"
    );
    println!(
        "FIGURE flood {label}: {FLOOD} spans, peak RSS {} MiB (one-span run: {} MiB), lost {lost} ({failed} \
         failed, {dropped} dropped or unflushed), exit {took:.2?} after start",
        peak / 1024,
        base_peak / 1024
    );
}

#[test]
fn span_flood_memory_is_bounded_with_the_collector_down() {
    flood_memory_is_bounded("collector down", &dead_endpoint());
}

#[test]
fn span_flood_memory_is_bounded_with_a_collector_that_never_answers() {
    let hole = BlackHole::start();
    flood_memory_is_bounded("never answering", &hole.endpoint());
}

#[test]
fn span_flood_with_a_working_collector_delivers_or_reports_every_span() {
    // Not a fault, the reference: the queue (2048) still drops most of a flood that outruns the
    // exporter, and every drop is counted.
    let c = collector();
    let (out, took, peak) =
        run_measured(&flood_guest(FLOOD), &[("OTEL_EXPORTER_OTLP_ENDPOINT", &c.endpoint())]);
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout(&out), FLOOD_STDOUT);
    let arrived = c.spans().len() as u64;
    let lost = spans_lost(&stderr).map_or(0, |l| l.0);
    assert_eq!(arrived + lost, FLOOD as u64, "arrived + lost = ended: {stderr}");
    assert!(peak < FLOOD_PEAK_LIMIT_KIB, "peak RSS {peak} KiB");
    println!(
        "FIGURE flood working collector: {FLOOD} spans, {arrived} arrived, {lost} reported lost, peak RSS {} \
         MiB, exit {took:.2?} after start",
        peak / 1024
    );
}
