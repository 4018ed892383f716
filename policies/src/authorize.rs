//! Whether a role may ask for a document for a purpose, and on what terms.

use std::collections::BTreeSet;
use std::time::Duration;

use okaz_protocol::document::DocumentType;
use okaz_protocol::ErrorCode;

use crate::bundle::{Bundle, BundlePart};
use crate::model::{ConsentMode, PolicySet};

/// Longest accepted case reference.
pub const CASE_REFERENCE_MAX_LEN: usize = 64;

/// The terms of one permitted check: role, purpose and global settings
/// resolved into one answer, the most restrictive rule winning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedCheck<'a> {
    /// The role's consent mode; purposes cannot relax it.
    pub consent: ConsentMode,
    /// The role's daily limit; the only source of limits.
    pub daily_limit: u32,
    /// The purpose's fields for this document; the role cannot widen them.
    pub fields: &'a BTreeSet<String>,
    /// Required if the role or the purpose requires it (either one suffices).
    pub case_reference_required: bool,
    /// Global challenge lifetime; irrelevant when `consent` is `None`.
    pub challenge_lifetime: Duration,
    /// Global wrong codes per challenge; irrelevant when `consent` is `None`.
    pub challenge_attempts: u32,
    /// Global display time on the terminal.
    pub display: Duration,
    /// Global operational history delay when `consent` is `None`, else zero:
    /// a check the citizen consented to is no secret from them.
    pub history_delay: Duration,
}

/// Why a check is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The officer's role is not in the policy.
    #[error("role is not defined in the policy")]
    UnknownRole,
    /// The role may not ask for this document.
    #[error("this role may not ask for this document")]
    DocumentNotAllowed,
    /// The role may not give this purpose.
    #[error("this role may not give this purpose")]
    PurposeNotAllowed,
    /// The purpose releases nothing of this document.
    #[error("this purpose does not cover this document")]
    PurposeNotForDocument,
    /// A case reference is required and none was given.
    #[error("a case reference is required")]
    CaseReferenceRequired,
    /// The role may not run this bundle, or there is no such bundle.
    #[error("this role may not run this bundle")]
    BundleNotAllowed,
    /// The case reference is not 1..=64 of `[A-Za-z0-9/._-]`.
    #[error("a case reference is 1 to 64 letters, digits or / . _ -")]
    CaseReferenceMalformed,
}

impl Denial {
    /// The stable API error code for this denial.
    pub fn code(&self) -> ErrorCode {
        match self {
            Denial::UnknownRole
            | Denial::DocumentNotAllowed
            | Denial::PurposeNotAllowed
            | Denial::PurposeNotForDocument
            | Denial::BundleNotAllowed => ErrorCode::NotPermitted,
            Denial::CaseReferenceRequired => ErrorCode::CaseReferenceRequired,
            Denial::CaseReferenceMalformed => ErrorCode::InvalidRequest,
        }
    }

    /// The precise reason, for logs and the audit (finer than `code`).
    pub fn reason(&self) -> &'static str {
        match self {
            Denial::UnknownRole => "unknown_role",
            Denial::DocumentNotAllowed => "document_not_allowed",
            Denial::PurposeNotAllowed => "purpose_not_allowed",
            Denial::PurposeNotForDocument => "purpose_not_for_document",
            Denial::BundleNotAllowed => "bundle_not_allowed",
            Denial::CaseReferenceRequired => "case_reference_required",
            Denial::CaseReferenceMalformed => "case_reference_malformed",
        }
    }
}

/// Checks the shape of a case reference.
///
/// A narrow alphabet and length keep it a reference: a free-text field would
/// invite officers to type names or PESELs into the audit trail.
pub fn validate_case_reference(reference: &str) -> Result<(), Denial> {
    let ok = (1..=CASE_REFERENCE_MAX_LEN).contains(&reference.len())
        && reference
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Denial::CaseReferenceMalformed)
    }
}

