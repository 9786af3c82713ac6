//! `wasmedge-otel-collector`: run the OTLP receiver (gRPC, and HTTP when asked) from the command
//! line, print what arrives as JSON lines and/or a span tree, and exit when idle, on timeout or on
//! Ctrl-C/SIGTERM.
//!
//! This file owns argument parsing and the wait loop; receiving and rendering live in the library.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmedge_otel_collector::{
    logs_json_line, metrics_json_line, render_tree, span_json_line, Arrival, Collector, CollectorConfig,
    TlsConfig,
};

const USAGE: &str = "\
usage: wasmedge-otel-collector [--listen ADDR] [--http-listen ADDR] [--format json|tree|both]
                               [--exit-when-idle SECS] [--timeout SECS]
                               [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]

Receives OTLP traces, metrics and logs (gRPC, and HTTP if --http-listen is given) and prints them.

  --listen ADDR          OTLP/gRPC address (default 127.0.0.1:4317; port 0 picks a free port)
  --http-listen ADDR     also serve OTLP/HTTP (POST /v1/traces, /v1/metrics, /v1/logs; protobuf or
                         JSON, optionally gzip) on ADDR, e.g. 127.0.0.1:4318; off by default
  --format FORMAT        json: one JSON line per span (and per metrics/logs request) as it arrives;
                         tree: the span tree at exit; both (default): the two together
  --exit-when-idle SECS  after the first data arrives, exit once nothing new came for SECS seconds
  --timeout SECS         exit after SECS seconds at the latest
  --tls-cert FILE        serve TLS only (https://), on every server, with this PEM certificate
                         chain (leaf first); needs --tls-key
  --tls-key FILE         the PEM private key of --tls-cert
  --tls-client-ca FILE   mutual TLS: require client certificates issued by this PEM CA
  -h, --help             print this help

Prints \"listening on http://ADDR\" (gRPC; https:// with --tls-cert) to stderr once bound, then
\"listening for OTLP/HTTP on http://ADDR\" with --http-listen. Runs until idle, timeout, Ctrl-C or
SIGTERM. Data from both transports is printed the same way.
Exit status: 0 if any span arrived, or if neither --exit-when-idle nor --timeout was given;
1 otherwise (e.g. the timeout expired with no span) or on a startup error; 2 on bad arguments.";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Options {
    listen: String,
    http_listen: Option<String>,
    json: bool,
    tree: bool,
    exit_when_idle: Option<Duration>,
    timeout: Option<Duration>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    tls_client_ca: Option<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Run(Options),
    Help,
}

/// Parses the arguments after the program name.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options {
        listen: "127.0.0.1:4317".to_owned(),
        http_listen: None,
        json: true,
        tree: true,
        exit_when_idle: None,
        timeout: None,
        tls_cert: None,
        tls_key: None,
        tls_client_ca: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        if !matches!(
            flag.as_str(),
            "--listen"
                | "--http-listen"
                | "--format"
                | "--exit-when-idle"
                | "--timeout"
                | "--tls-cert"
                | "--tls-key"
                | "--tls-client-ca"
        ) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(value) => value,
            None => return Err(format!("{flag} needs a value")),
        };
        match flag.as_str() {
            "--listen" => options.listen = value,
            "--http-listen" => options.http_listen = Some(value),
            "--tls-cert" => options.tls_cert = Some(value),
            "--tls-key" => options.tls_key = Some(value),
            "--tls-client-ca" => options.tls_client_ca = Some(value),
            "--format" => {
                (options.json, options.tree) = match value.as_str() {
                    "json" => (true, false),
                    "tree" => (false, true),
                    "both" => (true, true),
                    _ => return Err(format!("--format must be json, tree or both, not {value:?}")),
                }
            }
            "--exit-when-idle" => options.exit_when_idle = Some(parse_seconds(&flag, &value)?),
            _ => options.timeout = Some(parse_seconds(&flag, &value)?),
        }
    }
    if options.tls_cert.is_some() != options.tls_key.is_some() {
        return Err("--tls-cert and --tls-key go together".to_owned());
    }
    if options.tls_client_ca.is_some() && options.tls_cert.is_none() {
        return Err("--tls-client-ca needs --tls-cert and --tls-key".to_owned());
    }
    Ok(Command::Run(options))
}

/// A non-negative, finite number of seconds (fractions allowed).
fn parse_seconds(flag: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("{flag} needs a number of seconds, not {value:?}"))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("wasmedge-otel-collector: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    run(&options)
}

/// Why the wait loop ended.
#[derive(Debug, PartialEq)]
enum End {
    Idle,
    Timeout,
    Interrupted,
    ServerGone,
}

/// The TLS configuration the options ask for, read from its files.
fn tls_config(options: &Options) -> std::io::Result<Option<TlsConfig>> {
    let (Some(cert), Some(key)) = (&options.tls_cert, &options.tls_key) else {
        return Ok(None);
    };
    let mut tls = TlsConfig::from_files(cert, key)?;
    if let Some(ca) = &options.tls_client_ca {
        tls = tls.with_client_ca(
            std::fs::read(ca).map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {ca}: {e}")))?,
        );
    }
    Ok(Some(tls))
}

