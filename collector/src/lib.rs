//! A real OTLP receiver (OTLP/gRPC and OTLP/HTTP; traces, metrics, logs) for tests and demos of
//! wasmedge-otel.
//!
//! [`Collector::start`] binds a TCP listener and serves the official OpenTelemetry trace, metrics
//! and logs gRPC services (tonic servers generated from the protobuf definitions by
//! `opentelemetry-proto`) on a tokio runtime that the collector owns on a background thread.
//! [`Collector::start_with`] can serve OTLP/HTTP as well, or instead (`POST /v1/traces`,
//! `/v1/metrics`, `/v1/logs`; protobuf or JSON bodies, optionally gzip-compressed), on the same
//! runtime and into the same store. With [`CollectorConfig::with_tls`] both servers speak TLS only
//! (`https://` endpoints), optionally requiring client certificates (mutual TLS); see
//! [`TlsConfig`]. Everything received is stored with its gRPC metadata or HTTP
//! headers and the [`Transport`] that delivered it, and can be queried synchronously, so plain
//! `#[test]` functions that run a subprocess can assert on what it exported.
//!
//! For reliability tests, [`Collector::fail_next`] makes the collector answer the next exports
//! with a chosen [`Failure`] (gRPC status / HTTP status, optionally with a retry delay), and
//! [`Collector::request_count`] counts every decoded export request, failed ones included.
//!
//! Modules:
//! - this file owns the [`Collector`] handle and [`CollectorConfig`]: binding, the server thread
//!   and its runtime, shutdown, queries;
//! - `error` owns [`CollectorError`];
//! - `received` owns the data handed to callers ([`Received`], [`Transport`], [`ReceivedSpan`],
//!   [`Arrival`]);
//! - `store` owns the shared state both servers write into (requests, spans, subscribers, the
//!   request counter and the failure countdown);
//! - `grpc` owns the three tonic services;
//! - `http` owns the OTLP/HTTP server (hyper) and its status-code mapping;
//! - `tls` owns [`TlsConfig`] and its rustls (ring) forms for both servers;
//! - `failure` owns [`Failure`], the injected answers, in their gRPC and HTTP forms;
//! - `rpc` owns the `google.rpc.Status`/`RetryInfo` messages used in error answers;
//! - `render` owns the human-readable span tree and the JSON-lines output.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasmedge_otel_collector::{render_tree, Collector, CollectorConfig, Transport};
//!
//! let collector = Collector::start("127.0.0.1:0")?; // OTLP/gRPC only
//! // ... run something with OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint() ...
//! let spans = collector.wait_for_spans(3, Duration::from_secs(10))?;
//! println!("{}", render_tree(&spans));
//!
//! // Both transports, on ephemeral ports.
//! let both = Collector::start_with(CollectorConfig::grpc_and_http("127.0.0.1:0", "127.0.0.1:0"))?;
//! let base = both.http_endpoint().unwrap(); // e.g. "http://127.0.0.1:43170"; POST to {base}/v1/traces
//! // ... export over HTTP ...
//! both.wait_for_spans(1, Duration::from_secs(10))?;
//! assert!(both.trace_requests().iter().all(|r| r.transport == Transport::Http));
//! # Ok::<(), wasmedge_otel_collector::CollectorError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod failure;
mod grpc;
mod http;
mod received;
mod render;
mod rpc;
mod store;
mod tls;

use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{oneshot, watch};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

pub use error::CollectorError;
pub use failure::{Failure, GrpcCode};
/// The `opentelemetry-proto` crate this collector decodes with, so callers can name the exact
/// message types (`Span`, `AnyValue`, the generated gRPC clients, ...) without a version mismatch.
pub use opentelemetry_proto;
pub use received::{Arrival, Received, ReceivedSpan, Transport};
pub use render::{logs_json_line, metrics_json_line, render_tree, span_json_line};
pub use tls::TlsConfig;

use store::Store;

