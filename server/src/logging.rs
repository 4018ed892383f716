//! The log filter: `OKAZ_LOG` (tracing's `EnvFilter` syntax, `info` by
//! default), with the database driver pinned below debug whatever it says.
//! tokio-postgres logs, at debug, every statement with its parameters
//! (PESEL pseudonyms, officers' logins, sealed codes); those must never reach
//! a log, so `OKAZ_LOG=debug` or `trace` (even `tokio_postgres=trace`)
//! leaves the driver at `info`.

use tracing_subscriber::EnvFilter;

/// Directives added after the operator's, so they win for these targets.
pub const PINNED: &[&str] = &["tokio_postgres=info", "postgres_protocol=info"];

/// The filter for a spec such as `debug` or `okaz_server=trace`; a spec
/// that does not parse falls back to `info`.
pub fn filter(spec: Option<&str>) -> EnvFilter {
    let base = spec
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    PINNED
        .iter()
        .filter_map(|d| d.parse().ok())
        .fold(base, EnvFilter::add_directive)
}

/// The filter from `OKAZ_LOG`.
pub fn from_env() -> EnvFilter {
    filter(std::env::var("OKAZ_LOG").ok().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_driver_stays_below_debug_whatever_the_spec() {
        for spec in [
            "debug",
            "trace",
            "tokio_postgres=trace",
            "trace,tokio_postgres=debug",
        ] {
            let f = filter(Some(spec)).to_string();
            assert!(f.contains("tokio_postgres=info"), "{spec}: {f}");
            assert!(!f.contains("tokio_postgres=trace"), "{spec}: {f}");
            assert!(!f.contains("tokio_postgres=debug"), "{spec}: {f}");
        }
    }
}
