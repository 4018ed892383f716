//! `okaz-bench`: the load driver of `scripts/bench`.
//!
//! Given a PostgreSQL server (the script starts a throwaway one), it spawns
//! the release `okaz-sandbox` and `okaz-server` binaries as separate
//! processes, creates officers (the first with the `okaz-server officer add`
//! CLI, the rest through the admin API) and activated citizens, logs the
//! officers in with real TOTP codes, keeps a number of full flows in flight
//! for a fixed time, and reports throughput, latency, CPU per flow of each
//! process and database work per flow; then runs pgbench on the same
//! statements (`bench/flow.pgbench.sql`). `--logins` adds a window with
//! logins queued alongside the flows, `--replicas 2` one with two brokers.

mod client;
mod db;
mod load;
mod procs;
mod report;
mod setup;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;

use crate::client::Client;
use crate::db::{Monitor, Script, EXIT_SETTLE, STATS_SETTLE};
use crate::load::{Target, Window, Worker};
use crate::procs::{CpuUsed, Service, Watched};
use crate::report::{LoginReport, PgbenchReport, Report, RunReport, Setup};
use crate::setup::Stage;

/// Full flows against the real broker, with pgbench side by side.
#[derive(Debug, Parser)]
#[command(name = "okaz-bench")]
struct Args {
    /// Admin URL of a PostgreSQL server on this machine; the bench creates
    /// (and first drops) the database `okaz_bench` there.
    #[arg(long, env = "OKAZ_BENCH_DATABASE_URL")]
    database_url: String,
    /// Where the release `okaz-server` and `okaz-sandbox` are (default: beside this binary).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// The policy directory to copy (clerks' daily limit is raised).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies"))]
    policies: PathBuf,
    /// Officers the flows use (flow `i` runs as officer `i mod officers`).
    #[arg(long, default_value_t = 32)]
    officers: usize,
    /// Flows kept in flight (each with its own citizen).
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Length of each measured window, seconds.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Warm-up before a window, seconds.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Database connections per broker (`[database] pool_size`).
    #[arg(long, default_value_t = 16)]
    pool_size: usize,
    /// Size of the sandbox's synthetic population.
    #[arg(long, default_value_t = 100_000)]
    population: u64,
    /// Also measure logins: argon2id logins queued while flows run.
    #[arg(long)]
    logins: bool,
    /// Logins kept queued at once in the login window.
    #[arg(long, default_value_t = 32)]
    login_concurrency: usize,
    /// Officers taking turns to log in (each can log in three times at
    /// first, then once per 30 s TOTP step: a code is never accepted twice).
    #[arg(long, default_value_t = 400)]
    login_officers: usize,
    /// Length of the login window, seconds.
    #[arg(long, default_value_t = 15)]
    login_duration: u64,
    /// Also run the flows on this many broker replicas on one database.
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// The pgbench binary.
    #[arg(long, default_value = "pgbench")]
    pgbench: PathBuf,
    /// The pgbench script mirroring a flow's statements.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/flow.pgbench.sql"))]
    pgbench_script: PathBuf,
    /// pgbench's query mode (`-M`): `prepared` prepares each statement once per connection, as the store does.
    #[arg(long, default_value = "prepared")]
    pgbench_mode: String,
    /// Skip pgbench.
    #[arg(long)]
    no_pgbench: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn say(what: &str) {
    eprintln!("okaz-bench: {what}");
}

/// The running processes and what the flows need.
struct Bench {
    args: Args,
    bin_dir: PathBuf,
    stage: Stage,
    config: PathBuf,
    monitor: Monitor,
    sandbox: Service,
    brokers: Vec<Service>,
    roots: Vec<Vec<u8>>,
    postmaster: u32,
    target: Arc<Target>,
    workers: Vec<Worker>,
    admin_token: String,
}

impl Bench {
    fn watched(&self) -> Watched {
        Watched {
            brokers: self.brokers.iter().map(Service::pid).collect(),
            sandbox: self.sandbox.pid(),
            postmaster: self.postmaster,
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        self.sandbox.check_alive()?;
        for b in &mut self.brokers {
            b.check_alive()?;
        }
        Ok(())
    }

    /// A warm-up, then one measured window; `during` runs alongside the
    /// measured flows (the login stream).
    async fn measure<F, T>(&mut self, seconds: u64, during: F) -> Result<(RunReport, T)>
    where
        F: std::future::Future<Output = T>,
    {
        if self.args.warmup > 0 {
            let warm =
                load::run_flows(self.target.clone(), &self.workers, secs(self.args.warmup)).await;
            if warm.flows == 0 {
                self.check_alive()?;
                bail!("no flow completed in the warm-up: {:?}", warm.errors);
            }
        }
        tokio::time::sleep(STATS_SETTLE).await;
        let watched = self.watched();
        let tx0 = self.monitor.transactions().await?;
        self.monitor.reset_statements().await?;
        let cpu0 = watched.snapshot()?;
        let (window, extra): (Window, T) = tokio::join!(
            load::run_flows(self.target.clone(), &self.workers, secs(seconds)),
            during
        );
        let cpu1 = watched.snapshot()?;
        tokio::time::sleep(STATS_SETTLE).await;
        let tx1 = self.monitor.transactions().await?;
        let statements = self.monitor.statements().await?;
        self.check_alive()?;
        let cpu = CpuUsed::between(&watched, &cpu0, &cpu1);
        Ok((
            RunReport::new(self.brokers.len(), &window, cpu, tx1 - tx0, statements),
            extra,
        ))
    }

    async fn pgbench(&self, main: &RunReport) -> Result<PgbenchReport> {
        let a = &self.args;
        let clients = a.in_flight;
        let script = Script::load(&a.pgbench_script, clients)?;
        // The broker's backends have been idle since the main window's
        // settle; only the setup connection's counters are still due.
        self.monitor.run_setup(&script.setup).await?;
        tokio::time::sleep(EXIT_SETTLE).await;
        let watched = self.watched();
        let tx0 = self.monitor.transactions().await?;
        self.monitor.reset_statements().await?;
        let cpu0 = watched.snapshot()?;
        let result = db::pgbench(
            &a.pgbench,
            &self.monitor.admin_url,
            &script.path,
            clients,
            a.duration,
            &a.pgbench_mode,
        )
        .await?;
        let cpu1 = watched.snapshot()?;
        tokio::time::sleep(EXIT_SETTLE).await;
        let tx1 = self.monitor.transactions().await?;
        let statements = self.monitor.statements().await?;
        let cpu = CpuUsed::between(&watched, &cpu0, &cpu1);
        let runs = result.runs.max(1) as f64;
        Ok(PgbenchReport {
            script: script.path.display().to_string(),
            clients,
            seconds: a.duration,
            mode: a.pgbench_mode.clone(),
            ratio: main.flows_per_second / result.runs_per_second.max(1e-9),
            transactions_per_run: (tx1 - tx0) as f64 / runs,
            statements_per_run: statements
                .map(|s| s.iter().map(|(_, c)| *c).sum::<i64>() as f64 / runs),
            postgres_cpu_ms_per_run: cpu.postgres * 1000.0 / runs,
            pgbench_cpu_ms_per_run: cpu.driver_children * 1000.0 / runs,
            result,
        })
    }

    async fn logins(&mut self) -> Result<LoginReport> {
        let a = &self.args;
        let (n, concurrency, seconds) = (a.login_officers, a.login_concurrency, a.login_duration);
        say(&format!("creating {n} officers for the login window"));
        let broker = self.target.brokers[0].clone();
        let officers = setup::create_clerks(
            &self.target.client,
            &broker,
            &self.admin_token,
            "bench.login.",
            n,
        )
        .await?;
        let pool = Arc::new(Mutex::new(officers.into_iter().collect::<VecDeque<_>>()));
        say(&format!(
            "login window: {seconds} s of flows with {concurrency} logins queued"
        ));
        let logins = load::run_logins(self.target.clone(), pool, concurrency, secs(seconds));
        let (flows, logins) = self.measure(seconds, logins).await?;
        Ok(LoginReport::new(concurrency, n, logins, flows))
    }

    async fn replicas(&mut self) -> Result<RunReport> {
        let n = self.args.replicas;
        for i in self.brokers.len()..n {
            say(&format!("starting broker replica {}", i + 1));
            let (b, pem) = self.stage.broker(&self.config, i + 1)?;
            self.brokers.push(b);
            self.roots.push(pem);
        }
        self.target = Arc::new(Target {
            client: Client::new(&self.roots)?,
            brokers: self.brokers.iter().map(|b| b.url.clone()).collect(),
            sandbox: self.target.sandbox.clone(),
        });
        for (i, w) in self.workers.iter_mut().enumerate() {
            w.broker = i % n;
        }
        say(&format!("{n}-broker window: {} s", self.args.duration));
        let (r, ()) = self.measure(self.args.duration, async {}).await?;
        Ok(r)
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

async fn start(args: Args) -> Result<Bench> {
    if args.officers == 0 || args.in_flight == 0 || args.replicas == 0 {
        bail!("--officers, --in-flight and --replicas must be at least 1");
    }
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the driver's directory")?
            .to_path_buf(),
    };
    let stage = Stage::new(&bin_dir)?;
    if cfg!(debug_assertions) {
        say("warning: this driver is a debug build; its numbers mean nothing (scripts/bench builds in release)");
    }
    say(&format!("work directory {}", stage.dir.path().display()));
    let monitor = Monitor::prepare(&args.database_url).await?;
    let postmaster = monitor.postmaster_pid().await?;

    say("starting okaz-sandbox");
    let sandbox = stage.sandbox(args.population)?;
    let config = stage.write_config(
        &monitor.bench_url,
        &sandbox.url,
        &args.policies,
        args.pool_size,
    )?;
    say("starting okaz-server");
    let (broker, broker_pem) = stage.broker(&config, 1)?;
    let sandbox_ca = std::fs::read(stage.path("sandbox-ca.pem"))?;
    let roots = vec![sandbox_ca, broker_pem];
    let target = Arc::new(Target {
        client: Client::new(&roots)?,
        brokers: vec![broker.url.clone()],
        sandbox: sandbox.url.clone(),
    });
    let broker_url = broker.url.clone();

    say("creating the security officer (okaz-server officer add)");
    let mut admin = stage.security_officer(&config)?;
    let admin_token = admin.login(&target.client, &broker_url).await?;
    say(&format!(
        "creating {} clerks (admin API) and logging them in",
        args.officers
    ));
    let mut clerks = setup::create_clerks(
        &target.client,
        &broker_url,
        &admin_token,
        "bench.clerk.",
        args.officers,
    )
    .await?;
    let mut tokens = Vec::with_capacity(clerks.len());
    for c in &mut clerks {
        tokens.push(c.login(&target.client, &broker_url).await?);
    }
    say(&format!(
        "activating {} citizens (okaz-server citizen activate)",
        args.in_flight
    ));
    let citizens = setup::find_citizens(&target.client, &target.sandbox, args.in_flight).await?;
    for c in &citizens {
        stage.server_cli(&config, &["citizen", "activate", &c.pesel])?;
    }
    let workers = citizens
        .into_iter()
        .enumerate()
        .map(|(i, citizen)| Worker {
            token: tokens[i % tokens.len()].clone(),
            citizen,
            broker: 0,
        })
        .collect();
    Ok(Bench {
        args,
        bin_dir,
        stage,
        config,
        monitor,
        sandbox,
        brokers: vec![broker],
        roots,
        postmaster,
        target,
        workers,
        admin_token,
    })
}

async fn run(args: Args) -> Result<Report> {
    let mut b = start(args).await?;
    let database = b.monitor.describe().await?;
    say(&format!(
        "main window: {} s of flows, {} in flight",
        b.args.duration, b.args.in_flight
    ));
    let (main, ()) = b.measure(b.args.duration, async {}).await?;
    let pgbench = if b.args.no_pgbench {
        None
    } else {
        say(&format!(
            "pgbench: {} s, {} clients",
            b.args.duration, b.args.in_flight
        ));
        Some(b.pgbench(&main).await?)
    };
    let logins = if b.args.logins {
        Some(b.logins().await?)
    } else {
        None
    };
    let replicas = if b.args.replicas > 1 {
        Some(b.replicas().await?)
    } else {
        None
    };
    let a = &b.args;
    Ok(Report {
        setup: Setup {
            officers: a.officers,
            in_flight: a.in_flight,
            duration_s: a.duration,
            warmup_s: a.warmup,
            broker_pool_size: a.pool_size,
            binaries: b.bin_dir.display().to_string(),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            database,
        },
        main,
        pgbench,
        logins,
        replicas,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let json = args.json;
    let report = run(args).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(())
}
