//! The audit log against real parts: the broker's integrator and stores
//! (PostgreSQL and SQLite), `okaz-witness` as its own process with its own
//! state directory, and an independent Python verifier of inclusion
//! proofs. (Two broker processes writing into one tree: `tests/tests/
//! system/transparency.rs`, with real `okaz-server serve` replicas.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step must stop the test loudly"
)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::Engine;
use okaz_core::audit::{AuditEntry, AuditEvent};
use okaz_core::ports::Store;
use okaz_core::tlog;
use okaz_protocol::DocumentType;
use okaz_server::config::{AuditConfig, WitnessConfig};
use okaz_server::tlog::Transparency;
use okaz_tlog::note::{Checkpoint, Note, Verifier};

const ORIGIN: &str = "okaz.test/audit";

fn log_key(dir: &Path) -> (AuditConfig, String) {
    let path = dir.join("log.key");
    let public = okaz_server::tlog::init_log_key(&path, ORIGIN).unwrap();
    (
        AuditConfig {
            log_key_file: path,
            origin: ORIGIN.into(),
            checkpoint_interval_ms: 100,
            checkpoint_refresh_secs: 60,
            witnesses: Vec::new(),
        },
        public,
    )
}

async fn fill(s: &dyn Store, from: i64, n: i64, actor: &str) {
    let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    for i in from..from + n {
        s.append_audit(
            AuditEntry::new(
                t0 + chrono::Duration::seconds(i),
                AuditEvent::DocumentReleased,
                actor,
                "U1",
            )
            .about("ps", DocumentType::IdCard, "age_check")
            .verification(&format!("v-{actor}-{i}")),
        )
        .await
        .unwrap();
    }
}

async fn verify_log(
    s: &dyn Store,
    log: &Verifier,
    witness: &Verifier,
) -> Result<tlog::VerifyReport, tlog::TrailError> {
    let trust = tlog::Trust {
        log,
        origin: ORIGIN,
        witnesses: std::slice::from_ref(witness),
        outside: None,
    };
    tlog::verify(s, s, &trust).await
}

/// Must-show 3 (and 2 with a real witness): the witness cosigns honest
/// extensions; after an insider rewrites a record and rebuilds the tree,
/// the witness refuses the next checkpoint, the broker raises the alarm,
/// and `verify` fails against the cosigned checkpoint.
async fn witness_refuses_a_forked_log(url: &str, pg: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (mut cfg, public) = log_key(dir.path());
    cfg.checkpoint_refresh_secs = 1;
    let witness = okaz_tests::WitnessProcess::start(&public);
    cfg.witnesses.push(WitnessConfig {
        url: witness.url.clone(),
        key: witness.key.clone(),
    });
    let store = okaz_store::open(url, 4).await.unwrap();
    let t = Transparency::new(&cfg, Arc::clone(&store)).unwrap();
    fill(&*store, 0, 20, "o-a").await;
    t.run_once().await.unwrap();
    fill(&*store, 20, 13, "o-b").await;
    let pass = t.run_once().await.unwrap();
    assert_eq!(pass.head.unwrap().size, 33);
    let cps = store.checkpoints(10).await.unwrap();
    assert_eq!(cps.len(), 2);
    assert!(
        cps.iter().all(|c| c.cosignatures.len() == 1),
        "every checkpoint was cosigned by the witness process"
    );
    assert!(!t.status.alarm.load(Ordering::Relaxed));
    let log_v = Verifier::parse(&public).unwrap();
    let w_v = Verifier::parse(&witness.key).unwrap();
    assert_eq!(
        verify_log(&*store, &log_v, &w_v).await.unwrap().cosigned,
        Some(33)
    );
    // Idle: past `checkpoint_refresh_secs` the same checkpoint is signed
    // again and the witness process cosigns it afresh; the store keeps one
    // checkpoint and one cosignature for the size.
    let cosigned_at = |cp: &tlog::StoredCheckpoint| {
        let mut note = Note::parse(&cp.note).unwrap();
        note.signatures = cp.cosignatures.clone();
        w_v.verify(&note).unwrap()
    };
    let before = cosigned_at(&store.checkpoints(1).await.unwrap()[0]);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(t.run_once().await.unwrap().added, 0);
    let cps = store.checkpoints(10).await.unwrap();
    assert_eq!(cps.len(), 2, "nothing new stored");
    assert_eq!(cps[0].cosignatures.len(), 1);
    assert!(cosigned_at(&cps[0]) > before, "cosigned afresh");
    assert!(!t.status.alarm.load(Ordering::Relaxed));

    // The insider rewrites record 5 of o-a, rehashes its chain and head,
    // and rebuilds the tree from the rewritten records.
    let chain = store.audit_chain("o-a").await.unwrap();
    let mut stmts = okaz_tests::rewrite_as_refused(&chain, 4, "o-a");
    // The insider also drops the stored checkpoints so the log signs anew.
    stmts.push("DELETE FROM audit_cosignatures".into());
    stmts.push("DELETE FROM audit_checkpoints".into());
    if pg {
        okaz_tests::connect(url)
            .await
            .batch_execute(&stmts.join(";\n"))
            .await
            .unwrap();
    } else {
        let path = url.strip_prefix("sqlite://").unwrap();
        rusqlite_exec(path, &stmts.join(";\n"));
    }
    fill(&*store, 33, 5, "o-c").await;
    t.run_once().await.unwrap();
    assert!(
        t.status.alarm.load(Ordering::Relaxed),
        "the witness refused and the broker raised the alarm"
    );
    assert!(t.status.render().contains("okaz_tlog_witness_alarm 1"));
    assert!(t
        .status
        .render()
        .contains("okaz_tlog_witness_refusals_total 1"));
    // No cosignature for the forked checkpoint.
    let latest = &store.checkpoints(1).await.unwrap()[0];
    assert_eq!((latest.size, latest.cosignatures.len()), (38, 0));
}

