//! Secrets stay on the host (issue 6, item 6). The exporter configuration (endpoint, headers with
//! API keys) is read from the `wasmedge` process's environment; no host function gives it to a
//! guest, and nothing the guest can observe contains it: not what `span_traceparent` and
//! `span_tracestate` write, not the guest's WASI environment, not its linear memory after every
//! host call, not the run's stdout or stderr (even with `OTEL_LOG_LEVEL=debug` and a malformed
//! header that triggers a warning). The collector does receive it, as gRPC metadata or HTTP
//! header.
//!
//! ```sh
//! cargo test -p wasmedge-otel-tests --test reliability_secrets -- --nocapture
//! ```

#[path = "reliability_support.rs"]
mod rel;

use rel::*;
use wasmedge_otel_abi::{ValType, FUNCTIONS};
use wasmedge_otel_collector::CollectorConfig;
use wasmedge_otel_tests::*;

/// What each host function gives back to the guest. A new host function must be added here,
/// after checking that it reveals nothing of the host's configuration.
const RETURNS: &[(&str, &str)] = &[
    ("abi_version", "the ABI version, a constant"),
    ("span_start", "a span handle or a status"),
    ("span_end", "a status"),
    ("span_set_attributes", "a status"),
    ("span_add_event", "a status"),
    ("span_set_status", "a status"),
    ("span_record_exception", "a status"),
    ("span_current", "a span handle or 0"),
    ("instrument_create", "an instrument handle or a status"),
    ("metric_record_i64", "a status"),
    ("metric_record_f64", "a status"),
    ("metric_bind", "a bound instrument handle or a status"),
    ("metric_bound_record_i64", "a status"),
    ("metric_bound_record_f64", "a status"),
    ("log_emit", "a status"),
    ("span_traceparent", "writes the span's W3C traceparent into the guest's buffer; its length or a status"),
    ("span_tracestate", "writes the span's W3C tracestate into the guest's buffer; its length or a status"),
    ("span_start_remote", "a span handle or a status"),
    ("func_enter", "a status"),
    ("func_exit", "a status"),
    ("func_names", "a status"),
];

/// The only host functions that write into guest memory.
const WRITERS: &[&str] = &["span_traceparent", "span_tracestate"];

#[test]
fn no_host_function_returns_configuration() {
    for f in FUNCTIONS {
        let what =
            RETURNS.iter().find(|(name, _)| *name == f.name).map(|(_, what)| *what).unwrap_or_else(|| {
                panic!(
                    "new host function {:?}: check that it reveals no host configuration, then list what it \
                 returns in RETURNS (tests/reliability_secrets.rs)",
                    f.name
                )
            });
        assert_ne!(f.result, ValType::F64, "{}: returns {what}", f.name);
        let lower = f.name.to_ascii_lowercase();
        for word in ["config", "env", "header", "endpoint", "secret", "token", "setting", "option", "getvar"]
        {
            assert!(!lower.contains(word), "{} looks like it returns configuration", f.name);
        }
        // A guest buffer the host writes into is named `buf_*`; every other pointer is read only.
        let writes = f.params.iter().any(|p| p.name.starts_with("buf_"));
        assert_eq!(writes, WRITERS.contains(&f.name), "{}: writes guest memory? ({what})", f.name);
    }
    for writer in WRITERS {
        assert!(FUNCTIONS.iter().any(|f| f.name == *writer), "{writer} is still a host function");
    }
}

const SECRET: &str = "s3cr3t";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "vendor=v1,other=v2";

