//! Officers, logins and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use okaz_core::ports::{OfficerStore, SessionStore};
use okaz_policy::LoginThrottle;
use tokio_postgres::Row;

use super::{audit, count, map_err, PgConn, PgStore};
use crate::conn::Arg;
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::login;
use okaz_core::ports::{
    Counter, Lock, LoginFailure, NewOfficer, NewSession, Officer, OfficerChange, SessionLookup,
    SessionRow, SessionView, StoreError,
};
use okaz_core::session::TokenHash;

const COLUMNS: &str = "id, login, display_name, role, unit, password_hash, totp_secret, disabled,
     locked_at, lock_reason, failed_logins, last_failed_login";

fn officer(r: &Row) -> Result<Officer, StoreError> {
    officer_at(r, 0)
}

/// The officer in [`COLUMNS`] order from column `at` on.
fn officer_at(r: &Row, at: usize) -> Result<Officer, StoreError> {
    let id: uuid::Uuid = r.try_get(at).map_err(map_err)?;
    let locked_at: Option<DateTime<Utc>> = r.try_get(at + 8).map_err(map_err)?;
    let reason: Option<String> = r.try_get(at + 9).map_err(map_err)?;
    Ok(Officer {
        id: id.to_string(),
        login: r.try_get(at + 1).map_err(map_err)?,
        display_name: r.try_get(at + 2).map_err(map_err)?,
        role: r.try_get(at + 3).map_err(map_err)?,
        unit: r.try_get(at + 4).map_err(map_err)?,
        password_hash: r.try_get(at + 5).map_err(map_err)?,
        totp_secret: r.try_get(at + 6).map_err(map_err)?,
        disabled: r.try_get(at + 7).map_err(map_err)?,
        locked: locked_at.map(|at| Lock {
            at,
            reason: reason.unwrap_or_default(),
        }),
        failed_logins: count(r.try_get(at + 10).map_err(map_err)?)?,
        last_failed_login: r.try_get(at + 11).map_err(map_err)?,
    })
}

/// One statement for a request's authentication: the session, its
/// officer, today's counter, and the citizen's activation when asked
/// (`$3` null: not asked). Columns: session (0-2), officer (3-14),
/// counter (15-17), activated (18), the session's certificate (19).
pub(super) const LOOKUP: &str = "SELECT s.officer_id, s.expires_at, s.last_seen,
     o.id, o.login, o.display_name, o.role, o.unit, o.password_hash, o.totp_secret, o.disabled,
     o.locked_at, o.lock_reason, o.failed_logins, o.last_failed_login,
     c.used, c.extra, c.wrong_codes,
     CASE WHEN $3::text IS NULL THEN NULL
          ELSE EXISTS (SELECT 1 FROM activations a WHERE a.citizen = $3) END,
     s.certificate
 FROM sessions s
 JOIN officers o ON o.id = s.officer_id
 LEFT JOIN daily_counters c ON c.officer_id = s.officer_id AND c.day = $2
 WHERE s.token_hash = $1";

/// The [`SessionView`] of a row of [`LOOKUP`].
pub(super) fn session_view(r: &Row) -> Result<SessionView, StoreError> {
    let officer_id: uuid::Uuid = r.try_get(0).map_err(map_err)?;
    let counted = |i: usize| -> Result<u32, StoreError> {
        r.try_get::<_, Option<i32>>(i)
            .map_err(map_err)?
            .map_or(Ok(0), count)
    };
    Ok(SessionView {
        session: SessionRow {
            officer_id: officer_id.to_string(),
            expires_at: r.try_get(1).map_err(map_err)?,
            last_seen: r.try_get(2).map_err(map_err)?,
            certificate: r.try_get(19).map_err(map_err)?,
        },
        officer: officer_at(r, 3)?,
        counter: Counter {
            used: counted(15)?,
            extra: counted(16)?,
            wrong_codes: counted(17)?,
        },
        activated: r.try_get(18).map_err(map_err)?,
    })
}

