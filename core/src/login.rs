//! Login throttling and lockout, two separate rules.
//!
//! ```text
//!  attempts under a name (or address) within throttle_for
//!    > throttle_after (x ADDRESS_FACTOR for an address) ──▶ throttled
//!  second-factor failures after the right password
//!    >= lock_after                                       ──▶ account locked
//! ```
//! Throttling counts every attempt, known login or not, before anything is
//! checked; a quiet `throttle_for` starts the count again. Locking counts
//! only failures that needed the password, so a login name alone cannot
//! lock anyone out. A success resets both.

use okaz_policy::LoginThrottle;

/// Whether a failure count, just incremented, locks the account.
pub fn locks(failures: u32, policy: &LoginThrottle) -> bool {
    failures >= policy.lock_after
}

/// How many more attempts one client address may make than one login name
/// (an office behind one address has several officers).
pub const ADDRESS_FACTOR: u32 = 4;

/// The store keys an attempt is counted under: the login name (or
/// certificate) and the client address, each hashed, so the store holds
/// neither what was typed nor where it came from.
pub fn keys(kind: &str, name: &str, client: Option<&str>) -> Vec<String> {
    let mut keys = vec![key(kind, &name.trim().to_lowercase())];
    if let Some(addr) = client {
        keys.push(key("address", addr));
    }
    keys
}

fn key(kind: &str, value: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"okaz/login-attempt/");
    h.update(kind.as_bytes());
    h.update(b"/");
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// Whether counts (name first, then address) are over their limits.
pub fn over(counts: &[u32], policy: &LoginThrottle) -> bool {
    let name = counts.first().copied().unwrap_or(0);
    let address = counts.get(1).copied().unwrap_or(0);
    name > policy.throttle_after || address > policy.throttle_after.saturating_mul(ADDRESS_FACTOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy() -> LoginThrottle {
        LoginThrottle {
            throttle_after: 3,
            throttle_for: Duration::from_secs(30),
            lock_after: 6,
        }
    }

    #[test]
    fn attempts_are_over_the_limit_by_name_or_by_address() {
        let p = policy();
        assert!(!over(&[3, 3], &p));
        assert!(over(&[4, 4], &p));
        assert!(!over(&[1, 12], &p));
        assert!(over(&[1, 13], &p));
        let k = keys("login", " Anna ", Some("10.0.0.1"));
        assert_eq!(k, keys("login", "anna", Some("10.0.0.1")));
        assert_ne!(k[0], keys("certificate", "anna", None)[0]);
        assert!(k.iter().all(|k| k.len() == 64 && !k.contains("anna")));
    }

    #[test]
    fn locks_at_lock_after() {
        let p = policy();
        assert!(!locks(5, &p));
        assert!(locks(6, &p));
    }
}
