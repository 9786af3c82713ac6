//! TLS end to end: the real `wasmedge` with the plugin exporting to the test collector serving
//! TLS, over gRPC and over OTLP/HTTP, with `OTEL_EXPORTER_OTLP_CERTIFICATE`,
//! `..._CLIENT_CERTIFICATE`, `..._CLIENT_KEY` and `..._INSECURE` (generic and per signal).
//!
//! The certificates are generated once per test process with the `openssl` command line tool into
//! the scratch directory: a CA (`ca.pem`), a server certificate for `localhost` and `127.0.0.1`
//! issued by it, and a client certificate issued by it, for mutual TLS. The CA is in no system
//! trust store, so without `..._CERTIFICATE` every handshake fails: that is how each test tells an
//! applied variable from an ignored one.
//!
//! An export that cannot complete the handshake fails after the exporter's retries, bounded here
//! by `OTEL_EXPORTER_OTLP_TIMEOUT`; the run still exits 0 with the guest's own output, and the
//! plugin reports the failed flush and the loss on stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use wasmedge_otel_collector::{CollectorConfig, TlsConfig, Transport};
use wasmedge_otel_tests::*;

// ---------------------------------------------------------------------------------------------
// Certificates

/// The directory holding this test process's certificates, generated on first use.
fn pki() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch_dir().join("tls");
        std::fs::create_dir_all(&dir).expect("create the certificate directory");
        generate_certificates(&dir);
        dir
    })
}

