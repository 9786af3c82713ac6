//! Configuration of the export side, end to end: each `OTEL_EXPORTER_OTLP_*` option, the exporter
//! selection (`OTEL_*_EXPORTER`), `OTEL_SDK_DISABLED` and `WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT`, each
//! checked by what the real OTLP collector (or the `wasmedge` process's own output) sees. Every test
//! would fail if the plugin ignored the variable it is about.
//!
//! `metrics-demo` is the guest wherever all three signals matter: it exits normally after 5 spans,
//! 7 log records and its metrics (see the top of `examples/metrics-demo/src/main.rs`). A run ends
//! with a bounded flush of everything, so once `Run::output` returns, whatever the plugin exported
//! has been answered by the collector: "nothing arrived" is checked after the run and after the
//! signals that were expected have arrived.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmedge_otel_collector::{CollectorConfig, Received, Transport};
use wasmedge_otel_tests::*;

fn nothing_received(c: &Collector) -> bool {
    c.trace_requests().is_empty() && c.metric_requests().is_empty() && c.log_requests().is_empty()
}

/// The transports of every request received, per signal: (traces, metrics, logs).
fn transports(c: &Collector) -> (Vec<Transport>, Vec<Transport>, Vec<Transport>) {
    fn of<T>(r: Vec<Received<T>>) -> Vec<Transport> {
        r.iter().map(|r| r.transport).collect()
    }
    (of(c.trace_requests()), of(c.metric_requests()), of(c.log_requests()))
}

/// Every request of every signal as (signal, header value) for `name`.
fn header_values(c: &Collector, name: &str) -> Vec<(&'static str, Option<String>)> {
    let mut v = Vec::new();
    for r in c.trace_requests() {
        v.push(("traces", r.header(name).map(str::to_owned)));
    }
    for r in c.metric_requests() {
        v.push(("metrics", r.header(name).map(str::to_owned)));
    }
    for r in c.log_requests() {
        v.push(("logs", r.header(name).map(str::to_owned)));
    }
    v
}

fn both_transports() -> Collector {
    Collector::start_with(CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0"))
        .expect("start the gRPC + HTTP collector")
}

fn http_only() -> Collector {
    Collector::start_with(CollectorConfig::http("127.0.0.1:0")).expect("start the HTTP collector")
}

/// Runs `metrics-demo` exporting to `endpoint` with `vars`, checks that it exited 0 with its own
/// output, waits until `c` holds all its telemetry, and returns its stderr.
fn run_demo(c: &Collector, endpoint: &str, vars: &[(&str, &str)]) -> String {
    let out = Run::new(&example("metrics-demo"), endpoint).envs(vars).output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), DEMO_STDOUT, "{vars:?}");
    wait_for_demo(c);
    stderr
}

/// [`run_demo`] over OTLP/HTTP to the HTTP endpoint of `c`.
fn run_demo_over_http(c: &Collector, vars: &[(&str, &str)]) -> String {
    let vars: Vec<_> =
        [("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")].iter().chain(vars).copied().collect();
    run_demo(c, &c.http_endpoint().unwrap(), &vars)
}

/// Checks header `name` on every request `c` received: on a request of `signal` it must be
/// `want(signal)` (`None`: absent). `case` names the case in each failure message.
fn assert_header(c: &Collector, case: &str, name: &str, want: impl Fn(&str) -> Option<&'static str>) {
    for (signal, v) in header_values(c, name) {
        assert_eq!(v.as_deref(), want(signal), "{case}: {signal}: {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints

#[test]
fn generic_endpoint_carries_all_three_signals() {
    let c = collector();
    // Run::new sets OTEL_EXPORTER_OTLP_ENDPOINT; nothing else points anywhere but the default
    // (localhost:4317), where nothing of this test listens.
    run_demo(&c, &c.endpoint(), &[]);
    let (t, m, l) = transports(&c);
    assert!(t.iter().chain(&m).chain(&l).all(|t| *t == Transport::Grpc), "gRPC by default");
}

#[test]
fn signal_endpoints_override_the_generic_one() {
    let generic = collector();
    let traces = collector();
    let metrics = collector();
    let logs = collector();
    let out = Run::new(&example("metrics-demo"), &generic.endpoint())
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces.endpoint())
        .env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &metrics.endpoint())
        .env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &logs.endpoint())
        .output();
    assert_exit(&out, 0);
    traces.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("spans at the traces endpoint");
    wait_until("metrics at the metrics endpoint", ARRIVAL_TIMEOUT, || !metrics.metric_requests().is_empty());
    wait_until("7 records at the logs endpoint", ARRIVAL_TIMEOUT, || log_records(&logs).len() >= 7);

    assert!(nothing_received(&generic), "the generic endpoint got nothing: every signal has its own");
    assert!(traces.metric_requests().is_empty() && traces.log_requests().is_empty());
    assert!(metrics.trace_requests().is_empty() && metrics.log_requests().is_empty());
    assert!(logs.trace_requests().is_empty() && logs.metric_requests().is_empty());
}

