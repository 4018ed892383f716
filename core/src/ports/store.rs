//! What the core needs from storage: one trait per concern (officers,
//! sessions, quota, challenges, activations, audit). The server's
//! PostgreSQL and SQLite stores implement each once, in the file that holds
//! that concern; tests can implement them too.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use okaz_policy::LoginThrottle;
use okaz_protocol::DocumentType;

use crate::audit::{AuditEntry, StoredRecord};
use crate::consent::{ChallengeState, Closed};
use crate::pseudonym::Pseudonym;
use crate::session::TokenHash;

/// A storage failure. The core never sees SQL; it only learns whether the
/// store is reachable, and whether a uniqueness rule was broken.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or the transaction failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A unique value (e.g. a login) is taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Stored data does not have the shape the code expects.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// An officer account as stored.
#[derive(Clone)]
pub struct Officer {
    /// Stable id (UUID text).
    pub id: String,
    /// Login name.
    pub login: String,
    /// Name shown on screens.
    pub display_name: String,
    /// Policy role.
    pub role: String,
    /// Unit.
    pub unit: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// TOTP secret.
    pub totp_secret: Vec<u8>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Set while the account is locked.
    pub locked: Option<Lock>,
    /// Consecutive failed logins.
    pub failed_logins: u32,
    /// When the last login failed.
    pub last_failed_login: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Officer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Officer")
            .field("id", &self.id)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Why and since when an account is locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// Since when.
    pub at: DateTime<Utc>,
    /// Reason code, e.g. `daily_limit_exceeded`.
    pub reason: String,
}

/// A new officer to store.
pub struct NewOfficer {
    /// Login name.
    pub login: String,
    /// Name shown on screens.
    pub display_name: String,
    /// Policy role.
    pub role: String,
    /// Unit.
    pub unit: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// TOTP secret.
    pub totp_secret: Vec<u8>,
}

/// A new session to store.
pub struct NewSession {
    /// Hash of the bearer token.
    pub token_hash: TokenHash,
    /// The officer.
    pub officer_id: String,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// End of shift.
    pub expires_at: DateTime<Utc>,
}

/// A stored session.
#[derive(Debug, Clone)]
pub struct SessionRow {
    /// The officer.
    pub officer_id: String,
    /// End of shift.
    pub expires_at: DateTime<Utc>,
    /// Last authenticated request.
    pub last_seen: DateTime<Utc>,
}

/// Today's counters for one officer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// Attempts counted.
    pub used: u32,
    /// Extra allowance granted by a security officer.
    pub extra: u32,
    /// Wrong codes entered across challenges.
    pub wrong_codes: u32,
}

/// The result of counting one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Counted and within today's allowance.
    Counted {
        /// The new count.
        used: u32,
        /// Today's allowance.
        allowance: u32,
    },
    /// Counted, past the allowance; the account is now locked.
    Exceeded {
        /// The new count.
        used: u32,
        /// Today's allowance.
        allowance: u32,
    },
    /// The account was already locked; nothing was counted.
    Locked,
}

/// Outcome of a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// Consecutive failures now.
    pub failures: u32,
    /// Whether this failure locked the account.
    pub locked: bool,
}

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

/// A change a security officer makes to an account.
#[derive(Clone)]
pub enum OfficerChange {
    /// The account may no longer log in; its sessions end.
    Disable,
    /// The account may log in again.
    Enable,
    /// A new password hash (the officer changes it at first use).
    Password(String),
    /// A new TOTP secret; the used-step record starts afresh.
    Totp(Vec<u8>),
}

impl std::fmt::Debug for OfficerChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OfficerChange::Disable => "Disable",
            OfficerChange::Enable => "Enable",
            OfficerChange::Password(_) => "Password(<redacted>)",
            OfficerChange::Totp(_) => "Totp(<redacted>)",
        })
    }
}

/// A search of the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this unit.
    pub unit: Option<String>,
    /// Only records acted by this officer id.
    pub officer: Option<String>,
    /// Only records about this citizen.
    pub citizen: Option<Pseudonym>,
    /// From.
    pub since: Option<DateTime<Utc>>,
    /// Until.
    pub until: Option<DateTime<Utc>>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// Whether the store answers: readiness checks ask it.
