//! Officers, logins and sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use okaz_core::ports::{OfficerStore, SessionStore};
use okaz_policy::LoginThrottle;
use rusqlite::{params, Connection, Row};

use super::{audit, canonical_id, col, count, exec, instant, micros, one, LiteConn, SqliteStore};
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

fn officer(r: &Row<'_>) -> Result<Officer, StoreError> {
    officer_at(r, 0)
}

/// The officer in [`COLUMNS`] order from column `at` on.
fn officer_at(r: &Row<'_>, at: usize) -> Result<Officer, StoreError> {
    let locked_at: Option<i64> = col(r, at + 8)?;
    let reason: Option<String> = col(r, at + 9)?;
    let last_failed: Option<i64> = col(r, at + 11)?;
    Ok(Officer {
        id: col(r, at)?,
        login: col(r, at + 1)?,
        display_name: col(r, at + 2)?,
        role: col(r, at + 3)?,
        unit: col(r, at + 4)?,
        password_hash: col(r, at + 5)?,
        totp_secret: col(r, at + 6)?,
        disabled: col(r, at + 7)?,
        locked: locked_at.map(instant).transpose()?.map(|at| Lock {
            at,
            reason: reason.unwrap_or_default(),
        }),
        failed_logins: count(col(r, at + 10)?)?,
        last_failed_login: last_failed.map(instant).transpose()?,
    })
}

/// The officers of a unit; `locked_only` for the lockout list.
async fn of_unit(
    s: &SqliteStore,
    unit: &str,
    locked_only: bool,
) -> Result<Vec<Officer>, StoreError> {
    let unit = unit.to_string();
    let sql = if locked_only {
        format!("SELECT {COLUMNS} FROM officers WHERE unit = ?1 AND locked_at IS NOT NULL ORDER BY locked_at")
    } else {
        format!("SELECT {COLUMNS} FROM officers WHERE unit = ?1 ORDER BY login")
    };
    s.read(move |c| super::all(c, &sql, [unit], officer)).await
}

/// Locks the account unless it is locked already, and records the lock
/// after the record that caused it; whether this call locked it.
pub(super) fn lock(
    tx: &mut Connection,
    id: &str,
    reason: LockReason,
    cause: &AuditEntry,
) -> Result<bool, StoreError> {
    let id = Arg::Text(id.to_string());
    futures::executor::block_on(crate::officers::lock(
        &mut LiteConn { c: tx },
        &id,
        reason,
        cause,
    ))
}

#[async_trait]
impl OfficerStore for SqliteStore {
    async fn insert_officer(
        &self,
        o: NewOfficer,
        entry: AuditEntry,
    ) -> Result<Officer, StoreError> {
        let id = uuid::Uuid::parse_str(&o.id)
            .map_err(|_| StoreError::Corrupt(format!("officer id {:?} is not a UUID", o.id)))?
            .to_string();
        self.write(move |tx| {
        let created = one(
            tx,
            &format!(
                "INSERT INTO officers (id, login, display_name, role, unit, password_hash, totp_secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING {COLUMNS}"
            ),
            params![
                id,
                o.login,
                o.display_name,
                o.role,
                o.unit,
                o.password_hash,
                o.totp_secret,
                micros(entry.at)
            ],
            officer,
        )?
        .ok_or_else(|| StoreError::Unavailable("insert returned no officer".to_string()))?;
        let mut entry = entry;
        entry.subject_officer = Some(created.id.clone());
        audit::append(tx, &entry)?;
        Ok(created)
    })
    .await
    }

    async fn officer_by_login(&self, login: &str) -> Result<Option<Officer>, StoreError> {
        let login = login.to_string();
        self.read(move |c| {
            one(
                c,
                &format!("SELECT {COLUMNS} FROM officers WHERE login = ?1"),
                [login],
                officer,
            )
        })
        .await
    }