#[test]
fn traces_endpoint_alone_moves_only_traces() {
    let generic = collector();
    let traces = collector();
    let out = Run::new(&example("metrics-demo"), &generic.endpoint())
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces.endpoint())
        .output();
    assert_exit(&out, 0);
    traces.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("spans at the traces endpoint");
    wait_until("metrics and logs at the generic endpoint", ARRIVAL_TIMEOUT, || {
        !generic.metric_requests().is_empty() && log_records(&generic).len() >= 7
    });
    assert!(generic.trace_requests().is_empty(), "no span at the generic endpoint");
    assert!(traces.metric_requests().is_empty() && traces.log_requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Protocol

#[test]
fn http_protobuf_sends_every_signal_over_otlp_http_with_the_signal_paths() {
    // An HTTP-only collector answers 404 to anything but POST /v1/traces, /v1/metrics, /v1/logs:
    // data arrives only if the plugin speaks OTLP/HTTP and appends the signal's path to the
    // generic endpoint.
    let c = http_only();
    run_demo_over_http(&c, &[]);
    let (t, m, l) = transports(&c);
    assert!(t.iter().chain(&m).chain(&l).all(|t| *t == Transport::Http), "{t:?} {m:?} {l:?}");
    assert_header(&c, "http/protobuf", "content-type", |_| Some("application/x-protobuf"));
}

#[test]
fn generic_http_endpoint_with_a_trailing_path_gets_no_double_slash() {
    let c = http_only();
    let base = format!("{}/", c.http_endpoint().unwrap());
    let out = Run::new(&example("hello"), &base).env("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/PROTOBUF").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("spans at {base}v1/traces");
    assert!(c.trace_requests().iter().all(|r| r.transport == Transport::Http));
}

#[test]
fn per_signal_protocol_traces_over_http_the_rest_over_grpc() {
    let c = both_transports();
    let traces_url = format!("{}/v1/traces", c.http_endpoint().unwrap());
    run_demo(
        &c,
        &c.grpc_endpoint().unwrap(),
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces_url),
        ],
    );
    let (t, m, l) = transports(&c);
    assert!(t.iter().all(|t| *t == Transport::Http), "traces over HTTP: {t:?}");
    assert!(m.iter().chain(&l).all(|t| *t == Transport::Grpc), "metrics and logs over gRPC: {m:?} {l:?}");
}

#[test]
fn per_signal_protocol_metrics_over_grpc_the_rest_over_http() {
    let c = both_transports();
    run_demo_over_http(
        &c,
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &c.grpc_endpoint().unwrap()),
        ],
    );
    let (t, m, l) = transports(&c);
    assert!(t.iter().chain(&l).all(|t| *t == Transport::Http), "traces and logs over HTTP: {t:?} {l:?}");
    assert!(m.iter().all(|t| *t == Transport::Grpc), "metrics over gRPC: {m:?}");
}

#[test]
fn per_signal_protocol_logs_over_http_with_the_generic_endpoint_plus_path() {
    // Only logs are HTTP; the generic endpoint is the HTTP base, so traces and metrics need their
    // own gRPC endpoints and logs get /v1/logs appended to the generic one.
    let c = both_transports();
    let grpc = c.grpc_endpoint().unwrap();
    run_demo(
        &c,
        &c.http_endpoint().unwrap(),
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &grpc),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", &grpc),
        ],
    );
    let (t, m, l) = transports(&c);
    assert!(l.iter().all(|t| *t == Transport::Http), "logs over HTTP: {l:?}");
    assert!(t.iter().chain(&m).all(|t| *t == Transport::Grpc), "{t:?} {m:?}");
}

// ---------------------------------------------------------------------------------------------
// Headers

const HEADERS: &str = "api-key=secret%20value,x-team=core";

