//! PostgreSQL store (tokio-postgres + deadpool-postgres).
//!
//! Each trait method is one transaction. Business rules are named in the
//! core (`quota::judge`, `login::locks`); the SQL here makes them atomic:
//! counters are incremented by one upsert that returns the new value, never
//! read and written back, so several broker replicas cannot overrun a limit.

mod audit;
mod challenges;
mod officers;
mod quota;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use okaz_policy::LoginThrottle;
use tokio_postgres::NoTls;

use crate::core::audit::{AuditEntry, StoredRecord};
use crate::core::ports::*;
use crate::core::pseudonym::Pseudonym;
use crate::core::session::TokenHash;

/// Versioned migrations, applied in order, each once.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../../migrations/0001_initial.sql")),
    (2, include_str!("../../../migrations/0002_certificates.sql")),
];

/// Serialises migrations across replicas starting at once.
const MIGRATION_LOCK: i64 = 0x6f6b_617a; // "okaz"

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        StoreError::Conflict("a unique value is already taken".to_string())
    } else {
        StoreError::Unavailable(e.to_string())
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl PgStore {
    /// Connects a pool to `url` and checks one connection works, so a bad
    /// URL fails at start-up rather than on the first request.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Unavailable(e.to_string()))?;
        let mgr = Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        drop(pool.get().await.map_err(pool_err)?);
        Ok(PgStore { pool })
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Applies pending migrations, under an advisory lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(map_err)?;
        let result = async {
            c.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await
            .map_err(map_err)?;
            for (version, sql) in MIGRATIONS {
                let tx = c.transaction().await.map_err(map_err)?;
                let done = tx
                    .query_opt(
                        "SELECT 1 FROM schema_migrations WHERE version = $1",
                        &[version],
                    )
                    .await
                    .map_err(map_err)?;
                if done.is_none() {
                    tx.batch_execute(sql).await.map_err(map_err)?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[version],
                    )
                    .await
                    .map_err(map_err)?;
                    tracing::info!(version, "migration applied");
                }
                tx.commit().await.map_err(map_err)?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        let _ = c
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await;
        result
    }
}

/// Integer columns are `integer`; counts never go negative in the schema,
/// so a negative read means corruption and is reported, not wrapped.
pub(crate) fn count(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative count {v}")))
}

pub(crate) fn int(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub(crate) fn uuid(id: &str) -> Result<uuid::Uuid, StoreError> {
    // An id that is not a UUID cannot name any row; callers turn that into 404.
    uuid::Uuid::parse_str(id).map_err(|_| StoreError::Conflict("not an id".to_string()))
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_officer(
        &self,
        o: NewOfficer,
        audit: AuditEntry,
    ) -> Result<Officer, StoreError> {
        officers::insert(self, o, audit).await
    }

    async fn officer_by_login(&self, login: &str) -> Result<Option<Officer>, StoreError> {
        officers::by_login(self, login).await
    }

    async fn officer_by_id(&self, id: &str) -> Result<Option<Officer>, StoreError> {
        officers::by_id(self, id).await
    }

    async fn login_failed(
        &self,
        officer_id: &str,
        now: DateTime<Utc>,
        policy: &LoginThrottle,
        audit: AuditEntry,
    ) -> Result<LoginFailure, StoreError> {
        officers::login_failed(self, officer_id, now, policy, audit).await
    }

    async fn login_succeeded(
        &self,
        officer_id: &str,
        totp_step: Option<i64>,
        session: NewSession,
        audit: AuditEntry,
    ) -> Result<bool, StoreError> {
        officers::login_succeeded(self, officer_id, totp_step, session, audit).await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError> {
        officers::session(self, hash).await
    }

    async fn touch_session(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError> {
        officers::touch_session(self, hash, now).await
    }

    async fn end_session(&self, hash: &TokenHash, audit: AuditEntry) -> Result<(), StoreError> {
        officers::end_session(self, hash, audit).await
    }

    async fn count_attempt(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        audit: AuditEntry,
    ) -> Result<AttemptOutcome, StoreError> {
        quota::count_attempt(self, officer_id, day, role_limit, audit).await
    }

    async fn counter(&self, officer_id: &str, day: NaiveDate) -> Result<Counter, StoreError> {
        quota::counter(self, officer_id, day).await
    }

    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError> {
        challenges::is_activated(self, citizen).await
    }

    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        challenges::set_activation(self, citizen, active, audit).await
    }

    async fn insert_challenge(&self, c: NewChallenge, audit: AuditEntry) -> Result<(), StoreError> {
        challenges::insert(self, c, audit).await
    }

    async fn reserve_code_attempt(
        &self,
        id: &str,
        officer_id: &str,
        session: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        challenges::reserve(self, id, officer_id, session, now).await
    }

    async fn complete_challenge(&self, id: &str, audit: AuditEntry) -> Result<bool, StoreError> {
        challenges::complete(self, id, audit).await
    }

    async fn record_wrong_code(
        &self,
        challenge_id: &str,
        officer_id: &str,
        day: NaiveDate,
        threshold: u32,
        audit: AuditEntry,
    ) -> Result<WrongCode, StoreError> {
        challenges::wrong_code(self, challenge_id, officer_id, day, threshold, audit).await
    }

    async fn cancel_challenge(
        &self,
        id: &str,
        officer_id: &str,
        audit: AuditEntry,
    ) -> Result<bool, StoreError> {
        challenges::cancel(self, id, officer_id, audit).await
    }

    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError> {
        audit::search(self, filter).await
    }

    async fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        audit::chains(self).await
    }

    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError> {
        audit::chain(self, chain).await
    }

    async fn officers_in_unit(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        officers::in_unit(self, unit).await
    }

    async fn change_officer(
        &self,
        officer_id: &str,
        change: OfficerChange,
        audit: AuditEntry,
    ) -> Result<bool, StoreError> {
        officers::change(self, officer_id, change, audit).await
    }

    async fn bind_certificate(
        &self,
        officer_id: &str,
        fingerprint: &str,
        pin_hash: &str,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        officers::bind_certificate(self, officer_id, fingerprint, pin_hash, audit).await
    }

    async fn certificate_binding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        officers::certificate_binding(self, fingerprint).await
    }

    async fn lockouts(&self, unit: &str) -> Result<Vec<Officer>, StoreError> {
        officers::locked_in_unit(self, unit).await
    }

    async fn unlock(
        &self,
        officer_id: &str,
        day: NaiveDate,
        new_extra: u32,
        audit: AuditEntry,
    ) -> Result<(), StoreError> {
        quota::unlock(self, officer_id, day, new_extra, audit).await
    }
}
