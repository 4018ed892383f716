//! Break-glass overrides (see the PostgreSQL store, statement for statement).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{params, Row};

use super::{all, audit, canonical_id, col, count, day, exec, instant, micros, one, SqliteStore};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::break_glass::{Decision, Override, Status};
use okaz_core::ports::{
    BreakGlassRecord, BreakGlassStart, BreakGlassStore, NewBreakGlass, StoreError,
};
use okaz_protocol::ErrorCode;

const COLUMNS: &str = "id, officer_id, unit, overrides, justification, document, purpose,
     case_reference, created_at, deadline, status, decided_by, decided_at, decision_reason";

fn record(r: &Row<'_>) -> Result<BreakGlassRecord, StoreError> {
    let overrides: String = col(r, 3)?;
    let status: String = col(r, 10)?;
    let decided_at: Option<i64> = col(r, 12)?;
    Ok(BreakGlassRecord {
        id: col(r, 0)?,
        officer_id: col(r, 1)?,
        unit: col(r, 2)?,
        overrides: Override::parse(&overrides)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass override {overrides}")))?,
        justification: col(r, 4)?,
        document: col(r, 5)?,
        purpose: col(r, 6)?,
        case_reference: col(r, 7)?,
        created_at: instant(col(r, 8)?)?,
        deadline: instant(col(r, 9)?)?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass status {status}")))?,
        decided_by: col(r, 11)?,
        decided_at: decided_at.map(instant).transpose()?,
        decision_reason: col(r, 13)?,
    })
}

#[async_trait]
impl BreakGlassStore for SqliteStore {
    async fn start_break_glass(
        &self,
        bg: NewBreakGlass,
        on: NaiveDate,
        cap: u32,
        used: AuditEntry,
        refused: AuditEntry,
    ) -> Result<BreakGlassStart, StoreError> {
        let officer = super::uuid(&bg.officer_id)?;
        let id = super::uuid(&bg.id)?;
        let on = day(on);
        self.write(move |tx| {
            let locked = one(
                tx,
                "SELECT locked_at IS NOT NULL FROM officers WHERE id = ?1",
                [&officer],
                |r| col::<bool>(r, 0),
            )?;
            if locked != Some(false) {
                audit::append(tx, &refused.refused(ErrorCode::AccountLocked))?;
                return Ok(BreakGlassStart::Locked);
            }
            let counted = one(
                tx,
                "INSERT INTO break_glass_counters (officer_id, day, used) VALUES (?1, ?2, 1)
                 ON CONFLICT (officer_id, day) DO UPDATE SET used = break_glass_counters.used + 1
                 WHERE break_glass_counters.used < ?3
                 RETURNING used",
                params![officer, on, i64::from(cap)],
                |r| count(col(r, 0)?),
            )?;
            let Some(n) = counted else {
                audit::append(tx, &refused)?;
                return Ok(BreakGlassStart::CapReached);
            };
            exec(
                tx,
                "INSERT INTO break_glass (id, officer_id, unit, overrides, justification,
                     document, purpose, case_reference, created_at, deadline)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    officer,
                    bg.unit,
                    bg.overrides.as_str(),
                    bg.justification,
                    bg.document,
                    bg.purpose,
                    bg.case_reference,
                    micros(bg.created_at),
                    micros(bg.deadline),
                ],
            )?;
            audit::append(tx, &used)?;
            Ok(BreakGlassStart::Started { used: n })
        })
        .await
    }

    async fn break_glass(&self, id: &str) -> Result<Option<BreakGlassRecord>, StoreError> {
        let Some(id) = canonical_id(id) else {
            return Ok(None);
        };
        self.read(move |c| {
            one(
                c,
                &format!("SELECT {COLUMNS} FROM break_glass WHERE id = ?1"),
                [&id],
                record,
            )
        })
        .await
    }

    async fn break_glass_of_unit(
        &self,
        unit: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        let unit = unit.to_string();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM break_glass
                     WHERE unit = ?1 AND (created_at >= ?2 OR status = 'pending')
                     ORDER BY created_at DESC, id"
                ),
                params![unit, micros(since)],
                record,
            )
        })
        .await
    }

    async fn overdue_break_glass(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM break_glass
                     WHERE status = 'pending' AND deadline <= ?1 ORDER BY deadline, id"
                ),
                [micros(now)],
                record,
            )
        })
        .await
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
        let Some(id) = canonical_id(id) else {
            return Ok(false);
        };
        let (by, reason) = (by.to_string(), reason.to_string());
        self.write(move |tx| {
            let won = one(
                tx,
                "UPDATE break_glass SET status = ?2, decided_by = ?3, decided_at = ?4,
                     decision_reason = ?5
                 WHERE id = ?1 AND status = 'pending' AND deadline > ?4
                 RETURNING officer_id",
                params![id, decision.status().as_str(), by, micros(now), reason],
                |r| col::<String>(r, 0),
            )?;
            let Some(officer) = won else {
                return Ok(false);
            };
            audit::append(tx, &entry)?;
            if decision == Decision::Reject {
                super::officers::lock(tx, &officer, LockReason::BreakGlassRejected, &entry)?;
            }
            Ok(true)
        })
        .await
    }

    async fn expire_break_glass(
        &self,
        id: &str,
        now: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Some(id) = canonical_id(id) else {
            return Ok(false);
        };
        self.write(move |tx| {
            let won = one(
                tx,
                "UPDATE break_glass SET status = 'expired', decided_at = ?2
                 WHERE id = ?1 AND status = 'pending' AND deadline <= ?2
                 RETURNING officer_id",
                params![id, micros(now)],
                |r| col::<String>(r, 0),
            )?;
            let Some(officer) = won else {
                return Ok(false);
            };
            audit::append(tx, &entry)?;
            super::officers::lock(tx, &officer, LockReason::BreakGlassUnsigned, &entry)?;
            Ok(true)
        })
        .await
    }

    async fn break_glass_used(&self, officer_id: &str, on: NaiveDate) -> Result<u32, StoreError> {
        let Some(id) = canonical_id(officer_id) else {
            return Ok(0);
        };
        let on = day(on);
        self.read(move |c| {
            let n = one(
                c,
                "SELECT used FROM break_glass_counters WHERE officer_id = ?1 AND day = ?2",
                params![id, on],
                |r| count(col(r, 0)?),
            )?;
            Ok(n.unwrap_or(0))
        })
        .await
    }
}
