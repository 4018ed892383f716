//! Break-glass overrides: the counter, the record, decisions and expiry,
//! written once for both stores. Every transition is one
//! `UPDATE … WHERE status = 'pending'` that says whether it won, so
//! supervisors and sweepers on several replicas move each override once.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::audit::append_all;
use crate::conn::{id, Arg, Backend, Db, Row, Sql};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::break_glass::{Decision, Override, Status};
use okaz_core::ports::{
    BreakGlassRecord, BreakGlassStart, BreakGlassStore, NewBreakGlass, StoreError,
};
use okaz_protocol::ErrorCode;

/// The columns [`record`] reads, in its order.
macro_rules! columns {
    () => {
        "id, officer_id, unit, overrides, justification, document, purpose,
     case_reference, created_at, deadline, status, decided_by, decided_at, decision_reason"
    };
}

/// On PostgreSQL the officer's row is locked for the transaction, so an
/// unlock or a lock cannot slip between this check and the count; SQLite's
/// `BEGIN IMMEDIATE` already excludes every other writer.
const LOCKED: Sql = Sql::Split {
    pg: "SELECT locked_at IS NOT NULL FROM officers WHERE id = $1 FOR UPDATE",
    sqlite: "SELECT locked_at IS NOT NULL FROM officers WHERE id = ?1",
};
/// The cap and the count in one statement: a row at the cap is not
/// updated, so no row comes back and the use is refused.
const COUNT: Sql = Sql::Same(
    "INSERT INTO break_glass_counters (officer_id, day, used) VALUES ($1, $2, 1)
     ON CONFLICT (officer_id, day) DO UPDATE SET used = break_glass_counters.used + 1
     WHERE break_glass_counters.used < $3
     RETURNING used",
);
const INSERT: Sql = Sql::Same(
    "INSERT INTO break_glass (id, officer_id, unit, overrides, justification,
         document, purpose, case_reference, created_at, deadline)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
);
const ONE: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM break_glass WHERE id = $1"
));
const OF_UNIT: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM break_glass
     WHERE unit = $1 AND (created_at >= $2 OR status = 'pending')
     ORDER BY created_at DESC, id"
));
const OVERDUE: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM break_glass
     WHERE status = 'pending' AND deadline <= $1 ORDER BY deadline, id"
));
const DECIDE: Sql = Sql::Same(
    "UPDATE break_glass SET status = $2, decided_by = $3, decided_at = $4,
         decision_reason = $5
     WHERE id = $1 AND status = 'pending' AND deadline > $4
     RETURNING officer_id",
);
const EXPIRE: Sql = Sql::Same(
    "UPDATE break_glass SET status = 'expired', decided_at = $2
     WHERE id = $1 AND status = 'pending' AND deadline <= $2
     RETURNING officer_id",
);
const USED: Sql =
    Sql::Same("SELECT used FROM break_glass_counters WHERE officer_id = $1 AND day = $2");

fn record(r: &Row) -> Result<BreakGlassRecord, StoreError> {
    let overrides = r.text(3)?;
    let status = r.text(10)?;
    Ok(BreakGlassRecord {
        id: r.text(0)?,
        officer_id: r.text(1)?,
        unit: r.text(2)?,
        overrides: Override::parse(&overrides)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass override {overrides}")))?,
        justification: r.text(4)?,
        document: r.text(5)?,
        purpose: r.text(6)?,
        case_reference: r.opt_text(7)?,
        created_at: r.instant(8)?,
        deadline: r.instant(9)?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("break-glass status {status}")))?,
        decided_by: r.opt_text(11)?,
        decided_at: r.opt_instant(12)?,
        decision_reason: r.opt_text(13)?,
    })
}

fn records(rows: Vec<Row>) -> Result<Vec<BreakGlassRecord>, StoreError> {
    rows.iter().map(record).collect()
}

