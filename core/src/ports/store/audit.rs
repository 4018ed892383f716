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
    /// Appends one audit record on its own.
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;
    /// Appends several records, in order, in one transaction (a bundle's
    /// parts: all recorded or none).
    async fn append_audits(&self, entries: Vec<AuditEntry>) -> Result<(), StoreError>;
    /// Searches the audit trail, newest first.
    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError>;
    /// Every chain name.
    async fn audit_chains(&self) -> Result<Vec<String>, StoreError>;
    /// One chain in order.
    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError>;
}
