//! Daily counters, lockout on excess, unlock with extra allowance.

use async_trait::async_trait;
use chrono::NaiveDate;
use okaz_core::ports::QuotaStore;

use super::{audit, count, int, map_err, PgStore};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::ports::{AfterCount, AttemptOutcome, Counter, StoreError};
use okaz_core::quota::{self, Verdict};
use okaz_protocol::ErrorCode;

/// The lock check and the count in one statement: a locked account is not
/// counted; otherwise one upsert increments and returns the counter, which
/// is what makes the limit hold under concurrency, also across replicas.
const COUNT: &str =
    "WITH o AS (SELECT locked_at IS NOT NULL AS locked FROM officers WHERE id = $1),
 c AS (INSERT INTO daily_counters (officer_id, day, used)
       SELECT $1, $2, 1 FROM o WHERE NOT o.locked
       ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
       RETURNING used, extra)
 SELECT o.locked, c.used, c.extra FROM o LEFT JOIN c ON true";

#[async_trait]
impl QuotaStore for PgStore {
    async fn count_attempt_then(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        entry: AuditEntry,
        then: AfterCount,
    ) -> Result<AttemptOutcome, StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let st = tx.prepare_cached(COUNT).await.map_err(map_err)?;
        let row = tx
            .query_opt(&st, &[&id, &day])
            .await
            .map_err(map_err)?
            .ok_or_else(|| StoreError::Unavailable("no such officer".to_string()))?;
        let locked: bool = row.try_get(0).map_err(map_err)?;
        let counted: (Option<i32>, Option<i32>) = (
            row.try_get(1).map_err(map_err)?,
            row.try_get(2).map_err(map_err)?,
        );
        let outcome = match (locked, counted) {
            (false, (Some(used), Some(extra))) => {
                let used = count(used)?;
                let allowance = quota::allowance(role_limit, count(extra)?);
                match quota::judge(used, allowance) {
                    Verdict::Within => {
                        match then {
                            AfterCount::Nothing => audit::append(&tx, &entry).await?,
                            AfterCount::Refuse(refused) => {
                                audit::append_all(&tx, &[entry, refused]).await?
                            }
                            AfterCount::Challenge(ch, started) => {
                                let records = [entry, started];
                                let (inserted, recorded) = futures::join!(
                                    super::challenges::insert_row(&tx, &ch),
                                    audit::append_all(&tx, &records)
                                );
                                inserted?;
                                recorded?;
                            }
                        }
                        AttemptOutcome::Counted { used, allowance }
                    }
                    Verdict::Exceeded => {
                        let exceeded = entry.refused(ErrorCode::DailyLimitExceeded);
                        audit::append(&tx, &exceeded).await?;
                        super::officers::lock(&tx, &id, LockReason::DailyLimitExceeded, &exceeded)
                            .await?;
                        AttemptOutcome::Exceeded { used, allowance }
                    }
                }
            }
            _ => {
                audit::append(&tx, &entry.refused(ErrorCode::AccountLocked)).await?;
                AttemptOutcome::Locked
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
