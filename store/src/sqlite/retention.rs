//! The sweeper's batches and TOTP re-sealing on SQLite. The file has one
//! writer at a time, so each batch is one short write transaction; the
//! statements are idempotent, as on PostgreSQL.

use async_trait::async_trait;
use okaz_core::ports::{RetentionStore, StoreError, TotpSecretStore};
use okaz_core::retention::{Due, Swept};
use rusqlite::params;

use super::{all, canonical_id, col, day, exec, micros, SqliteStore};

const WIPE_CHALLENGES: &str = "UPDATE challenges SET sealed_subject = NULL, code_mac = X''
     WHERE id IN (SELECT id FROM challenges
                   WHERE expires_at < ?1 AND (sealed_subject IS NOT NULL OR code_mac <> X'')
                   LIMIT ?2)";
const WIPE_ACTIVATION_CODES: &str = "UPDATE activation_codes SET code_mac = X''
     WHERE id IN (SELECT id FROM activation_codes WHERE expires_at < ?1 AND code_mac <> X'' LIMIT ?2)";
const DELETE_CHALLENGES: &str = "DELETE FROM challenges
     WHERE id IN (SELECT id FROM challenges WHERE created_at < ?1 LIMIT ?2)";
const DELETE_ACTIVATION_CODES: &str = "DELETE FROM activation_codes
     WHERE id IN (SELECT id FROM activation_codes WHERE created_at < ?1 LIMIT ?2)";
const DELETE_SESSIONS: &str = "DELETE FROM sessions
     WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < ?1 LIMIT ?2)";
const DELETE_REVOCATIONS: &str = "DELETE FROM portal_revocations
     WHERE sid_hash IN (SELECT sid_hash FROM portal_revocations WHERE until < ?1 LIMIT ?2)";
const DELETE_COUNTERS: &str = "DELETE FROM daily_counters
     WHERE (officer_id, day) IN (SELECT officer_id, day FROM daily_counters WHERE day < ?1 LIMIT ?2)";

#[async_trait]
impl RetentionStore for SqliteStore {
    async fn sweep(&self, due: &Due, batch: u32) -> Result<Swept, StoreError> {
        let limit = i64::from(batch);
        let wipe = micros(due.wipe_expired_before);
        let created = micros(due.delete_challenges_created_before);
        let expired = micros(due.delete_sessions_expired_before);
        let before_day = day(due.delete_counters_before_day);
        self.write(move |tx| {
            let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
            Ok(Swept {
                seals_wiped: n(exec(tx, WIPE_CHALLENGES, params![wipe, limit])?)
                    + n(exec(tx, WIPE_ACTIVATION_CODES, params![wipe, limit])?),
                challenges_deleted: n(exec(tx, DELETE_CHALLENGES, params![created, limit])?)
                    + n(exec(tx, DELETE_ACTIVATION_CODES, params![created, limit])?),
                sessions_deleted: n(exec(tx, DELETE_SESSIONS, params![expired, limit])?)
                    + n(exec(tx, DELETE_REVOCATIONS, params![expired, limit])?),
                counters_deleted: n(exec(tx, DELETE_COUNTERS, params![before_day, limit])?),
            })
        })
        .await
    }
}

#[async_trait]
impl TotpSecretStore for SqliteStore {
    async fn sealed_totp_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.read(|c| {
            all(
                c,
                "SELECT id, totp_secret FROM officers ORDER BY id",
                [],
                |r| Ok((col(r, 0)?, col(r, 1)?)),
            )
        })
        .await
    }

    async fn reseal_totp(
        &self,
        officer_id: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let Some(id) = canonical_id(officer_id) else {
            return Ok(false);
        };
        let (old, new) = (old.to_vec(), new.to_vec());
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE officers SET totp_secret = ?3 WHERE id = ?1 AND totp_secret = ?2",
                params![id, old, new],
            )?;
            Ok(n == 1)
        })
        .await
    }
}
