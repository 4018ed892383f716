//! Sealing the citizen's PESEL inside a challenge.
//!
//! The broker needs the PESEL again when the code comes back (to fetch the
//! document), possibly on another replica, but must not store it. So the
//! challenge holds the PESEL encrypted under a one-time key derived from the
//! server key, the challenge id and the code itself: without the right code
//! it cannot be opened, and the stores clear it as soon as the challenge is
//! used, exhausted or cancelled. The keystream comes from HMAC-SHA256 as a
//! PRF over a unique challenge id, so no key stream is ever used twice.
//! The sealed bytes carry the challenge key's version in front, so a
//! challenge sealed before `keys rotate` still opens afterwards.

use okaz_protocol::Pesel;
use zeroize::Zeroizing;

use super::keyring::{KeyRing, VERSION_LEN};
use super::pseudonym::SecretKey;

fn keystream(key: &SecretKey, challenge_id: &str, code: &str) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(key.mac(&[b"seal-subject", challenge_id.as_bytes(), code.as_bytes()]))
}

/// Encrypts the PESEL for this challenge and code, under the current
/// version of the challenge key (named in front).
pub fn seal(ring: &KeyRing, challenge_id: &str, code: &str, pesel: &Pesel) -> Vec<u8> {
    let (version, key) = ring.current();
    let ks = keystream(key, challenge_id, code);
    let digits = Zeroizing::new(pesel.expose());
    let mut out = Vec::with_capacity(VERSION_LEN + 11);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend(digits.bytes().zip(ks.iter()).map(|(d, k)| d ^ k));
    out
}

/// Opens a sealed PESEL with the code the citizen gave; `None` if it does
/// not open to a valid PESEL (wrong code, tampering, or a key version no
/// longer held). An 11-byte seal from before versions is version 1's.
pub fn open(ring: &KeyRing, challenge_id: &str, code: &str, sealed: &[u8]) -> Option<Pesel> {
    let (key, sealed) = if sealed.len() == 11 {
        (ring.get(1)?, sealed)
    } else {
        let (v, rest) = super::keyring::split_version(sealed)?;
        (ring.get(v)?, rest)
    };
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
        let k = KeyRing::new("challenge", [(1, SecretKey::new(vec![3; 32]).unwrap())]).unwrap();
        let p = Pesel::parse("44051401359").unwrap();
        let sealed = seal(&k, "c1", "123456", &p);
        assert!(!sealed.windows(11).any(|w| w == p.expose().as_bytes()));
        assert_eq!(open(&k, "c1", "123456", &sealed), Some(p.clone()));
        assert_eq!(open(&k, "c1", "123457", &sealed), None);
        assert_eq!(open(&k, "c2", "123456", &sealed), None);
        // After a rotation the old seal still opens; without its version it does not.
        let rotated = KeyRing::new(
            "challenge",
            [
                (1, SecretKey::new(vec![3; 32]).unwrap()),
                (2, SecretKey::new(vec![4; 32]).unwrap()),
            ],
        )
        .unwrap();
        assert_eq!(open(&rotated, "c1", "123456", &sealed), Some(p.clone()));
        let newer = seal(&rotated, "c1", "123456", &p);
        assert_eq!(&newer[..4], &2u32.to_be_bytes());
        assert_eq!(open(&k, "c1", "123456", &newer), None);
    }
}
