//! The audit trail: appends and searches.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::*;
use crate::audit::{AuditEntry, StoredRecord};
use crate::pseudonym::Pseudonym;

/// A search of the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this unit.
    pub unit: Option<String>,
    /// Only records acted by this officer id.
    pub officer: Option<String>,
    /// Only records about this citizen.
    pub citizen: Option<Pseudonym>,
    /// From.
    pub since: Option<DateTime<Utc>>,
    /// Until.
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one audit record on its own (no notice): a shorthand for
    /// [`AuditStore::append_audits`], which the stores implement once.
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.append_audits(vec![entry], &[]).await
    }
    /// Appends records, in order (one, or a bundle's parts), and their
    /// delayed notices (one per citizen concerned; empty for none), in one
    /// transaction: a check and its notices are written together or not at all.
    async fn append_audits(
        &self,
        entries: Vec<AuditEntry>,
        notices: &[OutboxNotice],
    ) -> Result<(), StoreError>;
    /// Searches the audit trail, newest first.
    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError>;
    /// Every chain name.
    async fn audit_chains(&self) -> Result<Vec<String>, StoreError>;
    /// One chain in order.
    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError>;
}
