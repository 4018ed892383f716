//! Officers, logins and sessions: written once for both stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use okaz_policy::LoginThrottle;

use crate::audit::append_all;
use crate::conn::{id, returned, Arg, Backend, Conn, Db, Row, Sql};
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::login;
use okaz_core::ports::{
    Counter, Lock, LoginFailure, NewOfficer, NewSession, Officer, OfficerChange, OfficerStore,
    SessionLookup, SessionRow, SessionStore, SessionView, StoreError,
};
use okaz_core::session::TokenHash;

/// The columns [`officer_at`] reads, in its order.
macro_rules! columns {
    () => {
        "id, login, display_name, role, unit, password_hash, totp_secret, disabled,
     locked_at, lock_reason, failed_logins, last_failed_login"
    };
}

/// Only an unlocked account is locked, so the first reason is kept and
/// recorded once.
const LOCK: Sql = Sql::Same(
    "UPDATE officers SET locked_at = $2, lock_reason = $3 WHERE id = $1 AND locked_at IS NULL",
);
const INSERT: Sql = Sql::Same(concat!(
    "INSERT INTO officers (id, login, display_name, role, unit, password_hash, totp_secret, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
    columns!()
));
const BY_LOGIN: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM officers WHERE login = $1"
));
const BY_ID: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM officers WHERE id = $1"
));
const OF_UNIT: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM officers WHERE unit = $1 ORDER BY login"
));
const LOCKOUTS: Sql = Sql::Same(concat!(
    "SELECT ",
    columns!(),
    " FROM officers WHERE unit = $1 AND locked_at IS NOT NULL ORDER BY locked_at"
));
const END_SESSIONS: Sql = Sql::Same("DELETE FROM sessions WHERE officer_id = $1");
const DISABLE: Sql = Sql::Same("UPDATE officers SET disabled = true WHERE id = $1");
const ENABLE: Sql = Sql::Same("UPDATE officers SET disabled = false WHERE id = $1");
const PASSWORD: Sql =
    Sql::Same("UPDATE officers SET password_hash = $2, failed_logins = 0 WHERE id = $1");
const TOTP: Sql =
    Sql::Same("UPDATE officers SET totp_secret = $2, totp_last_step = NULL WHERE id = $1");
const FAILED: Sql = Sql::Same(
    "UPDATE officers SET failed_logins = failed_logins + 1, last_failed_login = $2
     WHERE id = $1 RETURNING failed_logins, locked_at IS NOT NULL",
);
/// A terminal's certificate belongs to one officer at a time, and moves
/// only within its unit: the unit check is part of the upsert, so two
/// units binding at once cannot both win.
const BIND: Sql = Sql::Same(
    "INSERT INTO officer_certificates (fingerprint, officer_id, pin_hash, bound_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (fingerprint) DO UPDATE SET officer_id = $2, pin_hash = $3, bound_at = $4
     WHERE (SELECT unit FROM officers WHERE id = officer_certificates.officer_id)
         = (SELECT unit FROM officers WHERE id = $2)",
);
const BINDING: Sql =
    Sql::Same("SELECT officer_id, pin_hash FROM officer_certificates WHERE fingerprint = $1");
/// Consuming the step and checking it is fresh is one statement, so two
/// logins racing with the same code cannot both succeed. A login without
/// a TOTP step (certificate + PIN) leaves the step record alone.
/// PostgreSQL must be told the type of a parameter only compared with NULL.
const FRESH: Sql = Sql::Split {
    pg: "UPDATE officers SET totp_last_step = COALESCE($2, totp_last_step),
             failed_logins = 0, last_failed_login = NULL
         WHERE id = $1 AND locked_at IS NULL AND NOT disabled
           AND ($2::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < $2)",
    sqlite: "UPDATE officers SET totp_last_step = COALESCE(?2, totp_last_step),
             failed_logins = 0, last_failed_login = NULL
         WHERE id = ?1 AND locked_at IS NULL AND NOT disabled
           AND (?2 IS NULL OR totp_last_step IS NULL OR totp_last_step < ?2)",
};
const START: Sql = Sql::Same(
    "INSERT INTO sessions (token_hash, officer_id, created_at, expires_at, last_seen, certificate)
     VALUES ($1, $2, $3, $4, $3, $5)",
);
const SESSION: Sql = Sql::Same(
    "SELECT officer_id, expires_at, last_seen, certificate FROM sessions WHERE token_hash = $1",
);
/// Activity never moves back; two-argument MAX is SQLite's GREATEST.
const TOUCH: Sql = Sql::Split {
    pg: "UPDATE sessions SET last_seen = GREATEST(last_seen, $2) WHERE token_hash = $1",
    sqlite: "UPDATE sessions SET last_seen = MAX(last_seen, ?2) WHERE token_hash = ?1",
};
const END_SESSION: Sql = Sql::Same("DELETE FROM sessions WHERE token_hash = $1");

