//! Checking the stored audit trail: every chain, record by record.

use crate::audit::{verify_chain, BrokenLink};
use crate::ports::{AuditStore, StoreError};

/// Verifies every chain in a store; the number of records checked, or the
/// first broken link.
pub async fn verify_store(store: &dyn AuditStore) -> Result<Result<u64, BrokenLink>, StoreError> {
    let mut checked = 0u64;
    for chain in store.audit_chains().await? {
        let records = store.audit_chain(&chain).await?;
        if let Err(broken) = verify_chain(&chain, &records) {
            return Ok(Err(broken));
        }
        checked += records.len() as u64;
    }
    Ok(Ok(checked))
}
