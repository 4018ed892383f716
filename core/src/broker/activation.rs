//! The citizen's flow: activating the service with a code sent to the
//! phone in the contact register, and deactivating it.
//!
//! It runs like a verification: the code is random, stored only as an HMAC
//! under the challenge key, lives as long as the policy's challenge
//! lifetime, takes as many tries as the policy's challenge attempts, and is
//! single use. Tries and use are counted in the store, so every replica
//! sees the same count. A citizen may ask for at most [`CODES_PER_HOUR`]
//! codes an hour and [`CODES_PER_DAY`] a day, counted in the store across
//! sessions and replicas, so nobody can turn the portal into an SMS cannon.
//!
//! ```text
//!  send_activation_code ──▶ awaiting ──right code──▶ used (activated)
//!                             │  └─wrong code (tries left)─┘
//!                             └─ expiry or last wrong try ──▶ over
//! ```

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::{ErrorCode, Pesel};

use super::auth::chrono_duration;
use super::Broker;
use crate::audit::AuditEntry;
use crate::consent;
use crate::error::BrokerError;
use crate::ports::{ActivationReservation, NewActivationCode, RegisterFailure, Rng};
use crate::pseudonym::Pseudonym;

/// Codes a citizen may ask for within an hour.
pub const CODES_PER_HOUR: u32 = 3;
/// Codes a citizen may ask for within a day.
pub const CODES_PER_DAY: u32 = 10;

/// The phone the contact register gives for a citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneOnRecord {
    /// A number, masked for display.
    Masked(String),
    /// None to send to; `reserved` if the citizen asked not to be contacted.
    None {
        /// The citizen reserved their contact details.
        reserved: bool,
    },
}

/// A code was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationSent {
    /// The code's id, kept by the portal session to name it later.
    pub id: String,
    /// Where it went, masked.
    pub sent_to: String,
    /// Until when it may be typed.
    pub expires_at: DateTime<Utc>,
}

/// What asking for a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The code is on its way.
    Sent(ActivationSent),
    /// There is no phone to send it to.
    NoPhone {
        /// The citizen reserved their contact details.
        reserved: bool,
    },
    /// Too many codes were asked for lately; try again later.
    TooMany,
}

/// What typing a code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationCode {
    /// Right: the service is now active.
    Activated,
    /// Wrong; with no tries left the code is over.
    Wrong {
        /// Tries left at this code (0: it takes no more).
        attempts_left: u32,
    },
    /// The code takes no more answers (expired, used up, or used).
    Over,
}

impl Broker {
    /// Whether the citizen has activated the service.
    pub async fn is_activated(&self, pesel: &Pesel) -> Result<bool, BrokerError> {
        let citizen = Pseudonym::of(&self.keys.pepper, pesel);
        Ok(self.store.is_activated(&citizen).await?)
    }

    /// The phone on record, masked, to show before sending a code.
    pub async fn phone_on_record(&self, pesel: &Pesel) -> Result<PhoneOnRecord, BrokerError> {
        Ok(match self.phone(pesel).await? {
            Ok(phone) => PhoneOnRecord::Masked(consent::mask_phone(&phone)),
            Err(reserved) => PhoneOnRecord::None { reserved },
        })
    }

    /// The phone number, or whether the citizen reserved their details.
    async fn phone(&self, pesel: &Pesel) -> Result<Result<String, bool>, BrokerError> {
        match self.registers.contact(pesel).await {
            Ok(c) if c.reserved => Ok(Err(true)),
            Ok(c) => Ok(c.phone.ok_or(false)),
            Err(RegisterFailure::NotFound(_)) => Ok(Err(false)),
            Err(RegisterFailure::Unavailable { register, reason }) => {
                tracing::warn!(%register, %reason, "contact register unavailable");
                Err(BrokerError::refused(ErrorCode::RegistryUnavailable))
            }
        }
    }

