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
use okaz_protocol::DocumentType;
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
}

impl AuditEvent {
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
        }
    }
}

/// A record before it is placed in its chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// When, to the microsecond (what both stores keep).
    pub at: DateTime<Utc>,
    /// What happened.
    pub event: String,
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
    /// Outcome code (`ok` or an error code).
    pub outcome: String,
    /// Names of released fields.
    pub fields: Vec<String>,
    /// Free reason given by a security officer (unlock), never citizen data.
    pub reason: Option<String>,
}

impl AuditEntry {
    /// A record of `event` by `actor` of `unit`, outcome `ok`.
    pub fn new(at: DateTime<Utc>, event: AuditEvent, actor: &str, unit: &str) -> Self {
        AuditEntry {
            at: at.trunc_subsecs(6),
            event: event.as_str().to_string(),
            actor: actor.to_string(),
            unit: unit.to_string(),
            subject_officer: None,
            citizen: None,
            document: None,
            purpose: None,
            case_reference: None,
            verification: None,
            outcome: "ok".to_string(),
            fields: Vec::new(),
            reason: None,
        }
    }

    /// Names the citizen (by pseudonym), document and purpose.
    pub fn about(mut self, citizen: &str, document: DocumentType, purpose: &str) -> Self {
        self.citizen = Some(citizen.to_string());
        self.document = Some(document.as_str().to_string());
        self.purpose = Some(purpose.to_string());
        self
    }

    /// Sets the outcome code.
    pub fn outcome(mut self, outcome: &str) -> Self {
        self.outcome = outcome.to_string();
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

/// Verifies every chain in a store; the number of records checked, or the
/// first broken link.
pub async fn verify_store(
    store: &dyn super::ports::Store,
) -> Result<Result<u64, BrokenLink>, super::ports::StoreError> {
    let mut checked = 0u64;
    for chain in store.audit_chains().await? {
        let records = store.audit_chain(&chain).await?;
        if let Err(broken) = verify_chain(&chain, &records) {
            return Ok(Err(broken));
        }
        checked += records.len() as u64;
    }
    Ok(Ok(checked))
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
        c[2].entry.outcome = "daily_limit_exceeded".into();
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
        c[2].entry.outcome = "x".into();
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
}
