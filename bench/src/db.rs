//! The bench database: creating it, its counters (`pg_stat_database`,
//! `pg_stat_statements`), and pgbench on the flow's statements.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio_postgres::{Client, NoTls};

/// The database the bench creates (dropped first if a previous run left it).
pub const BENCH_DB: &str = "okaz_bench";

/// A monitoring connection to the server's `postgres` database, so that its
/// own queries never count as the bench database's transactions.
pub struct Monitor {
    client: Client,
    /// Whether `pg_stat_statements` is loaded and usable.
    pub statements: bool,
    /// The bench database's URL (what the brokers use).
    pub bench_url: String,
    /// The server's admin URL.
    pub admin_url: String,
}

async fn connect(url: &str) -> Result<Client> {
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {url}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

impl Monitor {
    /// Connects to the server at `admin_url`, creates a fresh bench
    /// database, and enables `pg_stat_statements` where it is preloaded.
    pub async fn prepare(admin_url: &str) -> Result<Monitor> {
        let mut url = url::Url::parse(admin_url).context("the database URL")?;
        url.set_path("/postgres");
        let admin_url = url.to_string();
        let client = connect(&admin_url).await?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"),
            format!("CREATE DATABASE {BENCH_DB}"),
        ] {
            client
                .batch_execute(&sql)
                .await
                .context("creating the bench database")?;
        }
        let preload: String = client
            .query_one("SHOW shared_preload_libraries", &[])
            .await?
            .get(0);
        let statements = preload.contains("pg_stat_statements")
            && client
                .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                .await
                .is_ok();
        url.set_path(&format!("/{BENCH_DB}"));
        Ok(Monitor {
            client,
            statements,
            bench_url: url.to_string(),
            admin_url,
        })
    }

    /// The postmaster's pid: the parent of this connection's backend.
    pub async fn postmaster_pid(&self) -> Result<u32> {
        let backend: i32 = self
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .await?
            .get(0);
        let stat = crate::procs::stat(&backend.to_string()).with_context(|| {
            "reading the backend's /proc entry (is PostgreSQL on this machine?)"
        })?;
        Ok(stat.ppid)
    }

    /// Server version and the settings that matter for commit cost.
    pub async fn describe(&self) -> Result<String> {
        let mut parts = Vec::new();
        for name in [
            "server_version",
            "fsync",
            "synchronous_commit",
            "shared_buffers",
        ] {
            let v: String = self
                .client
                .query_one(&format!("SHOW {name}"), &[])
                .await?
                .get(0);
            parts.push(if name == "server_version" {
                format!("PostgreSQL {v}")
            } else {
                format!("{name}={v}")
            });
        }
        parts.push(format!(
            "pg_stat_statements {}",
            if self.statements { "on" } else { "off" }
        ));
        Ok(parts.join(", "))
    }

    /// Committed plus rolled-back transactions of the bench database so far.
    ///
    /// Backends publish these counters late, so callers wait
    /// [`STATS_SETTLE`] after the load stops.
    pub async fn transactions(&self) -> Result<i64> {
        let row = self
            .client
            .query_one(
                "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = $1",
                &[&BENCH_DB],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Empties `pg_stat_statements` (a no-op without it).
    pub async fn reset_statements(&self) -> Result<()> {
        if self.statements {
            self.client
                .batch_execute("SELECT pg_stat_statements_reset()")
                .await?;
        }
        Ok(())
    }

    /// Calls per normalised statement of the bench database since the last
    /// reset, most called first; `None` without `pg_stat_statements`.
    pub async fn statements(&self) -> Result<Option<Vec<(String, i64)>>> {
        if !self.statements {
            return Ok(None);
        }
        let rows = self
            .client
            .query(
                "SELECT regexp_replace(query, '\\s+', ' ', 'g'), calls::bigint
                 FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
                 ORDER BY calls DESC, query",
                &[&BENCH_DB],
            )
            .await?;
        Ok(Some(rows.iter().map(|r| (r.get(0), r.get(1))).collect()))
    }

    /// Runs the setup block of the pgbench script on the bench database.
    pub async fn run_setup(&self, sql: &str) -> Result<()> {
        let bench = connect(&self.bench_url).await?;
        bench
            .batch_execute(sql)
            .await
            .context("the pgbench script's setup block")?;
        Ok(())
    }
}

/// How long to wait after the broker's load stops before reading
/// `pg_stat_database`: a backend publishes its counters when it goes idle,
/// but at most once a second, and one that was held back by that limit
/// publishes only after 10 s of idleness (PostgreSQL's idle stats timeout).
pub const STATS_SETTLE: Duration = Duration::from_secs(11);

/// The same for load whose connections close at the end (pgbench): an
/// exiting backend publishes its counters at once.
pub const EXIT_SETTLE: Duration = Duration::from_millis(1500);

/// Is a statement transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`)?
pub fn is_transaction_control(query: &str) -> bool {
    let q = query.trim().trim_end_matches(';').to_ascii_uppercase();
    matches!(
        q.as_str(),
        "BEGIN" | "COMMIT" | "ROLLBACK" | "START TRANSACTION"
    )
}

/// The pgbench script: the flow statements, and the setup block between
/// `-- @setup begin` and `-- @setup end` (comment lines, run once, with
/// `:clients` replaced by the number of clients).
pub struct Script {
    /// The file pgbench runs.
    pub path: std::path::PathBuf,
    /// The setup SQL.
    pub setup: String,
}

impl Script {
    /// Reads the script and its setup block.
    pub fn load(path: &Path, clients: usize) -> Result<Script> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the pgbench script {}", path.display()))?;
        let mut setup = String::new();
        let mut inside = false;
        for line in text.lines() {
            let l = line.trim();
            if l == "-- @setup begin" {
                inside = true;
            } else if l == "-- @setup end" {
                inside = false;
            } else if inside {
                let sql = l.strip_prefix("--").unwrap_or(l);
                setup.push_str(sql.strip_prefix(' ').unwrap_or(sql));
                setup.push('\n');
            }
        }
        if setup.trim().is_empty() {
            bail!(
                "{}: no `-- @setup begin` … `-- @setup end` block",
                path.display()
            );
        }
        Ok(Script {
            path: path.to_path_buf(),
            setup: setup.replace(":clients", &clients.to_string()),
        })
    }
}

/// What pgbench reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PgbenchResult {
    /// Script runs per second (pgbench's "tps").
    pub runs_per_second: f64,
    /// Script runs done.
    pub runs: u64,
    /// Failed runs.
    pub failed: u64,
    /// Mean latency of one run, ms.
    pub latency_ms: f64,
    /// pgbench's summary, as printed.
    pub summary: String,
}

