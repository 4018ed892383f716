//! The security officer: lockouts and unlocks within their own unit only,
//! always with a reason; an extra allowance grants exactly that many checks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failure aborts the test with its message"
)]

use okaz_tests::{Kit, Options};
use serde_json::json;

fn limit(n: u32) -> Options {
    Options {
        policy_edits: vec![("daily_limit = 100".into(), format!("daily_limit = {n}"))],
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_with_extra_allowance_grants_exactly_that_many_checks() {
    let kit = Kit::start_with(limit(5)).await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let security = kit.officer("security_officer", "USC-A").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token = kit.login(&clerk).await;
    let check = || kit.start_check(&token, &citizen.pesel, "id_card", "age_check");

    for _ in 0..5 {
        assert_eq!(check().await.status, 201);
    }
    let r = check().await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (423, Some("daily_limit_exceeded"))
    );

    let sec = kit.login(&security).await;
    let lockouts = kit.get("/v1/admin/lockouts", Some(&sec)).await;
    assert_eq!(lockouts.status, 200, "{}", lockouts.body);
    let list = lockouts.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["officer"]["id"], clerk.id.as_str());
    assert_eq!(list[0]["reason"], "daily_limit_exceeded");
    assert_eq!(list[0]["attempts_today"], 6);

    let path = format!("/v1/admin/officers/{}/unlock", clerk.id);
    let r = kit
        .post(
            &path,
            Some(&sec),
            json!({"reason": "  ", "extra_allowance": 10}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("invalid_request")),
        "a reason is required"
    );
    let r = kit
        .post(&path, Some(&sec), json!({"extra_allowance": 10}))
        .await;
    assert_eq!(r.status, 400);
    let r = kit
        .post(
            &path,
            Some(&sec),
            json!({"reason": "court order 12/2026 needs more checks", "extra_allowance": 10}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The clerk's session survived the lock; exactly ten more pass.
    for i in 0..10 {
        let r = check().await;
        assert_eq!(r.status, 201, "check {i} after unlock: {}", r.body);
    }
    let r = check().await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (423, Some("daily_limit_exceeded"))
    );
    assert!(kit
        .store
        .officer_by_id(&clerk.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .is_some());

    let audit = kit.store.audit_chain(&security.id).await.unwrap();
    let unlock = audit
        .iter()
        .find(|r| r.entry.event == "account_unlocked")
        .unwrap();
    assert_eq!(
        unlock.entry.subject_officer.as_deref(),
        Some(clerk.id.as_str())
    );
    assert_eq!(
        unlock.entry.reason.as_deref(),
        Some("court order 12/2026 needs more checks")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_officer_acts_only_in_their_own_unit() {
    let kit = Kit::start_with(limit(1)).await;
    let clerk_b = kit.officer("clerk", "USC-B").await;
    let security_a = kit.officer("security_officer", "USC-A").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token_b = kit.login(&clerk_b).await;
    kit.start_check(&token_b, &citizen.pesel, "id_card", "age_check")
        .await;
    let r = kit
        .start_check(&token_b, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!(r.status, 423);

    let sec_a = kit.login(&security_a).await;
    let lockouts = kit.get("/v1/admin/lockouts", Some(&sec_a)).await;
    assert_eq!(
        lockouts.body.as_array().map(Vec::len),
        Some(0),
        "unit B's lockouts are not shown to A"
    );
    let r = kit
        .post(
            &format!("/v1/admin/officers/{}/unlock", clerk_b.id),
            Some(&sec_a),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (403, Some("not_permitted"))
    );
    let audit = kit
        .get(
            &format!("/v1/admin/audit?officer={}", clerk_b.id),
            Some(&sec_a),
        )
        .await;
    assert_eq!(
        audit.body.as_array().map(Vec::len),
        Some(0),
        "unit B's audit is not shown to A"
    );
    let r = kit
        .post(
            "/v1/admin/officers",
            Some(&sec_a),
            json!({"login": "newb", "display_name": "N", "role": "clerk", "unit": "USC-B"}),
        )
        .await;
    assert_eq!(r.status, 403);

    // A clerk has no admin calls at all.
    let r = kit.get("/v1/admin/lockouts", Some(&token_b)).await;
    assert_eq!(r.status, 423, "the locked clerk is refused first");
    let clerk_a = kit.officer("clerk", "USC-A").await;
    let token_a = kit.login(&clerk_a).await;
    assert_eq!(
        kit.get("/v1/admin/lockouts", Some(&token_a)).await.status,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_search_by_pesel_goes_through_the_pseudonym() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let security = kit.officer("security_officer", "USC-A").await;
    let [anna, bob] = <[_; 2]>::try_from(
        kit.citizens_with(&["adult", "valid_id", "contactable"], 2)
            .await,
    )
    .unwrap();
    kit.activate(&anna.pesel).await;
    kit.activate(&bob.pesel).await;
    let token = kit.login(&clerk).await;
    kit.start_check(&token, &anna.pesel, "id_card", "age_check")
        .await;
    kit.start_check(&token, &bob.pesel, "driving_licence", "licence_check")
        .await;

    let sec = kit.login(&security).await;
    let r = kit
        .get(&format!("/v1/admin/audit?pesel={}", anna.pesel), Some(&sec))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let records = r.body.as_array().unwrap();
    assert!(!records.is_empty());
    assert!(records.iter().all(|x| x["document"] == "id_card"));
    assert!(
        !r.text.contains(&anna.pesel),
        "the answer shows pseudonyms, not the PESEL"
    );
    let r = kit.get("/v1/admin/audit?pesel=123", Some(&sec)).await;
    assert_eq!(r.body["code"], "invalid_pesel");
    let r = kit
        .get(
            &format!("/v1/admin/audit?officer={}&limit=2", clerk.id),
            Some(&sec),
        )
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(2));
}
