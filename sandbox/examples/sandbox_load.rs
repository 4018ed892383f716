//! Measures the sandbox: start time and memory at a population of N, then
//! requests per second served to K concurrent adapter clients for D seconds.
//!
//! `cargo run --release -p okaz-sandbox --example sandbox_load -- [N] [K] [D]`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use okaz_protocol::DocumentType;
use okaz_registry::{RegisterClient, RegistryConfig};
use okaz_sandbox::{citizen, Faults, Sandbox, SandboxOptions};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let k: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(32);
    let secs: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10);

    let rss0 = rss_kib();
    let t0 = Instant::now();
    let sb = Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse()?,
        population: n,
        seed: 1,
        faults: Faults::none(),
    })
    .await?;
    let started = t0.elapsed();
    let rss1 = rss_kib();
    println!(
        "population {n}: start {started:?}, RSS {rss0} KiB -> {rss1} KiB (+{} KiB)",
        rss1.saturating_sub(rss0)
    );

    let client = RegisterClient::new(RegistryConfig {
        base_url: sb.base_url(),
        ca_pem: Some(sb.ca_pem.clone().into_bytes()),
        breaker_failures: u32::MAX,
        ..RegistryConfig::default()
    })?;
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for w in 0..k {
        let (client, done, failed) = (client.clone(), done.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = w as u64 * 7919;
            while Instant::now() < until {
                i = (i + 104_729) % n;
                let kind = if i.is_multiple_of(4) {
                    DocumentType::DrivingLicence
                } else {
                    DocumentType::IdCard
                };
                match client.fetch_document(&citizen(1, i).pesel, kind).await {
                    Ok(_) | Err(okaz_registry::RegistryError::NotFound { .. }) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let ok = done.load(Ordering::Relaxed);
    println!(
        "{k} clients x {secs}s: {ok} answers ({:.0} req/s), {} failures, RSS now {} KiB",
        ok as f64 / secs as f64,
        failed.load(Ordering::Relaxed),
        rss_kib()
    );
    sb.shutdown().await;
    Ok(())
}
