//! Appending to and reading the audit chains, written once for both
//! stores.
//!
//! Each chain's head row is taken by an upsert that returns it: on
//! PostgreSQL that row stays locked for the rest of the transaction, on
//! SQLite the `BEGIN IMMEDIATE` transaction already holds the write lock;
//! either way records of one chain are appended one at a time and each
//! links to the one before. A chain's records and its new head are then
//! written together ([`Conn::pipeline`]: one round trip on PostgreSQL).

use async_trait::async_trait;
use okaz_core::audit::{link_hash, AuditEntry, StoredRecord, GENESIS};
use okaz_core::ports::{AuditFilter, AuditStore, OutboxNotice, StoreError};

use crate::conn::{Arg, Backend, Conn, Db, Row, Sql};

/// The columns [`record`] reads, in its order.
macro_rules! columns {
    () => {
        "id, seq, at, event, actor, unit, subject_officer, citizen, document, purpose,
     case_reference, verification, outcome, fields, reason, prev_hash, hash"
    };
}

/// Creates a chain's head if new, and locks and returns it.
const HEAD: Sql = Sql::Same(
    "INSERT INTO audit_chain_heads (chain, seq, hash) VALUES ($1, 0, $2)
     ON CONFLICT (chain) DO UPDATE SET chain = EXCLUDED.chain
     RETURNING seq, hash",
);
const INSERT: Sql = Sql::Same(
    "INSERT INTO audit_log (chain, seq, at, event, actor, unit, subject_officer, citizen,
         document, purpose, case_reference, verification, outcome, fields, reason, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)",
);
const ADVANCE: Sql = Sql::Same("UPDATE audit_chain_heads SET seq = $2, hash = $3 WHERE chain = $1");
const OUTBOX: Sql =
    Sql::Same("INSERT INTO notice_outbox (id, sealed, due_at, attempts) VALUES ($1, $2, $3, $4)");
/// PostgreSQL must be told the type of a parameter it only sees compared
/// with NULL; SQLite has no such casts.
const SEARCH: Sql = Sql::Split {
    pg: concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log
         WHERE ($1::text IS NULL OR unit = $1)
           AND ($2::text IS NULL OR actor = $2)
           AND ($3::text IS NULL OR citizen = $3)
           AND ($4::timestamptz IS NULL OR at >= $4)
           AND ($5::timestamptz IS NULL OR at < $5)
         ORDER BY at DESC, id DESC LIMIT $6"
    ),
    sqlite: concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log
         WHERE (?1 IS NULL OR unit = ?1)
           AND (?2 IS NULL OR actor = ?2)
           AND (?3 IS NULL OR citizen = ?3)
           AND (?4 IS NULL OR at >= ?4)
           AND (?5 IS NULL OR at < ?5)
         ORDER BY at DESC, id DESC LIMIT ?6"
    ),
};
const CHAINS: Sql = Sql::Same("SELECT DISTINCT chain FROM audit_log ORDER BY chain");
const CHAIN: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM audit_log WHERE chain = $1 ORDER BY seq"
));

/// Appends records to their chains on `c` (inside its transaction), in
/// order.
pub(crate) async fn append_all(c: &mut dyn Conn, entries: &[AuditEntry]) -> Result<(), StoreError> {
    append_all_with(c, entries, Vec::new()).await
}

