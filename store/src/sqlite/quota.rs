//! Daily counters, lockout on excess, unlock with extra allowance.

use async_trait::async_trait;
use chrono::NaiveDate;
use okaz_core::ports::QuotaStore;
use rusqlite::params;

use super::{audit, canonical_id, col, count, day, exec, one, SqliteStore};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::ports::{AfterCount, AttemptOutcome, Counter, StoreError};
use okaz_core::quota::{self, Verdict};
use okaz_protocol::ErrorCode;

#[async_trait]
impl QuotaStore for SqliteStore {
    async fn count_attempt_then(
        &self,
        officer_id: &str,
        on: NaiveDate,
        role_limit: u32,
        entry: AuditEntry,
        then: AfterCount,
    ) -> Result<AttemptOutcome, StoreError> {
        let id = super::uuid(officer_id)?;
        let on = day(on);
        self.write(move |tx| {
            let locked = one(
                tx,
                "SELECT 1 FROM officers WHERE id = ?1 AND locked_at IS NOT NULL",
                [&id],
                |_| Ok(()),
            )?;
            if locked.is_some() {
                audit::append(tx, &entry.refused(ErrorCode::AccountLocked))?;
                return Ok(AttemptOutcome::Locked);
            }
            // The one statement that makes the limit hold under concurrency (the
            // IMMEDIATE transaction already excludes other writers; the upsert
            // keeps the rule the same as on PostgreSQL, where nothing else does).
            let (used, extra) = one(
                tx,
                "INSERT INTO daily_counters (officer_id, day, used) VALUES (?1, ?2, 1)
             ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
             RETURNING used, extra",
                params![id, on],
                |r| Ok((count(col(r, 0)?)?, count(col(r, 1)?)?)),
            )?
            .ok_or_else(|| StoreError::Unavailable("upsert returned no counter".to_string()))?;
            let allowance = quota::allowance(role_limit, extra);
            let outcome = match quota::judge(used, allowance) {
                Verdict::Within => {
                    audit::append(tx, &entry)?;
                    match then {
                        AfterCount::Nothing => {}
                        AfterCount::Refuse(refused) => audit::append(tx, &refused)?,
                        AfterCount::Challenge(ch, started) => {
                            super::challenges::insert_row(tx, &ch)?;
                            audit::append(tx, &started)?;
                        }
                    }
                    AttemptOutcome::Counted { used, allowance }
                }
                Verdict::Exceeded => {
                    let exceeded = entry.refused(ErrorCode::DailyLimitExceeded);
                    audit::append(tx, &exceeded)?;
                    super::officers::lock(tx, &id, LockReason::DailyLimitExceeded, &exceeded)?;
                    AttemptOutcome::Exceeded { used, allowance }
                }
            };
            Ok(outcome)
        })
        .await
    }

    async fn counter(&self, officer_id: &str, on: NaiveDate) -> Result<Counter, StoreError> {
        let Some(id) = canonical_id(officer_id) else {
            return Ok(Counter::default());
        };
        let on = day(on);
        self.read(move |c| {
        let row = one(
            c,
            "SELECT used, extra, wrong_codes FROM daily_counters WHERE officer_id = ?1 AND day = ?2",
            params![id, on],
            |r| {
                Ok(Counter {
                    used: count(col(r, 0)?)?,
                    extra: count(col(r, 1)?)?,
                    wrong_codes: count(col(r, 2)?)?,
                })
            },
        )?;
        Ok(row.unwrap_or_default())
    })
    .await
    }

    async fn unlock(
        &self,
        officer_id: &str,
        on: NaiveDate,
        new_extra: u32,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let id = super::uuid(officer_id)?;
        let on = day(on);
        self.write(move |tx| {
        exec(
            tx,
            "INSERT INTO daily_counters (officer_id, day, extra) VALUES (?1, ?2, ?3)
             ON CONFLICT (officer_id, day) DO UPDATE SET extra = ?3, wrong_codes = 0",
            params![id, on, i64::from(new_extra)],
        )?;
        exec(
            tx,
            "UPDATE officers SET locked_at = NULL, lock_reason = NULL, failed_logins = 0 WHERE id = ?1",
            [&id],
        )?;
        audit::append(tx, &entry)
    })
    .await
    }
}
