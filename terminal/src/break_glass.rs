//! The officer's break-glass, as the terminal decides it: when it is
//! offered, and the check it repeats. The broker decides whether it is
//! allowed (`core::break_glass`); the terminal only offers it where the
//! broker would not refuse it out of hand.
//!
//! A consent role (emergency) overrides "no code can be had": offered after
//! a refusal saying so, or while waiting for a code the citizen cannot give.
//! A consent-free role (police) overrides the daily limit. The broker locks
//! the account on the attempt past the limit, so a `daily_limit_exceeded`
//! refusal comes too late (a break-glass would then meet `account_locked`):
//! the terminal offers it instead of sending the check that would lock.

use okaz_protocol::{BreakGlassRequest, ErrorCode, Permissions, QuotaView, VerificationRequest};
use zeroize::Zeroize;

/// Longest justification the terminal takes: the default policy's
/// `justification_max_chars` (the broker enforces its own).
pub const JUSTIFICATION_MAX: usize = 500;

/// Which refusal a break-glass of this role overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrides {
    /// A consent check released without the citizen's code.
    NoCode,
    /// A consent-free check past the daily limit.
    DailyLimit,
}

/// What a break-glass of a role with permissions `p` would override;
/// `None` when the role may not break glass.
pub fn overrides(p: &Permissions) -> Option<Overrides> {
    match (p.break_glass, p.consent.as_str()) {
        (false, _) => None,
        // As the broker's `override_for`: consent-free overrides the limit.
        (true, "none") => Some(Overrides::DailyLimit),
        (true, _) => Some(Overrides::NoCode),
    }
}

/// Whether a check refused with `code` may be redone by break-glass: the
/// codes that mean the citizen can get no code, for a consent role.
pub fn overridable(p: &Permissions, code: ErrorCode) -> bool {
    overrides(p) == Some(Overrides::NoCode)
        && matches!(
            code,
            ErrorCode::NotActivated | ErrorCode::NoContact | ErrorCode::SmsUnavailable
        )
}

/// Whether the next check of a consent-free break-glass role would pass
/// the daily limit (and so lock the account): break-glass is offered instead.
pub fn at_limit(p: &Permissions, quota: &QuotaView) -> bool {
    overrides(p) == Some(Overrides::DailyLimit) && quota.used >= quota.limit
}

/// The check a break-glass would repeat, kept from its submission until
/// the break-glass is sent or given up; wiped on drop (it names a citizen).
pub struct PendingCheck(VerificationRequest);

impl std::fmt::Debug for PendingCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingCheck")
            .field("document", &self.0.document)
            .field("purpose", &self.0.purpose)
            .finish_non_exhaustive()
    }
}

impl PendingCheck {
    /// Keeps the check (a copy of the one sent, or the one not sent).
    pub fn new(req: VerificationRequest) -> Self {
        PendingCheck(req)
    }

    /// The check.
    pub fn request(&self) -> &VerificationRequest {
        &self.0
    }

    /// The break-glass of this check: the same subject, document, purpose,
    /// case reference and photo, with the justification. The only place a
    /// break-glass request is built.
    pub fn break_glass(&self, justification: &str) -> BreakGlassRequest {
        let c = &self.0;
        BreakGlassRequest {
            subject: c.subject.clone(),
            document: c.document,
            purpose: c.purpose.clone(),
            case_reference: c.case_reference.clone(),
            justification: justification.to_string(),
            photo: c.photo,
        }
    }
}

impl Drop for PendingCheck {
    fn drop(&mut self) {
        self.0.subject.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_protocol::{DocumentType, PhotoFit, Subject};

    fn perms(break_glass: bool, consent: &str) -> Permissions {
        Permissions {
            break_glass,
            consent: consent.into(),
            ..Permissions::default()
        }
    }

    #[test]
    fn offered_only_for_a_role_that_may_and_a_refusal_it_overrides() {
        let medic = perms(true, "sms");
        let police = perms(true, "none");
        let clerk = perms(false, "sms");
        assert!(overridable(&medic, ErrorCode::NotActivated));
        assert!(overridable(&medic, ErrorCode::NoContact));
        assert!(!overridable(&medic, ErrorCode::DocumentNotFound));
        assert!(!overridable(&clerk, ErrorCode::NotActivated));
        // Police: the refusal locked the account; nothing to offer after it.
        assert!(!overridable(&police, ErrorCode::DailyLimitExceeded));
        let q = |used, limit| QuotaView {
            used,
            limit,
            resets_at: chrono::DateTime::UNIX_EPOCH,
        };
        assert!(at_limit(&police, &q(5, 5)));
        assert!(!at_limit(&police, &q(4, 5)));
        assert!(!at_limit(&medic, &q(5, 5)));
        assert!(!at_limit(&perms(false, "none"), &q(5, 5)));
    }

    #[test]
    fn the_break_glass_repeats_the_check_with_the_justification() {
        let check = PendingCheck::new(VerificationRequest {
            subject: Subject {
                pesel: Some("44051401359".into()),
                ..Subject::default()
            },
            document: DocumentType::IdCard,
            purpose: "operational_check".into(),
            case_reference: Some("RSD-1".into()),
            photo: Some(PhotoFit::NONE),
        });
        let bg = check.break_glass("suspect fleeing");
        assert_eq!(bg.subject.pesel.as_deref(), Some("44051401359"));
        assert_eq!(bg.check().purpose, "operational_check");
        assert_eq!(bg.case_reference.as_deref(), Some("RSD-1"));
        assert_eq!(bg.photo, Some(PhotoFit::NONE));
        assert_eq!(bg.justification, "suspect fleeing");
        assert!(!format!("{check:?}").contains("44051401359"));
    }
}
