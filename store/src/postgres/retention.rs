//! The sweeper's batches and TOTP re-sealing on PostgreSQL. Each batch
//! picks at most `batch` rows with `FOR UPDATE SKIP LOCKED`, so replicas
//! sweeping at once take different rows and never wait on each other; a
//! row already wiped or deleted is simply not picked again.

use async_trait::async_trait;
use okaz_core::ports::{RetentionStore, StoreError, TotpSecretStore};
use okaz_core::retention::{Due, Swept};

use super::{map_err, PgStore};

const WIPE_CHALLENGES: &str = "UPDATE challenges SET sealed_subject = NULL, code_mac = ''::bytea
     WHERE id IN (SELECT id FROM challenges
                   WHERE expires_at < $1 AND (sealed_subject IS NOT NULL OR code_mac <> ''::bytea)
                   LIMIT $2 FOR UPDATE SKIP LOCKED)";
const WIPE_ACTIVATION_CODES: &str = "UPDATE activation_codes SET code_mac = ''::bytea
     WHERE id IN (SELECT id FROM activation_codes
                   WHERE expires_at < $1 AND code_mac <> ''::bytea
                   LIMIT $2 FOR UPDATE SKIP LOCKED)";
const DELETE_CHALLENGES: &str = "DELETE FROM challenges
     WHERE id IN (SELECT id FROM challenges WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
const DELETE_ACTIVATION_CODES: &str = "DELETE FROM activation_codes
     WHERE id IN (SELECT id FROM activation_codes WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)";
const DELETE_SESSIONS: &str = "DELETE FROM sessions
     WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < $1
                           LIMIT $2 FOR UPDATE SKIP LOCKED)";
const DELETE_REVOCATIONS: &str = "DELETE FROM portal_revocations
     WHERE sid_hash IN (SELECT sid_hash FROM portal_revocations WHERE until < $1
                         LIMIT $2 FOR UPDATE SKIP LOCKED)";
const DELETE_COUNTERS: &str = "DELETE FROM daily_counters
     WHERE (officer_id, day) IN (SELECT officer_id, day FROM daily_counters WHERE day < $1
                                  LIMIT $2 FOR UPDATE SKIP LOCKED)";

#[async_trait]
impl RetentionStore for PgStore {
    async fn sweep(&self, due: &Due, batch: u32) -> Result<Swept, StoreError> {
        let limit = i64::from(batch);
        let c = self.client().await?;
        // Each statement commits on its own: a batch is idempotent, so a
        // failure half-way leaves nothing inconsistent, only less swept.
        let wiped = c
            .execute(WIPE_CHALLENGES, &[&due.wipe_expired_before, &limit])
            .await
            .map_err(map_err)?
            + c.execute(WIPE_ACTIVATION_CODES, &[&due.wipe_expired_before, &limit])
                .await
                .map_err(map_err)?;
        let challenges = c
            .execute(
                DELETE_CHALLENGES,
                &[&due.delete_challenges_created_before, &limit],
            )
            .await
            .map_err(map_err)?
            + c.execute(
                DELETE_ACTIVATION_CODES,
                &[&due.delete_challenges_created_before, &limit],
            )
            .await
            .map_err(map_err)?;
        let sessions = c
            .execute(
                DELETE_SESSIONS,
                &[&due.delete_sessions_expired_before, &limit],
            )
            .await
            .map_err(map_err)?
            + c.execute(
                DELETE_REVOCATIONS,
                &[&due.delete_sessions_expired_before, &limit],
            )
            .await
            .map_err(map_err)?;
        let counters = c
            .execute(DELETE_COUNTERS, &[&due.delete_counters_before_day, &limit])
            .await
            .map_err(map_err)?;
        Ok(Swept {
            seals_wiped: wiped,
            challenges_deleted: challenges,
            sessions_deleted: sessions,
            counters_deleted: counters,
        })
    }
}

#[async_trait]
impl TotpSecretStore for PgStore {
    async fn sealed_totp_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT id, totp_secret FROM officers ORDER BY id", &[])
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let id: uuid::Uuid = r.try_get(0).map_err(map_err)?;
                Ok((id.to_string(), r.try_get(1).map_err(map_err)?))
            })
            .collect()
    }

    async fn reseal_totp(
        &self,
        officer_id: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(officer_id) else {
            return Ok(false);
        };
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE officers SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2",
                &[&id, &old, &new],
            )
            .await
            .map_err(map_err)?;
        Ok(n == 1)
    }
}
