//! Bad input gets a clear problem+json error and costs no quota.

use okaz_tests::Kit;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_refused_clearly_and_cost_nothing() {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;
    let url = format!("{}/v1/verifications", kit.broker_url);

    let r = kit
        .http
        .request(
            "POST",
            &url,
            Some(&token),
            Some(b"{\"subject\": {".to_vec()),
        )
        .await;
    r.assert_refused(400, "invalid_request");
    assert_eq!(r.content_type, "application/problem+json");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("malformed JSON"),
        "{}",
        r.body
    );

    let unknown = json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check", "colour": "red"});
    let r = kit.post("/v1/verifications", Some(&token), unknown).await;
    r.assert_refused(400, "invalid_request");
    assert!(
        r.body["detail"].as_str().unwrap().contains("colour"),
        "{}",
        r.body
    );

    let r = kit.post("/v1/verifications", Some(&token), json!({"subject": {"pesel": citizen.pesel}, "document": "passport", "purpose": "age_check"})).await;
    r.assert_refused(400, "invalid_request");

    let wrong_type = json!({"subject": {"pesel": 44051401359u64}, "document": "id_card", "purpose": "age_check"});
    let r = kit
        .post("/v1/verifications", Some(&token), wrong_type)
        .await;
    assert_eq!(r.status, 400);
    assert!(
        !r.text.contains("44051401359"),
        "the value is not echoed: {}",
        r.text
    );

    let huge = json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "x".repeat(100_000)});
    let r = kit.post("/v1/verifications", Some(&token), huge).await;
    r.assert_refused(413, "payload_too_large");

    let mut typo = citizen.pesel.clone().into_bytes();
    typo[10] = b'0' + (typo[10] - b'0' + 1) % 10;
    let r = kit
        .start_check(
            &token,
            &String::from_utf8(typo).unwrap(),
            "id_card",
            "age_check",
        )
        .await;
    r.assert_refused(400, "invalid_pesel");
    assert!(
        r.body["detail"].as_str().unwrap().contains("check digit"),
        "{}",
        r.body
    );
    let r = kit
        .start_check(&token, "1234", "id_card", "age_check")
        .await;
    r.assert_refused(400, "invalid_pesel");

    let r = kit
        .http
        .raw(
            "POST",
            &url,
            Some(&token),
            Some(b"pesel=1".to_vec()),
            "text/plain",
        )
        .await;
    r.assert_refused(400, "invalid_request");

    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(me.body["quota"]["used"], 0, "none of these cost quota");

    let r = kit.get("/v1/nowhere", Some(&token)).await;
    assert_eq!(
        (r.status, r.content_type.as_str()),
        (404, "application/problem+json")
    );
    let r = kit.http.request("GET", &url, Some(&token), None).await;
    assert_eq!(r.status, 405);
}
