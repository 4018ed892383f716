//! Break-glass: an emergency override of one refusal, under countersign.
//!
//! An officer of a role with `break_glass = true` may, giving a
//! justification, have one check released that would otherwise be refused:
//! a consent check where the citizen cannot read out a code (`no_code`), or
//! a check past the daily limit (`daily_limit`). The release is flagged
//! (its audit record's outcome is `break_glass`), and a supervisor must
//! decide within the policy's deadline:
//!
//! ```text
//!            countersign (before deadline)
//!  pending ───────────────────────────────▶ countersigned
//!     │  reject (before deadline)
//!     ├───────────────────────────────────▶ rejected   (officer locked)
//!     │  deadline passes (sweeper)
//!     └───────────────────────────────────▶ expired    (officer locked)
//! ```
//!
//! Every transition is one conditional update (`WHERE status = 'pending'`),
//! so two supervisors, or a supervisor and a sweeper on another replica,
//! cannot both move the same override.

use chrono::{DateTime, Utc};
use okaz_policy::{PolicySet, Role};

/// Which refusal a break-glass overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// A consent check released without the citizen's code.
    NoCode,
    /// A check past the officer's daily limit.
    DailyLimit,
}

impl Override {
    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Override::NoCode => "no_code",
            Override::DailyLimit => "daily_limit",
        }
    }

    /// The override a stored name means.
    pub fn parse(s: &str) -> Option<Self> {
        [Override::NoCode, Override::DailyLimit]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Where a break-glass stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Waiting for a supervisor.
    Pending,
    /// A supervisor countersigned it in time.
    Countersigned,
    /// A supervisor rejected it; the officer was locked.
    Rejected,
    /// Nobody decided before the deadline; the officer was locked.
    Expired,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Pending,
        Status::Countersigned,
        Status::Rejected,
        Status::Expired,
    ];

    /// Stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Countersigned => "countersigned",
            Status::Rejected => "rejected",
            Status::Expired => "expired",
        }
    }

    /// The status a stored name means.
    pub fn parse(s: &str) -> Option<Self> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A supervisor's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The emergency was real.
    Countersign,
    /// It was not: the officer is locked.
    Reject,
}

impl Decision {
    /// The status the decision leads to.
    pub fn status(self) -> Status {
        match self {
            Decision::Countersign => Status::Countersigned,
            Decision::Reject => Status::Rejected,
        }
    }
}

/// Why a justification was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JustificationError {
    /// Nothing left once cleaned.
    #[error("a justification is required")]
    Missing,
    /// Longer than the policy allows.
    #[error("the justification is longer than {0} characters")]
    TooLong(usize),
}

/// Digit runs this long or longer are replaced: a PESEL (11 digits) or a
/// phone number typed into a justification must not reach the database.
const LONGEST_DIGIT_RUN: usize = 8;

/// What stands where a long run of digits was typed.
pub const REDACTED: &str = "[number removed]";