/// One statement for a request's authentication: the session, its
/// officer, today's counter, and the citizen's activation when asked
/// (`$3` null: not asked). Columns: session (0-2), officer (3-14),
/// counter (15-17), activated (18), the session's certificate (19).
/// PostgreSQL's text, which its challenge reservation pipelines too.
pub(crate) const LOOKUP_PG: &str = "SELECT s.officer_id, s.expires_at, s.last_seen,
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
const LOOKUP: Sql = Sql::Split {
    pg: LOOKUP_PG,
    sqlite: "SELECT s.officer_id, s.expires_at, s.last_seen,
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
};

/// The officer in `columns!()` order from column `at` on.
fn officer_at(r: &Row, at: usize) -> Result<Officer, StoreError> {
    let locked_at = r.opt_instant(at + 8)?;
    let reason = r.opt_text(at + 9)?;
    Ok(Officer {
        id: r.text(at)?,
        login: r.text(at + 1)?,
        display_name: r.text(at + 2)?,
        role: r.text(at + 3)?,
        unit: r.text(at + 4)?,
        password_hash: r.text(at + 5)?,
        totp_secret: r.bytes(at + 6)?,
        disabled: r.bool(at + 7)?,
        locked: locked_at.map(|at| Lock {
            at,
            reason: reason.unwrap_or_default(),
        }),
        failed_logins: r.count(at + 10)?,
        last_failed_login: r.opt_instant(at + 11)?,
    })
}

fn officer(r: &Row) -> Result<Officer, StoreError> {
    officer_at(r, 0)
}

fn officers(rows: Vec<Row>) -> Result<Vec<Officer>, StoreError> {
    rows.iter().map(officer).collect()
}

/// The [`SessionView`] of a row of the session lookup.
pub(crate) fn session_view(r: &Row) -> Result<SessionView, StoreError> {
    let counted = |i: usize| r.opt_count(i).map(Option::unwrap_or_default);
    Ok(SessionView {
        session: SessionRow {
            officer_id: r.text(0)?,
            expires_at: r.instant(1)?,
            last_seen: r.instant(2)?,
            certificate: r.opt_text(19)?,
        },
        officer: officer_at(r, 3)?,
        counter: Counter {
            used: counted(15)?,
            extra: counted(16)?,
            wrong_codes: counted(17)?,
        },
        activated: r.opt_bool(18)?,
    })
}

/// Locks the officer `id` (canonical) for `reason` inside `c`'s
/// transaction, recording it after `cause`; whether this locked it.
pub(crate) async fn lock(
    c: &mut dyn Conn,
    id: &Arg,
    reason: LockReason,
    cause: &AuditEntry,
) -> Result<bool, StoreError> {
    let n = c
        .exec(LOCK, &[id.clone(), cause.at.into(), reason.as_str().into()])
        .await?;
    if n == 1 {
        append_all(c, std::slice::from_ref(&cause.locked(reason))).await?;
    }
    Ok(n == 1)
}

