//! Citizens' activations of the service and the codes that confirm them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::audit::AuditEntry;
use crate::consent::Closed;
use crate::pseudonym::Pseudonym;

/// Citizens' activations of the service, by pseudonym, and the codes that
/// confirm them.
#[async_trait]
pub trait ActivationStore: Send + Sync {
    /// Whether the citizen has activated the service.
    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError>;
    /// Activates or deactivates the service for a citizen, with its record.
    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
    /// Stores a new activation code (its MAC only) for a citizen, unless
    /// one of the limits is reached: at most `limit` codes created since
    /// `window_start`, for each `(window_start, limit)` given. `false`
    /// means a limit was reached and nothing was stored.
    async fn insert_activation_code(
        &self,
        code: NewActivationCode,
        limits: &[(DateTime<Utc>, u32)],
    ) -> Result<bool, StoreError>;
    /// Takes one attempt at the citizen's activation code.
    async fn reserve_activation_attempt(
        &self,
        id: &str,
        citizen: &Pseudonym,
        now: DateTime<Utc>,
    ) -> Result<ActivationReservation, StoreError>;
    /// Marks the code used and activates the citizen, with its record;
    /// `false` if another request used the code first.
    async fn complete_activation(
        &self,
        id: &str,
        citizen: &Pseudonym,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
}

/// A new activation code to store: the MAC of the code, never the code.
pub struct NewActivationCode {
    /// Id (random, URL-safe).
    pub id: String,
    /// The citizen.
    pub citizen: Pseudonym,
    /// HMAC of the code, bound to the id.
    pub code_mac: Vec<u8>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Attempts allowed.
    pub max_attempts: u32,
}

/// Result of reserving one attempt at an activation code.
#[derive(Debug, Clone)]
pub enum ActivationReservation {
    /// One attempt was taken: compare the code against this MAC.
    Reserved {
        /// HMAC of the code.
        code_mac: Vec<u8>,
        /// Attempts used, including this one.
        attempts_used: u32,
        /// Attempts allowed.
        max_attempts: u32,
    },
    /// The code takes no more answers.
    Closed(Closed),
}
