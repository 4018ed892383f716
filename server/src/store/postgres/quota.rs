//! Daily counters, lockout on excess, unlock with extra allowance.

use async_trait::async_trait;
use chrono::NaiveDate;
use okaz_core::ports::QuotaStore;

use super::{audit, count, int, map_err, PgStore};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::ports::{AttemptOutcome, Counter, StoreError};
use okaz_core::quota::{self, Verdict};
use okaz_protocol::ErrorCode;

#[async_trait]
impl QuotaStore for PgStore {
    async fn count_attempt(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        entry: AuditEntry,
    ) -> Result<AttemptOutcome, StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let locked = tx
            .query_opt(
                "SELECT 1 FROM officers WHERE id = $1 AND locked_at IS NOT NULL",
                &[&id],
            )
            .await
            .map_err(map_err)?;
        if locked.is_some() {
            audit::append(&tx, &entry.refused(ErrorCode::AccountLocked)).await?;
            tx.commit().await.map_err(map_err)?;
            return Ok(AttemptOutcome::Locked);
        }
        // The one statement that makes the limit hold under concurrency.
        let row = tx
            .query_one(
                "INSERT INTO daily_counters (officer_id, day, used) VALUES ($1, $2, 1)
             ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
             RETURNING used, extra",
                &[&id, &day],
            )
            .await
            .map_err(map_err)?;
        let used = count(row.get(0))?;
        let allowance = quota::allowance(role_limit, count(row.get(1))?);
        let outcome = match quota::judge(used, allowance) {
            Verdict::Within => {
                audit::append(&tx, &entry).await?;
                AttemptOutcome::Counted { used, allowance }
            }
            Verdict::Exceeded => {
                let exceeded = entry.refused(ErrorCode::DailyLimitExceeded);
                audit::append(&tx, &exceeded).await?;
                super::officers::lock(&tx, &id, LockReason::DailyLimitExceeded, &exceeded).await?;
                AttemptOutcome::Exceeded { used, allowance }
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn counter(&self, officer_id: &str, day: NaiveDate) -> Result<Counter, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(officer_id) else {
            return Ok(Counter::default());
        };
        let c = self.client().await?;
        let row = c
        .query_opt(
            "SELECT used, extra, wrong_codes FROM daily_counters WHERE officer_id = $1 AND day = $2",
            &[&id, &day],
        )
        .await
        .map_err(map_err)?;
        match row {
            None => Ok(Counter::default()),
            Some(r) => Ok(Counter {
                used: count(r.get(0))?,
                extra: count(r.get(1))?,
                wrong_codes: count(r.get(2))?,
            }),
        }
    }

    async fn unlock(
        &self,
        officer_id: &str,
        day: NaiveDate,
        new_extra: u32,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        tx.execute(
            "INSERT INTO daily_counters (officer_id, day, extra) VALUES ($1, $2, $3)
         ON CONFLICT (officer_id, day) DO UPDATE SET extra = $3, wrong_codes = 0",
            &[&id, &day, &int(new_extra)],
        )
        .await
        .map_err(map_err)?;
        tx.execute(
        "UPDATE officers SET locked_at = NULL, lock_reason = NULL, failed_logins = 0 WHERE id = $1",
        &[&id],
    )
    .await
    .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }
}
