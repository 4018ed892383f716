//! Storage adapters implementing [`crate::core::ports::Store`].

pub mod postgres;

use std::sync::Arc;

use crate::core::ports::{Store, StoreError};

/// Opens the store a database URL names (`postgres://…`).
pub async fn open(url: &str, pool_size: usize) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url, pool_size).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        Err(StoreError::Unavailable(
            "unsupported database URL: expected postgres://".to_string(),
        ))
    }
}
