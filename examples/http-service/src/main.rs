//! `http-service`: a traced HTTP/1.1 service, a WebAssembly guest serving on WasmEdge's socket
//! extension (`wasmedge_wasi_socket`), whose requests continue their callers' traces.
//!
//! ```sh
//! wasmedge --env PORT=8081 http-service.wasm                                   # service B
//! wasmedge --env PORT=8080 --env DOWNSTREAM=127.0.0.1:8081 http-service.wasm   # service A
//! curl -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
//!     http://127.0.0.1:8080/api/chain
//! ```
//!
//! # Configuration
//!
//! The guest's environment comes from `wasmedge --env K=V` (not from the `wasmedge` process's own
//! environment, which only the plugin reads); options follow the module on the command line.
//!
//! | option | environment | default | meaning |
//! | --- | --- | --- | --- |
//! | `--listen ADDR` | `LISTEN` | `127.0.0.1:$PORT` | address to listen on |
//! | `--port PORT` | `PORT` | `8080` | port, when no listen address is given |
//! | `--max-requests N` | `MAX_REQUESTS` | none | exit after answering `N` requests |
//! | `--idle-exit SECONDS` | `IDLE_EXIT` | none | exit after that long without a connection |
//! | `--downstream ADDR` | `DOWNSTREAM` | none | the `host:port` `/api/chain` calls |
//!
//! Exiting by itself (rather than by a signal, which does not run the plugin's exit flush) is what
//! lets short runs, tests and demos export everything they recorded.
//!
//! # Routes
//!
//! * `GET /api/hello`: 200, `{"message":"hello from wasm","trace_id":"<32 hex digits>"}`.
//! * `GET /api/chain`: calls `GET /api/hello` on the downstream service, passing the trace on, and
//!   answers 200 `{"message":"hello via downstream","trace_id":"...","downstream":<its body>}`; 502
//!   `{"error":"..."}` when the call fails, 500 when no downstream is configured.
//! * any other path: 404 `{"error":"not found"}`; another method on a route: 405.
//!
//! One request per connection (`Connection: close`); requests are served one at a time. A connection
//! closed before sending anything (a port probe) is not a request: it does not count towards
//! `--max-requests`.
//!
//! # Telemetry (OpenTelemetry HTTP semantic conventions)
//!
//! Each request is a `SERVER` span whose parent is the request's `traceparent` (and `tracestate`)
//! header, when it has a valid one:
//!
//! ```text
//! GET /api/hello [SERVER]          ("GET" alone for a path no route matches)
//!     http.request.method = "GET"         url.path = "/api/hello"       url.scheme = "http"
//!     http.route = "/api/hello"           (only when a route matched)
//!     server.address, server.port         (from the Host header, else the listen address)
//!     network.protocol.version = "1.1"    user_agent.original (when the request has one)
//!     http.response.status_code = 200     (set when the response is known)
//!     error.type = "502", status ERROR    (5xx only)
//! └── GET [CLIENT]                 (/api/chain only: the downstream call)
//!         http.request.method = "GET"     server.address, server.port    url.full
//!         http.response.status_code       error.type and status ERROR when the call fails
//! ```
//!
//! The downstream request carries the client span's `traceparent` (and `tracestate`, when not
//! empty), so the downstream service's server span is the client span's child: one trace across both
//! services.
//!
//! Metrics, recorded when the response has been sent, with attributes `http.request.method`,
//! `http.route` (when matched), `http.response.status_code`, `url.scheme` and, for 5xx, `error.type`:
//!
//! * `http.server.requests`, counter, `{request}`: requests answered.
//! * `http.server.request.duration`, histogram, `s` (seconds, as the semantic conventions specify),
//!   with their recommended bucket boundaries, measured with the guest's monotonic clock from the
//!   accepted connection to the last byte of the response.
//!
//! One log record per request, severity INFO, body `handled request`, emitted inside the server span
//! (so it carries its trace and span ids), with `http.request.method`, `http.route`, `url.path` and
//! `http.response.status_code`.
//!
//! With the default parent-based sampler, a request whose `traceparent` has the sampled flag unset
//! (`-00`) records no spans; its metrics and log record are recorded all the same.
//!
//! There is no `client.address`: `wasmedge_wasi_socket` 0.5.5 reads the peer address through a buffer
//! it declares immutable while the host writes into it, so release builds report `0.0.0.0`.

mod http;

use std::io::{self, Write};
use std::time::{Duration, Instant};

use wasmedge_otel_guest::{kv, logs, Counter, Histogram, KeyValue, Span, SpanKind, SpanStatus};
use wasmedge_wasi_socket::{SocketAddr, TcpListener, TcpStream};

use http::Request;