/// The justification as kept: control characters become spaces, runs of
/// whitespace one space, runs of more than eight digits are removed (a
/// PESEL or phone number is citizen data, not a reason), trimmed; at most
/// `max` characters. Refused when empty or too long (counted before
/// redaction, so the limit is what the officer typed).
pub fn clean_justification(raw: &str, max: usize) -> Result<String, JustificationError> {
    let spaced: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() > max {
        return Err(JustificationError::TooLong(max));
    }
    let mut out = String::with_capacity(joined.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.chars().count() > LONGEST_DIGIT_RUN {
            out.push_str(REDACTED);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in joined.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    if out.trim().is_empty() {
        return Err(JustificationError::Missing);
    }
    Ok(out)
}

/// When a supervisor must have decided an override made at `at`.
pub fn deadline(policy: &PolicySet, at: DateTime<Utc>) -> DateTime<Utc> {
    let secs = i64::try_from(policy.break_glass.deadline.as_secs()).unwrap_or(i64::MAX);
    at + chrono::Duration::seconds(secs.min(i64::from(u32::MAX)))
}

/// Whether an override still `status` with this `deadline` is overdue at
/// `now`: pending and its deadline reached. The sweeper locks its officer.
pub fn overdue(status: Status, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == Status::Pending && now >= deadline
}

/// Whether a pending override may still be decided at `now`.
pub fn decidable(status: Status, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == Status::Pending && now < deadline
}

/// Whether an officer of role `signer_role` (named `signer_role_name`) may
/// countersign a break-glass of an officer of role `officer_role_name`:
/// the signer administers and manages that role, or the role names the
/// signer's role in `break_glass_countersign`. Unit and "not oneself" are
/// checked by the caller, who knows the officers.
pub fn may_decide(
    signer_role_name: &str,
    signer_role: &Role,
    officer_role_name: &str,
    officer_role: Option<&Role>,
) -> bool {
    let manages = signer_role.administers && signer_role.manages.contains(officer_role_name);
    let named = officer_role
        .map(|r| r.break_glass_countersign.contains(signer_role_name))
        .unwrap_or(false);
    manages || named
}

/// Which refusal a break-glass by a role with this consent mode overrides:
/// a consent role's is the code; a consent-free role's, the daily limit.
pub fn override_for(consent: okaz_policy::ConsentMode) -> Override {
    match consent {
        okaz_policy::ConsentMode::Sms => Override::NoCode,
        okaz_policy::ConsentMode::None => Override::DailyLimit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    #[test]
    fn a_justification_is_cleaned_and_bounded() {
        assert_eq!(
            clean_justification("  unconscious\u{0007} person,\n\tRTA  ", 100).unwrap(),
            "unconscious person, RTA"
        );
        assert_eq!(
            clean_justification("\u{0000}\n \u{001b}", 100),
            Err(JustificationError::Missing)
        );
        assert_eq!(
            clean_justification(&"x".repeat(101), 100),
            Err(JustificationError::TooLong(100))
        );
        assert!(clean_justification(&"x".repeat(100), 100).is_ok());
    }

    #[test]
    fn a_pesel_or_phone_typed_in_a_justification_is_removed() {
        let j = clean_justification("patient 44051401359 tel +48600100200, ward 12", 200).unwrap();
        assert!(
            !j.contains("44051401359") && !j.contains("600100200"),
            "{j}"
        );
        assert_eq!(j, format!("patient {REDACTED} tel +{REDACTED}, ward 12"));
        assert_eq!(clean_justification("44051401359", 200).unwrap(), REDACTED);
    }

    #[test]
    fn overdue_exactly_at_the_deadline_and_decidable_only_before() {
        let d = at(1000);
        assert!(!overdue(Status::Pending, d, at(999)));
        assert!(overdue(Status::Pending, d, at(1000)));
        assert!(!overdue(Status::Countersigned, d, at(5000)));
        assert!(!overdue(Status::Expired, d, at(5000)));
        assert!(decidable(Status::Pending, d, at(999)));
        assert!(!decidable(Status::Pending, d, at(1000)));
        assert!(!decidable(Status::Rejected, d, at(1)));
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for o in [Override::NoCode, Override::DailyLimit] {
            assert_eq!(Override::parse(o.as_str()), Some(o));
        }
        assert_eq!(Status::parse("x"), None);
        assert_eq!(Decision::Reject.status(), Status::Rejected);
    }

    #[test]
    fn the_default_policy_says_who_countersigns() {
        let text = include_str!("../../policies/default.toml");
        let set = PolicySet::from_sources(&[("default.toml".into(), text.into())]).unwrap();
        let r = |n: &str| set.role(n).unwrap();
        assert!(r("police").break_glass && r("emergency").break_glass);
        assert!(!r("clerk").break_glass);
        assert!(may_decide(
            "police_admin",
            r("police_admin"),
            "police",
            Some(r("police"))
        ));
        assert!(may_decide(
            "emergency_admin",
            r("emergency_admin"),
            "emergency",
            Some(r("emergency"))
        ));
        assert!(!may_decide(
            "security_officer",
            r("security_officer"),
            "police",
            Some(r("police"))
        ));
        assert!(!may_decide(
            "police",
            r("police"),
            "police",
            Some(r("police"))
        ));
        assert_eq!(
            deadline(&set, at(0)),
            at(12 * 3600),
            "default deadline is 12 hours"
        );
    }
}
