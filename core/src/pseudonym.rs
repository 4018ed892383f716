//! The citizen's pseudonym: HMAC-SHA256 of the PESEL under the server's
//! pepper. The audit and activations are keyed by it, so they can be searched
//! by PESEL by those allowed to, while a database dump reveals no PESEL.

use hmac::{Hmac, Mac};
use okaz_protocol::Pesel;
use sha2::Sha256;
use zeroize::Zeroizing;

/// A secret key held in memory; the raw bytes are wiped on drop.
#[derive(Clone)]
pub struct SecretKey {
    /// The keyed MAC, built once: cloning it is cheaper than re-keying.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Why a secret could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Fewer than 32 bytes of key material.
    #[error("secret is too short: at least 32 bytes are needed, found {0}")]
    TooShort(usize),
    /// The MAC refused the key (it accepts any length, so this means a bug).
    #[error("the key was refused by HMAC")]
    Refused,
}

impl SecretKey {
    /// Wraps key material of at least 32 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, SecretError> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < 32 {
            return Err(SecretError::TooShort(bytes.len()));
        }
        let keyed =
            <Hmac<Sha256> as Mac>::new_from_slice(&bytes).map_err(|_| SecretError::Refused)?;
        Ok(SecretKey { keyed })
    }

    /// A key derived for one use, so one master secret serves several
    /// purposes without one use revealing another's key.
    pub fn derive(&self, label: &str) -> Result<SecretKey, SecretError> {
        SecretKey::new(self.mac(&[label.as_bytes()]).to_vec())
    }

    /// HMAC-SHA256 over the parts, each framed by its length so that
    /// ("12", "3456") and ("123", "456") differ.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.framed(parts).finalize().into_bytes().into()
    }

    /// Constant-time check of a MAC over the parts.
    pub fn verify(&self, parts: &[&[u8]], expected: &[u8]) -> bool {
        self.framed(parts).verify_slice(expected).is_ok()
    }

    fn framed(&self, parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut m = self.keyed.clone();
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m
    }
}

/// A citizen's pseudonym (64 hex characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym(pub String);

impl Pseudonym {
    /// The pseudonym of `pesel` under `pepper`.
    pub fn of(pepper: &SecretKey, pesel: &Pesel) -> Self {
        let digits = Zeroizing::new(pesel.expose());
        Pseudonym(hex::encode(pepper.mac(&[b"pesel", digits.as_bytes()])))
    }

    /// The hex text stored in the database.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_stable_keyed_and_hides_the_pesel() {
        let k1 = SecretKey::new(vec![1; 32]).unwrap();
        let k2 = SecretKey::new(vec![2; 32]).unwrap();
        let p = Pesel::parse("44051401359").unwrap();
        let a = Pseudonym::of(&k1, &p);
        assert_eq!(a, Pseudonym::of(&k1, &p));
        assert_ne!(a, Pseudonym::of(&k2, &p));
        assert_eq!(a.as_str().len(), 64);
        assert!(!a.as_str().contains("44051401359"));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(SecretKey::new(vec![0; 31]).is_err());
    }

    #[test]
    fn derived_keys_differ_by_label() {
        let k = SecretKey::new(vec![7; 32]).unwrap();
        assert_ne!(
            k.derive("a").unwrap().mac(&[b"x"]),
            k.derive("b").unwrap().mac(&[b"x"])
        );
    }

    #[test]
    fn verify_accepts_only_the_right_mac() {
        let k = SecretKey::new(vec![7; 32]).unwrap();
        let m = k.mac(&[b"123456"]);
        assert!(k.verify(&[b"123456"], &m));
        assert!(!k.verify(&[b"123457"], &m));
        // Length framing: ("12","3456") is not ("123","456").
        assert!(!k.verify(&[b"12", b"3456"], &k.mac(&[b"123", b"456"])));
    }
}
