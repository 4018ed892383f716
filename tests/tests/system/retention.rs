//! Retention through the real parts, on the broker's injected clock: a
//! challenge left to expire loses its sealed subject and code MAC once the
//! sweeper runs after the grace; sessions, counters and challenges go after
//! the policy's retention periods; the audit trail stays whole.

use chrono::Duration;
use okaz_tests::Kit;

struct Row {
    sealed: Option<Vec<u8>>,
    code_mac: Vec<u8>,
}

async fn challenge_row(c: &tokio_postgres::Client, id: &str) -> Option<Row> {
    c.query_opt(
        "SELECT sealed_subject, code_mac FROM challenges WHERE id::text = $1",
        &[&id],
    )
    .await
    .unwrap()
    .map(|r| Row {
        sealed: r.get(0),
        code_mac: r.get(1),
    })
}

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_wipes_an_expired_seal_and_deletes_after_retention() {
    let kit = Kit::start().await;
    let db = kit.db().await;
    let c = &kit
        .citizens_with(&["adult", "valid_id", "contactable"], 1)
        .await[0];
    kit.activate(&c.pesel).await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    let (id, code) = kit.check_with_code(&token, c, "id_card", "age_check").await;
    let audit = count(&db, "SELECT count(*) FROM audit_log").await;

    // Expired, but within the grace: the sweeper leaves the seal.
    let lifetime = kit.broker.policy.global.challenge_lifetime;
    let grace = kit.broker.policy.global.retention.seal_grace;
    kit.clock
        .advance(Duration::from_std(lifetime).unwrap() + Duration::seconds(1));
    okaz_server::retention::sweep_once(&kit.broker)
        .await
        .unwrap();
    let row = challenge_row(&db, &id).await.unwrap();
    assert!(row.sealed.is_some(), "wiped before the grace ended");
    assert!(!row.code_mac.is_empty());

    // After the grace: gone, though the row (binding, state) stays.
    kit.clock.advance(Duration::from_std(grace).unwrap());
    let swept = okaz_server::retention::sweep_once(&kit.broker)
        .await
        .unwrap();
    assert_eq!(swept.seals_wiped, 1, "{swept:?}");
    let row = challenge_row(&db, &id).await.unwrap();
    assert_eq!(row.sealed, None, "the sealed subject is wiped");
    assert!(row.code_mac.is_empty(), "the code MAC is wiped");
    // The right code, late, opens nothing.
    let late = kit.give_code(&token, &id, &code).await;
    assert_eq!(late.status, 410, "{}", late.body);
    assert_eq!(late.body["code"], "challenge_expired");

    // Past the retention periods: challenge, session and counter rows go.
    let sessions = count(&db, "SELECT count(*) FROM sessions").await;
    assert_eq!(sessions, 1);
    assert!(count(&db, "SELECT count(*) FROM daily_counters").await >= 1);
    kit.clock.advance(Duration::days(120));
    let swept = okaz_server::retention::sweep_once(&kit.broker)
        .await
        .unwrap();
    assert!(swept.challenges_deleted >= 1, "{swept:?}");
    assert!(challenge_row(&db, &id).await.is_none());
    assert_eq!(count(&db, "SELECT count(*) FROM sessions").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM daily_counters").await, 0);
    // Nothing in the audit trail is deleted, and its chains still verify.
    assert!(count(&db, "SELECT count(*) FROM audit_log").await >= audit);
    assert!(audit > 0);
    okaz_tests::run_ok(kit.server_cmd().args(["audit", "verify"]));
}