/// The officers of a unit; `locked_only` for the lockout list.
async fn of_unit(s: &PgStore, unit: &str, locked_only: bool) -> Result<Vec<Officer>, StoreError> {
    let c = s.client().await?;
    let sql = if locked_only {
        format!("SELECT {COLUMNS} FROM officers WHERE unit = $1 AND locked_at IS NOT NULL ORDER BY locked_at")
    } else {
        format!("SELECT {COLUMNS} FROM officers WHERE unit = $1 ORDER BY login")
    };
    let rows = c.query(&sql, &[&unit]).await.map_err(map_err)?;
    rows.iter().map(officer).collect()
}

/// Locks the account unless it is locked already, and records the lock
/// after the record that caused it; whether this call locked it.
pub(super) async fn lock(
    tx: &Transaction<'_>,
    id: &uuid::Uuid,
    reason: LockReason,
    cause: &AuditEntry,
) -> Result<bool, StoreError> {
    let id = Arg::Text(id.to_string());
    crate::officers::lock(&mut PgConn::Tx(tx), &id, reason, cause).await
}

#[async_trait]
impl OfficerStore for PgStore {
    async fn insert_officer(
        &self,
        o: NewOfficer,
        entry: AuditEntry,
    ) -> Result<Officer, StoreError> {
        let id = uuid::Uuid::parse_str(&o.id)
            .map_err(|_| StoreError::Corrupt(format!("officer id {:?} is not a UUID", o.id)))?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let row = tx
        .query_one(
            &format!(
                "INSERT INTO officers (id, login, display_name, role, unit, password_hash, totp_secret, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ),
            &[&id, &o.login, &o.display_name, &o.role, &o.unit, &o.password_hash, &o.totp_secret, &entry.at],
        )
        .await
        .map_err(map_err)?;
        let created = officer(&row)?;
        let mut entry = entry;
        entry.subject_officer = Some(created.id.clone());
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn officer_by_login(&self, login: &str) -> Result<Option<Officer>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {COLUMNS} FROM officers WHERE login = $1"),
                &[&login],
            )
            .await
            .map_err(map_err)?;
        row.as_ref().map(officer).transpose()
    }

    async fn officer_by_id(&self, id: &str) -> Result<Option<Officer>, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let c = self.client().await?;
        let row = c
            .query_opt(
                &format!("SELECT {COLUMNS} FROM officers WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(map_err)?;
        row.as_ref().map(officer).transpose()
    }

    async fn officers_in_unit(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        of_unit(self, unit, false).await
    }

    async fn lockouts(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        of_unit(self, unit, true).await
    }

    async fn change_officer(
        &self,
        officer_id: &str,
        change: OfficerChange,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(officer_id) else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = match &change {
            OfficerChange::Disable => {
                tx.execute("DELETE FROM sessions WHERE officer_id = $1", &[&id])
                    .await
                    .map_err(map_err)?;
                tx.execute("UPDATE officers SET disabled = true WHERE id = $1", &[&id])
                    .await
            }
            OfficerChange::Enable => {
                tx.execute("UPDATE officers SET disabled = false WHERE id = $1", &[&id])
                    .await
            }
            OfficerChange::Password(hash) => {
                tx.execute("DELETE FROM sessions WHERE officer_id = $1", &[&id])
                    .await
                    .map_err(map_err)?;
                tx.execute(
                    "UPDATE officers SET password_hash = $2, failed_logins = 0 WHERE id = $1",
                    &[&id, hash],
                )
                .await
            }
            OfficerChange::Totp(secret) => {
                tx.execute("DELETE FROM sessions WHERE officer_id = $1", &[&id])
                    .await
                    .map_err(map_err)?;
                tx.execute(
                    "UPDATE officers SET totp_secret = $2, totp_last_step = NULL WHERE id = $1",
                    &[&id, secret],
                )
                .await
            }
        }
        .map_err(map_err)?;
        if n != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn login_failed(
        &self,
        officer_id: &str,
        now: DateTime<Utc>,
        policy: &LoginThrottle,
        entry: AuditEntry,
    ) -> Result<LoginFailure, StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let row = tx
            .query_one(
                "UPDATE officers SET failed_logins = failed_logins + 1, last_failed_login = $2
             WHERE id = $1 RETURNING failed_logins, locked_at IS NOT NULL",
                &[&id, &now],
            )
            .await
            .map_err(map_err)?;
        let failures = count(row.get(0))?;
        let already_locked: bool = row.get(1);
        audit::append(&tx, &entry).await?;
        let locked = !already_locked
            && login::locks(failures, policy)
            && lock(&tx, &id, LockReason::LoginFailures, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(LoginFailure {
            failures,
            locked: locked || already_locked,
        })
    }

    async fn bind_certificate(
        &self,
        officer_id: &str,
        fingerprint: &str,
        pin_hash: &str,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // A terminal's certificate belongs to one officer at a time, and
        // moves only within its unit: the unit check is part of the upsert,
        // so two units binding at once cannot both win.
        let bound = tx
            .execute(
                "INSERT INTO officer_certificates (fingerprint, officer_id, pin_hash, bound_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (fingerprint) DO UPDATE SET officer_id = $2, pin_hash = $3, bound_at = $4
         WHERE (SELECT unit FROM officers WHERE id = officer_certificates.officer_id)
             = (SELECT unit FROM officers WHERE id = $2)",
                &[&fingerprint, &id, &pin_hash, &entry.at],
            )
            .await
            .map_err(map_err)?;
        if bound == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Err(StoreError::Conflict(
                "certificate bound in another unit".to_string(),
            ));
        }
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn certificate_binding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT officer_id, pin_hash FROM officer_certificates WHERE fingerprint = $1",
                &[&fingerprint],
            )
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| {
            let id: uuid::Uuid = r.get(0);
            (id.to_string(), r.get(1))
        }))
    }
}

