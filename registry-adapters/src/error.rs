//! The one error type of the adapters. Its messages name the register and
//! the kind of failure, never the citizen (no PESEL, name, phone or plate).

use okaz_protocol::DocumentType;

/// Why a register could not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The register did not answer in time, refused the connection or answered 5xx.
    #[error("register {register} is unavailable: {reason}")]
    Unavailable {
        /// Which register.
        register: &'static str,
        /// What went wrong (transport-level, no personal data).
        reason: String,
    },
    /// Too many recent failures: the register is not asked until the cooldown ends.
    #[error("register {register} is not being asked for now (circuit open)")]
    CircuitOpen {
        /// Which register.
        register: &'static str,
    },
    /// The register has no such record (or the citizen has no such document).
    #[error("register {register} has no such record")]
    NotFound {
        /// Which register.
        register: &'static str,
    },
    /// The answer did not have the register's documented shape.
    #[error("register {register} gave a malformed answer: {reason}")]
    Malformed {
        /// Which register.
        register: &'static str,
        /// What was wrong with it (the field or rule, never the value).
        reason: String,
    },
    /// The answer exceeded the response-size limit.
    #[error("register {register} gave an answer larger than allowed")]
    TooLarge {
        /// Which register.
        register: &'static str,
    },
    /// The register answered with a status this client does not expect (e.g. 401).
    #[error("register {register} refused the request with HTTP {status}")]
    Refused {
        /// Which register.
        register: &'static str,
        /// The HTTP status code.
        status: u16,
    },
    /// The registration number given is not 1 to 8 letters and digits once
    /// spaces are removed; no register was asked.
    #[error("a registration number is 1 to 8 letters and digits")]
    InvalidPlate,
    /// This document type cannot be asked for this way (by registration
    /// number only the registration, inspection and OC insurance can); no
    /// register was asked.
    #[error("document type {kind} cannot be looked up by registration number")]
    Unsupported {
        /// The document type asked for.
        kind: DocumentType,
    },
    /// The client configuration is unusable (bad CA, bad URL).
    #[error("registry client configuration: {0}")]
    Config(String),
    /// The document number given is malformed (shape or check digit); no
    /// register was asked.
    #[error("{0}")]
    InvalidDocumentNumber(okaz_protocol::docnumber::DocumentNumberError),
}

impl RegistryError {
    /// The register this error is about, if any.
    pub fn register(&self) -> Option<&'static str> {
        match self {
            RegistryError::Unavailable { register, .. }
            | RegistryError::CircuitOpen { register }
            | RegistryError::NotFound { register }
            | RegistryError::Malformed { register, .. }
            | RegistryError::TooLarge { register }
            | RegistryError::Refused { register, .. } => Some(register),
            RegistryError::Config(_)
            | RegistryError::InvalidPlate
            | RegistryError::InvalidDocumentNumber(_)
            | RegistryError::Unsupported { .. } => None,
        }
    }

    /// A stable name of the kind of failure, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            RegistryError::Unavailable { .. } => "unavailable",
            RegistryError::CircuitOpen { .. } => "circuit_open",
            RegistryError::NotFound { .. } => "not_found",
            RegistryError::Malformed { .. } => "malformed",
            RegistryError::TooLarge { .. } => "too_large",
            RegistryError::Refused { .. } => "refused",
            RegistryError::InvalidPlate => "invalid_plate",
            RegistryError::Unsupported { .. } => "unsupported",
            RegistryError::Config(_) => "config",
            RegistryError::InvalidDocumentNumber(_) => "invalid_document_number",
        }
    }

    /// Whether the failure says the register itself is unwell (counts against
    /// its circuit breaker); a missing record is a healthy answer, and the
    /// caller's own mistakes never reached a register.
    pub fn is_register_failure(&self) -> bool {
        !matches!(
            self,
            RegistryError::NotFound { .. }
                | RegistryError::Config(_)
                | RegistryError::InvalidPlate
                | RegistryError::InvalidDocumentNumber(_)
                | RegistryError::Unsupported { .. }
        )
    }

    /// Whether retrying the same idempotent read may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RegistryError::Unavailable { .. })
    }
}
