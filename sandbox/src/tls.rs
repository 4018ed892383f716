//! The sandbox's development PKI: a fresh CA and a server certificate for
//! `localhost`, `127.0.0.1` and the listen address, made at each start.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The CA PEM and the rustls server configuration built on it.
pub struct DevPki {
    /// CA certificate PEM, for clients to trust.
    pub ca_pem: String,
    /// Server TLS configuration (HTTP/2 and HTTP/1.1 by ALPN).
    pub server: Arc<rustls::ServerConfig>,
}

/// Makes the CA and server certificate.
pub fn dev_pki(listen_ip: IpAddr) -> Result<DevPki, String> {
    let e = |what: &str| {
        let what = what.to_string();
        move |err: rcgen::Error| format!("{what}: {err}")
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e("CA params"))?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "okaz sandbox development CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(e("CA key"))?;
    let ca_cert = ca.self_signed(&ca_key).map_err(e("CA certificate"))?;

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !listen_ip.is_unspecified() && !listen_ip.is_loopback() {
        names.push(listen_ip.to_string());
    }
    let mut leaf = CertificateParams::new(names).map_err(e("server params"))?;
    leaf.distinguished_name
        .push(DnType::CommonName, "okaz sandbox");
    let leaf_key = KeyPair::generate().map_err(e("server key"))?;
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .map_err(e("server certificate"))?;

    let chain = vec![
        CertificateDer::from(leaf_cert.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS versions: {err}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| format!("server certificate rejected: {err}"))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(DevPki {
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    })
}
