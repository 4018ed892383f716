//! Notices (the sealed outbox and the citizen's channel choices) and
//! disputes of checks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::audit::AuditEntry;
use crate::notice::NoticePrefs;
use crate::pseudonym::Pseudonym;

/// An outbox row: a sealed notice (see [`crate::notice::NoticeKey::seal`])
/// and when it is due. Nothing in it is readable without the notice key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxNotice {
    /// Row id (UUID text), bound into the seal.
    pub id: String,
    /// The sealed notice.
    pub sealed: Vec<u8>,
    /// Not before.
    pub due_at: DateTime<Utc>,
    /// Failed deliveries so far.
    pub attempts: u32,
}

/// Notices: the outbox of delayed ones and the citizens' channel choices.
#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// Claims up to `limit` rows due at `now` and not claimed by a live
    /// lease, leasing them until `lease_until`: concurrent workers (one on
    /// every replica) never claim one row twice.
    async fn claim_due_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxNotice>, StoreError>;
    /// Deletes a row once sent (or once it can never be).
    async fn delete_notice(&self, id: &str) -> Result<(), StoreError>;
    /// Records a failed delivery: the row is due again at `next_at`, its
    /// lease ended, its seal replaced by `sealed` (which channels are done).
    async fn retry_notice(
        &self,
        id: &str,
        attempts: u32,
        next_at: DateTime<Utc>,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError>;
    /// Rows waiting in the outbox (a gauge).
    async fn outbox_len(&self) -> Result<u64, StoreError>;
    /// The citizen's channel choices (all on when never chosen).
    async fn notice_prefs(&self, citizen: &Pseudonym) -> Result<NoticePrefs, StoreError>;
    /// Stores the citizen's channel choices, with their record.
    async fn set_notice_prefs(
        &self,
        citizen: &Pseudonym,
        prefs: NoticePrefs,
        at: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
}

/// A new dispute of a check.
#[derive(Debug, Clone)]
pub struct NewDispute {
    /// Id (UUID text).
    pub id: String,
    /// The check disputed.
    pub verification: String,
    /// The citizen, by pseudonym.
    pub citizen: Pseudonym,
    /// The unit that checked (whose security officers see it).
    pub unit: String,
    /// The officer who checked (id; shown to security officers only).
    pub officer_id: String,
    /// The citizen's comment, cleaned (see [`crate::notice::clean_comment`]).
    pub comment: String,
    /// When.
    pub opened_at: DateTime<Utc>,
}

/// A stored dispute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// Id.
    pub id: String,
    /// The check disputed.
    pub verification: String,
    /// The citizen, by pseudonym.
    pub citizen: Pseudonym,
    /// The unit that checked.
    pub unit: String,
    /// The officer who checked (id).
    pub officer_id: String,
    /// The citizen's comment.
    pub comment: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// When, by whom (officer id) and how it was resolved.
    pub resolved: Option<Resolution>,
}

/// How a dispute was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// When.
    pub at: DateTime<Utc>,
    /// The security officer (id).
    pub by: String,
    /// The reason given.
    pub reason: String,
}

/// How opening a dispute went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisputeOpened {
    /// Stored, with its record.
    Opened,
    /// This check is already disputed; nothing stored.
    AlreadyDisputed,
    /// The citizen reached the day's limit; nothing stored.
    LimitReached,
}

/// Disputes of checks by citizens, resolved by the unit's security officers.
#[async_trait]
pub trait DisputeStore: Send + Sync {
    /// Stores a dispute with its record unless the check is disputed
    /// already or the citizen opened `limit` disputes since `since` (one
    /// transaction: concurrent disputes cannot pass the limit).
    async fn open_dispute(
        &self,
        d: NewDispute,
        since: DateTime<Utc>,
        limit: u32,
        audit: AuditEntry,
    ) -> Result<DisputeOpened, StoreError>;
    /// The unit's disputes, newest first; only the open ones if asked.
    async fn unit_disputes(&self, unit: &str, open_only: bool) -> Result<Vec<Dispute>, StoreError>;
    /// The citizen's disputes, newest first.
    async fn citizen_disputes(&self, citizen: &Pseudonym) -> Result<Vec<Dispute>, StoreError>;
    /// Resolves an open dispute of `unit` with its record; `false` if there
    /// is no such open dispute in that unit.
    async fn resolve_dispute(
        &self,
        id: &str,
        unit: &str,
        resolution: Resolution,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
}
