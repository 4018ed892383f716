//! The verification flow, one for every kind of subject: validate, authorise,
//! count, then either release at once (roles whose checks need no consent)
//! or challenge the citizen for a code and release on the right one. Each
//! step's rule lives in its core module; this file orders them.

use chrono::{DateTime, Utc};
use okaz_policy::{ConsentMode, Denial, ResolvedCheck, Role};
use okaz_protocol::{
    CodeRequest, Document, DocumentType, ErrorCode, Pesel, PhotoFit, QuotaView, Receipt,
    Verification, VerificationRequest, VerificationStatus,
};

use super::auth::{chrono_duration, Authenticated, Bearer};
use super::request::{CheckRequest, NamesCitizen};
use super::subject::may_use;
use super::Broker;
use crate::audit::{AuditEntry, AuditEvent, Outcome};
use crate::consent::{self, Closed};
use crate::error::{BrokerError, Refusal};
use crate::notice::Notice;
use crate::ports::{
    AfterCount, AttemptOutcome, Challenge, Found, NewChallenge, Officer, RegisterFailure,
    Reservation, Rng, SessionView, Subject,
};
use crate::pseudonym::Pseudonym;
use crate::{notice, quota, seal};

impl Broker {
    /// `POST /v1/verifications`: authenticates (one lookup, which also
    /// reads whether the citizen activated the service), then starts the
    /// check. `body` is the request as parsed: a malformed one is refused
    /// after authentication, with the quota, and costs nothing.
    pub async fn start_verification(
        &self,
        token: Bearer<'_>,
        body: Result<VerificationRequest, BrokerError>,
    ) -> Result<Verification, BrokerError> {
        // Parsed once, here: the pseudonym it computes names the citizen
        // whose activation the authentication reads; a refusal waits for
        // the authentication, and is answered with the quota.
        let parsed = body.map(|r| CheckRequest::parse(&r, &self.keys.pepper));
        let (auth, activated) = self.authenticate_check(token, &parsed).await?;
        let started = async { self.start(&auth, activated, parsed?).await }.await;
        started.map_err(|e| self.with_quota(&auth, e))
    }

    /// The one authentication lookup of a check's start, which also reads
    /// whether the citizen the request names (by the pseudonym its parse
    /// computed) activated the service.
    pub(super) async fn authenticate_check<R: NamesCitizen, E>(
        &self,
        token: Bearer<'_>,
        parsed: &Result<Result<R, Refusal>, E>,
    ) -> Result<(Authenticated, Option<bool>), BrokerError> {
        let citizen = match parsed {
            Ok(Ok(r)) => r.citizen().cloned(),
            _ => None,
        };
        self.authenticate_for(token, citizen).await
    }

    /// Validates, authorises, counts, and goes on to release or challenge.
    async fn start(
        &self,
        auth: &Authenticated,
        activated: Option<bool>,
        req: Result<CheckRequest, Refusal>,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let role = self.role_of(officer)?;
        // A typo costs nothing: validated before anything is counted.
        let req = req?;
        let mut base = self.check_record(officer, &req, self.clock.now());
        let check = self.authorize_check(officer, role, &req, &mut base).await?;

        match (check.consent, &req.subject, &req.citizen) {
            (ConsentMode::Sms, Subject::Pesel(pesel), Some(citizen)) => {
                let activated = activated.unwrap_or(false);
                let person = (pesel, citizen);
                self.challenge(auth, activated, person, &[req.document], &check, base)
                    .await
            }
            (ConsentMode::Sms, _, _) => {
                // `may_use` refuses this above; fail closed all the same.
                Err(BrokerError::refused(ErrorCode::NotPermitted))
            }
            (ConsentMode::None, _, _) => {
                let quota = self
                    .count_attempt(auth, check.daily_limit, &base, AfterCount::Nothing)
                    .await?;
                let id = Rng(&*self.random).uuid();
                let base = base.verification(&id);
                self.release_at_once(id, &req, &check, base, quota, AtOnce::NoConsentNeeded)
                    .await
            }
        }
    }

