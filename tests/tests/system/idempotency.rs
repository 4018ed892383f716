//! A start retried with the same Idempotency-Key (the terminal never saw
//! the first answer: the connection dropped) is counted once and sends one
//! SMS; the same key with another body is refused.

use bytes::Bytes;
use http_body_util::Full;
use okaz_tests::Kit;
use serde_json::{json, Value};

async fn start(kit: &Kit, token: &str, key: &str, body: &Value) -> (u16, Value) {
    post_keyed(kit, "/v1/verifications", token, key, body).await
}

async fn post_keyed(kit: &Kit, path: &str, token: &str, key: &str, body: &Value) -> (u16, Value) {
    let req = http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", kit.broker_url))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let (status, _, text) = kit.http.exchange(req).await.unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_start_counts_once_and_sends_one_sms() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let (_, token, citizen) = kit.clerk_and_citizen("USC-1").await;
    let phone = citizen.phone.clone().unwrap();
    let body =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"});

    let (status, first) = start(&kit, &token, "k-1", &body).await;
    assert_eq!(status, 201, "{first}");
    // The answer is lost on the way; the terminal sends the same start again.
    let (status, again) = start(&kit, &token, "k-1", &body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], first["id"], "the same challenge");
    assert_eq!(again["status"], "awaiting_code");
    assert_eq!(again["quota"]["used"], 1, "counted once");
    assert_eq!(kit.inbox(&phone).await.len(), 1, "one SMS");

    // The code of that one SMS completes the check.
    let code = kit.latest_code(&phone).await;
    let done = kit
        .give_code(&token, first["id"].as_str().unwrap(), &code)
        .await;
    assert_eq!(done.status, 200, "{}", done.body);

    // The same key with another body is refused, and costs nothing.
    let other = json!({"subject": {"pesel": citizen.pesel}, "document": "driving_licence", "purpose": "age_check"});
    let (status, refused) = start(&kit, &token, "k-1", &other).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("invalid_request")),
        "{refused}"
    );
    assert_eq!(refused["quota"]["used"], 1);
    assert_eq!(kit.inbox(&phone).await.len(), 1);

    // A malformed key is refused before anything is done.
    let (status, _) = start(&kit, &token, "not a key!", &body).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_police_check_never_releases_the_document_twice() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence"]).await;
    let token = kit.login(&officer).await;
    let body = json!({"subject": {"pesel": driver.pesel}, "document": "driving_licence", "purpose": "operational_check", "case_reference": "RSD-5/2026"});
    let (status, first) = start(&kit, &token, "p-1", &body).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["status"], "completed");
    let (status, again) = start(&kit, &token, "p-1", &body).await;
    assert_eq!(
        (status, again["code"].as_str()),
        (410, Some("challenge_used")),
        "{again}"
    );
    assert!(again.get("document").is_none());
    assert_eq!(again["quota"]["used"], 1, "counted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_bundle_counts_once_and_a_key_does_not_cross_calls() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let clerk = kit.officer("clerk", "USC-1").await;
    let citizen = kit
        .citizen(&["pensioner", "valid_id", "pensioner_id:valid", "contactable"])
        .await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let token = kit.login(&clerk).await;
    let body = json!({"bundle": "pensioner_discount", "subject": {"pesel": citizen.pesel}});
    let (status, first) = post_keyed(&kit, "/v1/bundles", &token, "b-1", &body).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_keyed(&kit, "/v1/bundles", &token, "b-1", &body).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["quota"]["used"], 1, "counted once");
    assert_eq!(kit.inbox(&phone).await.len(), 1, "one SMS");
    // The same key at the single-check call is another request.
    let single =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"});
    let (status, refused) = start(&kit, &token, "b-1", &single).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("invalid_request"))
    );
}
