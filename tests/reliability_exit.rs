//! Exit is bounded whatever the collector does (issue 6, item 2). The collector-down case of each
//! exit path is covered by `trace_exit_paths` and `reliability_signals`; this adds a collector that
//! accepts connections and never answers, for each signal alone and for all three together, and
//! the same runs with the collector down, for the figures.
//!
//! No assertion is on speed: the run must end within the harness's `RUN_TIMEOUT`, the guest's
//! stdout is unchanged, and the loss is reported. The time to exit is printed (`FIGURE` lines, see
//! `docs/reliability.md`):
//!
//! ```sh
//! cargo test -p wasmedge-otel-tests --test reliability_exit -- --nocapture --test-threads=1
//! ```

#[path = "reliability_support.rs"]
mod rel;

use rel::*;
use wasmedge_otel_tests::*;

/// The signals exported, as the exporter variables that switch the others off.
const SIGNALS: [(&str, &[(&str, &str)]); 4] = [
    ("traces", &[("OTEL_METRICS_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")]),
    ("metrics", &[("OTEL_TRACES_EXPORTER", "none"), ("OTEL_LOGS_EXPORTER", "none")]),
    ("logs", &[("OTEL_TRACES_EXPORTER", "none"), ("OTEL_METRICS_EXPORTER", "none")]),
    ("all three", &[]),
];

/// The lines in which the plugin reports that telemetry was not delivered.
fn loss_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.starts_with("wasmedge_otel: telemetry lost")
                || l.starts_with("wasmedge_otel: the exit flush did not finish")
                || (l.starts_with("wasmedge_otel: flushing") && l.contains("failed"))
        })
        .collect()
}

fn exit_is_bounded(label: &str, endpoint: &str) {
    for (signal, off) in SIGNALS {
        let mut env = vec![("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)];
        env.extend_from_slice(off);
        let (out, took, _) = run_measured(&example("metrics-demo"), &env);
        let stderr = assert_exit(&out, 0);
        assert_eq!(String::from_utf8_lossy(&out.stdout), DEMO_STDOUT, "{label}, {signal}: guest unaffected");
        let lines = loss_lines(&stderr);
        assert!(!lines.is_empty(), "{label}, {signal}: the loss is reported: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        println!("FIGURE exit {label}, {signal}: {took:.2?}; {}", lines.join(" | "));
    }
}

#[test]
fn exit_is_bounded_when_the_collector_never_answers_for_every_signal() {
    let hole = BlackHole::start();
    exit_is_bounded("never answering", &hole.endpoint());
    assert!(hole.accepted() >= 1);
}

#[test]
fn exit_is_bounded_when_the_collector_is_down_for_every_signal() {
    exit_is_bounded("collector down", &dead_endpoint());
}

#[test]
fn exit_flush_timeout_shortens_the_wait_on_a_collector_that_never_answers() {
    // WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT=1000: all three signals, the exit flush gives up after 1 s
    // and says so.
    let hole = BlackHole::start();
    let (out, took, _) = run_measured(
        &example("metrics-demo"),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &hole.endpoint()), ("WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT", "1000")],
    );
    let stderr = assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), DEMO_STDOUT);
    assert!(stderr.contains("did not finish within 1s"), "{stderr}");
    println!("FIGURE exit never answering, all three, WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT=1000: {took:.2?}");
}
