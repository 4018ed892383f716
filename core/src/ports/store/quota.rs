//! Daily counters, the lockout they trigger, and unlocks.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::*;
use crate::audit::AuditEntry;

/// Today's counters for one officer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Attempts counted.
    pub used: u32,
    /// Extra allowance granted by a security officer.
    pub extra: u32,
    /// Wrong codes entered across challenges.
    pub wrong_codes: u32,
}

/// The result of counting one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Counted and within today's allowance.
    Counted {
        /// The new count.
        used: u32,
        /// Today's allowance.
        allowance: u32,
    },
    /// Counted, past the allowance; the account is now locked.
    Exceeded {
        /// The new count.
        used: u32,
        /// Today's allowance.
        allowance: u32,
    },
    /// The account was already locked; nothing was counted.
    Locked,
}

/// Daily counters, the lockout they trigger, and unlocks.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// Counts one attempt against the daily limit, atomically; refuses
    /// without counting if the account is locked; locks on excess.
    async fn count_attempt(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        audit: AuditEntry,
    ) -> Result<AttemptOutcome, StoreError> {
        self.count_attempt_then(officer_id, day, role_limit, audit, AfterCount::Nothing)
            .await
    }
    /// Counts one attempt as [`QuotaStore::count_attempt`] does and, if it
    /// is within the limit, does `then` in the same transaction: the start
    /// of a check is one transaction, whatever it comes to.
    async fn count_attempt_then(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        audit: AuditEntry,
        then: AfterCount,
    ) -> Result<AttemptOutcome, StoreError>;
    /// Today's counters.
    async fn counter(&self, officer_id: &str, day: NaiveDate) -> Result<Counter, StoreError>;
    /// Unlocks an account and sets today's extra allowance.
    async fn unlock(
        &self,
        officer_id: &str,
        day: NaiveDate,
        new_extra: u32,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
}

/// What a counted attempt leads to, in the same transaction, when it is
/// within the limit.
pub enum AfterCount {
    /// Nothing more here (a check without consent goes on to the register).
    Nothing,
    /// The check ends refused, with this record.
    Refuse(AuditEntry),
    /// A consent challenge is created, with its record.
    Challenge(Box<NewChallenge>, AuditEntry),
}
