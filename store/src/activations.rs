//! Citizens' activations of the service, and the codes that confirm them:
//! written once for both stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::audit::append_all;
use crate::conn::{Arg, Backend, Db, Sql};
use okaz_core::audit::AuditEntry;
use okaz_core::consent::Closed;
use okaz_core::ports::{ActivationReservation, ActivationStore, NewActivationCode, StoreError};
use okaz_core::pseudonym::Pseudonym;

const ACTIVATED: Sql = Sql::Same("SELECT 1 FROM activations WHERE citizen = $1");
const ACTIVATE: Sql = Sql::Same(
    "INSERT INTO activations (citizen, activated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
);
const DEACTIVATE: Sql = Sql::Same("DELETE FROM activations WHERE citizen = $1");
/// One citizen's sends are serialised, so concurrent requests cannot both
/// slip under a limit; SQLite's one writer already serialises them.
const SEND_LOCK: Sql = Sql::PgOnly("SELECT pg_advisory_xact_lock(hashtext('activation/' || $1))");
const SENT_SINCE: Sql =
    Sql::Same("SELECT count(*) FROM activation_codes WHERE citizen = $1 AND created_at > $2");
const INSERT_CODE: Sql = Sql::Same(
    "INSERT INTO activation_codes (id, citizen, code_mac, state, max_attempts, created_at, expires_at)
     VALUES ($1, $2, $3, 'awaiting', $4, $5, $6)",
);
/// The attempt is taken before the code is compared, so concurrent
/// guesses each use one up.
const RESERVE: Sql = Sql::Same(
    "UPDATE activation_codes SET attempts_used = attempts_used + 1
     WHERE id = $1 AND citizen = $2 AND state = 'awaiting'
       AND attempts_used < max_attempts AND expires_at > $3
     RETURNING code_mac, attempts_used, max_attempts",
);
const USE_CODE: Sql = Sql::Same(
    "UPDATE activation_codes SET state = 'used'
     WHERE id = $1 AND citizen = $2 AND state = 'awaiting'",
);

#[async_trait]
impl<B: Backend> ActivationStore for Db<B> {
    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError> {
        let args = [citizen.as_str().into()];
        self.b
            .run_read(move |c| {
                Box::pin(async move { Ok(c.opt(ACTIVATED, &args).await?.is_some()) })
            })
            .await
    }

    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let who = Arg::from(citizen.as_str());
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    if active {
                        c.exec(ACTIVATE, &[who, entry.at.into()]).await?;
                    } else {
                        c.exec(DEACTIVATE, &[who]).await?;
                    }
                    append_all(c, std::slice::from_ref(&entry)).await
                })
            })
            .await
    }

    async fn insert_activation_code(
        &self,
        code: NewActivationCode,
        limits: &[(DateTime<Utc>, u32)],
    ) -> Result<bool, StoreError> {
        let limits = limits.to_vec();
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let who = Arg::from(code.citizen.as_str());
                    c.exec(SEND_LOCK, std::slice::from_ref(&who)).await?;
                    for (since, limit) in limits {
                        let sent = match c.opt(SENT_SINCE, &[who.clone(), since.into()]).await? {
                            Some(r) => r.int(0)?,
                            None => 0,
                        };
                        if sent >= i64::from(limit) {
                            // Nothing written: the commit only ends the lock.
                            return Ok(false);
                        }
                    }
                    c.exec(
                        INSERT_CODE,
                        &[
                            (&code.id).into(),
                            who,
                            Arg::Bytes(code.code_mac),
                            code.max_attempts.into(),
                            code.created_at.into(),
                            code.expires_at.into(),
                        ],
                    )
                    .await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn reserve_activation_attempt(
        &self,
        id: &str,
        citizen: &Pseudonym,
        now: DateTime<Utc>,
    ) -> Result<ActivationReservation, StoreError> {
        let args = [id.into(), citizen.as_str().into(), now.into()];
        self.b
            .run_autocommit(move |c| {
                Box::pin(async move {
                    Ok(match c.opt(RESERVE, &args).await? {
                        Some(r) => ActivationReservation::Reserved {
                            code_mac: r.bytes(0)?,
                            attempts_used: r.count(1)?,
                            max_attempts: r.count(2)?,
                        },
                        None => ActivationReservation::Closed(Closed::Exhausted),
                    })
                })
            })
            .await
    }

    async fn complete_activation(
        &self,
        id: &str,
        citizen: &Pseudonym,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let who = Arg::from(citizen.as_str());
        let args = [id.into(), who.clone()];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    if c.exec(USE_CODE, &args).await? != 1 {
                        // Another request used it first; nothing was written.
                        return Ok(false);
                    }
                    c.exec(ACTIVATE, &[who, entry.at.into()]).await?;
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(true)
                })
            })
            .await
    }
}
