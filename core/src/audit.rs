//! The audit trail: typed events, hash-chained.
//!
//! Each officer's records form one chain: every record carries the hash of
//! the previous record in its chain, and its own hash covers that and its
//! content. Changing, removing or reordering a record breaks the chain at
//! that point, and [`verify_chain`] names the first broken link.
//!
//! Records name who acted, the citizen's pseudonym, the document, the
//! purpose, the outcome and which *fields* were released: never a value.

use chrono::{DateTime, SubsecRound, Utc};
use okaz_protocol::{DocumentType, ErrorCode};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// An officer logged in.
    LoginSucceeded,
    /// A login failed (wrong password or code, replayed code).
    LoginFailed,
    /// An officer logged out.
    LoggedOut,
    /// A verification was refused before a challenge was made.
    VerificationRefused,
    /// An attempt was counted against the daily limit (outcome says how).
    AttemptCounted,
    /// An attempt was counted and a challenge created (code sent).
    VerificationStarted,
    /// A code was tried and was wrong.
    CodeRejected,
    /// A code was right; the document was released.
    DocumentReleased,
    /// The code was right but the register failed; nothing was released.
    ReleaseFailed,
    /// A challenge was cancelled by the officer.
    VerificationCancelled,
    /// The account was locked.
    AccountLocked,
    /// A security officer unlocked an account.
    AccountUnlocked,
    /// An officer account was created.
    OfficerCreated,
    /// A security officer disabled an account.
    OfficerDisabled,
    /// A security officer enabled an account again.
    OfficerEnabled,
    /// A security officer reset an officer's password.
    PasswordReset,
    /// A security officer reset an officer's TOTP secret.
    TotpReset,
    /// A terminal certificate was bound to an officer (and a PIN set).
    CertificateBound,
    /// A citizen activated the service.
    CitizenActivated,
    /// A citizen deactivated the service.
    CitizenDeactivated,
    /// The SMS gateway reported a challenge's code delivered to the phone
    /// (a Kannel delivery report); the record names the challenge, never
    /// the number.
    SmsDelivered,
    /// The SMS gateway reported a challenge's code undeliverable.
    SmsFailed,
    /// Someone searched the audit trail (the search is on record too).
    AuditSearched,
    /// A security officer exported the unit's lockouts.
    LockoutsExported,
    /// A citizen disputed a check ("I did not agree to this"); the record
    /// names the check and the unit, never the comment.
    DisputeOpened,
    /// A security officer resolved a dispute, with a reason.
    DisputeResolved,
    /// A citizen chose which channels notices come on.
    NoticePrefsChanged,
    /// An officer overrode a refusal by break-glass; `reason` holds the
    /// cleaned justification, `outcome` which refusal (`no_code`,
    /// `daily_limit`), `verification` the check (and the break-glass id).
    BreakGlassUsed,
    /// A supervisor countersigned a break-glass (`subject_officer`: who used it).
    BreakGlassCountersigned,
    /// A supervisor rejected a break-glass; the officer is locked.
    BreakGlassRejected,
    /// A break-glass was left unsigned past its deadline; the officer is locked.
    BreakGlassExpired,
}

