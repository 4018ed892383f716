//! Two broker replicas behind Debian's HAProxy, configured by
//! `deploy/haproxy/haproxy.cfg` (TLS passthrough, health checks on each
//! replica's operations listener `/readyz`), under a steady load of full
//! flows (start, read the SMS, give the code), restarted one after the
//! other (SIGTERM, drain, start): no request fails, and every officer's
//! daily count is exactly the checks they started.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::{HttpClient, Kit, Options};
use serde_json::json;

const LIMIT: u64 = 400;
const WORKERS: usize = 3;

fn haproxy_binary() -> PathBuf {
    [
        "/usr/sbin/haproxy",
        "/usr/bin/haproxy",
        "/usr/local/sbin/haproxy",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .unwrap_or_else(|| {
        panic!(
            "HAProxy is not installed (Debian: apt-get install haproxy); scripts/test installs it"
        )
    })
}

/// HAProxy in the foreground; stopped when dropped.
struct Haproxy(Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One replica slot: fixed ports, so HAProxy's `server` line stays valid
/// across restarts, as it would on a host.
struct Slot {
    listen: String,
    ops: String,
}

fn start_replica(config: &Path, cert: &Path, key: &Path, slot: &Slot) -> Replica {
    Replica::spawn_with(
        config,
        cert,
        ReplicaOptions {
            listen: slot.listen.clone(),
            ops_listen: slot.ops.clone(),
            tls: Some((cert.to_path_buf(), key.to_path_buf())),
            log: "warn".to_string(),
            // Above HAProxy's inter x fall (500 ms x 2) plus the check timeout (2 s).
            env: vec![("OKAZ_SERVER_SHUTDOWN_DELAY_SECS".into(), "4".into())],
        },
    )
}

/// HAProxy's view of the backend servers: name and status (UP, DOWN, …).
async fn lb_status(stats: &str) -> Vec<(String, String)> {
    let Ok(r) = okaz_tests::plain_get(&format!("{stats}/stats;csv")).await else {
        return Vec::new();
    };
    r.text
        .lines()
        .filter(|l| l.starts_with("okaz_brokers,b"))
        .map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            (cols[1].to_string(), cols[17].to_string())
        })
        .collect()
}

