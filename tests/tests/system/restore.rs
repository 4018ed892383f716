//! The backup and restore runbook of `docs/operations.md`, followed step by
//! step: a dump taken while checks run, restored into a new database,
//! `okaz-server audit verify` passes on it, and an officer logs in to a
//! broker on the restored database and completes a check.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::{fresh_database, run_ok, Kit};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dump_taken_under_load_restores_verifies_and_serves() {
    let kit = Arc::new(Kit::start().await);
    let citizens = kit
        .citizens_with(&["adult", "valid_id", "contactable"], 3)
        .await;
    for c in &citizens {
        kit.activate(&c.pesel).await;
    }
    // The officer who will log in after the restore never logs in before,
    // so no TOTP step of the kit's clock is already used.
    let after = kit.officer("clerk", "U1").await;

    // Checks keep running on the live database while the dump is taken.
    let stop = Arc::new(AtomicBool::new(false));
    let flows = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for c in citizens.iter().take(2).cloned() {
        let (kit, stop, flows) = (kit.clone(), stop.clone(), flows.clone());
        load.push(tokio::spawn(async move {
            let clerk = kit.officer("clerk", "U1").await;
            let token = kit.login(&clerk).await;
            let phone = c.phone.clone().unwrap();
            while !stop.load(Ordering::SeqCst) {
                let r = kit
                    .start_check(&token, &c.pesel, "id_card", "age_check")
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                let id = r.body["id"].as_str().unwrap().to_string();
                let code = kit.latest_code(&phone).await;
                let r = kit.give_code(&token, &id, &code).await;
                assert_eq!(r.status, 200, "{}", r.body);
                flows.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while flows.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Runbook, backup: pg_dump --format=custom.
    let dump = kit.dir.path().join("okaz.dump");
    let before = flows.load(Ordering::SeqCst);
    run_ok(
        Command::new("pg_dump")
            .arg("--format=custom")
            .arg("--file")
            .arg(&dump)
            .arg(&kit.database_url),
    );
    let during = flows.load(Ordering::SeqCst) - before;
    stop.store(true, Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    println!(
        "dump: {} bytes, taken while {during} checks completed ({} in all)",
        std::fs::metadata(&dump).unwrap().len(),
        flows.load(Ordering::SeqCst)
    );

    // Runbook, restore: a new database, pg_restore --no-owner.
    let (restored_url, restored) = fresh_database().await;
    run_ok(
        Command::new("pg_restore")
            .arg("--no-owner")
            .arg("--exit-on-error")
            .arg("--dbname")
            .arg(&restored_url)
            .arg(&dump),
    );

    // The same configuration and the same key files, the restored database.
    let config = kit.dir.path().join("okaz.toml");
    let verified = run_ok(
        kit.server_cmd()
            .args(["audit", "verify"])
            .env("OKAZ_DATABASE_URL", &restored_url),
    );
    println!("restored into {restored}: {}", verified.trim());
    assert!(verified.contains("audit trail intact"), "{verified}");
    run_ok(
        kit.server_cmd()
            .arg("migrate")
            .env("OKAZ_DATABASE_URL", &restored_url),
    );

    // Runbook, smoke test: a broker on the restored database; an officer
    // logs in and completes a check.
    let replica = Replica::spawn_with(
        &config,
        &kit.dir.path().join("restored.pem"),
        ReplicaOptions {
            log: "warn".into(),
            env: vec![("OKAZ_DATABASE_URL".into(), restored_url.clone())],
            ..ReplicaOptions::default()
        },
    );
    let ready = okaz_tests::plain_get(&format!("{}/readyz", replica.ops_url))
        .await
        .unwrap();
    assert_eq!(ready.status, 200);
    let token = replica.login(&after).await;
    // A citizen activated before the dump is still activated: the
    // pseudonyms open with the same key.
    let c = &citizens[2];
    let start =
        json!({"subject": {"pesel": c.pesel}, "document": "id_card", "purpose": "age_check"});
    let r = replica
        .post("/v1/verifications", Some(&token), &start)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(c.phone.as_deref().unwrap()).await;
    let r = replica
        .post(
            &format!("/v1/verifications/{id}/code"),
            Some(&token),
            &json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    println!(
        "restored broker: {} logged in and completed a check",
        after.login
    );
}