impl AuditEvent {
    /// Every event, in declaration order.
    pub const ALL: [AuditEvent; 31] = [
        AuditEvent::LoginSucceeded,
        AuditEvent::LoginFailed,
        AuditEvent::LoggedOut,
        AuditEvent::VerificationRefused,
        AuditEvent::AttemptCounted,
        AuditEvent::VerificationStarted,
        AuditEvent::CodeRejected,
        AuditEvent::DocumentReleased,
        AuditEvent::ReleaseFailed,
        AuditEvent::VerificationCancelled,
        AuditEvent::AccountLocked,
        AuditEvent::AccountUnlocked,
        AuditEvent::OfficerCreated,
        AuditEvent::CertificateBound,
        AuditEvent::OfficerDisabled,
        AuditEvent::OfficerEnabled,
        AuditEvent::PasswordReset,
        AuditEvent::TotpReset,
        AuditEvent::CitizenActivated,
        AuditEvent::CitizenDeactivated,
        AuditEvent::SmsDelivered,
        AuditEvent::SmsFailed,
        AuditEvent::AuditSearched,
        AuditEvent::LockoutsExported,
        AuditEvent::DisputeOpened,
        AuditEvent::DisputeResolved,
        AuditEvent::NoticePrefsChanged,
        AuditEvent::BreakGlassUsed,
        AuditEvent::BreakGlassCountersigned,
        AuditEvent::BreakGlassRejected,
        AuditEvent::BreakGlassExpired,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::LoginSucceeded => "login_succeeded",
            AuditEvent::LoginFailed => "login_failed",
            AuditEvent::LoggedOut => "logged_out",
            AuditEvent::VerificationRefused => "verification_refused",
            AuditEvent::AttemptCounted => "attempt_counted",
            AuditEvent::VerificationStarted => "verification_started",
            AuditEvent::CodeRejected => "code_rejected",
            AuditEvent::DocumentReleased => "document_released",
            AuditEvent::ReleaseFailed => "release_failed",
            AuditEvent::VerificationCancelled => "verification_cancelled",
            AuditEvent::AccountLocked => "account_locked",
            AuditEvent::AccountUnlocked => "account_unlocked",
            AuditEvent::OfficerCreated => "officer_created",
            AuditEvent::CertificateBound => "certificate_bound",
            AuditEvent::OfficerDisabled => "officer_disabled",
            AuditEvent::OfficerEnabled => "officer_enabled",
            AuditEvent::PasswordReset => "password_reset",
            AuditEvent::TotpReset => "totp_reset",
            AuditEvent::CitizenActivated => "citizen_activated",
            AuditEvent::CitizenDeactivated => "citizen_deactivated",
            AuditEvent::SmsDelivered => "sms_delivered",
            AuditEvent::SmsFailed => "sms_failed",
            AuditEvent::AuditSearched => "audit_searched",
            AuditEvent::LockoutsExported => "lockouts_exported",
            AuditEvent::DisputeOpened => "dispute_opened",
            AuditEvent::DisputeResolved => "dispute_resolved",
            AuditEvent::NoticePrefsChanged => "notice_prefs_changed",
            AuditEvent::BreakGlassUsed => "break_glass_used",
            AuditEvent::BreakGlassCountersigned => "break_glass_countersigned",
            AuditEvent::BreakGlassRejected => "break_glass_rejected",
            AuditEvent::BreakGlassExpired => "break_glass_expired",
        }
    }
}

/// How an action ended. Stored as its snake_case name: `ok`, a wire error
/// code, or one of the few audit-only outcomes below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened as asked.
    Ok,
    /// Refused or failed with this stable error code.
    Refused(ErrorCode),
    /// A login by certificate + PIN succeeded.
    CertificatePin,
    /// A login failed on the PIN (or a certificate not allowed for the role).
    InvalidPin,
    /// A login presented a TOTP step already used.
    TotpReplayed,
    /// An account was locked by too many wrong codes today.
    WrongCodes,
    /// An account was locked by too many failed logins.
    LoginFailures,
    /// A document released by break-glass, without the refusal it
    /// overrode: the flag on the release record (notices say "emergency").
    BreakGlass,
    /// A break-glass that overrode the missing code.
    NoCode,
    /// A break-glass that overrode the daily limit.
    DailyLimit,
    /// An account locked because its break-glass went unsigned.
    BreakGlassUnsigned,
    /// An account locked because a supervisor rejected its break-glass.
    BreakGlassRejected,
}

impl Outcome {
    /// Every outcome but the refusals (those are one per [`ErrorCode`]).
    pub const SPECIAL: [Outcome; 11] = [
        Outcome::Ok,
        Outcome::CertificatePin,
        Outcome::InvalidPin,
        Outcome::TotpReplayed,
        Outcome::WrongCodes,
        Outcome::LoginFailures,
        Outcome::BreakGlass,
        Outcome::NoCode,
        Outcome::DailyLimit,
        Outcome::BreakGlassUnsigned,
        Outcome::BreakGlassRejected,
    ];

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused(code) => code.as_str(),
            Outcome::CertificatePin => "certificate_pin",
            Outcome::InvalidPin => "invalid_pin",
            Outcome::TotpReplayed => "totp_replayed",
            Outcome::WrongCodes => "wrong_codes",
            Outcome::LoginFailures => "login_failures",
            Outcome::BreakGlass => "break_glass",
            Outcome::NoCode => "no_code",
            Outcome::DailyLimit => "daily_limit",
            Outcome::BreakGlassUnsigned => "break_glass_unsigned",
            Outcome::BreakGlassRejected => "break_glass_rejected",
        }
    }

    /// The outcome a stored name means; `None` for a name no version of
    /// okaz writes (the store reports such a record as corrupt).
    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::SPECIAL
            .into_iter()
            .find(|o| o.as_str() == s)
            .or_else(|| ErrorCode::parse(s).map(Outcome::Refused))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl AuditEvent {
    /// The event a stored name means.
    pub fn parse(s: &str) -> Option<AuditEvent> {
        AuditEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Why an account was locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    /// An attempt past the daily limit.
    DailyLimitExceeded,
    /// Too many wrong codes across challenges today.
    WrongCodes,
    /// Too many failed logins in a row.
    LoginFailures,
    /// A break-glass left unsigned past its deadline.
    BreakGlassUnsigned,
    /// A supervisor rejected a break-glass.
    BreakGlassRejected,
}

impl LockReason {
    /// Stored name (in `officers.lock_reason` and as the lock record's outcome).
    pub fn as_str(self) -> &'static str {
        self.outcome().as_str()
    }

    /// The outcome the lock record carries.
    pub fn outcome(self) -> Outcome {
        match self {
            LockReason::DailyLimitExceeded => Outcome::Refused(ErrorCode::DailyLimitExceeded),
            LockReason::WrongCodes => Outcome::WrongCodes,
            LockReason::LoginFailures => Outcome::LoginFailures,
            LockReason::BreakGlassUnsigned => Outcome::BreakGlassUnsigned,
            LockReason::BreakGlassRejected => Outcome::BreakGlassRejected,
        }
    }
}

