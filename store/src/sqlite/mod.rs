//! Embedded SQLite store (rusqlite, bundled SQLite).
//!
//! The same semantics as [`super::postgres`], statement for statement; the
//! PostgreSQL store is the reference and both pass one conformance suite
//! (`store/tests/store_conformance.rs`).
//!
//! rusqlite is blocking, so every trait method runs on
//! [`tokio::task::spawn_blocking`] and takes a connection there; no lock is
//! ever held across an `.await`. Writes go through one writer connection
//! and each is a `BEGIN IMMEDIATE` transaction: the database write lock is
//! taken at the start, so a count read inside the transaction cannot be
//! changed by anyone else before it commits, also when another process has
//! the same file open (it waits up to `busy_timeout`). Reads use a few
//! read-only connections, which WAL mode lets run beside the writer.
//!
//! Counters are still incremented by one upsert that returns the new value
//! (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), exactly as on PostgreSQL.

mod audit;
mod challenges;
mod tlog;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::FromSql;
use rusqlite::{Connection, Params, Row};

use okaz_core::ports::{Health, StoreError};

use crate::conn::{Arg, Backend, Conn, Db, Row as ConnRow, Sql, Val, Work};

/// Versioned migrations, applied in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_initial.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_certificates.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_activation_codes.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_transparency_log.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_throttle_and_portal.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_idempotency.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_session_certificates.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_retention_and_keys.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_challenge_release_lease.sql"),
    ),
    (10, include_str!("../../migrations/sqlite/0010_notices.sql")),
    (
        11,
        include_str!("../../migrations/sqlite/0011_break_glass.sql"),
    ),
];

/// How long a statement waits for another process's write lock on the same
/// file before the store reports itself unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many read connections; reads are short and SQLite
/// serialises writers anyway, so more would only hold file handles.
const MAX_READERS: usize = 8;

/// The SQLite backend. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct Lite {
    inner: Arc<Inner>,
}

/// The SQLite store.
pub type SqliteStore = Db<Lite>;

struct Inner {
    /// The one connection that writes; its mutex orders writers in this
    /// process so they do not spin in SQLite's busy handler.
    writer: Mutex<Connection>,
    /// Read-only connections; empty for an in-memory database, whose
    /// contents only the writer connection can see.
    readers: Vec<Mutex<Connection>>,
    /// Where the next read starts looking for a free connection.
    next: AtomicUsize,
}

/// Maps a rusqlite error: a broken uniqueness rule is a conflict (as
/// PostgreSQL's `unique_violation`, which covers primary keys too); every
/// other failure means the store could not do the work.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict("a unique value is already taken".to_string())
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// Reads column `i`; a value of the wrong type means the stored data does
/// not have the shape this code wrote.
pub(crate) fn col<T: FromSql>(r: &Row<'_>, i: usize) -> Result<T, StoreError> {
    r.get(i)
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// Runs a query expected to return at most one row.
pub(crate) fn one<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    let mut rows = stmt.query(params).map_err(map_err)?;
    match rows.next().map_err(map_err)? {
        Some(r) => f(r).map(Some),
        None => Ok(None),
    }
}

/// Runs a query and maps every row.
pub(crate) fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = c.prepare_cached(sql).map_err(map_err)?;
    let mut rows = stmt.query(params).map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(map_err)? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// Runs a statement; the number of rows it changed.
pub(crate) fn exec(c: &Connection, sql: &str, params: impl Params) -> Result<usize, StoreError> {
    c.prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map_err(map_err)
}

/// Counts are stored as integers that never go negative, so a value
/// outside `u32` means corruption and is reported, not wrapped.
pub(crate) fn count(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("count out of range {v}")))
}

/// An instant as stored: microseconds since the epoch, the precision
/// PostgreSQL keeps (and truncates to, as here).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored instant back.
pub(crate) fn instant(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v)
        .ok_or_else(|| StoreError::Corrupt(format!("instant out of range {v}")))
}

/// A business day as stored: ISO 8601 text, which sorts as dates do.
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// An id in its canonical form (PostgreSQL's `uuid` prints lower-case
/// hyphenated), so ids compare equal however the caller spelled them.
pub(crate) fn canonical_id(id: &str) -> Option<String> {
    uuid::Uuid::parse_str(id).ok().map(|u| u.to_string())
}

