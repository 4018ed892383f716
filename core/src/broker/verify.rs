//! The verification flow, one for every kind of subject: validate, authorise,
//! count, then either release at once (roles whose checks need no consent)
//! or challenge the citizen for a code and release on the right one. Each
//! step's rule lives in its core module; this file orders them.

use okaz_policy::{ConsentMode, ResolvedCheck};
use okaz_protocol::{
    DocumentType, ErrorCode, Pesel, QuotaView, Verification, VerificationRequest,
    VerificationStatus,
};

use super::auth::{chrono_duration, Authenticated};
use super::subject::{may_use, subject_of};
use super::Broker;
use crate::audit::{AuditEntry, AuditEvent};
use crate::consent::{self, Closed};
use crate::error::{BrokerError, Refusal};
use crate::ports::{
    AttemptOutcome, Found, NewChallenge, RegisterFailure, Reservation, Rng, Subject,
};
use crate::pseudonym::Pseudonym;
use crate::{quota, seal};

impl Broker {
    /// `POST /v1/verifications`.
    pub async fn start_verification(
        &self,
        auth: &Authenticated,
        req: VerificationRequest,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let role = self.role_of(officer)?;
        // A typo costs nothing: validated before anything is counted.
        let subject = subject_of(&req)?;
        let case_reference = req
            .case_reference
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let mut base = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        );
        if let Subject::Pesel(pesel) = &subject {
            base.citizen = Some(Pseudonym::of(&self.keys.pepper, pesel).as_str().to_string());
        }
        base.document = Some(req.document.as_str().to_string());
        base.purpose = Some(req.purpose.clone());
        let check =
            match self
                .policy
                .authorize(&officer.role, req.document, &req.purpose, case_reference)
            {
                Ok(c) => c,
                Err(denial) => {
                    let code = denial.code();
                    self.store.append_audit(base.refused(code)).await?;
                    return Err(Refusal::new(code).detail(denial.to_string()).into());
                }
            };
        base.case_reference = case_reference.map(str::to_string);
        let consent_free = check.consent == ConsentMode::None;
        if !may_use(role, &subject, consent_free) {
            self.store
                .append_audit(base.refused(ErrorCode::NotPermitted))
                .await?;
            return Err(Refusal::new(ErrorCode::NotPermitted)
                .detail("this role may not look vehicles up by plate")
                .into());
        }

