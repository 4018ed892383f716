//! The lookups by document number against the running sandbox over real
//! HTTPS: an identity card number finds that card and names its holder, a
//! licence number that licence; numbers no one holds are not found;
//! malformed numbers never reach a register.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use okaz_protocol::{DocumentType, FieldValue};
use okaz_registry::RegistryError;

fn text(s: &str) -> Option<FieldValue> {
    Some(FieldValue::Text(s.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_number_finds_its_document_and_names_its_holder() {
    let sb = sandbox().await;
    let client = client(&sb);
    for s in sb.find("licence", 5) {
        let c = sb.citizen(s.index);
        assert_eq!(s.id_card_number, c.id_card.number);
        let id = client
            .fetch_id_card_by_number(&c.id_card.number.to_lowercase())
            .await
            .unwrap();
        assert_eq!(id.holder, c.pesel);
        assert_eq!(id.document.kind, DocumentType::IdCard);
        assert_eq!(id.document.status, c.id_card.status);
        assert_eq!(
            id.document.fields.get("document_number"),
            text(&c.id_card.number).as_ref()
        );
        let l = c.licence.as_ref().unwrap();
        let found = client
            .fetch_licence_by_number(&l.card.number)
            .await
            .unwrap();
        assert_eq!(found.holder, c.pesel);
        assert_eq!(found.document.kind, DocumentType::DrivingLicence);
        assert_eq!(
            found.document.fields.get("document_number"),
            text(&l.card.number).as_ref()
        );
        // The same document as the by-PESEL lookup gives.
        let by_pesel = client
            .fetch_document(&c.pesel, DocumentType::DrivingLicence)
            .await
            .unwrap();
        assert_eq!(by_pesel.fields, found.document.fields);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_no_one_holds_are_not_found_and_malformed_ones_never_leave() {
    let sb = sandbox().await;
    let client = client(&sb);
    let beyond = POPULATION + 11;
    let e = client
        .fetch_id_card_by_number(&okaz_sandbox::numbers::id_card_number(SEED, beyond))
        .await
        .unwrap_err();
    assert_not_found(&e, "persons");
    let e = client
        .fetch_licence_by_number(&okaz_sandbox::numbers::licence_number(SEED, beyond))
        .await
        .unwrap_err();
    assert_not_found(&e, "drivers");
    // A citizen without a licence holds no licence number: the one their
    // index would have is not found either.
    let none = sb.find("no_licence", 1);
    let s = none.first().expect("a citizen without a licence");
    let n = okaz_sandbox::numbers::licence_number(SEED, s.index);
    assert!(matches!(
        client.fetch_licence_by_number(&n).await.unwrap_err(),
        RegistryError::NotFound { .. }
    ));
    for bad in ["ABA400000", "AB1300000", ""] {
        assert!(matches!(
            client.fetch_id_card_by_number(bad).await.unwrap_err(),
            RegistryError::InvalidDocumentNumber(_)
        ));
    }
    assert!(matches!(
        client.fetch_licence_by_number("1/2/3").await.unwrap_err(),
        RegistryError::InvalidDocumentNumber(_)
    ));
}

#[test]
fn an_answer_about_another_document_is_malformed_never_released() {
    use okaz_registry::registers::numbers::{parse_id_card_by_number, parse_licence_by_number};
    let sb_citizen = |i| okaz_sandbox::population::citizen(SEED, i);
    let (a, b) = (sb_citizen(1), sb_citizen(2));
    let answer = serde_json::to_vec(&okaz_sandbox::render::id_card_by_number(&a)).unwrap();
    assert!(parse_id_card_by_number(&answer, &a.id_card.number).is_ok());
    let e = parse_id_card_by_number(&answer, &b.id_card.number).unwrap_err();
    assert!(matches!(e, RegistryError::Malformed { .. }), "{e}");
    // The echo right but the card inside another's.
    let mut wrong = okaz_sandbox::render::id_card_by_number(&a);
    wrong.seria_numer = b.id_card.number.clone();
    let wrong = serde_json::to_vec(&wrong).unwrap();
    assert!(parse_id_card_by_number(&wrong, &b.id_card.number).is_err());
    // Indexes far apart span birth dates, so adults with licences appear.
    let holder = (1..400u64)
        .map(|i| sb_citizen(i * 4_001))
        .find(|c| c.licence.is_some())
        .expect("a licence holder among 400 citizens");
    let l = holder.licence.as_ref().unwrap();
    let answer =
        serde_json::to_vec(&okaz_sandbox::render::licence_by_number(&holder).unwrap()).unwrap();
    assert!(parse_licence_by_number(&answer, &l.card.number).is_ok());
    assert!(matches!(
        parse_licence_by_number(&answer, "00000/00/0000").unwrap_err(),
        RegistryError::Malformed { .. }
    ));
}
