//! The `wasmedge-otel-collector` binary end to end: it announces its addresses, prints JSON lines
//! as data arrives (over gRPC or HTTP), prints the tree and exits by itself when idle or on timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use wasmedge_otel_collector::opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

const BIN: &str = env!("CARGO_BIN_EXE_wasmedge-otel-collector");

/// Waits for `child` to exit, killing it if it takes longer than `limit`, and returns its exit
/// status and what it printed on standard output.
fn finish(mut child: Child, limit: Duration) -> (ExitStatus, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the collector did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("read stdout");
    (status, stdout)
}

#[test]
fn exits_when_idle_after_printing_json_and_tree() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--exit-when-idle", "0.5", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the collector");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("read stderr");
    let endpoint = first.trim().strip_prefix("listening on ").expect("announces its address").to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{first}");

    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: "only".into(),
                    kind: 1,
                    start_time_unix_nano: 1_000,
                    end_time_unix_nano: 2_001_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), async {
            let mut client = TraceServiceClient::connect(endpoint).await.expect("connect");
            client.export(request).await.expect("export");
        })
        .await
        .expect("export in time");
    });

    let (status, stdout) = finish(child, Duration::from_secs(20));
    assert!(status.success(), "{status}; stdout:\n{stdout}");
    let mut lines = stdout.lines();
    let json: serde_json::Value = serde_json::from_str(lines.next().expect("a JSON line")).expect("JSON");
    assert_eq!(json["name"], "only");
    assert_eq!(json["span_id"], "0202020202020202");
    assert_eq!(lines.next(), Some("trace 01010101010101010101010101010101"));
    assert_eq!(lines.next(), Some("└─ only  internal  2.000 ms"));
}

#[test]
fn http_arrivals_are_printed_the_same_way() {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--exit-when-idle", "0.5"])
        .args(["--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the collector");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut grpc = String::new();
    stderr.read_line(&mut grpc).expect("read stderr");
    assert!(grpc.starts_with("listening on http://127.0.0.1:"), "{grpc}");
    let mut http = String::new();
    stderr.read_line(&mut http).expect("read stderr");
    let base =
        http.trim().strip_prefix("listening for OTLP/HTTP on http://").expect("announces HTTP").to_owned();
    assert_ne!(grpc.trim().strip_prefix("listening on http://"), Some(base.as_str()));

    let body = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01010101010101010101010101010101",
        "spanId":"0303030303030303","name":"via-http","kind":1,"startTimeUnixNano":"1000","endTimeUnixNano":"1001000"}]}]}]}"#;
    let mut stream = std::net::TcpStream::connect(&base).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nHost: {base}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");

    let (status, stdout) = finish(child, Duration::from_secs(20));
    assert!(status.success(), "{status}; stdout:\n{stdout}");
    let mut lines = stdout.lines();
    let json: serde_json::Value = serde_json::from_str(lines.next().expect("a JSON line")).expect("JSON");
    assert_eq!(json["name"], "via-http");
    assert_eq!(lines.next(), Some("trace 01010101010101010101010101010101"));
    assert_eq!(lines.next(), Some("└─ via-http  internal  1.000 ms"));
}

#[test]
fn timeout_with_nothing_received_exits_1() {
    let child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--timeout", "0.3", "--format", "tree"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the collector");
    let (status, stdout) = finish(child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "no spans received\n");
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let output = Command::new(BIN).args(["--format", "xml"]).output().expect("run the collector");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
    let help = Command::new(BIN).arg("--help").output().expect("run the collector");
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--exit-when-idle"));
}
