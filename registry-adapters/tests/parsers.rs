//! Random and mutated bytes into every register parser: typed errors, never a
//! panic (the same parsers the cargo-fuzz targets drive).

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use okaz_sandbox::{citizen, render};
use proptest::prelude::*;

type Parser = fn(&[u8]) -> bool;

fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("id_card", |b| okaz_registry::parse_id_card(b).is_ok()),
        ("licence", |b| {
            okaz_registry::parse_driving_licence(b).is_ok()
        }),
        ("registration", |b| {
            okaz_registry::parse_vehicle_registration(b).is_ok()
        }),
        ("inspection", |b| {
            okaz_registry::parse_technical_inspection(b).is_ok()
        }),
        ("oc", |b| okaz_registry::parse_oc_insurance(b).is_ok()),
        ("student", |b| okaz_registry::parse_student_id(b).is_ok()),
        ("pensioner", |b| {
            okaz_registry::parse_pensioner_id(b).is_ok()
        }),
        ("large_family", |b| {
            okaz_registry::parse_large_family_card(b).is_ok()
        }),
        ("school", |b| okaz_registry::parse_school_id(b).is_ok()),
        ("contact", |b| okaz_registry::parse_contact(b).is_ok()),
        ("plate_registration", |b| {
            okaz_registry::parse_plate_registration(b).is_ok()
        }),
        ("plate_inspection", |b| {
            okaz_registry::parse_plate_inspection(b).is_ok()
        }),
    ]
}

/// Valid answers of every register, as seeds for mutation (built once).
fn valid_answers() -> &'static [Vec<u8>] {
    static ANSWERS: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    ANSWERS.get_or_init(build_answers)
}

fn build_answers() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for i in 0..200 {
        let c = citizen(3, i);
        out.push(serde_json::to_vec(&render::persons(&c)).unwrap());
        out.push(serde_json::to_vec(&render::contacts(&c)).unwrap());
        out.push(serde_json::to_vec(&render::students(&c)).unwrap());
        out.push(serde_json::to_vec(&render::large_family(&c)).unwrap());
        if let Some(d) = render::drivers(&c) {
            out.push(serde_json::to_vec(&d).unwrap());
        }
        if let Some(v) = render::vehicles(&c) {
            out.push(serde_json::to_vec(&v).unwrap());
            out.push(serde_json::to_vec(&render::insurance(&c, 0)).unwrap());
            for k in 0..c.vehicles.len() {
                out.push(serde_json::to_vec(&render::vehicle_by_plate(&c, k).unwrap()).unwrap());
            }
        }
        if let Some(p) = render::pensioners(&c) {
            out.push(serde_json::to_vec(&p).unwrap());
        }
        if let Some(s) = render::schools(&c) {
            out.push(serde_json::to_vec(&s).unwrap());
        }
    }
    out
}

#[test]
fn each_parser_accepts_its_own_registers_answers() {
    let c = (0..2000)
        .map(|i| citizen(3, i))
        .find(|c| !c.vehicles.is_empty() && c.licence.is_some())
        .unwrap();
    assert!(
        okaz_registry::parse_id_card(&serde_json::to_vec(&render::persons(&c)).unwrap()).is_ok()
    );
    assert!(okaz_registry::parse_driving_licence(
        &serde_json::to_vec(&render::drivers(&c).unwrap()).unwrap()
    )
    .is_ok());
    let v = serde_json::to_vec(&render::vehicles(&c).unwrap()).unwrap();
    assert!(okaz_registry::parse_vehicle_registration(&v).is_ok());
    assert!(okaz_registry::parse_technical_inspection(&v).is_ok());
    assert!(okaz_registry::parse_oc_insurance(
        &serde_json::to_vec(&render::insurance(&c, 0)).unwrap()
    )
    .is_ok());
    assert!(
        okaz_registry::parse_contact(&serde_json::to_vec(&render::contacts(&c)).unwrap()).is_ok()
    );
    let p = serde_json::to_vec(&render::vehicle_by_plate(&c, 0).unwrap()).unwrap();
    assert!(okaz_registry::parse_plate_registration(&p).is_ok());
    assert!(okaz_registry::parse_plate_inspection(&p).is_ok());
    // And refuses another register's shape.
    assert!(okaz_registry::parse_id_card(&v).is_err());
    assert!(okaz_registry::parse_plate_registration(&v).is_err());
    assert!(okaz_registry::parse_vehicle_registration(&p).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for (_, p) in parsers() {
            let _ = p(&bytes);
        }
    }

    #[test]
    fn mutated_answers_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let answers = valid_answers();
        let mut b = pick.get(answers).clone();
        for (at, byte) in edits {
            let i = at.index(b.len());
            b[i] = byte;
        }
        let keep = cut.index(b.len() + 1);
        b.truncate(keep.max(b.len() / 2));
        for (_, p) in parsers() {
            let _ = p(&b);
        }
    }
}