fn rusqlite_exec(path: &str, stmt: &str) {
    // The witness crate does not link rusqlite; the sqlite3 shell does it.
    let out = Command::new("sqlite3").arg(path).arg(stmt).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("sqlite3: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("the sqlite3 shell is needed for this test: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_witness_process_refuses_a_forked_log_and_the_broker_raises_the_alarm() {
    let (url, _) = okaz_tests::fresh_database().await;
    witness_refuses_a_forked_log(&url, true).await;
    okaz_tests::drop_database(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_witness_process_refuses_a_forked_log_and_the_broker_raises_the_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("okaz.db").display());
    witness_refuses_a_forked_log(&url, false).await;
}

/// The independent Python verifier of inclusion proofs, run on one proof file.
fn python_verifier(file: &Path) -> std::process::Output {
    Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/verify_inclusion.py"
        ))
        .arg(file)
        .output()
        .unwrap()
}

/// Must-show 4: an inclusion proof verifies with an independent
/// implementation (Python, RFC 9162 §2.1.3.2), not only with ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inclusion_proof_verifies_in_python() {
    let (url, _) = okaz_tests::fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let (cfg, public) = log_key(dir.path());
    let store = okaz_store::open(&url, 4).await.unwrap();
    let t = Transparency::new(&cfg, Arc::clone(&store)).unwrap();
    fill(&*store, 0, 77, "o-a").await;
    t.run_once().await.unwrap();
    let note = Note::parse(&store.checkpoints(1).await.unwrap()[0].note).unwrap();
    Verifier::parse(&public).unwrap().verify(&note).unwrap();
    let cp = Checkpoint::parse_body(&note.text).unwrap();
    let leaves = store.leaves().await.unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for leaf in [0u64, 1, 38, 64, 76] {
        let r = &leaves[leaf as usize].1;
        let proof = tlog::inclusion(&*store, leaf, cp.size).await.unwrap();
        let doc = serde_json::json!({
            "leaf_index": leaf,
            "tree_size": cp.size,
            // The receipt's leaf is the record's canonical content hashed.
            "leaf_data": b64.encode(serde_json::to_vec(&r.entry).unwrap()),
            "proof": proof.iter().map(|h| b64.encode(h)).collect::<Vec<_>>(),
            "root": b64.encode(cp.root),
        });
        let file = dir.path().join(format!("proof-{leaf}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = python_verifier(&file);
        assert!(
            out.status.success(),
            "python verifier refused leaf {leaf}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // And a forged proof is refused by it too.
        let mut forged = doc.clone();
        forged["leaf_data"] = serde_json::json!(b64.encode(b"forged"));
        std::fs::write(&file, forged.to_string()).unwrap();
        let out = python_verifier(&file);
        assert!(!out.status.success());
    }
    drop(store);
    drop(t);
    okaz_tests::drop_database(&url).await;
}
