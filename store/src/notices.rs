//! Notices (the sealed outbox, the citizens' channel choices) and
//! disputes: written once for both stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::append_all;
use crate::conn::{id, Arg, Backend, Conn, Db, Row, Sql};
use okaz_core::audit::AuditEntry;
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::{
    Dispute, DisputeOpened, DisputeStore, NewDispute, NoticeStore, OutboxNotice, Resolution,
    StoreError,
};
use okaz_core::pseudonym::Pseudonym;

const PREFS: Sql = Sql::Same("SELECT sms, email FROM notice_prefs WHERE citizen = $1");
/// On PostgreSQL, SKIP LOCKED: a row another replica is claiming right now
/// is left to it; the lease keeps it theirs while they deliver. SQLite's
/// claim is a single write transaction, so two workers on one file never
/// claim one row twice.
const CLAIM: Sql = Sql::Split {
    pg: "UPDATE notice_outbox SET claimed_until = $2
     WHERE id IN (
         SELECT id FROM notice_outbox
         WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
         ORDER BY due_at LIMIT $3
         FOR UPDATE SKIP LOCKED)
     RETURNING id, sealed, due_at, attempts",
    sqlite: "UPDATE notice_outbox SET claimed_until = ?2
     WHERE id IN (
         SELECT id FROM notice_outbox
         WHERE due_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
         ORDER BY due_at LIMIT ?3)
     RETURNING id, sealed, due_at, attempts",
};
const DELETE: Sql = Sql::Same("DELETE FROM notice_outbox WHERE id = $1");
const RETRY: Sql = Sql::Same(
    "UPDATE notice_outbox SET attempts = $2, due_at = $3, sealed = $4, claimed_until = NULL
     WHERE id = $1",
);
const OUTBOX_LEN: Sql = Sql::Same("SELECT count(*) FROM notice_outbox");
const SET_PREFS: Sql = Sql::Same(
    "INSERT INTO notice_prefs (citizen, sms, email, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (citizen) DO UPDATE SET sms = $2, email = $3, updated_at = $4",
);
/// One citizen's disputes are counted one at a time: the lock on their
/// pseudonym serialises concurrent ones across replicas (SQLite's one
/// writer already does).
const DISPUTE_LOCK: Sql = Sql::PgOnly("SELECT pg_advisory_xact_lock(hashtextextended($1, 16))");
const DISPUTED: Sql = Sql::Same("SELECT 1 FROM disputes WHERE verification = $1");
const DISPUTES_SINCE: Sql =
    Sql::Same("SELECT count(*) FROM disputes WHERE citizen = $1 AND opened_at >= $2");
const OPEN: Sql = Sql::Same(
    "INSERT INTO disputes (id, verification, citizen, unit, officer_id, comment, opened_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)",
);
macro_rules! dispute_columns {
    () => {
        "id, verification, citizen, unit, officer_id, comment, opened_at,
     resolved_at, resolved_by, resolution"
    };
}
const OF_UNIT: Sql = Sql::Same(concat!(
    "SELECT ",
    dispute_columns!(),
    " FROM disputes
     WHERE unit = $1 AND (NOT $2 OR resolved_at IS NULL)
     ORDER BY opened_at DESC, id LIMIT 1000"
));
const OF_CITIZEN: Sql = Sql::Same(concat!(
    "SELECT ",
    dispute_columns!(),
    " FROM disputes WHERE citizen = $1
     ORDER BY opened_at DESC, id LIMIT 1000"
));
const RESOLVE: Sql = Sql::Same(
    "UPDATE disputes SET resolved_at = $3, resolved_by = $4, resolution = $5
     WHERE id = $1 AND unit = $2 AND resolved_at IS NULL",
);

/// The citizen's channel choices on `c` (all on when never chosen).
pub(crate) async fn prefs_in(
    c: &mut dyn Conn,
    citizen: &Pseudonym,
) -> Result<NoticePrefs, StoreError> {
    Ok(match c.opt(PREFS, &[citizen.as_str().into()]).await? {
        Some(r) => NoticePrefs {
            sms: r.bool(0)?,
            email: r.bool(1)?,
        },
        None => NoticePrefs::default(),
    })
}

fn outbox_row(r: &Row) -> Result<OutboxNotice, StoreError> {
    Ok(OutboxNotice {
        id: r.text(0)?,
        sealed: r.bytes(1)?,
        due_at: r.instant(2)?,
        attempts: r.count(3)?,
    })
}

