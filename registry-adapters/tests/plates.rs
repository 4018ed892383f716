//! The police lookup by registration number against the running sandbox over
//! real HTTPS: every plate of a citizen finds that vehicle's registration,
//! inspection and OC insurance and names the citizen; unknown plates are not
//! found; malformed plates and unsupported kinds never reach a register;
//! faults make the lookup unavailable.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use okaz_protocol::{DocumentStatus, DocumentType, FieldValue};
use okaz_registry::breaker::BreakerState;
use okaz_registry::{Register, RegistryError};
use okaz_sandbox::{Citizen, Fault};

fn text(s: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(s.to_string()))
}

/// Citizens with one vehicle and with several.
fn drivers(sb: &okaz_sandbox::Sandbox) -> Vec<Citizen> {
    let mut out: Vec<Citizen> = sb
        .find("several_vehicles", 2)
        .iter()
        .chain(sb.find("vehicle", 3).iter())
        .map(|s| {
            let c = sb.citizen(s.index);
            // `/_population` lists the plates the lookup will find.
            let plates: Vec<&str> = c.vehicles.iter().map(|v| v.plate.as_str()).collect();
            assert_eq!(s.plates, plates);
            c
        })
        .collect();
    out.dedup_by_key(|c| c.index);
    assert!(out.iter().any(|c| c.vehicles.len() >= 2));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plate_fetches_its_vehicles_documents_and_names_the_owner() {
    let sb = sandbox().await;
    let client = client(&sb);
    for c in drivers(&sb) {
        for v in &c.vehicles {
            let reg = client
                .fetch_by_plate(&v.plate, DocumentType::VehicleRegistration)
                .await
                .unwrap();
            assert_eq!(reg.owner.as_ref(), Some(&c.pesel));
            assert_eq!(reg.document.kind, DocumentType::VehicleRegistration);
            assert_eq!(reg.document.status, v.registration.status, "{}", v.plate);
            assert_eq!(reg.document.fields.get("vin"), text(&v.vin).as_ref());
            assert_eq!(
                reg.document.fields.get("registration_number"),
                text(&v.plate).as_ref()
            );
            assert_eq!(
                reg.document.fields.get("document_number"),
                text(&v.registration.number).as_ref()
            );
            assert_eq!(reg.document.source.register, "vehicles");

            let insp = client
                .fetch_by_plate(&v.plate, DocumentType::TechnicalInspection)
                .await
                .unwrap();
            assert_eq!(insp.owner.as_ref(), Some(&c.pesel));
            assert_eq!(insp.document.kind, DocumentType::TechnicalInspection);
            assert_eq!(insp.document.fields.get("vin"), text(&v.vin).as_ref());
            let last = v.inspections.last().unwrap();
            assert_eq!(
                insp.document.fields.get("inspection_date"),
                Some(&FieldValue::date(last.date))
            );
            if !last.passed {
                assert_eq!(insp.document.status, DocumentStatus::Cancelled);
            }

            let oc = client
                .fetch_by_plate(&v.plate, DocumentType::OcInsurance)
                .await
                .unwrap();
            assert_eq!(oc.owner.as_ref(), Some(&c.pesel));
            assert_eq!(oc.document.kind, DocumentType::OcInsurance);
            assert_eq!(oc.document.source.register, "insurance");
            let policy = v.policies.iter().max_by_key(|p| p.until).unwrap();
            assert_eq!(
                oc.document.fields.get("policy_number"),
                text(&policy.number).as_ref()
            );
            assert_eq!(
                oc.document.fields.get("registration_number"),
                text(&v.plate).as_ref()
            );
            // The owner never shows in a Debug line.
            let dbg = format!("{reg:?} {insp:?} {oc:?}");
            assert!(!dbg.contains(&c.pesel.expose()), "{dbg}");
        }
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plates_typed_loosely_are_normalised() {
    let sb = sandbox().await;
    let client = client(&sb);
    let c = &drivers(&sb)[0];
    let plate = &c.vehicles[0].plate;
    let typed = format!(" {} {} ", &plate[..2].to_lowercase(), &plate[2..]);
    let a = client
        .fetch_by_plate(&typed, DocumentType::VehicleRegistration)
        .await
        .unwrap();
    assert_eq!(
        a.document.fields.get("registration_number"),
        text(plate).as_ref()
    );
    assert_eq!(a.owner.as_ref(), Some(&c.pesel));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_plates_are_not_found() {
    let sb = sandbox().await;
    let client = client(&sb);
    let c = &drivers(&sb)[0];
    let plate = &c.vehicles[0].plate;
    // Same code under another city's prefix, a code no one holds, and plates
    // of shapes this population never issues.
    let other_city = if plate.starts_with("WA") { "KR" } else { "WA" };
    let unknown = [
        format!("{other_city}{}", &plate[2..]),
        "ZZ00000".to_string(),
        "WA1".to_string(),
        "ABCDEFGH".to_string(),
    ];
    for p in &unknown {
        for kind in [
            DocumentType::VehicleRegistration,
            DocumentType::TechnicalInspection,
            DocumentType::OcInsurance,
        ] {
            let e = client.fetch_by_plate(p, kind).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    RegistryError::NotFound {
                        register: "vehicles"
                    }
                ),
                "{p} {kind}: {e}"
            );
            assert!(!e.to_string().contains(p.as_str()), "{e}");
        }
    }
    // A missing record is a healthy answer: the breaker stays closed.
    assert_eq!(
        client.breaker_state(Register::Vehicles),
        BreakerState::Closed { failures: 0 }
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_plates_and_other_kinds_are_refused_without_a_request() {
    // Nothing listens on this port: any request would be Unavailable and
    // count against the breaker, so a typed refusal proves none was made.
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.base_url = url::Url::parse("https://127.0.0.1:1/").unwrap();
        c.retries = 0;
        c.breaker_failures = 1;
    });
    for bad in [
        "",
        "   ",
        "WA-1234X",
        "WA1234567",
        "ŁD12345",
        "WA_1234",
        "WA\t1234",
        "WA1234\n",
        "WA%201234",
    ] {
        let e = client
            .fetch_by_plate(bad, DocumentType::VehicleRegistration)
            .await
            .unwrap_err();
        assert!(matches!(e, RegistryError::InvalidPlate), "{bad:?}: {e}");
        assert_eq!(e.register(), None);
        assert!(!e.is_register_failure());
    }
    for kind in DocumentType::ALL {
        if matches!(
            kind,
            DocumentType::VehicleRegistration
                | DocumentType::TechnicalInspection
                | DocumentType::OcInsurance
        ) {
            continue;
        }
        let e = client.fetch_by_plate("WA1234X", kind).await.unwrap_err();
        assert!(
            matches!(e, RegistryError::Unsupported { kind: k } if k == kind),
            "{kind}: {e}"
        );
    }
    for r in [Register::Vehicles, Register::Insurance] {
        assert_eq!(
            client.breaker_state(r),
            BreakerState::Closed { failures: 0 }
        );
    }
    // The same client does reach out for a well-formed plate (control).
    let e = client
        .fetch_by_plate("WA1234X", DocumentType::VehicleRegistration)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unavailable { .. }), "{e}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_make_plate_lookups_unavailable() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.total_timeout = Duration::from_millis(500);
        c.retries = 1;
        // High enough that the breaker does not open during this test.
        c.breaker_failures = 100;
    });
    let plate = drivers(&sb)[0].vehicles[0].plate.clone();
    let errors = Fault {
        error_rate: 1.0,
        ..Fault::default()
    };

    // CEPIK failing: every kind fails there, OC included (it needs the VIN).
    sb.set_fault("vehicles", errors.clone());
    for kind in [
        DocumentType::VehicleRegistration,
        DocumentType::TechnicalInspection,
        DocumentType::OcInsurance,
    ] {
        let e = client.fetch_by_plate(&plate, kind).await.unwrap_err();
        assert!(
            matches!(
                e,
                RegistryError::Unavailable {
                    register: "vehicles",
                    ..
                }
            ),
            "{kind}: {e}"
        );
    }
    // A hanging CEPIK is unavailable within the bound.
    fault(&sb, "vehicles", |f| f.hang = true);
    let t0 = std::time::Instant::now();
    let e = client
        .fetch_by_plate(&plate, DocumentType::VehicleRegistration)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unavailable { .. }), "{e}");
    assert!(t0.elapsed() < Duration::from_millis(2000));

    // UFG failing: the registration still comes, OC does not.
    sb.clear_faults();
    sb.set_fault("insurance", errors);
    client
        .fetch_by_plate(&plate, DocumentType::VehicleRegistration)
        .await
        .unwrap();
    let e = client
        .fetch_by_plate(&plate, DocumentType::OcInsurance)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unavailable {
                register: "insurance",
                ..
            }
        ),
        "{e}"
    );

    // Broken answers are typed errors, never a document.
    sb.clear_faults();
    fault(&sb, "vehicles", |f| f.malformed = true);
    for _ in 0..3 {
        let e = client
            .fetch_by_plate(&plate, DocumentType::VehicleRegistration)
            .await
            .unwrap_err();
        assert!(matches!(e, RegistryError::Malformed { .. }), "{e}");
    }
    sb.clear_faults();
    client
        .fetch_by_plate(&plate, DocumentType::TechnicalInspection)
        .await
        .unwrap();
    sb.shutdown().await;
}
