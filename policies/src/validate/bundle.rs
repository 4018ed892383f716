//! Checks of `[bundles.NAME]` tables against the purposes.

use std::collections::BTreeMap;

use okaz_protocol::document::DocumentType;
use okaz_protocol::plate;

use super::checker::Checker;
use crate::bundle::{Bundle, BundlePart, PartSubject, MAX_PARTS};
use crate::model::Purpose;
use crate::raw::RawBundle;

/// Checks one bundle against the purposes and builds it.
pub(super) fn check_bundle(
    c: &mut Checker<'_>,
    file: usize,
    name: &str,
    b: &RawBundle,
    purposes: &BTreeMap<String, Purpose>,
) -> Bundle {
    let key = |k: &str| format!("bundles.{name}.{k}");
    if b.description.get_ref().trim().is_empty() {
        c.report(
            file,
            Some(b.description.span()),
            key("description"),
            "must not be empty".into(),
        );
    }
    if !(2..=MAX_PARTS).contains(&b.parts.len()) {
        let span = c.header_span(file, &format!("bundles.{name}"));
        let message = format!("a bundle has 2 to {MAX_PARTS} parts");
        c.report(file, span, key("parts"), message);
    }
    if purposes.contains_key(name) {
        // Challenges and audit records name a bundle where a purpose would
        // stand; one name for both would be ambiguous.
        let span = c.header_span(file, &format!("bundles.{name}"));
        c.report(
            file,
            span,
            format!("bundles.{name}"),
            "a bundle may not share its name with a purpose".into(),
        );
    }
    let mut parts = Vec::new();
    for p in &b.parts {
        let Some(document) = DocumentType::parse(p.document.get_ref()) else {
            let message = format!("unknown document \"{}\"", p.document.get_ref());
            c.report(file, Some(p.document.span()), key("parts"), message);
            continue;
        };
        if parts.iter().any(|q: &BundlePart| q.document == document) {
            let message = format!("document \"{document}\" is listed twice");
            c.report(file, Some(p.document.span()), key("parts"), message);
        }
        match purposes.get(p.purpose.get_ref()) {
            None => {
                let message = format!("unknown purpose \"{}\"", p.purpose.get_ref());
                c.report(file, Some(p.purpose.span()), key("parts"), message);
            }
            Some(purpose) if !purpose.fields.contains_key(&document) => {
                let message = format!(
                    "purpose \"{}\" releases nothing of {document}",
                    p.purpose.get_ref()
                );
                c.report(file, Some(p.purpose.span()), key("parts"), message);
            }
            Some(_) => {}
        }
        let subject = p
            .subject
            .as_ref()
            .map(|s| *s.get_ref())
            .unwrap_or(PartSubject::Person);
        if subject == PartSubject::Vehicle && !plate::DOCUMENTS.contains(&document) {
            let span = p.subject.as_ref().map(|s| s.span());
            let message = format!("a plate names a vehicle; {document} is not a vehicle document");
            c.report(file, span, key("parts"), message);
        }
        parts.push(BundlePart {
            document,
            purpose: p.purpose.get_ref().clone(),
            subject,
        });
    }
    Bundle {
        description: b.description.get_ref().clone(),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use crate::PolicySet;

    #[test]
    fn bad_bundles_are_refused_naming_the_key() {
        let base =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/default.toml")).unwrap();
        let bad = format!(
            "{base}\n[bundles.odd]\ndescription = \"x\"\nparts = [{{ document = \"id_card\", purpose = \"age_check\", subject = \"vehicle\" }}, {{ document = \"nope\", purpose = \"age_check\" }}]\n"
        );
        let e = PolicySet::from_sources(&[("default.toml".into(), bad)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("bundles.odd.parts"), "{e}");
        assert!(e.contains("not a vehicle document"), "{e}");
        assert!(e.contains("unknown document"), "{e}");
    }
}
