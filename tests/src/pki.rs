//! A unit's certificate authority for tests: a self-signed CA whose key
//! signs terminal certificates and CRLs (rcgen).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A test CA: its certificate and the key that signs with it.
pub struct Ca {
    /// The CA certificate.
    pub cert: rcgen::Certificate,
    /// Its signing key.
    pub key: KeyPair,
}

/// A fresh CA named `name`, allowed to sign certificates and CRLs.
pub fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![]).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ca {
        cert: p.self_signed(&key).unwrap(),
        key,
    }
}
