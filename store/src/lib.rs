//! The okaz stores: PostgreSQL (the reference) and embedded SQLite, both
//! implementing [`okaz_core::ports::Store`] and proved alike by one
//! conformance suite (`tests/store_conformance.rs`).
//!
//! Written once: a concern's transactions are one generic implementation
//! for [`Db<B>`] over a thin connection (`conn.rs`): statements in `$n`
//! form (SQLite reads them as `?n`), values as `Arg`/`Row` that each store
//! maps to its own column types, and a `Backend` that runs a read, a write
//! transaction, or autocommit statements. Chosen over a statement table or
//! a textual rewrite alone because the stores differ more in their values
//! (uuid, timestamptz, date, text[] against text and integer microseconds)
//! and in how work runs (async pool against a blocking connection) than in
//! their SQL. PostgreSQL-only parts stay explicit at the statement:
//! `Sql::Split` (casts, `FOR UPDATE SKIP LOCKED`), `Sql::PgOnly` (advisory
//! locks), `Sql::LiteOnly` (a check PostgreSQL folds into a `WITH`), `Conn::each`/`Conn::pipeline` (pipelining).
//!
//! Written once so far: audit, activations, notices and disputes,
//! idempotency, retention and TOTP re-sealing, throttle and portal
//! revocations, break-glass, quota, officers and sessions (with the
//! officer lock and the challenge insert the others share). Still per
//! store (`postgres/`, `sqlite/`): challenges and the transparency log;
//! they append audit records, lock officers and read channel choices
//! through the shared code. `Sql::LiteOnly` marks a check PostgreSQL folds
//! into its next statement.

mod activations;
mod audit;
mod break_glass;
mod challenges;
mod conn;
mod idempotency;
mod notices;
mod officers;
pub mod postgres;
mod quota;
mod retention;
pub mod sqlite;
mod throttle;

pub use conn::Db;

use std::sync::Arc;

use okaz_core::audit::{AuditEvent, Outcome};
use okaz_core::ports::{Store, StoreError};

/// Opens the store a database URL names, and brings its schema up to date:
/// `postgres://…` (or `postgresql://…`) for PostgreSQL; `sqlite://PATH` for
/// an embedded SQLite file (`sqlite:///abs/path.db` or
/// `sqlite://relative.db`), created if missing; `sqlite::memory:` for a
/// private in-memory database (tests, throw-away demos).
pub async fn open(url: &str, pool_size: usize) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url, pool_size).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else if let Some(path) = sqlite_path(url) {
        let store = sqlite::SqliteStore::open(path, pool_size).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        Err(StoreError::Unavailable(
            "unsupported database URL: expected postgres://… or sqlite://PATH".to_string(),
        ))
    }
}

/// The SQLite path a URL names (`:memory:` for an in-memory database), or
/// `None` if the URL is not a SQLite one or names no file.
fn sqlite_path(url: &str) -> Option<&str> {
    if url == "sqlite::memory:" || url == "sqlite://:memory:" {
        return Some(":memory:");
    }
    url.strip_prefix("sqlite://").filter(|p| !p.is_empty())
}

/// The typed event and outcome of a stored record. A name no version of
/// okaz writes means the row was altered: reported, never guessed at.
pub(crate) fn typed(
    id: i64,
    event: &str,
    outcome: &str,
) -> Result<(AuditEvent, Outcome), StoreError> {
    let e = AuditEvent::parse(event).ok_or_else(|| {
        StoreError::Corrupt(format!("audit record {id}: unknown event {event:?}"))
    })?;
    let o = Outcome::parse(outcome).ok_or_else(|| {
        StoreError::Corrupt(format!("audit record {id}: unknown outcome {outcome:?}"))
    })?;
    Ok((e, o))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_urls_name_a_path() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/okaz/okaz.db"),
            Some("/var/lib/okaz/okaz.db")
        );
        assert_eq!(sqlite_path("sqlite://okaz.db"), Some("okaz.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), Some(":memory:"));
        assert_eq!(sqlite_path("sqlite://:memory:"), Some(":memory:"));
        assert_eq!(sqlite_path("sqlite://"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }
}