/// Checks the headers [`HEADERS`] on every request of every signal `c` received, after a run of
/// `metrics-demo` (so every signal arrived), over `transport`.
fn check_generic_headers(c: &Collector, transport: &str) {
    for signal in ["traces", "metrics", "logs"] {
        assert!(
            header_values(c, "api-key").iter().any(|(s, _)| *s == signal),
            "{transport}: {signal} arrived"
        );
    }
    assert_header(c, &format!("{transport}, percent-decoded"), "api-key", |_| Some("secret value"));
    assert_header(c, transport, "x-team", |_| Some("core"));
}

#[test]
fn headers_arrive_as_grpc_metadata() {
    let c = collector();
    let stderr = run_demo(&c, &c.endpoint(), &[("OTEL_EXPORTER_OTLP_HEADERS", HEADERS)]);
    assert!(!stderr.contains("secret"), "header values never printed: {stderr}");
    assert!(c.trace_requests().iter().all(|r| r.transport == Transport::Grpc));
    check_generic_headers(&c, "grpc");
}

#[test]
fn headers_arrive_as_http_headers() {
    let c = http_only();
    run_demo_over_http(&c, &[("OTEL_EXPORTER_OTLP_HEADERS", HEADERS)]);
    assert!(c.trace_requests().iter().all(|r| r.transport == Transport::Http));
    check_generic_headers(&c, "http/protobuf");
}

#[test]
fn signal_headers_replace_the_generic_ones() {
    let vars = [
        ("OTEL_EXPORTER_OTLP_HEADERS", HEADERS),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=traces%2Fteam"),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-logs=1"),
    ];
    for http in [false, true] {
        let case = format!("http={http}");
        let c = if http { http_only() } else { collector() };
        if http {
            run_demo_over_http(&c, &vars);
        } else {
            run_demo(&c, &c.endpoint(), &vars);
        }
        assert_header(&c, &case, "x-team", |signal| match signal {
            "traces" => Some("traces/team"),
            "metrics" => Some("core"),
            _ => None,
        });
        let api_key_only_where_not_replaced = format!("{case}, api-key only where not replaced");
        assert_header(&c, &api_key_only_where_not_replaced, "api-key", |signal| {
            (signal == "metrics").then_some("secret value")
        });
        assert_header(&c, &case, "x-logs", |signal| (signal == "logs").then_some("1"));
    }
}

// ---------------------------------------------------------------------------------------------
// Compression

#[test]
fn gzip_compression_over_http_is_seen_by_the_collector() {
    let c = http_only();
    run_demo_over_http(&c, &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")]);
    assert_header(&c, "generic gzip", "content-encoding", |_| Some("gzip"));
}

#[test]
fn signal_compression_none_overrides_a_generic_gzip() {
    let c = http_only();
    run_demo_over_http(
        &c,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"), ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none")],
    );
    assert_header(&c, "generic gzip, metrics none", "content-encoding", |signal| {
        (signal != "metrics").then_some("gzip")
    });
}

