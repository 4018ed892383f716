//! Login attempts by hashed key, and signed-out portal sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{count, map_err, PgStore};
use okaz_core::ports::{PortalStore, StoreError, ThrottleStore};

/// One attempt under a key: the count starts again after a quiet window.
const NOTE: &str = "INSERT INTO login_attempts (key, attempts, last_attempt) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
       attempts = CASE WHEN login_attempts.last_attempt < $3 THEN 1
                       ELSE login_attempts.attempts + 1 END,
       last_attempt = $2
     RETURNING attempts";

#[async_trait]
impl ThrottleStore for PgStore {
    async fn note_attempts(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(NOTE).await.map_err(map_err)?;
        // Each key's upsert is atomic on its own; they are independent, so
        // they go to the database together.
        let (c, st) = (&c, &st);
        let rows = futures::future::try_join_all(
            keys.iter()
                .map(|k| async move { c.query_one(st, &[k, &now, &window_start]).await }),
        )
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| count(r.try_get(0).map_err(map_err)?))
            .collect()
    }

    async fn attempts(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT attempts FROM login_attempts WHERE key = $1 AND last_attempt >= $2",
                &[&key, &window_start],
            )
            .await
            .map_err(map_err)?;
        row.map_or(Ok(0), |r| count(r.try_get(0).map_err(map_err)?))
    }

    async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute("DELETE FROM login_attempts WHERE key = ANY($1)", &[&keys])
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

#[async_trait]
impl PortalStore for PgStore {
    async fn revoke_portal_session(
        &self,
        sid_hash: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO portal_revocations (sid_hash, until) VALUES ($1, $2)
             ON CONFLICT (sid_hash) DO NOTHING",
            &[&sid_hash, &until],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn portal_session_revoked(&self, sid_hash: &str) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT 1 FROM portal_revocations WHERE sid_hash = $1",
                &[&sid_hash],
            )
            .await
            .map_err(map_err)?;
        Ok(row.is_some())
    }
}
