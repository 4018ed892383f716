//! The listener's rustls configuration, below both the listener and the
//! units' client-certificate trust (which rebuilds it on a CRL reload).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::ClientCertVerifier;
use rustls::ServerConfig;

/// Why the listener could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Certificate or key could not be read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The socket could not be bound.
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a certificate, key or CRL file, naming it in the error.
pub(crate) fn read(p: &Path) -> Result<Vec<u8>, ServeError> {
    std::fs::read(p).map_err(|e| ServeError::Tls(format!("{}: {e}", p.display())))
}

/// A rustls server config for a certificate chain and key, TLS 1.3 only,
/// offering h2 and http/1.1. With a client verifier (the units' CAs and
/// CRLs, see [`super::client_auth`]), client certificates are verified; they
/// stay optional on the same listener, because clerks log in with password
/// and TOTP instead.
pub(crate) fn tls_config_with(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_verifier: Option<Arc<dyn ClientCertVerifier>>,
) -> Result<Arc<ServerConfig>, ServeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    let builder = match client_verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}
