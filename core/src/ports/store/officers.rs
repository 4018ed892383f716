//! Officer accounts, their certificates, and what logins do to them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use okaz_policy::LoginThrottle;

use super::*;
use crate::audit::AuditEntry;

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
    /// TOTP secret, sealed (`keyring::seal_totp`, bound to `id`).
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
    /// Its id (UUID text), chosen before storing because the sealed TOTP
    /// secret is bound to it.
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
    /// TOTP secret, sealed (`keyring::seal_totp`, bound to `id`).
    pub totp_secret: Vec<u8>,
}

/// Outcome of a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// Consecutive failures now.
    pub failures: u32,
    /// Whether this failure locked the account.
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
    /// A new TOTP secret (sealed); the used-step record starts afresh.
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
    /// an officer, with the officer's PIN hash. A certificate bound already
    /// moves to this officer only within the same unit; bound to an officer
    /// of another unit, it is refused with [`StoreError::Conflict`] and
    /// nothing (not the audit record either) is written.
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
