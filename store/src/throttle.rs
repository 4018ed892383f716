//! Login attempts by hashed key, and signed-out portal sessions: written
//! once for both stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::conn::{returned, Arg, Backend, Db, Sql};
use okaz_core::ports::{PortalStore, StoreError, ThrottleStore};

/// One attempt under a key: the count starts again after a quiet window.
const NOTE: Sql = Sql::Same(
    "INSERT INTO login_attempts (key, attempts, last_attempt) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
       attempts = CASE WHEN login_attempts.last_attempt < $3 THEN 1
                       ELSE login_attempts.attempts + 1 END,
       last_attempt = $2
     RETURNING attempts",
);
const ATTEMPTS: Sql =
    Sql::Same("SELECT attempts FROM login_attempts WHERE key = $1 AND last_attempt >= $2");
const CLEAR: Sql = Sql::Same("DELETE FROM login_attempts WHERE key = $1");
const REVOKE: Sql = Sql::Same(
    "INSERT INTO portal_revocations (sid_hash, until) VALUES ($1, $2)
     ON CONFLICT (sid_hash) DO NOTHING",
);
const REVOKED: Sql = Sql::Same("SELECT 1 FROM portal_revocations WHERE sid_hash = $1");

#[async_trait]
impl<B: Backend> ThrottleStore for Db<B> {
    async fn note_attempts(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        // Each key's upsert is atomic on its own; they are independent, so
        // PostgreSQL gets them together.
        let args: Vec<Vec<Arg>> = keys
            .iter()
            .map(|k| vec![k.into(), now.into(), window_start.into()])
            .collect();
        self.b
            .run_autocommit(move |c| {
                Box::pin(async move {
                    c.each(NOTE, &args)
                        .await?
                        .into_iter()
                        .map(|rows| returned(rows.into_iter().next())?.count(0))
                        .collect()
                })
            })
            .await
    }

    async fn attempts(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        let args = [key.into(), window_start.into()];
        self.b
            .run_read(move |c| {
                Box::pin(async move { c.opt(ATTEMPTS, &args).await?.map_or(Ok(0), |r| r.count(0)) })
            })
            .await
    }

    async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError> {
        let args: Vec<Vec<Arg>> = keys.iter().map(|k| vec![k.into()]).collect();
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.each(CLEAR, &args).await.map(drop) }))
            .await
    }
}

#[async_trait]
impl<B: Backend> PortalStore for Db<B> {
    async fn revoke_portal_session(
        &self,
        sid_hash: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let args = [sid_hash.into(), until.into()];
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.exec(REVOKE, &args).await.map(drop) }))
            .await
    }

    async fn portal_session_revoked(&self, sid_hash: &str) -> Result<bool, StoreError> {
        let args = [sid_hash.into()];
        self.b
            .run_read(move |c| Box::pin(async move { Ok(c.opt(REVOKED, &args).await?.is_some()) }))
            .await
    }
}
