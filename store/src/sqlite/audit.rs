//! The audit chains on SQLite for the concerns not yet written once:
//! their transactions append through here, the transparency log reads
//! records with [`record`]. The trait itself is in `crate::audit`.

use rusqlite::{Connection, Row};

use super::{col, instant, LiteConn};
use okaz_core::audit::{AuditEntry, StoredRecord};
use okaz_core::ports::StoreError;

/// Appends `e` to its chain inside the open write transaction `tx`
/// (written once: [`crate::audit::append_all`]). The transaction began
/// IMMEDIATE and so holds the database's write lock.
pub(super) fn append(tx: &mut Connection, e: &AuditEntry) -> Result<(), StoreError> {
    futures::executor::block_on(crate::audit::append_all(
        &mut LiteConn { c: tx },
        std::slice::from_ref(e),
    ))
}

/// The columns [`record`] reads (the transparency log reads records too).
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