#[async_trait]
impl<B: Backend> BreakGlassStore for Db<B> {
    async fn start_break_glass(
        &self,
        bg: NewBreakGlass,
        day: NaiveDate,
        cap: u32,
        used: AuditEntry,
        refused: AuditEntry,
    ) -> Result<BreakGlassStart, StoreError> {
        let officer = id(&bg.officer_id)?;
        let bg_id = id(&bg.id)?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let locked = match c.opt(LOCKED, std::slice::from_ref(&officer)).await? {
                        Some(r) => Some(r.bool(0)?),
                        None => None,
                    };
                    if locked != Some(false) {
                        let refused = refused.refused(ErrorCode::AccountLocked);
                        append_all(c, std::slice::from_ref(&refused)).await?;
                        return Ok(BreakGlassStart::Locked);
                    }
                    let counted = c
                        .opt(COUNT, &[officer.clone(), Arg::Day(day), cap.into()])
                        .await?;
                    let Some(row) = counted else {
                        append_all(c, std::slice::from_ref(&refused)).await?;
                        return Ok(BreakGlassStart::CapReached);
                    };
                    let n = row.count(0)?;
                    c.exec(
                        INSERT,
                        &[
                            bg_id,
                            officer,
                            bg.unit.into(),
                            bg.overrides.as_str().into(),
                            bg.justification.into(),
                            bg.document.into(),
                            bg.purpose.into(),
                            Arg::OptText(bg.case_reference),
                            bg.created_at.into(),
                            bg.deadline.into(),
                        ],
                    )
                    .await?;
                    append_all(c, std::slice::from_ref(&used)).await?;
                    Ok(BreakGlassStart::Started { used: n })
                })
            })
            .await
    }

    async fn break_glass(&self, id_: &str) -> Result<Option<BreakGlassRecord>, StoreError> {
        let Ok(bg_id) = id(id_) else {
            return Ok(None);
        };
        self.b
            .run_read(move |c| {
                Box::pin(async move { c.opt(ONE, &[bg_id]).await?.map(|r| record(&r)).transpose() })
            })
            .await
    }

    async fn break_glass_of_unit(
        &self,
        unit: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        let args = [unit.into(), since.into()];
        self.b
            .run_read(move |c| Box::pin(async move { records(c.query(OF_UNIT, &args).await?) }))
            .await
    }

    async fn overdue_break_glass(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<BreakGlassRecord>, StoreError> {
        let args = [now.into()];
        self.b
            .run_read(move |c| Box::pin(async move { records(c.query(OVERDUE, &args).await?) }))
            .await
    }

    async fn decide_break_glass(
        &self,
        id_: &str,
        decision: Decision,
        by: &str,
        reason: &str,
        now: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(bg_id) = id(id_) else {
            return Ok(false);
        };
        let args = [
            bg_id,
            decision.status().as_str().into(),
            by.into(),
            now.into(),
            reason.into(),
        ];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let Some(row) = c.opt(DECIDE, &args).await? else {
                        return Ok(false);
                    };
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    if decision == Decision::Reject {
                        let officer = Arg::Text(row.text(0)?);
                        crate::officers::lock(c, &officer, LockReason::BreakGlassRejected, &entry)
                            .await?;
                    }
                    Ok(true)
                })
            })
            .await
    }

    async fn expire_break_glass(
        &self,
        id_: &str,
        now: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(bg_id) = id(id_) else {
            return Ok(false);
        };
        let args = [bg_id, now.into()];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let Some(row) = c.opt(EXPIRE, &args).await? else {
                        return Ok(false);
                    };
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    let officer = Arg::Text(row.text(0)?);
                    crate::officers::lock(c, &officer, LockReason::BreakGlassUnsigned, &entry)
                        .await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn break_glass_used(&self, officer_id: &str, day: NaiveDate) -> Result<u32, StoreError> {
        let Ok(officer) = id(officer_id) else {
            return Ok(0);
        };
        let args = [officer, Arg::Day(day)];
        self.b
            .run_read(move |c| {
                Box::pin(async move { c.opt(USED, &args).await?.map_or(Ok(0), |r| r.count(0)) })
            })
            .await
    }
}