/// A record before it is placed in its chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// When, to the microsecond (what both stores keep).
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: AuditEvent,
    /// The officer who acted (id), or `citizen` / `system`.
    pub actor: String,
    /// The actor's unit.
    pub unit: String,
    /// The officer acted upon, where not the actor (unlocks).
    pub subject_officer: Option<String>,
    /// The citizen's pseudonym.
    pub citizen: Option<String>,
    /// The document asked for.
    pub document: Option<String>,
    /// The purpose stated.
    pub purpose: Option<String>,
    /// A police case reference.
    pub case_reference: Option<String>,
    /// The verification (challenge) this belongs to.
    pub verification: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Names of released fields.
    pub fields: Vec<String>,
    /// Free reason given by a security officer (unlock), never citizen data.
    pub reason: Option<String>,
}

/// The actor named in records of what citizens do in the portal.
pub const CITIZEN_ACTOR: &str = "citizen";
/// The unit named in records of what citizens do in the portal.
pub const PORTAL_UNIT: &str = "portal";

impl AuditEntry {
    /// A record of `event` by `actor` of `unit`, outcome `ok`.
    pub fn new(at: DateTime<Utc>, event: AuditEvent, actor: &str, unit: &str) -> Self {
        AuditEntry {
            at: at.trunc_subsecs(6),
            event,
            actor: actor.to_string(),
            unit: unit.to_string(),
            subject_officer: None,
            citizen: None,
            document: None,
            purpose: None,
            case_reference: None,
            verification: None,
            outcome: Outcome::Ok,
            fields: Vec::new(),
            reason: None,
        }
    }

    /// A security officer's action on another officer's account.
    pub fn on_officer(
        at: DateTime<Utc>,
        event: AuditEvent,
        actor: &str,
        unit: &str,
        subject_officer: &str,
    ) -> Self {
        let mut e = AuditEntry::new(at, event, actor, unit);
        e.subject_officer = Some(subject_officer.to_string());
        e
    }

    /// A citizen's (de)activation of the service, by pseudonym.
    pub fn citizen(at: DateTime<Utc>, active: bool, citizen: &str) -> Self {
        let event = if active {
            AuditEvent::CitizenActivated
        } else {
            AuditEvent::CitizenDeactivated
        };
        let mut e = AuditEntry::new(at, event, CITIZEN_ACTOR, PORTAL_UNIT);
        e.citizen = Some(citizen.to_string());
        e
    }

    /// The record that the account of this entry's actor was locked, in
    /// the same transaction as the entry that caused it.
    pub fn locked(&self, reason: LockReason) -> Self {
        let mut lock = self.clone();
        lock.event = AuditEvent::AccountLocked;
        lock.outcome = reason.outcome();
        lock.fields = Vec::new();
        lock
    }

    /// Names the citizen (by pseudonym), document and purpose.
    pub fn about(mut self, citizen: &str, document: DocumentType, purpose: &str) -> Self {
        self.citizen = Some(citizen.to_string());
        self.document = Some(document.as_str().to_string());
        self.purpose = Some(purpose.to_string());
        self
    }