#[async_trait]
impl SessionStore for PgStore {
    async fn login_succeeded(
        &self,
        officer_id: &str,
        totp_step: Option<i64>,
        session: NewSession,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let id = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // Consuming the step and checking it is fresh is one statement, so two
        // logins racing with the same code cannot both succeed. A login without
        // a TOTP step (certificate + PIN) leaves the step record alone.
        let fresh = tx
        .execute(
            "UPDATE officers SET totp_last_step = COALESCE($2, totp_last_step),
                 failed_logins = 0, last_failed_login = NULL
             WHERE id = $1 AND locked_at IS NULL AND NOT disabled AND ($2::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < $2)",
            &[&id, &totp_step],
        )
        .await
        .map_err(map_err)?;
        if fresh == 0 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, last_seen, certificate)
         VALUES ($1, $2, $3, $4, $3, $5)",
            &[
                &session.token_hash.0,
                &id,
                &session.created_at,
                &session.expires_at,
                &session.certificate,
            ],
        )
        .await
        .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT officer_id, expires_at, last_seen, certificate FROM sessions WHERE token_hash = $1",
                &[&hash.0],
            )
            .await
            .map_err(map_err)?;
        Ok(row.map(|r| {
            let id: uuid::Uuid = r.get(0);
            SessionRow {
                officer_id: id.to_string(),
                expires_at: r.get(1),
                last_seen: r.get(2),
                certificate: r.get(3),
            }
        }))
    }

    async fn lookup_session(&self, q: &SessionLookup) -> Result<Option<SessionView>, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(LOOKUP).await.map_err(map_err)?;
        let citizen = q.citizen.as_ref().map(|p| p.as_str());
        let row = c
            .query_opt(&st, &[&q.token.0, &q.day, &citizen])
            .await
            .map_err(map_err)?;
        row.as_ref().map(session_view).transpose()
    }

    async fn touch_session(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "UPDATE sessions SET last_seen = GREATEST(last_seen, $2) WHERE token_hash = $1",
            &[&hash.0, &now],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn end_session(&self, hash: &TokenHash, entry: AuditEntry) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&hash.0])
            .await
            .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }
}
