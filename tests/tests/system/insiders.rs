//! Insiders: separation of duties, unlock rules, login races and
//! enumeration, audited searches, clean audit fields, and the portal's
//! state in the store (shared by every replica).

use futures::future::join_all;
use okaz_tests::replica::Replica;
use okaz_tests::Kit;
use serde_json::json;

fn code(r: &okaz_tests::Reply) -> (u16, Option<&str>) {
    (r.status, r.body["code"].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_officer_cannot_mint_police_but_a_police_unit_admin_can() {
    let kit = Kit::start().await;
    let security = kit.officer("security_officer", "KMP-Warszawa").await;
    let sec = kit.login(&security).await;
    let r = kit
        .post(
            "/v1/admin/officers",
            Some(&sec),
            json!({"login": "fake.patrol", "display_name": "F", "role": "police", "unit": "KMP-Warszawa"}),
        )
        .await;
    r.assert_refused(403, "not_permitted");
    assert!(kit
        .store
        .officer_by_login("fake.patrol")
        .await
        .unwrap()
        .is_none());
    // Nor may it manage an existing police account of its unit.
    let patrol = kit.officer("police", "KMP-Warszawa").await;
    let r = kit
        .post(
            &format!("/v1/admin/officers/{}/reset-password", patrol.id),
            Some(&sec),
            json!({}),
        )
        .await;
    r.assert_refused(403, "not_permitted");

    let admin = kit.officer("police_admin", "KMP-Warszawa").await;
    let adm = kit.login(&admin).await;
    let r = kit
        .post(
            "/v1/admin/officers",
            Some(&adm),
            json!({"login": "patrol.7", "display_name": "P7", "role": "police", "unit": "KMP-Warszawa"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The police role logs in by certificate only: the password it was
    // given does not open a session.
    let created = r.body["initial_password"].as_str().unwrap().to_string();
    let r = kit.sign_in("patrol.7", &created, "000000").await;
    r.assert_refused(401, "invalid_credentials");
    // And a police admin cannot mint clerks or security officers.
    for role in ["clerk", "security_officer", "police_admin"] {
        let r = kit
            .post(
                "/v1/admin/officers",
                Some(&adm),
                json!({"login": format!("x.{role}"), "display_name": "X", "role": role, "unit": "KMP-Warszawa"}),
            )
            .await;
        assert_eq!(code(&r), (403, Some("not_permitted")), "{role}: {}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlock_applies_only_to_a_locked_account_and_within_the_cap() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let security = kit.officer("security_officer", "USC-A").await;
    let sec = kit.login(&security).await;
    let unlock = |body| kit.unlock(&sec, &clerk.id, body);
    let r = unlock(json!({"reason": "why not", "extra_allowance": 0})).await;
    r.assert_refused(409, "not_locked");
    let r = unlock(json!({"reason": "why not", "extra_allowance": 4_000_000_000u64})).await;
    r.assert_refused(400, "invalid_request");
    let r = unlock(json!({"reason": "why not", "extra_allowance": 51})).await;
    assert_eq!(
        code(&r),
        (400, Some("invalid_request")),
        "above the cap of 50: {}",
        r.body
    );
    assert!(
        r.body["detail"].as_str().unwrap_or_default().contains("50"),
        "{}",
        r.body
    );
    // No unlock was recorded.
    let audit = kit.store.audit_chain(&security.id).await.unwrap();
    assert!(audit
        .iter()
        .all(|r| r.entry.event.as_str() != "account_unlocked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_wrong_logins_hides_no_right_one_and_locks_nobody() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let wrong = json!({"login": clerk.login, "password": "wrong", "totp": "000000"});
    let right = json!({"login": clerk.login, "password": clerk.password, "totp": kit.totp(&clerk)});
    let mut bodies = vec![wrong; 40];
    bodies.insert(20, right);
    let replies = join_all(
        bodies
            .into_iter()
            .map(|b| kit.post("/v1/sessions", None, b)),
    )
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "no token in a burst: {statuses:?}"
    );
    let failures = kit
        .store
        .audit_chain(&clerk.id)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.entry.event.as_str() == "login_failed")
        .count();
    // Attempts are counted before anything is checked: at most the
    // throttle's threshold (5) ever reach the password.
    assert!(failures <= 5, "{failures} failures recorded");
    let officer = kit.store.officer_by_id(&clerk.id).await.unwrap().unwrap();
    assert!(officer.locked.is_none(), "wrong passwords do not lock");
    println!("burst of 41: {statuses:?}, {failures} failures recorded");

    // After the throttle's quiet minute the officer gets in.
    kit.clock.advance(chrono::Duration::seconds(61));
    let r = kit
        .sign_in(&clerk.login, &clerk.password, &kit.totp(&clerk))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_and_unknown_logins_answer_alike_through_a_lockout() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..12 {
        let k = kit.sign_in(&clerk.login, "guess", "123456").await;
        let u = kit.sign_in("no.such.officer", "guess", "123456").await;
        known.push((k.status, k.body["code"].clone(), k.body["detail"].clone()));
        unknown.push((u.status, u.body["code"].clone(), u.body["detail"].clone()));
    }
    assert_eq!(known, unknown, "a login's existence shows in no answer");
    assert!(known.iter().any(|k| k.0 == 429), "both get throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_searches_and_exports_are_on_record() {
    let kit = Kit::start().await;
    let security = kit.officer("security_officer", "USC-A").await;
    let citizen = kit.citizen(&["adult", "valid_id"]).await;
    let sec = kit.login(&security).await;
    let r = kit
        .get(
            &format!("/v1/admin/audit?pesel={}&limit=20", citizen.pesel),
            Some(&sec),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = kit.get("/v1/admin/lockouts?format=csv", Some(&sec)).await;
    assert_eq!(r.status, 200);
    let chain = kit.store.audit_chain(&security.id).await.unwrap();
    let search = chain
        .iter()
        .find(|r| r.entry.event.as_str() == "audit_searched")
        .expect("the search is on record");
    let pseudonym = kit.pseudonym(&citizen.pesel);
    assert_eq!(search.entry.citizen.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(search.entry.unit, "USC-A");
    let filter = search.entry.reason.clone().unwrap_or_default();
    assert!(
        filter.contains("unit=USC-A") && filter.contains("limit=20"),
        "{filter}"
    );
    assert!(!format!("{:?}", search.entry).contains(&citizen.pesel));
    assert!(chain
        .iter()
        .any(|r| r.entry.event.as_str() == "lockouts_exported"));

    // The operator's command-line search is on record too.
    okaz_tests::run_ok(
        kit.server_cmd()
            .args(["admin", "audit", "--pesel", &citizen.pesel]),
    );
    let operator = kit.store.audit_chain("operator").await.unwrap();
    assert!(operator
        .iter()
        .any(|r| r.entry.event.as_str() == "audit_searched"
            && r.entry.citizen.as_deref() == Some(pseudonym.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_free_text_purpose_is_not_stored() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-A").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let token = kit.login(&clerk).await;
    let text = format!("Call +48 600 000 000 {}", "x".repeat(30_000));
    let r = kit
        .post_check(
            &token,
            json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": text}),
        )
        .await;
    // Over the broker's body limit (16 KiB in the kit): refused at the edge,
    // before any of it is read into a request.
    r.assert_refused(413, "payload_too_large");
    let short = "Call +48 600 000 000";
    let r = kit
        .post_check(
            &token,
            json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": short}),
        )
        .await;
    r.assert_refused(403, "not_permitted");
    let chain = kit.store.audit_chain(&clerk.id).await.unwrap();
    let refused = chain
        .iter()
        .find(|r| r.entry.event.as_str() == "verification_refused")
        .unwrap();
    assert_eq!(refused.entry.purpose.as_deref(), Some("unknown"));
    assert!(chain
        .iter()
        .all(|r| !format!("{:?}", r.entry).contains("600 000")));
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(
        me.body["quota"]["used"], 0,
        "a refusal by policy costs nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn portal_state_is_shared_by_replicas() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;
    let config = kit.dir.path().join("okaz.toml");
    let replica = Replica::spawn(&config, &kit.dir.path().join("replica.pem"), "warn");

    // Activation codes: the limit counts sends on both replicas.
    let mut here = kit.portal_agent();
    let token = here.sign_in(&anna.pesel).await.csrf().unwrap();
    let mut there = here.at(replica.http.clone(), &replica.url);
    let limit = okaz_core::broker::CODES_PER_HOUR;
    for i in 0..limit {
        let agent = if i % 2 == 0 { &mut here } else { &mut there };
        let p = agent
            .post("/citizen/activate/send", &[("csrf", &token)])
            .await;
        assert_eq!(p.status, 303, "code {i}: {}", p.text);
    }
    for agent in [&mut here, &mut there] {
        let p = agent
            .post("/citizen/activate/send", &[("csrf", &token)])
            .await;
        assert_eq!(p.status, 429, "{}", p.text);
    }
    let sms = kit.inbox(anna.phone.as_deref().unwrap()).await;
    assert_eq!(sms.len(), limit as usize, "no more SMS than the limit");

    // Signing out on one replica ends the session on the other.
    let old_cookie = here.jar.clone();
    assert_eq!(here.get("/citizen/history").await.status, 200);
    let p = here.post("/citizen/logout", &[("csrf", &token)]).await;
    assert_eq!(p.status, 303, "{}", p.text);
    let mut replay = there.clone();
    replay.jar = old_cookie.clone();
    assert_eq!(
        replay.get("/citizen/history").await.status,
        401,
        "the replica refuses it"
    );
    let mut replay_here = here.clone();
    replay_here.jar = old_cookie;
    assert_eq!(replay_here.get("/citizen/history").await.status, 401);
}