#[test]
fn signal_compression_gzip_without_a_generic_one() {
    let c = http_only();
    run_demo_over_http(
        &c,
        &[("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"), ("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "GZIP")],
    );
    assert_header(&c, "traces and logs gzip", "content-encoding", |signal| {
        (signal != "metrics").then_some("gzip")
    });
}

#[test]
fn gzip_compression_over_grpc_is_seen_by_the_collector() {
    // tonic hands the server the request's `grpc-encoding` header in its metadata (it strips only
    // te, user-agent, content-type and the grpc-status/-message headers), so the collector records
    // it. Without compression the header is absent.
    for gzip in [false, true] {
        let c = collector();
        let vars: &[(&str, &str)] = if gzip { &[("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")] } else { &[] };
        run_demo(&c, &c.endpoint(), vars);
        assert_header(&c, &format!("gzip={gzip}"), "grpc-encoding", |_| gzip.then_some("gzip"));
    }
}

// ---------------------------------------------------------------------------------------------
// Timeouts

/// A TCP listener on 127.0.0.1 that accepts connections and holds them without ever reading or
/// answering: an export to it can only end by its timeout. Its thread stops when this is dropped,
/// and in any case after twice the run timeout.
struct BlackHole {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl BlackHole {
    fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the black hole");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + 2 * RUN_TIMEOUT;
            let mut held = Vec::new();
            while !stopping.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        BlackHole { addr, stop, thread: Some(thread) }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// How these tests tell an applied timeout from an ignored one without asserting on speed: the
// exit flush is bounded by WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT, set here to 4 s, and prints "did not
// finish within" when that bound is hit. With an OTLP timeout of 200 ms, each export to the black
// hole fails after 200 ms with the exporter's own error ("... export failed ..."), and the flush
// reports the failures after about 0.4 s. Were the OTLP timeout ignored, the default of 10 s would
// apply: the SDK's flush of spans gives up after its own 5 s ("Timeout(5s)"), so the 4 s exit bound
// is hit first and the flush failures are never reported. The margin is ten times the expected
// time.

/// The line reporting that flushing `what` at exit failed, if any.
fn flush_failure<'a>(stderr: &'a str, what: &str) -> Option<&'a str> {
    stderr.lines().find(|l| l.starts_with(&format!("wasmedge_otel: flushing {what} at exit failed")))
}

/// Runs the example `guest` ("hello" or "metrics-demo") against a fresh [`BlackHole`] with
/// `vars` and the exit flush bounded by `exit_bound_ms`, checks that it exited 0 with the guest's
/// own output (the guest is unaffected), and returns its stderr.
fn run_into_black_hole(guest: &str, exit_bound_ms: &str, vars: &[(&str, &str)]) -> String {
    let hole = BlackHole::start();
    let out = Run::new(&example(guest), &hole.endpoint())
        .envs(vars)
        .env("WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT", exit_bound_ms)
        .output();
    let stderr = assert_exit(&out, 0);
    let expected = if guest == "hello" { HELLO_STDOUT } else { DEMO_STDOUT };
    assert_eq!(stdout_of(&out), expected, "{vars:?}: the guest is unaffected");
    stderr
}

/// The line reporting that flushing spans at exit failed by the exporter's own error, not the
/// SDK's 5 s flush timeout (see above), failing the test if there is none.
fn spans_export_failure(stderr: &str) -> &str {
    let spans = flush_failure(stderr, "spans").unwrap_or_else(|| panic!("failed flush reported: {stderr}"));
    assert!(
        spans.contains("export failed") && !spans.contains("Timeout(5s)"),
        "the exporter's timeout: {spans}"
    );
    spans
}

#[test]
fn otlp_timeout_bounds_each_export_to_a_silent_collector() {
    let stderr = run_into_black_hole(
        "hello",
        "4000",
        &[("OTEL_EXPORTER_OTLP_TIMEOUT", "200"), ("OTEL_LOGS_EXPORTER", "none")],
    );
    assert!(!stderr.contains("did not finish within"), "each export ended by its 200 ms timeout: {stderr}");
    spans_export_failure(&stderr);
    assert!(flush_failure(&stderr, "metrics").is_some(), "{stderr}");
}

#[test]
fn signal_timeout_overrides_the_generic_one() {
    // Generic 60 s (would outlast the 4 s exit bound), traces 200 ms; metrics and logs off.
    let stderr = run_into_black_hole(
        "hello",
        "4000",
        &[
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000"),
            ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "200"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert!(!stderr.contains("did not finish within"), "{stderr}");
    spans_export_failure(&stderr);
}

#[test]
fn metrics_timeout_applies_to_the_metrics_export() {
    // Only metrics are exported, with a 200 ms timeout; the default 10 s would outlast the exit
    // bound.
    let stderr = run_into_black_hole(
        "hello",
        "4000",
        &[
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "200"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "none"),
        ],
    );
    assert!(!stderr.contains("did not finish within"), "{stderr}");
    assert!(flush_failure(&stderr, "metrics").is_some(), "{stderr}");
}

#[test]
fn logs_timeout_applies_to_the_logs_export() {
    let stderr = run_into_black_hole(
        "metrics-demo",
        "4000",
        &[
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "200"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    );
    assert!(!stderr.contains("did not finish within"), "{stderr}");
    let logs =
        flush_failure(&stderr, "log records").unwrap_or_else(|| panic!("failed flush reported: {stderr}"));
    assert!(!logs.contains("Timeout(5s)"), "{logs}");
}

#[test]
fn otlp_timeout_zero_means_no_limit() {
    // 0 is "no limit": the export to the black hole never ends, so the 1 s exit bound is what
    // ends the flush. Were 0 taken as 0 ms, every export would fail at once and the flush would
    // finish, reporting failures, with no "did not finish" line.
    let stderr = run_into_black_hole("hello", "1000", &[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]);
    assert!(stderr.contains("did not finish within 1s"), "{stderr}");
    assert!(flush_failure(&stderr, "spans").is_none(), "no export gave up: {stderr}");
}

#[test]
fn exit_flush_timeout_bounds_the_flush_at_exit() {
    // The exports to the black hole would take the default 10 s each; the exit flush gives up
    // after 1 s and says so, naming the bound it used (the default would print 5s).
    let stderr = run_into_black_hole("hello", "1000", &[]);
    let lines: Vec<_> = stderr.lines().filter(|l| l.contains("did not finish within")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("within 1s (WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT)"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Plain text and TLS

#[test]
fn insecure_makes_a_schemeless_grpc_endpoint_plain_text() {
    let c = collector();
    let schemeless = c.local_addr().to_string();
    let out = Run::new(&example("hello"), &schemeless).env("OTEL_EXPORTER_OTLP_INSECURE", "true").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("plain-text gRPC to host:port");

    // Without it, host:port means TLS, which the plain-text collector cannot accept: nothing is
    // stored, the failure is reported, and the run is unaffected.
    let c = collector();
    let out = Run::new(&example("hello"), &c.local_addr().to_string())
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), HELLO_STDOUT);
    assert!(c.spans().is_empty(), "TLS to a plain-text server stores nothing");
    assert!(
        stderr.contains("wasmedge_otel: flushing spans at exit failed"),
        "the failure is reported: {stderr}"
    );
}

#[test]
fn signal_insecure_overrides_the_generic_one() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.local_addr().to_string())
        .env("OTEL_EXPORTER_OTLP_INSECURE", "false")
        .env("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true")
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("traces over plain text");
}

#[test]
fn missing_certificate_file_is_reported_and_the_run_goes_on() {
    // No TLS collector is needed: the CA file is read when the exporter is built, so a missing
    // file fails there, with a clear line, and only that signal is dropped. The metrics go to a
    // plain-text collector and still arrive.
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://127.0.0.1:9")
        .env("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/nonexistent.pem")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), HELLO_STDOUT);
    let line =
        exporter_build_failure(&stderr, "spans").unwrap_or_else(|| panic!("a clear warning: {stderr}"));
    assert!(line.contains("/nonexistent.pem"), "names the file: {line}");
    wait_until("metrics still arrive", ARRIVAL_TIMEOUT, || !c.metric_requests().is_empty());
    assert!(c.spans().is_empty());
}

#[test]
fn generic_certificate_applies_to_every_grpc_signal() {
    let out = Run::new(&example("metrics-demo"), "https://127.0.0.1:9")
        .env("OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent.pem")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), DEMO_STDOUT);
    for signal in ["spans", "metrics", "logs"] {
        let line = exporter_build_failure(&stderr, signal)
            .unwrap_or_else(|| panic!("{signal}: a clear warning: {stderr}"));
        assert!(line.contains("/nonexistent.pem"), "{signal}: {line}");
    }
}