    async fn officer_by_id(&self, id: &str) -> Result<Option<Officer>, StoreError> {
        let Some(id) = canonical_id(id) else {
            return Ok(None);
        };
        self.read(move |c| {
            one(
                c,
                &format!("SELECT {COLUMNS} FROM officers WHERE id = ?1"),
                [id],
                officer,
            )
        })
        .await
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
        let Some(id) = canonical_id(officer_id) else {
            return Ok(false);
        };
        self.write(move |tx| {
            let n = match &change {
                OfficerChange::Disable => {
                    exec(tx, "DELETE FROM sessions WHERE officer_id = ?1", [&id])?;
                    exec(tx, "UPDATE officers SET disabled = 1 WHERE id = ?1", [&id])?
                }
                OfficerChange::Enable => {
                    exec(tx, "UPDATE officers SET disabled = 0 WHERE id = ?1", [&id])?
                }
                OfficerChange::Password(hash) => {
                    exec(tx, "DELETE FROM sessions WHERE officer_id = ?1", [&id])?;
                    exec(
                        tx,
                        "UPDATE officers SET password_hash = ?2, failed_logins = 0 WHERE id = ?1",
                        params![id, hash],
                    )?
                }
                OfficerChange::Totp(secret) => {
                    exec(tx, "DELETE FROM sessions WHERE officer_id = ?1", [&id])?;
                    exec(
                        tx,
                        "UPDATE officers SET totp_secret = ?2, totp_last_step = NULL WHERE id = ?1",
                        params![id, secret],
                    )?
                }
            };
            if n != 1 {
                // No such officer: the session delete above matched nothing
                // either, so committing writes nothing (PostgreSQL rolls back).
                return Ok(false);
            }
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }

    async fn login_failed(
        &self,
        officer_id: &str,
        now: DateTime<Utc>,
        policy: &LoginThrottle,
        entry: AuditEntry,
    ) -> Result<LoginFailure, StoreError> {
        let id = super::uuid(officer_id)?;
        let policy = *policy;
        self.write(move |tx| {
            let (failures, already_locked) = one(
                tx,
                "UPDATE officers SET failed_logins = failed_logins + 1, last_failed_login = ?2
             WHERE id = ?1 RETURNING failed_logins, locked_at IS NOT NULL",
                params![id, micros(now)],
                |r| Ok((count(col(r, 0)?)?, col::<bool>(r, 1)?)),
            )?
            // PostgreSQL's `query_one` fails the same way on an unknown id.
            .ok_or_else(|| StoreError::Unavailable("no such officer".to_string()))?;
            audit::append(tx, &entry)?;
            let locked = !already_locked
                && login::locks(failures, &policy)
                && lock(tx, &id, LockReason::LoginFailures, &entry)?;
            Ok(LoginFailure {
                failures,
                locked: locked || already_locked,
            })
        })
        .await
    }

    async fn bind_certificate(
        &self,
        officer_id: &str,
        fingerprint: &str,
        pin_hash: &str,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let id = super::uuid(officer_id)?;
        let fingerprint = fingerprint.to_string();
        let pin_hash = pin_hash.to_string();
        self.write(move |tx| {
        // A terminal's certificate belongs to one officer at a time, and
        // moves only within its unit (checked in the upsert itself).
        let bound = exec(
            tx,
            "INSERT INTO officer_certificates (fingerprint, officer_id, pin_hash, bound_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (fingerprint) DO UPDATE SET officer_id = ?2, pin_hash = ?3, bound_at = ?4
             WHERE (SELECT unit FROM officers WHERE id = officer_certificates.officer_id)
                 = (SELECT unit FROM officers WHERE id = ?2)",
            params![fingerprint, id, pin_hash, micros(entry.at)],
        )?;
        if bound == 0 {
            // Returning the error rolls the transaction back.
            return Err(StoreError::Conflict(
                "certificate bound in another unit".to_string(),
            ));
        }
        audit::append(tx, &entry)
    })
    .await
    }

    async fn certificate_binding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let fingerprint = fingerprint.to_string();
        self.read(move |c| {
            one(
                c,
                "SELECT officer_id, pin_hash FROM officer_certificates WHERE fingerprint = ?1",
                [fingerprint],
                |r| Ok((col(r, 0)?, col(r, 1)?)),
            )
        })
        .await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn login_succeeded(
        &self,
        officer_id: &str,
        totp_step: Option<i64>,
        session: NewSession,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let id = super::uuid(officer_id)?;
        self.write(move |tx| {
            // Consuming the step and checking it is fresh is one statement, so two
            // logins racing with the same code cannot both succeed.
            let fresh = exec(
                tx,
                "UPDATE officers SET totp_last_step = COALESCE(?2, totp_last_step),
                 failed_logins = 0, last_failed_login = NULL
             WHERE id = ?1 AND locked_at IS NULL AND NOT disabled AND (?2 IS NULL OR totp_last_step IS NULL OR totp_last_step < ?2)",
                params![id, totp_step],
            )?;
            if fresh == 0 {
                // Nothing was written; committing the empty transaction is the
                // same as PostgreSQL's rollback here.
                return Ok(false);
            }
            exec(
                tx,
                "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, last_seen, certificate)
             VALUES (?1, ?2, ?3, ?4, ?3, ?5)",
                params![
                    session.token_hash.0,
                    id,
                    micros(session.created_at),
                    micros(session.expires_at),
                    session.certificate
                ],
            )?;
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }

    async fn lookup_session(&self, q: &SessionLookup) -> Result<Option<SessionView>, StoreError> {
        let (hash, on) = (q.token.0.clone(), super::day(q.day));
        let citizen = q.citizen.as_ref().map(|p| p.as_str().to_string());
        self.read(move |c| {
            one(
                c,
                "SELECT s.officer_id, s.expires_at, s.last_seen,
                     o.id, o.login, o.display_name, o.role, o.unit, o.password_hash, o.totp_secret,
                     o.disabled, o.locked_at, o.lock_reason, o.failed_logins, o.last_failed_login,
                     c.used, c.extra, c.wrong_codes,
                     CASE WHEN ?3 IS NULL THEN NULL
                          ELSE EXISTS (SELECT 1 FROM activations a WHERE a.citizen = ?3) END,
                     s.certificate
                 FROM sessions s
                 JOIN officers o ON o.id = s.officer_id
                 LEFT JOIN daily_counters c ON c.officer_id = s.officer_id AND c.day = ?2
                 WHERE s.token_hash = ?1",
                params![hash, on, citizen],
                |r| {
                    let counted = |i| -> Result<u32, StoreError> {
                        col::<Option<i64>>(r, i)?.map_or(Ok(0), count)
                    };
                    Ok(SessionView {
                        session: SessionRow {
                            officer_id: col(r, 0)?,
                            expires_at: instant(col(r, 1)?)?,
                            last_seen: instant(col(r, 2)?)?,
                            certificate: col(r, 19)?,
                        },
                        officer: officer_at(r, 3)?,
                        counter: Counter {
                            used: counted(15)?,
                            extra: counted(16)?,
                            wrong_codes: counted(17)?,
                        },
                        activated: col(r, 18)?,
                    })
                },
            )
        })
        .await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError> {
        let hash = hash.0.clone();
        self.read(move |c| {
            one(
                c,
                "SELECT officer_id, expires_at, last_seen, certificate FROM sessions WHERE token_hash = ?1",
                [hash],
                |r| {
                    Ok(SessionRow {
                        officer_id: col(r, 0)?,
                        expires_at: instant(col(r, 1)?)?,
                        last_seen: instant(col(r, 2)?)?,
                        certificate: col(r, 3)?,
                    })
                },
            )
        })
        .await
    }

    async fn touch_session(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError> {
        let hash = hash.0.clone();
        self.write(move |tx| {
            // Two-argument MAX is SQLite's GREATEST: activity never moves back.
            exec(
                tx,
                "UPDATE sessions SET last_seen = MAX(last_seen, ?2) WHERE token_hash = ?1",
                params![hash, micros(now)],
            )?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, hash: &TokenHash, entry: AuditEntry) -> Result<(), StoreError> {
        let hash = hash.0.clone();
        self.write(move |tx| {
            exec(tx, "DELETE FROM sessions WHERE token_hash = ?1", [hash])?;
            audit::append(tx, &entry)
        })
        .await
    }
}
