//! Idempotency keys as rows, shared by both stores: a settled answer as
//! columns and back.

use chrono::{DateTime, Utc};
use okaz_core::ports::{Claimed, Settled, StoreError};
use okaz_protocol::ErrorCode;

/// The columns of a settled answer.
pub(crate) fn columns(
    s: &Settled,
) -> (
    &'static str,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
) {
    match s {
        Settled::Awaiting {
            verification,
            expires_at,
        } => (
            "awaiting",
            Some(verification.clone()),
            Some(*expires_at),
            None,
        ),
        Settled::Completed { verification } => {
            ("completed", Some(verification.clone()), None, None)
        }
        Settled::Refused(code) => ("refused", None, None, Some(code.as_str().to_string())),
    }
}

/// A stored row back into what the claim answers.
pub(crate) fn settled(
    state: String,
    verification: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    code: Option<String>,
) -> Result<Claimed, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("idempotency key in state {state}"));
    Ok(match state.as_str() {
        "running" => Claimed::InFlight,
        "awaiting" => Claimed::Replay(Settled::Awaiting {
            verification: verification.ok_or_else(corrupt)?,
            expires_at: expires_at.ok_or_else(corrupt)?,
        }),
        "completed" => Claimed::Replay(Settled::Completed {
            verification: verification.ok_or_else(corrupt)?,
        }),
        "refused" => Claimed::Replay(Settled::Refused(
            code.as_deref()
                .and_then(ErrorCode::parse)
                .ok_or_else(corrupt)?,
        )),
        _ => return Err(corrupt()),
    })
}