#[async_trait]
pub trait Health: Send + Sync {
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The connection pool now, for metrics; `None` where there is no pool.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

/// A connection pool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Connections handed out.
    pub in_use: u64,
    /// Connections open and free.
    pub idle: u64,
    /// Callers waiting for a connection.
    pub waiting: u64,
}

/// Officer accounts, their certificates, and what logins do to them.
#[async_trait]
pub trait OfficerStore: Send + Sync {
    /// Stores a new officer.
    async fn insert_officer(&self, o: NewOfficer, audit: AuditEntry)
        -> Result<Officer, StoreError>;
    /// Finds an officer by login.
    async fn officer_by_login(&self, login: &str) -> Result<Option<Officer>, StoreError>;
    /// Finds an officer by id.
    async fn officer_by_id(&self, id: &str) -> Result<Option<Officer>, StoreError>;
    /// Every officer of a unit, by login.
    async fn officers_in_unit(&self, unit: &str) -> Result<Vec<Officer>, StoreError>;
    /// Locked officers of a unit.
    async fn lockouts(&self, unit: &str) -> Result<Vec<Officer>, StoreError>;
    /// Changes an account (disable, enable, new password, new TOTP secret);
    /// `false` if there is no such officer.
    async fn change_officer(
        &self,
        officer_id: &str,
        change: OfficerChange,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Counts a failed login; locks the account when the policy says so.
    async fn login_failed(
        &self,
        officer_id: &str,
        now: DateTime<Utc>,
        policy: &LoginThrottle,
        audit: AuditEntry,
    ) -> Result<LoginFailure, StoreError>;
    /// Binds a terminal's client certificate (SHA-256 fingerprint, hex) to
    /// an officer, with the officer's PIN hash.
    async fn bind_certificate(
        &self,
        officer_id: &str,
        fingerprint: &str,
        pin_hash: &str,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
    /// The officer id and PIN hash a certificate is bound to.
    async fn certificate_binding(
        &self,
        fingerprint: &str,
    ) -> Result<Option<(String, String)>, StoreError>;
}

/// Officers' sessions: opened by a login, looked up by token hash.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Records a successful login: consumes the TOTP step, if the method
    /// had one (only if it is later than the last used one), resets
    /// failures, stores the session. `false` means nothing was stored: the
    /// step was used already (a replay), or the account was locked or
    /// disabled meanwhile.
    async fn login_succeeded(
        &self,
        officer_id: &str,
        totp_step: Option<i64>,
        session: NewSession,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
    /// Looks a session up by token hash.
    async fn session(&self, hash: &TokenHash) -> Result<Option<SessionRow>, StoreError>;
    /// What a request's authentication needs, in one statement: the
    /// session, its officer, today's counter and, when asked, whether a
    /// citizen has activated the service.
    async fn lookup_session(&self, q: &SessionLookup) -> Result<Option<SessionView>, StoreError>;
    /// Marks activity on a session.
    async fn touch_session(&self, hash: &TokenHash, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Ends a session.
    async fn end_session(&self, hash: &TokenHash, audit: AuditEntry) -> Result<(), StoreError>;
}

/// Daily counters, the lockout they trigger, and unlocks.
#[async_trait]
pub trait QuotaStore: Send + Sync {
    /// Counts one attempt against the daily limit, atomically; refuses
    /// without counting if the account is locked; locks on excess.
    async fn count_attempt(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        audit: AuditEntry,
    ) -> Result<AttemptOutcome, StoreError> {
        self.count_attempt_then(officer_id, day, role_limit, audit, AfterCount::Nothing)
            .await
    }
    /// Counts one attempt as [`QuotaStore::count_attempt`] does and, if it
    /// is within the limit, does `then` in the same transaction: the start
    /// of a check is one transaction, whatever it comes to.
    async fn count_attempt_then(
        &self,
        officer_id: &str,
        day: NaiveDate,
        role_limit: u32,
        audit: AuditEntry,
        then: AfterCount,
    ) -> Result<AttemptOutcome, StoreError>;
    /// Today's counters.
    async fn counter(&self, officer_id: &str, day: NaiveDate) -> Result<Counter, StoreError>;
    /// Unlocks an account and sets today's extra allowance.
    async fn unlock(
        &self,
        officer_id: &str,
        day: NaiveDate,
        new_extra: u32,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
}

/// Consent challenges: the code's MAC and the sealed subject, until used.
/// A challenge is bound to the session that made it, hence the supertrait.
#[async_trait]
pub trait ChallengeStore: SessionStore + Send + Sync {
    /// Stores a new challenge.
    async fn insert_challenge(&self, c: NewChallenge, audit: AuditEntry) -> Result<(), StoreError>;
    /// Takes one attempt at a challenge of this officer and session.
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
    /// Marks a challenge used and records the release; `false` if another
    /// request used it first (then nothing may be released).
    async fn complete_challenge(&self, id: &str, audit: AuditEntry) -> Result<bool, StoreError>;
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

/// Citizens' activations of the service, by pseudonym, and the codes that
/// confirm them.
#[async_trait]
pub trait ActivationStore: Send + Sync {
    /// Whether the citizen has activated the service.
    async fn is_activated(&self, citizen: &Pseudonym) -> Result<bool, StoreError>;
    /// Activates or deactivates the service for a citizen, with its record.
    async fn set_activation(
        &self,
        citizen: &Pseudonym,
        active: bool,
        audit: AuditEntry,
    ) -> Result<(), StoreError>;
    /// Stores a new activation code (its MAC only) for a citizen, unless
    /// one of the limits is reached: at most `limit` codes created since
    /// `window_start`, for each `(window_start, limit)` given. `false`
    /// means a limit was reached and nothing was stored.
    async fn insert_activation_code(
        &self,
        code: NewActivationCode,
        limits: &[(DateTime<Utc>, u32)],
    ) -> Result<bool, StoreError>;
    /// Takes one attempt at the citizen's activation code.
    async fn reserve_activation_attempt(
        &self,
        id: &str,
        citizen: &Pseudonym,
        now: DateTime<Utc>,
    ) -> Result<ActivationReservation, StoreError>;
    /// Marks the code used and activates the citizen, with its record;
    /// `false` if another request used the code first.
    async fn complete_activation(
        &self,
        id: &str,
        citizen: &Pseudonym,
        audit: AuditEntry,
    ) -> Result<bool, StoreError>;
}

/// Login attempts, counted by key (a login name, a certificate, a client
/// address: each hashed, see `login::key`) before any credential is
/// checked, so a burst cannot outrun the count and an unknown login is
/// counted exactly like a known one.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Counts one attempt under each key and returns the new counts, in
    /// order. A key whose last attempt is older than `window_start` starts
    /// again from one.
    async fn note_attempts(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<u32>, StoreError>;
    /// Attempts under a key since `window_start` (0 if none).
    async fn attempts(&self, key: &str, window_start: DateTime<Utc>) -> Result<u32, StoreError>;
    /// Forgets the attempts under these keys (after a successful login).
    async fn clear_attempts(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// Citizen portal sessions that were signed out: their cookies are
/// refused on every replica until they would have expired anyway.
#[async_trait]
pub trait PortalStore: Send + Sync {
    /// Records that the portal session with this id hash ended.
    async fn revoke_portal_session(
        &self,
        sid_hash: &str,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Whether the portal session with this id hash was signed out.
    async fn portal_session_revoked(&self, sid_hash: &str) -> Result<bool, StoreError>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one audit record on its own.
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;
    /// Appends several records, in order, in one transaction (a bundle's
    /// parts: all recorded or none).
    async fn append_audits(&self, entries: Vec<AuditEntry>) -> Result<(), StoreError>;
    /// Searches the audit trail, newest first.
    async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<StoredRecord>, StoreError>;
    /// Every chain name.
    async fn audit_chains(&self) -> Result<Vec<String>, StoreError>;
    /// One chain in order.
    async fn audit_chain(&self, chain: &str) -> Result<Vec<StoredRecord>, StoreError>;
}

/// A start's idempotency key as claimed: bound to the session (by its
/// token's hash) and to the request (by a keyed MAC of its body, so no
/// PESEL is stored).
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Hash of the session's token.
    pub session: TokenHash,
    /// The key the terminal sent.
    pub key: String,
    /// MAC of the request body under the pepper.
    pub fingerprint: Vec<u8>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a start answered, kept so a retry gets the same answer. Never a
/// document: a completed check is answered again without one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// A challenge awaits the code.
    Awaiting {
        /// Verification id.
        verification: String,
        /// When the code expires.
        expires_at: DateTime<Utc>,
    },
    /// The document was released at once.
    Completed {
        /// Verification id.
        verification: String,
    },
    /// Refused with this code (after counting, or not).
    Refused(okaz_protocol::ErrorCode),
}

/// The result of claiming a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// First use: go on, then settle.
    New,
    /// Used before for the same request, which was answered so.
    Replay(Settled),
    /// Used before for the same request, still running.
    InFlight,
    /// Used before for another request.
    Mismatch,
}

/// Idempotency keys of starts.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `claim.key` for this session and request, atomically.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Claimed, StoreError>;
    /// Records what the claimed start answered.
    async fn settle_idempotency(
        &self,
        session: &TokenHash,
        key: &str,
        settled: &Settled,
    ) -> Result<(), StoreError>;
    /// Gives a key back (the start failed without an answer worth keeping,
    /// e.g. the store was unreachable), so a retry runs again.
    async fn release_idempotency(&self, session: &TokenHash, key: &str) -> Result<(), StoreError>;
}

/// Persistent state of the broker: every concern's store. Every method is
/// one transaction; the audit entries handed in are written in that same
/// transaction.
pub trait Store:
    Health
    + OfficerStore
    + SessionStore
    + QuotaStore
    + ChallengeStore
    + ActivationStore
    + ThrottleStore
    + PortalStore
    + AuditStore
    + crate::tlog::TlogStore
    + IdempotencyStore
{
}

impl<T> Store for T where
    T: Health
        + OfficerStore
        + SessionStore
        + QuotaStore
        + ChallengeStore
        + ActivationStore
        + ThrottleStore
        + PortalStore
        + AuditStore
        + crate::tlog::TlogStore
        + IdempotencyStore
{
}

/// What to look up to authenticate a request.
#[derive(Debug, Clone)]
pub struct SessionLookup {
    /// Hash of the bearer token.
    pub token: TokenHash,
    /// Today, in the policy's time zone (for the counter).
    pub day: NaiveDate,
    /// A citizen whose activation the request needs, if any.
    pub citizen: Option<Pseudonym>,
}

/// A session as a request sees it.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// The session.
    pub session: SessionRow,
    /// Its officer, as stored now.
    pub officer: Officer,
    /// The officer's counters today.
    pub counter: Counter,
    /// Whether the citizen asked about has activated the service.
    pub activated: Option<bool>,
}

/// What a counted attempt leads to, in the same transaction, when it is
/// within the limit.
pub enum AfterCount {
    /// Nothing more here (a check without consent goes on to the register).
    Nothing,
    /// The check ends refused, with this record.
    Refuse(AuditEntry),
    /// A consent challenge is created, with its record.
    Challenge(Box<NewChallenge>, AuditEntry),
}

/// A new activation code to store: the MAC of the code, never the code.
pub struct NewActivationCode {
    /// Id (random, URL-safe).
    pub id: String,
    /// The citizen.
    pub citizen: Pseudonym,
    /// HMAC of the code, bound to the id.
    pub code_mac: Vec<u8>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Attempts allowed.
    pub max_attempts: u32,
}

/// Result of reserving one attempt at an activation code.
#[derive(Debug, Clone)]
pub enum ActivationReservation {
    /// One attempt was taken: compare the code against this MAC.
    Reserved {
        /// HMAC of the code.
        code_mac: Vec<u8>,
        /// Attempts used, including this one.
        attempts_used: u32,
        /// Attempts allowed.
        max_attempts: u32,
    },
    /// The code takes no more answers.
    Closed(Closed),
}
