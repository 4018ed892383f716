//! Locking the sandbox's shared maps.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering from poisoning: the guarded maps stay valid.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}
