//! Idempotency keys of starts.

use super::{map_err, PgStore};
use crate::idempotency::{columns, settled};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use okaz_core::ports::{Claimed, IdempotencyClaim, IdempotencyStore, Settled, StoreError};
use okaz_core::session::TokenHash;

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency(&self, c: &IdempotencyClaim) -> Result<Claimed, StoreError> {
        let mut conn = self.client().await?;
        let tx = conn.transaction().await.map_err(map_err)?;
        // A concurrent claim of the same key waits here for the first to
        // commit, then inserts nothing and reads the first one's row.
        let inserted = tx
            .execute(
                "INSERT INTO idempotency_keys (session_hash, key, fingerprint, state, created_at)
                 VALUES ($1, $2, $3, 'running', $4) ON CONFLICT DO NOTHING",
                &[&c.session.0, &c.key, &c.fingerprint, &c.at],
            )
            .await
            .map_err(map_err)?;
        if inserted == 1 {
            tx.commit().await.map_err(map_err)?;
            return Ok(Claimed::New);
        }
        let row = tx
            .query_one(
                "SELECT fingerprint, state, verification, expires_at, code
                 FROM idempotency_keys WHERE session_hash = $1 AND key = $2",
                &[&c.session.0, &c.key],
            )
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let fingerprint: Vec<u8> = row.get(0);
        if fingerprint != c.fingerprint {
            return Ok(Claimed::Mismatch);
        }
        settled(
            row.get(1),
            row.get(2),
            row.get::<_, Option<DateTime<Utc>>>(3),
            row.get(4),
        )
    }

    async fn settle_idempotency(
        &self,
        session: &TokenHash,
        key: &str,
        s: &Settled,
    ) -> Result<(), StoreError> {
        let (state, verification, expires_at, code) = columns(s);
        let c = self.client().await?;
        c.execute(
            "UPDATE idempotency_keys SET state = $3, verification = $4, expires_at = $5, code = $6
             WHERE session_hash = $1 AND key = $2",
            &[&session.0, &key, &state, &verification, &expires_at, &code],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn release_idempotency(&self, session: &TokenHash, key: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM idempotency_keys WHERE session_hash = $1 AND key = $2",
            &[&session.0, &key],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
