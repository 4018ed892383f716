//! Login attempts by hashed key, and signed-out portal sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{col, count, exec, micros, one, SqliteStore};
use okaz_core::ports::{PortalStore, StoreError, ThrottleStore};

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn note_attempts(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            keys.iter()
                .map(|k| {
                    one(
                        tx,
                        "INSERT INTO login_attempts (key, attempts, last_attempt) VALUES (?1, 1, ?2)
                         ON CONFLICT (key) DO UPDATE SET
                           attempts = CASE WHEN login_attempts.last_attempt < ?3 THEN 1
                                           ELSE login_attempts.attempts + 1 END,
                           last_attempt = ?2
                         RETURNING attempts",
                        params![k, micros(now), micros(window_start)],
                        |r| count(col(r, 0)?),
                    )?
                    .ok_or_else(|| StoreError::Unavailable("upsert returned no row".into()))
                })
                .collect()
        })
        .await
    }

    async fn attempts(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError> {
        let key = key.to_string();
        self.read(move |c| {
            Ok(one(
                c,
                "SELECT attempts FROM login_attempts WHERE key = ?1 AND last_attempt >= ?2",
                params![key, micros(window_start)],
                |r| count(col(r, 0)?),
            )?
            .unwrap_or(0))
        })
        .await
    }

    async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            for k in &keys {
                exec(tx, "DELETE FROM login_attempts WHERE key = ?1", [k])?;
            }
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl PortalStore for SqliteStore {
    async fn revoke_portal_session(
        &self,
        sid_hash: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sid = sid_hash.to_string();
        self.write(move |tx| {
            exec(
                tx,
                "INSERT INTO portal_revocations (sid_hash, until) VALUES (?1, ?2)
                 ON CONFLICT (sid_hash) DO NOTHING",
                params![sid, micros(until)],
            )?;
            Ok(())
        })
        .await
    }

    async fn portal_session_revoked(&self, sid_hash: &str) -> Result<bool, StoreError> {
        let sid = sid_hash.to_string();
        self.read(move |c| {
            Ok(one(
                c,
                "SELECT 1 FROM portal_revocations WHERE sid_hash = ?1",
                [sid],
                |_| Ok(()),
            )?
            .is_some())
        })
        .await
    }
}