#[async_trait]
impl<B: Backend> OfficerStore for Db<B> {
    async fn insert_officer(
        &self,
        o: NewOfficer,
        entry: AuditEntry,
    ) -> Result<Officer, StoreError> {
        let who = uuid::Uuid::parse_str(&o.id)
            .map_err(|_| StoreError::Corrupt(format!("officer id {:?} is not a UUID", o.id)))?
            .to_string();
        let args = [
            who.into(),
            o.login.into(),
            o.display_name.into(),
            o.role.into(),
            o.unit.into(),
            o.password_hash.into(),
            Arg::Bytes(o.totp_secret),
            entry.at.into(),
        ];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let created = officer(&returned(c.opt(INSERT, &args).await?)?)?;
                    let mut entry = entry;
                    entry.subject_officer = Some(created.id.clone());
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(created)
                })
            })
            .await
    }

    async fn officer_by_login(&self, login: &str) -> Result<Option<Officer>, StoreError> {
        let args = [login.into()];
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    c.opt(BY_LOGIN, &args)
                        .await?
                        .as_ref()
                        .map(officer)
                        .transpose()
                })
            })
            .await
    }

    async fn officer_by_id(&self, officer_id: &str) -> Result<Option<Officer>, StoreError> {
        let Ok(who) = id(officer_id) else {
            return Ok(None);
        };
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    c.opt(BY_ID, &[who])
                        .await?
                        .as_ref()
                        .map(officer)
                        .transpose()
                })
            })
            .await
    }

    async fn officers_in_unit(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        let args = [unit.into()];
        self.b
            .run_read(move |c| Box::pin(async move { officers(c.query(OF_UNIT, &args).await?) }))
            .await
    }

    async fn lockouts(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        let args = [unit.into()];
        self.b
            .run_read(move |c| Box::pin(async move { officers(c.query(LOCKOUTS, &args).await?) }))
            .await
    }

    async fn change_officer(
        &self,
        officer_id: &str,
        change: OfficerChange,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let Ok(who) = id(officer_id) else {
            return Ok(false);
        };
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let me = std::slice::from_ref(&who);
                    let n = match change {
                        OfficerChange::Disable => {
                            c.exec(END_SESSIONS, me).await?;
                            c.exec(DISABLE, me).await?
                        }
                        OfficerChange::Enable => c.exec(ENABLE, me).await?,
                        OfficerChange::Password(hash) => {
                            c.exec(END_SESSIONS, me).await?;
                            c.exec(PASSWORD, &[who.clone(), hash.into()]).await?
                        }
                        OfficerChange::Totp(secret) => {
                            c.exec(END_SESSIONS, me).await?;
                            c.exec(TOTP, &[who.clone(), Arg::Bytes(secret)]).await?
                        }
                    };
                    if n != 1 {
                        // No such officer: the session delete matched
                        // nothing either, so the commit writes nothing.
                        return Ok(false);
                    }
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(true)
                })
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
        let who = id(officer_id)?;
        let policy = *policy;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    let row = c
                        .opt(FAILED, &[who.clone(), now.into()])
                        .await?
                        .ok_or_else(|| StoreError::Unavailable("no such officer".to_string()))?;
                    let failures = row.count(0)?;
                    let already_locked = row.bool(1)?;
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    let locked = !already_locked
                        && login::locks(failures, &policy)
                        && lock(c, &who, LockReason::LoginFailures, &entry).await?;
                    Ok(LoginFailure {
                        failures,
                        locked: locked || already_locked,
                    })
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
        let args = [
            fingerprint.into(),
            id(officer_id)?,
            pin_hash.into(),
            entry.at.into(),
        ];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    if c.exec(BIND, &args).await? == 0 {
                        // The error rolls the transaction back.
                        return Err(StoreError::Conflict(
                            "certificate bound in another unit".to_string(),
                        ));
                    }
                    append_all(c, std::slice::from_ref(&entry)).await
                })
            })
            .await
    }

    async fn certificate_binding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let args = [fingerprint.into()];
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    match c.opt(BINDING, &args).await? {
                        Some(r) => Ok(Some((r.text(0)?, r.text(1)?))),
                        None => Ok(None),
                    }
                })
            })
            .await
    }
}

#[async_trait]
impl<B: Backend> SessionStore for Db<B> {
    async fn login_succeeded(
        &self,
        officer_id: &str,
        totp_step: Option<i64>,
        session: NewSession,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let who = id(officer_id)?;
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    if c.exec(FRESH, &[who.clone(), Arg::OptInt(totp_step)])
                        .await?
                        == 0
                    {
                        // Nothing was written: the commit changes nothing.
                        return Ok(false);
                    }
                    c.exec(
                        START,
                        &[
                            session.token_hash.0.into(),
                            who,
                            session.created_at.into(),
                            session.expires_at.into(),
                            Arg::OptText(session.certificate),
                        ],
                    )
                    .await?;
                    append_all(c, std::slice::from_ref(&entry)).await?;
                    Ok(true)
                })
            })
            .await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError> {
        let args = [(&hash.0).into()];
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    match c.opt(SESSION, &args).await? {
                        Some(r) => Ok(Some(SessionRow {
                            officer_id: r.text(0)?,
                            expires_at: r.instant(1)?,
                            last_seen: r.instant(2)?,
                            certificate: r.opt_text(3)?,
                        })),
                        None => Ok(None),
                    }
                })
            })
            .await
    }

    async fn lookup_session(&self, q: &SessionLookup) -> Result<Option<SessionView>, StoreError> {
        let args = [
            (&q.token.0).into(),
            Arg::Day(q.day),
            Arg::OptText(q.citizen.as_ref().map(|p| p.as_str().to_string())),
        ];
        self.b
            .run_read(move |c| {
                Box::pin(async move {
                    c.opt(LOOKUP, &args)
                        .await?
                        .as_ref()
                        .map(session_view)
                        .transpose()
                })
            })
            .await
    }

    async fn touch_session(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError> {
        let args = [(&hash.0).into(), now.into()];
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.exec(TOUCH, &args).await.map(drop) }))
            .await
    }

    async fn end_session(&self, hash: &TokenHash, entry: AuditEntry) -> Result<(), StoreError> {
        let args = [(&hash.0).into()];
        self.b
            .run_write(move |c| {
                Box::pin(async move {
                    c.exec(END_SESSION, &args).await?;
                    append_all(c, std::slice::from_ref(&entry)).await
                })
            })
            .await
    }
}
