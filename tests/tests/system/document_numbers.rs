//! Police name the subject by document number: an identity card's series
//! and number (its check digit checked) or a driving licence number. A
//! malformed number is refused with `invalid_document_number` and costs
//! nothing; a well-formed one that no register holds is `document_not_found`
//! and counted; a found document is the holder's, and their history shows
//! it. Roles the policy gives no number lookup are refused. Real broker,
//! real sandbox registers over HTTPS, real PostgreSQL.

use okaz_tests::{Kit, Options, SANDBOX_SEED};
use serde_json::{json, Value};

/// The officer's checks counted today.
async fn used(kit: &Kit, token: String) -> u64 {
    kit.get("/v1/me", Some(&token)).await.body["quota"]["used"]
        .as_u64()
        .unwrap()
}

fn by(kind: &str, number: &str, document: &str) -> Value {
    json!({
        "subject": { kind: number },
        "document": document,
        "purpose": "operational_check",
        "case_reference": "RSD-7/2026",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn police_look_documents_up_by_number_and_only_the_holders_data_comes_back() {
    let opts = Options::with_police_passwords();
    let population = opts.population;
    let kit = Kit::start_with(opts).await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let holder = kit.citizen(&["adult", "licence"]).await;
    let licence = holder.licence_number.clone().expect("tagged licence");
    let token = kit.login(&officer).await;

    // Malformed: refused by the broker, nothing counted.
    let mut typo = holder.id_card_number.clone().into_bytes();
    typo[3] = b'0' + (typo[3] - b'0' + 1) % 10;
    let typo = String::from_utf8(typo).unwrap();
    for body in [
        by("id_card_number", &typo, "id_card"),
        by("id_card_number", "AB1234567", "id_card"),
        by("licence_number", "01234-19-1465", "driving_licence"),
    ] {
        let r = kit.post("/v1/verifications", Some(&token), body).await;
        r.assert_refused(400, "invalid_document_number");
    }
    // A number names its own document only.
    let r = kit
        .post_check(
            &token,
            by("id_card_number", &holder.id_card_number, "driving_licence"),
        )
        .await;
    r.assert_refused(400, "invalid_request");
    assert_eq!(used(&kit, token.clone()).await, 0);

    // Found by identity card number, typed loosely: the holder's card.
    let typed = format!(
        "{} {}",
        holder.id_card_number[..3].to_lowercase(),
        &holder.id_card_number[3..]
    );
    let r = kit
        .post_check(&token, by("id_card_number", &typed, "id_card"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    assert_eq!(
        r.body["document"]["fields"]["document_number"],
        holder.id_card_number.as_str()
    );
    assert_eq!(r.body["quota"]["used"], 1);

    // Found by licence number.
    let r = kit
        .post_check(&token, by("licence_number", &licence, "driving_licence"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["document"]["fields"]["document_number"],
        licence.as_str()
    );
    assert_eq!(r.body["quota"]["used"], 2);

    // Well-formed numbers no one holds (those of an index beyond the
    // population): not found, and counted like every attempt.
    let nobody_id = okaz_sandbox::numbers::id_card_number(SANDBOX_SEED, population + 3);
    let nobody_licence = okaz_sandbox::numbers::licence_number(SANDBOX_SEED, population + 3);
    for body in [
        by("id_card_number", &nobody_id, "id_card"),
        by("licence_number", &nobody_licence, "driving_licence"),
    ] {
        let r = kit.post("/v1/verifications", Some(&token), body).await;
        r.assert_refused(404, "document_not_found");
        assert!(r.body.get("document").is_none());
    }
    assert_eq!(used(&kit, token.clone()).await, 4);

    // Both releases are on the holder's history, under their pseudonym.
    let pseudonym = kit.pseudonym(&holder.pesel);
    let audit = kit.store.audit_chain(&officer.id).await.unwrap();
    let released: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "document_released")
        .collect();
    assert_eq!(released.len(), 2);
    assert!(released
        .iter()
        .all(|r| r.entry.citizen.as_deref() == Some(pseudonym.as_str())));

    // GET /v1/me offers the number kinds to police.
    let me = kit.get("/v1/me", Some(&token)).await;
    let kinds = me.body["permissions"]["subjects"].as_array().unwrap();
    assert!(kinds.contains(&json!("id_card_number")));
    assert!(kinds.contains(&json!("licence_number")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_number_lookup_is_refused_and_not_offered_it() {
    let kit = Kit::start_with(Options::with_police_passwords()).await;
    let clerk = kit.officer("clerk", "USC-1").await;
    let holder = kit.citizen(&["adult"]).await;
    let token = kit.login(&clerk).await;
    let r = kit
        .post_check(
            &token,
            json!({"subject": {"id_card_number": holder.id_card_number}, "document": "id_card", "purpose": "identity_confirmation"}),
        )
        .await;
    r.assert_refused(403, "not_permitted");
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(me.body["permissions"]["subjects"], json!(["pesel"]));
}
