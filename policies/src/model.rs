//! The validated policy model: what the broker consults at run time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use okaz_protocol::document::DocumentType;
use serde::Deserialize;

/// A complete, validated set of policies (all files of a directory merged).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySet {
    /// Settings that apply to every role.
    pub global: Global,
    /// Roles by name (e.g. `clerk`, `police`).
    pub roles: BTreeMap<String, Role>,
    /// Purposes by name (e.g. `age_check`).
    pub purposes: BTreeMap<String, Purpose>,
    /// Bundles by name (e.g. `traffic_stop`).
    pub bundles: BTreeMap<String, crate::bundle::Bundle>,
    /// Break-glass deadlines and caps (`[break_glass]`, defaults if absent).
    pub break_glass: crate::watch::BreakGlass,
    /// Anomaly-signal thresholds (`[signals]`, defaults if absent).
    pub signals: crate::watch::Signals,
}

/// Settings that apply to every role.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    /// The zone whose calendar date is the "day" of daily limits.
    pub time_zone: chrono_tz::Tz,
    /// How long an SMS challenge stays answerable (1 s ..= 10 min).
    pub challenge_lifetime: Duration,
    /// Wrong codes that end one challenge.
    pub challenge_attempts: u32,
    /// How long the terminal shows a document before clearing it.
    pub display: Duration,
    /// Wrong codes across challenges, per officer per day, that lock the account.
    pub wrong_code_lock_threshold: u32,
    /// Login failure throttling and locking.
    pub login: LoginThrottle,
    /// The most extra checks one unlock may grant.
    pub unlock_allowance_cap: u32,
    /// How long a check without consent stays out of the citizen's history.
    pub operational_history_delay: Duration,
    /// Disputes one citizen may open per day (in the policy's time zone).
    pub disputes_per_day: u32,
    /// How long what the broker stores about checks and sessions is kept.
    pub retention: Retention,
}

/// How long stored rows are kept before the sweeper removes them. The
/// audit trail is not here: it is never deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// After a challenge expires, how long until its sealed subject and
    /// code MAC are wiped (a grace for a code already on its way).
    pub seal_grace: Duration,
    /// How long a challenge (its binding, state and counts, no secret) is
    /// kept after it was created.
    pub challenges: Duration,
    /// How long a session (its hash and times) is kept after it expired.
    pub sessions: Duration,
    /// How many days of daily counters are kept before today.
    pub counter_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            seal_grace: Duration::from_secs(60),
            challenges: Duration::from_secs(30 * 86_400),
            sessions: Duration::from_secs(7 * 86_400),
            counter_days: 90,
        }
    }
}

/// What repeated login failures lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Consecutive failures after which logins are throttled.
    pub throttle_after: u32,
    /// How long a throttled login must wait.
    pub throttle_for: Duration,
    /// Consecutive failures after which the account is locked.
    pub lock_after: u32,
}

/// How the citizen consents to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMode {
    /// The citizen reads out a one-time code sent by SMS.
    Sms,
    /// No consent (operational checks); a case reference is then required.
    None,
}

impl ConsentMode {
    /// The policy-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMode::Sms => "sms",
            ConsentMode::None => "none",
        }
    }
}

/// How an officer of a role may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Password plus TOTP code.
    PasswordTotp,
    /// Client certificate of the unit's CA plus the officer's PIN.
    CertificatePin,
}

impl AuthMethod {
    /// The policy-file name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::PasswordTotp => "password_totp",
            AuthMethod::CertificatePin => "certificate_pin",
        }
    }
}

/// What officers of one role may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Checks per officer per day (0 for roles that check nothing).
    pub daily_limit: u32,
    /// How the citizen consents.
    pub consent: ConsentMode,
    /// Documents the role may ask for.
    pub documents: BTreeSet<DocumentType>,
    /// Purposes the role may give.
    pub purposes: BTreeSet<String>,
    /// Whether every check needs a case reference.
    pub case_reference_required: bool,
    /// Accepted ways to log in.
    pub auth: BTreeSet<AuthMethod>,
    /// Longest session (a shift).
    pub shift: Duration,
    /// Idle time that ends a session.
    pub idle: Duration,
    /// Whether the role administers officers, lockouts and the audit of its unit.
    pub administers: bool,
    /// Whether the role may look a vehicle up by its plate.
    pub plate_lookup: bool,
    /// Whether the role may name the subject by document number (identity
    /// card series and number, driving licence number) for those documents.
    pub document_number_lookup: bool,
    /// Roles whose accounts this role may create and manage (in its unit).
    pub manages: BTreeSet<String>,
    /// Managed roles that can do what this role cannot, named a second time
    /// so that handing out more power than one holds is a visible decision.
    pub grants_beyond_own: BTreeSet<String>,
    /// Bundles the role may run (each part must also be permitted on its own).
    pub bundles: BTreeSet<String>,
    /// Whether officers of this role may override one refusal (no code
    /// possible, or daily limit reached) under a supervisor's countersign.
    pub break_glass: bool,
    /// Roles (besides the administrators who manage this role) whose
    /// officers of the same unit may countersign this role's break-glass.
    pub break_glass_countersign: BTreeSet<String>,
    /// Hours this role works, for the off-shift signal (`None`: any hour).
    pub working_hours: Option<crate::watch::WorkingHours>,
}

impl Role {
    /// What this role may do that `other` may not, in words (empty: nothing).
    pub fn powers_beyond(&self, other: &Role) -> Vec<String> {
        let mut out = Vec::new();
        let docs: Vec<_> = self.documents.difference(&other.documents).collect();
        if !docs.is_empty() {
            let names: Vec<&str> = docs.iter().map(|d| d.as_str()).collect();
            out.push(format!("ask for {}", names.join(", ")));
        }
        let purposes: Vec<&str> = self
            .purposes
            .difference(&other.purposes)
            .map(String::as_str)
            .collect();
        if !purposes.is_empty() {
            out.push(format!("give purposes {}", purposes.join(", ")));
        }
        if self.consent == ConsentMode::None && other.consent != ConsentMode::None {
            out.push("check without the citizen's consent".into());
        }
        if self.daily_limit > other.daily_limit {
            out.push(format!("check {} a day", self.daily_limit));
        }
        if self.plate_lookup && !other.plate_lookup {
            out.push("look vehicles up by plate".into());
        }
        if self.document_number_lookup && !other.document_number_lookup {
            out.push("look documents up by number".into());
        }
        if self.administers && !other.administers {
            out.push("administer officers".into());
        }
        let manages: Vec<&str> = self
            .manages
            .difference(&other.manages)
            .map(String::as_str)
            .collect();
        if !manages.is_empty() {
            out.push(format!("manage {}", manages.join(", ")));
        }
        out
    }
}

/// A reason for a check, and what it releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    /// Shown to officers and citizens.
    pub description: String,
    /// Whether this purpose needs a case reference whatever the role says.
    pub case_reference_required: bool,
    /// Per document, the fields released (names from `DocumentType::fields`).
    pub fields: BTreeMap<DocumentType, BTreeSet<String>>,
}

impl PolicySet {
    /// The role of this name, if defined.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    /// The purpose of this name, if defined.
    pub fn purpose(&self, name: &str) -> Option<&Purpose> {
        self.purposes.get(name)
    }
}
