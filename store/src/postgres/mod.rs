//! PostgreSQL store (tokio-postgres + deadpool-postgres).
//!
//! Each concern's trait is implemented in its own file (officers and
//! sessions, quota, challenges, activations, audit); each method is one
//! transaction. Business rules are named in the
//! core (`quota::judge`, `login::locks`); the SQL here makes them atomic:
//! counters are incremented by one upsert that returns the new value, never
//! read and written back, so several broker replicas cannot overrun a limit.

mod activations;
mod audit;
mod break_glass;
mod challenges;
mod idempotency;
mod notices;
mod officers;
mod quota;
mod retention;
mod throttle;
mod tlog;
pub mod tls;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use okaz_core::ports::{Health, StoreError};

/// Versioned migrations, applied in order, each once.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_certificates.sql")),
    (
        3,
        include_str!("../../migrations/0003_activation_codes.sql"),
    ),
    (
        4,
        include_str!("../../migrations/0004_transparency_log.sql"),
    ),
    (
        5,
        include_str!("../../migrations/0005_throttle_and_portal.sql"),
    ),
    (6, include_str!("../../migrations/0006_idempotency.sql")),
    (
        7,
        include_str!("../../migrations/0007_session_certificates.sql"),
    ),
    (
        8,
        include_str!("../../migrations/0008_retention_and_keys.sql"),
    ),
    (
        9,
        include_str!("../../migrations/0009_challenge_release_lease.sql"),
    ),
    (10, include_str!("../../migrations/0010_notices.sql")),
    (11, include_str!("../../migrations/0011_break_glass.sql")),
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
        // TLS as the URL's libpq parameters say (`sslmode`, `sslrootcert`).
        let target = tls::target(url)?;
        let mgr = Manager::from_config(
            target.config,
            target.tls,
            // `Fast` checks that the connection is open; `Verified` would
            // also send a query on every checkout: a round trip (and, in
            // PostgreSQL's count, a transaction) per request. A connection
            // the server closed is seen as closed and replaced; one that
            // breaks mid-request fails that request as unavailable.
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(mgr)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        drop(pool.get().await.map_err(|e| match e {
            // The driver's cause (e.g. the certificate check) says why.
            deadpool_postgres::PoolError::Backend(e) => {
                StoreError::Unavailable(tls::error_chain(&e))
            }
            e => pool_err(e),
        })?);
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
impl Health for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.client()
            .await?
            .simple_query("SELECT 1")
            .await
            .map_err(map_err)?;
        Ok(())
    }

    fn pool_status(&self) -> Option<okaz_core::ports::PoolStatus> {
        let s = self.pool.status();
        Some(okaz_core::ports::PoolStatus {
            in_use: s.size.saturating_sub(s.available) as u64,
            idle: s.available as u64,
            waiting: s.waiting as u64,
        })
    }
}
