//! A load generator running full flows against a real broker, PostgreSQL
//! and sandbox over HTTPS: login, start a check, read the code from the
//! citizen's phone, confirm. Reports latency percentiles and throughput.
//!
//! `cargo run --release -p okaz-tests --example load -- [officers] [flows-per-officer]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a measuring tool"
)]

use std::time::{Duration, Instant};

use futures::future::join_all;
use okaz_tests::Kit;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    if d.is_empty() {
        return;
    }
    println!(
        "{name:<22} n={:<5} p50={:>7.1?} p95={:>7.1?} max={:>7.1?}",
        d.len(),
        percentile(&d, 0.5),
        percentile(&d, 0.95),
        d[d.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let officers = args.first().copied().unwrap_or(8);
    let flows = args.get(1).copied().unwrap_or(10);
    let kit = Kit::start().await;
    let citizens = kit
        .citizens_with(&["adult", "valid_id", "contactable"], officers)
        .await;
    for c in &citizens {
        kit.activate(&c.pesel).await;
    }
    // Logins run one after another: the kit's broker runs on a manual clock
    // that each login steps by one TOTP period.
    let mut clerks = Vec::new();
    let mut login = Vec::new();
    for _ in 0..officers {
        let clerk = kit.officer("clerk", "LOAD").await;
        let t = Instant::now();
        let token = kit.login(&clerk).await;
        login.push(t.elapsed());
        clerks.push(token);
    }

    let began = Instant::now();
    let per_officer = clerks.iter().zip(&citizens).map(|(token, citizen)| {
        let kit = &kit;
        async move {
            let (mut start, mut confirm) = (Vec::new(), Vec::new());
            for _ in 0..flows {
                let t = Instant::now();
                let r = kit
                    .start_check(token, &citizen.pesel, "id_card", "identity_confirmation")
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                start.push(t.elapsed());
                let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;
                let t = Instant::now();
                let r = kit
                    .give_code(token, r.body["id"].as_str().unwrap(), &code)
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
                confirm.push(t.elapsed());
            }
            (start, confirm)
        }
    });
    let results = join_all(per_officer).await;
    let total = began.elapsed();
    let (mut start, mut confirm) = (Vec::new(), Vec::new());
    for (s, c) in results {
        start.extend(s);
        confirm.extend(c);
    }
    let n = start.len();
    println!("{officers} officers x {flows} full flows, concurrently, on this machine:");
    report("login (argon2id+TOTP)", login);
    report("start (count+SMS)", start);
    report("confirm (code+fetch)", confirm);
    println!(
        "throughput: {:.1} full flows/s ({n} flows in {:.2?})",
        n as f64 / total.as_secs_f64(),
        total
    );
}
