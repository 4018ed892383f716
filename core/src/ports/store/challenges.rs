//! Consent challenges: the code's MAC and the sealed subject, until used.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use okaz_protocol::DocumentType;

use super::*;
use crate::audit::AuditEntry;
use crate::consent::{ChallengeState, Closed};
use crate::notice::NoticePrefs;
use crate::pseudonym::Pseudonym;
use crate::session::TokenHash;

/// A new challenge to store. No phone number, no code: only its MAC.
pub struct NewChallenge {
    /// Id (UUID text).
    pub id: String,
    /// The officer who asked.
    pub officer_id: String,
    /// The session it is bound to.
    pub session_hash: TokenHash,
    /// The citizen.
    pub citizen: Pseudonym,
    /// The document.
    pub document: DocumentType,
    /// The purpose.
    pub purpose: String,
    /// Police case reference.
    pub case_reference: Option<String>,
    /// HMAC of the code.
    pub code_mac: Vec<u8>,
    /// The PESEL sealed under the code (see `core::seal`).
    pub sealed_subject: Vec<u8>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Attempts allowed.
    pub max_attempts: u32,
}

/// A stored challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Id.
    pub id: String,
    /// The officer who asked.
    pub officer_id: String,
    /// The citizen.
    pub citizen: Pseudonym,
    /// The document.
    pub document: DocumentType,
    /// The purpose.
    pub purpose: String,
    /// Police case reference.
    pub case_reference: Option<String>,
    /// State.
    pub state: ChallengeState,
    /// Attempts used so far (including the one just reserved).
    pub attempts_used: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    /// HMAC of the code.
    pub code_mac: Vec<u8>,
    /// The sealed PESEL; cleared once the challenge closes.
    pub sealed_subject: Option<Vec<u8>>,
}

/// Result of reserving one attempt at a challenge.
#[derive(Debug, Clone)]
pub enum Reservation {
    /// One attempt was taken; compare the code now.
    Reserved(Challenge),
    /// The challenge takes no more answers.
    Closed(Closed),
}

/// Result of recording a wrong code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongCode {
    /// Wrong codes by this officer today.
    pub wrong_codes_today: u32,
    /// Whether this locked the account.
    pub locked: bool,
}

/// Consent challenges: the code's MAC and the sealed subject, until used.
/// A challenge is bound to the session that made it, hence the supertrait.
#[async_trait]
pub trait ChallengeStore: SessionStore + Send + Sync {
    /// Stores a new challenge.
    async fn insert_challenge(&self, c: NewChallenge, audit: AuditEntry) -> Result<(), StoreError>;
    /// Takes one attempt at a challenge of this officer and session, and
    /// its release lease until [`crate::consent::lease_until`]`(now)`; while
    /// another answer's lease runs, nothing is taken
    /// ([`Closed::Releasing`]). Completing, reopening or recording a wrong
    /// code ends the lease.
    async fn reserve_code_attempt(
        &self,
        id: &str,
        officer_id: &str,
        session: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError>;
    /// Looks the session up and takes one attempt at one of its
    /// challenges; the attempt is taken only if `accept` accepts the
    /// session (live, its officer able to act). `None`: no such session.
    /// This default takes two transactions; a store on the hot path (the
    /// PostgreSQL one) does both in one.
    async fn authenticate_and_reserve(
        &self,
        q: &SessionLookup,
        id: &str,
        now: DateTime<Utc>,
        accept: &(dyn for<'v> Fn(&'v SessionView) -> bool + Send + Sync),
    ) -> Result<Option<(SessionView, Reservation)>, StoreError> {
        let Some(view) = self.lookup_session(q).await? else {
            return Ok(None);
        };
        if !accept(&view) {
            return Ok(Some((view, Reservation::Closed(Closed::NotFound))));
        }
        let reservation = self
            .reserve_code_attempt(id, &view.officer.id, &q.token, now)
            .await?;
        Ok(Some((view, reservation)))
    }
    /// The right code was given but nothing was released (the register
    /// failed, or the policy no longer allows the check): ends the answer's
    /// release lease and gives its attempt back, in one transaction with
    /// `audit` (a bundle's parts: one record each), so the officer retries the same code. `false` if the
    /// challenge is no longer awaiting.
    async fn reopen_challenge(&self, id: &str, audit: Vec<AuditEntry>) -> Result<bool, StoreError>;
    /// Marks a challenge used and records the release (one record, or a
    /// bundle's parts; the first is the completion's), and in the same
    /// transaction reads the citizen's channel choices, so a notice sent
    /// from memory costs no transaction of its own. `None`: another request
    /// used the challenge first (nothing written; nothing may be released).
    async fn complete_challenge(
        &self,
        id: &str,
        audit: Vec<AuditEntry>,
        citizen: &Pseudonym,
    ) -> Result<Option<NoticePrefs>, StoreError>;
    /// Records a wrong code: exhausts the challenge if it was the last
    /// attempt, counts toward the officer's daily wrong-code threshold, and
    /// locks the account when the threshold is reached.
    async fn record_wrong_code(
        &self,
        challenge_id: &str,
        officer_id: &str,
        day: NaiveDate,
        threshold: u32,
        audit: AuditEntry,
    ) -> Result<WrongCode, StoreError>;
    /// The code of a fresh challenge never left (the SMS gateway refused):
    /// cancels the challenge and gives the officer's attempt of `day` back,
    /// in one transaction with its audit record, so the officer's failed
    /// start costs nothing; `false` if the challenge was no longer awaiting.
    async fn cancel_unsent_challenge(
        &self,
        id: &str,
        officer_id: &str,
        day: NaiveDate,
        entry: AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Cancels an awaiting challenge of this officer; `false` if none.
    async fn cancel_challenge(
        &self,
        id: &str,
        officer_id: &str,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
}
