//! Citizens' activations of the service, and the codes that confirm them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{audit, col, count, exec, micros, one, SqliteStore};
use okaz_core::audit::AuditEntry;
use okaz_core::consent::Closed;
use okaz_core::ports::{ActivationReservation, ActivationStore, NewActivationCode, StoreError};
use okaz_core::pseudonym::Pseudonym;

#[async_trait]
impl ActivationStore for SqliteStore {
    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError> {
        let citizen = citizen.as_str().to_string();
        self.read(move |c| {
            let row = one(
                c,
                "SELECT 1 FROM activations WHERE citizen = ?1",
                [citizen],
                |_| Ok(()),
            )?;
            Ok(row.is_some())
        })
        .await
    }

    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let citizen = citizen.as_str().to_string();
        self.write(move |tx| {
            if active {
                exec(
                    tx,
                    "INSERT INTO activations (citizen, activated_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![citizen, micros(entry.at)],
                )?;
            } else {
                exec(tx, "DELETE FROM activations WHERE citizen = ?1", [citizen])?;
            }
            audit::append(tx, &entry)
        })
        .await
    }

    async fn insert_activation_code(
        &self,
        code: NewActivationCode,
        limits: &[(DateTime<Utc>, u32)],
    ) -> Result<bool, StoreError> {
        let limits = limits.to_vec();
        // The write transaction holds the database's write lock, so the
        // counts and the insert cannot be split by another send.
        self.write(move |tx| {
            for (since, limit) in limits {
                let sent = one(
                    tx,
                    "SELECT count(*) FROM activation_codes WHERE citizen = ?1 AND created_at > ?2",
                    params![code.citizen.as_str(), micros(since)],
                    |r| col::<i64>(r, 0),
                )?
                .unwrap_or(0);
                if sent >= i64::from(limit) {
                    return Ok(false);
                }
            }
            exec(
                tx,
                "INSERT INTO activation_codes (id, citizen, code_mac, state, max_attempts, created_at, expires_at)
                 VALUES (?1, ?2, ?3, 'awaiting', ?4, ?5, ?6)",
                params![
                    code.id,
                    code.citizen.as_str(),
                    code.code_mac,
                    i64::from(code.max_attempts),
                    micros(code.created_at),
                    micros(code.expires_at),
                ],
            )?;
            Ok(true)
        })
        .await
    }

    async fn reserve_activation_attempt(
        &self,
        id: &str,
        citizen: &Pseudonym,
        now: DateTime<Utc>,
    ) -> Result<ActivationReservation, StoreError> {
        let (id, citizen) = (id.to_string(), citizen.as_str().to_string());
        self.write(move |tx| {
            let row = one(
                tx,
                "UPDATE activation_codes SET attempts_used = attempts_used + 1
                 WHERE id = ?1 AND citizen = ?2 AND state = 'awaiting'
                   AND attempts_used < max_attempts AND expires_at > ?3
                 RETURNING code_mac, attempts_used, max_attempts",
                params![id, citizen, micros(now)],
                |r| Ok((col::<Vec<u8>>(r, 0)?, col::<i64>(r, 1)?, col::<i64>(r, 2)?)),
            )?;
            Ok(match row {
                Some((code_mac, used, max)) => ActivationReservation::Reserved {
                    code_mac,
                    attempts_used: count(used)?,
                    max_attempts: count(max)?,
                },
                None => ActivationReservation::Closed(Closed::Exhausted),
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
        let (id, citizen) = (id.to_string(), citizen.as_str().to_string());
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE activation_codes SET state = 'used'
                 WHERE id = ?1 AND citizen = ?2 AND state = 'awaiting'",
                params![id, citizen],
            )?;
            if n != 1 {
                return Ok(false);
            }
            exec(
                tx,
                "INSERT INTO activations (citizen, activated_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![citizen, micros(entry.at)],
            )?;
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }
}
