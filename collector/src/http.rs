//! The OTLP/HTTP receiver: `POST /v1/traces`, `/v1/metrics` and `/v1/logs` on hyper 1 (HTTP/1.1,
//! and HTTP/2 with prior knowledge), per <https://opentelemetry.io/docs/specs/otlp/#otlphttp>.
//!
//! A request body is an `Export{Trace,Metrics,Logs}ServiceRequest`, either binary protobuf
//! (`Content-Type: application/x-protobuf`) or OTLP/JSON (`application/json`, decoded with the
//! serde support `opentelemetry-proto` generates under its `with-serde` feature), optionally
//! `Content-Encoding: gzip`. A decoded request is counted, answered with an injected
//! [`Failure`](crate::Failure) if one is due, or else stored in the shared [`Store`] with all its
//! HTTP headers as metadata and [`Transport::Http`], and acknowledged with `200` and an empty
//! `Export*ServiceResponse` in the request's format.
//!
//! Errors carry a `google.rpc.Status` body in the request's format (protobuf when the format is
//! unknown): `400` undecodable body (bad protobuf, bad JSON, bad gzip), `404` unknown path, `405`
//! a method other than `POST` (with `Allow: POST`), `413` a body over 64 MiB (before or after
//! decompression), `415` a `Content-Type` other than the two above or a `Content-Encoding` other
//! than `gzip`/`identity`. This module owns the HTTP server loop (plain text or TLS) and that
//! mapping.

use std::convert::Infallible;
use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::failure::{Failure, GrpcCode};
use crate::received::{header_pairs, Received, Transport};
use crate::rpc::RpcStatus;
use crate::store::Store;
use crate::{MAX_MESSAGE_BYTES, TLS_HANDSHAKE_TIMEOUT};

/// The media type of binary protobuf bodies.
const PROTOBUF: &str = "application/x-protobuf";
/// The media type of OTLP/JSON bodies.
const JSON: &str = "application/json";

/// Serves OTLP/HTTP on `listener` until `shutdown` changes (or its sender is dropped), then stops
/// accepting, closes the listener and waits for open connections to finish their requests. With
/// `tls`, every connection is a TLS one (a client that fails the handshake within
/// [`TLS_HANDSHAKE_TIMEOUT`] is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    store: Arc<Store>,
    mut shutdown: watch::Receiver<()>,
) {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let store = Arc::clone(&store);
                    let service = service_fn(move |request| {
                        let store = Arc::clone(&store);
                        async move { Ok::<_, Infallible>(handle(&store, request).await) }
                    });
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        // A client that hangs up, fails the handshake or speaks garbage only ends
                        // its own connection.
                        match tls {
                            None => {
                                let connection = builder.serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(connection.into_owned()).await;
                            }
                            Some(tls) => {
                                let Ok(Ok(stream)) =
                                    tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                                else {
                                    return;
                                };
                                let connection = builder.serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(connection.into_owned()).await;
                            }
                        }
                    });
                }
                // Typically out of file descriptors: back off briefly instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The body format of a request, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// The format named by `headers`' `Content-Type` (parameters such as `charset` are ignored).
    fn of(headers: &HeaderMap) -> Option<Format> {
        let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let media_type = value.split(';').next().unwrap_or_default().trim();
        if media_type.eq_ignore_ascii_case(PROTOBUF) {
            Some(Format::Protobuf)
        } else if media_type.eq_ignore_ascii_case(JSON) {
            Some(Format::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Format::Protobuf => PROTOBUF,
            Format::Json => JSON,
        })
    }
}

/// An export request type of one signal, with how to decode it and acknowledge it.
trait Export: prost::Message + Default + DeserializeOwned + Sized {
    /// The matching (empty, fully successful) response message.
    type Response: prost::Message + Default;
    /// Stores a received request of this signal.
    fn store(store: &Store, received: Received<Self>);
}

impl Export for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    fn store(store: &Store, received: Received<Self>) {
        store.add_traces(received);
    }
}

