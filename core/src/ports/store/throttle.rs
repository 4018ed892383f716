//! Login attempts counted before any credential is checked, and signed-out portal sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;

/// Login attempts, counted by key (a login name, a certificate, a client
/// address: each hashed, see `login::key`) before any credential is
/// checked, so a burst cannot outrun the count and an unknown login is
/// counted exactly like a known one.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Counts one attempt under each key and returns the new counts, in
    /// order. A key whose last attempt is older than `window_start` starts
    /// again from one.
    async fn note_attempts(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError>;
    /// Attempts under a key since `window_start` (0 if none).
    async fn attempts(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError>;
    /// Forgets the attempts under these keys (after a successful login).
    async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// Citizen portal sessions that were signed out: their cookies are
/// refused on every replica until they would have expired anyway.
#[async_trait]
pub trait PortalStore: Send + Sync {
    /// Records that the portal session with this id hash ended.
    async fn revoke_portal_session(
        &self,
        sid_hash: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Whether the portal session with this id hash was signed out.
    async fn portal_session_revoked(&self, sid_hash: &str) -> Result<bool, StoreError>;
}
