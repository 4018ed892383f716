//! Officer credentials: argon2id password hashes and TOTP second factor.
//!
//! Hashing is slow on purpose; where it runs (off the async runtime, a
//! bounded number at once) is the server's choice behind
//! [`crate::ports::PasswordHashing`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use totp_rs::{Algorithm as TotpAlgorithm, Secret, TOTP};
use zeroize::Zeroizing;

/// TOTP step length (RFC 6238 default).
pub const TOTP_STEP_SECONDS: u64 = 30;

/// Why a credential operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The stored hash could not be parsed.
    #[error("stored password hash is malformed")]
    BadHash,
    /// Hashing failed.
    #[error("password hashing failed")]
    Hashing,
    /// The TOTP secret is unusable.
    #[error("TOTP secret is unusable: {0}")]
    Totp(String),
    /// The hashing task was cancelled or its pool closed.
    #[error("hashing task failed")]
    Task,
    /// Too many logins are already waiting for a hashing slot.
    #[error("too many logins waiting")]
    Busy,
}

/// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<Argon2<'static>, CredentialError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|_| CredentialError::Hashing)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a new password into a PHC string (slow: run it off any async
/// runtime, as the server's hashing pool does).
pub fn hash_password(
    password: &[u8],
    rng: &mut (impl rand::RngCore + rand::CryptoRng),
) -> Result<String, CredentialError> {
    let salt = SaltString::generate(rng);
    argon2()?
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|_| CredentialError::Hashing)
}

/// Checks a password against a stored PHC string (slow, as above).
pub fn verify_password(password: &[u8], stored: &str) -> Result<bool, CredentialError> {
    let parsed = PasswordHash::new(stored).map_err(|_| CredentialError::BadHash)?;
    Ok(argon2()?.verify_password(password, &parsed).is_ok())
}

/// A hash to verify against when the login does not exist, so that an
/// unknown login costs the same time as a wrong password.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3U4lVQ3bYxWg7F8Rw7T8N4f3S1kQm2m1b5o9JrZcW1E";

/// A new random password for an officer's first login.
pub fn initial_password(rng: &mut impl rand::Rng) -> Zeroizing<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    Zeroizing::new(
        (0..20)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect(),
    )
}

/// A new random TOTP secret (160 bits, as RFC 4226 recommends).
pub fn new_totp_secret(rng: &mut impl rand::RngCore) -> Zeroizing<Vec<u8>> {
    let mut s = Zeroizing::new(vec![0u8; 20]);
    rng.fill_bytes(&mut s);
    s
}

fn totp(secret: &[u8], login: &str) -> Result<TOTP, CredentialError> {
    TOTP::new(
        TotpAlgorithm::SHA1,
        6,
        1,
        TOTP_STEP_SECONDS,
        secret.to_vec(),
        Some("okaz".to_string()),
        login.to_string(),
    )
    .map_err(|e| CredentialError::Totp(e.to_string()))
}

/// The `otpauth://` URI an authenticator app scans.
pub fn totp_uri(secret: &[u8], login: &str) -> Result<String, CredentialError> {
    Ok(totp(secret, login)?.get_url())
}

/// The base32 form of a secret, for typing into an app by hand.
pub fn totp_base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

/// The code for a given instant (the test kit and the demo use it).
pub fn totp_code_at(secret: &[u8], unix_seconds: u64) -> Result<String, CredentialError> {
    Ok(totp(secret, "x")?.generate(unix_seconds))
}

/// The time step a presented code belongs to, if it is valid at `unix_seconds`
/// within one step of drift. The caller must refuse any step not strictly
/// after the last one used, so a code is never accepted twice.
pub fn totp_step(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
) -> Result<Option<i64>, CredentialError> {
    let t = totp(secret, "x")?;
    let code = code.trim();
    let current = unix_seconds / TOTP_STEP_SECONDS;
    // Newest first, so that a code valid for two steps is bound to the later.
    for step in [current + 1, current, current.saturating_sub(1)] {
        let expected = t.generate(step * TOTP_STEP_SECONDS);
        if expected.len() == code.len()
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                code.as_bytes(),
            ))
        {
            return Ok(i64::try_from(step).ok());
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 key "12345678901234567890", 8 digits
    /// there; the last six digits of each vector are the 6-digit code.
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    const RFC_VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];

    #[test]
    fn rfc6238_vectors() {
        for (t, code8) in RFC_VECTORS {
            assert_eq!(totp_code_at(RFC_SECRET, t).unwrap(), &code8[2..], "t={t}");
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let now = 1_800_000_015u64;
        let step = (now / 30) as i64;
        let at = |s: i64| totp_code_at(RFC_SECRET, (s as u64) * 30).unwrap();
        assert_eq!(totp_step(RFC_SECRET, &at(step), now).unwrap(), Some(step));
        assert_eq!(
            totp_step(RFC_SECRET, &at(step - 1), now).unwrap(),
            Some(step - 1)
        );
        assert_eq!(
            totp_step(RFC_SECRET, &at(step + 1), now).unwrap(),
            Some(step + 1)
        );
        assert_eq!(totp_step(RFC_SECRET, &at(step - 2), now).unwrap(), None);
        assert_eq!(totp_step(RFC_SECRET, &at(step + 2), now).unwrap(), None);
    }

    #[test]
    fn passwords_verify_only_when_right() {
        let h = hash_password(b"correct horse", &mut rand::rngs::OsRng).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(b"correct horse", &h).unwrap());
        assert!(!verify_password(b"wrong", &h).unwrap());
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_logins_cost_the_same() {
        assert!(!verify_password(b"x", DUMMY_HASH).unwrap());
        assert!(matches!(
            verify_password(b"x", "not a hash"),
            Err(CredentialError::BadHash)
        ));
    }
}
