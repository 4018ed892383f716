//! PostgreSQL store (tokio-postgres + deadpool-postgres).
//!
//! Each concern's trait is implemented in its own file (officers and
//! sessions, quota, challenges, activations, audit); each method is one
//! transaction. Business rules are named in the
//! core (`quota::judge`, `login::locks`); the SQL here makes them atomic:
//! counters are incremented by one upsert that returns the new value, never
//! read and written back, so several broker replicas cannot overrun a limit.

mod audit;
mod challenges;
mod tlog;
pub mod tls;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::types::{ToSql, Type};

use crate::conn::{Arg, Backend, Conn, Db, Row, Sql, Val, Work};

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

/// The PostgreSQL backend: a deadpool of tokio-postgres clients.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
}

/// The PostgreSQL store.
pub type PgStore = Db<Pg>;

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

impl Pg {
    /// A pooled client.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
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
        Ok(Db { b: Pg { pool } })
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

/// A PostgreSQL connection for the concerns written once: a pooled client
/// (reads, autocommit) or a transaction (writes).
pub(crate) enum PgConn<'a> {
    Client(&'a deadpool_postgres::Object),
    Tx(&'a deadpool_postgres::Transaction<'a>),
}

impl PgConn<'_> {
    /// The prepared statement; `None` for one PostgreSQL does not run.
    async fn prepare(&self, sql: Sql) -> Result<Option<tokio_postgres::Statement>, StoreError> {
        let Some(text) = sql.pg() else {
            return Ok(None);
        };
        match self {
            PgConn::Client(c) => c.prepare_cached(text).await,
            PgConn::Tx(t) => t.prepare_cached(text).await,
        }
        .map(Some)
        .map_err(map_err)
    }

    async fn rows(
        &self,
        st: &tokio_postgres::Statement,
        args: &[Arg],
    ) -> Result<Vec<Row>, StoreError> {
        let owned = bind(st, args)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            owned.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
        let rows = match self {
            PgConn::Client(c) => c.query(st, &refs).await,
            PgConn::Tx(t) => t.query(st, &refs).await,
        }
        .map_err(map_err)?;
        rows.iter().map(row).collect()
    }
}

#[async_trait]
impl Conn for PgConn<'_> {
    async fn query(&mut self, sql: Sql, args: &[Arg]) -> Result<Vec<Row>, StoreError> {
        let Some(st) = self.prepare(sql).await? else {
            return Ok(Vec::new());
        };
        self.rows(&st, args).await
    }

    async fn exec(&mut self, sql: Sql, args: &[Arg]) -> Result<u64, StoreError> {
        let Some(st) = self.prepare(sql).await? else {
            return Ok(0);
        };
        let owned = bind(&st, args)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            owned.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
        match self {
            PgConn::Client(c) => c.execute(&st, &refs).await,
            PgConn::Tx(t) => t.execute(&st, &refs).await,
        }
        .map_err(map_err)
    }

    async fn pipeline(&mut self, stmts: &[(Sql, Vec<Arg>)]) -> Result<Vec<u64>, StoreError> {
        let mut prepared = Vec::with_capacity(stmts.len());
        for (sql, args) in stmts {
            let st = match self.prepare(*sql).await? {
                Some(st) => {
                    let bound = bind(&st, args)?;
                    Some((st, bound))
                }
                None => None,
            };
            prepared.push(st);
        }
        let this = &*self;
        futures::future::try_join_all(prepared.iter().map(|p| async move {
            // A statement PostgreSQL does not run changed no rows.
            let Some((st, owned)) = p else {
                return Ok(0);
            };
            let refs: Vec<&(dyn ToSql + Sync)> =
                owned.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
            match this {
                PgConn::Client(c) => c.execute(st, &refs).await,
                PgConn::Tx(t) => t.execute(st, &refs).await,
            }
            .map_err(map_err)
        }))
        .await
    }

    async fn each(&mut self, sql: Sql, args: &[Vec<Arg>]) -> Result<Vec<Vec<Row>>, StoreError> {
        let Some(st) = self.prepare(sql).await? else {
            return Ok(vec![Vec::new(); args.len()]);
        };
        // Sent together: tokio-postgres pipelines queries issued before the
        // first answer is awaited.
        let this = &*self;
        futures::future::try_join_all(args.iter().map(|a| this.rows(&st, a))).await
    }
}

