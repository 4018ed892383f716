//! Officers: the parts written once so far (the lock the quota, the
//! challenges and break-glass take); the rest is per store.

use crate::audit::append_all;
use crate::conn::{Arg, Conn, Sql};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::ports::StoreError;

/// Only an unlocked account is locked, so the first reason is kept and
/// recorded once.
const LOCK: Sql = Sql::Same(
    "UPDATE officers SET locked_at = $2, lock_reason = $3 WHERE id = $1 AND locked_at IS NULL",
);

/// Locks the officer `id` (canonical) for `reason` inside `c`'s
/// transaction, recording it after `cause`; whether this locked it.
pub(crate) async fn lock(
    c: &mut dyn Conn,
    id: &Arg,
    reason: LockReason,
    cause: &AuditEntry,
) -> Result<bool, StoreError> {
    let n = c
        .exec(LOCK, &[id.clone(), cause.at.into(), reason.as_str().into()])
        .await?;
    if n == 1 {
        append_all(c, std::slice::from_ref(&cause.locked(reason))).await?;
    }
    Ok(n == 1)
}
