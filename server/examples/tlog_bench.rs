//! Benchmark of the audit log's integrator on PostgreSQL (not a test):
//! records per second folded into the tree, and the latency an audit
//! append (what a verification's transaction adds) has with the integrator
//! running beside it versus the per-officer chains alone.
//!
//! `OKAZ_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!  cargo run --release -p okaz-server --example tlog_bench [-- RECORDS]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use okaz_core::audit::{AuditEntry, AuditEvent};
use okaz_core::ports::Store;
use okaz_protocol::DocumentType;

fn entry(i: usize, actor: &str) -> AuditEntry {
    AuditEntry::new(
        chrono::Utc::now(),
        AuditEvent::DocumentReleased,
        actor,
        "U1",
    )
    .about("pseudonym", DocumentType::IdCard, "age_check")
    .verification(&format!("v-{i}"))
    .released(vec!["photo".into(), "given_names".into()])
}

/// Appends `n` records from 8 concurrent writers; per-append latencies.
async fn appends(store: &Arc<dyn Store>, n: usize, tag: &str) -> Result<Vec<Duration>> {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = Arc::clone(store);
        let actor = format!("{tag}-{w}");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n / 8);
            for i in 0..n / 8 {
                let t = Instant::now();
                store.append_audit(entry(i, &actor)).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, okaz_core::ports::StoreError>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    Ok(all)
}

fn summary(name: &str, lat: &[Duration]) {
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
    println!(
        "{name:<44} n={:<6} mean={:>7.3}ms p50={:>7.3}ms p99={:>7.3}ms",
        lat.len(),
        mean.as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(8000);
    let admin = std::env::var("OKAZ_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let (c, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .context("PostgreSQL")?;
    tokio::spawn(conn);
    let db = format!("okaz_bench_{}", uuid::Uuid::new_v4().simple());
    c.batch_execute(&format!("CREATE DATABASE {db}")).await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&db);
    let store = okaz_store::open(url.as_str(), 16).await?;

    // 1. Appends with no integrator running: the chains alone.
    let alone = appends(&store, n, "a").await?;
    summary("audit append, integrator off", &alone);

    // 2. Integrator throughput over that backlog.
    let t = Instant::now();
    let mut total = 0usize;
    while let Some((_, added)) = store.integrate(okaz_server::tlog::BATCH).await? {
        total += added;
        if added == 0 {
            break;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "integrator: {total} records in {secs:.3}s = {:.0} records/s (batches of {})",
        total as f64 / secs,
        okaz_server::tlog::BATCH
    );

    // 3. Appends while an integrator runs every 100 ms beside them.
    let stop = Arc::new(AtomicBool::new(false));
    let integrator = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut folded = 0usize;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(Some((_, added))) = store.integrate(okaz_server::tlog::BATCH).await {
                    folded += added;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            folded
        })
    };
    let with = appends(&store, n, "b").await?;
    stop.store(true, Ordering::Relaxed);
    let folded = integrator.await?;
    summary("audit append, integrator every 100 ms", &with);
    println!("integrator kept up: folded {folded} of {n} while they were written");
    let mean = |l: &[Duration]| l.iter().sum::<Duration>().as_secs_f64() / l.len() as f64;
    println!(
        "added latency per append: {:+.3}ms mean",
        (mean(&with) - mean(&alone)) * 1e3
    );
    drop(store);
    c.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await?;
    Ok(())
}
