//! Officer sessions: TOTP replay, shift end, idle timeout, logout, and
//! login throttling then lockout.

use okaz_tests::Kit;
use serde_json::json;

/// A kit with a clerk logged in; the clerk's session token.
async fn clerk_signed_in() -> (Kit, String) {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    (kit, token)
}

/// Asserts that the session of `token` has ended.
async fn ended(kit: &Kit, token: &str) {
    kit.get("/v1/me", Some(token))
        .await
        .assert_refused(401, "session_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_totp_code_is_refused() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let body = json!({"login": clerk.login, "password": clerk.password, "totp": kit.totp(&clerk)});
    let first = kit.post("/v1/sessions", None, body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let replay = kit.post("/v1/sessions", None, body).await;
    replay.assert_refused(401, "invalid_credentials");
    // The next step's code is fine.
    kit.clock.advance(chrono::Duration::seconds(30));
    let next = kit
        .sign_in(&clerk.login, &clerk.password, &kit.totp(&clerk))
        .await;
    assert_eq!(next.status, 201, "{}", next.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_or_code_is_refused_alike() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let r = kit.sign_in(&clerk.login, "nope", &kit.totp(&clerk)).await;
    r.assert_refused(401, "invalid_credentials");
    let r = kit.sign_in(&clerk.login, &clerk.password, "000000").await;
    r.assert_refused(401, "invalid_credentials");
    let r = kit.sign_in("nobody", "x", "123456").await;
    r.assert_refused(401, "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    let (kit, token) = clerk_signed_in().await;
    kit.clock.advance(chrono::Duration::minutes(14));
    assert_eq!(
        kit.get("/v1/me", Some(&token)).await.status,
        200,
        "activity within the idle time keeps it"
    );
    kit.clock.advance(chrono::Duration::minutes(15));
    ended(&kit, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_with_the_shift_however_active() {
    let (kit, token) = clerk_signed_in().await;
    // Clerks' shifts are 10 hours; stay active every 10 minutes.
    for _ in 0..59 {
        kit.clock.advance(chrono::Duration::minutes(10));
        assert_eq!(kit.get("/v1/me", Some(&token)).await.status, 200);
    }
    kit.clock.advance(chrono::Duration::minutes(10));
    ended(&kit, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_session() {
    let (kit, token) = clerk_signed_in().await;
    assert_eq!(
        kit.delete("/v1/sessions/current", Some(&token))
            .await
            .status,
        204
    );
    ended(&kit, &token).await;
    assert_eq!(kit.get("/v1/me", Some("made-up-token")).await.status, 401);
    assert_eq!(kit.get("/v1/me", None).await.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_login_failures_throttle_and_second_factor_failures_lock() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let bad = || json!({"login": clerk.login, "password": "wrong", "totp": "000000"});
    // Default policy: throttle after 5 attempts within 60 s, lock after 10
    // second-factor failures.
    for _ in 0..5 {
        assert_eq!(kit.post("/v1/sessions", None, bad()).await.status, 401);
    }
    let r = kit.post("/v1/sessions", None, bad()).await;
    r.assert_refused(429, "login_throttled");
    // Throttled even with the right password: no guessing while throttled.
    kit.clock.advance(chrono::Duration::seconds(30));
    let right = json!({"login": clerk.login, "password": clerk.password, "totp": kit.totp(&clerk)});
    assert_eq!(kit.post("/v1/sessions", None, right).await.status, 429);
    // Wrong passwords never lock: a login name alone cannot lock anyone out.
    for _ in 0..12 {
        kit.clock.advance(chrono::Duration::seconds(61));
        assert_eq!(kit.post("/v1/sessions", None, bad()).await.status, 401);
    }
    // The right password with wrong codes does: the tenth locks.
    let wrong_code = || json!({"login": clerk.login, "password": clerk.password, "totp": "000000"});
    let mut last = 0;
    for _ in 0..10 {
        kit.clock.advance(chrono::Duration::seconds(61));
        last = kit.post("/v1/sessions", None, wrong_code()).await.status;
    }
    assert_eq!(
        last, 423,
        "the tenth second-factor failure locks the account"
    );
    kit.clock.advance(chrono::Duration::seconds(61));
    let right = json!({"login": clerk.login, "password": clerk.password, "totp": kit.totp(&clerk)});
    let r = kit.post("/v1/sessions", None, right).await;
    r.assert_refused(423, "account_locked");
}
