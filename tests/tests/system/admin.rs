//! The security officer: lockouts and unlocks within their own unit only,
//! always with a reason; an extra allowance grants exactly that many checks.

use okaz_tests::{Kit, NowUtc, Options, TestCitizen, TestOfficer};
use serde_json::json;

fn limit(n: u32) -> Options {
    Options {
        policy_edits: vec![("daily_limit = 100".into(), format!("daily_limit = {n}"))],
        ..Options::default()
    }
}

/// Logs the clerk in and runs it past a daily limit of one (`limit(1)`):
/// its token, and the citizen it checked.
async fn locked_out(kit: &Kit, clerk: &TestOfficer) -> (String, TestCitizen) {
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token = kit.login(clerk).await;
    let first = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    kit.start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await
        .assert_refused(423, "daily_limit_exceeded");
    (token, citizen)
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
    r.assert_refused(423, "daily_limit_exceeded");

    let sec = kit.login(&security).await;
    let lockouts = kit.get("/v1/admin/lockouts", Some(&sec)).await;
    assert_eq!(lockouts.status, 200, "{}", lockouts.body);
    let list = lockouts.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["officer"]["id"], clerk.id.as_str());
    assert_eq!(list[0]["reason"], "daily_limit_exceeded");
    assert_eq!(list[0]["attempts_today"], 6);

    let unlock = |body| kit.unlock(&sec, &clerk.id, body);
    let r = unlock(json!({"reason": "  ", "extra_allowance": 10})).await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (400, Some("invalid_request")),
        "a reason is required"
    );
    let r = unlock(json!({"extra_allowance": 10})).await;
    assert_eq!(r.status, 400);
    let r =
        unlock(json!({"reason": "court order 12/2026 needs more checks", "extra_allowance": 10}))
            .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The clerk's session survived the lock; exactly ten more pass.
    for i in 0..10 {
        let r = check().await;
        assert_eq!(r.status, 201, "check {i} after unlock: {}", r.body);
    }
    let r = check().await;
    r.assert_refused(423, "daily_limit_exceeded");
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
        .find(|r| r.entry.event.as_str() == "account_unlocked")
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
    let (token_b, _) = locked_out(&kit, &clerk_b).await;

    let sec_a = kit.login(&security_a).await;
    let lockouts = kit.get("/v1/admin/lockouts", Some(&sec_a)).await;
    assert_eq!(
        lockouts.body.as_array().map(Vec::len),
        Some(0),
        "unit B's lockouts are not shown to A"
    );
    let r = kit
        .unlock(&sec_a, &clerk_b.id, json!({"reason": "x"}))
        .await;
    r.assert_refused(403, "not_permitted");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_officer_manages_accounts_of_the_unit() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let security = kit.officer("security_officer", "USC-A").await;
    let clerk_token = kit.login(&clerk).await;
    let sec = kit.login(&security).await;

    let list = kit.get("/v1/admin/officers", Some(&sec)).await;
    let logins: Vec<&str> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["officer"]["login"].as_str().unwrap())
        .collect();
    assert!(logins.contains(&clerk.login.as_str()) && logins.contains(&security.login.as_str()));

    let created = kit
        .post(
            "/v1/admin/officers",
            Some(&sec),
            json!({"login": "nowak", "display_name": "A. Nowak", "role": "clerk", "unit": "USC-A"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body["totp_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
    let dup = kit
        .post(
            "/v1/admin/officers",
            Some(&sec),
            json!({"login": "nowak", "display_name": "B", "role": "clerk", "unit": "USC-A"}),
        )
        .await;
    assert_eq!(
        (dup.status, dup.body["detail"].as_str()),
        (400, Some("this login is already taken"))
    );

    // Disabling ends the officer's sessions and bars logins.
    let path = |what: &str| format!("/v1/admin/officers/{}/{what}", clerk.id);
    assert_eq!(
        kit.post(&path("disable"), Some(&sec), json!({}))
            .await
            .status,
        400,
        "a reason is required"
    );
    assert_eq!(
        kit.post(
            &path("disable"),
            Some(&sec),
            json!({"reason": "left the office"})
        )
        .await
        .status,
        200
    );
    assert_eq!(kit.get("/v1/me", Some(&clerk_token)).await.status, 401);
    kit.clock.advance(chrono::Duration::seconds(30));
    let r = kit
        .sign_in(&clerk.login, &clerk.password, &kit.totp(&clerk))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        kit.post(&path("enable"), Some(&sec), json!({"reason": "back"}))
            .await
            .status,
        200
    );

    // A password reset: the old one stops working, the new one works.
    let reset = kit
        .post(&path("reset-password"), Some(&sec), json!({}))
        .await;
    let new_password = reset.body["initial_password"].as_str().unwrap().to_string();
    kit.clock.advance(chrono::Duration::seconds(30));
    let old = kit
        .sign_in(&clerk.login, &clerk.password, &kit.totp(&clerk))
        .await;
    assert_eq!(old.status, 401);
    kit.clock.advance(chrono::Duration::seconds(30));
    let new = kit
        .sign_in(&clerk.login, &new_password, &kit.totp(&clerk))
        .await;
    assert_eq!(new.status, 201, "{}", new.body);

    // A TOTP reset: codes from the old secret stop working.
    let reset = kit.post(&path("reset-totp"), Some(&sec), json!({})).await;
    let uri = reset.body["totp_uri"].as_str().unwrap();
    let secret = okaz_tests::totp_secret_in(uri);
    kit.clock.advance(chrono::Duration::seconds(30));
    let old = kit
        .sign_in(&clerk.login, &new_password, &kit.totp(&clerk))
        .await;
    assert_eq!(old.status, 401);
    kit.clock.advance(chrono::Duration::seconds(30));
    let code =
        okaz_core::credentials::totp_code_at(&secret, kit.clock.now_utc().timestamp() as u64)
            .unwrap();
    let new = kit.sign_in(&clerk.login, &new_password, &code).await;
    assert_eq!(new.status, 201, "{}", new.body);

    let events: Vec<String> = kit
        .store
        .audit_chain(&security.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.event.as_str().to_string())
        .collect();
    for e in [
        "officer_created",
        "officer_disabled",
        "officer_enabled",
        "password_reset",
        "totp_reset",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} is audited: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockouts_export_as_csv_and_the_operator_unlocks_from_the_command_line() {
    let kit = Kit::start_with(limit(1)).await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let security = kit.officer("security_officer", "USC-A").await;
    let (token, citizen) = locked_out(&kit, &clerk).await;

    let sec = kit.login(&security).await;
    let csv = kit.get("/v1/admin/lockouts?format=csv", Some(&sec)).await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(
        lines[0],
        "officer_id,login,display_name,unit,locked_at,reason,attempts_today"
    );
    assert!(
        lines[1].contains(&clerk.login)
            && lines[1].contains("\"daily_limit_exceeded\"")
            && lines[1].ends_with("\"2\"")
    );

    let cli = |args: &[&str]| kit.server_cmd().args(args).output().unwrap();
    let out = cli(&["admin", "lockouts", "--unit", "USC-A"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&clerk.login));
    let out = cli(&[
        "admin",
        "unlock",
        "--login",
        &clerk.login,
        "--reason",
        "",
        "--extra",
        "1",
    ]);
    assert!(
        !out.status.success(),
        "an unlock without a reason is refused"
    );
    let out = cli(&[
        "admin",
        "unlock",
        "--login",
        &clerk.login,
        "--reason",
        "verified by phone",
        "--extra",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        kit.start_check(&token, &citizen.pesel, "id_card", "age_check")
            .await
            .status,
        201
    );
    let out = cli(&["admin", "audit", "--officer", &clerk.login, "--limit", "50"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("daily_limit_exceeded") && !text.contains(&citizen.pesel),
        "{text}"
    );
    let out = cli(&["admin", "audit", "--pesel", &citizen.pesel]);
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 3);
}
