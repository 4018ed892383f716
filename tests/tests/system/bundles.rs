//! Bundles: a traffic stop (the driver's licence by PESEL, the vehicle's
//! registration, inspection and OC insurance by plate) is one counted,
//! audited check; a part whose register is down shows as unavailable while
//! the others show.

use okaz_tests::Kit;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traffic_stop_is_one_counted_check_with_four_documents() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence"]).await;
    let owner = kit.citizen(&["adult", "vehicle"]).await;
    let plate = owner.plates.first().expect("a vehicle has a plate").clone();
    let token = kit.login(&officer).await;

    let me = kit.get("/v1/me", Some(&token)).await;
    let bundles = me.body["permissions"]["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 1, "{}", me.body);
    assert_eq!(bundles[0]["name"], "traffic_stop");
    assert_eq!(
        me.body["permissions"]["subjects"],
        json!(["pesel", "plate", "id_card_number", "licence_number"])
    );

    // Malformed subjects cost nothing.
    for subject in [
        json!({"pesel": driver.pesel, "plate": "WA-12!"}),
        json!({"pesel": "44051401358", "plate": plate}),
        json!({"pesel": driver.pesel}),
    ] {
        let r = kit
            .post(
                "/v1/bundles",
                Some(&token),
                json!({"bundle": "traffic_stop", "subject": subject, "case_reference": "RSD-9/2026"}),
            )
            .await;
        assert!(r.status == 400, "{subject}: {} {}", r.status, r.body);
    }
    assert_eq!(
        kit.get("/v1/me", Some(&token)).await.body["quota"]["used"],
        0
    );

    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "traffic_stop", "subject": {"pesel": driver.pesel, "plate": plate.to_lowercase()}, "case_reference": "RSD-9/2026"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["quota"]["used"], 1, "the bundle counts once");
    let parts = r.body["parts"].as_array().unwrap();
    let kinds: Vec<&str> = parts.iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "driving_licence",
            "vehicle_registration",
            "technical_inspection",
            "oc_insurance"
        ]
    );
    for p in parts {
        assert_eq!(p["status"], "released", "{p}");
    }
    assert!(parts[0]["document"]["fields"]["categories"].is_array());
    assert_eq!(
        parts[1]["document"]["fields"]["registration_number"],
        plate.as_str()
    );
    assert!(
        parts[1]["document"]["fields"].get("given_names").is_none(),
        "each part is cut to its purpose's fields"
    );

    let id = r.body["id"].as_str().unwrap();
    let audit = kit.store.audit_chain(&officer.id).await.unwrap();
    let of_check: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.verification.as_deref() == Some(id))
        .collect();
    let counted = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "attempt_counted")
        .count();
    assert_eq!(counted, 1, "one counted check");
    let released: Vec<_> = of_check
        .iter()
        .filter(|r| r.entry.event.as_str() == "document_released")
        .map(|r| r.entry.document.clone().unwrap())
        .collect();
    assert_eq!(released.len(), 4, "four documents under one check");
    assert!(of_check
        .iter()
        .all(|r| r.entry.case_reference.as_deref() == Some("RSD-9/2026")));
    let owner_pseudonym = kit.pseudonym(&owner.pesel);
    let vehicle = of_check
        .iter()
        .find(|r| r.entry.document.as_deref() == Some("vehicle_registration"))
        .unwrap();
    assert_eq!(
        vehicle.entry.citizen.as_deref(),
        Some(owner_pseudonym.as_str()),
        "the vehicle's owner sees the check of their papers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_whose_register_is_down_is_unavailable_and_the_others_show() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence"]).await;
    let owner = kit.citizen(&["adult", "vehicle"]).await;
    let plate = owner.plates.first().unwrap().clone();
    let token = kit.login(&officer).await;
    kit.fault("insurance", |f| f.error_rate = 1.0);
    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "traffic_stop", "subject": {"pesel": driver.pesel, "plate": plate}, "case_reference": "RSD-9/2026"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let statuses: Vec<&str> = r.body["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["released", "released", "released", "unavailable"]
    );
    assert!(r.body["parts"][3].get("document").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_may_not_run_a_traffic_stop_and_that_costs_nothing() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let (_, token, citizen) = kit.clerk_and_citizen("USC-1").await;
    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "traffic_stop", "subject": {"pesel": citizen.pesel, "plate": "WA1234X"}}),
        )
        .await;
    r.assert_refused(403, "not_permitted");
    assert_eq!(r.body["quota"]["used"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerks_bundle_counts_once_sends_one_code_and_releases_both_cut_to_their_purposes() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let clerk = kit.officer("clerk", "USC-1").await;
    let citizen = kit
        .citizen(&["pensioner", "valid_id", "pensioner_id:valid", "contactable"])
        .await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let token = kit.login(&clerk).await;

    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "pensioner_discount", "subject": {"pesel": citizen.pesel}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "awaiting_code");
    assert_eq!(r.body["quota"]["used"], 1, "counted once");
    let inbox = kit.inbox(&phone).await;
    assert_eq!(inbox.len(), 1, "one SMS for both documents");
    assert!(
        inbox[0].contains("dowod osobisty i legitymacja emeryta-rencisty"),
        "{}",
        inbox[0]
    );
    let id = r.body["id"].as_str().unwrap();
    let code = kit.latest_code(&phone).await;
    let done = kit.give_code(&token, id, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["bundle"], "pensioner_discount");
    let parts = done.body["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    for p in parts {
        assert_eq!(p["status"], "released", "{p}");
    }
    // identity_confirmation releases the birth date; entitlement_check does not.
    assert!(parts[0]["document"]["fields"].get("birth_date").is_some());
    assert!(parts[1]["document"]["fields"].get("birth_date").is_none());
    assert_eq!(done.body["quota"]["used"], 1, "still one");
    // Each released part carries its own receipt, signed with the log key.
    let published = kit.get("/v1/audit/checkpoint", None).await.body;
    let log_key = okaz_tlog::note::Verifier::parse(published["log_key"].as_str().unwrap()).unwrap();
    let mut receipts = std::collections::BTreeMap::new();
    for p in parts {
        let r: okaz_protocol::Receipt = serde_json::from_value(p["receipt"].clone())
            .unwrap_or_else(|e| panic!("a released part carries a receipt ({e}): {p}"));
        okaz_core::receipt::verify(&r, &log_key).unwrap();
        assert_eq!(r.verification, id);
        assert!(!p["receipt"].to_string().contains(&citizen.pesel));
        receipts.insert(r.leaf_hash.clone(), r.signature.clone());
    }
    assert_eq!(receipts.len(), 2, "one receipt per part, each its own leaf");

    let audit = kit.store.audit_chain(&clerk.id).await.unwrap();
    let released: Vec<_> = audit
        .iter()
        .filter(|r| {
            r.entry.event.as_str() == "document_released"
                && r.entry.verification.as_deref() == Some(id)
        })
        .collect();
    assert_eq!(released.len(), 2);
    for r in &released {
        let leaf = hex_of(&okaz_core::audit::leaf_hash(&r.entry));
        assert!(
            receipts.contains_key(&leaf),
            "the receipt names the record's leaf"
        );
    }
    // The citizen's history lists both parts, each with its receipt, as
    // for a single release; the download is the receipt the officer got.
    kit.integrate().await;
    let mut portal = kit.portal_agent();
    portal.sign_in(&citizen.pesel).await;
    let history = portal.get("/citizen/history").await;
    let links: Vec<String> = history
        .text
        .split("href=\"/citizen/receipt?record=")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_string))
        .collect();
    assert_eq!(links.len(), 2, "{}", history.text);
    for link in links {
        let page = portal.get(&format!("/citizen/receipt?record={link}")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let doc: serde_json::Value = serde_json::from_str(&page.text).unwrap();
        let leaf = doc["receipt"]["leaf_hash"].as_str().unwrap();
        assert_eq!(
            receipts.get(leaf).map(String::as_str),
            doc["receipt"]["signature"].as_str(),
            "{doc}"
        );
        assert!(doc["leaf_index"].is_u64(), "integrated: {doc}");
    }
    // The code is single use: the bundle is not released twice.
    let again = kit.give_code(&token, id, &code).await;
    assert_eq!(again.status, 410, "{}", again.body);
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traffic_stop_names_the_driver_by_licence_number_counted_once() {
    let opts = okaz_tests::Options::with_police_passwords();
    let population = opts.population;
    let kit = Kit::start_with(opts).await;
    let officer = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence"]).await;
    let licence = driver.licence_number.clone().expect("tagged licence");
    let owner = kit.citizen(&["adult", "vehicle"]).await;
    let plate = owner.plates.first().unwrap().clone();
    let token = kit.login(&officer).await;
    let stop = |subject: serde_json::Value| json!({"bundle": "traffic_stop", "subject": subject, "case_reference": "RSD-9/2026"});

    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(
        me.body["permissions"]["bundles"][0]["person_by_licence"], true,
        "{}",
        me.body
    );

    // A malformed number, or the driver named two ways, costs nothing.
    for (subject, code) in [
        (
            json!({"licence_number": "01234-19-1465", "plate": plate}),
            "invalid_document_number",
        ),
        (
            json!({"licence_number": licence, "pesel": driver.pesel, "plate": plate}),
            "invalid_request",
        ),
    ] {
        let r = kit.post("/v1/bundles", Some(&token), stop(subject)).await;
        r.assert_refused(400, code);
    }
    assert_eq!(
        kit.get("/v1/me", Some(&token)).await.body["quota"]["used"],
        0
    );

    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            stop(json!({"licence_number": licence, "plate": plate})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["quota"]["used"], 1, "the bundle counts once");
    let parts = r.body["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 4);
    for p in parts {
        assert_eq!(p["status"], "released", "{p}");
    }
    assert_eq!(parts[0]["kind"], "driving_licence");
    assert_eq!(
        parts[0]["document"]["fields"]["document_number"].as_str(),
        Some(licence.as_str()),
        "{}",
        parts[0]
    );
    let id = r.body["id"].as_str().unwrap().to_string();
    let audit = kit.store.audit_chain(&officer.id).await.unwrap();
    let counted = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "attempt_counted")
        .count();
    assert_eq!(counted, 1, "one counted check");
    let of_check: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.verification.as_deref() == Some(id.as_str()))
        .filter(|r| r.entry.event.as_str() == "document_released")
        .collect();
    assert_eq!(of_check.len(), 4, "four documents under one check");
    let driver_pseudonym = kit.pseudonym(&driver.pesel);
    let licence_record = of_check
        .iter()
        .find(|r| r.entry.document.as_deref() == Some("driving_licence"))
        .unwrap();
    assert_eq!(
        licence_record.entry.citizen.as_deref(),
        Some(driver_pseudonym.as_str()),
        "the licence found by number is its holder's: they see the check"
    );

    // A well-formed number no one holds: that part is not found, the
    // vehicle's papers still show, and it counts as one check.
    let nobody = okaz_sandbox::numbers::licence_number(okaz_tests::SANDBOX_SEED, population + 3);
    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            stop(json!({"licence_number": nobody, "plate": plate})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["quota"]["used"], 2);
    let statuses: Vec<&str> = r.body["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["not_found", "released", "released", "released"]);
    assert!(r.body["parts"][0].get("document").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_number_lookup_may_not_name_a_driver_by_licence_number() {
    let kit = Kit::start_with(okaz_tests::Options::with_police_passwords()).await;
    let clerk = kit.officer("clerk", "UM-Warszawa").await;
    let token = kit.login(&clerk).await;
    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "pensioner_discount", "subject": {"licence_number": "01234/19/1465"}}),
        )
        .await;
    r.assert_refused(400, "invalid_request");
    assert_eq!(
        kit.get("/v1/me", Some(&token)).await.body["quota"]["used"],
        0
    );
}