/// Bucket boundaries of `http.server.request.duration` recommended by the semantic conventions.
const DURATION_BOUNDARIES: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// How often an idle listener looks for a connection.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

struct Config {
    listen: String,
    max_requests: Option<u64>,
    idle_exit: Option<Duration>,
    downstream: Option<String>,
}

impl Config {
    /// From the command line, then the environment, then the defaults.
    fn load() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let setting = |option: &str, var: &str| {
            let from_args = args.iter().position(|a| a == option).and_then(|i| args.get(i + 1)).cloned();
            from_args.or_else(|| std::env::var(var).ok()).filter(|v| !v.is_empty())
        };
        let number = |option: &str, var: &str| {
            setting(option, var)
                .map(|v| v.parse::<u64>().map_err(|_| format!("{option} / {var}: not a number: {v:?}")))
                .transpose()
        };
        let port = setting("--port", "PORT").unwrap_or_else(|| "8080".into());
        Ok(Config {
            listen: setting("--listen", "LISTEN").unwrap_or_else(|| format!("127.0.0.1:{port}")),
            max_requests: number("--max-requests", "MAX_REQUESTS")?,
            idle_exit: number("--idle-exit", "IDLE_EXIT")?.map(Duration::from_secs),
            downstream: setting("--downstream", "DOWNSTREAM"),
        })
    }
}

/// The instruments every request records on.
struct Metrics {
    requests: Counter<i64>,
    duration: Histogram<f64>,
}

fn main() {
    if let Err(error) = wasmedge_otel_guest::init() {
        eprintln!("http-service: {error}");
    }
    let config = Config::load().unwrap_or_else(|e| exit_with(&e));
    let listener = TcpListener::bind(config.listen.as_str(), true)
        .unwrap_or_else(|e| exit_with(&format!("cannot listen on {}: {e}", config.listen)));
    let metrics = Metrics {
        requests: Counter::builder("http.server.requests")
            .unit("{request}")
            .description("HTTP requests answered")
            .build(),
        duration: Histogram::builder("http.server.request.duration")
            .unit("s")
            .description("Duration of HTTP server requests")
            .boundaries(&DURATION_BOUNDARIES)
            .build(),
    };
    println!("http-service: listening on http://{}", config.listen);
    let _ = io::stdout().flush();

    let mut served = 0u64;
    let mut idle_since = Instant::now();
    while config.max_requests.is_none_or(|max| served < max) {
        match listener.accept(false) {
            Ok((stream, peer)) => {
                served += u64::from(serve(stream, peer, &config, &metrics));
                idle_since = Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if config.idle_exit.is_some_and(|idle| idle_since.elapsed() >= idle) {
                    println!("http-service: idle for {:?}, exiting", config.idle_exit.unwrap_or_default());
                    break;
                }
                std::thread::sleep(ACCEPT_POLL);
            }
            Err(e) => {
                eprintln!("http-service: accept failed: {e}");
                std::thread::sleep(ACCEPT_POLL);
            }
        }
    }
    println!("http-service: served {served} requests, exiting");
}

fn exit_with(message: &str) -> ! {
    eprintln!("http-service: {message}");
    std::process::exit(2)
}

/// The route a request matches, by path.
fn route(path: &str) -> Option<&'static str> {
    ["/api/hello", "/api/chain"].into_iter().find(|r| *r == path)
}

/// `http.request.method` as the semantic conventions want it: a known method, else `_OTHER`.
fn method(method: &str) -> &str {
    const KNOWN: [&str; 9] = ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"];
    if KNOWN.contains(&method) {
        method
    } else {
        "_OTHER"
    }
}