fn run(options: &Options) -> ExitCode {
    let tls = match tls_config(options) {
        Ok(tls) => tls,
        Err(error) => {
            eprintln!("wasmedge-otel-collector: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config =
        CollectorConfig { grpc: Some(options.listen.clone()), http: options.http_listen.clone(), tls };
    let collector = match Collector::start_with(config) {
        Ok(collector) => collector,
        Err(error) => {
            eprintln!("wasmedge-otel-collector: {error}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("listening on {}", collector.endpoint());
    if let Some(http) = collector.http_endpoint() {
        eprintln!("listening for OTLP/HTTP on {http}");
    }
    let interrupted = watch_for_signals();
    let arrivals = collector.subscribe();

    let started = Instant::now();
    let deadline = options.timeout.map(|timeout| started + timeout);
    let mut last_data: Option<Instant> = None;
    let mut stdout = std::io::stdout();
    let end = loop {
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            break End::Timeout;
        }
        if let (Some(idle), Some(last)) = (options.exit_when_idle, last_data) {
            if now >= last + idle {
                break End::Idle;
            }
        }
        if interrupted.load(Ordering::SeqCst) {
            break End::Interrupted;
        }
        // Wake up at the next deadline, but at least every 100 ms to notice a signal.
        let mut wait = Duration::from_millis(100);
        if let Some(deadline) = deadline {
            wait = wait.min(deadline - now);
        }
        if let (Some(idle), Some(last)) = (options.exit_when_idle, last_data) {
            wait = wait.min((last + idle).saturating_duration_since(now));
        }
        match arrivals.recv_timeout(wait) {
            Ok(arrival) => {
                last_data = Some(Instant::now());
                let lines: Vec<String> = match &arrival {
                    Arrival::Spans(spans) => spans.iter().map(span_json_line).collect(),
                    Arrival::Metrics(received) => vec![metrics_json_line(&received.request)],
                    Arrival::Logs(received) => vec![logs_json_line(&received.request)],
                };
                if options.json {
                    let mut out = stdout.lock();
                    for line in lines {
                        // A closed stdout must not kill the collector; the tree goes nowhere then too.
                        let _ = writeln!(out, "{line}");
                    }
                    let _ = out.flush();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break End::ServerGone,
        }
    };

    let spans = collector.spans();
    collector.shutdown();
    match end {
        End::Idle => eprintln!("no new data for {:?}; exiting", options.exit_when_idle.unwrap_or_default()),
        End::Timeout => eprintln!("timeout after {:?}; exiting", options.timeout.unwrap_or_default()),
        End::Interrupted => eprintln!("interrupted; exiting"),
        End::ServerGone => eprintln!("the server stopped; exiting"),
    }
    eprintln!("received {} span(s)", spans.len());
    if options.tree {
        let _ = write!(stdout, "{}", render_tree(&spans));
        let _ = stdout.flush();
    }

    let bounded = options.exit_when_idle.is_some() || options.timeout.is_some();
    if !spans.is_empty() || !bounded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A flag set when Ctrl-C (or, on Unix, SIGTERM) is received, watched by a small runtime on its
/// own thread. If the handlers cannot be installed the flag simply never gets set.
fn watch_for_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let Ok(runtime) = runtime else {
        return flag;
    };
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
        runtime.block_on(async move {
            #[cfg(unix)]
            let terminate = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<()>();
            tokio::select! {
                result = tokio::signal::ctrl_c() => {
                    if result.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                () = terminate => {}
            }
            set.store(true, Ordering::SeqCst);
        });
    });
    drop(spawned);
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults() {
        assert_eq!(
            parse(&[]),
            Ok(Command::Run(Options {
                listen: "127.0.0.1:4317".into(),
                http_listen: None,
                json: true,
                tree: true,
                exit_when_idle: None,
                timeout: None,
                tls_cert: None,
                tls_key: None,
                tls_client_ca: None,
            }))
        );
    }

    #[test]
    fn all_flags_in_both_spellings() {
        let parsed = parse(&[
            "--listen",
            "0.0.0.0:0",
            "--http-listen=127.0.0.1:4318",
            "--format=tree",
            "--exit-when-idle",
            "1.5",
            "--timeout=30",
            "--tls-cert",
            "server.pem",
            "--tls-key=server-key.pem",
            "--tls-client-ca",
            "ca.pem",
        ]);
        assert_eq!(
            parsed,
            Ok(Command::Run(Options {
                listen: "0.0.0.0:0".into(),
                http_listen: Some("127.0.0.1:4318".into()),
                json: false,
                tree: true,
                exit_when_idle: Some(Duration::from_millis(1500)),
                timeout: Some(Duration::from_secs(30)),
                tls_cert: Some("server.pem".into()),
                tls_key: Some("server-key.pem".into()),
                tls_client_ca: Some("ca.pem".into()),
            }))
        );
        assert_eq!(parse(&["--timeout", "1", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_rejected() {
        assert!(parse(&["--format", "xml"]).is_err());
        assert!(parse(&["--timeout"]).is_err());
        assert!(parse(&["--http-listen"]).is_err());
        assert!(parse(&["--timeout", "-1"]).is_err());
        assert!(parse(&["--timeout", "soon"]).is_err());
        assert!(parse(&["--exit-when-idle", "inf"]).is_err());
        assert!(parse(&["extra"]).is_err());
        assert!(parse(&["--tls-cert", "server.pem"]).is_err(), "a certificate needs its key");
        assert!(parse(&["--tls-key", "server-key.pem"]).is_err(), "a key needs its certificate");
        assert!(parse(&["--tls-client-ca", "ca.pem"]).is_err(), "mutual TLS needs TLS");
    }
}
