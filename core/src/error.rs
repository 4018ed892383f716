//! The broker's error type: a refusal the caller can act on, or a fault.

use okaz_protocol::{ErrorCode, QuotaView};

use super::credentials::CredentialError;
use super::ports::StoreError;

/// A refusal, with what the caller needs to act on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The stable code.
    pub code: ErrorCode,
    /// A precise, user-safe detail (never citizen data).
    pub detail: Option<String>,
    /// For wrong codes: attempts left.
    pub attempts_left: Option<u32>,
    /// The officer's quota after the call, where known.
    pub quota: Option<QuotaView>,
}

impl Refusal {
    /// A refusal with just a code.
    pub fn new(code: ErrorCode) -> Self {
        Refusal {
            code,
            detail: None,
            attempts_left: None,
            quota: None,
        }
    }

    /// Adds a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Everything the broker's operations can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The request is refused for a reason the caller can act on.
    #[error("refused: {}", .0.code)]
    Refused(Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Password or TOTP machinery failed.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// A server-side fault that is not the caller's doing.
    #[error("internal: {0}")]
    Internal(String),
}

impl BrokerError {
    /// Shorthand for a refusal with a code.
    pub fn refused(code: ErrorCode) -> Self {
        BrokerError::Refused(Refusal::new(code))
    }

    /// The stable code this error shows to the caller.
    pub fn code(&self) -> ErrorCode {
        match self {
            BrokerError::Refused(r) => r.code,
            BrokerError::Store(StoreError::Unavailable(_))
            | BrokerError::Credentials(CredentialError::Busy) => ErrorCode::ServiceUnavailable,
            BrokerError::Store(_) | BrokerError::Credentials(_) | BrokerError::Internal(_) => {
                ErrorCode::Internal
            }
        }
    }
}

impl From<Refusal> for BrokerError {
    fn from(r: Refusal) -> Self {
        BrokerError::Refused(r)
    }
}
