//! Sealing the citizen's PESEL inside a challenge.
//!
//! The broker needs the PESEL again when the code comes back (to fetch the
//! document), possibly on another replica, but must not store it. So the
//! challenge holds the PESEL encrypted under a one-time key derived from the
//! server key, the challenge id and the code itself: without the right code
//! it cannot be opened, and the stores clear it as soon as the challenge is
//! used, exhausted or cancelled. The keystream comes from HMAC-SHA256 as a
//! PRF over a unique challenge id, so no key stream is ever used twice.

use okaz_protocol::Pesel;
use zeroize::Zeroizing;

use super::pseudonym::SecretKey;

fn keystream(key: &SecretKey, challenge_id: &str, code: &str) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(key.mac(&[b"seal-subject", challenge_id.as_bytes(), code.as_bytes()]))
}

/// Encrypts the PESEL for this challenge and code.
pub fn seal(key: &SecretKey, challenge_id: &str, code: &str, pesel: &Pesel) -> Vec<u8> {
    let ks = keystream(key, challenge_id, code);
    let digits = Zeroizing::new(pesel.expose());
    digits.bytes().zip(ks.iter()).map(|(d, k)| d ^ k).collect()
}

/// Opens a sealed PESEL with the code the citizen gave; `None` if it does
/// not open to a valid PESEL (wrong code or tampering).
pub fn open(key: &SecretKey, challenge_id: &str, code: &str, sealed: &[u8]) -> Option<Pesel> {
    let ks = keystream(key, challenge_id, code.trim());
    let plain: Zeroizing<Vec<u8>> =
        Zeroizing::new(sealed.iter().zip(ks.iter()).map(|(c, k)| c ^ k).collect());
    let text = std::str::from_utf8(&plain).ok()?;
    Pesel::parse(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_the_right_code_and_challenge() {
        let k = SecretKey::new(vec![3; 32]).unwrap();
        let p = Pesel::parse("44051401359").unwrap();
        let sealed = seal(&k, "c1", "123456", &p);
        assert_ne!(sealed, p.expose().into_bytes());
        assert_eq!(open(&k, "c1", "123456", &sealed), Some(p));
        assert_eq!(open(&k, "c1", "123457", &sealed), None);
        assert_eq!(open(&k, "c2", "123456", &sealed), None);
    }
}