/// A guest that records a span (child of the process's `TRACEPARENT`), a log record and a counter,
/// prints the `traceparent` and `tracestate` the plugin writes for the current span and for the
/// process's root context, makes a refused call (printed on stderr with `OTEL_LOG_LEVEL=debug`),
/// prints its whole WASI environment, and finally dumps its whole linear memory on stdout.
fn probe_guest() -> std::path::PathBuf {
    let wat = format!(
        r#"(module
  {imports}
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  {helpers}
  (memory (export "memory") 1)
  (data (i32.const 0) "probe")
  (data (i32.const 16) "\n")
  (data (i32.const 32) "c")
  (data (i32.const 48) "ENV:")
  (func $headers (param $span i64)
    (local $n i32)
    (local.set $n (call $span_traceparent (local.get $span) (i32.const 1024) (i32.const 64)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $proc_exit (i32.const 20))))
    (call $print (i32.const 1024) (local.get $n))
    (call $print (i32.const 16) (i32.const 1))
    (local.set $n (call $span_tracestate (local.get $span) (i32.const 1100) (i32.const 600)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $proc_exit (i32.const 21))))
    (call $print (i32.const 1100) (local.get $n))
    (call $print (i32.const 16) (i32.const 1)))
  (func (export "_start")
    (local $span i64) (local $counter i64)
    ;; Before any span: the process's root context.
    (call $headers (i64.const 0))
    (local.set $span (call $span_start (i32.const 0) (i32.const 5) (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0)))
    (if (i64.le_s (local.get $span) (i64.const 0)) (then (call $proc_exit (i32.const 10))))
    (call $headers (i64.const 0))
    (call $headers (local.get $span))
    (drop (call $log_emit (i32.const 9) (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0)))
    (local.set $counter (call $instrument_create (i32.const 0) (i32.const 0) (i32.const 32) (i32.const 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
    (drop (call $metric_record_i64 (local.get $counter) (i64.const 1) (i32.const 0) (i32.const 0)))
    ;; Refused: printed on stderr with OTEL_LOG_LEVEL=debug.
    (drop (call $span_end (i64.const 12345)))
    (if (i32.ne (call $span_end (local.get $span)) (i32.const 0)) (then (call $proc_exit (i32.const 11))))
    ;; The WASI environment: count at 2000, size at 2004, pointers at 2048, strings at 8192.
    (if (i32.ne (call $environ_sizes_get (i32.const 2000) (i32.const 2004)) (i32.const 0)) (then (call $proc_exit (i32.const 12))))
    (if (i32.gt_u (i32.load (i32.const 2004)) (i32.const 40000)) (then (call $proc_exit (i32.const 13))))
    (if (i32.gt_u (i32.load (i32.const 2000)) (i32.const 1000)) (then (call $proc_exit (i32.const 14))))
    (if (i32.ne (call $environ_get (i32.const 2048) (i32.const 8192)) (i32.const 0)) (then (call $proc_exit (i32.const 15))))
    (call $print (i32.const 48) (i32.const 4))
    (call $print (i32.const 8192) (i32.load (i32.const 2004)))
    (call $print (i32.const 16) (i32.const 1))
    ;; Everything the guest can see of its own memory after all those host calls.
    (call $print (i32.const 0) (i32.const 65536))
  )
)"#,
        imports = wat_imports(),
        helpers = WAT_HELPERS,
    );
    wat_guest("secret_probe", &wat)
}

fn secrets_stay_on_the_host(http: bool) {
    let c = if http {
        Collector::start_with(CollectorConfig::http("127.0.0.1:0")).expect("start the HTTP collector")
    } else {
        collector()
    };
    let endpoint = if http { c.http_endpoint().unwrap() } else { c.endpoint() };
    // The second pair is malformed (a space in the name): the plugin warns, naming no value.
    let headers = format!("api-key={SECRET},bad key={SECRET}");
    let (out, _, _) = run_measured(
        &probe_guest(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", if http { "http/protobuf" } else { "grpc" }),
            ("OTEL_EXPORTER_OTLP_HEADERS", &headers),
            ("OTEL_LOG_LEVEL", "debug"),
            ("TRACEPARENT", TRACEPARENT),
            ("TRACESTATE", TRACESTATE),
        ],
    );
    let stderr = assert_exit(&out, 0);
    let label = if http { "OTLP/HTTP" } else { "OTLP/gRPC" };

    let secret = SECRET.as_bytes();
    let contains = |hay: &[u8]| hay.windows(secret.len()).any(|w| w == secret);
    assert!(!contains(&out.stdout), "{label}: the secret reached the guest (stdout: memory, env, headers)");
    assert!(!contains(&out.stderr), "{label}: the secret was printed: {stderr}");
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_HEADERS"),
        "{label}: the malformed pair is warned about: {stderr}"
    );
    assert!(stderr.contains("span_end refused"), "{label}: debug output was on: {stderr}");

    // What the guest saw: trace context only.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some(TRACEPARENT), "{label}: root context");
    assert_eq!(lines.next(), Some(TRACESTATE));
    for _ in 0..2 {
        let tp = lines.next().unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && tp.ends_with("-01") && tp.len() == 55,
            "{label}: the span's traceparent: {tp}"
        );
        assert_eq!(lines.next(), Some(TRACESTATE), "{label}: the propagated tracestate");
    }
    let env = lines.next().unwrap();
    assert!(env.starts_with("ENV:"), "{label}: {env}");
    assert!(!env.contains("OTEL_"), "{label}: the guest's WASI environment holds no OTEL_ variable: {env}");

    // The collector got the secret, with every signal.
    c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
    wait_for_metrics_and_logs(&c);
    let mut seen = 0;
    for value in c
        .trace_requests()
        .iter()
        .map(|r| r.header("api-key").map(str::to_owned))
        .chain(c.metric_requests().iter().map(|r| r.header("api-key").map(str::to_owned)))
        .chain(c.log_requests().iter().map(|r| r.header("api-key").map(str::to_owned)))
    {
        assert_eq!(value.as_deref(), Some(SECRET), "{label}: the collector receives the header");
        seen += 1;
    }
    assert!(seen >= 3, "{label}: {seen} requests");
    println!("FIGURE secrets {label}: {seen} export requests carried api-key; stdout ({} bytes, incl. the guest's whole memory) and stderr ({} bytes) never contain it",
        out.stdout.len(), out.stderr.len());
}

#[test]
fn headers_reach_the_collector_and_never_the_guest_over_grpc() {
    secrets_stay_on_the_host(false);
}

#[test]
fn headers_reach_the_collector_and_never_the_guest_over_http() {
    secrets_stay_on_the_host(true);
}
