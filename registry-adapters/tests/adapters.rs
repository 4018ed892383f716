//! Every adapter against the running sandbox over real HTTPS: every document
//! type, every status, the contact register, the test-tooling endpoint.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::*;
use okaz_protocol::{DocumentStatus, DocumentType, FieldValue};
use okaz_registry::http::{build_client, get_json, ReadLimits};
use okaz_registry::RegistryError;

/// The statuses a document type's register can express. The registers that
/// keep identity documents, licences, registrations and pensioner IDs have
/// all five; universities, schools and the large-family register have no
/// suspension (the sandbox draws none and shows one as cancelled); an
/// inspection has passed and current, overdue, or failed; an insurance
/// policy is in force, lapsed or cancelled.
fn statuses_of(kind: DocumentType) -> &'static [DocumentStatus] {
    use DocumentStatus::*;
    match kind {
        DocumentType::IdCard
        | DocumentType::DrivingLicence
        | DocumentType::VehicleRegistration
        | DocumentType::PensionerId => &DocumentStatus::ALL,
        DocumentType::TechnicalInspection | DocumentType::OcInsurance => {
            &[Valid, Expired, Cancelled]
        }
        DocumentType::StudentId | DocumentType::LargeFamilyCard | DocumentType::SchoolId => {
            &[Valid, Expired, ReportedLost, Cancelled]
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_document_type_and_status_maps_from_the_sandbox() {
    let sb = sandbox().await;
    let client = client(&sb);
    let mut statuses_seen = BTreeSet::new();
    let mut types_seen = BTreeSet::new();
    let mut pairs_seen = BTreeSet::new();
    for kind in DocumentType::ALL {
        for status in DocumentStatus::ALL {
            let tag = format!("{}:{}", kind.as_str(), status.as_str());
            let subjects = sb.find(&tag, 2);
            // Every pair a register can express must be there to be
            // checked (a missing one would otherwise pass unseen), and no
            // other pair may appear (so the table below stays true).
            if statuses_of(kind).contains(&status) {
                assert!(
                    !subjects.is_empty(),
                    "the sandbox holds no subject with {tag}"
                );
            } else {
                assert!(
                    subjects.is_empty(),
                    "{tag} is not in the table of what the register expresses"
                );
            }
            for s in &subjects {
                let doc = client
                    .fetch_document(&pesel(&s.pesel), kind)
                    .await
                    .unwrap_or_else(|e| panic!("{tag}: {e}"));
                assert_eq!(doc.kind, kind, "{tag}");
                assert_eq!(doc.status, status, "{tag}");
                for f in doc.fields.keys() {
                    assert!(
                        kind.fields().contains(&f.as_str()),
                        "{tag}: stray field {f}"
                    );
                }
                let has_photo_field = kind.fields().contains(&"photo");
                assert_eq!(doc.photo.is_some(), has_photo_field, "{tag}: photo");
                if kind.fields().contains(&"age_over_18") {
                    assert!(matches!(
                        doc.fields.get("age_over_18"),
                        Some(FieldValue::Flag(_))
                    ));
                    assert!(doc.fields.contains_key("birth_date"));
                }
                statuses_seen.insert(status.as_str());
                types_seen.insert(kind.as_str());
                pairs_seen.insert((kind.as_str(), status.as_str()));
            }
        }
    }
    assert_eq!(types_seen.len(), DocumentType::ALL.len(), "{types_seen:?}");
    assert_eq!(
        statuses_seen.len(),
        DocumentStatus::ALL.len(),
        "{statuses_seen:?}"
    );
    let expressible: usize = DocumentType::ALL
        .iter()
        .map(|k| statuses_of(*k).len())
        .sum();
    assert_eq!(
        pairs_seen.len(),
        expressible,
        "every document type in every status its register has: {pairs_seen:?}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_card_fields_match_the_population() {
    let sb = sandbox().await;
    let client = client(&sb);
    let s = &sb.find("valid_id", 1)[0];
    let c = sb.citizen(s.index);
    let doc = client
        .fetch_document(&c.pesel, DocumentType::IdCard)
        .await
        .unwrap();
    assert_eq!(
        doc.fields.get("document_number"),
        Some(&FieldValue::Text(c.id_card.number.clone()))
    );
    assert_eq!(
        doc.fields.get("surname"),
        Some(&FieldValue::Text(c.surname.clone()))
    );
    assert_eq!(
        doc.fields.get("birth_date"),
        Some(&FieldValue::date(c.birth_date))
    );
    assert_eq!(doc.source.register, "persons");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_documents_and_unknown_citizens_are_not_found() {
    let sb = sandbox().await;
    let client = client(&sb);
    let none = &sb.find("no_licence", 1)[0];
    let e = client
        .fetch_document(&pesel(&none.pesel), DocumentType::DrivingLicence)
        .await
        .unwrap_err();
    assert_not_found(&e, "drivers");
    let nv = &sb.find("no_vehicle", 1)[0];
    for kind in [
        DocumentType::VehicleRegistration,
        DocumentType::TechnicalInspection,
        DocumentType::OcInsurance,
    ] {
        let e = client
            .fetch_document(&pesel(&nv.pesel), kind)
            .await
            .unwrap_err();
        assert!(matches!(e, RegistryError::NotFound { .. }), "{kind}: {e}");
    }
    // A valid PESEL that this population never issued (born 1900).
    let outsider = okaz_protocol::Pesel::compose(
        chrono::NaiveDate::from_ymd_opt(1900, 1, 1).unwrap(),
        1,
        okaz_protocol::pesel::Sex::Male,
    )
    .unwrap();
    let e = client
        .fetch_document(&outsider, DocumentType::IdCard)
        .await
        .unwrap_err();
    assert_not_found(&e, "persons");
    assert!(!e.to_string().contains(&outsider.expose()));
    // Not-found is a healthy answer: the breaker stays closed.
    assert_eq!(
        client.breaker_state(okaz_registry::Register::Persons),
        okaz_registry::breaker::BreakerState::Closed { failures: 0 }
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_vehicles_give_the_first_one() {
    let sb = sandbox().await;
    let client = client(&sb);
    let s = &sb.find("several_vehicles", 1)[0];
    let c = sb.citizen(s.index);
    assert!(c.vehicles.len() >= 2);
    let doc = client
        .fetch_document(&c.pesel, DocumentType::VehicleRegistration)
        .await
        .unwrap();
    assert_eq!(
        doc.fields.get("vin"),
        Some(&FieldValue::Text(c.vehicles[0].vin.clone()))
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_register_shows_phone_absence_and_reservation() {
    let sb = sandbox().await;
    let client = client(&sb);
    let s = &sb.find("contactable", 1)[0];
    let c = client.contact(&pesel(&s.pesel)).await.unwrap();
    assert_eq!(c.phone, s.phone);
    assert!(c.phone.as_deref().unwrap().starts_with("+48"));
    assert!(!c.reserved);
    let s = &sb.find("no_phone", 1)[0];
    assert_eq!(client.contact(&pesel(&s.pesel)).await.unwrap().phone, None);
    let s = &sb.find("reserved_contact", 1)[0];
    assert!(client.contact(&pesel(&s.pesel)).await.unwrap().reserved);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn population_endpoint_lists_subjects_by_tag() {
    let sb = sandbox().await;
    let http = build_client(
        Some(sb.ca_pem.as_bytes()),
        std::time::Duration::from_secs(2),
    )
    .unwrap();
    let limits = ReadLimits {
        total_timeout: std::time::Duration::from_secs(5),
        retries: 0,
        max_bytes: 1 << 20,
    };
    for tag in [
        "valid_id",
        "expired_id",
        "lost_id",
        "suspended_licence",
        "no_phone",
        "reserved_contact",
        "several_vehicles",
        "student",
        "pensioner",
        "large_family",
        "school",
        "no_licence",
    ] {
        let url = sb
            .base_url()
            .join(&format!("_population?tag={tag}&limit=3"))
            .unwrap();
        let body = get_json(&http, &url, limits, "sandbox").await.unwrap();
        let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
        assert_eq!(list.len(), 3, "{tag}");
        for s in list {
            assert!(s["tags"].as_array().unwrap().iter().any(|t| t == tag));
            assert!(okaz_protocol::Pesel::parse(s["pesel"].as_str().unwrap()).is_ok());
            assert!(s["index"].as_u64().unwrap() < POPULATION);
            let plates = s["plates"].as_array().unwrap().len();
            match tag {
                "several_vehicles" => assert!(plates >= 2, "{s}"),
                "no_licence" => assert_eq!(plates, 0, "{s}"),
                _ => {}
            }
        }
    }
    sb.shutdown().await;
}
