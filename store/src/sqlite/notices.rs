//! Notices (the sealed outbox, the citizens' channel choices) and disputes.
//! One writer at a time: a claim is a single write transaction, so two
//! workers on one file never claim one row twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};

use super::{all, audit, col, count, exec, instant, micros, one, SqliteStore};
use okaz_core::audit::AuditEntry;
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::{
    Dispute, DisputeOpened, DisputeStore, NewDispute, NoticeStore, OutboxNotice, Resolution,
    StoreError,
};
use okaz_core::pseudonym::Pseudonym;

pub(super) fn prefs_in(c: &Connection, citizen: &str) -> Result<NoticePrefs, StoreError> {
    let p = one(
        c,
        "SELECT sms, email FROM notice_prefs WHERE citizen = ?1",
        [citizen],
        |r| {
            Ok(NoticePrefs {
                sms: col::<bool>(r, 0)?,
                email: col::<bool>(r, 1)?,
            })
        },
    )?;
    Ok(p.unwrap_or_default())
}

fn outbox_row(r: &Row<'_>) -> Result<OutboxNotice, StoreError> {
    Ok(OutboxNotice {
        id: col(r, 0)?,
        sealed: col(r, 1)?,
        due_at: instant(col(r, 2)?)?,
        attempts: count(col(r, 3)?)?,
    })
}

#[async_trait]
impl NoticeStore for SqliteStore {
    async fn claim_due_notices(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<OutboxNotice>, StoreError> {
        let (now, until) = (micros(now), micros(lease_until));
        self.write(move |tx| {
            all(
                tx,
                "UPDATE notice_outbox SET claimed_until = ?2
                 WHERE id IN (
                     SELECT id FROM notice_outbox
                     WHERE due_at <= ?1 AND (claimed_until IS NULL OR claimed_until <= ?1)
                     ORDER BY due_at LIMIT ?3)
                 RETURNING id, sealed, due_at, attempts",
                params![now, until, i64::from(limit)],
                outbox_row,
            )
        })
        .await
    }

    async fn delete_notice(&self, id: &str) -> Result<(), StoreError> {
        let id = super::uuid(id)?;
        self.write(move |tx| {
            exec(tx, "DELETE FROM notice_outbox WHERE id = ?1", [&id])?;
            Ok(())
        })
        .await
    }

    async fn retry_notice(
        &self,
        id: &str,
        attempts: u32,
        next_at: DateTime<Utc>,
        sealed: Vec<u8>,
    ) -> Result<(), StoreError> {
        let id = super::uuid(id)?;
        self.write(move |tx| {
            exec(
                tx,
                "UPDATE notice_outbox SET attempts = ?2, due_at = ?3, sealed = ?4, claimed_until = NULL
                 WHERE id = ?1",
                params![id, i64::from(attempts), micros(next_at), sealed],
            )?;
            Ok(())
        })
        .await
    }

    async fn outbox_len(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n = one(c, "SELECT count(*) FROM notice_outbox", [], |r| {
                col::<i64>(r, 0)
            })?;
            Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
        })
        .await
    }

    async fn notice_prefs(&self, citizen: &Pseudonym) -> Result<NoticePrefs, StoreError> {
        let citizen = citizen.as_str().to_string();
        self.read(move |c| prefs_in(c, &citizen)).await
    }

    async fn set_notice_prefs(
        &self,
        citizen: &Pseudonym,
        prefs: NoticePrefs,
        at: DateTime<Utc>,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let citizen = citizen.as_str().to_string();
        self.write(move |tx| {
            exec(
                tx,
                "INSERT INTO notice_prefs (citizen, sms, email, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (citizen) DO UPDATE SET sms = ?2, email = ?3, updated_at = ?4",
                params![citizen, prefs.sms, prefs.email, micros(at)],
            )?;
            audit::append(tx, &entry)
        })
        .await
    }
}

const DISPUTE_COLUMNS: &str = "id, verification, citizen, unit, officer_id, comment, opened_at,
     resolved_at, resolved_by, resolution";

fn dispute(r: &Row<'_>) -> Result<Dispute, StoreError> {
    let resolved = match (
        col::<Option<i64>>(r, 7)?,
        col::<Option<String>>(r, 8)?,
        col::<Option<String>>(r, 9)?,
    ) {
        (Some(at), Some(by), Some(reason)) => Some(Resolution {
            at: instant(at)?,
            by,
            reason,
        }),
        (None, None, None) => None,
        _ => return Err(StoreError::Corrupt("a half-resolved dispute".into())),
    };
    Ok(Dispute {
        id: col(r, 0)?,
        verification: col(r, 1)?,
        citizen: Pseudonym(col(r, 2)?),
        unit: col(r, 3)?,
        officer_id: col(r, 4)?,
        comment: col(r, 5)?,
        opened_at: instant(col(r, 6)?)?,
        resolved,
    })
}

#[async_trait]
impl DisputeStore for SqliteStore {
    async fn open_dispute(
        &self,
        d: NewDispute,
        since: DateTime<Utc>,
        limit: u32,
        entry: AuditEntry,
    ) -> Result<DisputeOpened, StoreError> {
        let id = super::uuid(&d.id)?;
        self.write(move |tx| {
            let taken = one(
                tx,
                "SELECT 1 FROM disputes WHERE verification = ?1",
                [&d.verification],
                |_| Ok(()),
            )?;
            if taken.is_some() {
                return Ok(DisputeOpened::AlreadyDisputed);
            }
            let today = one(
                tx,
                "SELECT count(*) FROM disputes WHERE citizen = ?1 AND opened_at >= ?2",
                params![d.citizen.as_str(), micros(since)],
                |r| col::<i64>(r, 0),
            )?
            .unwrap_or(0);
            if today >= i64::from(limit) {
                return Ok(DisputeOpened::LimitReached);
            }
            exec(
                tx,
                "INSERT INTO disputes (id, verification, citizen, unit, officer_id, comment, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    d.verification,
                    d.citizen.as_str(),
                    d.unit,
                    d.officer_id,
                    d.comment,
                    micros(d.opened_at)
                ],
            )?;
            audit::append(tx, &entry)?;
            Ok(DisputeOpened::Opened)
        })
        .await
    }

    async fn unit_disputes(&self, unit: &str, open_only: bool) -> Result<Vec<Dispute>, StoreError> {
        let unit = unit.to_string();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {DISPUTE_COLUMNS} FROM disputes
                     WHERE unit = ?1 AND (NOT ?2 OR resolved_at IS NULL)
                     ORDER BY opened_at DESC, id LIMIT 1000"
                ),
                params![unit, open_only],
                dispute,
            )
        })
        .await
    }

    async fn citizen_disputes(&self, citizen: &Pseudonym) -> Result<Vec<Dispute>, StoreError> {
        let citizen = citizen.as_str().to_string();
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {DISPUTE_COLUMNS} FROM disputes WHERE citizen = ?1
                     ORDER BY opened_at DESC, id LIMIT 1000"
                ),
                [citizen],
                dispute,
            )
        })
        .await
    }

    async fn resolve_dispute(
        &self,
        id: &str,
        unit: &str,
        r: Resolution,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Some(id) = super::canonical_id(id) else {
            return Ok(false);
        };
        let unit = unit.to_string();
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE disputes SET resolved_at = ?3, resolved_by = ?4, resolution = ?5
                 WHERE id = ?1 AND unit = ?2 AND resolved_at IS NULL",
                params![id, unit, micros(r.at), r.by, r.reason],
            )?;
            if n != 1 {
                return Ok(false);
            }
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }
}
