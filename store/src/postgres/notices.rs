//! Notices (the sealed outbox, the citizens' channel choices) and disputes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::{audit, count, int, map_err, PgStore};
use okaz_core::audit::AuditEntry;
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::{
    Dispute, DisputeOpened, DisputeStore, NewDispute, NoticeStore, OutboxNotice, Resolution,
    StoreError,
};
use okaz_core::pseudonym::Pseudonym;

pub(super) async fn prefs_in(
    tx: &Transaction<'_>,
    citizen: &Pseudonym,
) -> Result<NoticePrefs, StoreError> {
    let st = tx
        .prepare_cached("SELECT sms, email FROM notice_prefs WHERE citizen = $1")
        .await
        .map_err(map_err)?;
    let row = tx
        .query_opt(&st, &[&citizen.as_str()])
        .await
        .map_err(map_err)?;
    Ok(row.map_or_else(NoticePrefs::default, |r| NoticePrefs {
        sms: r.get(0),
        email: r.get(1),
    }))
}

#[async_trait]
impl NoticeStore for PgStore {
    async fn claim_due_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxNotice>, StoreError> {
        let c = self.client().await?;
        // SKIP LOCKED: a row another replica is claiming right now is left
        // to it; the lease keeps it theirs while they deliver.
        let rows = c
            .query(
                "UPDATE notice_outbox SET claimed_until = $2
                 WHERE id IN (
                     SELECT id FROM notice_outbox
                     WHERE due_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                     ORDER BY due_at LIMIT $3
                     FOR UPDATE SKIP LOCKED)
                 RETURNING id, sealed, due_at, attempts",
                &[&now, &lease_until, &i64::from(limit)],
            )
            .await
            .map_err(map_err)?;
        rows.iter().map(outbox_row).collect()
    }

    async fn delete_notice(&self, id: &str) -> Result<(), StoreError> {
        let id = super::uuid(id)?;
        let c = self.client().await?;
        c.execute("DELETE FROM notice_outbox WHERE id = $1", &[&id])
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn retry_notice(
        &self,
        id: &str,
        attempts: u32,
        next_at: DateTime<Utc>,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError> {
        let id = super::uuid(id)?;
        let c = self.client().await?;
        c.execute(
            "UPDATE notice_outbox SET attempts = $2, due_at = $3, sealed = $4, claimed_until = NULL
             WHERE id = $1",
            &[&id, &int(attempts), &next_at, &sealed],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT count(*) FROM notice_outbox", &[])
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    async fn notice_prefs(&self, citizen: &Pseudonym) -> Result<NoticePrefs, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT sms, email FROM notice_prefs WHERE citizen = $1",
                &[&citizen.as_str()],
            )
            .await
            .map_err(map_err)?;
        Ok(row.map_or_else(NoticePrefs::default, |r| NoticePrefs {
            sms: r.get(0),
            email: r.get(1),
        }))
    }

    async fn set_notice_prefs(
        &self,
        citizen: &Pseudonym,
        prefs: NoticePrefs,
        at: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        tx.execute(
            "INSERT INTO notice_prefs (citizen, sms, email, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (citizen) DO UPDATE SET sms = $2, email = $3, updated_at = $4",
            &[&citizen.as_str(), &prefs.sms, &prefs.email, &at],
        )
        .await
        .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }
}

fn outbox_row(r: &Row) -> Result<OutboxNotice, StoreError> {
    Ok(OutboxNotice {
        id: r.get::<_, uuid::Uuid>(0).to_string(),
        sealed: r.get(1),
        due_at: r.get(2),
        attempts: count(r.get(3))?,
    })
}

const DISPUTE_COLUMNS: &str = "id, verification, citizen, unit, officer_id, comment, opened_at,
     resolved_at, resolved_by, resolution";

fn dispute(r: &Row) -> Result<Dispute, StoreError> {
    let resolved = match (
        r.get::<_, Option<DateTime<Utc>>>(7),
        r.get::<_, Option<String>>(8),
        r.get::<_, Option<String>>(9),
    ) {
        (Some(at), Some(by), Some(reason)) => Some(Resolution { at, by, reason }),
        (None, None, None) => None,
        _ => return Err(StoreError::Corrupt("a half-resolved dispute".into())),
    };
    Ok(Dispute {
        id: r.get::<_, uuid::Uuid>(0).to_string(),
        verification: r.get(1),
        citizen: Pseudonym(r.get(2)),
        unit: r.get(3),
        officer_id: r.get(4),
        comment: r.get(5),
        opened_at: r.get(6),
        resolved,
    })
}

#[async_trait]
impl DisputeStore for PgStore {
    async fn open_dispute(
        &self,
        d: NewDispute,
        since: DateTime<Utc>,
        limit: u32,
        entry: AuditEntry,
    ) -> Result<DisputeOpened, StoreError> {
        let id = super::uuid(&d.id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // One citizen's disputes are counted one at a time: the lock on
        // their pseudonym serialises concurrent ones across replicas.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 16))",
            &[&d.citizen.as_str()],
        )
        .await
        .map_err(map_err)?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM disputes WHERE verification = $1",
                &[&d.verification],
            )
            .await
            .map_err(map_err)?;
        if taken.is_some() {
            tx.rollback().await.map_err(map_err)?;
            return Ok(DisputeOpened::AlreadyDisputed);
        }
        let today: i64 = tx
            .query_one(
                "SELECT count(*) FROM disputes WHERE citizen = $1 AND opened_at >= $2",
                &[&d.citizen.as_str(), &since],
            )
            .await
            .map_err(map_err)?
            .get(0);
        if today >= i64::from(limit) {
            tx.rollback().await.map_err(map_err)?;
            return Ok(DisputeOpened::LimitReached);
        }
        tx.execute(
            "INSERT INTO disputes (id, verification, citizen, unit, officer_id, comment, opened_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &d.verification,
                &d.citizen.as_str(),
                &d.unit,
                &d.officer_id,
                &d.comment,
                &d.opened_at,
            ],
        )
        .await
        .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(DisputeOpened::Opened)
    }

    async fn unit_disputes(&self, unit: &str, open_only: bool) -> Result<Vec<Dispute>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {DISPUTE_COLUMNS} FROM disputes
                     WHERE unit = $1 AND (NOT $2 OR resolved_at IS NULL)
                     ORDER BY opened_at DESC, id LIMIT 1000"
                ),
                &[&unit, &open_only],
            )
            .await
            .map_err(map_err)?;
        rows.iter().map(dispute).collect()
    }

    async fn citizen_disputes(&self, citizen: &Pseudonym) -> Result<Vec<Dispute>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {DISPUTE_COLUMNS} FROM disputes WHERE citizen = $1
                     ORDER BY opened_at DESC, id LIMIT 1000"
                ),
                &[&citizen.as_str()],
            )
            .await
            .map_err(map_err)?;
        rows.iter().map(dispute).collect()
    }

    async fn resolve_dispute(
        &self,
        id: &str,
        unit: &str,
        r: Resolution,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(id) = super::uuid(id) else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = tx
            .execute(
                "UPDATE disputes SET resolved_at = $3, resolved_by = $4, resolution = $5
                 WHERE id = $1 AND unit = $2 AND resolved_at IS NULL",
                &[&id, &unit, &r.at, &r.by, &r.reason],
            )
            .await
            .map_err(map_err)?;
        if n != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
