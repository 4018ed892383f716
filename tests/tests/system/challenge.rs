//! The consent code: three wrong codes end the challenge, a used code is
//! refused, an expired challenge is refused, and another officer's
//! challenge is not found. Wrong codes across challenges lock the account.

use okaz_tests::{Kit, TestCitizen};

async fn started(kit: &Kit, token: &str, citizen: &TestCitizen) -> (String, String) {
    kit.check_with_code(token, citizen, "id_card", "identity_confirmation")
        .await
}

fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn kit_with_citizen() -> (Kit, String, TestCitizen) {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;
    (kit, token, citizen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_wrong_codes_end_the_challenge() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    for left in [2, 1, 0] {
        let r = kit.give_code(&token, &id, &wrong(&code)).await;
        r.assert_refused(422, "wrong_code");
        assert_eq!(r.body["attempts_left"], left);
    }
    // Even the right code is refused now.
    let r = kit.give_code(&token, &id, &code).await;
    r.assert_refused(410, "challenge_exhausted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_used_once() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    let first = kit.give_code(&token, &id, &code).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = kit.give_code(&token, &id, &code).await;
    again.assert_refused(410, "challenge_used");
    assert!(again.body.get("document").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_code_given_twice_at_once_releases_once() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    let (a, b) = tokio::join!(
        kit.give_code(&token, &id, &code),
        kit.give_code(&token, &id, &code)
    );
    let released = [&a, &b].iter().filter(|r| r.status == 200).count();
    assert_eq!(released, 1, "{} / {}", a.body, b.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_challenge_is_refused() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    // The default policy gives the citizen 300 seconds.
    kit.clock.advance(chrono::Duration::seconds(300));
    let r = kit.give_code(&token, &id, &code).await;
    r.assert_refused(410, "challenge_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_officers_challenge_is_not_found() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    let other = kit.officer("clerk", "U1").await;
    let other_token = kit.login(&other).await;
    let r = kit.give_code(&other_token, &id, &code).await;
    r.assert_refused(404, "not_found");
    let r = kit
        .delete(&format!("/v1/verifications/{id}"), Some(&other_token))
        .await;
    assert_eq!(r.status, 404);
    // The owner still can: the stranger's try cost nothing.
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_challenge_takes_no_code() {
    let (kit, token, citizen) = kit_with_citizen().await;
    let (id, code) = started(&kit, &token, &citizen).await;
    let r = kit
        .delete(&format!("/v1/verifications/{id}"), Some(&token))
        .await;
    assert_eq!(r.status, 204);
    let r = kit.give_code(&token, &id, &code).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_across_challenges_lock_the_account() {
    let (kit, token, citizen) = kit_with_citizen().await;
    // Threshold 10 in the default policy: four challenges of three wrong codes.
    let mut last = None;
    'outer: for _ in 0..4 {
        let (id, code) = started(&kit, &token, &citizen).await;
        for _ in 0..3 {
            let r = kit.give_code(&token, &id, &wrong(&code)).await;
            if r.status != 422 {
                last = Some(r);
                break 'outer;
            }
        }
    }
    let r = last.expect("the account was never locked");
    r.assert_refused(423, "account_locked");
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(me.status, 423);
}
