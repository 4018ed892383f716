//! Officer sessions.
//!
//! ```text
//!  login ──▶ live ──(now >= expires_at: end of shift)──▶ ended
//!              └──(now - last_seen >= idle)───────────▶ ended
//!              └──(logout)─────────────────────────────▶ ended
//! ```
//! The token is 256 random bits shown to the terminal once; only its SHA-256
//! is stored, so a database dump yields no usable session. A session opened
//! by certificate + PIN is bound to that certificate: a token copied off a
//! terminal is useless over a connection that does not present it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A new bearer token and the hash to store.
pub struct IssuedToken {
    /// The token for the terminal, shown once.
    pub token: Zeroizing<String>,
    /// What the store keeps.
    pub hash: TokenHash,
}

/// SHA-256 of a token, hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

/// Draws a fresh 256-bit token.
pub fn issue(rng: &mut impl RngCore) -> IssuedToken {
    let mut raw = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(raw.as_mut());
    let token = Zeroizing::new(URL_SAFE_NO_PAD.encode(raw.as_ref()));
    let hash = hash(&token);
    IssuedToken { token, hash }
}

/// The stored form of a presented token.
pub fn hash(token: &str) -> TokenHash {
    TokenHash(hash_bytes(token.as_bytes()))
}

/// SHA-256 of bytes, hex (tokens; terminal certificate fingerprints).
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether a request presenting the client certificate `presented` (its
/// fingerprint, as TLS verified it) may use a session bound to `bound`.
/// A session opened without a certificate is bound to none and may be used
/// over any connection; a bound one only over a connection presenting the
/// same certificate.
pub fn certificate_matches(bound: Option<&str>, presented: Option<&str>) -> bool {
    match bound {
        None => true,
        Some(b) => presented == Some(b),
    }
}

/// When a session begun at `start` ends at the latest.
/// How stale `last_seen` may grow before a request writes it again: the
/// idle timeout is measured to this precision, and most requests write
/// nothing.
pub const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// Whether a request at `now` should record activity on its session.
pub fn touch_due(last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_seen >= TOUCH_INTERVAL
}

/// The end of a shift that starts at `start`.
pub fn shift_end(start: DateTime<Utc>, shift: Duration) -> DateTime<Utc> {
    start + shift
}

/// Whether a session is still live at `now`.
pub fn is_live(
    expires_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    idle: Duration,
    now: DateTime<Utc>,
) -> bool {
    now < expires_at && now - last_seen < idle
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn a_bound_session_needs_its_certificate_on_every_request() {
        assert!(certificate_matches(None, None));
        assert!(certificate_matches(None, Some("aa")));
        assert!(certificate_matches(Some("aa"), Some("aa")));
        assert!(!certificate_matches(Some("aa"), None));
        assert!(!certificate_matches(Some("aa"), Some("bb")));
    }

    #[test]
    fn tokens_are_256_bits_and_stored_hashed() {
        let a = issue(&mut OsRng);
        let b = issue(&mut OsRng);
        assert_eq!(a.token.len(), 43); // 32 bytes in unpadded base64url
        assert_ne!(a.token, b.token);
        assert_eq!(hash(&a.token), a.hash);
        assert!(!a.hash.0.contains(a.token.as_str()));
    }

    #[test]
    fn shift_end_and_idle_both_end_a_session() {
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let end = shift_end(start, Duration::hours(8));
        let idle = Duration::minutes(15);
        assert!(is_live(end, start, idle, start + Duration::minutes(14)));
        assert!(!is_live(end, start, idle, start + Duration::minutes(15)));
        let later = end - Duration::minutes(1);
        assert!(is_live(end, later, idle, later));
        assert!(!is_live(end, later, idle, end));
    }
}
