//! What a caller sees when a register misbehaves: hangs, errors, broken or
//! oversized answers, and the circuit breaker opening and closing.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use okaz_protocol::DocumentType;
use okaz_registry::breaker::BreakerState;
use okaz_registry::{Register, RegisterClient, RegistryError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_register_is_unavailable_within_the_bound() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.total_timeout = Duration::from_millis(400);
    });
    let s = &sb.find("valid_id", 1)[0];
    fault(&sb, "persons", |f| f.hang = true);
    let t0 = Instant::now();
    let e = client
        .fetch_document(&pesel(&s.pesel), DocumentType::IdCard)
        .await
        .unwrap_err();
    let took = t0.elapsed();
    assert!(
        matches!(
            e,
            RegistryError::Unavailable {
                register: "persons",
                ..
            }
        ),
        "{e}"
    );
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    // Other registers are unaffected.
    client.contact(&pesel(&s.pesel)).await.unwrap();
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_below_the_bound_is_tolerated_and_above_it_is_not() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.total_timeout = Duration::from_millis(600);
    });
    let s = &sb.find("licence", 1)[0];
    fault(&sb, "drivers", |f| f.latency_ms = 100);
    client
        .fetch_document(&pesel(&s.pesel), DocumentType::DrivingLicence)
        .await
        .unwrap();
    fault(&sb, "drivers", |f| f.latency_ms = 2000);
    let e = client
        .fetch_document(&pesel(&s.pesel), DocumentType::DrivingLicence)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unavailable { .. }), "{e}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuit_opens_after_repeated_failures_and_closes_after_cooldown() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.breaker_failures = 3;
        c.breaker_cooldown = Duration::from_millis(300);
        c.retries = 1;
    });
    let s = &sb.find("valid_id", 1)[0];
    let p = pesel(&s.pesel);
    fault(&sb, "persons", |f| f.error_rate = 1.0);
    for _ in 0..3 {
        let e = client
            .fetch_document(&p, DocumentType::IdCard)
            .await
            .unwrap_err();
        assert!(matches!(e, RegistryError::Unavailable { .. }), "{e}");
    }
    assert!(matches!(
        client.breaker_state(Register::Persons),
        BreakerState::Open { .. }
    ));
    let e = client
        .fetch_document(&p, DocumentType::IdCard)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::CircuitOpen {
                register: "persons"
            }
        ),
        "{e}"
    );
    // The register recovers; after the cooldown one probe closes the circuit.
    sb.clear_faults();
    let e = client
        .fetch_document(&p, DocumentType::IdCard)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::CircuitOpen { .. }));
    tokio::time::sleep(Duration::from_millis(350)).await;
    client
        .fetch_document(&p, DocumentType::IdCard)
        .await
        .unwrap();
    assert_eq!(
        client.breaker_state(Register::Persons),
        BreakerState::Closed { failures: 0 }
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_ride_over_intermittent_errors() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.retries = 8;
        c.breaker_failures = 100;
    });
    let s = &sb.find("valid_id", 1)[0];
    fault(&sb, "persons", |f| f.error_rate = 0.5);
    let mut ok = 0;
    for _ in 0..10 {
        if client
            .fetch_document(&pesel(&s.pesel), DocumentType::IdCard)
            .await
            .is_ok()
        {
            ok += 1;
        }
    }
    // Nine attempts at 50% each fail together with p = 1/512 per call.
    assert!(ok >= 9, "only {ok} of 10 succeeded");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_are_typed_errors_for_every_register() {
    let sb = sandbox().await;
    let client = client_with(&sb, |c| {
        c.breaker_failures = 1000;
    });
    fault(&sb, "all", |f| f.malformed = true);
    for kind in DocumentType::ALL {
        let tag = format!("{}:valid", kind.as_str());
        let s = &sb.find(&tag, 1)[0];
        // Three rounds cover each way the sandbox breaks answers.
        for _ in 0..3 {
            let e = client
                .fetch_document(&pesel(&s.pesel), kind)
                .await
                .unwrap_err();
            assert!(matches!(e, RegistryError::Malformed { .. }), "{kind}: {e}");
            assert!(!e.to_string().contains(&s.pesel));
        }
    }
    let s = &sb.find("contactable", 1)[0];
    let e = client.contact(&pesel(&s.pesel)).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Malformed {
                register: "contacts",
                ..
            }
        ),
        "{e}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_answers_are_too_large() {
    let sb = sandbox().await;
    let client = client(&sb);
    let s = &sb.find("student_id:valid", 1)[0];
    fault(&sb, "students", |f| f.oversized = true);
    let e = client
        .fetch_document(&pesel(&s.pesel), DocumentType::StudentId)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::TooLarge {
                register: "students"
            }
        ),
        "{e}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_unavailable_not_a_panic() {
    let sb = sandbox().await;
    let mut cfg = config(&sb);
    sb.shutdown().await;
    cfg.retries = 0;
    let client = RegisterClient::new(cfg).unwrap();
    let p = pesel("44051401359");
    let e = client
        .fetch_document(&p, DocumentType::IdCard)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unavailable { .. }), "{e}");
}
