//! The daily limit: exact under concurrency (one broker and two broker
//! processes on one database), locking on excess, and resetting at local
//! midnight in Europe/Warsaw, on daylight-saving change days too.

use std::collections::BTreeMap;

use futures::future::join_all;
use okaz_tests::replica::Replica;
use okaz_tests::{warsaw, Kit, Options};
use serde_json::json;

fn limit(n: u32) -> Options {
    Options {
        policy_edits: vec![("daily_limit = 100".into(), format!("daily_limit = {n}"))],
        ..Options::default()
    }
}

fn tally(statuses: impl IntoIterator<Item = (u16, String)>) -> BTreeMap<(u16, String), usize> {
    let mut t = BTreeMap::new();
    for s in statuses {
        *t.entry(s).or_default() += 1;
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_starts_pass_exactly_the_limit_and_lock() {
    let kit = Kit::start_with(limit(50)).await;
    let clerk = kit.officer("clerk", "U1").await;
    let citizen = kit.citizen(&["valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token = kit.login(&clerk).await;

    let starts = (0..200).map(|_| kit.start_check(&token, &citizen.pesel, "id_card", "age_check"));
    let replies = join_all(starts).await;
    let t = tally(
        replies
            .iter()
            .map(|r| (r.status, r.body["code"].as_str().unwrap_or("").to_string())),
    );
    let accepted = t.get(&(201, String::new())).copied().unwrap_or(0);
    assert_eq!(accepted, 50, "exactly the limit passes: {t:?}");
    assert!(
        t.keys().all(|(s, c)| *s == 201
            || (*s == 423 && (c == "daily_limit_exceeded" || c == "account_locked"))),
        "{t:?}"
    );
    assert!(t.contains_key(&(423, "daily_limit_exceeded".to_string())));

    let me = kit.get("/v1/me", Some(&token)).await;
    me.assert_refused(423, "account_locked");
    let officer = kit.store.officer_by_id(&clerk.id).await.unwrap().unwrap();
    assert_eq!(officer.locked.unwrap().reason, "daily_limit_exceeded");

    let audit = kit.store.audit_chain(&clerk.id).await.unwrap();
    let locks = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "account_locked")
        .count();
    assert_eq!(locks, 1, "the lock is audited once");
    let started = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "verification_started")
        .count();
    assert_eq!(started, 50);
    let exceeded = audit
        .iter()
        .filter(|r| {
            r.entry.outcome.as_str() == "daily_limit_exceeded"
                && r.entry.event.as_str() == "attempt_counted"
        })
        .count();
    assert!(exceeded >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_broker_processes_on_one_database_share_the_limit() {
    // The kit's broker creates the schema, officer and activation; the two
    // replicas are separate okaz-server processes on the same database.
    let kit = Kit::start_with(limit(50)).await;
    let clerk = kit.officer("clerk", "U1").await;
    let citizen = kit.citizen(&["valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let config = kit.dir.path().join("okaz.toml");
    let a = Replica::spawn(&config, &kit.dir.path().join("a.pem"), "warn");
    let b = Replica::spawn(&config, &kit.dir.path().join("b.pem"), "warn");
    let pems: Vec<Vec<u8>> = ["a.pem", "b.pem"]
        .iter()
        .map(|f| std::fs::read(kit.dir.path().join(f)).unwrap())
        .collect();
    let http = okaz_tests::HttpClient::new(&[&pems[0], &pems[1]]);

    // The replicas run on the real clock; log in with the current code.
    let token = http.login_now(&a.url, &clerk).await;

    let body =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"})
            .to_string();
    let starts = (0..200).map(|i| {
        let url = format!(
            "{}/v1/verifications",
            if i % 2 == 0 { &a.url } else { &b.url }
        );
        let http = http.clone();
        let token = token.clone();
        let body = body.clone();
        async move {
            http.request("POST", &url, Some(&token), Some(body.into_bytes()))
                .await
        }
    });
    let replies = join_all(starts).await;
    let t = tally(
        replies
            .iter()
            .map(|r| (r.status, r.body["code"].as_str().unwrap_or("").to_string())),
    );
    assert_eq!(t.get(&(201, String::new())).copied(), Some(50), "{t:?}");
    let officer = kit.store.officer_by_id(&clerk.id).await.unwrap().unwrap();
    assert!(officer.locked.is_some());
    let used_by_a = replies
        .iter()
        .step_by(2)
        .filter(|r| r.status == 201)
        .count();
    assert!(
        used_by_a > 0 && used_by_a < 50,
        "both replicas served accepted checks: {used_by_a} via a"
    );
}

async fn used(kit: &Kit, token: &str) -> (u64, String) {
    let me = kit.get("/v1/me", Some(token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    (
        me.body["quota"]["used"].as_u64().unwrap(),
        me.body["quota"]["resets_at"].as_str().unwrap().to_string(),
    )
}

async fn counter_resets_at_local_midnight(start_local: &str, expected_reset_utc: &str) {
    let kit = Kit::start_with(Options {
        start: warsaw(start_local),
        ..limit(3)
    })
    .await;
    let clerk = kit.officer("clerk", "U1").await;
    let citizen = kit.citizen(&["valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token = kit.login(&clerk).await;
    for _ in 0..3 {
        let r = kit
            .start_check(&token, &citizen.pesel, "id_card", "age_check")
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (n, resets_at) = used(&kit, &token).await;
    assert_eq!(n, 3);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&resets_at).unwrap(),
        chrono::DateTime::parse_from_rfc3339(expected_reset_utc).unwrap()
    );

    // One second before midnight it is still the same day...
    let reset = chrono::DateTime::parse_from_rfc3339(expected_reset_utc)
        .unwrap()
        .with_timezone(&chrono::Utc);
    kit.clock.set(reset - chrono::Duration::seconds(1));
    assert_eq!(used(&kit, &token).await.0, 3);
    // ...and at midnight the count starts again.
    kit.clock.set(reset);
    assert_eq!(used(&kit, &token).await.0, 0);
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!((r.status, r.body["quota"]["used"].as_u64()), (201, Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_resets_at_warsaw_midnight_in_winter() {
    counter_resets_at_local_midnight("2026-01-14 23:50:00", "2026-01-14T23:00:00Z").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_resets_at_midnight_on_the_spring_forward_day() {
    // 29 March 2026 has 23 hours; the next midnight is 22:00 UTC.
    counter_resets_at_local_midnight("2026-03-29 23:50:00", "2026-03-29T22:00:00Z").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counter_resets_at_midnight_on_the_fall_back_day() {
    // 25 October 2026 has 25 hours; the next midnight is 23:00 UTC.
    counter_resets_at_local_midnight("2026-10-25 23:50:00", "2026-10-25T23:00:00Z").await;
}
