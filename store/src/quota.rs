//! Daily counters, lockout on excess, unlock with extra allowance:
//! written once for both stores.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::audit::{append_all, append_all_with};
use crate::conn::{id, Arg, Backend, Db, Sql};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::ports::{AfterCount, AttemptOutcome, Counter, QuotaStore, StoreError};
use okaz_core::quota::{self, Verdict};
use okaz_protocol::ErrorCode;

/// SQLite checks the lock first (its `BEGIN IMMEDIATE` transaction already
/// excludes other writers); PostgreSQL folds the check into [`COUNT`].
const LOCKED: Sql = Sql::LiteOnly("SELECT 1 FROM officers WHERE id = $1 AND locked_at IS NOT NULL");
/// The lock check and the count in one statement on PostgreSQL: a locked
/// account is not counted; otherwise one upsert increments and returns the
/// counter, which is what makes the limit hold under concurrency, also
/// across replicas. SQLite cannot write an upsert in `WITH`: there the
/// same upsert alone, after [`LOCKED`], keeps the rule the same.
const COUNT: Sql = Sql::Split {
    pg: "WITH o AS (SELECT locked_at IS NOT NULL AS locked FROM officers WHERE id = $1),
 c AS (INSERT INTO daily_counters (officer_id, day, used)
       SELECT $1, $2, 1 FROM o WHERE NOT o.locked
       ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
       RETURNING used, extra)
 SELECT o.locked, c.used, c.extra FROM o LEFT JOIN c ON true",
    sqlite: "INSERT INTO daily_counters (officer_id, day, used) VALUES (?1, ?2, 1)
     ON CONFLICT (officer_id, day) DO UPDATE SET used = daily_counters.used + 1
     RETURNING 0, used, extra",
};
const COUNTER: Sql = Sql::Same(
    "SELECT used, extra, wrong_codes FROM daily_counters WHERE officer_id = $1 AND day = $2",
);
const EXTRA: Sql = Sql::Same(
    "INSERT INTO daily_counters (officer_id, day, extra) VALUES ($1, $2, $3)
     ON CONFLICT (officer_id, day) DO UPDATE SET extra = $3, wrong_codes = 0",
);
const UNLOCK: Sql = Sql::Same(
    "UPDATE officers SET locked_at = NULL, lock_reason = NULL, failed_logins = 0 WHERE id = $1",
);

#[async_trait]
impl<B: Backend> QuotaStore for Db<B> {
    async fn count_attempt_then(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        entry: AuditEntry,
        then: AfterCount,
    ) -> Result<AttemptOutcome, StoreError> {
        let who = id(officer_id)?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let locked = c.opt(LOCKED, std::slice::from_ref(&who)).await?.is_some();
                    let counted = if locked {
                        None
                    } else {
                        let row = c
                            .opt(COUNT, &[who.clone(), Arg::Day(day)])
                            .await?
                            .ok_or_else(|| {
                                StoreError::Unavailable("no such officer".to_string())
                            })?;
                        // Not counted (NULLs) when PostgreSQL found it locked.
                        match (row.bool(0)?, row.opt_count(1)?, row.opt_count(2)?) {
                            (false, Some(used), Some(extra)) => Some((used, extra)),
                            _ => None,
                        }
                    };
                    let Some((used, extra)) = counted else {
                        let refused = entry.refused(ErrorCode::AccountLocked);
                        append_all(c, std::slice::from_ref(&refused)).await?;
                        return Ok(AttemptOutcome::Locked);
                    };
                    let allowance = quota::allowance(role_limit, extra);
                    Ok(match quota::judge(used, allowance) {
                        Verdict::Within => {
                            match then {
                                AfterCount::Nothing => {
                                    append_all(c, std::slice::from_ref(&entry)).await?
                                }
                                AfterCount::Refuse(refused) => {
                                    append_all(c, &[entry, refused]).await?
                                }
                                AfterCount::Challenge(ch, started) => {
                                    // The challenge's insert goes with the
                                    // records (one round trip on PostgreSQL).
                                    let insert = crate::challenges::insert_row(&ch)?;
                                    append_all_with(c, &[entry, started], vec![insert]).await?
                                }
                            }
                            AttemptOutcome::Counted { used, allowance }
                        }
                        Verdict::Exceeded => {
                            let exceeded = entry.refused(ErrorCode::DailyLimitExceeded);
                            append_all(c, std::slice::from_ref(&exceeded)).await?;
                            crate::officers::lock(
                                c,
                                &who,
                                LockReason::DailyLimitExceeded,
                                &exceeded,
                            )
                            .await?;
                            AttemptOutcome::Exceeded { used, allowance }
                        }
                    })
                })
            })
            .await
    }

    async fn counter(&self, officer_id: &str, day: NaiveDate) -> Result<Counter, StoreError> {
        let Ok(who) = id(officer_id) else {
            return Ok(Counter::default());
        };
        let args = [who, Arg::Day(day)];
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    match c.opt(COUNTER, &args).await? {
                        None => Ok(Counter::default()),
                        Some(r) => Ok(Counter {
                            used: r.count(0)?,
                            extra: r.count(1)?,
                            wrong_codes: r.count(2)?,
                        }),
                    }
                })
            })
            .await
    }

    async fn unlock(
        &self,
        officer_id: &str,
        day: NaiveDate,
        new_extra: u32,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let who = id(officer_id)?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    c.exec(EXTRA, &[who.clone(), Arg::Day(day), new_extra.into()])
                        .await?;
                    c.exec(UNLOCK, &[who]).await?;
                    append_all(c, std::slice::from_ref(&entry)).await
                })
            })
            .await
    }
}
