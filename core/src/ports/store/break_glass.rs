//! Break-glass overrides: their own daily counter, the record a supervisor
//! decides on, and the sweep that locks an officer whose override went
//! unsigned. The rules are in [`crate::break_glass`]; every transition here
//! is one conditional update, so replicas and supervisors never race.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::audit::AuditEntry;
use crate::break_glass::{Decision, Override, Status};

/// A break-glass about to be stored.
#[derive(Debug, Clone)]
pub struct NewBreakGlass {
    /// The verification it released (also the break-glass id).
    pub id: String,
    /// The officer who used it.
    pub officer_id: String,
    /// Their unit.
    pub unit: String,
    /// Which refusal it overrides.
    pub overrides: Override,
    /// The justification, cleaned ([`crate::break_glass::clean_justification`]).
    pub justification: String,
    /// The document asked for.
    pub document: String,
    /// The purpose given.
    pub purpose: String,
    /// A case reference, where given.
    pub case_reference: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When a supervisor must have decided.
    pub deadline: DateTime<Utc>,
}

/// A break-glass as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakGlassRecord {
    /// Id (the verification's).
    pub id: String,
    /// The officer who used it.
    pub officer_id: String,
    /// Their unit.
    pub unit: String,
    /// Which refusal it overrode.
    pub overrides: Override,
    /// The justification as kept.
    pub justification: String,
    /// The document asked for.
    pub document: String,
    /// The purpose given.
    pub purpose: String,
    /// A case reference, where given.
    pub case_reference: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When a supervisor must have decided.
    pub deadline: DateTime<Utc>,
    /// Where it stands.
    pub status: Status,
    /// Who decided (officer id), once decided.
    pub decided_by: Option<String>,
    /// When it was decided (or expired).
    pub decided_at: Option<DateTime<Utc>>,
    /// The supervisor's reason.
    pub decision_reason: Option<String>,
}

/// What starting a break-glass came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakGlassStart {
    /// Counted and recorded: the check may be released.
    Started {
        /// Break-glass uses today, this one included.
        used: u32,
    },
    /// Today's cap is reached; nothing was counted or recorded but the refusal.
    CapReached,
    /// The account is locked; nothing was counted.
    Locked,
}

/// Break-glass overrides.
#[async_trait]
pub trait BreakGlassStore: Send + Sync {
    /// In one transaction: refuses a locked officer; counts one use on
    /// today's break-glass counter with one conditional upsert that never
    /// passes `cap`; stores the override (pending) and `used` (its audit
    /// record). A refusal writes `refused` instead (locked or cap reached).
    async fn start_break_glass(
        &self,
        bg: NewBreakGlass,
        day: NaiveDate,
        cap: u32,
        used: AuditEntry,
        refused: AuditEntry,
    ) -> Result<BreakGlassStart, StoreError>;
    /// One override.
    async fn break_glass(&self, id: &str) -> Result<Option<BreakGlassRecord>, StoreError>;
    /// A unit's overrides created since `since`, newest first (pending
    /// ones whatever their age).
    async fn break_glass_of_unit(
        &self,
        unit: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError>;
    /// Pending overrides whose deadline is at or before `now` (every unit).
    async fn overdue_break_glass(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError>;
    /// Decides a pending override still before its deadline at `now`, with
    /// `audit`; a rejection also locks the officer (reason
    /// `break_glass_rejected`). `false` if it was not pending or too late.
    async fn decide_break_glass(
        &self,
        id: &str,
        decision: Decision,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Expires a pending override whose deadline is at or before `now` and
    /// locks its officer (reason `break_glass_unsigned`), with `audit`;
    /// `false` if another replica (or a supervisor) got there first.
    async fn expire_break_glass(
        &self,
        id: &str,
        now: DateTime<Utc>,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Break-glass uses of an officer on a day.
    async fn break_glass_used(&self, officer_id: &str, day: NaiveDate) -> Result<u32, StoreError>;
}
