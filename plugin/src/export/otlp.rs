//! Building OTLP exporters from an [`OtlpConfig`]: the transport (gRPC or HTTP/protobuf), the
//! resolved endpoint, headers, timeout, compression and TLS. Every value is passed explicitly, so
//! what is exported follows the plugin's own reading of the environment (one set of rules, one set
//! of warnings), not a second reading inside opentelemetry-otlp.

use super::config::{Compression, OtlpConfig, Protocol};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an exporter could not be built.
pub type BuildError = String;

/// The gRPC metadata for the configured headers. Invalid names or values were already refused
/// by the configuration; anything tonic still refuses is skipped.
pub fn grpc_metadata(otlp: &OtlpConfig) -> MetadataMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in &otlp.headers {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_str(value))
        {
            headers.insert(name, value);
        }
    }
    MetadataMap::from_headers(headers)
}

/// The HTTP headers for the configured headers.
pub fn http_headers(otlp: &OtlpConfig) -> HashMap<String, String> {
    otlp.headers.iter().cloned().collect()
}

/// The exporter crate's compression for the configured one.
pub fn compression(otlp: &OtlpConfig) -> Option<opentelemetry_otlp::Compression> {
    otlp.compression.map(|Compression::Gzip| opentelemetry_otlp::Compression::Gzip)
}

/// Reads a PEM file named by a `..._CERTIFICATE`, `..._CLIENT_CERTIFICATE` or `..._CLIENT_KEY`
/// variable; `what` names it in the error.
fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
}

/// The certificates of a PEM file: at least one, and all of them well-formed.
fn pem_certificates(pem: &[u8], path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the {what} {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("the {what} {} holds no PEM certificate", path.display()));
    }
    Ok(certs)
}

/// The PEM files of the TLS options, read and checked. Both transports use this, so a file that
/// cannot be used fails the exporter the same way, naming the file, whichever the protocol.
struct TlsFiles {
    /// `..._CERTIFICATE`: the PEM text and its certificates.
    ca: Option<(Vec<u8>, Vec<CertificateDer<'static>>)>,
    /// `..._CLIENT_CERTIFICATE` and `..._CLIENT_KEY`.
    identity: Option<ClientIdentity>,
}

/// The client certificate chain and key, for mutual TLS: the PEM texts (for tonic) and their
/// decoded forms (for rustls).
struct ClientIdentity {
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TlsFiles {
    /// `None` when no TLS option is set (the system roots only, no client certificate).
    fn read(otlp: &OtlpConfig) -> Result<Option<TlsFiles>, BuildError> {
        if otlp.certificate.is_none() && otlp.client_certificate.is_none() && otlp.client_key.is_none() {
            return Ok(None);
        }
        let ca = match &otlp.certificate {
            Some(path) => {
                let pem = read_pem(path, "CA certificate")?;
                let certs = pem_certificates(&pem, path, "CA certificate")?;
                Some((pem, certs))
            }
            None => None,
        };
        let identity = match (&otlp.client_certificate, &otlp.client_key) {
            (Some(cert_path), Some(key_path)) => {
                let cert_pem = read_pem(cert_path, "client certificate")?;
                let key_pem = read_pem(key_path, "client key")?;
                let chain = pem_certificates(&cert_pem, cert_path, "client certificate")?;
                let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
                    format!("the client key {} holds no usable PEM private key: {e}", key_path.display())
                })?;
                Some(ClientIdentity { cert_pem, key_pem, chain, key })
            }
            (None, None) => None,
            _ => {
                return Err("a client certificate needs both ..._CLIENT_CERTIFICATE and ..._CLIENT_KEY".into())
            }
        };
        Ok(Some(TlsFiles { ca, identity }))
    }
}

/// TLS settings for gRPC: the system roots plus the CA certificate file, and the client identity,
/// when configured. `None` lets opentelemetry-otlp use the system roots for `https` endpoints.
pub fn grpc_tls(otlp: &OtlpConfig) -> Result<Option<ClientTlsConfig>, BuildError> {
    let Some(files) = TlsFiles::read(otlp)? else {
        return Ok(None);
    };
    let mut tls = ClientTlsConfig::new().with_native_roots();
    if let Some((pem, _)) = files.ca {
        tls = tls.ca_certificate(Certificate::from_pem(pem));
    }
    if let Some(identity) = files.identity {
        tls = tls.identity(Identity::from_pem(identity.cert_pem, identity.key_pem));
    }
    Ok(Some(tls))
}

