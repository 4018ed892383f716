//! Errors on the wire: one stable machine-readable `code` per kind of
//! refusal, and a message a clerk can act on. HTTP statuses are mapped in the
//! broker's HTTP layer, in one place.

use serde::{Deserialize, Serialize};

use crate::api::QuotaView;

/// Every refusal the API can give. The wire names never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: bad JSON, unknown field, wrong type.
    InvalidRequest,
    /// The PESEL fails its length, date or check digit.
    InvalidPesel,
    /// The request body is larger than the broker accepts.
    PayloadTooLarge,
    /// Login, password or one-time code is wrong.
    InvalidCredentials,
    /// Too many failed logins: wait before trying again.
    LoginThrottled,
    /// The account is locked until a security officer unlocks it.
    AccountLocked,
    /// No session, or the session has ended (shift over, idle, logged out).
    SessionExpired,
    /// The role may not ask for this document for this purpose, or act here.
    NotPermitted,
    /// The role needs a case reference for this check.
    CaseReferenceRequired,
    /// The citizen has not activated the service.
    NotActivated,
    /// The contact register has no phone for the citizen.
    NoContact,
    /// The register holds no such document for the citizen.
    DocumentNotFound,
    /// This attempt exceeded the daily limit; the account is now locked.
    DailyLimitExceeded,
    /// The register did not answer in time or answered badly.
    RegistryUnavailable,
    /// The SMS gateway did not accept the message.
    SmsUnavailable,
    /// The code typed is not the one sent.
    WrongCode,
    /// The code's lifetime has passed.
    ChallengeExpired,
    /// Too many wrong codes for this challenge.
    ChallengeExhausted,
    /// The code was already used.
    ChallengeUsed,
    /// Another answer to this challenge is being handled (its document is
    /// being fetched): wait for its answer rather than sending the code again.
    ChallengeReleasing,
    /// No such resource for this officer.
    NotFound,
    /// An unlock was asked for an account that is not locked.
    NotLocked,
    /// The broker cannot serve now (database unreachable).
    ServiceUnavailable,
    /// An unexpected fault; details are in the broker's log under the request id.
    Internal,
    /// The identity card or driving licence number fails its shape or check digit.
    InvalidDocumentNumber,
    /// Today's break-glass uses are spent: no further override today.
    BreakGlassLimitReached,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 26] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidPesel,
        ErrorCode::PayloadTooLarge,
        ErrorCode::InvalidCredentials,
        ErrorCode::LoginThrottled,
        ErrorCode::AccountLocked,
        ErrorCode::SessionExpired,
        ErrorCode::NotPermitted,
        ErrorCode::CaseReferenceRequired,
        ErrorCode::NotActivated,
        ErrorCode::NoContact,
        ErrorCode::DocumentNotFound,
        ErrorCode::DailyLimitExceeded,
        ErrorCode::RegistryUnavailable,
        ErrorCode::SmsUnavailable,
        ErrorCode::WrongCode,
        ErrorCode::ChallengeExpired,
        ErrorCode::ChallengeExhausted,
        ErrorCode::ChallengeUsed,
        ErrorCode::NotFound,
        ErrorCode::ServiceUnavailable,
        ErrorCode::Internal,
        ErrorCode::NotLocked,
        ErrorCode::ChallengeReleasing,
        ErrorCode::InvalidDocumentNumber,
        ErrorCode::BreakGlassLimitReached,
    ];

    /// The code a wire name means.
    pub fn parse(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidPesel => "invalid_pesel",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::LoginThrottled => "login_throttled",
            ErrorCode::AccountLocked => "account_locked",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::NotPermitted => "not_permitted",
            ErrorCode::CaseReferenceRequired => "case_reference_required",
            ErrorCode::NotActivated => "not_activated",
            ErrorCode::NoContact => "no_contact",
            ErrorCode::DocumentNotFound => "document_not_found",
            ErrorCode::DailyLimitExceeded => "daily_limit_exceeded",
            ErrorCode::RegistryUnavailable => "registry_unavailable",
            ErrorCode::SmsUnavailable => "sms_unavailable",
            ErrorCode::WrongCode => "wrong_code",
            ErrorCode::ChallengeExpired => "challenge_expired",
            ErrorCode::ChallengeExhausted => "challenge_exhausted",
            ErrorCode::ChallengeUsed => "challenge_used",
            ErrorCode::ChallengeReleasing => "challenge_releasing",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotLocked => "not_locked",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidDocumentNumber => "invalid_document_number",
            ErrorCode::BreakGlassLimitReached => "break_glass_limit_reached",
        }
    }

    /// A short, user-safe explanation that says what to do next.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "The request is not well formed.",
            ErrorCode::InvalidPesel => "The PESEL is not valid: check it for a typo.",
            ErrorCode::PayloadTooLarge => "The request is too large.",
            ErrorCode::InvalidCredentials => "Login, password or code is wrong.",
            ErrorCode::LoginThrottled => "Too many failed logins: wait a moment and try again.",
            ErrorCode::AccountLocked => "Your account is locked: call your security officer.",
            ErrorCode::SessionExpired => "Your session has ended: log in again.",
            ErrorCode::NotPermitted => "Your role may not make this check for this purpose.",
            ErrorCode::CaseReferenceRequired => "This check needs a case reference.",
            ErrorCode::NotActivated => {
                "The citizen has not activated the service; they can do so on the citizen portal."
            }
            ErrorCode::NoContact => {
                "The contact register has no phone for this citizen; ask for the physical document."
            }
            ErrorCode::DocumentNotFound => "The register holds no such document for this citizen.",
            ErrorCode::DailyLimitExceeded => {
                "Daily limit reached: your account is locked. Call your security officer."
            }
            ErrorCode::RegistryUnavailable => "The register is not answering: try again later.",
            ErrorCode::SmsUnavailable => "The SMS could not be sent: try again later.",
            ErrorCode::WrongCode => "The code is wrong.",
            ErrorCode::ChallengeExpired => "The code has expired: start the check again.",
            ErrorCode::ChallengeExhausted => "Too many wrong codes: start the check again.",
            ErrorCode::ChallengeUsed => "This code was already used.",
            ErrorCode::ChallengeReleasing => {
                "This code is being checked already: wait for the document."
            }
            ErrorCode::NotFound => "Not found.",
            ErrorCode::NotLocked => "The account is not locked: there is nothing to unlock.",
            ErrorCode::ServiceUnavailable => "The service is temporarily unavailable.",
            ErrorCode::Internal => "Something went wrong on the server; it has been logged.",
            ErrorCode::InvalidDocumentNumber => {
                "The document number is not valid: check it for a typo."
            }
            ErrorCode::BreakGlassLimitReached => {
                "No more emergency overrides today: call your supervisor."
            }
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem kind.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary (the code's message).
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable machine-readable code.
    pub code: ErrorCode,
    /// What exactly was wrong, when that helps the caller (never internals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For `wrong_code`: attempts left on this challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// The officer's quota, on authenticated calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaView>,
    /// Correlates with the broker's log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem for `code` with the given HTTP status.
    pub fn new(code: ErrorCode, status: u16) -> Self {
        Problem {
            kind: format!("https://okaz.gov.pl/problems/{}", code.as_str()),
            title: code.message().to_string(),
            status,
            code,
            detail: None,
            attempts_left: None,
            quota: None,
            request_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_name_matches_serde_for_every_code() {
        let all = ErrorCode::ALL;
        for c in all {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            assert!(!c.message().is_empty());
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(ErrorCode::parse("no_such_code"), None);
    }
}
