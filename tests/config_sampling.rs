//! `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` and `OTEL_PROPAGATORS`, end to end: which
//! spans reach the collector, with and without a remote parent in `TRACEPARENT`. Every test would
//! fail if the plugin ignored the variable (the default, `parentbased_always_on`, keeps every root
//! span and follows the parent's sampled flag).
//!
//! A run ends with a bounded flush of spans, then log records, then metrics, so once a run is over
//! and its metrics have arrived, every span it exported has arrived too: "no span" is checked then.

use wasmedge_otel_tests::*;

const SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Runs `hello` with `vars` and returns the spans received; when `expect` is 0, after the metrics
/// (flushed last) have arrived.
fn hello_spans(vars: &[(&str, &str)], expect: usize) -> Vec<ReceivedSpan> {
    let c = collector();
    let out = run_configured(&example("hello"), &c, vars);
    assert_eq!(stdout_of(&out), HELLO_STDOUT, "{vars:?}");
    if expect > 0 {
        c.wait_for_spans(expect, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{vars:?}: {e}"));
    } else {
        wait_for_final_metrics(&c);
    }
    let spans = c.spans();
    assert_eq!(spans.len(), expect, "{vars:?}: {:?}", names(&spans));
    spans
}

/// A guest starting and ending `n` root spans named `root` (`parent` -1: each a new trace, unless
/// `TRACEPARENT` gives the run a remote parent). Exits 10 if a start fails, 11 if an end does.
fn roots_guest(n: u32) -> std::path::PathBuf {
    wat_start_guest(&format!("roots_{n}"), r#"(data (i32.const 0) "root")"#, &wat_loop(n, WAT_ROOT_SPAN))
}

/// Runs `roots_guest(n)` with `vars` and returns how many spans arrived (all of them trace roots).
fn sampled_roots(n: u32, vars: &[(&str, &str)]) -> usize {
    let c = collector();
    run_configured(&roots_guest(n), &c, vars);
    wait_for_final_metrics(&c);
    let spans = c.spans();
    assert!(spans.iter().all(|s| s.parent_span_id_hex().is_empty()), "{vars:?}: all roots");
    spans.len()
}

/// Checks that about half of 400 root spans are kept under `vars`. 400 independent traces, each
/// kept with probability 0.5: the count is binomial, mean 200, standard deviation
/// sqrt(400 * 0.5 * 0.5) = 10. 120..=280 is mean ± 8 sd; the chance of a correct plugin falling
/// outside is below 1e-14. An ignored argument (ratio 1.0) gives 400, an ignored sampler
/// (parentbased_always_on) gives 400 too.
fn assert_about_half_of_400_roots_kept(vars: &[(&str, &str)]) {
    let n = sampled_roots(400, vars);
    assert!((120..=280).contains(&n), "{vars:?}: {n} of 400 roots sampled at ratio 0.5");
}

// ---------------------------------------------------------------------------------------------
// Samplers without a remote parent

#[test]
fn always_off_exports_no_span_but_metrics_and_logs_still_arrive() {
    let c = collector();
    let out =
        Run::new(&example("metrics-demo"), &c.endpoint()).env("OTEL_TRACES_SAMPLER", "always_off").output();
    assert_exit(&out, 0);
    wait_until("metrics and 7 log records", ARRIVAL_TIMEOUT, || {
        last_metric(&c, "http.server.requests").is_some() && log_records(&c).len() >= 7
    });
    assert!(c.spans().is_empty(), "always_off samples nothing");
}

#[test]
fn traceidratio_half_keeps_about_half_of_400_roots() {
    assert_about_half_of_400_roots_kept(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
    ]);
}

#[test]
fn parentbased_traceidratio_half_keeps_about_half_of_400_roots() {
    // Roots follow the ratio.
    assert_about_half_of_400_roots_kept(&[
        ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
    ]);
}

#[test]
fn traceidratio_zero_keeps_no_root_and_one_keeps_all() {
    assert_eq!(
        sampled_roots(50, &[("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0")]),
        0
    );
    assert_eq!(
        sampled_roots(50, &[("OTEL_TRACES_SAMPLER", "TraceIdRatio"), ("OTEL_TRACES_SAMPLER_ARG", "1")]),
        50
    );
    // Without an argument the ratio is 1.0.
    assert_eq!(sampled_roots(50, &[("OTEL_TRACES_SAMPLER", "traceidratio")]), 50);
}

#[test]
fn parentbased_always_off_keeps_no_root() {
    hello_spans(&[("OTEL_TRACES_SAMPLER", "parentbased_always_off")], 0);
}

// ---------------------------------------------------------------------------------------------
// Samplers with a remote parent from TRACEPARENT

#[test]
fn parentbased_always_on_follows_an_unsampled_parent() {
    hello_spans(&[("OTEL_TRACES_SAMPLER", "parentbased_always_on"), ("TRACEPARENT", UNSAMPLED)], 0);
}

#[test]
fn parentbased_always_on_follows_a_sampled_parent() {
    let spans = hello_spans(&[("OTEL_TRACES_SAMPLER", "parentbased_always_on"), ("TRACEPARENT", SAMPLED)], 5);
    assert!(spans.iter().all(|s| s.trace_id_hex() == PARENT_TRACE));
}

#[test]
fn always_on_ignores_an_unsampled_parent() {
    // The default would drop every span here (the parent is not sampled).
    let spans = hello_spans(&[("OTEL_TRACES_SAMPLER", "always_on"), ("TRACEPARENT", UNSAMPLED)], 5);
    assert!(spans.iter().all(|s| s.trace_id_hex() == PARENT_TRACE), "still in the caller's trace");
}

#[test]
fn always_off_ignores_a_sampled_parent() {
    hello_spans(&[("OTEL_TRACES_SAMPLER", "always_off"), ("TRACEPARENT", SAMPLED)], 0);
}

#[test]
fn parentbased_always_off_follows_a_sampled_parent() {
    hello_spans(&[("OTEL_TRACES_SAMPLER", "parentbased_always_off"), ("TRACEPARENT", SAMPLED)], 5);
}

#[test]
fn parentbased_traceidratio_zero_follows_a_sampled_parent() {
    // Ratio 0 keeps no root of its own, but a sampled parent wins.
    let vars = [("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0")];
    hello_spans(&vars, 0);
    let spans = hello_spans(&[vars[0], vars[1], ("TRACEPARENT", SAMPLED)], 5);
    assert!(spans.iter().all(|s| s.trace_id_hex() == PARENT_TRACE));
}

#[test]
fn traceidratio_zero_ignores_a_sampled_parent() {
    // Not parent-based: the ratio decides even under a sampled parent.
    hello_spans(
        &[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
            ("TRACEPARENT", SAMPLED),
        ],
        0,
    );
}

// ---------------------------------------------------------------------------------------------
// Propagators

#[test]
fn propagators_none_ignores_traceparent() {
    // With no propagator, the process's TRACEPARENT is not read: a new trace starts.
    let spans = hello_spans(&[("OTEL_PROPAGATORS", "none"), ("TRACEPARENT", SAMPLED)], 5);
    assert_eq!(span(&spans, "hello").parent_span_id_hex(), "", "a new root");
    assert!(spans.iter().all(|s| s.trace_id_hex() != PARENT_TRACE));
}

#[test]
fn propagators_without_tracecontext_ignore_traceparent() {
    let spans = hello_spans(&[("OTEL_PROPAGATORS", "baggage"), ("TRACEPARENT", SAMPLED)], 5);
    assert_eq!(span(&spans, "hello").parent_span_id_hex(), "", "a new root");
}

#[test]
fn propagators_with_tracecontext_read_traceparent() {
    // The control for the two tests above.
    let spans = hello_spans(&[("OTEL_PROPAGATORS", "baggage,tracecontext"), ("TRACEPARENT", SAMPLED)], 5);
    assert_eq!(span(&spans, "hello").parent_span_id_hex(), "00f067aa0ba902b7");
}
