//! Disputes of checks, as security officers see them over the API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::AuditRecordView;

/// A citizen's dispute of a check ("I did not agree to this").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DisputeView {
    /// Id.
    pub id: String,
    /// The check disputed (verification id).
    pub verification: String,
    /// The unit that checked.
    pub unit: String,
    /// The officer who checked (id).
    pub officer: String,
    /// The citizen's comment, plain text (escape it when shown).
    pub comment: String,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// `open` or `resolved`.
    pub status: String,
    /// When it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The security officer who resolved it (id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// The resolution's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// The check's audit records (the unit's own), oldest first.
    #[serde(default)]
    pub records: Vec<AuditRecordView>,
}

/// `POST /v1/admin/disputes/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResolveDispute {
    /// Why it is resolved so (1 to 500 characters, no control characters).
    pub reason: String,
}
