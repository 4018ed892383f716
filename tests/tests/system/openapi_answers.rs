//! Real answers held against `docs/openapi.yaml`: a security officer's
//! calls that end in a problem (an officer who does not exist, a malformed
//! PESEL in an audit search) and the CSV export are each documented for
//! their route, with their status, media type and problem code. The route
//! table's own test checks paths and methods; this one checks what the
//! routes really answer.

use okaz_tests::{openapi, Kit};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_answers_of_the_admin_routes_are_documented() {
    let kit = Kit::start().await;
    let doc = std::fs::read_to_string(okaz_tests::workspace().join("docs/openapi.yaml")).unwrap();
    let security = kit.officer("security_officer", "U1").await;
    let token = kit.login(&security).await;
    let nobody = uuid::Uuid::new_v4().to_string();
    let mut failures = Vec::new();
    let mut expect = |method: &str, pattern: &str, reply: okaz_tests::Reply, status: u16| {
        assert_eq!(reply.status, status, "{method} {pattern}: {}", reply.text);
        if let Err(e) = openapi::check(&doc, method, pattern, &reply) {
            failures.push(e);
        }
    };

    let reason = json!({"reason": "checked with the unit head"});
    for (action, body) in [
        ("enable", reason.clone()),
        ("disable", reason.clone()),
        ("reset-password", json!({})),
        ("reset-totp", json!({})),
        ("certificate", json!({"fingerprint": "ab".repeat(32)})),
        ("unlock", reason.clone()),
    ] {
        let r = kit
            .post(
                &format!("/v1/admin/officers/{nobody}/{action}"),
                Some(&token),
                body,
            )
            .await;
        assert_eq!(r.body["code"], "not_found", "{action}: {}", r.body);
        expect(
            "post",
            &format!("/v1/admin/officers/{{id}}/{action}"),
            r,
            404,
        );
    }

    let r = kit
        .get("/v1/admin/audit?pesel=12345678901", Some(&token))
        .await;
    assert_eq!(r.body["code"], "invalid_pesel", "{}", r.body);
    expect("get", "/v1/admin/audit", r, 400);
    let r = kit.get("/v1/admin/audit?limit=5", Some(&token)).await;
    expect("get", "/v1/admin/audit", r, 200);

    let r = kit.get("/v1/admin/lockouts?format=csv", Some(&token)).await;
    assert!(r.content_type.starts_with("text/csv"), "{}", r.content_type);
    expect("get", "/v1/admin/lockouts", r, 200);
    let r = kit.get("/v1/admin/lockouts", Some(&token)).await;
    expect("get", "/v1/admin/lockouts", r, 200);

    assert!(
        failures.is_empty(),
        "undocumented answers:\n{}",
        failures.join("\n")
    );
}
