//! A real OTLP/gRPC receiver for tests and demos of wasmedge-otel.
//!
//! [`Collector::start`] binds a TCP listener and serves the official OpenTelemetry trace, metrics
//! and logs gRPC services (tonic servers generated from the protobuf definitions by
//! `opentelemetry-proto`) on a tokio runtime that the collector owns on a background thread.
//! Everything received is stored with its gRPC metadata and can be queried synchronously, so plain
//! `#[test]` functions that run a subprocess can assert on what it exported.
//!
//! Modules:
//! - this file owns the [`Collector`] handle: binding, the server thread, shutdown, queries;
//! - `error` owns [`CollectorError`];
//! - `received` owns the data handed to callers ([`Received`], [`ReceivedSpan`], [`Arrival`]);
//! - `service` owns the three tonic services and the shared store they write into;
//! - `render` owns the human-readable span tree and the JSON-lines output.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasmedge_otel_collector::{render_tree, Collector};
//!
//! let collector = Collector::start("127.0.0.1:0")?;
//! // ... run something with OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint() ...
//! let spans = collector.wait_for_spans(3, Duration::from_secs(10))?;
//! println!("{}", render_tree(&spans));
//! # Ok::<(), wasmedge_otel_collector::CollectorError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod received;
mod render;
mod service;

use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::sync::{oneshot, Notify};
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

pub use error::CollectorError;
/// The `opentelemetry-proto` crate this collector decodes with, so callers can name the exact
/// message types (`Span`, `AnyValue`, the generated gRPC clients, ...) without a version mismatch.
pub use opentelemetry_proto;
pub use received::{Arrival, Received, ReceivedSpan};
pub use render::{logs_json_line, metrics_json_line, render_tree, span_json_line};

use service::Store;

/// How long shutdown waits for in-flight requests to finish before dropping connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A running OTLP/gRPC receiver. Dropping it (or calling [`Collector::shutdown`]) stops the server
/// and waits, for a bounded time, for its thread to finish.
pub struct Collector {
    local_addr: SocketAddr,
    store: Arc<Store>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Collector {
    /// Binds `addr` (e.g. `"127.0.0.1:0"` for an ephemeral port, or `"127.0.0.1:4317"`) and starts
    /// serving the OTLP trace, metrics and logs services on it.
    ///
    /// The listener is bound before this returns, so clients may connect immediately. Fails with
    /// [`CollectorError::Bind`] if the address is invalid or in use.
    pub fn start(addr: &str) -> Result<Collector, CollectorError> {
        let bind_error = |source| CollectorError::Bind { addr: addr.to_owned(), source };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;

        let store = Arc::new(Store::default());
        let (stop, stop_received) = oneshot::channel();
        let (ready, ready_received) = mpsc::channel();
        let thread_store = Arc::clone(&store);
        let addr_owned = addr.to_owned();
        let thread = std::thread::Builder::new()
            .name("otlp-collector".into())
            .spawn(move || serve(listener, addr_owned, thread_store, stop_received, ready))
            .map_err(CollectorError::Runtime)?;

        match ready_received.recv() {
            Ok(Ok(())) => Ok(Collector { local_addr, store, stop: Some(stop), thread: Some(thread) }),
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

    /// The address actually bound (with the real port when `:0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint to give an OTLP/gRPC exporter, e.g. `http://127.0.0.1:4317`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Every span received so far, flattened out of the trace requests, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans()
    }

    /// Waits until at least `n` spans have been received and returns all received spans.
    ///
    /// Fails with [`CollectorError::Timeout`] if fewer than `n` arrived within `timeout`, and with
    /// [`CollectorError::Server`] if the server has stopped with an error.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Result<Vec<ReceivedSpan>, CollectorError> {
        self.store.wait_for_spans(n, timeout)
    }

    /// Every trace export request received so far, with its gRPC metadata, in arrival order.
    pub fn trace_requests(&self) -> Vec<Received<ExportTraceServiceRequest>> {
        self.store.traces()
    }

    /// Every metrics export request received so far, with its gRPC metadata, in arrival order.
    pub fn metric_requests(&self) -> Vec<Received<ExportMetricsServiceRequest>> {
        self.store.metrics()
    }

    /// Every logs export request received so far, with its gRPC metadata, in arrival order.
    pub fn log_requests(&self) -> Vec<Received<ExportLogsServiceRequest>> {
        self.store.logs()
    }

    /// A channel that yields one [`Arrival`] per request: first one for each request already
    /// received (traces, then metrics, then logs), then one for each new request as it arrives.
    /// The channel disconnects when the collector shuts down.
    pub fn subscribe(&self) -> mpsc::Receiver<Arrival> {
        self.store.subscribe()
    }

    /// Stops the server and waits (for a bounded time) for it to finish. Same as dropping.
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
        f.debug_struct("Collector").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

/// Body of the server thread: builds the runtime, reports readiness on `ready`, serves until
/// `stop` fires (or its sender is dropped), then allows [`SHUTDOWN_GRACE`] for in-flight requests.
fn serve(
    listener: std::net::TcpListener,
    addr: String,
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

    let server_store = Arc::clone(&store);
    let result = runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(source) => {
                let _ = ready.send(Err(CollectorError::Bind { addr, source }));
                return Ok(());
            }
        };
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let (trace, metrics, logs) = service::services(&server_store);

        let stopping = Arc::new(Notify::new());
        let stopping_signal = Arc::clone(&stopping);
        let server = Server::builder().add_service(trace).add_service(metrics).add_service(logs);
        let server = server.serve_with_incoming_shutdown(incoming, async move {
            let _ = stop.await;
            stopping_signal.notify_one();
        });
        let _ = ready.send(Ok(()));

        tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => Ok(()),
        }
    });
    if let Err(error) = result {
        store.set_server_error(error.to_string());
    }
    runtime.shutdown_timeout(Duration::from_millis(200));
}