async fn wait_until_up(stats: &str, server: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = lb_status(stats).await;
        if s.iter().any(|(n, st)| n == server && st == "UP") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{server} never came UP: {s:?}\nHAProxy said:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests a replica has answered, from its own metrics.
async fn served_by(replica: &Replica) -> u64 {
    let m = okaz_tests::plain_get(&format!("{}/metrics", replica.ops_url))
        .await
        .unwrap();
    m.text
        .lines()
        .filter(|l| l.starts_with("okaz_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    flows: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, what: String) {
        self.failures.lock().unwrap().push(what);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_behind_haproxy_restart_one_after_the_other_without_a_failed_request() {
    let haproxy = haproxy_binary();
    let kit = Arc::new(
        Kit::start_with(Options {
            policy_edits: vec![("daily_limit = 100".into(), format!("daily_limit = {LIMIT}"))],
            ..Options::default()
        })
        .await,
    );
    // One certificate for both replicas, as behind one name in production.
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = kit.dir.path().join("lb-cert.pem");
    let key = kit.dir.path().join("lb-key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    // Mode 600: the broker refuses a TLS key others may read.
    okaz_tests::write_private(&key, ck.key_pair.serialize_pem().as_bytes());
    let config = kit.dir.path().join("okaz.toml");

    let slots: Vec<Slot> = (0..2)
        .map(|_| Slot {
            listen: format!("127.0.0.1:{}", okaz_tests::free_port()),
            ops: format!("127.0.0.1:{}", okaz_tests::free_port()),
        })
        .collect();
    let mut replicas: Vec<Replica> = slots
        .iter()
        .map(|s| start_replica(&config, &cert, &key, s))
        .collect();

    let lb_port = okaz_tests::free_port();
    let lb_log = kit.dir.path().join("haproxy.log");
    let stats = format!("http://127.0.0.1:{}", okaz_tests::free_port());
    let port_of = |a: &str| a.rsplit(':').next().unwrap().to_string();
    let _lb = Haproxy(
        Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(okaz_tests::workspace().join("deploy/haproxy/haproxy.cfg"))
            .env("OKAZ_LB_BIND", format!("127.0.0.1:{lb_port}"))
            .env("OKAZ_B1", &slots[0].listen)
            .env("OKAZ_B2", &slots[1].listen)
            .env("OKAZ_B1_OPS_PORT", port_of(&slots[0].ops))
            .env("OKAZ_B2_OPS_PORT", port_of(&slots[1].ops))
            .env("OKAZ_LB_STATS", stats.trim_start_matches("http://"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&lb_log).unwrap()))
            .spawn()
            .unwrap(),
    );
    wait_until_up(&stats, "b1", &lb_log).await;
    wait_until_up(&stats, "b2", &lb_log).await;
    let lb = format!("https://127.0.0.1:{lb_port}");
    let cert_pem = std::fs::read(&cert).unwrap();

    // Each worker is one officer checking one citizen, over and over.
    let citizens = kit
        .citizens_with(&["adult", "valid_id", "contactable"], WORKERS)
        .await;
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for citizen in citizens {
        kit.activate(&citizen.pesel).await;
        let officer = kit.officer("clerk", "U1").await;
        let http = HttpClient::new(&[&cert_pem]);
        let token = http.login_now(&lb, &officer).await;
        let (kit, tally, stop, lb) = (kit.clone(), tally.clone(), stop.clone(), lb.clone());
        workers.push(tokio::spawn(async move {
            let phone = citizen.phone.clone().unwrap();
            let start = json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"}).to_string();
            let mut started = 0u64;
            while !stop.load(Ordering::SeqCst) && started < LIMIT {
                started += 1;
                tally.requests.fetch_add(1, Ordering::SeqCst);
                let r = http
                    .try_request("POST", &format!("{lb}/v1/verifications"), Some(&token), Some(start.clone().into_bytes()))
                    .await;
                let id = match r {
                    Ok(r) if r.status == 201 => r.body["id"].as_str().unwrap().to_string(),
                    Ok(r) => { tally.fail(format!("start: {} {}", r.status, r.body)); continue; }
                    Err(e) => { tally.fail(format!("start: {e}")); continue; }
                };
                let code = kit.latest_code(&phone).await;
                tally.requests.fetch_add(1, Ordering::SeqCst);
                let body = json!({"code": code}).to_string();
                match http
                    .try_request("POST", &format!("{lb}/v1/verifications/{id}/code"), Some(&token), Some(body.into_bytes()))
                    .await
                {
                    Ok(r) if r.status == 200 => { tally.flows.fetch_add(1, Ordering::SeqCst); }
                    Ok(r) => tally.fail(format!("code: {} {}", r.status, r.body)),
                    Err(e) => tally.fail(format!("code: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            (officer, token, http, started)
        }));
    }

    // Let the load settle, then restart b1, then b2, each only once the
    // other is UP again in HAProxy's eyes.
    while tally.flows.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (i, name) in ["b1", "b2"].iter().enumerate() {
        let before = tally.flows.load(Ordering::SeqCst);
        let served = served_by(&replicas[i]).await;
        assert!(served > 0, "{name} carried part of the load");
        let mut old = replicas.remove(i);
        let t = Instant::now();
        let status = tokio::task::spawn_blocking(move || {
            let s = old.terminate();
            (s, old.logs())
        })
        .await
        .unwrap();
        assert!(
            status.0.success(),
            "{name} exited with {}: {}",
            status.0,
            status.1
        );
        let stopped_in = t.elapsed();
        replicas.insert(i, start_replica(&config, &cert, &key, &slots[i]));
        wait_until_up(&stats, name, &lb_log).await;
        let during = tally.flows.load(Ordering::SeqCst) - before;
        println!(
            "restarted {name} (had answered {served} requests): drained and stopped in {} ms, back UP after {} ms; {during} flows completed meanwhile",
            stopped_in.as_millis(),
            t.elapsed().as_millis()
        );
        assert!(during > 0, "the load ran while {name} restarted");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut finished = Vec::new();
    for w in workers {
        finished.push(w.await.unwrap());
    }

    let failures = tally.failures.lock().unwrap().clone();
    println!(
        "rolling restart: {} requests, {} flows completed, {} failed requests",
        tally.requests.load(Ordering::SeqCst),
        tally.flows.load(Ordering::SeqCst),
        failures.len()
    );
    assert!(failures.is_empty(), "failed requests: {failures:#?}");

    // Exact counts: each officer's quota says exactly the checks started;
    // then one officer goes on to the limit, and is refused exactly there.
    for (officer, token, http, started) in &finished {
        let me = http
            .request("GET", &format!("{lb}/v1/me"), Some(token), None)
            .await;
        assert_eq!(me.status, 200, "{}", me.body);
        let used = me.body["quota"]["used"].as_u64().unwrap();
        println!("{}: started {started}, quota used {used}", officer.login);
        assert_eq!(used, *started, "{}: count is exact", officer.login);
    }
    let (officer, token, http, started) = &finished[0];
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    let start =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"})
            .to_string();
    let mut accepted = *started;
    loop {
        let r = http
            .request(
                "POST",
                &format!("{lb}/v1/verifications"),
                Some(token),
                Some(start.clone().into_bytes()),
            )
            .await;
        if r.status == 201 {
            accepted += 1;
            continue;
        }
        assert_eq!(r.status, 423, "{}", r.body);
        assert_eq!(r.body["code"], "daily_limit_exceeded", "{}", r.body);
        break;
    }
    println!(
        "{}: refused at the limit after {accepted} accepted checks (limit {LIMIT})",
        officer.login
    );
    assert_eq!(accepted, LIMIT);
}