/// As [`append_all`], and runs the independent writes `extra` (rows the
/// records describe) in the first chain's pipeline, so on PostgreSQL they
/// cost no round trip of their own.
pub(crate) async fn append_all_with(
    c: &mut dyn Conn,
    entries: &[AuditEntry],
    mut extra: Vec<(Sql, Vec<Arg>)>,
) -> Result<(), StoreError> {
    let mut rest = entries;
    while let Some(first) = rest.first() {
        let chain = first.chain().to_string();
        let run = rest.iter().take_while(|e| e.chain() == chain).count();
        let (this, next) = rest.split_at(run);
        rest = next;
        let head = c
            .opt(HEAD, &[Arg::Text(chain.clone()), GENESIS.into()])
            .await?
            .ok_or_else(|| StoreError::Unavailable("audit chain head vanished".to_string()))?;
        let mut seq = head.int(0)?;
        let mut prev = head.text(1)?;
        let mut writes = std::mem::take(&mut extra);
        writes.reserve(this.len() + 1);
        for e in this {
            seq += 1;
            let hash = link_hash(&prev, seq, e);
            let link = std::mem::replace(&mut prev, hash.clone());
            writes.push((
                INSERT,
                vec![
                    Arg::Text(chain.clone()),
                    Arg::Int(seq),
                    e.at.into(),
                    e.event.as_str().into(),
                    (&e.actor).into(),
                    (&e.unit).into(),
                    Arg::OptText(e.subject_officer.clone()),
                    Arg::OptText(e.citizen.clone()),
                    Arg::OptText(e.document.clone()),
                    Arg::OptText(e.purpose.clone()),
                    Arg::OptText(e.case_reference.clone()),
                    Arg::OptText(e.verification.clone()),
                    e.outcome.as_str().into(),
                    Arg::TextList(e.fields.clone()),
                    Arg::OptText(e.reason.clone()),
                    Arg::Text(link),
                    Arg::Text(hash),
                ],
            ));
        }
        writes.push((
            ADVANCE,
            vec![Arg::Text(chain), Arg::Int(seq), Arg::Text(prev)],
        ));
        c.pipeline(&writes).await?;
    }
    if !extra.is_empty() {
        // No records: the writes still happen.
        c.pipeline(&extra).await?;
    }
    Ok(())
}

/// A stored record back.
pub(crate) fn record(r: &Row) -> Result<StoredRecord, StoreError> {
    let id = r.int(0)?;
    let (event, outcome) = crate::typed(id, &r.text(3)?, &r.text(12)?)?;
    Ok(StoredRecord {
        id,
        seq: r.int(1)?,
        entry: AuditEntry {
            at: r.instant(2)?,
            event,
            actor: r.text(4)?,
            unit: r.text(5)?,
            subject_officer: r.opt_text(6)?,
            citizen: r.opt_text(7)?,
            document: r.opt_text(8)?,
            purpose: r.opt_text(9)?,
            case_reference: r.opt_text(10)?,
            verification: r.opt_text(11)?,
            outcome,
            fields: r.text_list(13)?,
            reason: r.opt_text(14)?,
        },
        prev_hash: r.text(15)?,
        hash: r.text(16)?,
    })
}

fn records(rows: Vec<Row>) -> Result<Vec<StoredRecord>, StoreError> {
    rows.iter().map(record).collect()
}

#[async_trait]
impl<B: Backend> AuditStore for Db<B> {
    async fn append_audits(
        &self,
        entries: Vec<AuditEntry>,
        notices: &[OutboxNotice],
    ) -> Result<(), StoreError> {
        let rows = notices
            .iter()
            .map(|n| {
                // An id that is not a UUID names no row; ids are kept in
                // the canonical form PostgreSQL's `uuid` prints.
                let id = uuid::Uuid::parse_str(&n.id)
                    .map_err(|_| StoreError::Conflict("not an id".to_string()))?;
                Ok((
                    OUTBOX,
                    vec![
                        Arg::Text(id.to_string()),
                        Arg::Bytes(n.sealed.clone()),
                        n.due_at.into(),
                        n.attempts.into(),
                    ],
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    c.pipeline(&rows).await?;
                    append_all(c, &entries).await
                })
            })
            .await
    }

    async fn audit_search(&self, f: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError> {
        let args = [
            Arg::OptText(f.unit.clone()),
            Arg::OptText(f.officer.clone()),
            Arg::OptText(f.citizen.as_ref().map(|p| p.as_str().to_string())),
            Arg::OptInstant(f.since),
            Arg::OptInstant(f.until),
            f.limit.max(1).into(),
        ];
        self.b
            .run_read(move |c| Box::pin(async move { records(c.query(SEARCH, &args).await?) }))
            .await
    }

    async fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        self.b
            .run_read(|c| {
                Box::pin(async move {
                    c.query(CHAINS, &[])
                        .await?
                        .iter()
                        .map(|r| r.text(0))
                        .collect()
                })
            })
            .await
    }

    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError> {
        let args = [chain.into()];
        self.b
            .run_read(move |c| Box::pin(async move { records(c.query(CHAIN, &args).await?) }))
            .await
    }
}
