//! Appending to and reading the audit chains.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use okaz_core::ports::AuditStore;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::{int, map_err, PgStore};
use okaz_core::audit::{link_hash, AuditEntry, StoredRecord, GENESIS};
use okaz_core::ports::{AuditFilter, OutboxNotice, StoreError};

/// Appends `e` to its chain inside `tx`.
pub(super) async fn append(tx: &Transaction<'_>, e: &AuditEntry) -> Result<(), StoreError> {
    append_all(tx, std::slice::from_ref(e)).await
}

/// Appends records to their chains inside `tx`, in order. Each chain's head
/// row is locked by an upsert that returns it, for the rest of the
/// transaction, so records of one chain are appended one at a time and
/// each links to the one before; the records of a chain and its new head
/// are then written in one pipelined round trip.
pub(super) async fn append_all(
    tx: &Transaction<'_>,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    let head = tx.prepare_cached(HEAD).await.map_err(map_err)?;
    let insert = tx.prepare_cached(INSERT).await.map_err(map_err)?;
    let advance = tx.prepare_cached(ADVANCE).await.map_err(map_err)?;
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let chain = first.chain();
        let run = rest.iter().take_while(|e| e.chain() == chain).count();
        let (this, next) = rest.split_at(run);
        rest = next;
        let row = tx
            .query_one(&head, &[&chain, &GENESIS])
            .await
            .map_err(map_err)?;
        let mut seq: i64 = row.try_get(0).map_err(map_err)?;
        let mut prev: String = row.try_get(1).map_err(map_err)?;
        let mut links = Vec::with_capacity(this.len());
        for e in this {
            seq += 1;
            let hash = link_hash(&prev, seq, e);
            links.push((seq, std::mem::replace(&mut prev, hash.clone()), hash, e));
        }
        let insert = &insert;
        let inserts = links.iter().map(|(seq, prev, hash, e)| {
            let (event, outcome) = (e.event.as_str(), e.outcome.as_str());
            async move {
                tx.execute(
                    insert,
                    &[
                        &chain,
                        seq,
                        &e.at,
                        &event,
                        &e.actor,
                        &e.unit,
                        &e.subject_officer,
                        &e.citizen,
                        &e.document,
                        &e.purpose,
                        &e.case_reference,
                        &e.verification,
                        &outcome,
                        &e.fields,
                        &e.reason,
                        prev,
                        hash,
                    ],
                )
                .await
            }
        });
        let head_params: [&(dyn ToSql + Sync); 3] = [&chain, &seq, &prev];
        let (written, moved) = futures::join!(
            futures::future::try_join_all(inserts),
            tx.execute(&advance, &head_params)
        );
        written.map_err(map_err)?;
        moved.map_err(map_err)?;
    }
    Ok(())
}

/// Creates a chain's head if new, and locks and returns it.
const HEAD: &str = "INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ($1, 0, $2)
     ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain
     RETURNING seq, hash";

const INSERT: &str =
    "INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
         document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)";

const ADVANCE: &str = "UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE chain = $1";

pub(super) const COLUMNS: &str =
    "id, seq, at, event, actor, unit, subject_officer, citizen, document, purpose,
     case_reference, verification, outcome, fields, reason, prev_hash, hash";

pub(super) fn record(r: &Row) -> Result<StoredRecord, StoreError> {
    let id: i64 = r.get(0);
    let (event, outcome) = crate::typed(id, r.get(3), r.get(12))?;
    Ok(StoredRecord {
        id,
        seq: r.get(1),
        entry: AuditEntry {
            at: r.get(2),
            event,
            actor: r.get(4),
            unit: r.get(5),
            subject_officer: r.get(6),
            citizen: r.get(7),
            document: r.get(8),
            purpose: r.get(9),
            case_reference: r.get(10),
            verification: r.get(11),
            outcome,
            fields: r.get(13),
            reason: r.get(14),
        },
        prev_hash: r.get(15),
        hash: r.get(16),
    })
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audits(
        &self,
        entries: Vec<AuditEntry>,
        notices: &[OutboxNotice],
    ) -> Result<(), StoreError> {
        let ids = notices
            .iter()
            .map(|n| super::uuid(&n.id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let st = tx
            .prepare_cached(
                "INSERT INTO notice_outbox (id, sealed, due_at, attempts) VALUES ($1, $2, $3, $4)",
            )
            .await
            .map_err(map_err)?;
        for (id, notice) in ids.iter().zip(notices) {
            tx.execute(
                &st,
                &[id, &notice.sealed, &notice.due_at, &int(notice.attempts)],
            )
            .await
            .map_err(map_err)?;
        }
        append_all(&tx, &entries).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn audit_search(&self, f: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError> {
        let c = self.client().await?;
        let citizen = f.citizen.as_ref().map(|p| p.as_str().to_string());
        let limit = i64::from(f.limit.max(1));
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM audit_log
                 WHERE ($1::text IS NULL OR unit = $1)
                   AND ($2::text IS NULL OR actor = $2)
                   AND ($3::text IS NULL OR citizen = $3)
                   AND ($4::timestamptz IS NULL OR at >= $4)
                   AND ($5::timestamptz IS NULL OR at < $5)
                 ORDER BY at DESC, id DESC LIMIT $6"
                ),
                &[&f.unit, &f.officer, &citizen, &f.since, &f.until, &limit],
            )
            .await
            .map_err(map_err)?;
        rows.iter().map(record).collect()
    }

    async fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT DISTINCT chain FROM audit_log ORDER BY chain", &[])
            .await
            .map_err(map_err)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {COLUMNS} FROM audit_log WHERE chain = $1 ORDER BY seq"),
                &[&chain],
            )
            .await
            .map_err(map_err)?;
        rows.iter().map(record).collect()
    }
}