/// Answers one connection: one request, its span, log record and metrics. Returns whether a request
/// arrived (and was answered).
fn serve(mut stream: TcpStream, peer: SocketAddr, config: &Config, metrics: &Metrics) -> bool {
    let started = Instant::now();
    let _ = stream.as_ref().set_recv_timeout(Some(http::IO_TIMEOUT));
    let _ = stream.as_ref().set_send_timeout(Some(http::IO_TIMEOUT));
    let mut head = Vec::new();
    if let Err(e) = http::read_head(&mut stream, &mut head) {
        if !head.is_empty() || e.kind() != io::ErrorKind::UnexpectedEof {
            eprintln!("http-service: no request from port {}: {e}", peer.port());
        }
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    let Some(request) = Request::parse(&head) else {
        let _ = http::respond(&mut stream, 400, r#"{"error":"bad request"}"#);
        return true;
    };

    let method = method(request.method);
    let route = route(request.path);
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let host = request.header("host");
    let (server_address, server_port) = match host.rsplit_once(':') {
        Some((address, port)) => (address, port.parse::<i64>().ok()),
        None if !host.is_empty() => (host, Some(80)),
        None => config
            .listen
            .rsplit_once(':')
            .map_or((config.listen.as_str(), None), |(a, p)| (a, p.parse().ok())),
    };
    let mut attributes = vec![
        kv("http.request.method", method),
        kv("url.path", request.path),
        kv("url.scheme", "http"),
        kv("server.address", server_address),
        kv("network.protocol.version", "1.1"),
    ];
    attributes.extend(route.map(|r| kv("http.route", r)));
    attributes.extend(server_port.map(|p| kv("server.port", p)));
    let user_agent = request.header("user-agent");
    if !user_agent.is_empty() {
        attributes.push(kv("user_agent.original", user_agent));
    }
    let span = Span::builder(&name)
        .kind(SpanKind::Server)
        .attributes(&attributes)
        .remote_parent(request.header("traceparent"), request.header("tracestate"))
        .start();
    let trace_id = span.traceparent().map(|t| t.trace_id().to_owned()).unwrap_or_default();

    let (status, body) = match (route, request.method) {
        (None, _) => (404, r#"{"error":"not found"}"#.to_owned()),
        (Some(_), m) if m != "GET" => (405, r#"{"error":"method not allowed"}"#.to_owned()),
        (Some("/api/chain"), _) => chain(config.downstream.as_deref(), &trace_id),
        (Some(_), _) => (200, format!(r#"{{"message":"hello from wasm","trace_id":"{trace_id}"}}"#)),
    };
    if let Err(e) = http::respond(&mut stream, status, &body) {
        eprintln!("http-service: cannot answer port {}: {e}", peer.port());
    }

    let status_code = i64::from(status);
    let error_type = status.to_string();
    span.set_attribute("http.response.status_code", status_code);
    if status >= 500 {
        span.set_attribute("error.type", error_type.as_str());
        span.set_status(SpanStatus::Error(""));
    }
    let mut log_attributes = vec![
        kv("http.request.method", method),
        kv("url.path", request.path),
        kv("http.response.status_code", status_code),
    ];
    log_attributes.extend(route.map(|r| kv("http.route", r)));
    logs::info("handled request", &log_attributes);
    drop(span);

    let mut metric_attributes: Vec<KeyValue<'_>> = vec![
        kv("http.request.method", method),
        kv("http.response.status_code", status_code),
        kv("url.scheme", "http"),
    ];
    metric_attributes.extend(route.map(|r| kv("http.route", r)));
    if status >= 500 {
        metric_attributes.push(kv("error.type", error_type.as_str()));
    }
    metrics.requests.add(1, &metric_attributes);
    metrics.duration.record(started.elapsed().as_secs_f64(), &metric_attributes);
    true
}

/// `/api/chain`: `GET /api/hello` on the downstream service in a client span whose context goes with
/// the request. Returns the status and body to answer with.
fn chain(downstream: Option<&str>, trace_id: &str) -> (u16, String) {
    let Some(downstream) = downstream else {
        return (500, r#"{"error":"no downstream service configured (DOWNSTREAM)"}"#.to_owned());
    };
    let (address, port) = downstream.rsplit_once(':').unwrap_or((downstream, "80"));
    let url = format!("http://{downstream}/api/hello");
    let mut attributes =
        vec![kv("http.request.method", "GET"), kv("server.address", address), kv("url.full", url.as_str())];
    attributes.extend(port.parse::<i64>().ok().map(|p| kv("server.port", p)));
    let client = Span::builder("GET").kind(SpanKind::Client).attributes(&attributes).start();

    let mut headers = String::new();
    if let Some(traceparent) = client.traceparent() {
        headers = format!("traceparent: {traceparent}\r\n");
    }
    let mut buf = [0u8; 512];
    if let Some(tracestate) = client.tracestate(&mut buf) {
        headers.push_str(&format!("tracestate: {tracestate}\r\n"));
    }
    match http::get(downstream, "/api/hello", &headers) {
        Ok((status, body)) => {
            client.set_attribute("http.response.status_code", i64::from(status));
            if status >= 400 {
                let error_type = status.to_string();
                client.set_attribute("error.type", error_type.as_str());
                client.set_status(SpanStatus::Error(""));
                return (502, format!(r#"{{"error":"downstream answered {status}"}}"#));
            }
            (
                200,
                format!(
                    r#"{{"message":"hello via downstream","trace_id":"{trace_id}","downstream":{body}}}"#
                ),
            )
        }
        Err(e) => {
            let message = e.to_string();
            client.set_attribute("error.type", format!("{:?}", e.kind()).as_str());
            client.record_exception("io::Error", &message, &[]);
            client.set_status(SpanStatus::Error(&message));
            (502, format!(r#"{{"error":"downstream call failed: {}"}}"#, message.replace('"', "'")))
        }
    }
}