impl PolicySet {
    /// May `role` ask for `document` for `purpose` (with this case reference)? Most restrictive wins.
    pub fn authorize(
        &self,
        role: &str,
        document: DocumentType,
        purpose: &str,
        case_reference: Option<&str>,
    ) -> Result<ResolvedCheck<'_>, Denial> {
        let r = self.roles.get(role).ok_or(Denial::UnknownRole)?;
        if !r.documents.contains(&document) {
            return Err(Denial::DocumentNotAllowed);
        }
        if !r.purposes.contains(purpose) {
            return Err(Denial::PurposeNotAllowed);
        }
        // Validation guarantees a role's purposes exist; a missing one is still a refusal.
        let p = self
            .purposes
            .get(purpose)
            .ok_or(Denial::PurposeNotAllowed)?;
        let fields = p
            .fields
            .get(&document)
            .ok_or(Denial::PurposeNotForDocument)?;
        // A given reference is checked even when not required: it is stored in the audit.
        if let Some(reference) = case_reference {
            validate_case_reference(reference)?;
        }
        let case_reference_required = r.case_reference_required || p.case_reference_required;
        if case_reference_required && case_reference.is_none() {
            return Err(Denial::CaseReferenceRequired);
        }
        let g = &self.global;
        Ok(ResolvedCheck {
            consent: r.consent,
            daily_limit: r.daily_limit,
            fields,
            case_reference_required,
            challenge_lifetime: g.challenge_lifetime,
            challenge_attempts: g.challenge_attempts,
            display: g.display,
            history_delay: match r.consent {
                ConsentMode::None => g.operational_history_delay,
                ConsentMode::Sms => Duration::ZERO,
            },
        })
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
    pub challenge_lifetime: Duration,
    /// The fewest wrong codes of the parts.
    pub challenge_attempts: u32,
    /// The shortest display time of the parts.
    pub display: Duration,
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
        let min = |f: fn(&ResolvedCheck<'_>) -> Duration, d| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn set() -> PolicySet {
        PolicySet::load_dir(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn age_check_releases_no_birth_date() {
        let set = set();
        let check = set
            .authorize("clerk", DocumentType::IdCard, "age_check", None)
            .unwrap();
        assert!(check.fields.contains("age_over_18"));
        assert!(!check.fields.contains("birth_date"));
        assert_eq!(check.consent, ConsentMode::Sms);
        assert_eq!(check.history_delay, Duration::ZERO);
    }

    #[test]
    fn police_terms_come_from_role_and_global() {
        let set = set();
        let check = set
            .authorize(
                "police",
                DocumentType::IdCard,
                "operational_check",
                Some("KMP/1"),
            )
            .unwrap();
        assert_eq!(check.consent, ConsentMode::None);
        assert!(check.case_reference_required);
        assert_eq!(check.daily_limit, set.roles["police"].daily_limit);
        assert_eq!(check.history_delay, set.global.operational_history_delay);
    }

    #[test]
    fn a_purpose_can_require_a_case_reference_the_role_does_not() {
        let mut set = set();
        if let Some(p) = set.purposes.get_mut("age_check") {
            p.case_reference_required = true;
        }
        assert_eq!(
            set.authorize("clerk", DocumentType::IdCard, "age_check", None),
            Err(Denial::CaseReferenceRequired)
        );
        assert!(set
            .authorize("clerk", DocumentType::IdCard, "age_check", Some("A-1"))
            .is_ok());
    }

    #[test]
    fn case_reference_shape() {
        for ok in ["A", "KMP-WAW/2024/1234", "a.b_c-d/9", &"x".repeat(64)] {
            assert_eq!(validate_case_reference(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "Jan Kowalski",
            "ąę",
            "a\nb",
            "a;b",
            &"x".repeat(65),
        ] {
            assert_eq!(
                validate_case_reference(bad),
                Err(Denial::CaseReferenceMalformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_denial_has_its_code_and_reason() {
        let table = [
            (Denial::UnknownRole, "not_permitted", "unknown_role"),
            (
                Denial::DocumentNotAllowed,
                "not_permitted",
                "document_not_allowed",
            ),
            (
                Denial::PurposeNotAllowed,
                "not_permitted",
                "purpose_not_allowed",
            ),
            (
                Denial::PurposeNotForDocument,
                "not_permitted",
                "purpose_not_for_document",
            ),
            (
                Denial::CaseReferenceRequired,
                "case_reference_required",
                "case_reference_required",
            ),
            (
                Denial::CaseReferenceMalformed,
                "invalid_request",
                "case_reference_malformed",
            ),
        ];
        for (d, code, reason) in table {
            assert_eq!((d.code().as_str(), d.reason()), (code, reason));
            assert!(!d.to_string().is_empty());
        }
    }

    #[test]
    fn police_may_run_a_traffic_stop_and_clerks_may_not() {
        let p = set();
        let r = p
            .authorize_bundle("police", "traffic_stop", Some("RSD-1/26"))
            .unwrap();
        assert_eq!(r.parts.len(), 4);
        assert!(r.bundle.needs_plate() && r.bundle.needs_pesel());
        assert_eq!(
            p.authorize_bundle("police", "traffic_stop", None),
            Err(Denial::CaseReferenceRequired)
        );
        assert_eq!(
            p.authorize_bundle("clerk", "traffic_stop", None),
            Err(Denial::BundleNotAllowed)
        );
        assert_eq!(
            p.authorize_bundle("police", "no_such", Some("A")),
            Err(Denial::BundleNotAllowed)
        );
    }

    #[test]
    fn clerk_bundle_cuts_each_part_to_its_own_purpose() {
        let p = set();
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
}
