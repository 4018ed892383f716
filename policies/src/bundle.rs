//! Bundles: several documents asked for as one check (e.g. a traffic stop:
//! the driver's licence and the vehicle's registration, inspection and
//! insurance). A bundle is counted once and audited once; each part is
//! still authorised, and cut to its purpose's fields, as a check of its own.

use std::collections::BTreeMap;

use okaz_protocol::document::DocumentType;
use okaz_protocol::plate;
use serde::Deserialize;
use toml::Spanned;

use crate::authorize::{Denial, ResolvedCheck};
use crate::model::{ConsentMode, PolicySet, Purpose};
use crate::validate::Checker;

/// Most parts a bundle may have: every document type once.
pub const MAX_PARTS: usize = 9;

/// What names a part's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartSubject {
    /// The person checked, by PESEL.
    Person,
    /// The vehicle, by its plate (vehicle documents only).
    Vehicle,
}

/// One document of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePart {
    /// The document.
    pub document: DocumentType,
    /// The purpose whose fields it releases.
    pub purpose: String,
    /// Whose document it is.
    pub subject: PartSubject,
}

/// A named set of documents checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Shown to officers.
    pub description: String,
    /// The documents, in the order shown.
    pub parts: Vec<BundlePart>,
}

impl Bundle {
    /// Whether any part is named by a plate.
    pub fn needs_plate(&self) -> bool {
        self.parts.iter().any(|p| p.subject == PartSubject::Vehicle)
    }

    /// Whether any part is named by a PESEL.
    pub fn needs_pesel(&self) -> bool {
        self.parts.iter().any(|p| p.subject == PartSubject::Person)
    }
}

/// The terms of one permitted bundle: each part's own resolved check, and
/// what applies to the bundle as a whole (most restrictive wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedBundle<'a> {
    /// The bundle.
    pub bundle: &'a Bundle,
    /// Each part with its terms, in the bundle's order.
    pub parts: Vec<(&'a BundlePart, ResolvedCheck<'a>)>,
    /// The role's consent mode (all parts share the role, so one mode).
    pub consent: ConsentMode,
    /// The role's daily limit; the bundle counts once against it.
    pub daily_limit: u32,
    /// The shortest challenge lifetime of the parts.
    pub challenge_lifetime: std::time::Duration,
    /// The fewest wrong codes of the parts.
    pub challenge_attempts: u32,
    /// The shortest display time of the parts.
    pub display: std::time::Duration,
}

impl PolicySet {
    /// The bundle of this name, if defined.
    pub fn bundle(&self, name: &str) -> Option<&Bundle> {
        self.bundles.get(name)
    }

    /// May `role` run bundle `name` (with this case reference)? Every part
    /// must be permitted on its own; the first refusal refuses the bundle.
    pub fn authorize_bundle(
        &self,
        role: &str,
        name: &str,
        case_reference: Option<&str>,
    ) -> Result<ResolvedBundle<'_>, Denial> {
        let r = self.roles.get(role).ok_or(Denial::UnknownRole)?;
        let bundle = self
            .bundles
            .get(name)
            .filter(|_| r.bundles.contains(name))
            .ok_or(Denial::BundleNotAllowed)?;
        let mut parts = Vec::with_capacity(bundle.parts.len());
        for part in &bundle.parts {
            let check = self.authorize(role, part.document, &part.purpose, case_reference)?;
            parts.push((part, check));
        }
        let g = &self.global;
        let min = |f: fn(&ResolvedCheck<'_>) -> std::time::Duration, d| {
            parts.iter().map(|(_, c)| f(c)).min().unwrap_or(d)
        };
        Ok(ResolvedBundle {
            bundle,
            consent: r.consent,
            daily_limit: r.daily_limit,
            challenge_lifetime: min(|c| c.challenge_lifetime, g.challenge_lifetime),
            challenge_attempts: parts
                .iter()
                .map(|(_, c)| c.challenge_attempts)
                .min()
                .unwrap_or(g.challenge_attempts),
            display: min(|c| c.display, g.display),
            parts,
        })
    }
}

/// One `[bundles.NAME]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBundle {
    pub description: Spanned<String>,
    pub parts: Vec<RawPart>,
}

/// One part as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPart {
    pub document: Spanned<String>,
    pub purpose: Spanned<String>,
    #[serde(default)]
    pub subject: Option<Spanned<PartSubject>>,
}

/// Checks one bundle against the purposes and builds it.
pub(crate) fn check_bundle(
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

    fn default_policy() -> PolicySet {
        PolicySet::load_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn police_may_run_a_traffic_stop_and_clerks_may_not() {
        let p = default_policy();
        let r = p
            .authorize_bundle("police", "traffic_stop", Some("RSD-1/26"))
            .unwrap();
        assert_eq!(r.parts.len(), 4);
        assert!(r.bundle.needs_plate() && r.bundle.needs_pesel());
        assert_eq!(
            p.authorize_bundle("police", "traffic_stop", None),
            Err(crate::Denial::CaseReferenceRequired)
        );
        assert_eq!(
            p.authorize_bundle("clerk", "traffic_stop", None),
            Err(crate::Denial::BundleNotAllowed)
        );
        assert_eq!(
            p.authorize_bundle("police", "no_such", Some("A")),
            Err(crate::Denial::BundleNotAllowed)
        );
    }

    #[test]
    fn clerk_bundle_cuts_each_part_to_its_own_purpose() {
        let p = default_policy();
        let r = p
            .authorize_bundle("clerk", "large_family_discount", None)
            .unwrap();
        assert_eq!(r.parts.len(), 2);
        for (part, check) in &r.parts {
            let own = &p.purpose(&part.purpose).unwrap().fields[&part.document];
            assert_eq!(check.fields, own, "{:?}", part.document);
        }
        let card = r
            .parts
            .iter()
            .find(|(part, _)| part.purpose == "entitlement_check");
        assert!(!card.unwrap().1.fields.contains("birth_date"));
    }

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