/// How long shutdown waits for in-flight requests to finish before dropping connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Largest request either transport accepts, after decompression (the tonic default of 4 MiB is
/// small for batched exports).
pub(crate) const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// How long either server waits for a client to complete its TLS handshake.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which servers [`Collector::start_with`] runs, and where. At least one address must be given.
///
/// Addresses are `host:port` strings as for [`std::net::TcpListener::bind`]; port `0` picks a free
/// port (read it back with [`Collector::grpc_endpoint`] / [`Collector::http_endpoint`]). The OTLP
/// defaults are 4317 for gRPC and 4318 for HTTP.
///
/// ```
/// use wasmedge_otel_collector::CollectorConfig;
///
/// let http_only = CollectorConfig::http("127.0.0.1:0");
/// let both = CollectorConfig::default().with_grpc("127.0.0.1:4317").with_http("127.0.0.1:4318");
/// assert_eq!(both, CollectorConfig::grpc_and_http("127.0.0.1:4317", "127.0.0.1:4318"));
/// assert_eq!(http_only.grpc, None);
/// assert_eq!(both.tls, None); // plain text unless `with_tls` is used
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Where to serve OTLP/gRPC, if at all.
    pub grpc: Option<String>,
    /// Where to serve OTLP/HTTP, if at all.
    pub http: Option<String>,
    /// TLS for every server started (plain text when `None`).
    pub tls: Option<TlsConfig>,
}

impl CollectorConfig {
    /// OTLP/gRPC only, on `addr` (what [`Collector::start`] does).
    pub fn grpc(addr: impl Into<String>) -> CollectorConfig {
        CollectorConfig::default().with_grpc(addr)
    }

    /// OTLP/HTTP only, on `addr`.
    pub fn http(addr: impl Into<String>) -> CollectorConfig {
        CollectorConfig::default().with_http(addr)
    }

    /// OTLP/gRPC on `grpc` and OTLP/HTTP on `http`.
    pub fn grpc_and_http(grpc: impl Into<String>, http: impl Into<String>) -> CollectorConfig {
        CollectorConfig::default().with_grpc(grpc).with_http(http)
    }

    /// The same configuration, also serving OTLP/gRPC on `addr`.
    pub fn with_grpc(self, addr: impl Into<String>) -> CollectorConfig {
        CollectorConfig { grpc: Some(addr.into()), ..self }
    }

    /// The same configuration, also serving OTLP/HTTP on `addr`.
    pub fn with_http(self, addr: impl Into<String>) -> CollectorConfig {
        CollectorConfig { http: Some(addr.into()), ..self }
    }

    /// The same configuration, with every server speaking TLS only, as `tls` says.
    pub fn with_tls(self, tls: TlsConfig) -> CollectorConfig {
        CollectorConfig { tls: Some(tls), ..self }
    }
}

/// A running OTLP receiver. Dropping it (or calling [`Collector::shutdown`]) stops its servers and
/// waits, for a bounded time, for its thread to finish.
pub struct Collector {
    grpc_addr: Option<SocketAddr>,
    http_addr: Option<SocketAddr>,
    /// `https` with TLS, `http` otherwise.
    scheme: &'static str,
    store: Arc<Store>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A listener bound for one transport, handed to the server thread.
struct Bound {
    listener: std::net::TcpListener,
    /// The address as given, for error messages.
    addr: String,
    transport: Transport,
}

impl Bound {
    /// Binds `addr` for `transport`, non-blocking (as tokio wants it), and returns it with the
    /// address actually bound.
    fn new(addr: String, transport: Transport) -> Result<(Bound, SocketAddr), CollectorError> {
        let bind_error = |source| CollectorError::Bind { addr: addr.clone(), transport, source };
        let listener = std::net::TcpListener::bind(&addr).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        Ok((Bound { listener, addr, transport }, local_addr))
    }

    /// The tokio form of the listener (must run inside the runtime).
    fn into_tokio(self) -> Result<tokio::net::TcpListener, CollectorError> {
        let Bound { listener, addr, transport } = self;
        tokio::net::TcpListener::from_std(listener).map_err(|source| CollectorError::Bind {
            addr,
            transport,
            source,
        })
    }
}

impl Collector {
    /// Binds `addr` (e.g. `"127.0.0.1:0"` for an ephemeral port, or `"127.0.0.1:4317"`) and starts
    /// serving the OTLP/gRPC trace, metrics and logs services on it. Same as
    /// `Collector::start_with(CollectorConfig::grpc(addr))`.
    ///
    /// The listener is bound before this returns, so clients may connect immediately. Fails with
    /// [`CollectorError::Bind`] if the address is invalid or in use.
    pub fn start(addr: &str) -> Result<Collector, CollectorError> {
        Collector::start_with(CollectorConfig::grpc(addr))
    }

