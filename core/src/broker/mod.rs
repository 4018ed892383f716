//! The broker service: the officer's flows, in domain terms. It knows
//! nothing of HTTP or SQL; the HTTP layer calls it, and it calls the ports.

mod activation;
mod admin;
mod auth;
mod break_glass;
mod bundle;
mod choices;
mod citizen_records;
mod disputes;
mod idempotency;
mod login;
mod notify;
mod portal_session;
mod request;
mod secrets;
mod signals;
mod subject;
mod verify;

use std::sync::Arc;

use okaz_policy::{PolicySet, Role};
use okaz_protocol::{ErrorCode, OfficerView, QuotaView};

use super::audit::AuditEntry;
use super::clock::Clock;
use super::error::BrokerError;
use super::ports::{Officer, PasswordHashing, RandomSource, Registers, SmsGateway, Store};
use super::quota;
use super::session::TokenHash;

pub use activation::{
    ActivationCode, ActivationSent, PhoneOnRecord, SendOutcome, CODES_PER_DAY, CODES_PER_HOUR,
};
pub use admin::searched;
pub use auth::{Authenticated, Bearer};
pub use citizen_records::{Inclusion, InclusionError, MAX_CITIZEN_RECORDS};
pub use disputes::{dispute_view, DisputeFailure, MAX_DISPUTE_RECORDS};
pub use login::PresentedCertificate;
pub use secrets::{reseal_totp_secrets, Resealed};
pub use signals::{signals_view, SignalRun, MAX_SIGNAL_RECORDS};

/// The server's keys, one per job (see [`crate::keyring`]).
pub use super::keyring::Keys;

/// Everything the broker's flows need.
#[derive(Clone)]
pub struct Broker {
    /// Persistent state.
    pub store: Arc<dyn Store>,
    /// The registers.
    pub registers: Arc<dyn Registers>,
    /// The SMS gateway.
    pub sms: Arc<dyn SmsGateway>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness for codes, tokens and ids.
    pub random: Arc<dyn RandomSource>,
    /// The loaded policy.
    pub policy: Arc<PolicySet>,
    /// Server keys.
    pub keys: Keys,
    /// Slow password hashing, off the request path's threads.
    pub hasher: Arc<dyn PasswordHashing>,
    /// The audit log's key and origin, to sign release receipts.
    pub receipts: Option<Arc<crate::receipt::ReceiptKey>>,
    /// Notices to citizens after checks; `None` when not configured.
    pub notices: Option<crate::notice::Notices>,
}

impl Broker {
    /// The signed receipt of a release record, when a log key is loaded.
    pub(crate) fn receipt(&self, released: &AuditEntry) -> Option<okaz_protocol::Receipt> {
        self.receipts.as_ref().map(|k| k.receipt(released))
    }

    /// The role of an officer; an officer whose role the policy no longer
    /// knows may do nothing (fail closed).
    pub(crate) fn role_of(&self, officer: &Officer) -> Result<&Role, BrokerError> {
        self.policy
            .role(&officer.role)
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotPermitted))
    }

    /// The officer's quota today.
    pub async fn quota(&self, officer: &Officer) -> Result<QuotaView, BrokerError> {
        let tz = self.policy.global.time_zone;
        let now = self.clock.now();
        let day = quota::business_day(now, tz);
        let counter = self.store.counter(&officer.id, day).await?;
        let limit = self.role_of(officer).map(|r| r.daily_limit).unwrap_or(0);
        Ok(QuotaView {
            used: counter.used,
            limit: quota::allowance(limit, counter.extra),
            resets_at: quota::resets_at(day, tz),
        })
    }

    /// The quota of an authenticated officer, from what was read with the
    /// session: no second read.
    pub fn quota_of(&self, auth: &Authenticated) -> QuotaView {
        let tz = self.policy.global.time_zone;
        let limit = self
            .role_of(&auth.officer)
            .map(|r| r.daily_limit)
            .unwrap_or(0);
        QuotaView {
            used: auth.counter.used,
            limit: quota::allowance(limit, auth.counter.extra),
            resets_at: quota::resets_at(auth.day, tz),
        }
    }

    /// Attaches the officer's quota to a refusal that has none, so every
    /// authenticated answer states it.
    pub fn with_quota(&self, auth: &Authenticated, err: BrokerError) -> BrokerError {
        match err {
            BrokerError::Refused(mut r) if r.quota.is_none() => {
                r.quota = Some(self.quota_of(auth));
                BrokerError::Refused(r)
            }
            other => other,
        }
    }
}

/// The API view of an officer.
pub fn officer_view(o: &Officer) -> OfficerView {
    OfficerView {
        id: o.id.clone(),
        login: o.login.clone(),
        display_name: o.display_name.clone(),
        role: o.role.clone(),
        unit: o.unit.clone(),
    }
}

/// The session a request carries.
pub fn session_of(token: &str) -> TokenHash {
    super::session::hash(token)
}
