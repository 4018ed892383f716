//! The audit chains on PostgreSQL for the concerns not yet written once:
//! their transactions append through here, the transparency log reads
//! records with [`record`]. The trait itself is in `crate::audit`.

use deadpool_postgres::Transaction;
use tokio_postgres::Row;

use super::PgConn;
use okaz_core::audit::{AuditEntry, StoredRecord};
use okaz_core::ports::StoreError;

/// Appends `e` to its chain inside `tx`.
pub(super) async fn append(tx: &Transaction<'_>, e: &AuditEntry) -> Result<(), StoreError> {
    append_all(tx, std::slice::from_ref(e)).await
}

/// Appends records to their chains inside `tx`, in order (written once:
/// [`crate::audit::append_all`]).
pub(super) async fn append_all(
    tx: &Transaction<'_>,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    crate::audit::append_all(&mut PgConn::Tx(tx), entries).await
}

/// The columns [`record`] reads (the transparency log reads records too).
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
