//! Why a call to the broker did not succeed. A leaf: every answer type
//! (messages, admin answers, the supervisor's watch) carries one.

use okaz_protocol::{ErrorCode, Problem, QuotaView};

use crate::i18n::Note;

/// Why a call to the broker did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The broker refused with a problem document.
    Problem(Problem),
    /// No answer: connection refused, dropped, TLS failure or timeout.
    Network,
    /// An answer that is not the API (wrong status or body).
    Http(u16),
}

impl Failure {
    /// The broker's request id of a refusal, for the officer to quote to
    /// support (it finds the broker's log line; it names no person).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Failure::Problem(p) => p.request_id.as_deref(),
            _ => None,
        }
    }

    /// The refusal code, when the broker gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Failure::Problem(p) => Some(p.code),
            _ => None,
        }
    }

    /// What the officer is told.
    pub fn note(&self) -> Note {
        match self {
            Failure::Problem(p) => Note::Refused(p.code, p.attempts_left),
            Failure::Network => Note::Network,
            Failure::Http(s) => Note::Http(*s),
        }
    }

    /// The quota the problem carried, if any.
    pub fn quota(&self) -> Option<&QuotaView> {
        match self {
            Failure::Problem(p) => p.quota.as_ref(),
            _ => None,
        }
    }
}
