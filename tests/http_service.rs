//! The `http-service` example as a real service: `wasmedge` runs it with the plugin, the test talks
//! HTTP/1.1 to it over 127.0.0.1, and the collector receives the W3C-continued traces, the
//! semantic-convention attributes, the request metrics and the log records. Two instances make one
//! trace across two services; an unsampled caller gets no spans but is still counted.
//!
//! Each service exits by itself after `--max-requests` (so the plugin's exit flush runs), and is
//! killed if it is still running when its test ends, however it ends.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as N;
use wasmedge_otel_tests::*;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

// OTLP span kinds.
const SERVER: i32 = 2;
const CLIENT: i32 = 3;

/// Longest a service may take to start listening, and then to finish after its last request.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);

/// A free port on 127.0.0.1: bound, read, released.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()).expect("free port").port()
}

/// A running `http-service` guest under `wasmedge` with the plugin; killed when dropped.
struct Service {
    child: Child,
    port: u16,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Service {
    /// Starts the service on a free port, exporting to `endpoint` as `service_name`, to exit after
    /// `max_requests` requests (or 30 s without a connection), and waits until it accepts connections.
    fn start(endpoint: &str, service_name: &str, max_requests: u32, guest_env: &[(&str, &str)]) -> Service {
        let port = free_port();
        let mut cmd = Command::new("wasmedge");
        // The same known configuration as the support crate's `Run`.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("OTEL_") || key == "TRACEPARENT" {
                cmd.env_remove(key);
            }
        }
        cmd.env("WASMEDGE_PLUGIN_PATH", plugin_dir())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env("OTEL_SERVICE_NAME", service_name);
        // The guest's own environment is what `--env` gives it.
        cmd.args(["--env", &format!("PORT={port}"), "--env", "IDLE_EXIT=30"]);
        for (key, value) in guest_env {
            cmd.args(["--env", &format!("{key}={value}")]);
        }
        cmd.arg(example("http-service")).args(["--max-requests", &max_requests.to_string()]);
        let stdout = scratch_dir().join(format!("http-service-{port}.out"));
        let stderr = scratch_dir().join(format!("http-service-{port}.err"));
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"));
        let child = cmd.spawn().expect("spawn wasmedge (is it installed? run `make setup`)");
        let mut service = Service { child, port, stdout, stderr };
        service.wait_until_accepting();
        service
    }

    fn output(&self) -> (String, String) {
        let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        (read(&self.stdout), read(&self.stderr))
    }

    /// Waits (bounded) until the port accepts a connection. The probe connection sends nothing, which
    /// the service does not count as a request.
    fn wait_until_accepting(&mut self) {
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if let Some(status) = self.child.try_wait().expect("poll wasmedge") {
                panic!("http-service exited before listening ({status}): {:?}", self.output());
            }
            assert!(started.elapsed() < SERVICE_TIMEOUT, "http-service did not listen: {:?}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (bounded) for the service to exit by itself and returns its status and stdout.
    fn wait_for_exit(&mut self) -> (ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll wasmedge") {
                return (status, self.output().0);
            }
            assert!(started.elapsed() < SERVICE_TIMEOUT, "http-service did not exit: {:?}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on 127.0.0.1:`port` with extra `headers`, over a plain HTTP/1.1 connection; returns the
/// status code, the response head and the body.
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to http-service");
    stream.set_read_timeout(Some(SERVICE_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(SERVICE_TIMEOUT)).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {response:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{head:?}"));
    (status, head.to_owned(), body.to_owned())
}

fn assert_exited_after(service: &mut Service, requests: u32) {
    let (status, stdout) = service.wait_for_exit();
    assert!(status.success(), "http-service: {status}; {:?}", service.output());
    assert!(stdout.contains(&format!("served {requests} requests, exiting")), "{stdout}");
}

fn attr(attrs: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).map(typed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn status_code(s: &ReceivedSpan) -> i32 {
    s.span.status.as_ref().map_or(0, |st| st.code)
}

/// The server span attributes the service sets for a request to `path` on `port`.
fn server_attrs(path: &str, route: Option<&str>, port: u16, status: u16) -> Vec<String> {
    let mut v = vec![
        "http.request.method=s:\"GET\"".to_string(),
        format!("http.response.status_code=i:{status}"),
        "network.protocol.version=s:\"1.1\"".into(),
        "server.address=s:\"127.0.0.1\"".into(),
        format!("server.port=i:{port}"),
        format!("url.path=s:{path:?}"),
        "url.scheme=s:\"http\"".into(),
    ];
    v.extend(route.map(|r| format!("http.route=s:{r:?}")));
    v.sort();
    v
}

/// `(attributes, value)` of every point of the counter `http.server.requests`, sorted.
fn request_counts(c: &Collector) -> Vec<(Vec<String>, i64)> {
    let metric = last_metric(c, "http.server.requests").expect("http.server.requests arrives");
    assert_eq!(metric.unit, "{request}");
    let Some(Data::Sum(sum)) = metric.data else { panic!("a sum: {metric:?}") };
    assert!(sum.is_monotonic);
    let mut points: Vec<_> = sum
        .data_points
        .iter()
        .map(|p| match p.value {
            Some(N::AsInt(n)) => (typed_attrs(&p.attributes), n),
            ref other => panic!("an integer count: {other:?}"),
        })
        .collect();
    points.sort();
    points
}

fn metric_attrs(route: Option<&str>, status: u16) -> Vec<String> {
    let mut v = vec![
        "http.request.method=s:\"GET\"".to_string(),
        format!("http.response.status_code=i:{status}"),
        "url.scheme=s:\"http\"".into(),
    ];
    v.extend(route.map(|r| format!("http.route=s:{r:?}")));
    v.sort();
    v
}

fn handled_logs(c: &Collector) -> Vec<LogRecord> {
    log_records(c)
        .into_iter()
        .filter(|l| {
            use opentelemetry_proto::tonic::common::v1::any_value::Value;
            matches!(l.body.as_ref().and_then(|b| b.value.as_ref()), Some(Value::StringValue(s)) if s == "handled request")
        })
        .collect()
}

#[test]
fn hello_continues_the_incoming_trace_with_semantic_conventions_metrics_and_logs() {
    let c = collector();
    let mut service = Service::start(&c.endpoint(), "hello-service", 3, &[]);
    let port = service.port;

    let hello_body = format!(r#"{{"message":"hello from wasm","trace_id":"{TRACE_ID}"}}"#);
    for _ in 0..2 {
        let (status, head, body) = get(port, "/api/hello", &[("traceparent", TRACEPARENT)]);
        assert_eq!(status, 200, "{head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
        assert_eq!(body, hello_body);
    }
    let (status, _, body) = get(port, "/missing?x=1", &[]);
    assert_eq!((status, body.as_str()), (404, r#"{"error":"not found"}"#));
    assert_exited_after(&mut service, 3);

    let spans = c.wait_for_spans(3, ARRIVAL_TIMEOUT).unwrap();
    wait_for_metrics_and_logs(&c);
    assert_eq!(names(&spans), ["GET", "GET /api/hello", "GET /api/hello"]);
    let hellos: Vec<_> = spans.iter().filter(|s| s.span.name == "GET /api/hello").collect();
    for s in &hellos {
        assert_eq!(s.trace_id_hex(), TRACE_ID, "the caller's trace");
        assert_eq!(s.parent_span_id_hex(), PARENT_ID, "the caller's span is the parent");
        assert_eq!(s.span.kind, SERVER);
        assert_eq!(
            typed_attrs(&s.span.attributes),
            server_attrs("/api/hello", Some("/api/hello"), port, 200)
        );
        assert_eq!(status_code(s), 0, "unset");
        assert_eq!(s.resource_attr("service.name").map(typed).as_deref(), Some("s:\"hello-service\""));
    }
    assert_ne!(hellos[0].span_id_hex(), hellos[1].span_id_hex());
    let missing = span(&spans, "GET");
    assert_ne!(missing.trace_id_hex(), TRACE_ID, "no traceparent: a new trace");
    assert_eq!(missing.parent_span_id_hex(), "");
    assert_eq!(typed_attrs(&missing.span.attributes), server_attrs("/missing", None, port, 404));
    assert_eq!(status_code(missing), 0, "a 4xx is not a server error");

    assert_eq!(
        request_counts(&c),
        [(metric_attrs(Some("/api/hello"), 200), 2), (metric_attrs(None, 404), 1)]
    );
    let duration = last_metric(&c, "http.server.request.duration").expect("duration histogram");
    assert_eq!(duration.unit, "s");
    let Some(Data::Histogram(h)) = duration.data else { panic!("a histogram: {duration:?}") };
    let mut points: Vec<_> = h.data_points.iter().map(|p| (typed_attrs(&p.attributes), p)).collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    let counts: Vec<(Vec<String>, i64)> = points.iter().map(|(a, p)| (a.clone(), p.count as i64)).collect();
    assert_eq!(counts, request_counts(&c), "one duration per request, with the counter's attributes");
    for (_, p) in &points {
        assert_eq!(
            p.explicit_bounds,
            [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
        );
        let sum = p.sum.expect("a sum");
        assert!(sum > 0.0 && sum < SERVICE_TIMEOUT.as_secs_f64(), "real seconds: {sum}");
    }

    let logs = handled_logs(&c);
    assert_eq!(logs.len(), 3, "one record per request: {logs:?}");
    assert!(logs.iter().all(|l| (l.severity_number, l.severity_text.as_str()) == (9, "INFO")));
    let mut in_hellos: Vec<String> = logs
        .iter()
        .filter(|l| attr(&l.attributes, "http.route").as_deref() == Some("s:\"/api/hello\""))
        .inspect(|l| assert_eq!(hex(&l.trace_id), TRACE_ID))
        .inspect(|l| assert_eq!(attr(&l.attributes, "http.response.status_code").as_deref(), Some("i:200")))
        .map(|l| hex(&l.span_id))
        .collect();
    let mut hello_ids: Vec<String> = hellos.iter().map(|s| s.span_id_hex()).collect();
    in_hellos.sort();
    hello_ids.sort();
    assert_eq!(in_hellos, hello_ids, "each record is emitted inside its request's span");
}

#[test]
fn chain_makes_one_trace_across_two_services() {
    let c = collector();
    let mut b = Service::start(&c.endpoint(), "service-b", 1, &[]);
    let downstream = format!("127.0.0.1:{}", b.port);
    let mut a = Service::start(&c.endpoint(), "service-a", 1, &[("DOWNSTREAM", &downstream)]);

    let headers = [("traceparent", TRACEPARENT), ("tracestate", TRACESTATE)];
    let (status, _, body) = get(a.port, "/api/chain", &headers);
    assert_eq!(status, 200, "{body}; {:?} {:?}", a.output(), b.output());
    assert_eq!(
        body,
        format!(
            r#"{{"message":"hello via downstream","trace_id":"{TRACE_ID}","downstream":{{"message":"hello from wasm","trace_id":"{TRACE_ID}"}}}}"#
        )
    );
    assert_exited_after(&mut a, 1);
    assert_exited_after(&mut b, 1);

    let spans = c.wait_for_spans(3, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(names(&spans), ["GET", "GET /api/chain", "GET /api/hello"]);
    assert!(spans.iter().all(|s| s.trace_id_hex() == TRACE_ID), "one trace, the caller's");
    let [a_server, a_client, b_server] = ["GET /api/chain", "GET", "GET /api/hello"].map(|n| span(&spans, n));
    let service = |s: &ReceivedSpan| s.resource_attr("service.name").map(typed);
    assert_eq!(
        [a_server, a_client, b_server].map(service),
        [Some("s:\"service-a\"".into()), Some("s:\"service-a\"".into()), Some("s:\"service-b\"".into())]
    );
    assert_eq!(a_server.parent_span_id_hex(), PARENT_ID);
    assert_eq!(a_client.parent_span_id_hex(), a_server.span_id_hex());
    assert_eq!(b_server.parent_span_id_hex(), a_client.span_id_hex(), "A's client span is B's parent");
    for s in [a_server, a_client, b_server] {
        assert_eq!(s.span.trace_state, TRACESTATE, "{}: the trace state travels too", s.span.name);
    }
    assert_eq!([a_server.span.kind, a_client.span.kind, b_server.span.kind], [SERVER, CLIENT, SERVER]);
    assert_eq!(
        typed_attrs(&a_server.span.attributes),
        server_attrs("/api/chain", Some("/api/chain"), a.port, 200)
    );
    assert_eq!(
        typed_attrs(&b_server.span.attributes),
        server_attrs("/api/hello", Some("/api/hello"), b.port, 200)
    );
    assert_eq!(
        typed_attrs(&a_client.span.attributes),
        [
            "http.request.method=s:\"GET\"".to_string(),
            "http.response.status_code=i:200".into(),
            "server.address=s:\"127.0.0.1\"".into(),
            format!("server.port=i:{}", b.port),
            format!("url.full=s:\"http://{downstream}/api/hello\""),
        ]
    );
    // The downstream request starts within the client span (B ends its span only after sending the
    // response, so it may end after A's client span).
    assert!(a_client.span.start_time_unix_nano <= b_server.span.start_time_unix_nano);
}

#[test]
fn an_unsampled_caller_gets_no_spans_but_is_counted() {
    let c = collector();
    let mut service = Service::start(&c.endpoint(), "sampling", 2, &[]);
    let (status, _, body) = get(service.port, "/api/hello", &[("traceparent", UNSAMPLED)]);
    assert_eq!(status, 200);
    assert_eq!(body, format!(r#"{{"message":"hello from wasm","trace_id":"{TRACE_ID}"}}"#), "same trace");
    // A sampled request afterwards: its span arriving shows the unsampled one was not just late.
    let sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    assert_eq!(get(service.port, "/api/hello", &[("traceparent", sampled)]).0, 200);
    assert_exited_after(&mut service, 2);

    wait_for_metrics_and_logs(&c);
    let spans = c.wait_for_spans(1, ARRIVAL_TIMEOUT).unwrap();
    assert_eq!(c.spans().len(), 1, "only the sampled request has a span: {:?}", names(&spans));
    assert_eq!(spans[0].trace_id_hex(), "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(request_counts(&c), [(metric_attrs(Some("/api/hello"), 200), 2)], "both requests count");
    assert_eq!(handled_logs(&c).len(), 2, "and both are logged");
}