/// Runs `hello` with `vars` (metrics off) against an HTTPS endpoint where nothing listens, checks
/// that the guest is unaffected, and returns the warning that the spans exporter could not be
/// built, failing the test if there is none.
fn spans_exporter_warning(vars: &[(&str, &str)]) -> String {
    let out = Run::new(&example("hello"), "https://127.0.0.1:9")
        .envs(vars)
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), HELLO_STDOUT, "{vars:?}");
    let line = exporter_build_failure(&stderr, "spans");
    line.unwrap_or_else(|| panic!("{vars:?}: a clear warning: {stderr}")).to_owned()
}

#[test]
fn certificate_files_are_read_for_otlp_http_too() {
    // OTLP/HTTP reads the same files when its exporter is built: a missing CA file, or a key
    // without its certificate, is reported the same way, and the run goes on. (The handshakes
    // themselves are tested against a TLS collector in config_tls.rs.)
    let line = spans_exporter_warning(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/nonexistent.pem"),
    ]);
    assert!(line.contains("/nonexistent.pem"), "missing CA file: {line}");

    let line = spans_exporter_warning(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent-key.pem"),
    ]);
    assert!(line.contains("CLIENT_CERTIFICATE"), "key without its certificate: {line}");
}

#[test]
fn client_certificate_and_key_files_are_read() {
    // Both files given, neither exists: the exporter cannot be built and says which file. Only
    // one given: refused with a clear message.
    let line = spans_exporter_warning(&[
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/nonexistent-client.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent-key.pem"),
    ]);
    let names_a_file = line.contains("/nonexistent-client.pem") || line.contains("/nonexistent-key.pem");
    assert!(names_a_file, "both files missing: {line}");

    let line = spans_exporter_warning(&[("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/nonexistent-key.pem")]);
    assert!(line.contains("CLIENT_CERTIFICATE"), "key without its certificate: {line}");
}

