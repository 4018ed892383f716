//! What a clerk sees when a register or the SMS gateway fails: a clear
//! refusal, and nothing released.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure aborts the test with its message"
)]

use okaz_sandbox::Fault;
use okaz_tests::Kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_contact_register_or_sms_gateway_refuses_clearly() {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;

    kit.sandbox.set_fault(
        "contacts",
        Fault {
            error_rate: 1.0,
            ..Fault::default()
        },
    );
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (502, Some("registry_unavailable")),
        "{}",
        r.body
    );
    kit.sandbox.clear_faults();

    kit.sandbox.set_fault(
        "sms",
        Fault {
            error_rate: 1.0,
            ..Fault::default()
        },
    );
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (503, Some("sms_unavailable")),
        "{}",
        r.body
    );
    kit.sandbox.clear_faults();
    assert!(
        kit.inbox(citizen.phone.as_deref().unwrap())
            .await
            .is_empty(),
        "no code was delivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_register_after_the_code_releases_nothing_and_the_code_can_be_retried() {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;

    kit.sandbox.set_fault(
        "persons",
        Fault {
            hang: true,
            ..Fault::default()
        },
    );
    let started = std::time::Instant::now();
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (502, Some("registry_unavailable")),
        "{}",
        r.body
    );
    assert!(r.body.get("document").is_none());
    // Bounded by the configured register timeout (2 s in the kit), not hung.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    kit.sandbox.clear_faults();
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(r.status, 200, "the challenge stayed open: {}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_register_answer_is_refused_without_release() {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;
    kit.sandbox.set_fault(
        "persons",
        Fault {
            malformed: true,
            ..Fault::default()
        },
    );
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (502, Some("registry_unavailable")),
        "{}",
        r.body
    );
    kit.sandbox.set_fault(
        "persons",
        Fault {
            oversized: true,
            ..Fault::default()
        },
    );
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (502, Some("registry_unavailable")),
        "{}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_recovers_when_its_database_connections_are_cut() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    assert_eq!(kit.get("/v1/me", Some(&token)).await.status, 200);

    // What a database restart does to the broker: every connection dies.
    let (admin, conn) = okaz_server::store::postgres::tls::connect(&okaz_tests::admin_url())
        .await
        .unwrap();
    tokio::spawn(conn);
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&kit.database],
        )
        .await
        .unwrap();
    assert!(!killed.is_empty(), "the broker had connections to cut");

    // The pool checks connections before use, so the next requests succeed,
    // and nothing the officer had is lost.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(kit.get("/v1/me", Some(&token)).await.status);
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&200), "recovered: {statuses:?}");
    let r = kit.ops_get("/readyz").await;
    assert_eq!(r.status, 200);
}