/// The path of one of the generated PEM files, as an environment variable value.
fn file(name: &str) -> String {
    pki().join(name).to_str().expect("a UTF-8 path").to_owned()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(pki().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// Runs `openssl` with `args` in `dir`, failing the test with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out =
        Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl (is it installed?)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Writes `ca.pem` (+ `ca-key.pem`), `server.pem` + `server-key.pem` (for `localhost` and
/// `127.0.0.1`), `client.pem` + `client-key.pem` (client authentication) and `other-name.pem` +
/// `other-name-key.pem` (a server certificate for `other.invalid` only), all issued by the CA,
/// into `dir`. P-256 keys (PKCS#8), valid for two days.
fn generate_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=wasmedge-otel test CA",
    ]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
    openssl(dir, &ca);
    let leaves = [
        (
            "server",
            "localhost",
            "2",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
        ("client", "wasmedge-otel test client", "3", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"),
        (
            "other-name",
            "other.invalid",
            "4",
            "subjectAltName=DNS:other.invalid\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        ),
    ];
    for (name, cn, serial, extensions) in leaves {
        let (key, csr, cert, ext) =
            (format!("{name}-key.pem"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        std::fs::write(dir.join(&ext), extensions).expect("write the extensions file");
        let subject = format!("/CN={cn}");
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(dir, &req);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-out",
                &cert,
                "-extfile",
                &ext,
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Collectors and checks

/// Server-side TLS with the generated server certificate; with `mutual`, client certificates
/// issued by the test CA are required.
fn server_tls(mutual: bool) -> TlsConfig {
    let tls = TlsConfig::new(read("server.pem"), read("server-key.pem"));
    if mutual {
        tls.with_client_ca(read("ca.pem"))
    } else {
        tls
    }
}

/// A gRPC-only collector serving TLS.
fn grpc_tls(mutual: bool) -> Collector {
    Collector::start_with(CollectorConfig::grpc("127.0.0.1:0").with_tls(server_tls(mutual)))
        .expect("start the TLS gRPC collector")
}

/// An HTTP-only collector serving TLS.
fn http_tls(mutual: bool) -> Collector {
    Collector::start_with(CollectorConfig::http("127.0.0.1:0").with_tls(server_tls(mutual)))
        .expect("start the TLS HTTP collector")
}

/// A run of `guest` exporting to `endpoint` with `protocol` ("grpc" or "http/protobuf"), with a
/// short OTLP timeout and a generous exit bound, so that a failed handshake (after the exporter's
/// retries) is reported as a failed flush rather than cut off by the exit bound.
fn run(guest: &str, endpoint: &str, protocol: &str) -> Run {
    Run::new(&example(guest), endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "3000")
        .env("WASMEDGE_OTEL_EXIT_FLUSH_TIMEOUT", "30000")
}

/// [`run`] with `OTEL_EXPORTER_OTLP_CERTIFICATE` set to the test CA, so the collector's server
/// certificate is trusted.
fn run_trusting_ca(guest: &str, endpoint: &str, protocol: &str) -> Run {
    run(guest, endpoint, protocol).env("OTEL_EXPORTER_OTLP_CERTIFICATE", &file("ca.pem"))
}

/// The endpoint of `c` for `protocol`: its gRPC endpoint for "grpc", else its HTTP one.
fn endpoint_for(c: &Collector, protocol: &str) -> String {
    if protocol == "grpc" {
        c.endpoint()
    } else {
        c.http_endpoint().unwrap()
    }
}

/// Checks a successful run of `metrics-demo`: its own output, all its telemetry at `c` over
/// `transport` (5 spans, 7 log records, the `http.server.requests` metric), and nothing reported
/// lost.
fn assert_demo_delivered(out: &Output, c: &Collector, transport: Transport) {
    let stderr = assert_exit(out, 0);
    assert_eq!(stdout_of(out), DEMO_STDOUT);
    wait_for_demo(c);
    let all = c.trace_requests().iter().map(|r| r.transport).collect::<Vec<_>>();
    assert!(all.iter().all(|t| *t == transport), "{all:?}");
    assert!(!stderr.contains("failed") && !stderr.contains("telemetry lost"), "nothing lost: {stderr}");
}

/// Checks a run of `hello` whose span export could not get through: the guest is unaffected, the
/// collector decoded nothing, and stderr reports the failed flush and the 5 lost spans.
fn assert_spans_lost(out: &Output, c: &Collector) -> String {
    let stderr = assert_exit(out, 0);
    assert_eq!(stdout_of(out), HELLO_STDOUT, "the guest is unaffected");
    assert!(c.trace_requests().is_empty(), "nothing got through");
    assert!(
        stderr.contains("wasmedge_otel: flushing spans at exit failed"),
        "the failure is reported: {stderr}"
    );
    let lost = stderr
        .lines()
        .find(|l| l.starts_with("wasmedge_otel: telemetry lost:"))
        .unwrap_or_else(|| panic!("the loss is reported: {stderr}"));
    assert!(lost.contains("5 spans (5 failed to export"), "{lost}");
    stderr
}

/// Checks a run of `hello` (logs off) in which only the spans exporter could get through to `c`:
/// the 5 spans arrive, no metric does, and the failed metrics flush is reported. `case` names the
/// case in each failure message. Returns stderr.
fn assert_only_spans_got_through(out: &Output, c: &Collector, case: &str) -> String {
    let stderr = assert_exit(out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{case}: spans get through: {e}"));
    assert!(c.metric_requests().is_empty(), "{case}: metrics do not get through");
    assert!(stderr.contains("wasmedge_otel: flushing metrics at exit failed"), "{case}: {stderr}");
    stderr
}

// ---------------------------------------------------------------------------------------------
// Server verification: OTEL_EXPORTER_OTLP_CERTIFICATE

#[test]
fn grpc_over_tls_with_the_ca_certificate_delivers_every_signal() {
    let c = grpc_tls(false);
    assert!(c.endpoint().starts_with("https://"));
    let out = run_trusting_ca("metrics-demo", &c.endpoint(), "grpc").output();
    assert_demo_delivered(&out, &c, Transport::Grpc);
}

#[test]
fn grpc_over_tls_without_the_ca_certificate_fails_and_reports_the_loss() {
    // The system roots do not know the test CA: the handshake fails, nothing is stored.
    let c = grpc_tls(false);
    let out = run("hello", &c.endpoint(), "grpc").env("OTEL_METRICS_EXPORTER", "none").output();
    assert_spans_lost(&out, &c);
    assert_eq!(c.request_count(), 0);
}

#[test]
fn http_protobuf_over_tls_with_the_ca_certificate_delivers_every_signal() {
    let c = http_tls(false);
    let endpoint = c.http_endpoint().unwrap();
    assert!(endpoint.starts_with("https://"));
    let out = run_trusting_ca("metrics-demo", &endpoint, "http/protobuf").output();
    assert_demo_delivered(&out, &c, Transport::Http);
}

#[test]
fn http_protobuf_over_tls_without_the_ca_certificate_fails_and_reports_the_loss() {
    let c = http_tls(false);
    let out = run("hello", &c.http_endpoint().unwrap(), "http/protobuf")
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    let stderr = assert_spans_lost(&out, &c);
    assert_eq!(c.request_count(), 0, "{stderr}");
}

#[test]
fn the_server_name_is_verified_against_the_certificate() {
    // A certificate issued by the trusted CA, but for other.invalid: refused over both transports.
    for protocol in ["grpc", "http/protobuf"] {
        let tls = TlsConfig::new(read("other-name.pem"), read("other-name-key.pem"));
        let config = if protocol == "grpc" {
            CollectorConfig::grpc("127.0.0.1:0")
        } else {
            CollectorConfig::http("127.0.0.1:0")
        };
        let c = Collector::start_with(config.with_tls(tls)).expect("start the collector");
        let out = run_trusting_ca("hello", &endpoint_for(&c, protocol), protocol)
            .env("OTEL_METRICS_EXPORTER", "none")
            .output();
        assert_spans_lost(&out, &c);
    }

    // The DNS name of the right certificate is accepted as well as its IP address.
    let c = http_tls(false);
    let localhost = c.http_endpoint().unwrap().replace("127.0.0.1", "localhost");
    let out =
        run_trusting_ca("hello", &localhost, "http/protobuf").env("OTEL_METRICS_EXPORTER", "none").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("https://localhost:PORT");
}

#[test]
fn signal_certificate_variables_apply_to_their_signal_only() {
    // Only traces trust the CA: spans arrive, over each transport; metrics, without it, fail.
    for (c, protocol) in [(grpc_tls(false), "grpc"), (http_tls(false), "http/protobuf")] {
        let out = run("hello", &endpoint_for(&c, protocol), protocol)
            .env("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &file("ca.pem"))
            .env("OTEL_LOGS_EXPORTER", "none")
            .output();
        let stderr =
            assert_only_spans_got_through(&out, &c, &format!("{protocol}, only traces trust the CA"));
        assert!(!stderr.contains("flushing spans at exit failed"), "{protocol}: {stderr}");
    }
}

#[test]
fn a_certificate_file_without_a_certificate_is_reported_clearly() {
    // Not PEM at all: the exporter is not built, for either transport, and the line names the file.
    let bogus = pki().join("bogus.pem");
    std::fs::write(&bogus, "this is not a certificate\n").unwrap();
    for protocol in ["grpc", "http/protobuf"] {
        let out = run("hello", "https://127.0.0.1:9", protocol)
            .env("OTEL_EXPORTER_OTLP_CERTIFICATE", bogus.to_str().unwrap())
            .env("OTEL_METRICS_EXPORTER", "none")
            .output();
        let stderr = assert_exit(&out, 0);
        assert_eq!(stdout_of(&out), HELLO_STDOUT);
        let line = exporter_build_failure(&stderr, "spans")
            .unwrap_or_else(|| panic!("{protocol}: a clear warning: {stderr}"));
        assert!(line.contains("bogus.pem") && line.contains("no PEM certificate"), "{protocol}: {line}");
    }
}

// ---------------------------------------------------------------------------------------------
// Mutual TLS: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY

/// Checks that a collector requiring client certificates over `protocol` refuses a run without
/// one (every span lost) and takes every signal of a run with `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`
/// and `..._CLIENT_KEY`.
fn assert_mutual_tls_needs_the_client_identity(protocol: &str, transport: Transport) {
    let start = || if protocol == "grpc" { grpc_tls(true) } else { http_tls(true) };
    let c = start();
    let out = run_trusting_ca("hello", &endpoint_for(&c, protocol), protocol)
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    assert_spans_lost(&out, &c);

    let c = start();
    let out = run_trusting_ca("metrics-demo", &endpoint_for(&c, protocol), protocol)
        .env("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &file("client.pem"))
        .env("OTEL_EXPORTER_OTLP_CLIENT_KEY", &file("client-key.pem"))
        .output();
    assert_demo_delivered(&out, &c, transport);
}

#[test]
fn mutual_tls_over_grpc_needs_the_client_certificate_and_key() {
    assert_mutual_tls_needs_the_client_identity("grpc", Transport::Grpc);
}

#[test]
fn mutual_tls_over_http_needs_the_client_certificate_and_key() {
    assert_mutual_tls_needs_the_client_identity("http/protobuf", Transport::Http);
}

#[test]
fn signal_client_certificate_variables_apply_to_their_signal_only() {
    // Every signal trusts the CA; only traces have a client identity, so only spans get in.
    for (c, protocol) in [(grpc_tls(true), "grpc"), (http_tls(true), "http/protobuf")] {
        let out = run_trusting_ca("hello", &endpoint_for(&c, protocol), protocol)
            .env("OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", &file("client.pem"))
            .env("OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", &file("client-key.pem"))
            .env("OTEL_LOGS_EXPORTER", "none")
            .output();
        assert_only_spans_got_through(&out, &c, &format!("{protocol}, only traces have a client identity"));
    }
}

// ---------------------------------------------------------------------------------------------
// OTEL_EXPORTER_OTLP_INSECURE with a TLS collector

#[test]
fn schemeless_grpc_endpoint_means_tls_unless_insecure() {
    // host:port without ..._INSECURE is https: the TLS collector gets the spans.
    let c = grpc_tls(false);
    let schemeless = format!("localhost:{}", c.local_addr().port());
    let out = run_trusting_ca("hello", &schemeless, "grpc").env("OTEL_METRICS_EXPORTER", "none").output();
    assert_exit(&out, 0);
    c.wait_for_spans(5, ARRIVAL_TIMEOUT).expect("TLS to host:port");

    // With ..._INSECURE=true it is plain text, which a TLS server does not accept.
    let c = grpc_tls(false);
    let schemeless = format!("localhost:{}", c.local_addr().port());
    let out = run_trusting_ca("hello", &schemeless, "grpc")
        .env("OTEL_EXPORTER_OTLP_INSECURE", "true")
        .env("OTEL_METRICS_EXPORTER", "none")
        .output();
    assert_spans_lost(&out, &c);
}

#[test]
fn an_https_scheme_wins_over_insecure() {
    // The specification: ..._INSECURE only matters for an endpoint without a scheme.
    for (c, protocol) in [(grpc_tls(false), "grpc"), (http_tls(false), "http/protobuf")] {
        let out = run_trusting_ca("hello", &endpoint_for(&c, protocol), protocol)
            .env("OTEL_EXPORTER_OTLP_INSECURE", "true")
            .env("OTEL_METRICS_EXPORTER", "none")
            .output();
        assert_exit(&out, 0);
        c.wait_for_spans(5, ARRIVAL_TIMEOUT).unwrap_or_else(|e| panic!("{protocol}: still TLS: {e}"));
    }
}
