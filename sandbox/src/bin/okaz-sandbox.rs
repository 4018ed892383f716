//! `okaz-sandbox`: serves synthetic registers, a Kannel-compatible SMS gateway
//! and phones' inboxes over HTTPS until ctrl-c or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use okaz_sandbox::{Fault, Faults, Sandbox, SandboxOptions};

/// Synthetic state registers for okaz development and tests.
#[derive(Debug, Parser)]
#[command(name = "okaz-sandbox", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443", env = "OKAZ_SANDBOX_LISTEN")]
    listen: SocketAddr,
    /// Number of synthetic citizens.
    #[arg(long, default_value_t = 1_000_000)]
    population: u64,
    /// Seed of the population.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the CA certificate PEM here, for clients to trust.
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Latency per register: `REGISTER=MS` (repeatable; `all` or `sms` allowed).
    #[arg(long = "latency", value_name = "REGISTER=MS")]
    latency: Vec<String>,
    /// Error rate per register: `REGISTER=0.5`.
    #[arg(long = "error-rate", value_name = "REGISTER=RATE")]
    error_rate: Vec<String>,
    /// Registers that never answer.
    #[arg(long = "hang", value_name = "REGISTER")]
    hang: Vec<String>,
    /// Registers that answer malformed bodies.
    #[arg(long = "malformed", value_name = "REGISTER")]
    malformed: Vec<String>,
    /// Registers that answer oversized bodies.
    #[arg(long = "oversized", value_name = "REGISTER")]
    oversized: Vec<String>,
    /// Make the SMS gateway refuse every message (503).
    #[arg(long)]
    sms_refuse: bool,
}

fn faults(a: &Args) -> anyhow::Result<Faults> {
    let mut by: std::collections::BTreeMap<String, Fault> = Default::default();
    let check = |r: &str| -> anyhow::Result<String> {
        anyhow::ensure!(Faults::known_target(r), "unknown register {r:?}");
        Ok(r.to_string())
    };
    for kv in &a.latency {
        let (r, v) = kv.split_once('=').context("--latency wants REGISTER=MS")?;
        by.entry(check(r)?).or_default().latency_ms = v.parse().context("--latency MS")?;
    }
    for kv in &a.error_rate {
        let (r, v) = kv
            .split_once('=')
            .context("--error-rate wants REGISTER=RATE")?;
        let rate: f64 = v.parse().context("--error-rate RATE")?;
        anyhow::ensure!(
            (0.0..=1.0).contains(&rate),
            "--error-rate must be within 0..=1"
        );
        by.entry(check(r)?).or_default().error_rate = rate;
    }
    for r in &a.hang {
        by.entry(check(r)?).or_default().hang = true;
    }
    for r in &a.malformed {
        by.entry(check(r)?).or_default().malformed = true;
    }
    for r in &a.oversized {
        by.entry(check(r)?).or_default().oversized = true;
    }
    if a.sms_refuse {
        by.entry("sms".into()).or_default().error_rate = 1.0;
    }
    let mut f = Faults::none();
    for (r, fault) in by {
        f.set(&r, fault);
    }
    Ok(f)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let opts = SandboxOptions {
        listen: args.listen,
        population: args.population,
        seed: args.seed,
        faults: faults(&args)?,
    };
    let sandbox = Sandbox::start(opts).await.context("starting the sandbox")?;
    if let Some(path) = &args.ca_out {
        std::fs::write(path, &sandbox.ca_pem)
            .with_context(|| format!("writing the CA to {}", path.display()))?;
    }
    println!("{}", sandbox.base_url());
    stop_signal().await;
    sandbox.shutdown().await;
    Ok(())
}
