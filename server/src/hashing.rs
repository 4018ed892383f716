//! Password hashing off the async runtime: argon2id is slow on purpose, so
//! it runs on blocking threads with at most as many hashes at once as the
//! machine has cores. A burst of logins queues rather than starving the
//! broker's other requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use okaz_core::credentials::{self, CredentialError};
use okaz_core::ports::PasswordHashing;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Logins that may wait for a hashing slot before new ones are turned away
/// (503 at once): a flood queues a bounded amount of work, not memory.
pub const MAX_WAITING: usize = 64;

/// Runs password hashing on blocking threads, a bounded number at a time.
#[derive(Clone)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

impl HashingPool {
    /// A pool allowing `parallel` hashes at once (use the number of cores).
    pub fn new(parallel: usize) -> Self {
        Self::with_queue(parallel, MAX_WAITING)
    }

    /// A pool allowing `parallel` hashes at once and `max_waiting` waiting.
    pub fn with_queue(parallel: usize, max_waiting: usize) -> Self {
        HashingPool {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
        }
    }

    /// Logins waiting for a slot now (for metrics).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, CredentialError> + Send + 'static,
    ) -> Result<T, CredentialError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(CredentialError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let permit = permit.map_err(|_| CredentialError::Task)?;
        // The permit travels with the job: if the request is dropped while
        // the hash runs, the slot stays taken until the hash is done.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|_| CredentialError::Task)?
    }
}

#[async_trait]
impl PasswordHashing for HashingPool {
    async fn hash(&self, password: Zeroizing<String>) -> Result<String, CredentialError> {
        self.run(move || credentials::hash_password(password.as_bytes(), &mut rand::rngs::OsRng))
            .await
    }

    async fn verify(
        &self,
        password: Zeroizing<String>,
        stored: String,
    ) -> Result<bool, CredentialError> {
        self.run(move || credentials::verify_password(password.as_bytes(), &stored))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_turns_logins_away_at_once() {
        let pool = HashingPool::with_queue(1, 2);
        let h = pool.hash(Zeroizing::new("pw".into())).await.unwrap();
        let tries: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                let h = h.clone();
                tokio::spawn(async move { pool.verify(Zeroizing::new("pw".into()), h).await })
            })
            .collect();
        let mut busy = 0;
        for t in tries {
            if matches!(t.await.unwrap(), Err(CredentialError::Busy)) {
                busy += 1;
            }
        }
        assert!(
            busy >= 5,
            "at most one running and two waiting: {busy} turned away"
        );
        assert_eq!(pool.waiting(), 0);
    }

    #[tokio::test]
    async fn a_dropped_request_does_not_free_its_slot_early() {
        let pool = HashingPool::with_queue(1, 8);
        let h = pool.hash(Zeroizing::new("pw".into())).await.unwrap();
        let first = {
            let (pool, h) = (pool.clone(), h.clone());
            tokio::spawn(async move { pool.verify(Zeroizing::new("pw".into()), h).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        first.abort();
        // The aborted request's hash still holds the only slot.
        assert_eq!(pool.permits.available_permits(), 0);
        assert!(pool.verify(Zeroizing::new("pw".into()), h).await.unwrap());
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies() {
        let pool = HashingPool::new(2);
        let h = pool.hash(Zeroizing::new("pw".into())).await.unwrap();
        assert!(pool
            .verify(Zeroizing::new("pw".into()), h.clone())
            .await
            .unwrap());
        assert!(!pool.verify(Zeroizing::new("no".into()), h).await.unwrap());
    }
}
