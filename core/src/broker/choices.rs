//! What a role may ask for, as the terminal offers it: each document with
//! the purposes that cover it, and the ways the role may name a subject.
//! Derived from the same policy `authorize` reads, so an offered pair is one
//! the broker accepts (case reference aside).

use okaz_policy::{Bundle, ConsentMode, PartSubject, PolicySet, Role};
use okaz_protocol::{docnumber, BundleChoice, Choice, DocumentType, SubjectKind};

/// Every document of `role` with the role's purposes that release some of it.
pub(crate) fn choices(policy: &PolicySet, role: &Role) -> Vec<Choice> {
    role.documents
        .iter()
        .map(|document| Choice {
            document: *document,
            purposes: role
                .purposes
                .iter()
                .filter(|p| {
                    policy
                        .purpose(p)
                        .is_some_and(|p| p.fields.get(document).is_some_and(|f| !f.is_empty()))
                })
                .cloned()
                .collect(),
        })
        .collect()
}

/// The subject kinds of `role`; mirrors `subject::may_use`.
pub(crate) fn subject_kinds(role: &Role) -> Vec<SubjectKind> {
    let mut kinds = vec![SubjectKind::Pesel];
    if role.plate_lookup && role.consent == ConsentMode::None {
        kinds.push(SubjectKind::Plate);
    }
    if role.document_number_lookup && role.consent == ConsentMode::None {
        if role.documents.contains(&DocumentType::IdCard) {
            kinds.push(SubjectKind::IdCardNumber);
        }
        if role.documents.contains(&DocumentType::DrivingLicence) {
            kinds.push(SubjectKind::LicenceNumber);
        }
    }
    kinds
}

/// The bundles of `role`, each with its documents and the subjects it needs.
pub(crate) fn bundles(policy: &PolicySet, role: &Role) -> Vec<BundleChoice> {
    role.bundles
        .iter()
        .filter_map(|name| {
            let b = policy.bundle(name)?;
            Some(BundleChoice {
                name: name.clone(),
                documents: b.parts.iter().map(|p| p.document).collect(),
                needs_pesel: b.needs_pesel(),
                needs_plate: b.needs_plate(),
                person_by_licence: person_by_licence(b, role),
            })
        })
        .collect()
}

/// Whether `role` may name the person of bundle `b` by licence number:
/// every person's part is a driving licence and the role may look it up by
/// number (mirrors `bundle::subjects_of` and its role check).
pub(crate) fn person_by_licence(b: &Bundle, role: &Role) -> bool {
    b.needs_pesel()
        && subject_kinds(role).contains(&SubjectKind::LicenceNumber)
        && b.parts
            .iter()
            .filter(|p| p.subject == PartSubject::Person)
            .all(|p| docnumber::LICENCE_DOCUMENTS.contains(&p.document))
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_protocol::DocumentType;

    fn default_policy() -> PolicySet {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
        PolicySet::load_dir(std::path::Path::new(dir)).unwrap()
    }

    #[test]
    fn clerk_is_offered_only_pairs_the_policy_accepts() {
        let p = default_policy();
        let clerk = p.role("clerk").unwrap();
        let offered = choices(&p, clerk);
        for c in &offered {
            for purpose in &c.purposes {
                assert!(
                    p.authorize("clerk", c.document, purpose, None).is_ok(),
                    "{:?} {purpose}",
                    c.document
                );
            }
            // Every pair left out is one the broker refuses.
            for purpose in clerk.purposes.iter().filter(|x| !c.purposes.contains(x)) {
                assert!(p.authorize("clerk", c.document, purpose, None).is_err());
            }
        }
        let id = offered
            .iter()
            .find(|c| c.document == DocumentType::IdCard)
            .unwrap();
        assert_eq!(id.purposes, vec!["age_check", "identity_confirmation"]);
        assert_eq!(subject_kinds(clerk), vec![SubjectKind::Pesel]);
    }

    #[test]
    fn police_may_name_a_vehicle_by_plate_and_documents_by_number() {
        let p = default_policy();
        let police = p.role("police").unwrap();
        assert_eq!(
            subject_kinds(police),
            vec![
                SubjectKind::Pesel,
                SubjectKind::Plate,
                SubjectKind::IdCardNumber,
                SubjectKind::LicenceNumber
            ]
        );
        // The verifier checks with the citizen's code: PESEL only.
        assert_eq!(
            subject_kinds(p.role("verifier").unwrap()),
            vec![SubjectKind::Pesel]
        );
    }
}

#[cfg(test)]
mod bundle_tests {
    use super::*;

    #[test]
    fn only_police_are_offered_the_traffic_stop_driver_by_licence_number() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
        let p = PolicySet::load_dir(std::path::Path::new(dir)).unwrap();
        let police = bundles(&p, p.role("police").unwrap());
        let stop = police.iter().find(|b| b.name == "traffic_stop").unwrap();
        assert!(stop.person_by_licence && stop.needs_plate);
        let clerk = bundles(&p, p.role("clerk").unwrap());
        assert!(!clerk.is_empty());
        assert!(clerk.iter().all(|b| !b.person_by_licence), "{clerk:?}");
    }
}