        let quota = self.count_attempt(auth, check.daily_limit, &base).await?;
        match (check.consent, subject) {
            (ConsentMode::Sms, Subject::Pesel(pesel)) => {
                self.challenge(auth, pesel, req.document, &check, base, quota)
                    .await
            }
            (ConsentMode::Sms, Subject::Plate(_)) => {
                // `may_use` refuses this above; fail closed all the same.
                Err(BrokerError::refused(ErrorCode::NotPermitted))
            }
            (ConsentMode::None, subject) => {
                self.release_at_once(subject, req.document, &check, base, quota)
                    .await
            }
        }
    }

    /// Counts one attempt against today's limit; refuses when the account is
    /// locked or this attempt passes the limit (which locks it). Returns the
    /// quota the count left, so nothing reads the counter again.
    async fn count_attempt(
        &self,
        auth: &Authenticated,
        daily_limit: u32,
        base: &AuditEntry,
    ) -> Result<QuotaView, BrokerError> {
        let tz = self.policy.global.time_zone;
        let day = quota::business_day(self.clock.now(), tz);
        let counted = base.clone().as_event(AuditEvent::AttemptCounted);
        let view = |used, limit| QuotaView {
            used,
            limit,
            resets_at: quota::resets_at(day, tz),
        };
        match self
            .store
            .count_attempt(&auth.officer.id, day, daily_limit, counted)
            .await?
        {
            AttemptOutcome::Counted { used, allowance } => Ok(view(used, allowance)),
            AttemptOutcome::Exceeded { used, allowance } => {
                let mut r = Refusal::new(ErrorCode::DailyLimitExceeded);
                r.quota = Some(view(used, allowance));
                Err(r.into())
            }
            AttemptOutcome::Locked => Err(BrokerError::refused(ErrorCode::AccountLocked)),
        }
    }

    /// Checks that need no consent (policy `consent = "none"`): fetch and
    /// release at once. The person the register names is the citizen the
    /// audit records, so they see the check in their history.
    async fn release_at_once(
        &self,
        subject: Subject,
        kind: DocumentType,
        check: &ResolvedCheck<'_>,
        base: AuditEntry,
        quota: QuotaView,
    ) -> Result<Verification, BrokerError> {
        let id = Rng(&*self.random).uuid();
        let base = base.verification(&id);
        let Found {
            mut document,
            owner,
        } = self.fetch(&subject, kind, &base).await?;
        let fields = document.restrict(check.fields.iter().map(String::as_str));
        let mut released = base.released(fields);
        if let Some(owner) = owner {
            released.citizen = Some(
                Pseudonym::of(&self.keys.pepper, &owner)
                    .as_str()
                    .to_string(),
            );
        }
        self.store.append_audit(released).await?;
        Ok(Verification {
            id,
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            document: Some(document),
            display_until: Some(self.clock.now() + chrono_duration(check.display)),
            quota,
        })
    }

    /// Creates the challenge and sends the code.
    async fn challenge(
        &self,
        auth: &Authenticated,
        pesel: Pesel,
        document: DocumentType,
        check: &ResolvedCheck<'_>,
        base: AuditEntry,
        quota: QuotaView,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let citizen = Pseudonym::of(&self.keys.pepper, &pesel);
        if !self.store.is_activated(&citizen).await? {
            return self.refuse(&base, ErrorCode::NotActivated).await;
        }
        let phone = match self.registers.contact(&pesel).await {
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
        let lifetime = chrono_duration(check.challenge_lifetime).min(consent::MAX_LIFETIME);
        let mut rng = Rng(&*self.random);
        let id = rng.uuid();
        let code = consent::new_code(&mut rng);
        let purpose = base.purpose.clone().unwrap_or_default();
        let challenge = NewChallenge {
            id: id.clone(),
            officer_id: officer.id.clone(),
            session_hash: auth.session.clone(),
            citizen,
            document,
            purpose,
            case_reference: base.case_reference.clone(),
            code_mac: consent::code_mac(&self.keys.challenge, &id, &code).to_vec(),
            sealed_subject: seal::seal(&self.keys.challenge, &id, &code, &pesel),
            created_at: now,
            expires_at: now + lifetime,
            max_attempts: check.challenge_attempts,
        };
        let started = base
            .clone()
            .as_event(AuditEvent::VerificationStarted)
            .verification(&id);
        self.store.insert_challenge(challenge, started).await?;

        let text = consent::sms_text(&code, &officer.unit, document.as_str());
        if let Err(e) = self.sms.send(&phone, &text).await {
            tracing::warn!(error = %e, verification = %id, "sms not sent");
            let cancelled = base
                .as_event(AuditEvent::VerificationCancelled)
                .verification(&id)
                .refused(ErrorCode::SmsUnavailable);
            self.store
                .cancel_challenge(&id, &officer.id, cancelled)
                .await?;
            return Err(BrokerError::refused(ErrorCode::SmsUnavailable));
        }
        Ok(Verification {
            id,
            status: VerificationStatus::AwaitingCode,
            expires_at: Some(now + lifetime),
            attempts_left: Some(check.challenge_attempts),
            sent_to: Some(consent::mask_phone(&phone)),
            document: None,
            display_until: None,
            quota,
        })
    }

    /// Audits a refusal and answers it.
    async fn refuse(
        &self,
        base: &AuditEntry,
        code: ErrorCode,
    ) -> Result<Verification, BrokerError> {
        self.store.append_audit(base.clone().refused(code)).await?;
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
        let mut base = AuditEntry::new(now, AuditEvent::CodeRejected, &officer.id, &officer.unit)
            .about(ch.citizen.as_str(), ch.document, &ch.purpose)
            .verification(id);
        base.case_reference = ch.case_reference.clone();

        let opened = consent::code_matches(&self.keys.challenge, id, code, &ch.code_mac)
            .then_some(ch.sealed_subject.as_deref())
            .flatten()
            .and_then(|sealed| seal::open(&self.keys.challenge, id, code, sealed));
        let Some(pesel) = opened else {
            let day = quota::business_day(now, self.policy.global.time_zone);
            let threshold = self.policy.global.wrong_code_lock_threshold;
            let audit = base.refused(ErrorCode::WrongCode);
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

        // The policy may have changed since the start: it is asked again.
        let check = self
            .policy
            .authorize(
                &officer.role,
                ch.document,
                &ch.purpose,
                ch.case_reference.as_deref(),
            )
            .map_err(|d| BrokerError::refused(d.code()))?;
        let Found { mut document, .. } = self
            .fetch(&Subject::Pesel(pesel), ch.document, &base)
            .await?;
        let fields = document.restrict(check.fields.iter().map(String::as_str));
        if !self
            .store
            .complete_challenge(id, base.released(fields))
            .await?
        {
            // Another request used the code first: release nothing.
            return Err(BrokerError::refused(ErrorCode::ChallengeUsed));
        }
        Ok(Verification {
            id: id.to_string(),
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            document: Some(document),
            display_until: Some(self.clock.now() + chrono_duration(check.display)),
            quota: self.quota(officer).await?,
        })
    }

    /// Fetches a document live. A register failure is audited and
    /// answered; nothing is released.
    async fn fetch(
        &self,
        subject: &Subject,
        kind: DocumentType,
        base: &AuditEntry,
    ) -> Result<Found, BrokerError> {
        match self.registers.document(subject, kind).await {
            Ok(found) => Ok(found),
            Err(failure) => {
                let code = match &failure {
                    RegisterFailure::NotFound(_) => ErrorCode::DocumentNotFound,
                    RegisterFailure::Unavailable { register, reason } => {
                        tracing::warn!(%register, %reason, "register unavailable");
                        ErrorCode::RegistryUnavailable
                    }
                };
                let audit = base
                    .clone()
                    .as_event(AuditEvent::ReleaseFailed)
                    .refused(code);
                self.store.append_audit(audit).await?;
                Err(BrokerError::refused(code))
            }
        }
    }

    /// `DELETE /v1/verifications/{id}`.
    pub async fn cancel_verification(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<(), BrokerError> {
        let o = &auth.officer;
        let audit = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationCancelled,
            &o.id,
            &o.unit,
        )
        .verification(id);
        if self.store.cancel_challenge(id, &o.id, audit).await? {
            Ok(())
        } else {
            Err(BrokerError::refused(ErrorCode::NotFound))
        }
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
