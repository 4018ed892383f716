//! Idempotency keys of starts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::session::TokenHash;

/// A start's idempotency key as claimed: bound to the session (by its
/// token's hash) and to the request (by a keyed MAC of its body, so no
/// PESEL is stored).
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Hash of the session's token.
    pub session: TokenHash,
    /// The key the terminal sent.
    pub key: String,
    /// MAC of the request body under the pepper.
    pub fingerprint: Vec<u8>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a start answered, kept so a retry gets the same answer. Never a
/// document: a completed check is answered again without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// A challenge awaits the code.
    Awaiting {
        /// Verification id.
        verification: String,
        /// When the code expires.
        expires_at: DateTime<Utc>,
    },
    /// The document was released at once.
    Completed {
        /// Verification id.
        verification: String,
    },
    /// Refused with this code (after counting, or not).
    Refused(okaz_protocol::ErrorCode),
}

/// The result of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// First use: go on, then settle.
    New,
    /// Used before for the same request, which was answered so.
    Replay(Settled),
    /// Used before for the same request, still running.
    InFlight,
    /// Used before for another request.
    Mismatch,
}

/// Idempotency keys of starts.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `claim.key` for this session and request, atomically.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claimed, StoreError>;
    /// Records what the claimed start answered.
    async fn settle_idempotency(
        &self,
        session: &TokenHash,
        key: &str,
        settled: &Settled,
    ) -> Result<(), StoreError>;
    /// Gives a key back (the start failed without an answer worth keeping,
    /// e.g. the store was unreachable), so a retry runs again.
    async fn release_idempotency(&self, session: &TokenHash, key: &str) -> Result<(), StoreError>;
}
