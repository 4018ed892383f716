//! Idempotency keys of starts.

use async_trait::async_trait;
use okaz_core::ports::{Claimed, IdempotencyClaim, IdempotencyStore, Settled, StoreError};
use okaz_core::session::TokenHash;
use rusqlite::params;

use super::{col, exec, instant, micros, one, SqliteStore};
use crate::idempotency::{columns, settled};

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency(&self, c: &IdempotencyClaim) -> Result<Claimed, StoreError> {
        let c = c.clone();
        self.write(move |tx| {
            let inserted = exec(
                tx,
                "INSERT INTO idempotency_keys (session_hash, key, fingerprint, state, created_at)
                 VALUES (?1, ?2, ?3, 'running', ?4) ON CONFLICT DO NOTHING",
                params![c.session.0, c.key, c.fingerprint, micros(c.at)],
            )?;
            if inserted == 1 {
                return Ok(Claimed::New);
            }
            let row = one(
                tx,
                "SELECT fingerprint, state, verification, expires_at, code
                 FROM idempotency_keys WHERE session_hash = ?1 AND key = ?2",
                params![c.session.0, c.key],
                |r| {
                    Ok((
                        col::<Vec<u8>>(r, 0)?,
                        col::<String>(r, 1)?,
                        col::<Option<String>>(r, 2)?,
                        col::<Option<i64>>(r, 3)?,
                        col::<Option<String>>(r, 4)?,
                    ))
                },
            )?
            .ok_or_else(|| StoreError::Corrupt("idempotency key vanished".into()))?;
            let (fingerprint, state, verification, expires_at, code) = row;
            if fingerprint != c.fingerprint {
                return Ok(Claimed::Mismatch);
            }
            settled(
                state,
                verification,
                expires_at.map(instant).transpose()?,
                code,
            )
        })
        .await
    }

    async fn settle_idempotency(
        &self,
        session: &TokenHash,
        key: &str,
        s: &Settled,
    ) -> Result<(), StoreError> {
        let (state, verification, expires_at, code) = columns(s);
        let (session, key) = (session.0.clone(), key.to_string());
        self.write(move |tx| {
            exec(
                tx,
                "UPDATE idempotency_keys SET state = ?3, verification = ?4, expires_at = ?5, code = ?6
                 WHERE session_hash = ?1 AND key = ?2",
                params![session, key, state, verification, expires_at.map(micros), code],
            )
            .map(|_| ())
        })
        .await
    }

    async fn release_idempotency(&self, session: &TokenHash, key: &str) -> Result<(), StoreError> {
        let (session, key) = (session.0.clone(), key.to_string());
        self.write(move |tx| {
            exec(
                tx,
                "DELETE FROM idempotency_keys WHERE session_hash = ?1 AND key = ?2",
                params![session, key],
            )
            .map(|_| ())
        })
        .await
    }
}
