//! The audit trail as a witnessed transparency log, through the real
//! binaries: `okaz-server audit verify` names a deleted chain tail or chain
//! (exit 2); a rewritten and rehashed record fails against the checkpoint
//! the `okaz-witness` process cosigned; the witness refuses the forked log
//! and the broker raises the alarm on `/readyz` and `/metrics`; a release
//! carries a signed receipt whose leaf an independent verifier finds in
//! the witnessed tree.

use std::process::Command;

use base64::Engine;
use okaz_core::audit;
use okaz_protocol::Receipt;
use okaz_tests::{Kit, Options};
use okaz_tlog::note::{Checkpoint, Note, Verifier};

fn cli(kit: &Kit, args: &[&str]) -> (i32, String) {
    okaz_tests::run_said(kit.server_cmd().args(args))
}

/// Three released checks by one clerk; the clerk's id, the last answer
/// and the citizen's PESEL.
async fn three_checks(kit: &Kit) -> (String, serde_json::Value, String) {
    let (clerk, token, citizen) = kit.clerk_and_citizen("U1").await;
    let mut last = serde_json::Value::Null;
    for _ in 0..3 {
        let r = kit
            .start_check(&token, &citizen.pesel, "id_card", "age_check")
            .await;
        let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;
        last = kit
            .give_code(&token, r.body["id"].as_str().unwrap(), &code)
            .await
            .body;
    }
    let receipt = last["receipt"].to_string();
    assert!(
        last["receipt"].is_object(),
        "a release carries a receipt: {last}"
    );
    assert!(
        !receipt.contains(&citizen.pesel) && !receipt.contains(&citizen.name),
        "no PESEL or name in a receipt: {receipt}"
    );
    (clerk.id, last, citizen.pesel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_chain_tail_is_named_by_audit_verify() {
    let kit = Kit::start().await;
    let (clerk, _, _) = three_checks(&kit).await;
    kit.integrate().await;
    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 0, "{text}");
    kit.db()
        .await
        .execute(
            "DELETE FROM audit_log WHERE chain = $1 AND seq > 3",
            &[&clerk],
        )
        .await
        .unwrap();
    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains(&format!("audit chain {clerk}")) && text.contains("are missing"),
        "names the chain and the missing records: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_chain_is_named_by_audit_verify() {
    let kit = Kit::start().await;
    let (clerk, _, _) = three_checks(&kit).await;
    kit.integrate().await;
    kit.db()
        .await
        .execute("DELETE FROM audit_log WHERE chain = $1", &[&clerk])
        .await
        .unwrap();
    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains(&format!("audit chain {clerk}")) && text.contains("records 1..="),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashed_rewrite_fails_against_the_witness_cosigned_checkpoint_and_the_witness_refuses_the_fork(
) {
    let kit = Kit::start_with(Options {
        witness: true,
        ..Options::default()
    })
    .await;
    let (clerk, last, pesel) = three_checks(&kit).await;
    kit.integrate().await;
    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("cosigned checkpoint: size"), "{text}");
    let ready = kit.ops_get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    // An auditor keeps the cosigned checkpoint outside.
    let (status, kept) = cli(&kit, &["audit", "checkpoint"]);
    assert_eq!(status, 0, "{kept}");
    assert!(kept.contains("\u{2014} witness.test "), "cosigned: {kept}");
    let kept_file = kit.dir.path().join("kept-checkpoint");
    std::fs::write(&kept_file, &kept).unwrap();

    // The receipt of the last release names a leaf in the witnessed tree.
    // The citizen downloads it with its proof from the portal's history;
    // an independent verifier (Python, RFC 9162) checks the proof.
    let receipt: Receipt = serde_json::from_value(last["receipt"].clone()).unwrap();
    let published = kit.get("/v1/audit/checkpoint", None).await.body;
    let log_key = Verifier::parse(published["log_key"].as_str().unwrap()).unwrap();
    okaz_core::receipt::verify(&receipt, &log_key).unwrap();
    let mut citizen = kit.portal_agent();
    citizen.sign_in(&pesel).await;
    let history = citizen.get("/citizen/history").await;
    let links: Vec<&str> = history
        .text
        .split("href=\"/citizen/receipt?record=")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert_eq!(links.len(), 3, "one receipt per release: {}", history.text);
    assert_eq!(
        history.text.matches("class=\"note leaf\"").count(),
        3,
        "each integrated release shows its leaf index: {}",
        history.text
    );
    let mut download = None;
    for id in links {
        let page = citizen.get(&format!("/citizen/receipt?record={id}")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let doc: serde_json::Value = serde_json::from_str(&page.text).unwrap();
        if doc["receipt"]["leaf_hash"] == receipt.leaf_hash.as_str() {
            download = Some(doc);
        }
    }
    let download = download.expect("the release's receipt is in the history");
    assert!(
        !download.to_string().contains(&pesel),
        "no PESEL in the download"
    );
    assert_eq!(download["receipt"]["signature"], receipt.signature.as_str());
    assert_eq!(download["witnessed"], true, "{download}");
    let note = Note::parse(download["checkpoint"].as_str().unwrap()).unwrap();
    log_key.verify(&note).unwrap();
    let cp = Checkpoint::parse_body(&note.text).unwrap();
    let leaf = download["leaf_index"].as_u64().unwrap();
    let doc = serde_json::json!({
        "leaf_index": leaf,
        "tree_size": cp.size,
        "leaf_hash": receipt.leaf_hash,
        "proof": download["proof"],
        "root": base64::engine::general_purpose::STANDARD.encode(cp.root),
    });
    let file = kit.dir.path().join("receipt-proof.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(okaz_tests::workspace().join("witness/tests/verify_inclusion.py"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A security officer gets the same proof over the API.
    let security = kit.officer("security_officer", "U1").await;
    let sec = kit.login(&security).await;
    let proof = kit
        .get(
            &format!("/v1/audit/proof/inclusion?leaf={leaf}&size={}", cp.size),
            Some(&sec),
        )
        .await;
    assert_eq!(proof.status, 200, "{}", proof.body);
    assert_eq!(proof.body["proof"], download["proof"]);
    // Out-of-range proof requests get a problem.
    let bad = kit
        .get(
            &format!(
                "/v1/audit/proof/inclusion?leaf={}&size={}",
                cp.size, cp.size
            ),
            Some(&sec),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = kit
        .get("/v1/audit/proof/consistency?from=1&to=999999", Some(&sec))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);

    // The insider rewrites the clerk's second record, rehashes the chain
    // and its head, and rebuilds the tree from the rewritten records.
    let db = kit.db().await;
    let chain = kit.store.audit_chain(&clerk).await.unwrap();
    let stmts = okaz_tests::rewrite_as_refused(&chain, 1, &clerk);
    db.batch_execute(&stmts.join(";\n")).await.unwrap();
    kit.integrate().await;

    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains("checkpoint of size") && text.contains("rewritten"),
        "{text}"
    );
    let (status, text) = cli(
        &kit,
        &[
            "audit",
            "verify",
            "--checkpoint",
            kept_file.to_str().unwrap(),
        ],
    );
    assert_eq!(status, 2, "{text}");

    // More records (the security officer's, more checks): the next
    // checkpoint does not extend the cosigned one, the witness process
    // refuses it and the broker raises the alarm.
    three_checks(&kit).await;
    kit.integrate().await;
    let ready = kit.ops_get("/readyz").await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert!(ready.text.contains("audit log alarm"), "{}", ready.text);
    let metrics = kit.ops_get("/metrics").await;
    assert!(
        metrics.text.contains("okaz_tlog_witness_alarm 1"),
        "{}",
        metrics.text
    );
}

async fn audit_rows(db: &tokio_postgres::Client) -> u64 {
    let n: i64 = db
        .query_one("SELECT count(*) FROM audit_log", &[])
        .await
        .unwrap()
        .get(0);
    n as u64
}

/// Must-show 5: two `okaz-server serve` processes on one PostgreSQL
/// database answer 10,000 audited calls between them at once (security
/// officers' audit searches, each written as an audit record in the
/// request's transaction), while both run the integrator. The records end
/// in one tree whose root matches a recomputation from the leaves, every
/// checkpoint the two signed along the way is consistent with the next,
/// and `audit verify` passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_broker_processes_write_10000_records_into_one_consistent_tree() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use okaz_core::tlog;
    use okaz_tests::replica::{Replica, ReplicaOptions};
    use okaz_tlog::merkle;

    const RECORDS: usize = 10_000;
    const WORKERS: usize = 8;
    let kit = Kit::start().await;
    let options = || ReplicaOptions {
        log: "warn".to_string(),
        env: vec![("OKAZ_AUDIT_CHECKPOINT_INTERVAL_MS".into(), "100".into())],
        ..ReplicaOptions::default()
    };
    let replicas = [
        Replica::spawn_with(&kit.config_path, &kit.dir.path().join("a.pem"), options()),
        Replica::spawn_with(&kit.config_path, &kit.dir.path().join("b.pem"), options()),
    ];
    // One security officer per replica: two chains, written at once.
    let mut tokens = Vec::new();
    for r in &replicas {
        let o = kit.officer("security_officer", "U1").await;
        tokens.push(r.login(&o).await);
    }
    let db = kit.db().await;
    let before = audit_rows(&db).await;

    let left = Arc::new(AtomicUsize::new(RECORDS));
    let mut tasks = Vec::new();
    for (r, token) in replicas.iter().zip(&tokens) {
        for _ in 0..WORKERS {
            let (http, url, token, left) = (
                r.http.clone(),
                format!("{}/v1/admin/audit?officer=nobody&limit=1", r.url),
                token.clone(),
                Arc::clone(&left),
            );
            tasks.push(tokio::spawn(async move {
                let mut served = 0usize;
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let reply = http.request("GET", &url, Some(&token), None).await;
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    served += 1;
                }
                served
            }));
        }
    }
    let mut per_replica = [0usize; 2];
    for (i, t) in tasks.into_iter().enumerate() {
        per_replica[i / WORKERS] += t.await.unwrap();
    }
    assert_eq!(per_replica.iter().sum::<usize>(), RECORDS);
    assert!(
        per_replica.iter().all(|n| *n > 0),
        "both replicas wrote: {per_replica:?}"
    );
    let total = audit_rows(&db).await;
    assert!(total >= before + RECORDS as u64, "{before} then {total}");

    // The replicas' integrators fold the last records in (every 100 ms).
    let mut size = 0;
    for _ in 0..600 {
        size = kit.store.tree_size().await.unwrap();
        let signed = kit.store.checkpoints(1).await.unwrap();
        if size == total && signed.first().map(|c| c.size) == Some(total) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(size, total, "the replicas integrated every record");

    // One tree: its root is the root of the records' leaves, recomputed.
    let leaves: Vec<merkle::Hash> = kit
        .store
        .leaves()
        .await
        .unwrap()
        .iter()
        .map(|(_, r)| audit::leaf_hash(&r.entry))
        .collect();
    assert_eq!(leaves.len() as u64, total);
    let full: std::collections::HashMap<_, _> = merkle::append(0, &leaves, &Default::default())
        .unwrap()
        .into_iter()
        .collect();
    let root = merkle::root(total, &full).unwrap();
    assert_eq!(tlog::stored_root(&*kit.store, total).await.unwrap(), root);

    // Every checkpoint signed along the way, by either replica, verifies
    // with the log key and is consistent with the next.
    let log_key = Verifier::parse(&kit.tlog.verifier()).unwrap();
    let mut cps: Vec<Checkpoint> = kit
        .store
        .checkpoints(100_000)
        .await
        .unwrap()
        .iter()
        .map(|c| {
            let n = Note::parse(&c.note).unwrap();
            log_key.verify(&n).unwrap();
            Checkpoint::parse_body(&n.text).unwrap()
        })
        .collect();
    cps.reverse();
    assert!(
        cps.len() >= 3,
        "checkpoints were signed along the way: {}",
        cps.len()
    );
    let last = cps.last().unwrap();
    assert_eq!((last.size, last.root), (total, root));
    for w in cps.windows(2) {
        let p = tlog::consistency(&*kit.store, w[0].size, w[1].size)
            .await
            .unwrap();
        merkle::verify_consistency(w[0].size, w[1].size, &p, &w[0].root, &w[1].root)
            .unwrap_or_else(|e| panic!("{} -> {}: {e}", w[0].size, w[1].size));
    }
    println!(
        "{RECORDS} audited calls ({per_replica:?} per replica), tree of {total}, {} checkpoints",
        cps.len()
    );
    drop(replicas);
    let (status, text) = cli(&kit, &["audit", "verify"]);
    assert_eq!(status, 0, "{text}");
}

/// When `cp` was cosigned by the witness with this cosigner key.
fn cosigned_at(cp: &okaz_core::tlog::StoredCheckpoint, witness: &Verifier) -> u64 {
    let mut note = Note::parse(&cp.note).unwrap();
    note.signatures = cp.cosignatures.clone();
    witness.verify(&note).unwrap()
}

/// An idle log stays witnessed: with no new record, the latest checkpoint
/// is signed again after `checkpoint_refresh_secs` (1 s in the kit) and the
/// `okaz-witness` process cosigns it afresh with a newer timestamp, while
/// the store keeps one checkpoint and one cosignature for that size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_log_is_signed_again_and_cosigned_afresh_without_storing_more() {
    let kit = Kit::start_with(Options {
        witness: true,
        ..Options::default()
    })
    .await;
    let witness = Verifier::parse(&kit.witness.as_ref().unwrap().key).unwrap();
    kit.officer("clerk", "U1").await;
    let pass = kit.integrate().await;
    assert!(pass.added > 0);
    let first = kit.store.checkpoints(10).await.unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].cosignatures.len(), 1, "{first:?}");
    let t1 = cosigned_at(&first[0], &witness);

    // Nothing new comes in; the refresh interval passes.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let pass = kit.integrate().await;
    assert_eq!(pass.added, 0);
    let again = kit.store.checkpoints(10).await.unwrap();
    assert_eq!(again.len(), 1, "one checkpoint per size: {again:?}");
    assert_eq!(again[0].note, first[0].note, "the same tree signs the same");
    assert_eq!(
        again[0].cosignatures.len(),
        1,
        "the latest cosignature only"
    );
    let t2 = cosigned_at(&again[0], &witness);
    assert!(t2 > t1, "cosigned afresh: {t1} then {t2}");
    let metrics = kit.ops_get("/metrics").await;
    let signed: u64 = metrics
        .text
        .lines()
        .find_map(|l| l.strip_prefix("okaz_tlog_checkpoint_signed_timestamp_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    assert!(signed >= t2.saturating_sub(5), "{}", metrics.text);
    assert_eq!(
        kit.ops_get("/readyz").await.status,
        200,
        "an idle log is no alarm"
    );
}