/// Runs pgbench with `script` against the bench database.
pub async fn pgbench(
    bin: &Path,
    admin_url: &str,
    script: &Path,
    clients: usize,
    seconds: u64,
    mode: &str,
) -> Result<PgbenchResult> {
    let url = url::Url::parse(admin_url)?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(clients.max(1));
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["-n", "-M", mode, "-f"])
        .arg(script)
        .args(["-c", &clients.to_string(), "-j", &threads.to_string()])
        .args(["-T", &seconds.to_string()])
        .args(["-D", &format!("clients={clients}")])
        .env("PGHOST", url.host_str().unwrap_or("127.0.0.1"))
        .env("PGPORT", url.port().unwrap_or(5432).to_string())
        .env("PGUSER", url.username())
        .env("PGDATABASE", BENCH_DB)
        .kill_on_drop(true);
    if let Some(pw) = url.password() {
        cmd.env("PGPASSWORD", pw);
    }
    let out = cmd
        .output()
        .await
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "pgbench failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    parse_pgbench(&stdout)
}

fn parse_pgbench(stdout: &str) -> Result<PgbenchResult> {
    let number_after = |key: &str| -> Option<f64> {
        stdout.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(key)?;
            rest.split_whitespace().next()?.parse().ok()
        })
    };
    let Some(tps) = number_after("tps = ") else {
        bail!("no tps in pgbench's output:\n{stdout}");
    };
    Ok(PgbenchResult {
        runs_per_second: tps,
        runs: number_after("number of transactions actually processed: ")
            .map(|v| v as u64)
            .unwrap_or(0),
        failed: number_after("number of failed transactions: ")
            .map(|v| v as u64)
            .unwrap_or(0),
        latency_ms: number_after("latency average = ").unwrap_or(0.0),
        summary: stdout.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbench_summary_is_read() {
        let out = "transaction type: flow.sql\nnumber of clients: 4\n\
            number of transactions actually processed: 1200\n\
            number of failed transactions: 0 (0.000%)\n\
            latency average = 13.3 ms\n\
            initial connection time = 5.1 ms\n\
            tps = 300.12 (without initial connection time)\n";
        let r = parse_pgbench(out).unwrap();
        assert_eq!(r.runs, 1200);
        assert_eq!(r.failed, 0);
        assert!((r.runs_per_second - 300.12).abs() < 1e-9);
        assert!((r.latency_ms - 13.3).abs() < 1e-9);
    }

    #[test]
    fn transaction_control_is_told_apart() {
        assert!(is_transaction_control("BEGIN"));
        assert!(is_transaction_control("commit;"));
        assert!(!is_transaction_control("SELECT 1"));
    }
}
