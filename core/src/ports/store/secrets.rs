//! Officers' sealed TOTP secrets, for re-sealing under a new key version.

use async_trait::async_trait;

use super::StoreError;

/// Reads and swaps sealed TOTP secrets (used by `keys rotate`, never on
/// the request path).
#[async_trait]
pub trait TotpSecretStore: Send + Sync {
    /// Every officer's id and stored (sealed) TOTP secret.
    async fn sealed_totp_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError>;
    /// Replaces an officer's stored TOTP secret if it is still `old`
    /// (compare-and-swap, so a reset meanwhile wins); the used-step record
    /// stays, since the secret itself is unchanged. `true` if replaced.
    async fn reseal_totp(
        &self,
        officer_id: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError>;
}
