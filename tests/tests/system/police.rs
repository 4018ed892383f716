//! Police operational checks: no SMS code, but a case reference; counted
//! against the daily limit and audited.

use okaz_tests::{Kit, Options};
use serde_json::json;

/// These tests are about what police checks do; logging in by certificate
/// is tested in mtls.rs.
async fn kit() -> Kit {
    Kit::start_with(Options::with_police_passwords()).await
}

/// An operational check of a driver's licence under this case reference.
fn licence_check(pesel: &str, case: &str) -> serde_json::Value {
    json!({"subject": {"pesel": pesel}, "document": "driving_licence", "purpose": "operational_check", "case_reference": case})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_police_check_needs_a_case_reference_and_no_sms() {
    let kit = kit().await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence", "contactable"]).await;
    let token = kit.login(&officer).await;

    let r = kit
        .start_check(
            &token,
            &driver.pesel,
            "driving_licence",
            "operational_check",
        )
        .await;
    r.assert_refused(400, "case_reference_required");
    let r = kit
        .post_check(&token, licence_check(&driver.pesel, "name: Jan Kowalski"))
        .await;
    assert_eq!(
        r.status, 400,
        "free text is not a case reference: {}",
        r.body
    );
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(
        me.body["quota"]["used"], 0,
        "refusals by policy cost nothing"
    );

    let r = kit
        .post_check(&token, licence_check(&driver.pesel, "RSD-123/2026"))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    assert!(r.body["document"]["fields"]["categories"].is_array());
    assert_eq!(r.body["quota"]["used"], 1, "the check counts");
    assert!(
        kit.inbox(driver.phone.as_deref().unwrap()).await.is_empty(),
        "no SMS for operational checks"
    );

    let audit = kit.store.audit_chain(&officer.id).await.unwrap();
    let released = audit
        .iter()
        .find(|r| r.entry.event.as_str() == "document_released")
        .unwrap();
    assert_eq!(
        released.entry.case_reference.as_deref(),
        Some("RSD-123/2026")
    );
    assert_eq!(released.entry.purpose.as_deref(), Some("operational_check"));
    assert!(released.entry.fields.contains(&"categories".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn police_look_a_vehicle_up_by_plate_and_the_owner_is_audited() {
    let kit = kit().await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let clerk = kit.officer("clerk", "USC-1").await;
    let owner = kit.citizen(&["adult", "vehicle"]).await;
    let plate = owner.plates.first().expect("a vehicle has a plate").clone();
    let token = kit.login(&officer).await;
    let by_plate = |plate: &str, document: &str, case: Option<&str>| {
        let mut body = json!({"subject": {"plate": plate}, "document": document, "purpose": "operational_check"});
        if let Some(c) = case {
            body["case_reference"] = json!(c);
        }
        body
    };

    let r = kit
        .post_check(
            &token,
            by_plate("WA-12!", "vehicle_registration", Some("RSD-1/2026")),
        )
        .await;
    r.assert_refused(400, "invalid_request");
    let r = kit
        .post_check(&token, by_plate(&plate, "id_card", Some("RSD-1/2026")))
        .await;
    r.assert_refused(400, "invalid_request");
    let r = kit
        .post_check(&token, by_plate(&plate, "vehicle_registration", None))
        .await;
    r.assert_refused(400, "case_reference_required");
    let both = json!({"subject": {"plate": plate, "pesel": owner.pesel}, "document": "vehicle_registration", "purpose": "operational_check", "case_reference": "RSD-1/2026"});
    assert_eq!(kit.post_check(&token, both).await.status, 400);
    assert_eq!(
        kit.get("/v1/me", Some(&token)).await.body["quota"]["used"],
        0
    );

    let typed = plate.to_lowercase();
    let r = kit
        .post_check(
            &token,
            by_plate(&typed, "vehicle_registration", Some("RSD-1/2026")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    assert_eq!(
        r.body["document"]["fields"]["registration_number"],
        plate.as_str()
    );
    assert_eq!(r.body["quota"]["used"], 1);

    let audit = kit.store.audit_chain(&officer.id).await.unwrap();
    let released = audit
        .iter()
        .find(|r| r.entry.event.as_str() == "document_released")
        .unwrap();
    let pseudonym = kit.pseudonym(&owner.pesel);
    assert_eq!(
        released.entry.citizen.as_deref(),
        Some(pseudonym.as_str()),
        "the owner sees it in their history"
    );

    // A clerk's role has no plate lookups.
    let clerk_token = kit.login(&clerk).await;
    let r = kit.post_check(&clerk_token, json!({"subject": {"plate": plate}, "document": "vehicle_registration", "purpose": "vehicle_check"})).await;
    r.assert_refused(403, "not_permitted");
}
