//! Break-glass overrides: the counter, the record, decisions and expiry.
//! Every transition is one `UPDATE … WHERE status = 'pending'` that says
//! whether it won, so supervisors and sweepers on several replicas move
//! each override once.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;

use super::{audit, count, int, map_err, PgStore};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::break_glass::{Decision, Override, Status};
use okaz_core::ports::{
    BreakGlassRecord, BreakGlassStart, BreakGlassStore, NewBreakGlass, StoreError,
};
use okaz_protocol::ErrorCode;

const COLUMNS: &str = "id, officer_id, unit, overrides, justification, document, purpose,
     case_reference, created_at, deadline, status, decided_by, decided_at, decision_reason";

/// The cap and the count in one statement: a row at the cap is not
/// updated, so no row comes back and the use is refused.
const COUNT: &str = "INSERT INTO break_glass_counters (officer_id, day, used) VALUES ($1, $2, 1)
     ON CONFLICT (officer_id, day) DO UPDATE SET used = break_glass_counters.used + 1
     WHERE break_glass_counters.used < $3
     RETURNING used";

fn record(r: &Row) -> Result<BreakGlassRecord, StoreError> {
    let id: uuid::Uuid = r.try_get(0).map_err(map_err)?;
    let officer: uuid::Uuid = r.try_get(1).map_err(map_err)?;
    let overrides: String = r.try_get(3).map_err(map_err)?;
    let status: String = r.try_get(10).map_err(map_err)?;
    Ok(BreakGlassRecord {
        id: id.to_string(),
        officer_id: officer.to_string(),
        unit: r.try_get(2).map_err(map_err)?,
        overrides: Override::parse(&overrides)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass override {overrides}")))?,
        justification: r.try_get(4).map_err(map_err)?,
        document: r.try_get(5).map_err(map_err)?,
        purpose: r.try_get(6).map_err(map_err)?,
        case_reference: r.try_get(7).map_err(map_err)?,
        created_at: r.try_get(8).map_err(map_err)?,
        deadline: r.try_get(9).map_err(map_err)?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass status {status}")))?,
        decided_by: r.try_get(11).map_err(map_err)?,
        decided_at: r.try_get(12).map_err(map_err)?,
        decision_reason: r.try_get(13).map_err(map_err)?,
    })
}

#[async_trait]
impl BreakGlassStore for PgStore {
    async fn start_break_glass(
        &self,
        bg: NewBreakGlass,
        day: NaiveDate,
        cap: u32,
        used: AuditEntry,
        refused: AuditEntry,
    ) -> Result<BreakGlassStart, StoreError> {
        let officer = super::uuid(&bg.officer_id)?;
        let id = super::uuid(&bg.id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // The officer's row is locked for the transaction, so an unlock or
        // a lock cannot slip between this check and the count.
        let locked: Option<bool> = tx
            .query_opt(
                "SELECT locked_at IS NOT NULL FROM officers WHERE id = $1 FOR UPDATE",
                &[&officer],
            )
            .await
            .map_err(map_err)?
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(map_err)?;
        let outcome = if locked != Some(false) {
            audit::append(&tx, &refused.refused(ErrorCode::AccountLocked)).await?;
            BreakGlassStart::Locked
        } else {
            let counted = tx
                .query_opt(COUNT, &[&officer, &day, &int(cap)])
                .await
                .map_err(map_err)?;
            match counted {
                None => {
                    audit::append(&tx, &refused).await?;
                    BreakGlassStart::CapReached
                }
                Some(row) => {
                    let n = count(row.try_get(0).map_err(map_err)?)?;
                    tx.execute(
                        "INSERT INTO break_glass (id, officer_id, unit, overrides, justification,
                             document, purpose, case_reference, created_at, deadline)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                        &[
                            &id,
                            &officer,
                            &bg.unit,
                            &bg.overrides.as_str(),
                            &bg.justification,
                            &bg.document,
                            &bg.purpose,
                            &bg.case_reference,
                            &bg.created_at,
                            &bg.deadline,
                        ],
                    )
                    .await
                    .map_err(map_err)?;
                    audit::append(&tx, &used).await?;
                    BreakGlassStart::Started { used: n }
                }
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn break_glass(&self, id: &str) -> Result<Option<BreakGlassRecord>, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let c = self.client().await?;
        c.query_opt(
            &format!("SELECT {COLUMNS} FROM break_glass WHERE id = $1"),
            &[&id],
        )
        .await
        .map_err(map_err)?
        .map(|r| record(&r))
        .transpose()
    }

    async fn break_glass_of_unit(
        &self,
        unit: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        let c = self.client().await?;
        c.query(
            &format!(
                "SELECT {COLUMNS} FROM break_glass
                 WHERE unit = $1 AND (created_at >= $2 OR status = 'pending')
                 ORDER BY created_at DESC, id"
            ),
            &[&unit, &since],
        )
        .await
        .map_err(map_err)?
        .iter()
        .map(record)
        .collect()
    }

    async fn overdue_break_glass(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        let c = self.client().await?;
        c.query(
            &format!(
                "SELECT {COLUMNS} FROM break_glass
                 WHERE status = 'pending' AND deadline <= $1 ORDER BY deadline, id"
            ),
            &[&now],
        )
        .await
        .map_err(map_err)?
        .iter()
        .map(record)
        .collect()
    }

    async fn decide_break_glass(
        &self,
        id: &str,
        decision: Decision,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let won = tx
            .query_opt(
                "UPDATE break_glass SET status = $2, decided_by = $3, decided_at = $4,
                     decision_reason = $5
                 WHERE id = $1 AND status = 'pending' AND deadline > $4
                 RETURNING officer_id",
                &[&id, &decision.status().as_str(), &by, &now, &reason],
            )
            .await
            .map_err(map_err)?;
        let Some(row) = won else {
            return Ok(false);
        };
        audit::append(&tx, &entry).await?;
        if decision == Decision::Reject {
            let officer: uuid::Uuid = row.try_get(0).map_err(map_err)?;
            super::officers::lock(&tx, &officer, LockReason::BreakGlassRejected, &entry).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn expire_break_glass(
        &self,
        id: &str,
        now: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let won = tx
            .query_opt(
                "UPDATE break_glass SET status = 'expired', decided_at = $2
                 WHERE id = $1 AND status = 'pending' AND deadline <= $2
                 RETURNING officer_id",
                &[&id, &now],
            )
            .await
            .map_err(map_err)?;
        let Some(row) = won else {
            return Ok(false);
        };
        audit::append(&tx, &entry).await?;
        let officer: uuid::Uuid = row.try_get(0).map_err(map_err)?;
        super::officers::lock(&tx, &officer, LockReason::BreakGlassUnsigned, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn break_glass_used(&self, officer_id: &str, day: NaiveDate) -> Result<u32, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(officer_id) else {
            return Ok(0);
        };
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT used FROM break_glass_counters WHERE officer_id = $1 AND day = $2",
                &[&id, &day],
            )
            .await
            .map_err(map_err)?;
        match row {
            None => Ok(0),
            Some(r) => count(r.try_get(0).map_err(map_err)?),
        }
    }
}
