//! Wire types of break-glass (emergency overrides under countersign) and
//! anomaly signals (misuse signals for security officers).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::api::{OfficerView, Subject, VerificationRequest};
use crate::document::DocumentType;

/// `POST /v1/break-glass`: a check, as for
/// `POST /v1/verifications`, plus the reason it cannot wait.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassRequest {
    /// The citizen.
    pub subject: Subject,
    /// Which document.
    pub document: DocumentType,
    /// Why (a purpose named in the policy).
    pub purpose: String,
    /// Case or file reference, required for some roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// Why this is an emergency (required; plain text, length-limited).
    pub justification: String,
    /// The photo the terminal can draw, as for a check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<crate::api::PhotoFit>,
}

impl BreakGlassRequest {
    /// The check it asks for.
    pub fn check(&self) -> VerificationRequest {
        VerificationRequest {
            subject: self.subject.clone(),
            document: self.document,
            purpose: self.purpose.clone(),
            case_reference: self.case_reference.clone(),
            photo: self.photo,
        }
    }
}

/// One break-glass, for supervisors (`GET /v1/admin/break-glass`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassView {
    /// Id (the verification it released).
    pub id: String,
    /// The officer who used it.
    pub officer: OfficerView,
    /// Which refusal it overrode: `no_code` or `daily_limit`.
    pub overrides: String,
    /// The justification as kept (cleaned).
    pub justification: String,
    /// The document released.
    pub document: String,
    /// The purpose given.
    pub purpose: String,
    /// The case reference, where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_reference: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When a supervisor must have decided; unsigned past it, the officer is locked.
    pub deadline: DateTime<Utc>,
    /// `pending`, `countersigned`, `rejected` or `expired`.
    pub status: String,
    /// Who decided (officer id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When it was decided or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
    /// The supervisor's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
}

/// A supervisor's decision (`POST /v1/admin/break-glass/{id}/decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakGlassVerdict {
    /// The emergency was real.
    Countersign,
    /// It was not: the officer is locked.
    Reject,
}

/// `POST /v1/admin/break-glass/{id}/decision`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassDecision {
    /// Countersign or reject.
    pub decision: BreakGlassVerdict,
    /// Why (required, as for an unlock).
    pub reason: String,
}

/// One anomaly signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalView {
    /// `off_shift`, `repeated_citizen`, `volume_outlier`,
    /// `failed_challenges` or `disputed`.
    pub kind: String,
    /// The officer.
    pub officer: OfficerView,
    /// How strongly (a count, a robust z-score or a share; see the docs).
    pub score: f64,
    /// Audit record ids that show it.
    pub evidence: Vec<i64>,
    /// The citizen's pseudonym (`repeated_citizen`), to search the audit by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    /// The local day (`volume_outlier`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
}

/// `GET /v1/admin/signals`: the unit's signals over the policy's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalsView {
    /// The start of the window looked at.
    pub since: DateTime<Utc>,
    /// When they were computed.
    pub computed_at: DateTime<Utc>,
    /// Audit records looked at.
    pub records: u64,
    /// The signals, by kind and officer.
    pub signals: Vec<SignalView>,
}
