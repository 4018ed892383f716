//! Consent by one-time code: the challenge.
//!
//! ```text
//!  created ──answer──▶ releasing (lease) ──right code, released──▶ used
//!     ▲                   │ │ └──right code, register failed──▶ created (attempt given back)
//!     │                   │ └──wrong code──▶ created (attempts left) ──last wrong──▶ exhausted
//!     │                   └──lease runs out (broker crashed)──▶ created
//!     └──now >= expires_at──▶ expired          └──officer cancels──▶ cancelled
//! ```
//! Every answer takes one attempt and the challenge's release lease in one
//! statement, before the code is compared: while the lease runs, another
//! answer is refused (`challenge_releasing`), so one code never causes two
//! register reads or two releases. A register failure after the right code
//! ends the lease and gives the attempt back, in one transaction with its
//! audit record: the officer retries the same code. The lease outlives the
//! register client's worst case, so only a crashed broker lets one run out.
//! The code is six random digits from the OS CSPRNG. Only an HMAC of it is
//! stored, bound to the challenge id, under a server key: a plain hash of one
//! million codes would be reversed at once. The comparison is constant-time.

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::DocumentType;
use rand::Rng;
use zeroize::Zeroizing;

use super::keyring::KeyRing;

/// Lifetime the design allows at most.
pub const MAX_LIFETIME: Duration = Duration::minutes(10);

/// How long an answer holds its challenge: longer than a register read can
/// take (5 s total timeout with its retries), short enough that a crashed
/// broker's lease frees the challenge before the citizen's patience runs out.
pub const RELEASE_LEASE: Duration = Duration::seconds(30);

/// Until when an answer taken at `now` holds the challenge.
pub fn lease_until(now: DateTime<Utc>) -> DateTime<Utc> {
    now + RELEASE_LEASE
}

/// Whether another answer holds the challenge at `now`.
pub fn is_leased(releasing_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    releasing_until.is_some_and(|until| now < until)
}

/// Where a challenge stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeState {
    /// Waiting for the citizen's code.
    Awaiting,
    /// The right code was given; the document was released (or attempted).
    Used,
    /// Too many wrong codes.
    Exhausted,
    /// The officer cancelled it.
    Cancelled,
}

impl ChallengeState {
    /// Database name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeState::Awaiting => "awaiting",
            ChallengeState::Used => "used",
            ChallengeState::Exhausted => "exhausted",
            ChallengeState::Cancelled => "cancelled",
        }
    }

    /// From the database name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "awaiting" => Some(ChallengeState::Awaiting),
            "used" => Some(ChallengeState::Used),
            "exhausted" => Some(ChallengeState::Exhausted),
            "cancelled" => Some(ChallengeState::Cancelled),
            _ => None,
        }
    }
}

/// Why a code cannot be tried on a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// No such challenge for this officer and session.
    NotFound,
    /// Its lifetime passed.
    Expired,
    /// All attempts were used.
    Exhausted,
    /// It was answered already.
    Used,
    /// Another answer is being handled (its release lease runs).
    Releasing,
}

