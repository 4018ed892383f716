//! What the sweeper asks of storage: one batch of every retention rule.

use async_trait::async_trait;

use super::StoreError;
use crate::retention::{Due, Swept};

/// Executes the retention rules of [`crate::retention`]. Each call touches
/// at most `batch` rows per rule, each rule idempotent, so replicas sweeping
/// at once neither conflict nor double-count; the audit trail is never
/// touched.
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// One batch of every rule due under `due`.
    async fn sweep(&self, due: &Due, batch: u32) -> Result<Swept, StoreError>;
}
