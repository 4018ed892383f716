//! The verification flow: count, check consent prerequisites, challenge,
//! release. Each step's rule lives in its core module; this file orders them.

use okaz_policy::ConsentMode;
use okaz_protocol::{
    Document, DocumentType, ErrorCode, Pesel, Verification, VerificationRequest, VerificationStatus,
};
use rand::rngs::OsRng;

use super::auth::{chrono_duration, Authenticated};
use super::Broker;
use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::consent::{self, Closed};
use crate::core::error::{BrokerError, Refusal};
use crate::core::ports::{AttemptOutcome, NewChallenge, RegisterFailure, Reservation};
use crate::core::pseudonym::Pseudonym;
use crate::core::{quota, seal};

/// What a start is about, once validated.
struct Subject {
    pesel: Pesel,
    citizen: Pseudonym,
    document: DocumentType,
    purpose: String,
    case_reference: Option<String>,
}

impl Broker {
    /// `POST /v1/verifications`.
    pub async fn start_verification(
        &self,
        auth: &Authenticated,
        req: VerificationRequest,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let now = self.clock.now();
        let typed = match (&req.subject.pesel, &req.subject.plate) {
            (Some(pesel), None) => pesel.clone(),
            (None, Some(plate)) => {
                let plate = plate.clone();
                return self.start_plate_lookup(auth, &plate, req).await;
            }
            _ => {
                return Err(Refusal::new(ErrorCode::InvalidRequest)
                    .detail("the subject is either a pesel or a plate")
                    .into())
            }
        };
        // A typo costs nothing: validated before anything is counted.
        let pesel = Pesel::parse(&typed)
            .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))?;
        let case_reference = req
            .case_reference
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let citizen = Pseudonym::of(&self.keys.pepper, &pesel);
        let base = AuditEntry::new(
            now,
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        )
        .about(citizen.as_str(), req.document, &req.purpose);
        let check =
            match self
                .policy
                .authorize(&officer.role, req.document, &req.purpose, case_reference)
            {
                Ok(c) => c,
                Err(denial) => {
                    let code = denial_code(denial.code());
                    self.store.append_audit(base.outcome(code.as_str())).await?;
                    return Err(Refusal::new(code).detail(denial.to_string()).into());
                }
            };
        let mut base = base;
        base.case_reference = case_reference.map(str::to_string);
        let subject = Subject {
            pesel,
            citizen,
            document: req.document,
            purpose: req.purpose.clone(),
            case_reference: base.case_reference.clone(),
        };

        self.count_attempt(auth, check.daily_limit, &base).await?;

        match check.consent {
            ConsentMode::None => {
                self.release_without_consent(auth, subject, check.fields, base)
                    .await
            }
            ConsentMode::Sms => self.challenge(auth, subject, base).await,
        }
    }

    /// Counts one attempt against today's limit; refuses when the account is
    /// locked or this attempt passes the limit (which locks it).
    pub(super) async fn count_attempt(
        &self,
        auth: &Authenticated,
        daily_limit: u32,
        base: &AuditEntry,
    ) -> Result<(), BrokerError> {
        let day = quota::business_day(self.clock.now(), self.policy.global.time_zone);
        let mut counted = base.clone();
        counted.event = AuditEvent::AttemptCounted.as_str().to_string();
        match self
            .store
            .count_attempt(&auth.officer.id, day, daily_limit, counted)
            .await?
        {
            AttemptOutcome::Counted { .. } => Ok(()),
            AttemptOutcome::Exceeded { .. } => {
                Err(BrokerError::refused(ErrorCode::DailyLimitExceeded))
            }
            AttemptOutcome::Locked => Err(BrokerError::refused(ErrorCode::AccountLocked)),
        }
    }

    /// Operational checks (policy `consent = "none"`): fetch and release at once.
    async fn release_without_consent(
        &self,
        auth: &Authenticated,
        s: Subject,
        fields: &std::collections::BTreeSet<String>,
        base: AuditEntry,
    ) -> Result<Verification, BrokerError> {
        let id = uuid::Uuid::new_v4().to_string();
        let base = base.verification(&id);
        let document = self
            .fetch_released(&s.pesel, s.document, fields, &base)
            .await?;
        let mut audit = base;
        audit.event = AuditEvent::DocumentReleased.as_str().to_string();
        audit.fields = document.1;
        self.store.append_audit(audit).await?;
        self.completed(auth, id, document.0).await
    }

    /// Creates the challenge and sends the code.
    async fn challenge(
        &self,
        auth: &Authenticated,
        s: Subject,
        base: AuditEntry,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        if !self.store.is_activated(&s.citizen).await? {
            return self.refuse(&base, ErrorCode::NotActivated).await;
        }
        let phone = match self.registers.contact(&s.pesel).await {
            Ok(c) if !c.reserved => c.phone,
            Ok(_) | Err(RegisterFailure::NotFound(_)) => None,
            Err(RegisterFailure::Unavailable { register, reason }) => {
                tracing::warn!(%register, %reason, "contact register unavailable");
                return self.refuse(&base, ErrorCode::RegistryUnavailable).await;
            }
        };
        let Some(phone) = phone else {
            return self.refuse(&base, ErrorCode::NoContact).await;
        };

        let now = self.clock.now();
        let g = &self.policy.global;
        let lifetime = chrono_duration(g.challenge_lifetime).min(consent::MAX_LIFETIME);
        let id = uuid::Uuid::new_v4().to_string();
        let code = consent::new_code(&mut OsRng);
        let challenge = NewChallenge {
            id: id.clone(),
            officer_id: officer.id.clone(),
            session_hash: auth.session.clone(),
            citizen: s.citizen.clone(),
            document: s.document,
            purpose: s.purpose.clone(),
            case_reference: s.case_reference.clone(),
            code_mac: consent::code_mac(&self.keys.challenge, &id, &code).to_vec(),
            sealed_subject: seal::seal(&self.keys.challenge, &id, &code, &s.pesel),
            created_at: now,
            expires_at: now + lifetime,
            max_attempts: g.challenge_attempts,
        };
        let mut started = base.clone().verification(&id);
        started.event = AuditEvent::VerificationStarted.as_str().to_string();
        self.store.insert_challenge(challenge, started).await?;

        let text = consent::sms_text(&code, &officer.unit, s.document.as_str());
        if let Err(e) = self.sms.send(&phone, &text).await {
            tracing::warn!(error = %e, verification = %id, "sms not sent");
            let mut cancelled = base
                .clone()
                .verification(&id)
                .outcome(ErrorCode::SmsUnavailable.as_str());
            cancelled.event = AuditEvent::VerificationCancelled.as_str().to_string();
            self.store
                .cancel_challenge(&id, &officer.id, cancelled)
                .await?;
            return Err(BrokerError::refused(ErrorCode::SmsUnavailable));
        }
        Ok(Verification {
            id,
            status: VerificationStatus::AwaitingCode,
            expires_at: Some(now + lifetime),
            attempts_left: Some(g.challenge_attempts),
            sent_to: Some(consent::mask_phone(&phone)),
            document: None,
            display_until: None,
            quota: self.quota(officer).await?,
        })
    }

    /// Audits a refusal and answers it.
    async fn refuse(
        &self,
        base: &AuditEntry,
        code: ErrorCode,
    ) -> Result<Verification, BrokerError> {
        self.store
            .append_audit(base.clone().outcome(code.as_str()))
            .await?;
        Err(BrokerError::refused(code))
    }

    /// `POST /v1/verifications/{id}/code`.
    pub async fn answer_code(
        &self,
        auth: &Authenticated,
        id: &str,
        code: &str,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        if !consent::well_formed(code) {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("the code has six digits")
                .into());
        }
        let now = self.clock.now();
        let ch = match self
            .store
            .reserve_code_attempt(id, &officer.id, &auth.session, now)
            .await?
        {
            Reservation::Reserved(ch) => ch,
            Reservation::Closed(why) => return Err(BrokerError::refused(closed_code(why))),
        };
        let base = AuditEntry::new(now, AuditEvent::CodeRejected, &officer.id, &officer.unit)
            .about(ch.citizen.as_str(), ch.document, &ch.purpose)
            .verification(id);
        let mut base = base;
        base.case_reference = ch.case_reference.clone();

        let opened = consent::code_matches(&self.keys.challenge, id, code, &ch.code_mac)
            .then_some(ch.sealed_subject.as_deref())
            .flatten()
            .and_then(|sealed| seal::open(&self.keys.challenge, id, code, sealed));
        let Some(pesel) = opened else {
            let day = quota::business_day(now, self.policy.global.time_zone);
            let threshold = self.policy.global.wrong_code_lock_threshold;
            let audit = base.outcome(ErrorCode::WrongCode.as_str());
            let wrong = self
                .store
                .record_wrong_code(id, &officer.id, day, threshold, audit)
                .await?;
            if wrong.locked {
                return Err(Refusal::new(ErrorCode::AccountLocked)
                    .detail("too many wrong codes today")
                    .into());
            }
            let mut r = Refusal::new(ErrorCode::WrongCode);
            r.attempts_left = Some(ch.max_attempts.saturating_sub(ch.attempts_used));
            return Err(r.into());
        };

        let check = self
            .policy
            .authorize(
                &officer.role,
                ch.document,
                &ch.purpose,
                ch.case_reference.as_deref(),
            )
            .map_err(|d| BrokerError::refused(denial_code(d.code())))?;
        let (document, fields) = self
            .fetch_released(&pesel, ch.document, check.fields, &base)
            .await?;
        let mut released = base;
        released.event = AuditEvent::DocumentReleased.as_str().to_string();
        released.outcome = "ok".into();
        released.fields = fields;
        if !self.store.complete_challenge(id, released).await? {
            // Another request used the code first: release nothing.
            return Err(BrokerError::refused(ErrorCode::ChallengeUsed));
        }
        self.completed(auth, id.to_string(), document).await
    }

    /// Fetches a document live and cuts it to the purpose's fields. A
    /// register failure is audited and answered; nothing is released.
    async fn fetch_released(
        &self,
        pesel: &Pesel,
        kind: DocumentType,
        fields: &std::collections::BTreeSet<String>,
        base: &AuditEntry,
    ) -> Result<(Document, Vec<String>), BrokerError> {
        match self.registers.document(pesel, kind).await {
            Ok(mut doc) => {
                let released = doc.restrict(fields.iter().map(String::as_str));
                Ok((doc, released))
            }
            Err(failure) => {
                let code = match &failure {
                    RegisterFailure::NotFound(_) => ErrorCode::DocumentNotFound,
                    RegisterFailure::Unavailable { register, reason } => {
                        tracing::warn!(%register, %reason, "register unavailable");
                        ErrorCode::RegistryUnavailable
                    }
                };
                let mut audit = base.clone().outcome(code.as_str());
                audit.event = AuditEvent::ReleaseFailed.as_str().to_string();
                self.store.append_audit(audit).await?;
                Err(BrokerError::refused(code))
            }
        }
    }

    pub(super) async fn completed(
        &self,
        auth: &Authenticated,
        id: String,
        document: Document,
    ) -> Result<Verification, BrokerError> {
        let display = chrono_duration(self.policy.global.display);
        Ok(Verification {
            id,
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            document: Some(document),
            display_until: Some(self.clock.now() + display),
            quota: self.quota(&auth.officer).await?,
        })
    }

    /// `DELETE /v1/verifications/{id}`.
    pub async fn cancel_verification(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<(), BrokerError> {
        let o = &auth.officer;
        let mut audit = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationCancelled,
            &o.id,
            &o.unit,
        )
        .verification(id);
        audit.outcome = "ok".into();
        if self.store.cancel_challenge(id, &o.id, audit).await? {
            Ok(())
        } else {
            Err(BrokerError::refused(ErrorCode::NotFound))
        }
    }
}

/// The wire code of a policy denial.
pub(super) fn denial_code(code: &str) -> ErrorCode {
    match code {
        "case_reference_required" => ErrorCode::CaseReferenceRequired,
        "invalid_request" => ErrorCode::InvalidRequest,
        _ => ErrorCode::NotPermitted,
    }
}

/// The wire code of a closed challenge.
fn closed_code(why: Closed) -> ErrorCode {
    match why {
        Closed::NotFound => ErrorCode::NotFound,
        Closed::Expired => ErrorCode::ChallengeExpired,
        Closed::Exhausted => ErrorCode::ChallengeExhausted,
        Closed::Used => ErrorCode::ChallengeUsed,
    }
}