    /// Sends a new activation code to the phone on record.
    pub async fn send_activation_code(&self, pesel: &Pesel) -> Result<SendOutcome, BrokerError> {
        let phone = match self.phone(pesel).await? {
            Ok(phone) => phone,
            Err(reserved) => return Ok(SendOutcome::NoPhone { reserved }),
        };
        let g = &self.policy.global;
        let now = self.clock.now();
        let lifetime = chrono_duration(g.challenge_lifetime).min(consent::MAX_LIFETIME);
        let mut rng = Rng(&*self.random);
        let id = rng.uuid();
        let code = consent::new_code(&mut rng);
        let stored = self
            .store
            .insert_activation_code(
                NewActivationCode {
                    id: id.clone(),
                    citizen: Pseudonym::of(&self.keys.pepper, pesel),
                    code_mac: consent::code_mac(&self.keys.challenge, &bound(&id), &code).to_vec(),
                    created_at: now,
                    expires_at: now + lifetime,
                    max_attempts: g.challenge_attempts,
                },
                &[
                    (now - Duration::hours(1), CODES_PER_HOUR),
                    (now - Duration::days(1), CODES_PER_DAY),
                ],
            )
            .await?;
        if !stored {
            return Ok(SendOutcome::TooMany);
        }
        if let Err(e) = self.sms.send(&phone, &sms_text(&code), None).await {
            tracing::warn!(error = %e, "activation code not sent");
            return Err(BrokerError::refused(ErrorCode::SmsUnavailable));
        }
        Ok(SendOutcome::Sent(ActivationSent {
            id,
            sent_to: consent::mask_phone(&phone),
            expires_at: now + lifetime,
        }))
    }

    /// Checks a typed activation code; the right one activates the service.
    pub async fn confirm_activation(
        &self,
        pesel: &Pesel,
        id: &str,
        typed: &str,
    ) -> Result<ActivationCode, BrokerError> {
        let citizen = Pseudonym::of(&self.keys.pepper, pesel);
        let now = self.clock.now();
        let (mac, used, max) = match self
            .store
            .reserve_activation_attempt(id, &citizen, now)
            .await?
        {
            ActivationReservation::Reserved {
                code_mac,
                attempts_used,
                max_attempts,
            } => (code_mac, attempts_used, max_attempts),
            ActivationReservation::Closed(_) => return Ok(ActivationCode::Over),
        };
        let right = consent::well_formed(typed)
            && consent::code_matches(&self.keys.challenge, &bound(id), typed, &mac);
        if !right {
            return Ok(ActivationCode::Wrong {
                attempts_left: max.saturating_sub(used),
            });
        }
        let audit = AuditEntry::citizen(now, true, citizen.as_str());
        if self.store.complete_activation(id, &citizen, audit).await? {
            tracing::info!("citizen activated the service");
            Ok(ActivationCode::Activated)
        } else {
            Ok(ActivationCode::Over)
        }
    }

    /// Deactivates the service for the citizen.
    pub async fn deactivate(&self, pesel: &Pesel) -> Result<(), BrokerError> {
        self.set_activation(pesel, false).await?;
        tracing::info!("citizen deactivated the service");
        Ok(())
    }

    /// Activates or deactivates the service on the citizen's behalf,
    /// without a code: for the operator's CLI at an install without the
    /// portal, the demo and the test kit. Recorded like the citizen's own.
    pub async fn set_activation(&self, pesel: &Pesel, active: bool) -> Result<(), BrokerError> {
        let citizen = Pseudonym::of(&self.keys.pepper, pesel);
        let audit = AuditEntry::citizen(self.clock.now(), active, citizen.as_str());
        Ok(self.store.set_activation(&citizen, active, audit).await?)
    }
}

/// What an activation code's MAC binds it to, apart from a verification's.
fn bound(id: &str) -> String {
    format!("activation/{id}")
}

/// The SMS that carries an activation code.
fn sms_text(code: &str) -> String {
    format!(
        "okaz: kod {code} wlacza sprawdzanie Twoich dokumentow na zadanie. \
         Jesli to nie Ty, zignoruj te wiadomosc. / Code {code} switches on document \
         checks on demand. If this was not you, ignore this message."
    )
}
