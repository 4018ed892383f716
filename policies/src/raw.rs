//! The shape of one policy file as written, before cross-checks.
//!
//! Values that later checks may refuse are `Spanned` so a problem can name
//! its line; `deny_unknown_fields` everywhere because a misspelt key that is
//! silently ignored would quietly widen or narrow a policy.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::bundle::PartSubject;
use crate::model::{AuthMethod, ConsentMode};

/// One policy file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub global: Option<RawGlobal>,
    #[serde(default)]
    pub roles: BTreeMap<Spanned<String>, RawRole>,
    #[serde(default)]
    pub purposes: BTreeMap<Spanned<String>, RawPurpose>,
    #[serde(default)]
    pub bundles: BTreeMap<Spanned<String>, RawBundle>,
    #[serde(default)]
    pub break_glass: Option<RawBreakGlass>,
    #[serde(default)]
    pub signals: Option<RawSignals>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGlobal {
    pub time_zone: Spanned<String>,
    pub challenge_lifetime_seconds: Spanned<u64>,
    pub challenge_attempts: Spanned<u32>,
    pub display_seconds: Spanned<u64>,
    pub wrong_code_lock_threshold: Spanned<u32>,
    pub operational_history_delay_hours: Spanned<u64>,
    #[serde(default)]
    pub unlock_allowance_cap: Option<Spanned<u32>>,
    #[serde(default)]
    pub disputes_per_day: Option<Spanned<u32>>,
    pub login: RawLogin,
    #[serde(default)]
    pub retention: Option<RawRetention>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetention {
    #[serde(default)]
    pub seal_grace_seconds: Option<Spanned<u64>>,
    #[serde(default)]
    pub challenge_days: Option<Spanned<u64>>,
    #[serde(default)]
    pub session_days: Option<Spanned<u64>>,
    #[serde(default)]
    pub counter_days: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLogin {
    pub throttle_after: Spanned<u32>,
    pub throttle_seconds: Spanned<u64>,
    pub lock_after: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub daily_limit: Spanned<u32>,
    pub consent: Spanned<ConsentMode>,
    #[serde(default)]
    pub documents: Vec<Spanned<String>>,
    #[serde(default)]
    pub purposes: Vec<Spanned<String>>,
    #[serde(default)]
    pub case_reference_required: bool,
    pub auth: Vec<Spanned<AuthMethod>>,
    pub shift_hours: Spanned<u64>,
    pub idle_minutes: Spanned<u64>,
    #[serde(default)]
    pub administers: bool,
    #[serde(default)]
    pub plate_lookup: bool,
    #[serde(default)]
    pub document_number_lookup: Option<Spanned<bool>>,
    #[serde(default)]
    pub manages: Vec<Spanned<String>>,
    #[serde(default)]
    pub grants_beyond_own: Vec<Spanned<String>>,
    #[serde(default)]
    pub bundles: Vec<Spanned<String>>,
    #[serde(default)]
    pub break_glass: bool,
    #[serde(default)]
    pub break_glass_countersign: Vec<Spanned<String>>,
    #[serde(default)]
    pub working_hours: Option<Spanned<Vec<u32>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPurpose {
    pub description: Spanned<String>,
    #[serde(default)]
    pub case_reference_required: bool,
    pub fields: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

/// One `[bundles.NAME]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBundle {
    pub description: Spanned<String>,
    pub parts: Vec<RawPart>,
}

/// One part as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPart {
    pub document: Spanned<String>,
    pub purpose: Spanned<String>,
    #[serde(default)]
    pub subject: Option<Spanned<PartSubject>>,
}

/// `[break_glass]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBreakGlass {
    #[serde(default)]
    pub deadline_hours: Option<Spanned<u64>>,
    #[serde(default)]
    pub per_officer_per_day: Option<Spanned<u32>>,
    #[serde(default)]
    pub justification_max_chars: Option<Spanned<usize>>,
}

/// `[signals]` as written; every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignals {
    #[serde(default)]
    pub window_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub interval_minutes: Option<Spanned<u64>>,
    #[serde(default)]
    pub off_shift_min: Option<Spanned<u32>>,
    #[serde(default)]
    pub repeat_citizen_min: Option<Spanned<u32>>,
    #[serde(default)]
    pub volume_z: Option<Spanned<f64>>,
    #[serde(default)]
    pub volume_min_checks: Option<Spanned<u32>>,
    #[serde(default)]
    pub volume_min_peers: Option<Spanned<u32>>,
    #[serde(default)]
    pub failed_share: Option<Spanned<f64>>,
    #[serde(default)]
    pub failed_min_challenges: Option<Spanned<u32>>,
    #[serde(default)]
    pub disputed_min: Option<Spanned<u32>>,
}