/// Why a challenge refuses an answer, from its stored state and the time.
pub fn closed_reason(
    state: ChallengeState,
    expires_at: DateTime<Utc>,
    attempts_used: u32,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> Option<Closed> {
    match state {
        ChallengeState::Used => Some(Closed::Used),
        ChallengeState::Exhausted => Some(Closed::Exhausted),
        ChallengeState::Cancelled => Some(Closed::NotFound),
        ChallengeState::Awaiting if attempts_used >= max_attempts => Some(Closed::Exhausted),
        ChallengeState::Awaiting if is_expired(expires_at, now) => Some(Closed::Expired),
        ChallengeState::Awaiting => None,
    }
}

/// Why a challenge refuses an answer, its release lease included: a
/// closed challenge says why; an open one held by another answer is
/// [`Closed::Releasing`].
pub fn refusal(
    state: ChallengeState,
    expires_at: DateTime<Utc>,
    attempts_used: u32,
    max_attempts: u32,
    releasing_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Closed> {
    closed_reason(state, expires_at, attempts_used, max_attempts, now)
        .or_else(|| is_leased(releasing_until, now).then_some(Closed::Releasing))
}

/// A challenge expires at its `expires_at` instant, not a moment later.
pub fn is_expired(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= expires_at
}

/// Whether an officer's wrong codes today, across challenges, lock the
/// account: a sign of guessing or misuse.
pub fn wrong_codes_lock(wrong_today: u32, threshold: u32) -> bool {
    threshold > 0 && wrong_today >= threshold
}

/// A fresh six-digit code, kept in memory only until it is sent.
pub fn new_code(rng: &mut impl Rng) -> Zeroizing<String> {
    Zeroizing::new(format!("{:06}", rng.gen_range(0..1_000_000u32)))
}

/// The stored form of a code: HMAC over the challenge id and the code under
/// the challenge key's current version, the version in front.
pub fn code_mac(key: &KeyRing, challenge_id: &str, code: &str) -> Vec<u8> {
    key.mac(&[b"challenge-code", challenge_id.as_bytes(), code.as_bytes()])
}

/// Whether `presented` is the code of this challenge (constant-time),
/// under the version the stored MAC names. A wiped MAC matches nothing.
pub fn code_matches(key: &KeyRing, challenge_id: &str, presented: &str, stored: &[u8]) -> bool {
    key.verify(
        &[
            b"challenge-code",
            challenge_id.as_bytes(),
            presented.trim().as_bytes(),
        ],
        stored,
    )
}

/// Whether the text typed is shaped like a code at all (six digits).
pub fn well_formed(code: &str) -> bool {
    let c = code.trim();
    c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())
}

/// Masks a phone number for the officer's screen: `+48 *** *** 789`.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(|c| c.is_ascii_digit()).collect();
    let tail: String = digits.iter().rev().take(3).rev().collect();
    let country = if phone.starts_with("+48") { "+48 " } else { "" };
    format!("{country}*** *** {tail}")
}

/// The SMS text: the code, who asks, for which document (in words, never
/// a wire name), and the warning; Polish, then the English line. Plain
/// ASCII, so the message fits GSM 7-bit and is not split into UCS-2 parts.
pub fn sms_text(code: &str, unit: &str, documents: &[DocumentType]) -> String {
    let pl = joined(documents.iter().map(|d| document_words(*d).0), "i");
    let en = joined(documents.iter().map(|d| document_words(*d).1), "and");
    format!(
        "okaz: kod {code}. {unit} prosi o wglad w dokument: {pl}. \
         Podaj kod tylko urzednikowi, ktory stoi przed Toba. / \
         Code {code}: {unit} asks to see your {en}. \
         Only tell it to the official in front of you."
    )
}

/// `a`, `a i b`, `a, b i c` (or with "and").
fn joined<'a>(words: impl Iterator<Item = &'a str>, and: &str) -> String {
    let words: Vec<&str> = words.collect();
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} {and} {last}", rest.join(", ")),
    }
}