impl Export for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    fn store(store: &Store, received: Received<Self>) {
        store.add_metrics(received);
    }
}

impl Export for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    fn store(store: &Store, received: Received<Self>) {
        store.add_logs(received);
    }
}

/// An HTTP response with a fully buffered body.
type HttpResponse = Response<Full<Bytes>>;

/// The handler of one signal's endpoint: [`export`] for that signal's request type.
type ExportFn = fn(&Store, Format, &[u8], Vec<(String, String)>) -> HttpResponse;

/// Answers one HTTP request.
async fn handle(store: &Store, request: Request<Incoming>) -> HttpResponse {
    let format = Format::of(request.headers());
    // Errors are reported in the request's format when it has a known one.
    let reply_format = format.unwrap_or(Format::Protobuf);
    let path = request.uri().path();
    let export: ExportFn = match path {
        "/v1/traces" => export::<ExportTraceServiceRequest>,
        "/v1/metrics" => export::<ExportMetricsServiceRequest>,
        "/v1/logs" => export::<ExportLogsServiceRequest>,
        _ => {
            let message =
                format!("no OTLP/HTTP endpoint at {path:?}; use /v1/traces, /v1/metrics or /v1/logs");
            return error(reply_format, StatusCode::NOT_FOUND, GrpcCode::NotFound, &message);
        }
    };
    if request.method() != Method::POST {
        let message = format!("{} is not allowed on {path}; OTLP/HTTP exports use POST", request.method());
        let mut response =
            error(reply_format, StatusCode::METHOD_NOT_ALLOWED, GrpcCode::Unimplemented, &message);
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let Some(format) = format else {
        let given =
            request.headers().get(CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let message = format!("Content-Type must be {PROTOBUF} or {JSON}, not {given:?}");
        return error(reply_format, StatusCode::UNSUPPORTED_MEDIA_TYPE, GrpcCode::InvalidArgument, &message);
    };
    let gzip = match request.headers().get(CONTENT_ENCODING).map(|v| v.to_str().map(str::trim)) {
        None => false,
        Some(Ok(encoding)) if encoding.eq_ignore_ascii_case("identity") => false,
        Some(Ok(encoding))
            if encoding.eq_ignore_ascii_case("gzip") || encoding.eq_ignore_ascii_case("x-gzip") =>
        {
            true
        }
        Some(_) => {
            let given = request
                .headers()
                .get(CONTENT_ENCODING)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let message = format!("Content-Encoding must be gzip or identity, not {given:?}");
            return error(format, StatusCode::UNSUPPORTED_MEDIA_TYPE, GrpcCode::InvalidArgument, &message);
        }
    };

    let metadata = header_pairs(request.headers());
    let body = match Limited::new(request.into_body(), MAX_MESSAGE_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(cause) if cause.is::<LengthLimitError>() => return too_large(format),
        Err(cause) => {
            let message = format!("cannot read the request body: {cause}");
            return error(format, StatusCode::BAD_REQUEST, GrpcCode::InvalidArgument, &message);
        }
    };
    let body = if gzip {
        let mut plain = Vec::new();
        let limit = u64::try_from(MAX_MESSAGE_BYTES).unwrap_or(u64::MAX).saturating_add(1);
        if let Err(cause) = flate2::read::MultiGzDecoder::new(&body[..]).take(limit).read_to_end(&mut plain) {
            let message = format!("cannot gunzip the request body: {cause}");
            return error(format, StatusCode::BAD_REQUEST, GrpcCode::InvalidArgument, &message);
        }
        if plain.len() > MAX_MESSAGE_BYTES {
            return too_large(format);
        }
        Bytes::from(plain)
    } else {
        body
    };
    export(store, format, &body, metadata)
}

/// Decodes `body` as a `T`, then fails it, or stores it and acknowledges it.
fn export<T: Export>(
    store: &Store,
    format: Format,
    body: &[u8],
    metadata: Vec<(String, String)>,
) -> HttpResponse {
    let decoded = match format {
        Format::Protobuf => T::decode(body).map_err(|cause| format!("invalid protobuf body: {cause}")),
        Format::Json => {
            serde_json::from_slice::<T>(body).map_err(|cause| format!("invalid OTLP/JSON body: {cause}"))
        }
    };
    let request = match decoded {
        Ok(request) => request,
        Err(message) => return error(format, StatusCode::BAD_REQUEST, GrpcCode::InvalidArgument, &message),
    };
    if let Some(failure) = store.begin_request() {
        return failed(format, &failure);
    }
    T::store(store, Received { request, metadata, transport: Transport::Http });
    let body = match format {
        Format::Protobuf => Bytes::from(T::Response::default().encode_to_vec()),
        // An empty `partial_success` is an empty object in OTLP/JSON.
        Format::Json => Bytes::from_static(b"{}"),
    };
    response(StatusCode::OK, format, body)
}

/// A response with `status`, a body in `format` and the matching `Content-Type`.
fn response(status: StatusCode, format: Format, body: Bytes) -> HttpResponse {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, format.content_type());
    response
}

/// An error response whose body is a `google.rpc.Status` with `code` and `message`.
fn error(format: Format, status: StatusCode, code: GrpcCode, message: &str) -> HttpResponse {
    let status_message = RpcStatus::new(code as i32, message, None);
    let body = match format {
        Format::Protobuf => status_message.to_bytes(),
        Format::Json => status_message.to_json(),
    };
    response(status, format, body)
}

/// `413 Payload Too Large`.
fn too_large(format: Format) -> HttpResponse {
    let message = format!("the request body is larger than {MAX_MESSAGE_BYTES} bytes");
    error(format, StatusCode::PAYLOAD_TOO_LARGE, GrpcCode::ResourceExhausted, &message)
}

/// The response for an injected `failure`: its status, a `google.rpc.Status` body (with a
/// `RetryInfo` detail in protobuf) and `Retry-After` when it has a delay.
fn failed(format: Format, failure: &Failure) -> HttpResponse {
    let status = StatusCode::from_u16(failure.http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let rpc_status = RpcStatus::new(failure.grpc_code as i32, &failure.message(), failure.retry_after);
    let body = match format {
        Format::Protobuf => rpc_status.to_bytes(),
        Format::Json => rpc_status.to_json(),
    };
    let mut response = response(status, format, body);
    if let Some(seconds) = failure.retry_after_header().and_then(|value| HeaderValue::from_str(&value).ok()) {
        response.headers_mut().insert(RETRY_AFTER, seconds);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_recognised_with_parameters_and_any_case() {
        let format = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
            Format::of(&headers)
        };
        assert_eq!(format("application/x-protobuf"), Some(Format::Protobuf));
        assert_eq!(format("Application/JSON; charset=utf-8"), Some(Format::Json));
        assert_eq!(format("text/plain"), None);
        assert_eq!(Format::of(&HeaderMap::new()), None);
    }

    #[test]
    fn decoding_storing_and_failing() {
        let store = Store::default();
        let ok = export::<ExportLogsServiceRequest>(&store, Format::Json, b"{\"resourceLogs\":[]}", vec![]);
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[CONTENT_TYPE], JSON);
        let bad = export::<ExportLogsServiceRequest>(&store, Format::Json, b"{", vec![]);
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let bad = export::<ExportTraceServiceRequest>(&store, Format::Protobuf, b"\xff\xff", vec![]);
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert_eq!(store.request_count(), 1, "undecodable requests are not counted");

        store.fail_next(1, Failure::new(GrpcCode::Internal, 1000));
        let failed = export::<ExportTraceServiceRequest>(&store, Format::Protobuf, b"", vec![]);
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR, "an invalid status becomes 500");
        assert!(failed.headers().get(RETRY_AFTER).is_none());
        assert_eq!(store.request_count(), 2);
        assert_eq!(store.logs().len(), 1);
        assert!(store.traces().is_empty());
    }
}
