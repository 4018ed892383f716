//! Citizens' activations of the service, and the codes that confirm them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{audit, count, int, map_err, PgStore};
use okaz_core::audit::AuditEntry;
use okaz_core::consent::Closed;
use okaz_core::ports::{ActivationReservation, ActivationStore, NewActivationCode, StoreError};
use okaz_core::pseudonym::Pseudonym;

#[async_trait]
impl ActivationStore for PgStore {
    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT 1 FROM activations WHERE citizen = $1",
                &[&citizen.as_str()],
            )
            .await
            .map_err(map_err)?;
        Ok(row.is_some())
    }

    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        if active {
            tx.execute(
                "INSERT INTO activations (citizen, activated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&citizen.as_str(), &entry.at],
            )
            .await
            .map_err(map_err)?;
        } else {
            tx.execute(
                "DELETE FROM activations WHERE citizen = $1",
                &[&citizen.as_str()],
            )
            .await
            .map_err(map_err)?;
        }
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn insert_activation_code(
        &self,
        code: NewActivationCode,
        limits: &[(DateTime<Utc>, u32)],
    ) -> Result<bool, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // One citizen's sends are serialised, so concurrent requests cannot
        // both slip under a limit.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('activation/' || $1))",
            &[&code.citizen.as_str()],
        )
        .await
        .map_err(map_err)?;
        for (since, limit) in limits {
            let row = tx
                .query_one(
                    "SELECT count(*) FROM activation_codes WHERE citizen = $1 AND created_at > $2",
                    &[&code.citizen.as_str(), since],
                )
                .await
                .map_err(map_err)?;
            let sent: i64 = row.try_get(0).map_err(map_err)?;
            if sent >= i64::from(*limit) {
                tx.rollback().await.map_err(map_err)?;
                return Ok(false);
            }
        }
        tx.execute(
            "INSERT INTO activation_codes (id, citizen, code_mac, state, max_attempts, created_at, expires_at)
             VALUES ($1, $2, $3, 'awaiting', $4, $5, $6)",
            &[
                &code.id,
                &code.citizen.as_str(),
                &code.code_mac,
                &int(code.max_attempts),
                &code.created_at,
                &code.expires_at,
            ],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn reserve_activation_attempt(
        &self,
        id: &str,
        citizen: &Pseudonym,
        now: DateTime<Utc>,
    ) -> Result<ActivationReservation, StoreError> {
        let c = self.client().await?;
        // The attempt is taken before the code is compared, so concurrent
        // guesses each use one up.
        let row = c
            .query_opt(
                "UPDATE activation_codes SET attempts_used = attempts_used + 1
                 WHERE id = $1 AND citizen = $2 AND state = 'awaiting'
                   AND attempts_used < max_attempts AND expires_at > $3
                 RETURNING code_mac, attempts_used, max_attempts",
                &[&id, &citizen.as_str(), &now],
            )
            .await
            .map_err(map_err)?;
        Ok(match row {
            Some(r) => ActivationReservation::Reserved {
                code_mac: r.get(0),
                attempts_used: count(r.get(1))?,
                max_attempts: count(r.get(2))?,
            },
            None => ActivationReservation::Closed(Closed::Exhausted),
        })
    }

    async fn complete_activation(
        &self,
        id: &str,
        citizen: &Pseudonym,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = tx
            .execute(
                "UPDATE activation_codes SET state = 'used'
                 WHERE id = $1 AND citizen = $2 AND state = 'awaiting'",
                &[&id, &citizen.as_str()],
            )
            .await
            .map_err(map_err)?;
        if n != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO activations (citizen, activated_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&citizen.as_str(), &entry.at],
        )
        .await
        .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
