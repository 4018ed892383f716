//! The thin connection both stores share, so a concern's transaction is
//! written once ([`Db`]) and runs on either database.
//!
//! Why a connection trait, not a statement table or a rewrite alone: the
//! two stores differ less in their SQL (most statements are the same text
//! once `$n` reads `?n`) than in their values (PostgreSQL's `uuid`,
//! `timestamptz`, `date` and `integer` against SQLite's text and integer
//! microseconds) and in how a transaction is run (an async pooled client
//! against a blocking connection on `spawn_blocking`). [`Arg`] and [`Row`]
//! absorb the values, [`Backend`] the running; what is left, the
//! transaction's logic, then exists once. Where the dialects do differ
//! ([`Sql::Split`]) or PostgreSQL can do better (pipelining: [`Conn::each`])
//! it says so at the statement.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;

use okaz_core::ports::StoreError;

/// A statement, written in PostgreSQL's `$n` form.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sql {
    /// The same text on both; SQLite reads `$n` as `?n`.
    Same(&'static str),
    /// PostgreSQL only (an advisory lock SQLite's single writer makes
    /// needless): SQLite skips it.
    PgOnly(&'static str),
    /// SQLite only (a check PostgreSQL folds into the next statement, as
    /// one `WITH` that SQLite cannot write): PostgreSQL skips it.
    LiteOnly(&'static str),
    /// The dialects differ (casts, `GREATEST`, `SKIP LOCKED`): each its own.
    Split {
        /// PostgreSQL's text.
        pg: &'static str,
        /// SQLite's text (already in `?n` form).
        sqlite: &'static str,
    },
}

impl Sql {
    /// PostgreSQL's text (`None`: not run there).
    pub(crate) fn pg(self) -> Option<&'static str> {
        match self {
            Sql::Same(s) | Sql::PgOnly(s) | Sql::Split { pg: s, .. } => Some(s),
            Sql::LiteOnly(_) => None,
        }
    }

    /// SQLite's text (`None`: not run there): `$n` placeholders become
    /// `?n`, since SQLite reads `$1` as a *named* parameter numbered by
    /// first appearance, which would bind `$2 … $1` in the wrong order.
    pub(crate) fn sqlite(self) -> Option<String> {
        match self {
            Sql::Same(s) | Sql::LiteOnly(s) => Some(s.replace('$', "?")),
            Sql::PgOnly(_) => None,
            Sql::Split { sqlite, .. } => Some(sqlite.to_string()),
        }
    }
}

/// A value bound to a statement, as the core has it; each store turns it
/// into its column type (an [`Arg::Instant`] is `timestamptz` on
/// PostgreSQL and integer microseconds on SQLite).
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// Text (also a `uuid` column on PostgreSQL).
    Text(String),
    /// Text or NULL.
    OptText(Option<String>),
    /// An integer (narrowed to the column's width on PostgreSQL).
    Int(i64),
    /// An integer or NULL.
    OptInt(Option<i64>),
    /// A boolean (0 or 1 on SQLite).
    Bool(bool),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A list of text (`text[]` on PostgreSQL, JSON text on SQLite).
    TextList(Vec<String>),
    /// An instant.
    Instant(DateTime<Utc>),
    /// An instant or NULL.
    OptInstant(Option<DateTime<Utc>>),
    /// A business day.
    Day(NaiveDate),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<DateTime<Utc>> for Arg {
    fn from(t: DateTime<Utc>) -> Arg {
        Arg::Instant(t)
    }
}

impl From<bool> for Arg {
    fn from(b: bool) -> Arg {
        Arg::Bool(b)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}

impl From<u32> for Arg {
    fn from(v: u32) -> Arg {
        Arg::Int(i64::from(v))
    }
}

/// A column value read back, whichever store it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// NULL.
    Null,
    /// An integer (and SQLite's instants, booleans).
    Int(i64),
    /// Text (and PostgreSQL's `uuid`, printed lower-case hyphenated).
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A boolean (PostgreSQL).
    Bool(bool),
    /// A list of text (PostgreSQL's `text[]`).
    TextList(Vec<String>),
    /// An instant (PostgreSQL).
    Instant(DateTime<Utc>),
    /// A day (PostgreSQL).
    Day(NaiveDate),
}

/// One row read back; the typed getters accept either store's form.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub(crate) Vec<Val>);

impl Row {
    fn at(&self, i: usize) -> Result<&Val, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Corrupt(format!("column {i} missing")))
    }

    fn wrong(i: usize, v: &Val, want: &str) -> StoreError {
        StoreError::Corrupt(format!("column {i}: {want} expected, got {v:?}"))
    }

    /// Column `i` as an integer.
    pub(crate) fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.at(i)? {
            Val::Int(v) => Ok(*v),
            v => Err(Self::wrong(i, v, "integer")),
        }
    }

    /// Column `i` as a count: never negative in the schema, so a negative
    /// or oversized value is reported as corruption, not wrapped.
    pub(crate) fn count(&self, i: usize) -> Result<u32, StoreError> {
        let v = self.int(i)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("count out of range {v}")))
    }

    /// Column `i` as a count or NULL.
    pub(crate) fn opt_count(&self, i: usize) -> Result<Option<u32>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.count(i).map(Some),
        }
    }

    /// Column `i` as a boolean or NULL.
    pub(crate) fn opt_bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.bool(i).map(Some),
        }
    }

    /// Column `i` as text.
    pub(crate) fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.at(i)? {
            Val::Text(s) => Ok(s.clone()),
            v => Err(Self::wrong(i, v, "text")),
        }
    }

    /// Column `i` as text or NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as a boolean (SQLite keeps 0 or 1).
    pub(crate) fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.at(i)? {
            Val::Bool(b) => Ok(*b),
            Val::Int(0) => Ok(false),
            Val::Int(1) => Ok(true),
            v => Err(Self::wrong(i, v, "boolean")),
        }
    }

    /// Column `i` as a list of text (SQLite keeps it as JSON).
    pub(crate) fn text_list(&self, i: usize) -> Result<Vec<String>, StoreError> {
        match self.at(i)? {
            Val::TextList(l) => Ok(l.clone()),
            Val::Text(json) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}"))),
            v => Err(Self::wrong(i, v, "list of text")),
        }
    }

    /// Column `i` as bytes.
    pub(crate) fn bytes(&self, i: usize) -> Result<Vec<u8>, StoreError> {
        match self.at(i)? {
            Val::Bytes(b) => Ok(b.clone()),
            v => Err(Self::wrong(i, v, "bytes")),
        }
    }

    /// Column `i` as an instant (SQLite keeps microseconds since the epoch).
    pub(crate) fn instant(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        match self.at(i)? {
            Val::Instant(t) => Ok(*t),
            Val::Int(us) => DateTime::from_timestamp_micros(*us)
                .ok_or_else(|| StoreError::Corrupt(format!("instant out of range {us}"))),
            v => Err(Self::wrong(i, v, "instant")),
        }
    }

    /// Column `i` as an instant or NULL.
    pub(crate) fn opt_instant(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.at(i)? {
            Val::Null => Ok(None),
            _ => self.instant(i).map(Some),
        }
    }
}