    /// Counts one attempt against today's limit and does `then` in the
    /// same transaction; refuses when the account is locked or this attempt
    /// passes the limit (which locks it). Returns the quota the count left,
    /// so nothing reads the counter again.
    pub(super) async fn count_attempt(
        &self,
        auth: &Authenticated,
        daily_limit: u32,
        base: &AuditEntry,
        then: AfterCount,
    ) -> Result<QuotaView, BrokerError> {
        let tz = self.policy.global.time_zone;
        let counted = base.clone().as_event(AuditEvent::AttemptCounted);
        let view = |used, limit| QuotaView {
            used,
            limit,
            resets_at: quota::resets_at(auth.day, tz),
        };
        match self
            .store
            .count_attempt_then(&auth.officer.id, auth.day, daily_limit, counted, then)
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

    /// A check released without a code (policy `consent = "none"`, or by
    /// break-glass): fetch and release at once, as verification `id`
    /// (which `base` names). The person the register names is the citizen
    /// the audit records, so they see the check in their history.
    pub(super) async fn release_at_once(
        &self,
        id: String,
        req: &CheckRequest,
        check: &ResolvedCheck<'_>,
        base: AuditEntry,
        quota: QuotaView,
        why: AtOnce,
    ) -> Result<Verification, BrokerError> {
        let kind = req.document;
        let Found {
            mut document,
            owner,
        } = self.fetch(&req.subject, kind, &base, None).await?;
        let fields = document.restrict(to_release(check.fields.iter(), req.photo));
        let mut released = base.released(fields);
        if why == AtOnce::BreakGlass {
            // The flag on the release: its outcome says break-glass.
            released = released.outcome(Outcome::BreakGlass);
        }
        if let Some(owner) = &owner {
            released.citizen = Some(Pseudonym::of(&self.keys.pepper, owner).as_str().to_string());
        }
        let receipt = self.receipt(&released);
        // The notice waits sealed in the outbox, in the release's own
        // transaction: no extra round trip, never one without the other,
        // and it survives this replica. It is due after the policy's delay;
        // a break-glass check is told at once, as an emergency check.
        let sealed = owner.as_ref().and_then(|owner| {
            let n = self.notices.as_ref()?;
            let mut notice = self.notice_of(owner, &released, kind);
            let due_at = match why {
                AtOnce::NoConsentNeeded => released.at + chrono_duration(check.history_delay),
                AtOnce::BreakGlass => {
                    notice.emergency = true;
                    released.at
                }
            };
            notice::outbox_row(n, &*self.random, &notice, due_at)
        });
        self.store
            .append_audits(vec![released], sealed.as_slice())
            .await?;
        Ok(self.released(id, document, receipt, check, quota))
    }

    /// Checks consent's prerequisites, then counts the attempt and creates
    /// the challenge in one transaction, then sends the code. The phone is
    /// read from the contact register before the count, so that the count,
    /// the challenge and their records are written together; an attempt
    /// refused for want of activation or contact is still counted.
    /// `documents` are those the code releases (a bundle's several): the
    /// first is the challenge's, all are named in the SMS.
    pub(super) async fn challenge(
        &self,
        auth: &Authenticated,
        activated: bool,
        (pesel, citizen): (&Pesel, &Pseudonym),
        documents: &[DocumentType],
        check: &ResolvedCheck<'_>,
        base: AuditEntry,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let document = *documents
            .first()
            .ok_or_else(|| BrokerError::refused(ErrorCode::InvalidRequest))?;
        let phone = if activated {
            match self.registers.contact(pesel).await {
                Ok(c) if !c.reserved => c.phone.ok_or(ErrorCode::NoContact),
                Ok(_) | Err(RegisterFailure::NotFound(_)) => Err(ErrorCode::NoContact),
                Err(RegisterFailure::Unavailable { register, reason }) => {
                    tracing::warn!(%register, %reason, "contact register unavailable");
                    Err(ErrorCode::RegistryUnavailable)
                }
            }
        } else {
            Err(ErrorCode::NotActivated)
        };
        let phone = match phone {
            Ok(phone) => phone,
            Err(code) => {
                let refused = AfterCount::Refuse(base.clone().refused(code));
                let quota = self
                    .count_attempt(auth, check.daily_limit, &base, refused)
                    .await?;
                let mut r = Refusal::new(code);
                r.quota = Some(quota);
                return Err(r.into());
            }
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
            citizen: citizen.clone(),
            document,
            purpose,
            case_reference: base.case_reference.clone(),
            code_mac: consent::code_mac(&self.keys.challenge, &id, &code).to_vec(),
            sealed_subject: seal::seal(&self.keys.challenge, &id, &code, pesel),
            created_at: now,
            expires_at: now + lifetime,
            max_attempts: check.challenge_attempts,
        };
        let started = base
            .clone()
            .as_event(AuditEvent::VerificationStarted)
            .verification(&id);
        let quota = self
            .count_attempt(
                auth,
                check.daily_limit,
                &base,
                AfterCount::Challenge(Box::new(challenge), started),
            )
            .await?;

        let text = consent::sms_text(&code, &officer.unit, documents);
        if let Err(e) = self.sms.send(&phone, &text, Some(&id)).await {
            tracing::warn!(error = %e, verification = %id, "sms not sent");
            let cancelled = base
                .as_event(AuditEvent::VerificationCancelled)
                .verification(&id)
                .refused(ErrorCode::SmsUnavailable);
            // No code left the broker, so nobody could have consented: the
            // attempt is given back and the officer may simply try again.
            let refunded = self
                .store
                .cancel_unsent_challenge(&id, &officer.id, auth.day, cancelled)
                .await?;
            let mut quota = quota;
            if refunded {
                quota.used = quota.used.saturating_sub(1);
            }
            let mut r = Refusal::new(ErrorCode::SmsUnavailable);
            r.quota = Some(quota);
            return Err(r.into());
        }
        Ok(Verification {
            id,
            status: VerificationStatus::AwaitingCode,
            expires_at: Some(now + lifetime),
            attempts_left: Some(check.challenge_attempts),
            sent_to: Some(consent::mask_phone(&phone)),
            document: None,
            display_until: None,
            receipt: None,
            bundle: None,
            parts: Vec::new(),
            quota,
        })
    }

    /// `POST /v1/verifications/{id}/code`: authenticates and takes one
    /// attempt at the challenge in one transaction, compares the code, and
    /// on the right one fetches and releases the document.
    pub async fn answer_code(
        &self,
        token: Bearer<'_>,
        id: &str,
        body: Result<CodeRequest, BrokerError>,
    ) -> Result<Verification, BrokerError> {
        let (code, photo) = match body {
            Ok(b) if consent::well_formed(&b.code) => (b.code, b.photo),
            // A malformed code takes no attempt.
            other => {
                let auth = self.authenticate(token).await?;
                let refusal = match other {
                    Err(e) => e,
                    Ok(_) => Refusal::new(ErrorCode::InvalidRequest)
                        .detail("the code has six digits")
                        .into(),
                };
                return Err(self.with_quota(&auth, refusal));
            }
        };
        let now = self.clock.now();
        let q = self.lookup(token.token, now, None);
        let accept = |v: &SessionView| self.accept(v, token.certificate, now).is_ok();
        let (view, reservation) = self
            .store
            .authenticate_and_reserve(&q, id, now, &accept)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::SessionExpired))?;
        self.accept(&view, token.certificate, now)?;
        let auth = self.admitted(view, q, now).await?;
        let answered = self.answer(&auth, id, &code, photo, reservation, now).await;
        answered.map_err(|e| self.with_quota(&auth, e))
    }

    /// Compares the code of a reserved attempt and releases on the right one.
    async fn answer(
        &self,
        auth: &Authenticated,
        id: &str,
        code: &str,
        photo: Option<PhotoFit>,
        reservation: Reservation,
        now: DateTime<Utc>,
    ) -> Result<Verification, BrokerError> {
        let officer = &auth.officer;
        let ch = match reservation {
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
            let threshold = self.policy.global.wrong_code_lock_threshold;
            let audit = base.refused(ErrorCode::WrongCode);
            let wrong = self
                .store
                .record_wrong_code(id, &officer.id, auth.day, threshold, audit)
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

        // A bundle's challenge names the bundle where a purpose would stand.
        if self.policy.bundle(&ch.purpose).is_some() {
            return self
                .release_bundle_on_code(auth, id, &ch, pesel, base, photo)
                .await;
        }
        let asked = self.policy.authorize(
            &officer.role,
            ch.document,
            &ch.purpose,
            ch.case_reference.as_deref(),
        );
        let check = self.reauthorised(id, &ch, &pesel, &base, asked).await?;
        // The release: this answer holds the challenge's lease (taken with
        // its attempt), so no other answer reads the register meanwhile.
        let subject = Subject::Pesel(pesel.clone());
        let fetched = self.fetch(&subject, ch.document, &base, Some(id)).await;
        let Found { mut document, .. } = match fetched {
            Ok(found) => found,
            Err(e) => {
                self.notice_refused(&pesel, &ch.citizen, &base, ch.document, e.code())
                    .await;
                return Err(e);
            }
        };
        let fields = document.restrict(to_release(check.fields.iter(), photo));
        let released = base.released(fields);
        let receipt = self.receipt(&released);
        // The notice goes from memory, off this request's path; the
        // citizen's choices come with the release's transaction.
        let notice = self
            .notices
            .is_some()
            .then(|| self.notice_of(&pesel, &released, ch.document));
        self.complete_on_code(id, &ch, vec![released], notice)
            .await?;
        let quota = self.quota_of(auth);
        Ok(self.released(id.to_string(), document, receipt, &check, quota))
    }

    /// The policy asked again at the right code: it may have changed since
    /// the start. The code was right, so a denial leaves the challenge
    /// open: it is recorded with the reopening, and the citizen noticed.
    pub(super) async fn reauthorised<T>(
        &self,
        id: &str,
        ch: &Challenge,
        pesel: &Pesel,
        base: &AuditEntry,
        asked: Result<T, Denial>,
    ) -> Result<T, BrokerError> {
        let denial = match asked {
            Ok(allowed) => return Ok(allowed),
            Err(d) => d,
        };
        let code = denial.code();
        let refused = base
            .clone()
            .as_event(AuditEvent::ReleaseFailed)
            .refused(code);
        self.store.reopen_challenge(id, vec![refused]).await?;
        self.notice_refused(pesel, &ch.citizen, base, ch.document, code)
            .await;
        Err(BrokerError::refused(code))
    }

    /// Completes the challenge of a right code with the release's
    /// `records`, then queues `notice` (from memory, off the answer's path)
    /// on the channels the completion read. Another request that used the
    /// code first leaves nothing released: `challenge_used`.
    pub(super) async fn complete_on_code(
        &self,
        id: &str,
        ch: &Challenge,
        records: Vec<AuditEntry>,
        notice: Option<Notice>,
    ) -> Result<(), BrokerError> {
        let Some(prefs) = self
            .store
            .complete_challenge(id, records, &ch.citizen)
            .await?
        else {
            return Err(BrokerError::refused(ErrorCode::ChallengeUsed));
        };
        if let (Some(n), Some(notice)) = (self.notices.as_ref(), notice) {
            n.queue.push(notice, prefs);
        }
        Ok(())
    }

    /// The answer of a single check released: its document, shown for the
    /// purpose's display time.
    fn released(
        &self,
        id: String,
        document: Document,
        receipt: Option<Receipt>,
        check: &ResolvedCheck<'_>,
        quota: QuotaView,
    ) -> Verification {
        Verification {
            receipt,
            id,
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            document: Some(document),
            display_until: Some(self.clock.now() + chrono_duration(check.display)),
            bundle: None,
            parts: Vec::new(),
            quota,
        }
    }

    /// Fetches a document live. A register failure is audited and
    /// answered; nothing is released. For the right code of `challenge`,
    /// the failure reopens it (lease ended, attempt given back) in the
    /// transaction of its record: a register error never burns a code.
    pub(super) async fn fetch(
        &self,
        subject: &Subject,
        kind: DocumentType,
        base: &AuditEntry,
        challenge: Option<&str>,
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
                match challenge {
                    Some(id) => {
                        self.store.reopen_challenge(id, vec![audit]).await?;
                    }
                    None => self.store.append_audit(audit).await?,
                }
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

impl Broker {
    /// The audit record a check starts from (as a refusal, until it is
    /// more): the officer, the citizen's pseudonym, the document, and the
    /// purpose only if the policy names it — free text typed there (a phone
    /// number, a name) is recorded as `unknown`.
    pub(super) fn check_record(
        &self,
        officer: &Officer,
        req: &CheckRequest,
        now: DateTime<Utc>,
    ) -> AuditEntry {
        let mut base = AuditEntry::new(
            now,
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        );
        base.citizen = req.citizen.as_ref().map(|c| c.as_str().to_string());
        base.document = Some(req.document.as_str().to_string());
        base.purpose = Some(if self.policy.purpose(&req.purpose).is_some() {
            req.purpose.clone()
        } else {
            UNKNOWN_PURPOSE.to_string()
        });
        base
    }
}

impl Broker {
    /// Asks the policy whether the officer may make this check, and
    /// whether the role may name its subject so. A refusal is audited on
    /// `base`, which otherwise gains the check's case reference.
    pub(super) async fn authorize_check(
        &self,
        officer: &Officer,
        role: &Role,
        req: &CheckRequest,
        base: &mut AuditEntry,
    ) -> Result<ResolvedCheck<'_>, BrokerError> {
        let case_reference = req.case_reference.as_deref();
        let subject = &req.subject;
        let check =
            match self
                .policy
                .authorize(&officer.role, req.document, &req.purpose, case_reference)
            {
                Ok(c) => c,
                Err(denial) => {
                    let (code, why) = (denial.code(), denial.to_string());
                    return Err(self.refuse_on_record(base.clone(), code, why).await);
                }
            };
        base.case_reference = case_reference.map(str::to_string);
        if !may_use(role, subject, check.consent == ConsentMode::None) {
            let why = format!("this role may not name the subject by {}", subject.kind());
            let refused = self.refuse_on_record(base.clone(), ErrorCode::NotPermitted, why);
            return Err(refused.await);
        }
        Ok(check)
    }

    /// Refuses a check before anything is counted, on the record: `base`
    /// written as a refusal with `code`, the answer saying why. A store
    /// that cannot write the record answers instead (fail closed).
    pub(super) async fn refuse_on_record(
        &self,
        base: AuditEntry,
        code: ErrorCode,
        why: impl Into<String>,
    ) -> BrokerError {
        match self.store.append_audit(base.refused(code)).await {
            Ok(()) => Refusal::new(code).detail(why).into(),
            Err(e) => e.into(),
        }
    }
}

/// Why a check is released without a code: the policy needs no consent
/// for it, or the officer broke glass (flagged on the record, and the
/// citizen told at once that it was an emergency check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AtOnce {
    /// Policy `consent = "none"`, within the daily limit.
    NoConsentNeeded,
    /// An emergency check by break-glass (see [`crate::break_glass`]).
    BreakGlass,
}

/// What the audit records for a purpose the policy does not name.
const UNKNOWN_PURPOSE: &str = "unknown";

/// The wire code of a closed challenge.
fn closed_code(why: Closed) -> ErrorCode {
    match why {
        Closed::NotFound => ErrorCode::NotFound,
        Closed::Expired => ErrorCode::ChallengeExpired,
        Closed::Exhausted => ErrorCode::ChallengeExhausted,
        Closed::Used => ErrorCode::ChallengeUsed,
        Closed::Releasing => ErrorCode::ChallengeReleasing,
    }
}

/// The fields to release: the purpose's, less the photo when the terminal
/// said it cannot draw one (so the audit never records a photo not sent).
pub(super) fn to_release<'a>(
    fields: impl IntoIterator<Item = &'a String>,
    photo: Option<PhotoFit>,
) -> impl Iterator<Item = &'a str> {
    let wanted = okaz_protocol::photo_wanted(photo);
    fields
        .into_iter()
        .map(String::as_str)
        .filter(move |f| wanted || *f != okaz_protocol::document::PHOTO_FIELD)
}
