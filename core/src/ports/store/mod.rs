//! What the core needs from storage: one trait per concern, each in its
//! own file with the records it stores (officers, sessions, quota,
//! challenges, activations, throttle and portal sessions, audit,
//! idempotency), and [`Store`], all of them at once. The server's
//! PostgreSQL and SQLite stores implement each once, in the file that holds
//! that concern; tests can implement them too.

mod activations;
mod audit;
mod break_glass;
mod challenges;
mod idempotency;
mod notices;
mod officers;
mod quota;
mod retention;
mod secrets;
mod sessions;
mod throttle;

pub use activations::*;
pub use audit::*;
pub use break_glass::*;
pub use challenges::*;
pub use idempotency::*;
pub use notices::*;
pub use officers::*;
pub use quota::*;
pub use retention::*;
pub use secrets::*;
pub use sessions::*;
pub use throttle::*;

use async_trait::async_trait;

/// A storage failure. The core never sees SQL; it only learns whether the
/// store is reachable, and whether a uniqueness rule was broken.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or the transaction failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A unique value (e.g. a login) is taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Stored data does not have the shape the code expects.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Whether the store answers: readiness checks ask it.
#[async_trait]
pub trait Health: Send + Sync {
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The connection pool now, for metrics; `None` where there is no pool.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

/// A connection pool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Connections handed out.
    pub in_use: u64,
    /// Connections open and free.
    pub idle: u64,
    /// Callers waiting for a connection.
    pub waiting: u64,
}

/// Persistent state of the broker: every concern's store. Every method is
/// one transaction; the audit entries handed in are written in that same
/// transaction.
pub trait Store:
    Health
    + OfficerStore
    + SessionStore
    + QuotaStore
    + ChallengeStore
    + ActivationStore
    + ThrottleStore
    + PortalStore
    + AuditStore
    + crate::tlog::TlogStore
    + IdempotencyStore
    + RetentionStore
    + TotpSecretStore
    + NoticeStore
    + DisputeStore
    + BreakGlassStore
{
}

impl<T> Store for T where
    T: Health
        + OfficerStore
        + SessionStore
        + QuotaStore
        + ChallengeStore
        + ActivationStore
        + ThrottleStore
        + PortalStore
        + AuditStore
        + crate::tlog::TlogStore
        + IdempotencyStore
        + RetentionStore
        + TotpSecretStore
        + NoticeStore
        + DisputeStore
        + BreakGlassStore
{
}