/// As `canonical_id` where the caller must name a row: an id that is not a
/// UUID cannot name any, reported as PostgreSQL's store does.
pub(crate) fn uuid(id: &str) -> Result<String, StoreError> {
    canonical_id(id).ok_or_else(|| StoreError::Conflict("not an id".to_string()))
}

/// Takes a connection even if a task panicked while holding it: a
/// transaction left open by that panic is rolled back first, so the next
/// user starts clean.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    let guard = m.lock().unwrap_or_else(PoisonError::into_inner);
    if !guard.is_autocommit() {
        // Best effort: if even ROLLBACK fails, the next BEGIN reports it.
        let _ = guard.execute_batch("ROLLBACK");
    }
    guard
}

fn joined<T>(r: Result<Result<T, StoreError>, tokio::task::JoinError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
}

/// Settings every connection needs; foreign keys are off by default in
/// SQLite and must be on to mirror PostgreSQL's `REFERENCES`.
fn configure(c: &Connection) -> Result<(), StoreError> {
    c.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    c.pragma_update(None, "foreign_keys", true)
        .map_err(map_err)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, or a private
    /// in-memory database for `:memory:`, with up to `pool_size` connections.
    /// Run [`SqliteStore::migrate`] before use.
    pub async fn open(path: &str, pool_size: usize) -> Result<Self, StoreError> {
        let path = path.to_string();
        let inner = tokio::task::spawn_blocking(move || Inner::open(&path, pool_size)).await;
        Ok(Db {
            b: Lite {
                inner: Arc::new(joined(inner)?),
            },
        })
    }

    /// Applies pending migrations. Each runs in its own `BEGIN IMMEDIATE`
    /// transaction, so two processes starting at once apply it once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (
                     version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
            )
            .map_err(map_err)
        })
        .await?;
        for (version, sql) in MIGRATIONS {
            self.write(move |tx| {
                let done = one(
                    tx,
                    "SELECT 1 FROM schema_migrations WHERE version = ?1",
                    [version],
                    |_| Ok(()),
                )?;
                if done.is_none() {
                    tx.execute_batch(sql).map_err(map_err)?;
                    exec(
                        tx,
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                        rusqlite::params![version, micros(Utc::now())],
                    )?;
                    tracing::info!(version, "sqlite migration applied");
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`) on the writer
    /// connection, off the async runtime; commits if `f` succeeds, rolls
    /// back if it fails.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        joined(tokio::task::spawn_blocking(move || in_write(&inner, f)).await)
    }

    /// Runs the read `f` on a free read connection, off the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        joined(
            tokio::task::spawn_blocking(move || {
                let c = inner.reader();
                f(&c)
            })
            .await,
        )
    }
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer: the
/// write lock is taken at the start, so what `f` reads cannot change
/// before it commits; rolled back if `f` fails.
fn in_write<T>(
    inner: &Inner,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut c = lock(&inner.writer);
    c.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
    match f(&mut c) {
        Ok(v) => {
            c.execute_batch("COMMIT").map_err(map_err)?;
            Ok(v)
        }
        Err(e) => {
            // Best effort; `lock` rolls back a leftover too.
            let _ = c.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl Inner {
    fn open(path: &str, pool_size: usize) -> Result<Inner, StoreError> {
        let memory = path == ":memory:";
        let writer = if memory {
            Connection::open_in_memory()
        } else {
            Connection::open(Path::new(path))
        }
        .map_err(map_err)?;
        configure(&writer)?;
        if !memory {
            // WAL lets readers run beside the writer; the setting is kept
            // in the file. `synchronous` stays at its default (FULL) so a
            // committed audit record survives a power cut.
            let mode: String = writer
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                .map_err(map_err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Unavailable(format!(
                    "sqlite: cannot use WAL journal mode (got {mode})"
                )));
            }
        }
        let mut readers = Vec::new();
        if !memory {
            for _ in 0..pool_size.saturating_sub(1).clamp(1, MAX_READERS) {
                let r = Connection::open(Path::new(path)).map_err(map_err)?;
                configure(&r)?;
                // Read connections never write: a mistake here fails loudly
                // instead of racing the writer.
                r.pragma_update(None, "query_only", true).map_err(map_err)?;
                readers.push(Mutex::new(r));
            }
        }
        Ok(Inner {
            writer: Mutex::new(writer),
            readers,
            next: AtomicUsize::new(0),
        })
    }

    /// A free read connection if there is one, else waits for one in turn;
    /// the writer when there are no readers (in-memory).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return lock(&self.writer);
        }
        let n = self.readers.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            if let Ok(g) = self.readers[(start + i) % n].try_lock() {
                return g;
            }
        }
        lock(&self.readers[start])
    }
}

#[async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| {
            one(c, "SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}

/// A SQLite connection for the concerns written once. Its methods finish
/// at once (rusqlite blocks): the work's future is driven to its end on
/// the blocking thread the connection was taken on.
pub(crate) struct LiteConn<'a> {
    pub(crate) c: &'a mut Connection,
}

fn bind_lite(a: &Arg) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match a {
        Arg::Text(s) => V::Text(s.clone()),
        Arg::OptText(s) => s.clone().map_or(V::Null, V::Text),
        Arg::Int(v) => V::Integer(*v),
        Arg::OptInt(v) => v.map_or(V::Null, V::Integer),
        Arg::Bool(b) => V::Integer(i64::from(*b)),
        Arg::Bytes(b) => V::Blob(b.clone()),
        // A list of plain strings always serialises.
        Arg::TextList(l) => V::Text(serde_json::to_string(l).unwrap_or_default()),
        Arg::Instant(t) => V::Integer(micros(*t)),
        Arg::OptInstant(t) => t.map_or(V::Null, |t| V::Integer(micros(t))),
        Arg::Day(d) => V::Text(day(*d)),
    }
}

fn lite_rows(c: &Connection, sql: Sql, args: &[Arg]) -> Result<Vec<ConnRow>, StoreError> {
    use rusqlite::types::ValueRef as R;
    let Some(text) = sql.sqlite() else {
        return Ok(Vec::new());
    };
    let mut stmt = c.prepare_cached(&text).map_err(map_err)?;
    let n = stmt.column_count();
    let params: Vec<rusqlite::types::Value> = args.iter().map(bind_lite).collect();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params))
        .map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(map_err)? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(match r.get_ref(i).map_err(map_err)? {
                R::Null => Val::Null,
                R::Integer(v) => Val::Int(v),
                R::Real(v) => return Err(StoreError::Corrupt(format!("column {i}: real {v}"))),
                R::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                R::Blob(b) => Val::Bytes(b.to_vec()),
            });
        }
        out.push(ConnRow(vals));
    }
    Ok(out)
}

#[async_trait]
impl Conn for LiteConn<'_> {
    async fn query(&mut self, sql: Sql, args: &[Arg]) -> Result<Vec<ConnRow>, StoreError> {
        lite_rows(self.c, sql, args)
    }

    async fn exec(&mut self, sql: Sql, args: &[Arg]) -> Result<u64, StoreError> {
        let Some(text) = sql.sqlite() else {
            return Ok(0);
        };
        let params: Vec<rusqlite::types::Value> = args.iter().map(bind_lite).collect();
        let n = self
            .c
            .prepare_cached(&text)
            .and_then(|mut s| s.execute(rusqlite::params_from_iter(params)))
            .map_err(map_err)?;
        Ok(n as u64)
    }

    async fn pipeline(&mut self, stmts: &[(Sql, Vec<Arg>)]) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::with_capacity(stmts.len());
        for (sql, args) in stmts {
            out.push(self.exec(*sql, args).await?);
        }
        Ok(out)
    }

    async fn each(&mut self, sql: Sql, args: &[Vec<Arg>]) -> Result<Vec<Vec<ConnRow>>, StoreError> {
        args.iter().map(|a| lite_rows(self.c, sql, a)).collect()
    }
}

#[async_trait]
impl Backend for Lite {
    async fn run_read<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        joined(
            tokio::task::spawn_blocking(move || {
                let mut c = inner.reader();
                let mut conn = LiteConn { c: &mut c };
                futures::executor::block_on(f(&mut conn))
            })
            .await,
        )
    }

    async fn run_autocommit<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        self.run_write(f).await
    }

    async fn run_write<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        joined(
            tokio::task::spawn_blocking(move || {
                in_write(&inner, |c| {
                    futures::executor::block_on(f(&mut LiteConn { c }))
                })
            })
            .await,
        )
    }
}
