//! Officers' sessions: opened by a login, looked up on every request.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::audit::AuditEntry;
use crate::pseudonym::Pseudonym;
use crate::session::TokenHash;

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
    /// The fingerprint of the client certificate the session was opened
    /// with (certificate + PIN); every request must present it again.
    pub certificate: Option<String>,
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
    /// The client certificate the session is bound to, if any.
    pub certificate: Option<String>,
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
