//! TLS for both servers: [`TlsConfig`] (the server's PEM certificate chain and key, and optionally
//! a CA whose client certificates are required, for mutual TLS), turned into tonic's
//! `ServerTlsConfig` for gRPC and into a tokio-rustls acceptor for HTTP. Both use rustls with the
//! ring provider (tonic's `tls-ring`), so no C crypto library is built.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use crate::CollectorError;

/// TLS for the collector's servers (both gRPC and HTTP when both run), from PEM data.
///
/// ```no_run
/// use wasmedge_otel_collector::{Collector, CollectorConfig, TlsConfig};
///
/// let tls = TlsConfig::from_files("server.pem", "server-key.pem")?;
/// let collector = Collector::start_with(CollectorConfig::grpc("127.0.0.1:0").with_tls(tls))?;
/// assert!(collector.endpoint().starts_with("https://"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Its [`Debug`] output leaves out the private key.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The server's certificate chain, PEM, leaf first.
    pub cert_pem: Vec<u8>,
    /// The server's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Vec<u8>,
    /// When set, clients must present a certificate issued by one of these PEM certificates
    /// (mutual TLS); connections without one are refused during the handshake.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl TlsConfig {
    /// Server-side TLS with this certificate chain and key, no client certificates asked for.
    pub fn new(cert_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> TlsConfig {
        TlsConfig { cert_pem: cert_pem.into(), key_pem: key_pem.into(), client_ca_pem: None }
    }

    /// [`TlsConfig::new`] with the contents of two PEM files.
    pub fn from_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> std::io::Result<TlsConfig> {
        Ok(TlsConfig::new(read(cert.as_ref())?, read(key.as_ref())?))
    }

    /// The same configuration, requiring client certificates issued by `client_ca_pem`.
    pub fn with_client_ca(self, client_ca_pem: impl Into<Vec<u8>>) -> TlsConfig {
        TlsConfig { client_ca_pem: Some(client_ca_pem.into()), ..self }
    }

    /// The rustls server configuration (ring provider), checking every PEM item. `alpn` lists the
    /// protocols offered, most preferred first.
    fn server_config(&self, alpn: &[&[u8]]) -> Result<ServerConfig, CollectorError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = certificates(&self.cert_pem, "server certificate")?;
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| {
            CollectorError::Tls(format!("the server key holds no usable PEM private key: {e}"))
        })?;
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| CollectorError::Tls(e.to_string()))?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                for cert in certificates(pem, "client CA certificate")? {
                    roots
                        .add(cert)
                        .map_err(|e| CollectorError::Tls(format!("the client CA certificate: {e}")))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| CollectorError::Tls(format!("the client CA certificate: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| CollectorError::Tls(format!("the server certificate and key: {e}")))?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }

    /// Checks the PEM data without starting anything, so that [`crate::Collector::start_with`]
    /// fails before binding.
    pub(crate) fn check(&self) -> Result<(), CollectorError> {
        self.server_config(&[]).map(drop)
    }

    /// The acceptor of the HTTP server: HTTP/2 or HTTP/1.1, as the client offers.
    pub(crate) fn http_acceptor(&self) -> Result<TlsAcceptor, CollectorError> {
        Ok(TlsAcceptor::from(Arc::new(self.server_config(&[b"h2", b"http/1.1"])?)))
    }

    /// tonic's form, for the gRPC server.
    pub(crate) fn grpc(&self) -> ServerTlsConfig {
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert_pem, &self.key_pem))
            .timeout(crate::TLS_HANDSHAKE_TIMEOUT);
        match &self.client_ca_pem {
            Some(pem) => tls.client_ca_root(Certificate::from_pem(pem)),
            None => tls,
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("<{} bytes>", self.cert_pem.len()))
            .field("key_pem", &format_args!("<redacted>"))
            .field("client_ca_pem", &self.client_ca_pem.as_ref().map(|p| format!("<{} bytes>", p.len())))
            .finish()
    }
}

fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display())))
}

/// The certificates of PEM data: at least one, all well-formed.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, CollectorError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CollectorError::Tls(format!("the {what} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(CollectorError::Tls(format!("the {what} holds no PEM certificate")));
    }
    Ok(certs)
}