// ---------------------------------------------------------------------------------------------
// Exporter selection and OTEL_SDK_DISABLED

#[test]
fn traces_exporter_none_keeps_metrics_and_logs() {
    let c = collector();
    let out = Run::new(&example("metrics-demo"), &c.endpoint()).env("OTEL_TRACES_EXPORTER", "none").output();
    assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), DEMO_STDOUT);
    wait_until("metrics and 7 log records", ARRIVAL_TIMEOUT, || {
        last_metric(&c, "http.server.requests").is_some() && log_records(&c).len() >= 7
    });
    assert!(c.trace_requests().is_empty(), "no span exported");
    // The records still carry the trace context of the (unexported) spans they were emitted in.
    assert!(log_records(&c).iter().filter(|l| !l.span_id.is_empty()).count() == 6);
}

#[test]
fn metrics_exporter_none_keeps_traces_and_logs() {
    let c = collector();
    let out = Run::new(&example("metrics-demo"), &c.endpoint()).env("OTEL_METRICS_EXPORTER", "none").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    wait_until("7 log records", ARRIVAL_TIMEOUT, || log_records(&c).len() >= 7);
    assert!(c.metric_requests().is_empty(), "no metric exported");
}

#[test]
fn logs_exporter_none_keeps_traces_and_metrics() {
    let c = collector();
    let out = Run::new(&example("metrics-demo"), &c.endpoint()).env("OTEL_LOGS_EXPORTER", "none").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap();
    wait_until("metrics", ARRIVAL_TIMEOUT, || last_metric(&c, "http.server.requests").is_some());
    assert!(c.log_requests().is_empty(), "no log record exported");
}

#[test]
fn console_traces_exporter_prints_spans_on_stdout_and_sends_nothing() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint())
        .env("OTEL_TRACES_EXPORTER", "console")
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    assert_exit(&out, 0);
    let text = stdout_of(&out);
    assert!(text.contains(HELLO_STDOUT), "the guest's own line: {text}");
    for name in ["hello", "load-config", "compute", "sum", "respond"] {
        assert!(text.contains(&format!("\tName         : {name}\n")), "span {name} printed: {text}");
    }
    assert!(text.contains("config.path"), "attributes printed: {text}");
    assert!(nothing_received(&c), "console only: nothing reaches the collector");
}

#[test]
fn console_metrics_and_logs_exporters_print_on_stdout() {
    let c = collector();
    let out = Run::new(&example("metrics-demo"), &c.endpoint())
        .env("OTEL_METRICS_EXPORTER", "console")
        .env("OTEL_LOGS_EXPORTER", "console")
        .output();
    assert_exit(&out, 0);
    let text = stdout_of(&out);
    assert!(text.contains("http.server.requests"), "metric printed: {text}");
    assert!(text.contains("startup complete"), "log body printed: {text}");
    assert!(text.contains("request failed"), "log body printed: {text}");
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("traces still over OTLP");
    assert!(c.metric_requests().is_empty() && c.log_requests().is_empty(), "console only");
}

#[test]
fn exporter_list_otlp_and_console_does_both() {
    let c = collector();
    let out = Run::new(&example("hello"), &c.endpoint()).env("OTEL_TRACES_EXPORTER", "otlp,console").output();
    assert_exit(&out, 0);
    let text = stdout_of(&out);
    assert!(text.contains("\tName         : load-config\n"), "{text}");
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("and over OTLP");
}

#[test]
fn sdk_disabled_exports_no_signal_and_leaves_the_guest_alone() {
    let c = collector();
    let out = Run::new(&example("metrics-demo"), &c.endpoint()).env("OTEL_SDK_DISABLED", "TRUE").output();
    let stderr = assert_exit(&out, 0);
    assert_eq!(stdout_of(&out), DEMO_STDOUT);
    assert_eq!(stderr, "", "nothing to report");
    assert!(nothing_received(&c), "no span, metric or log record");
    assert_eq!(c.request_count(), 0);
}
