//! Slow password hashing. argon2id is slow on purpose, so where it runs is
//! the server's business (a bounded pool of blocking threads); the core only
//! asks for a hash or a verdict.

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::credentials::CredentialError;

/// Hashes and verifies passwords and PINs (argon2id PHC strings).
#[async_trait]
pub trait PasswordHashing: Send + Sync {
    /// Hashes a new password into a PHC string.
    async fn hash(&self, password: Zeroizing<String>) -> Result<String, CredentialError>;
    /// Checks a password against a stored PHC string.
    async fn verify(
        &self,
        password: Zeroizing<String>,
        stored: String,
    ) -> Result<bool, CredentialError>;
}