type Bound = Box<dyn ToSql + Sync + Send>;

/// The arguments as the statement's parameter types want them: the core's
/// values are the same on both stores, PostgreSQL's columns are typed.
fn bind(st: &tokio_postgres::Statement, args: &[Arg]) -> Result<Vec<Bound>, StoreError> {
    let types = st.params();
    if types.len() != args.len() {
        return Err(StoreError::Unavailable(format!(
            "statement takes {} arguments, {} given",
            types.len(),
            args.len()
        )));
    }
    types
        .iter()
        .zip(args)
        .map(|(t, a)| bind_one(t, a))
        .collect()
}

fn bind_one(t: &Type, a: &Arg) -> Result<Bound, StoreError> {
    let text_as = |s: Option<&String>| -> Result<Bound, StoreError> {
        Ok(if *t == Type::UUID {
            Box::new(s.map(|s| uuid(s)).transpose()?)
        } else {
            Box::new(s.cloned())
        })
    };
    Ok(match a {
        Arg::Text(s) => text_as(Some(s))?,
        Arg::OptText(s) => text_as(s.as_ref())?,
        Arg::Int(v) => match *t {
            Type::INT2 => Box::new(i16::try_from(*v).unwrap_or(i16::MAX)),
            Type::INT4 => Box::new(i32::try_from(*v).unwrap_or(i32::MAX)),
            _ => Box::new(*v),
        },
        Arg::OptInt(v) => match *t {
            Type::INT4 => Box::new(v.map(|v| i32::try_from(v).unwrap_or(i32::MAX))),
            _ => Box::new(*v),
        },
        Arg::Bool(b) => Box::new(*b),
        Arg::Bytes(b) => Box::new(b.clone()),
        Arg::TextList(l) => Box::new(l.clone()),
        Arg::Instant(i) => Box::new(*i),
        Arg::OptInstant(i) => Box::new(*i),
        Arg::Day(d) => Box::new(*d),
    })
}

/// A row's columns as the shared [`Val`]s.
pub(super) fn row(r: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let bad = |e: tokio_postgres::Error| StoreError::Corrupt(e.to_string());
    r.columns()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let t = c.type_();
            let v = if *t == Type::INT2 {
                r.try_get::<_, Option<i16>>(i)
                    .map(|v| v.map(|v| Val::Int(v.into())))
            } else if *t == Type::INT4 {
                r.try_get::<_, Option<i32>>(i)
                    .map(|v| v.map(|v| Val::Int(v.into())))
            } else if *t == Type::INT8 {
                r.try_get::<_, Option<i64>>(i).map(|v| v.map(Val::Int))
            } else if *t == Type::UUID {
                r.try_get::<_, Option<uuid::Uuid>>(i)
                    .map(|v| v.map(|u| Val::Text(u.to_string())))
            } else if *t == Type::BOOL {
                r.try_get::<_, Option<bool>>(i).map(|v| v.map(Val::Bool))
            } else if *t == Type::BYTEA {
                r.try_get::<_, Option<Vec<u8>>>(i)
                    .map(|v| v.map(Val::Bytes))
            } else if *t == Type::TIMESTAMPTZ {
                r.try_get::<_, Option<DateTime<Utc>>>(i)
                    .map(|v| v.map(Val::Instant))
            } else if *t == Type::TEXT_ARRAY {
                r.try_get::<_, Option<Vec<String>>>(i)
                    .map(|v| v.map(Val::TextList))
            } else if *t == Type::DATE {
                r.try_get::<_, Option<NaiveDate>>(i)
                    .map(|v| v.map(Val::Day))
            } else {
                r.try_get::<_, Option<String>>(i).map(|v| v.map(Val::Text))
            };
            v.map(|v| v.unwrap_or(Val::Null)).map_err(bad)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Row)
}

#[async_trait]
impl Backend for Pg {
    async fn run_read<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        let c = self.client().await?;
        let mut conn = PgConn::Client(&c);
        f(&mut conn).await
    }

    async fn run_autocommit<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        self.run_read(f).await
    }

    async fn run_write<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let out = {
            let mut conn = PgConn::Tx(&tx);
            f(&mut conn).await?
        };
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }
}