fn dispute(r: &Row) -> Result<Dispute, StoreError> {
    let resolved = match (r.opt_instant(7)?, r.opt_text(8)?, r.opt_text(9)?) {
        (Some(at), Some(by), Some(reason)) => Some(Resolution { at, by, reason }),
        (None, None, None) => None,
        _ => return Err(StoreError::Corrupt("a half-resolved dispute".into())),
    };
    Ok(Dispute {
        id: r.text(0)?,
        verification: r.text(1)?,
        citizen: Pseudonym(r.text(2)?),
        unit: r.text(3)?,
        officer_id: r.text(4)?,
        comment: r.text(5)?,
        opened_at: r.instant(6)?,
        resolved,
    })
}

fn disputes(rows: Vec<Row>) -> Result<Vec<Dispute>, StoreError> {
    rows.iter().map(dispute).collect()
}

#[async_trait]
impl<B: Backend> NoticeStore for Db<B> {
    async fn claim_due_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxNotice>, StoreError> {
        let args = [now.into(), lease_until.into(), limit.into()];
        self.b
            .run_autocommit(move |c| {
                Box::pin(async move {
                    c.query(CLAIM, &args)
                        .await?
                        .iter()
                        .map(outbox_row)
                        .collect()
                })
            })
            .await
    }

    async fn delete_notice(&self, notice: &str) -> Result<(), StoreError> {
        let args = [id(notice)?];
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.exec(DELETE, &args).await.map(drop) }))
            .await
    }

    async fn retry_notice(
        &self,
        notice: &str,
        attempts: u32,
        next_at: DateTime<Utc>,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError> {
        let args = [
            id(notice)?,
            attempts.into(),
            next_at.into(),
            Arg::Bytes(sealed),
        ];
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.exec(RETRY, &args).await.map(drop) }))
            .await
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        self.b
            .run_read(|c| {
                Box::pin(async move {
                    let n = match c.opt(OUTBOX_LEN, &[]).await? {
                        Some(r) => r.int(0)?,
                        None => 0,
                    };
                    Ok(u64::try_from(n).unwrap_or(0))
                })
            })
            .await
    }

    async fn notice_prefs(&self, citizen: &Pseudonym) -> Result<NoticePrefs, StoreError> {
        let citizen = citizen.clone();
        self.b
            .run_read(move |c| Box::pin(async move { prefs_in(c, &citizen).await }))
            .await
    }

    async fn set_notice_prefs(
        &self,
        citizen: &Pseudonym,
        prefs: NoticePrefs,
        at: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let args = [
            citizen.as_str().into(),
            prefs.sms.into(),
            prefs.email.into(),
            at.into(),
        ];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    c.exec(SET_PREFS, &args).await?;
                    append_all(c, std::slice::from_ref(&entry)).await
                })
            })
            .await
    }
}

#[async_trait]
impl<B: Backend> DisputeStore for Db<B> {
    async fn open_dispute(
        &self,
        d: NewDispute,
        since: DateTime<Utc>,
        limit: u32,
        entry: AuditEntry,
    ) -> Result<DisputeOpened, StoreError> {
        let row = id(&d.id)?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let who = Arg::from(d.citizen.as_str());
                    c.exec(DISPUTE_LOCK, std::slice::from_ref(&who)).await?;
                    if c.opt(DISPUTED, &[(&d.verification).into()])
                        .await?
                        .is_some()
                    {
                        return Ok(DisputeOpened::AlreadyDisputed);
                    }
                    let today = match c.opt(DISPUTES_SINCE, &[who.clone(), since.into()]).await? {
                        Some(r) => r.int(0)?,
                        None => 0,
                    };
                    if today >= i64::from(limit) {
                        return Ok(DisputeOpened::LimitReached);
                    }
                    let args = [
                        row,
                        (&d.verification).into(),
                        who,
                        (&d.unit).into(),
                        (&d.officer_id).into(),
                        (&d.comment).into(),
                        d.opened_at.into(),
                    ];
                    c.exec(OPEN, &args).await?;
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(DisputeOpened::Opened)
                })
            })
            .await
    }

    async fn unit_disputes(&self, unit: &str, open_only: bool) -> Result<Vec<Dispute>, StoreError> {
        let args = [unit.into(), open_only.into()];
        self.b
            .run_read(move |c| Box::pin(async move { disputes(c.query(OF_UNIT, &args).await?) }))
            .await
    }

    async fn citizen_disputes(&self, citizen: &Pseudonym) -> Result<Vec<Dispute>, StoreError> {
        let args = [citizen.as_str().into()];
        self.b
            .run_read(move |c| Box::pin(async move { disputes(c.query(OF_CITIZEN, &args).await?) }))
            .await
    }

    async fn resolve_dispute(
        &self,
        dispute: &str,
        unit: &str,
        r: Resolution,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(row) = id(dispute) else {
            return Ok(false);
        };
        let args = [row, unit.into(), r.at.into(), r.by.into(), r.reason.into()];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    if c.exec(RESOLVE, &args).await? != 1 {
                        return Ok(false);
                    }
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(true)
                })
            })
            .await
    }
}
