//! The collector's TLS on 127.0.0.1: gRPC (a tonic client with TLS) and HTTP (a rustls client
//! writing HTTP/1.1 by hand) over TLS, mutual TLS refusing clients without a certificate, bad PEM
//! data refused at start, and the `--tls-*` flags of the binary. The certificates are generated for
//! each test run with the `openssl` command line tool (a CA, a server certificate for `localhost`
//! and `127.0.0.1`, and a client certificate). Everything is bounded in time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prost::Message as _;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use wasmedge_otel_collector::opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use wasmedge_otel_collector::opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use wasmedge_otel_collector::{Collector, CollectorConfig, CollectorError, TlsConfig, Transport};

const WAIT: Duration = Duration::from_secs(20);

/// The directory of this test process's certificates, generated once.
fn pki() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the certificate directory");
        generate_certificates(&dir);
        dir
    })
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(pki().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// Runs `openssl` with `args` in `dir`, failing the test with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl (installed?)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Writes `ca.pem` (+ `ca-key.pem`), `server.pem` + `server-key.pem` (for `localhost` and
/// `127.0.0.1`, issued by the CA) and `client.pem` + `client-key.pem` (a client certificate
/// issued by the CA) into `dir`. P-256 keys, valid for two days.
fn generate_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=collector test CA"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    openssl(dir, &ca);
    for (name, cn, ext) in [
        (
            "server",
            "localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
        ("client", "collector test client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"),
    ] {
        let (key, csr, cert, extfile) =
            (format!("{name}-key.pem"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        std::fs::write(dir.join(&extfile), ext).expect("write the extensions file");
        let subject = format!("/CN={cn}");
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(dir, &req);
        let serial = if name == "server" { "2" } else { "3" };
        openssl(
            dir,
            &[
                "x509", "-req", "-in", &csr, "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-set_serial", serial,
                "-days", "2", "-out", &cert, "-extfile", &extfile,
            ],
        );
    }
}

fn server_tls() -> TlsConfig {
    TlsConfig::new(pem("server.pem"), pem("server-key.pem"))
}

fn trace_request(name: &str) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: name.into(),
                    kind: 1,
                    start_time_unix_nano: 1_000,
                    end_time_unix_nano: 2_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Exports one span named `name` over gRPC to `endpoint` with `tls`; the error text on failure.
fn grpc_export(endpoint: &str, tls: ClientTlsConfig, name: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let channel = Endpoint::from_shared(endpoint.to_owned())
            .map_err(|e| e.to_string())?
            .tls_config(tls)
            .map_err(|e| e.to_string())?
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(10))
            .connect()
            .await
            .map_err(|e| format!("{e:?}"))?;
        TraceServiceClient::new(channel).export(trace_request(name)).await.map_err(|e| e.to_string())?;
        Ok(())
    })
}

fn ca_only() -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem("ca.pem"))).domain_name("localhost")
}

/// POSTs one span named `name` over HTTP/1.1 with TLS to `addr` (server name `localhost`),
/// presenting the client certificate when `client_cert` is set; the status code, or the error.
fn https_export(addr: SocketAddr, client_cert: bool, name: &str) -> Result<u16, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem("ca.pem")) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let builder =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots);
    let config = if client_cert {
        let chain =
            CertificateDer::pem_slice_iter(&pem("client.pem")).collect::<Result<Vec<_>, _>>().unwrap();
        let key = PrivateKeyDer::from_pem_slice(&pem("client-key.pem")).expect("client key");
        builder.with_client_auth_cert(chain, key).expect("client identity")
    } else {
        builder.with_no_client_auth()
    };
    let server_name = ServerName::try_from("localhost").expect("server name");
    let connection =
        rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    tcp.set_write_timeout(Some(Duration::from_secs(10))).expect("write timeout");
    let mut stream = rustls::StreamOwned::new(connection, tcp);
    let body = trace_request(name).encode_to_vec();
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    stream.write_all(&body).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    // A peer that closes without close_notify is fine once the response is in.
    if let Err(e) = stream.read_to_end(&mut raw) {
        if raw.is_empty() {
            return Err(e.to_string());
        }
    }
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("no status line: {head}"))
}

#[test]
fn grpc_and_http_over_tls() {
    let collector = Collector::start_with(
        CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0").with_tls(server_tls()),
    )
    .expect("the TLS collector starts");
    assert!(collector.is_tls());
    let grpc = collector.grpc_endpoint().expect("serves gRPC");
    let http = collector.http_endpoint().expect("serves HTTP");
    assert!(
        grpc.starts_with("https://127.0.0.1:") && http.starts_with("https://127.0.0.1:"),
        "{grpc} {http}"
    );
    assert_eq!(collector.endpoint(), grpc);

    let localhost = format!("https://localhost:{}", collector.local_addr().port());
    grpc_export(&localhost, ca_only(), "over-grpc").expect("gRPC over TLS");
    assert_eq!(https_export(collector.http_addr().unwrap(), false, "over-http"), Ok(200));

    let spans = collector.wait_for_spans(2, WAIT).expect("both spans");
    let mut names: Vec<_> = spans.iter().map(|s| s.span.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["over-grpc", "over-http"]);
    let mut transports: Vec<_> = collector.trace_requests().iter().map(|r| r.transport).collect();
    transports.sort_by_key(|t| *t == Transport::Http);
    assert_eq!(transports, [Transport::Grpc, Transport::Http]);
}

