//! The sweeper's batches and TOTP re-sealing, written once for both
//! stores. A batch's statements are idempotent and commit each on its own
//! on PostgreSQL (one write transaction on SQLite): a failure half-way
//! leaves nothing inconsistent, only less swept. On PostgreSQL
//! each batch picks at most `batch` rows with `FOR UPDATE SKIP LOCKED`, so
//! replicas sweeping at once take different rows and never wait on each
//! other; SQLite has one writer at a time and needs no such clause.

use async_trait::async_trait;
use okaz_core::ports::{RetentionStore, StoreError, TotpSecretStore};
use okaz_core::retention::{Due, Swept};

use crate::conn::{Arg, Backend, Db, Sql};

const WIPE_CHALLENGES: Sql = Sql::Split {
    pg: "UPDATE challenges SET sealed_subject = NULL, code_mac = ''::bytea
     WHERE id IN (SELECT id FROM challenges
                   WHERE expires_at < $1 AND (sealed_subject IS NOT NULL OR code_mac <> ''::bytea)
                   LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "UPDATE challenges SET sealed_subject = NULL, code_mac = X''
     WHERE id IN (SELECT id FROM challenges
                   WHERE expires_at < ?1 AND (sealed_subject IS NOT NULL OR code_mac <> X'')
                   LIMIT ?2)",
};
const WIPE_ACTIVATION_CODES: Sql = Sql::Split {
    pg: "UPDATE activation_codes SET code_mac = ''::bytea
     WHERE id IN (SELECT id FROM activation_codes
                   WHERE expires_at < $1 AND code_mac <> ''::bytea
                   LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "UPDATE activation_codes SET code_mac = X''
     WHERE id IN (SELECT id FROM activation_codes WHERE expires_at < ?1 AND code_mac <> X'' LIMIT ?2)",
};
const DELETE_CHALLENGES: Sql = Sql::Split {
    pg: "DELETE FROM challenges
     WHERE id IN (SELECT id FROM challenges WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "DELETE FROM challenges
     WHERE id IN (SELECT id FROM challenges WHERE created_at < ?1 LIMIT ?2)",
};
const DELETE_ACTIVATION_CODES: Sql = Sql::Split {
    pg: "DELETE FROM activation_codes
     WHERE id IN (SELECT id FROM activation_codes WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "DELETE FROM activation_codes
     WHERE id IN (SELECT id FROM activation_codes WHERE created_at < ?1 LIMIT ?2)",
};
const DELETE_SESSIONS: Sql = Sql::Split {
    pg: "DELETE FROM sessions
     WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < $1
                           LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "DELETE FROM sessions
     WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < ?1 LIMIT ?2)",
};
const DELETE_REVOCATIONS: Sql = Sql::Split {
    pg: "DELETE FROM portal_revocations
     WHERE sid_hash IN (SELECT sid_hash FROM portal_revocations WHERE until < $1
                         LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "DELETE FROM portal_revocations
     WHERE sid_hash IN (SELECT sid_hash FROM portal_revocations WHERE until < ?1 LIMIT ?2)",
};
const DELETE_COUNTERS: Sql = Sql::Split {
    pg: "DELETE FROM daily_counters
     WHERE (officer_id, day) IN (SELECT officer_id, day FROM daily_counters WHERE day < $1
                                  LIMIT $2 FOR UPDATE SKIP LOCKED)",
    sqlite: "DELETE FROM daily_counters
     WHERE (officer_id, day) IN (SELECT officer_id, day FROM daily_counters WHERE day < ?1 LIMIT ?2)",
};
const TOTP_SECRETS: Sql = Sql::Same("SELECT id, totp_secret FROM officers ORDER BY id");
const RESEAL: Sql =
    Sql::Same("UPDATE officers SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2");

#[async_trait]
impl<B: Backend> RetentionStore for Db<B> {
    async fn sweep(&self, due: &Due, batch: u32) -> Result<Swept, StoreError> {
        let limit = Arg::from(batch);
        let wipe = [due.wipe_expired_before.into(), limit.clone()];
        let created = [due.delete_challenges_created_before.into(), limit.clone()];
        let expired = [due.delete_sessions_expired_before.into(), limit.clone()];
        let days = [Arg::Day(due.delete_counters_before_day), limit];
        self.b
            .run_autocommit(move |c| {
                Box::pin(async move {
                    Ok(Swept {
                        seals_wiped: c.exec(WIPE_CHALLENGES, &wipe).await?
                            + c.exec(WIPE_ACTIVATION_CODES, &wipe).await?,
                        challenges_deleted: c.exec(DELETE_CHALLENGES, &created).await?
                            + c.exec(DELETE_ACTIVATION_CODES, &created).await?,
                        sessions_deleted: c.exec(DELETE_SESSIONS, &expired).await?
                            + c.exec(DELETE_REVOCATIONS, &expired).await?,
                        counters_deleted: c.exec(DELETE_COUNTERS, &days).await?,
                    })
                })
            })
            .await
    }
}

#[async_trait]
impl<B: Backend> TotpSecretStore for Db<B> {
    async fn sealed_totp_secrets(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.b
            .run_read(|c| {
                Box::pin(async move {
                    c.query(TOTP_SECRETS, &[])
                        .await?
                        .iter()
                        .map(|r| Ok((r.text(0)?, r.bytes(1)?)))
                        .collect()
                })
            })
            .await
    }

    async fn reseal_totp(
        &self,
        officer_id: &str,
        old: &[u8],
        new: &[u8],
    ) -> Result<bool, StoreError> {
        // An id that is not a UUID names no officer; ids are kept in the
        // canonical form PostgreSQL's `uuid` prints.
        let Ok(id) = uuid::Uuid::parse_str(officer_id) else {
            return Ok(false);
        };
        let args = [
            Arg::Text(id.to_string()),
            Arg::Bytes(old.to_vec()),
            Arg::Bytes(new.to_vec()),
        ];
        self.b
            .run_autocommit(move |c| Box::pin(async move { Ok(c.exec(RESEAL, &args).await? == 1) }))
            .await
    }
}
