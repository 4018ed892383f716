//! The audit trail is tamper-evident: `okaz-server audit verify` passes on
//! an intact trail and names the first broken link when a row is changed.

use okaz_tests::Kit;

fn verify(kit: &Kit) -> (i32, String) {
    okaz_tests::run_said(kit.server_cmd().args(["audit", "verify"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_one_audit_row_is_detected_and_named() {
    let kit = Kit::start().await;
    let (_, token, citizen) = kit.clerk_and_citizen("U1").await;
    for _ in 0..3 {
        let r = kit
            .start_check(&token, &citizen.pesel, "id_card", "age_check")
            .await;
        let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;
        kit.give_code(&token, r.body["id"].as_str().unwrap(), &code)
            .await;
    }

    let (status, text) = verify(&kit);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("audit trail intact"), "{text}");

    // Someone with database access rewrites a release as a refusal.
    let db = kit.db().await;
    let row = db
        .query_one(
            "SELECT id FROM audit_log WHERE event = 'document_released' ORDER BY id LIMIT 1 OFFSET 1",
            &[],
        )
        .await
        .unwrap();
    let tampered: i64 = row.get(0);
    db.execute(
        "UPDATE audit_log SET outcome = 'not_activated' WHERE id = $1",
        &[&tampered],
    )
    .await
    .unwrap();

    let (status, text) = verify(&kit);
    assert_eq!(status, 2, "{text}");
    assert!(
        text.contains(&format!("record id {tampered} ")),
        "names the changed row: {text}"
    );

    // Deleting a row instead breaks the link at the next one.
    db.execute(
        "UPDATE audit_log SET outcome = 'ok' WHERE id = $1",
        &[&tampered],
    )
    .await
    .unwrap();
    assert_eq!(verify(&kit).0, 0);
    db.execute("DELETE FROM audit_log WHERE id = $1", &[&tampered])
        .await
        .unwrap();
    let (status, text) = verify(&kit);
    assert_eq!(status, 2);
    assert!(!text.contains(&format!("record id {tampered} ")), "{text}");
}