#[test]
fn plain_text_clients_are_not_served_by_a_tls_collector() {
    let collector = Collector::start_with(
        CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0").with_tls(server_tls()),
    )
    .expect("the TLS collector starts");
    let plain = format!("http://{}", collector.local_addr());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let result = runtime.block_on(async {
        let mut client = TraceServiceClient::connect(plain).await.map_err(|e| e.to_string())?;
        client.export(trace_request("plain")).await.map_err(|e| e.to_string())
    });
    assert!(result.is_err(), "plain-text gRPC is refused");

    let mut tcp = TcpStream::connect(collector.http_addr().unwrap()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = tcp.write_all(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    let mut raw = Vec::new();
    let _ = tcp.read_to_end(&mut raw);
    assert!(!String::from_utf8_lossy(&raw).contains("HTTP/1.1 200"), "plain-text HTTP is not answered");
    assert!(collector.trace_requests().is_empty());
    assert_eq!(collector.request_count(), 0);
}

#[test]
fn mutual_tls_requires_a_client_certificate_on_both_transports() {
    let tls = server_tls().with_client_ca(pem("ca.pem"));
    let collector =
        Collector::start_with(CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0").with_tls(tls))
            .expect("the mTLS collector starts");
    let endpoint = collector.endpoint();
    let http = collector.http_addr().unwrap();

    assert!(grpc_export(&endpoint, ca_only(), "no-cert").is_err(), "gRPC without a client certificate");
    assert!(https_export(http, false, "no-cert").is_err(), "HTTP without a client certificate");
    assert!(collector.trace_requests().is_empty());

    let identity = Identity::from_pem(pem("client.pem"), pem("client-key.pem"));
    grpc_export(&endpoint, ca_only().identity(identity), "grpc-with-cert")
        .expect("gRPC with the certificate");
    assert_eq!(https_export(http, true, "http-with-cert"), Ok(200));
    let spans = collector.wait_for_spans(2, WAIT).expect("both spans");
    let mut names: Vec<_> = spans.iter().map(|s| s.span.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["grpc-with-cert", "http-with-cert"]);
}

#[test]
fn unusable_pem_data_is_refused_at_start() {
    let cases = [
        ("no certificate", TlsConfig::new("not PEM", pem("server-key.pem"))),
        ("no key", TlsConfig::new(pem("server.pem"), "not PEM")),
        ("the key of another certificate", TlsConfig::new(pem("server.pem"), pem("client-key.pem"))),
        ("no client CA certificate", server_tls().with_client_ca("not PEM")),
    ];
    for (what, tls) in cases {
        match Collector::start_with(CollectorConfig::http("127.0.0.1:0").with_tls(tls)) {
            Err(error @ CollectorError::Tls(_)) => {
                assert!(error.to_string().starts_with("cannot set up TLS"), "{error}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    let debug = format!("{:?}", server_tls());
    assert!(debug.contains("<redacted>") && !debug.contains("PRIVATE KEY"), "{debug}");
}

#[test]
fn the_binary_serves_tls_with_the_tls_flags() {
    let dir = pki();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wasmedge-otel-collector"))
        .args(["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--format", "json"])
        .args(["--exit-when-idle", "0.5", "--timeout", "30"])
        .arg("--tls-cert")
        .arg(dir.join("server.pem"))
        .arg("--tls-key")
        .arg(dir.join("server-key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the collector");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut lines = [String::new(), String::new()];
    for line in &mut lines {
        stderr.read_line(line).expect("read stderr");
    }
    let grpc = lines[0].trim().strip_prefix("listening on ").expect("announces gRPC").to_owned();
    let http =
        lines[1].trim().strip_prefix("listening for OTLP/HTTP on ").expect("announces HTTP").to_owned();
    assert!(grpc.starts_with("https://127.0.0.1:") && http.starts_with("https://127.0.0.1:"), "{lines:?}");

    let localhost = grpc.replace("127.0.0.1", "localhost");
    grpc_export(&localhost, ca_only(), "cli-grpc").expect("gRPC over TLS");
    let http_addr: SocketAddr = http.trim_start_matches("https://").parse().expect("an address");
    assert_eq!(https_export(http_addr, false, "cli-http"), Ok(200));

    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the collector did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(stdout.contains("cli-grpc") && stdout.contains("cli-http"), "{stdout}");

    // Bad flags: a certificate without its key, and files that do not exist.
    let out = Command::new(env!("CARGO_BIN_EXE_wasmedge-otel-collector"))
        .args(["--tls-cert", "server.pem"])
        .output()
        .expect("run the collector");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_wasmedge-otel-collector"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent.pem",
            "--tls-key",
            "/nonexistent-key.pem",
        ])
        .output()
        .expect("run the collector");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.pem"));
}