    /// Starts the servers `config` asks for: OTLP/gRPC, OTLP/HTTP or both, on one tokio runtime,
    /// all storing into the same place (tell them apart with [`Received::transport`]).
    ///
    /// Every listener is bound before this returns. Fails with [`CollectorError::NothingToServe`]
    /// if `config` has no address, with [`CollectorError::Tls`] if its TLS certificate or key
    /// cannot be used, and with [`CollectorError::Bind`] if an address is invalid or in use (then
    /// nothing is left running).
    pub fn start_with(config: CollectorConfig) -> Result<Collector, CollectorError> {
        if config.grpc.is_none() && config.http.is_none() {
            return Err(CollectorError::NothingToServe);
        }
        if let Some(tls) = &config.tls {
            tls.check()?;
        }
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        let (grpc, grpc_addr) = match config.grpc {
            Some(addr) => {
                Bound::new(addr, Transport::Grpc).map(|(bound, local)| (Some(bound), Some(local)))?
            }
            None => (None, None),
        };
        let (http, http_addr) = match config.http {
            Some(addr) => {
                Bound::new(addr, Transport::Http).map(|(bound, local)| (Some(bound), Some(local)))?
            }
            None => (None, None),
        };

        let store = Arc::new(Store::default());
        let (stop, stop_received) = oneshot::channel();
        let (ready, ready_received) = mpsc::channel();
        let thread_store = Arc::clone(&store);
        let thread = std::thread::Builder::new()
            .name("otlp-collector".into())
            .spawn(move || serve(grpc, http, config.tls, thread_store, stop_received, ready))
            .map_err(CollectorError::Runtime)?;

        match ready_received.recv() {
            Ok(Ok(())) => {
                Ok(Collector { grpc_addr, http_addr, scheme, store, stop: Some(stop), thread: Some(thread) })
            }
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => {
                let _ = thread.join();
                Err(CollectorError::Server("the server thread exited during startup".into()))
            }
        }
    }

    /// The address the gRPC server actually bound (with the real port when `:0` was asked for).
    ///
    /// # Panics
    /// If the collector serves no gRPC (started with [`Collector::start_with`] without
    /// [`CollectorConfig::grpc`]); see [`Collector::grpc_addr`] for the non-panicking form.
    pub fn local_addr(&self) -> SocketAddr {
        self.grpc_addr.expect("this collector serves no OTLP/gRPC; use grpc_addr() or http_addr()")
    }

    /// The address the gRPC server bound, if the collector serves gRPC.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_addr
    }

    /// The address the HTTP server bound, if the collector serves HTTP.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The endpoint to give an OTLP/gRPC exporter, e.g. `http://127.0.0.1:4317` (`https://` with
    /// TLS).
    ///
    /// # Panics
    /// If the collector serves no gRPC; see [`Collector::grpc_endpoint`].
    pub fn endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.local_addr())
    }

    /// The OTLP/gRPC endpoint (e.g. `http://127.0.0.1:4317`; `https://` with TLS), if the collector
    /// serves gRPC.
    pub fn grpc_endpoint(&self) -> Option<String> {
        self.grpc_addr.map(|addr| format!("{}://{addr}", self.scheme))
    }

    /// The OTLP/HTTP base URL without a path (e.g. `http://127.0.0.1:4318`; `https://` with TLS), if
    /// the collector serves HTTP. It is what `OTEL_EXPORTER_OTLP_ENDPOINT` takes; the per-signal URLs (and
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` and friends) append `/v1/traces`, `/v1/metrics` and
    /// `/v1/logs`.
    pub fn http_endpoint(&self) -> Option<String> {
        self.http_addr.map(|addr| format!("{}://{addr}", self.scheme))
    }

    /// Whether the servers speak TLS ([`CollectorConfig::with_tls`]).
    pub fn is_tls(&self) -> bool {
        self.scheme == "https"
    }

    /// Every span received so far, flattened out of the trace requests, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans()
    }

    /// Waits until at least `n` spans have been received and returns all received spans.
    ///
    /// Fails with [`CollectorError::Timeout`] if fewer than `n` arrived within `timeout`, and with
    /// [`CollectorError::Server`] if the gRPC server has stopped with an error.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Result<Vec<ReceivedSpan>, CollectorError> {
        self.store.wait_for_spans(n, timeout)
    }

    /// Every trace export request received so far, with its metadata and transport, in arrival
    /// order.
    pub fn trace_requests(&self) -> Vec<Received<ExportTraceServiceRequest>> {
        self.store.traces()
    }

    /// Every metrics export request received so far, with its metadata and transport, in arrival
    /// order.
    pub fn metric_requests(&self) -> Vec<Received<ExportMetricsServiceRequest>> {
        self.store.metrics()
    }

    /// Every logs export request received so far, with its metadata and transport, in arrival
    /// order.
    pub fn log_requests(&self) -> Vec<Received<ExportLogsServiceRequest>> {
        self.store.logs()
    }

    /// A channel that yields one [`Arrival`] per request: first one for each request already
    /// received (traces, then metrics, then logs), then one for each new request as it arrives,
    /// whichever transport delivered it. The channel disconnects when the collector shuts down.
    pub fn subscribe(&self) -> mpsc::Receiver<Arrival> {
        self.store.subscribe()
    }

    /// Answers the next `n` export requests (any signal, either transport) with `failure` instead
    /// of storing them; later ones are accepted again. Replaces any earlier `fail_next` still in
    /// effect; `n == 0` cancels it.
    ///
    /// A failed request is still decoded and counted by [`Collector::request_count`]. Requests
    /// rejected before that (an undecodable body, an unknown path, ...) use up no failure.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use wasmedge_otel_collector::{Collector, CollectorConfig, Failure};
    ///
    /// let collector = Collector::start_with(CollectorConfig::http("127.0.0.1:0"))?;
    /// // Two exports get `503 Service Unavailable` with `Retry-After: 1`, the third is stored.
    /// collector.fail_next(2, Failure::UNAVAILABLE.with_retry_after(Duration::from_secs(1)));
    /// // ... run an exporter that retries ...
    /// collector.wait_for_spans(1, Duration::from_secs(30))?;
    /// assert_eq!(collector.request_count(), 3);
    /// # Ok::<(), wasmedge_otel_collector::CollectorError>(())
    /// ```
    pub fn fail_next(&self, n: usize, failure: Failure) {
        self.store.fail_next(n, failure);
    }

    /// How many export requests (any signal, either transport) have been decoded so far, including
    /// those answered with an injected [`Failure`]. Undecodable requests are not counted.
    pub fn request_count(&self) -> usize {
        self.store.request_count()
    }

    /// Stops the servers and waits (for a bounded time) for them to finish. Same as dropping.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Disconnect subscribers so that they see the end of the stream.
        self.store.close();
    }
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("grpc_addr", &self.grpc_addr)
            .field("http_addr", &self.http_addr)
            .field("tls", &self.is_tls())
            .finish_non_exhaustive()
    }
}

