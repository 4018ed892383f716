//! Password hashing off the async runtime: argon2id is slow on purpose, so
//! it runs on blocking threads with at most as many hashes at once as the
//! machine has cores. A burst of logins queues rather than starving the
//! broker's other requests.

use std::sync::Arc;

use async_trait::async_trait;
use okaz_core::credentials::{self, CredentialError};
use okaz_core::ports::PasswordHashing;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Runs password hashing on blocking threads, a bounded number at a time.
#[derive(Clone)]
pub struct HashingPool {
    permits: Arc<Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicU64>,
}

impl HashingPool {
    /// A pool allowing `parallel` hashes at once (use the number of cores).
    pub fn new(parallel: usize) -> Self {
        HashingPool {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            waiting: Arc::default(),
        }
    }

    /// Hashes waiting for a slot (the login queue, for metrics).
    pub fn waiting(&self) -> u64 {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, CredentialError> + Send + 'static,
    ) -> Result<T, CredentialError> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        let _permit = permit.map_err(|_| CredentialError::Task)?;
        tokio::task::spawn_blocking(work)
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
