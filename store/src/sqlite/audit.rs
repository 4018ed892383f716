//! Appending to and reading the audit chains.

use async_trait::async_trait;
use okaz_core::ports::AuditStore;
use rusqlite::{params, Connection, Row};

use super::{col, exec, instant, micros, one, SqliteStore};
use okaz_core::audit::{link_hash, AuditEntry, StoredRecord, GENESIS};
use okaz_core::ports::{AuditFilter, OutboxNotice, StoreError};

/// Appends `e` to its chain inside the open write transaction `tx`. The
/// transaction began IMMEDIATE and so holds the database's write lock: the
/// chain head read here cannot move before the record and the new head
/// are written, and each record links to the one before.
pub(super) fn append(tx: &Connection, e: &AuditEntry) -> Result<(), StoreError> {
    let chain = e.chain();
    exec(
        tx,
        "INSERT INTO audit_chain_heads (chain, seq, hash) VALUES (?1, 0, ?2) ON CONFLICT DO NOTHING",
        params![chain, GENESIS],
    )?;
    let (seq, prev) = one(
        tx,
        "SELECT seq, hash FROM audit_chain_heads WHERE chain = ?1",
        [chain],
        |r| Ok((col::<i64>(r, 0)?, col::<String>(r, 1)?)),
    )?
    .ok_or_else(|| StoreError::Unavailable("audit chain head vanished".to_string()))?;
    let seq = seq + 1;
    let hash = link_hash(&prev, seq, e);
    let fields = serde_json::to_string(&e.fields)
        .map_err(|err| StoreError::Corrupt(format!("audit fields: {err}")))?;
    exec(
        tx,
        "INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
             document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)",
        params![
            chain,
            seq,
            micros(e.at),
            e.event.as_str(),
            e.actor,
            e.unit,
            e.subject_officer,
            e.citizen,
            e.document,
            e.purpose,
            e.case_reference,
            e.verification,
            e.outcome.as_str(),
            fields,
            e.reason,
            prev,
            hash,
        ],
    )?;
    exec(
        tx,
        "UPDATE audit_chain_heads SET seq = ?2, hash = ?3 WHERE chain = ?1",
        params![chain, seq, hash],
    )?;
    Ok(())
}

pub(super) const COLUMNS: &str =
    "id, seq, at, event, actor, unit, subject_officer, citizen, document, purpose,
     case_reference, verification, outcome, fields, reason, prev_hash, hash";

pub(super) fn record(r: &Row<'_>) -> Result<StoredRecord, StoreError> {
    let fields: String = col(r, 13)?;
    let id: i64 = col(r, 0)?;
    let (event, outcome) = crate::typed(id, &col::<String>(r, 3)?, &col::<String>(r, 12)?)?;
    Ok(StoredRecord {
        id,
        seq: col(r, 1)?,
        entry: AuditEntry {
            at: instant(col(r, 2)?)?,
            event,
            actor: col(r, 4)?,
            unit: col(r, 5)?,
            subject_officer: col(r, 6)?,
            citizen: col(r, 7)?,
            document: col(r, 8)?,
            purpose: col(r, 9)?,
            case_reference: col(r, 10)?,
            verification: col(r, 11)?,
            outcome,
            fields: serde_json::from_str(&fields)
                .map_err(|e| StoreError::Corrupt(format!("audit fields: {e}")))?,
            reason: col(r, 14)?,
        },
        prev_hash: col(r, 15)?,
        hash: col(r, 16)?,
    })
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audits(
        &self,
        entries: Vec<AuditEntry>,
        notices: &[OutboxNotice],
    ) -> Result<(), StoreError> {
        let ids = notices
            .iter()
            .map(|n| super::uuid(&n.id))
            .collect::<Result<Vec<_>, _>>()?;
        let notices = notices.to_vec();
        self.write(move |tx| {
            for (id, notice) in ids.iter().zip(&notices) {
                exec(
                    tx,
                    "INSERT INTO notice_outbox (id, sealed, due_at, attempts) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        id,
                        notice.sealed,
                        micros(notice.due_at),
                        i64::from(notice.attempts)
                    ],
                )?;
            }
            entries.iter().try_for_each(|e| append(tx, e))
        })
        .await
    }

    async fn audit_search(&self, f: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError> {
        let unit = f.unit.clone();
        let officer = f.officer.clone();
        let citizen = f.citizen.as_ref().map(|p| p.as_str().to_string());
        let since = f.since.map(micros);
        let until = f.until.map(micros);
        let limit = i64::from(f.limit.max(1));
        self.read(move |c| {
            super::all(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM audit_log
                 WHERE (?1 IS NULL OR unit = ?1)
                   AND (?2 IS NULL OR actor = ?2)
                   AND (?3 IS NULL OR citizen = ?3)
                   AND (?4 IS NULL OR at >= ?4)
                   AND (?5 IS NULL OR at < ?5)
                 ORDER BY at DESC, id DESC LIMIT ?6"
                ),
                params![unit, officer, citizen, since, until, limit],
                record,
            )
        })
        .await
    }

    async fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            super::all(
                c,
                "SELECT DISTINCT chain FROM audit_log ORDER BY chain",
                [],
                |r| col(r, 0),
            )
        })
        .await
    }

    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError> {
        let chain = chain.to_string();
        self.read(move |c| {
            super::all(
                c,
                &format!("SELECT {COLUMNS} FROM audit_log WHERE chain = ?1 ORDER BY seq"),
                [chain],
                record,
            )
        })
        .await
    }
}