/// One open connection (in a transaction for writes).
#[async_trait]
pub(crate) trait Conn: Send {
    /// Runs a statement; the rows it returns.
    async fn query(&mut self, sql: Sql, args: &[Arg]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement; the number of rows it changed.
    async fn exec(&mut self, sql: Sql, args: &[Arg]) -> Result<u64, StoreError>;
    /// Runs one statement once per argument list, independent of each
    /// other: PostgreSQL pipelines them (one round trip), SQLite runs them
    /// in turn. The rows of each, in order.
    async fn each(&mut self, sql: Sql, args: &[Vec<Arg>]) -> Result<Vec<Vec<Row>>, StoreError>;

    /// Runs statements that return no rows, in order and each once:
    /// PostgreSQL pipelines them (one round trip), SQLite runs them in
    /// turn. The rows each changed.
    async fn pipeline(&mut self, stmts: &[(Sql, Vec<Arg>)]) -> Result<Vec<u64>, StoreError>;

    /// At most one row.
    async fn opt(&mut self, sql: Sql, args: &[Arg]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, args).await?.into_iter().next())
    }
}

/// A unit of work: one read, or one write transaction, on a connection.
pub(crate) trait Work<T>:
    for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

impl<T, F> Work<T> for F where
    F: for<'c> FnOnce(&'c mut dyn Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static
{
}

/// How a store runs a unit of work: reads on a plain connection, writes in
/// one transaction committed if the work succeeds and rolled back if not.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// Runs `f` on a read connection.
    async fn run_read<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError>;
    /// Runs `f` in one write transaction.
    async fn run_write<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError>;
    /// Runs `f`, whose statements each stand alone (one write, or
    /// independent idempotent ones): on PostgreSQL each commits on its own
    /// (no BEGIN and COMMIT round trips), on SQLite they share one write
    /// transaction, as every SQLite write does.
    async fn run_autocommit<T: Send + 'static, F: Work<T>>(&self, f: F) -> Result<T, StoreError>;
}

/// A store over a backend: the concerns written once are implemented for
/// every `Db<B>`, the rest per backend (`Db<Pg>`, `Db<Lite>`).
#[derive(Clone)]
pub struct Db<B> {
    pub(crate) b: B,
}

impl<B> std::ops::Deref for Db<B> {
    type Target = B;

    fn deref(&self) -> &B {
        &self.b
    }
}

/// The upsert's single row, or why there is none.
pub(crate) fn returned(row: Option<Row>) -> Result<Row, StoreError> {
    row.ok_or_else(|| StoreError::Unavailable("upsert returned no row".into()))
}

/// An id in its canonical form (PostgreSQL's `uuid` prints lower-case
/// hyphenated, and SQLite keeps that text); one that is not a UUID names
/// no row.
pub(crate) fn id(id: &str) -> Result<Arg, StoreError> {
    uuid::Uuid::parse_str(id)
        .map(|u| Arg::Text(u.to_string()))
        .map_err(|_| StoreError::Conflict("not an id".to_string()))
}