    /// The same record as another event (a check's steps share their subject).
    pub fn as_event(mut self, event: AuditEvent) -> Self {
        self.event = event;
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Refused with this code.
    pub fn refused(self, code: ErrorCode) -> Self {
        self.outcome(Outcome::Refused(code))
    }

    /// The document was released with these fields.
    pub fn released(mut self, fields: Vec<String>) -> Self {
        self.event = AuditEvent::DocumentReleased;
        self.outcome = Outcome::Ok;
        self.fields = fields;
        self
    }

    /// Names the verification.
    pub fn verification(mut self, id: &str) -> Self {
        self.verification = Some(id.to_string());
        self
    }

    /// Which chain this record belongs to: the acting officer's.
    pub fn chain(&self) -> &str {
        &self.actor
    }
}

/// The hash of a record placed after `prev_hash` at `seq` in its chain.
pub fn link_hash(prev_hash: &str, seq: i64, entry: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(seq.to_be_bytes());
    // Struct fields serialise in declaration order, so this is canonical.
    h.update(serde_json::to_vec(entry).unwrap_or_default());
    hex::encode(h.finalize())
}

/// The record's leaf in the transparency log: the RFC 6962 leaf hash of
/// its canonical content (the same bytes its chain link covers). It depends
/// on the content only, so the broker knows it (for a receipt) before the
/// integrator places the record in the tree.
pub fn leaf_hash(entry: &AuditEntry) -> okaz_tlog::merkle::Hash {
    okaz_tlog::merkle::leaf_hash(&serde_json::to_vec(entry).unwrap_or_default())
}

/// The hash before the first record of every chain.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// Database id.
    pub id: i64,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The content.
    pub entry: AuditEntry,
    /// The previous record's hash.
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain {chain} broken at record id {id} (seq {seq}): {why}")]
pub struct BrokenLink {
    /// The chain.
    pub chain: String,
    /// The first record that does not verify.
    pub id: i64,
    /// Its position.
    pub seq: i64,
    /// What does not match.
    pub why: &'static str,
}

/// Checks one chain, given in `seq` order.
pub fn verify_chain(chain: &str, records: &[StoredRecord]) -> Result<(), BrokenLink> {
    let mut prev = GENESIS.to_string();
    for (i, r) in records.iter().enumerate() {
        let broken = |why| BrokenLink {
            chain: chain.to_string(),
            id: r.id,
            seq: r.seq,
            why,
        };
        if r.seq != i as i64 + 1 {
            return Err(broken("a record is missing or out of order"));
        }
        if r.prev_hash != prev {
            return Err(broken("previous-hash does not match the record before"));
        }
        if link_hash(&prev, r.seq, &r.entry) != r.hash {
            return Err(broken("content does not match its hash"));
        }
        prev = r.hash.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredRecord> {
        let t0 = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry::new(t0, AuditEvent::VerificationStarted, "o1", "U1").about(
                    "ps",
                    DocumentType::IdCard,
                    "age_check",
                );
                let hash = link_hash(&prev, seq, &entry);
                let r = StoredRecord {
                    id: seq * 10,
                    seq,
                    entry,
                    prev_hash: prev.clone(),
                    hash,
                };
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain("o1", &chain(5)), Ok(()));
    }

    #[test]
    fn a_changed_record_is_named() {
        let mut c = chain(5);
        c[2].entry.outcome = Outcome::Refused(ErrorCode::DailyLimitExceeded);
        let e = verify_chain("o1", &c).unwrap_err();
        assert_eq!((e.id, e.seq), (30, 3));
    }

    #[test]
    fn a_removed_record_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain("o1", &c).unwrap_err().id, 30);
    }

    #[test]
    fn a_rehashed_record_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].entry.outcome = Outcome::WrongCodes;
        c[2].hash = link_hash(&c[2].prev_hash, 3, &c[2].entry);
        assert_eq!(verify_chain("o1", &c).unwrap_err().id, 40);
    }

    #[test]
    fn time_is_kept_to_the_microsecond() {
        let e = AuditEntry::new(
            DateTime::from_timestamp(1, 123_456_789).unwrap(),
            AuditEvent::LoggedOut,
            "a",
            "u",
        );
        assert_eq!(e.at.timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn every_outcome_and_event_round_trips_through_its_stored_name() {
        let mut outcomes = Outcome::SPECIAL.to_vec();
        outcomes.extend(ErrorCode::ALL.iter().map(|c| Outcome::Refused(*c)));
        for o in outcomes {
            assert_eq!(Outcome::parse(o.as_str()), Some(o), "{o:?}");
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        for e in AuditEvent::ALL {
            assert_eq!(AuditEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(Outcome::parse("made_up"), None);
        assert_eq!(AuditEvent::parse("made_up"), None);
    }

    #[test]
    fn a_lock_record_names_its_reason_and_releases_nothing() {
        let at = DateTime::from_timestamp(1, 0).unwrap();
        let e = AuditEntry::new(at, AuditEvent::CodeRejected, "o", "u").released(vec!["x".into()]);
        let l = e.locked(LockReason::WrongCodes);
        assert_eq!(l.event, AuditEvent::AccountLocked);
        assert_eq!(l.outcome.as_str(), "wrong_codes");
        assert!(l.fields.is_empty());
        assert_eq!(
            LockReason::DailyLimitExceeded.as_str(),
            "daily_limit_exceeded"
        );
        assert_eq!(LockReason::LoginFailures.as_str(), "login_failures");
    }
}