/// A document's name as a citizen reads it, in Polish (ASCII) and English.
pub fn document_words(document: DocumentType) -> (&'static str, &'static str) {
    use DocumentType as D;
    match document {
        D::IdCard => ("dowod osobisty", "identity card"),
        D::DrivingLicence => ("prawo jazdy", "driving licence"),
        D::VehicleRegistration => ("dowod rejestracyjny", "vehicle registration"),
        D::TechnicalInspection => ("badanie techniczne pojazdu", "vehicle inspection"),
        D::OcInsurance => ("polisa OC", "OC insurance"),
        D::StudentId => ("legitymacja studencka", "student ID"),
        D::PensionerId => ("legitymacja emeryta-rencisty", "pensioner ID"),
        D::LargeFamilyCard => ("Karta Duzej Rodziny", "Large Family Card"),
        D::SchoolId => ("legitymacja szkolna", "school ID"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    fn key() -> KeyRing {
        let k = crate::pseudonym::SecretKey::new(vec![9; 32]).unwrap();
        KeyRing::new("challenge", [(1, k)]).unwrap()
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn sms_names_every_document_in_words_not_wire_names() {
        for d in DocumentType::ALL {
            let text = sms_text("123456", "USC Mokotow", &[d]);
            assert!(!text.contains('_'), "{text}");
            assert!(text.is_ascii(), "{text}");
            let (pl, en) = document_words(d);
            assert!(text.contains(pl) && text.contains(en), "{text}");
        }
        let text = sms_text("123456", "WRD Warszawa", &[DocumentType::DrivingLicence]);
        assert!(text.contains("dokument: prawo jazdy."), "{text}");
        assert!(text.contains("asks to see your driving licence."), "{text}");
        let both = [DocumentType::IdCard, DocumentType::LargeFamilyCard];
        let text = sms_text("123456", "USC-1", &both);
        assert!(
            text.contains("dowod osobisty i Karta Duzej Rodziny.")
                && text.contains("identity card and Large Family Card."),
            "{text}"
        );
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::BTreeSet<String> =
            (0..200).map(|_| new_code(&mut OsRng).to_string()).collect();
        assert!(codes.iter().all(|c| well_formed(c)));
        assert!(codes.len() > 150, "codes repeat too often: {}", codes.len());
    }

    #[test]
    fn mac_binds_code_to_challenge() {
        let m = code_mac(&key(), "ch-1", "123456");
        assert!(code_matches(&key(), "ch-1", "123456", &m));
        assert!(!code_matches(&key(), "ch-1", "123457", &m));
        assert!(!code_matches(&key(), "ch-2", "123456", &m));
        // A MAC wiped by retention matches no code.
        assert!(!code_matches(&key(), "ch-1", "123456", &[]));
    }

    #[test]
    fn closed_reasons_follow_the_diagram() {
        use ChallengeState::*;
        assert_eq!(closed_reason(Awaiting, t(300), 0, 3, t(0)), None);
        assert_eq!(closed_reason(Awaiting, t(300), 2, 3, t(299)), None);
        assert_eq!(
            closed_reason(Awaiting, t(300), 0, 3, t(300)),
            Some(Closed::Expired)
        );
        assert_eq!(
            closed_reason(Awaiting, t(300), 3, 3, t(0)),
            Some(Closed::Exhausted)
        );
        assert_eq!(closed_reason(Used, t(300), 1, 3, t(0)), Some(Closed::Used));
        assert_eq!(
            closed_reason(Exhausted, t(300), 3, 3, t(0)),
            Some(Closed::Exhausted)
        );
        assert_eq!(
            closed_reason(Cancelled, t(300), 0, 3, t(0)),
            Some(Closed::NotFound)
        );
    }

    #[test]
    fn a_live_release_lease_refuses_another_answer_until_it_runs_out() {
        use ChallengeState::*;
        let lease = Some(lease_until(t(10)));
        assert_eq!(
            refusal(Awaiting, t(300), 1, 3, lease, t(11)),
            Some(Closed::Releasing)
        );
        // The lease ends at its instant: a crashed broker frees it.
        let end = t(10) + RELEASE_LEASE;
        assert_eq!(refusal(Awaiting, t(300), 1, 3, lease, end), None);
        assert_eq!(refusal(Awaiting, t(300), 1, 3, None, t(11)), None);
        // A closed challenge says why, lease or not.
        assert_eq!(
            refusal(Used, t(300), 1, 3, lease, t(11)),
            Some(Closed::Used)
        );
        assert_eq!(
            refusal(Awaiting, t(300), 3, 3, lease, t(11)),
            Some(Closed::Exhausted)
        );
        assert!(RELEASE_LEASE < MAX_LIFETIME);
    }

    #[test]
    fn wrong_codes_lock_at_the_threshold() {
        assert!(!wrong_codes_lock(9, 10));
        assert!(wrong_codes_lock(10, 10));
        assert!(!wrong_codes_lock(100, 0), "0 disables the rule");
    }

    #[test]
    fn states_round_trip() {
        use ChallengeState::*;
        for s in [Awaiting, Used, Exhausted, Cancelled] {
            assert_eq!(ChallengeState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn phone_is_masked() {
        assert_eq!(mask_phone("+48601234789"), "+48 *** *** 789");
        assert!(!mask_phone("+48601234789").contains("601"));
    }

    #[test]
    fn malformed_codes_are_spotted() {
        assert!(!well_formed("12345"));
        assert!(!well_formed("12345a"));
        assert!(well_formed(" 123456 "));
    }
}