/// The blocking HTTP client for OTLP/HTTP: the configured timeout, and TLS on rustls with the ring
/// provider, trusting the system roots plus the CA certificate file, presenting the client
/// identity when both its files are given. Always built here, for `http` endpoints too: with
/// reqwest's provider-less rustls backend, a client reqwest configured itself (what
/// opentelemetry-otlp does when given none) would find no crypto provider.
///
/// Must not be called with a tokio runtime current (the blocking client runs its own).
pub fn http_client(otlp: &OtlpConfig) -> Result<reqwest::blocking::Client, BuildError> {
    let files = TlsFiles::read(otlp)?;
    let mut roots = rustls::RootCertStore::empty();
    // As tonic's `with_native_roots`: unreadable or unparsable system certificates are skipped.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let mut identity = None;
    if let Some(files) = files {
        if let Some((_, certs)) = files.ca {
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    format!("the CA certificate {} cannot be used: {e}", path_or_unset(&otlp.certificate))
                })?;
            }
        }
        identity = files.identity;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots);
    let mut tls = match identity {
        Some(ClientIdentity { chain, key, .. }) => {
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                format!(
                    "the client certificate {} and key {} cannot be used: {e}",
                    path_or_unset(&otlp.client_certificate),
                    path_or_unset(&otlp.client_key)
                )
            })?
        }
        None => builder.with_no_client_auth(),
    };
    // The blocking client speaks HTTP/1.1 only (reqwest's `http2` feature is off).
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    // The client does its I/O on a thread of its own, started here: it inherits SIGPIPE blocked.
    without_sigpipe(|| {
        reqwest::blocking::Client::builder()
            .timeout(otlp.timeout)
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))
    })
}

/// Runs `f` with SIGPIPE blocked on the current thread, so that every thread `f` starts (the
/// blocking HTTP client's I/O thread, the gRPC runtime's workers) starts with it blocked: a write to
/// a socket the collector has closed (a refused client certificate, a collector going away) then
/// fails with `EPIPE` instead of raising SIGPIPE. Rust programs ignore SIGPIPE from `main`, but the
/// plugin lives in the `wasmedge` process, where SIGPIPE keeps its default action: killing the
/// process. tokio, hyper and rustls write with `writev`, which, unlike the `send` of std's
/// `TcpStream::write`, has no `MSG_NOSIGNAL`. SIGPIPE is a signal of the writing thread, so
/// blocking it there affects nothing else in the process; the current thread's mask is restored
/// afterwards.
pub fn without_sigpipe<T>(f: impl FnOnce() -> T) -> T {
    use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
    let mut sigpipe = SigSet::empty();
    sigpipe.add(Signal::SIGPIPE);
    let mut previous = SigSet::empty();
    let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&sigpipe), Some(&mut previous)).is_ok();
    let result = f();
    if blocked {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&previous), None);
    }
    result
}

fn path_or_unset(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or_else(|| "(unset)".to_owned(), |p| p.display().to_string())
}

/// Builds an OTLP exporter of one signal from its builder (`SpanExporter::builder()`, ...) and
/// its [`OtlpConfig`]. A macro because each signal's builder is its own type.
macro_rules! build_otlp_exporter {
    ($builder:expr, $otlp:expr) => {{
        use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _};
        let otlp: &$crate::export::config::OtlpConfig = $otlp;
        match otlp.protocol {
            $crate::export::config::Protocol::Grpc => {
                let mut b = $builder
                    .with_tonic()
                    .with_endpoint(otlp.endpoint_url())
                    .with_timeout(otlp.timeout)
                    .with_metadata($crate::export::otlp::grpc_metadata(otlp));
                if let Some(c) = $crate::export::otlp::compression(otlp) {
                    b = b.with_compression(c);
                }
                match $crate::export::otlp::grpc_tls(otlp) {
                    Ok(Some(tls)) => b.with_tls_config(tls).build().map_err(|e| e.to_string()),
                    Ok(None) => b.build().map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                }
            }
            $crate::export::config::Protocol::HttpProtobuf => match $crate::export::otlp::http_client(otlp) {
                Err(e) => Err(e),
                Ok(client) => {
                    let mut b = $builder
                        .with_http()
                        .with_http_client(client)
                        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                        .with_endpoint(otlp.endpoint_url())
                        .with_timeout(otlp.timeout)
                        .with_headers($crate::export::otlp::http_headers(otlp));
                    if let Some(c) = $crate::export::otlp::compression(otlp) {
                        b = b.with_compression(c);
                    }
                    b.build().map_err(|e| e.to_string())
                }
            },
        }
    }};
}
pub(crate) use build_otlp_exporter;

/// Whether building an exporter for `otlp` needs the plugin's tokio runtime to be current (gRPC
/// spawns its connection tasks on it; the blocking HTTP client, [`http_client`], must not be built
/// inside it).
pub fn needs_runtime(otlp: &OtlpConfig) -> bool {
    otlp.protocol == Protocol::Grpc
}
