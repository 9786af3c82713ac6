//! Building OTLP exporters from an [`OtlpConfig`]: the transport (gRPC or HTTP/protobuf), the
//! resolved endpoint, headers, timeout, compression and TLS. Every value is passed explicitly, so
//! what is exported follows the plugin's own reading of the environment (one set of rules, one set
//! of warnings), not a second reading inside opentelemetry-otlp.

use super::config::{Compression, OtlpConfig, Protocol};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
use std::collections::HashMap;

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

/// TLS settings for gRPC: the CA certificate and client identity files, when configured. `None`
/// lets opentelemetry-otlp use the system roots for `https` endpoints.
pub fn grpc_tls(otlp: &OtlpConfig) -> Result<Option<ClientTlsConfig>, BuildError> {
    if otlp.certificate.is_none() && otlp.client_certificate.is_none() && otlp.client_key.is_none() {
        return Ok(None);
    }
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| format!("cannot read the {what} {}: {e}", path.display()))
    };
    let mut tls = ClientTlsConfig::new().with_native_roots();
    if let Some(ca) = &otlp.certificate {
        tls = tls.ca_certificate(Certificate::from_pem(read(ca, "CA certificate")?));
    }
    match (&otlp.client_certificate, &otlp.client_key) {
        (Some(cert), Some(key)) => {
            tls =
                tls.identity(Identity::from_pem(read(cert, "client certificate")?, read(key, "client key")?));
        }
        (None, None) => {}
        _ => return Err("a client certificate needs both ..._CLIENT_CERTIFICATE and ..._CLIENT_KEY".into()),
    }
    Ok(Some(tls))
}

/// Checks what the HTTP transport of this build cannot do.
pub fn check_http(otlp: &OtlpConfig) -> Result<(), BuildError> {
    if otlp.endpoint_url().starts_with("https://") {
        return Err(
            "OTLP/HTTP over https is not supported by this build; use OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
                    for TLS"
                .into(),
        );
    }
    Ok(())
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
            $crate::export::config::Protocol::HttpProtobuf => match $crate::export::otlp::check_http(otlp) {
                Err(e) => Err(e),
                Ok(()) => {
                    let mut b = $builder
                        .with_http()
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
/// spawns its connection tasks on it; the blocking HTTP client must not be built inside it).
pub fn needs_runtime(otlp: &OtlpConfig) -> bool {
    otlp.protocol == Protocol::Grpc
}