/// Body of the server thread: builds the one runtime both servers share, reports readiness on
/// `ready`, serves until `stop` fires (or its sender is dropped), then allows [`SHUTDOWN_GRACE`]
/// for in-flight requests.
fn serve(
    grpc: Option<Bound>,
    http: Option<Bound>,
    tls: Option<TlsConfig>,
    store: Arc<Store>,
    stop: oneshot::Receiver<()>,
    ready: mpsc::Sender<Result<(), CollectorError>>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("otlp-collector-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(CollectorError::Runtime(error)));
            return;
        }
    };

    runtime.block_on(async move {
        let listeners = grpc
            .map(Bound::into_tokio)
            .transpose()
            .and_then(|grpc| Ok((grpc, http.map(Bound::into_tokio).transpose()?)));
        let (grpc_listener, http_listener) = match listeners {
            Ok(listeners) => listeners,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };

        // The TLS forms, checked before anything is served (start_with checked the PEM data).
        let mut builder = Server::builder();
        let mut http_tls = None;
        if let Some(tls) = &tls {
            let configured = builder
                .tls_config(tls.grpc())
                .map_err(|e| CollectorError::Tls(e.to_string()))
                .and_then(|b| Ok((b, tls.http_acceptor()?)));
            match configured {
                Ok((b, acceptor)) => {
                    builder = b;
                    http_tls = Some(acceptor);
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            }
        }

        // Changing (or dropping) `shutdown` tells both servers to stop accepting and wind down.
        let (shutdown, shutdown_received) = watch::channel(());
        let grpc = grpc_listener.map(|listener| {
            let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
            let (trace, metrics, logs) = grpc::services(&store);
            let mut shutdown_received = shutdown_received.clone();
            let server = builder.add_service(trace).add_service(metrics).add_service(logs);
            let server = server.serve_with_incoming_shutdown(incoming, async move {
                let _ = shutdown_received.changed().await;
            });
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                if let Err(error) = server.await {
                    store.set_server_error(error.to_string());
                }
            })
        });
        let http = http_listener.map(|listener| {
            tokio::spawn(http::serve(listener, http_tls, Arc::clone(&store), shutdown_received))
        });
        let _ = ready.send(Ok(()));

        let _ = stop.await;
        let _ = shutdown.send(());
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, async move {
            for server in grpc.into_iter().chain(http) {
                let _ = server.await;
            }
        })
        .await;
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
}
