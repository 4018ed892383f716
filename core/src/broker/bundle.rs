//! Bundles: several documents as one check (policy `[bundles.*]`). The flow
//! is the single check's, widened: validate the subjects (free), authorise
//! every part (audited refusal), count **once** (one transaction, as a
//! single check), then fetch the parts from their registers concurrently
//! and record every part's outcome in one transaction. A part whose
//! register is down is answered as unavailable; the others still show.
//!
//! ```text
//!  request ─validate─▶ authorise all parts ─count once─▶ fetch parts ─▶ audit parts ─▶ answer
//!                 │                │                  │ (concurrently)   (one txn)
//!           invalid_* (free)  not_permitted      daily_limit / locked
//! ```
//! Where the role needs consent (a clerk's bundle, e.g. identity card +
//! Large Family Card) the count and one challenge are made as for a single
//! check, one SMS names every document, and the right code releases every
//! part: the challenge's completion carries the first part's record, the
//! others follow in one more transaction. A right code that releases no
//! part (every register failed) reopens the challenge instead, as a single
//! check's register failure does: the officer retries the same code.
//!
//! Each released part carries its own receipt (signed with the log key,
//! naming its own leaf), as a single release does; the citizen's portal
//! history lists each part's release with its receipt and proof.

use futures::future::join_all;
use okaz_policy::{ConsentMode, PartSubject, ResolvedBundle};
use okaz_protocol::{
    BundleRequest, BundleVerification, DocumentType, ErrorCode, PartResult, PartStatus, Pesel,
    PhotoFit, QuotaView, Verification, VerificationStatus,
};

use super::auth::{chrono_duration, Authenticated};
use super::request::BundleCheck;
use super::subject::may_use;
use super::Broker;
use crate::audit::{AuditEntry, AuditEvent};
use crate::error::BrokerError;
use crate::notice;
use crate::ports::{
    AfterCount, Challenge, Found, OutboxNotice, Plate, RegisterFailure, Rng, Subject,
};
use crate::pseudonym::Pseudonym;

impl Broker {
    /// `POST /v1/bundles`: authenticates (one lookup), then runs the bundle.
    pub async fn start_bundle(
        &self,
        token: super::Bearer<'_>,
        body: Result<BundleRequest, BrokerError>,
    ) -> Result<BundleVerification, BrokerError> {
        // Parsed once, here, against what the bundle needs; a refusal
        // waits for the authentication, and is answered with the quota.
        let parsed =
            body.map(|r| BundleCheck::parse(&r, self.policy.bundle(&r.bundle), &self.keys.pepper));
        let (auth, activated) = self.authenticate_check(token, &parsed).await?;
        let run = async { self.run_bundle(&auth, activated, parsed??).await }.await;
        run.map_err(|e| self.with_quota(&auth, e))
    }

    async fn run_bundle(
        &self,
        auth: &Authenticated,
        activated: Option<bool>,
        req: BundleCheck,
    ) -> Result<BundleVerification, BrokerError> {
        let officer = &auth.officer;
        let case_reference = req.case_reference.as_deref();
        let mut base = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        );
        // The bundle's name stands where a single check's purpose would.
        base.purpose = Some(req.bundle.clone());
        base.case_reference = case_reference.map(str::to_string);
        // A typo cost nothing: the subjects were validated against what the
        // bundle needs before anything was counted or audited; an unknown
        // bundle is refused below, audited, like any other denial.
        base.citizen = req.citizen.as_ref().map(|c| c.as_str().to_string());
        let resolved =
            match self
                .policy
                .authorize_bundle(&officer.role, &req.bundle, case_reference)
            {
                Ok(r) => r,
                Err(denial) => {
                    let code = denial.code();
                    return Err(self.refuse_on_record(base, code, denial.to_string()).await);
                }
            };
        // A driver named by licence number has no citizen to ask for a
        // code: only a consent-free role the policy lets look documents up
        // by number may do it (as a single check by number). Refused and
        // audited before anything is counted.
        if let Some(person @ Subject::LicenceNumber(_)) = &req.person {
            let role = self.role_of(officer)?;
            if !may_use(role, person, resolved.consent == ConsentMode::None) {
                let why = "this role may not name the driver by licence number";
                return Err(self
                    .refuse_on_record(base, ErrorCode::NotPermitted, why)
                    .await);
            }
        }
        if resolved.consent == ConsentMode::Sms {
            return self
                .challenge_bundle(auth, activated, &resolved, &req, base)
                .await;
        }
        // One count for the whole bundle, in the single check's one transaction.
        let quota = self
            .count_attempt(auth, resolved.daily_limit, &base, AfterCount::Nothing)
            .await?;
        self.release_parts(&resolved, &req, base, quota).await
    }

    /// One challenge for the whole bundle: counted once, one SMS naming
    /// every document; the parts wait for the code.
    async fn challenge_bundle(
        &self,
        auth: &Authenticated,
        activated: Option<bool>,
        resolved: &ResolvedBundle<'_>,
        req: &BundleCheck,
        base: AuditEntry,
    ) -> Result<BundleVerification, BrokerError> {
        // Validation lets only consent-free roles name a vehicle, so every
        // part of a bundle with consent is the person's.
        let (Some(Subject::Pesel(pesel)), Some(citizen), Some((_, first))) =
            (&req.person, &req.citizen, resolved.parts.first())
        else {
            return Err(BrokerError::refused(ErrorCode::InvalidRequest));
        };
        let documents: Vec<DocumentType> = resolved.parts.iter().map(|(p, _)| p.document).collect();
        let v = self
            .challenge(
                auth,
                activated.unwrap_or(false),
                (pesel, citizen),
                &documents,
                first,
                base,
            )
            .await?;
        Ok(BundleVerification {
            id: v.id,
            bundle: req.bundle.clone(),
            status: v.status,
            expires_at: v.expires_at,
            attempts_left: v.attempts_left,
            sent_to: v.sent_to,
            parts: documents
                .into_iter()
                .map(|kind| PartResult {
                    kind,
                    status: PartStatus::Pending,
                    document: None,
                    receipt: None,
                })
                .collect(),
            display_until: None,
            quota: v.quota,
        })
    }

    /// The right code of a bundle's challenge: asks the policy again, then
    /// fetches and releases every part. The challenge is completed (once,
    /// with the first part's record) before anything is answered.
    pub(super) async fn release_bundle_on_code(
        &self,
        auth: &Authenticated,
        id: &str,
        ch: &Challenge,
        pesel: Pesel,
        base: AuditEntry,
        photo: Option<PhotoFit>,
    ) -> Result<Verification, BrokerError> {
        let asked = self.policy.authorize_bundle(
            &auth.officer.role,
            &ch.purpose,
            ch.case_reference.as_deref(),
        );
        let resolved = self.reauthorised(id, ch, &pesel, &base, asked).await?;
        let person = Subject::Pesel(pesel.clone());
        // This answer holds the challenge's lease (taken with its attempt):
        // no other answer reads the registers meanwhile.
        let record = base.clone();
        let Fetched {
            records,
            parts,
            owners,
        } = self
            .fetch_parts(&resolved, (Some(&person), None), &ch.purpose, base, photo)
            .await;
        if let Some(code) = nothing_released(&parts) {
            // Every register failed: nothing was shown, so the code is not
            // used up; the failures are on record with the reopening.
            self.store.reopen_challenge(id, records).await?;
            self.notice_refused(&pesel, &ch.citizen, &record, ch.document, code)
                .await;
            return Err(BrokerError::refused(code));
        }
        if records.is_empty() {
            // The completion's own record is the first part's: none, none.
            return Err(BrokerError::refused(ErrorCode::Internal));
        }
        // One notice names every part released, sent from memory (the
        // PESEL is here); the citizen's channel choices come with the
        // completion, which writes every part's record.
        let notice = self
            .notices
            .is_some()
            .then(|| self.bundle_notice(&pesel, &ch.purpose, &records, &owners))
            .flatten();
        self.complete_on_code(id, ch, records, notice).await?;
        Ok(Verification {
            id: id.to_string(),
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            document: None,
            display_until: Some(self.clock.now() + chrono_duration(resolved.display)),
            bundle: Some(ch.purpose.clone()),
            parts,
            // Each released part carries its own receipt.
            receipt: None,
            quota: self.quota_of(auth),
        })
    }

    /// Fetches every part at once and records them together.
    async fn release_parts(
        &self,
        resolved: &ResolvedBundle<'_>,
        req: &BundleCheck,
        base: AuditEntry,
        quota: QuotaView,
    ) -> Result<BundleVerification, BrokerError> {
        let bundle = req.bundle.as_str();
        let id = Rng(&*self.random).uuid();
        let base = base.verification(&id);
        let subjects = (req.person.as_ref(), req.vehicle.as_ref());
        let Fetched {
            records,
            parts,
            owners,
        } = self
            .fetch_parts(resolved, subjects, bundle, base, req.photo)
            .await;
        // Each person whose papers were released (the driver, the
        // vehicle's owner) is noticed once, after the policy's delay: the
        // rows wait sealed, written with the parts' records.
        let rows = self.bundle_outbox_rows(resolved, bundle, &records, &owners);
        // All parts' records, or none: nothing is answered unrecorded.
        self.store.append_audits(records, &rows).await?;
        Ok(BundleVerification {
            id,
            bundle: bundle.to_string(),
            status: VerificationStatus::Completed,
            expires_at: None,
            attempts_left: None,
            sent_to: None,
            parts,
            display_until: Some(self.clock.now() + chrono_duration(resolved.display)),
            quota,
        })
    }

    /// Fetches every part concurrently; each part's audit record (released
    /// with the names of its fields, or failed), its answer and its owner.
    async fn fetch_parts(
        &self,
        resolved: &ResolvedBundle<'_>,
        (person, vehicle): (Option<&Subject>, Option<&Plate>),
        bundle: &str,
        base: AuditEntry,
        photo: Option<PhotoFit>,
    ) -> Fetched {
        let fetches = resolved.parts.iter().map(|(part, _)| async move {
            let subject = match part.subject {
                PartSubject::Person => person.cloned(),
                PartSubject::Vehicle => vehicle.cloned().map(Subject::Plate),
            };
            match subject {
                Some(s) => self.registers.document(&s, part.document).await,
                None => Err(RegisterFailure::NotFound(part.document.as_str().into())),
            }
        });
        let found = join_all(fetches).await;

        let mut records = Vec::with_capacity(found.len());
        let mut parts = Vec::with_capacity(found.len());
        let mut owners = Vec::with_capacity(found.len());
        for ((part, check), got) in resolved.parts.iter().zip(found) {
            let mut record = base.clone();
            record.document = Some(part.document.as_str().to_string());
            record.purpose = Some(format!("{bundle}/{}", part.purpose));
            match got {
                Ok(Found {
                    mut document,
                    owner,
                }) => {
                    let fields =
                        document.restrict(super::verify::to_release(check.fields.iter(), photo));
                    let mut released = record.released(fields);
                    // Signed below, once the citizen the record names is final.
                    // A vehicle's papers are its owner's: they see the check.
                    if let Some(owner) = &owner {
                        released.citizen =
                            Some(Pseudonym::of(&self.keys.pepper, owner).as_str().to_string());
                    } else if part.subject == PartSubject::Vehicle {
                        released.citizen = None;
                    }
                    owners.push(owner);
                    let receipt = self.receipt(&released);
                    records.push(released);
                    parts.push(PartResult {
                        kind: part.document,
                        status: PartStatus::Released,
                        document: Some(document),
                        receipt,
                    });
                }
                Err(failure) => {
                    let (code, status) = match &failure {
                        RegisterFailure::NotFound(_) => {
                            (ErrorCode::DocumentNotFound, PartStatus::NotFound)
                        }
                        RegisterFailure::Unavailable { register, reason } => {
                            tracing::warn!(%register, %reason, "register unavailable");
                            (ErrorCode::RegistryUnavailable, PartStatus::Unavailable)
                        }
                    };
                    if part.subject == PartSubject::Vehicle {
                        record.citizen = None;
                    }
                    records.push(record.as_event(AuditEvent::ReleaseFailed).refused(code));
                    owners.push(None);
                    parts.push(PartResult {
                        kind: part.document,
                        status,
                        document: None,
                        receipt: None,
                    });
                }
            }
        }
        Fetched {
            records,
            parts,
            owners,
        }
    }

    /// The notice of a consent bundle's release to `pesel`: every part
    /// released to them, under the bundle's name. `None` if nothing was.
    fn bundle_notice(
        &self,
        pesel: &Pesel,
        bundle: &str,
        records: &[AuditEntry],
        owners: &[Option<Pesel>],
    ) -> Option<notice::Notice> {
        let mut theirs = records
            .iter()
            .zip(owners)
            .filter(|(r, o)| r.event == AuditEvent::DocumentReleased && o.as_ref() == Some(pesel))
            .map(|(r, _)| r);
        let first = theirs.next()?;
        let document = document_of(first)?;
        let mut n = self.notice_of(pesel, first, document);
        n.purpose = bundle.to_string();
        n.also = theirs.filter_map(document_of).collect();
        Some(n)
    }

    /// The sealed outbox rows of a consent-free bundle's release: one per
    /// person whose papers were released, naming all of theirs, due after
    /// the longest delay of their parts. None without notices.
    fn bundle_outbox_rows(
        &self,
        resolved: &ResolvedBundle<'_>,
        bundle: &str,
        records: &[AuditEntry],
        owners: &[Option<Pesel>],
    ) -> Vec<OutboxNotice> {
        let Some(n) = self.notices.as_ref() else {
            return Vec::new();
        };
        let mut people: Vec<&Pesel> = Vec::new();
        for owner in owners.iter().flatten() {
            if !people.contains(&owner) {
                people.push(owner);
            }
        }
        people
            .into_iter()
            .filter_map(|person| {
                let notice = self.bundle_notice(person, bundle, records, owners)?;
                let delay = resolved
                    .parts
                    .iter()
                    .zip(owners)
                    .filter(|(_, o)| o.as_ref() == Some(person))
                    .map(|((_, check), _)| check.history_delay)
                    .max()
                    .unwrap_or_default();
                notice::outbox_row(
                    n,
                    &*self.random,
                    &notice,
                    notice.at + chrono_duration(delay),
                )
            })
            .collect()
    }
}

/// What fetching a bundle's parts gave: for each part, in the bundle's
/// order, its audit record, its answer, and whose papers they are (only
/// where released: the person to notice).
struct Fetched {
    records: Vec<AuditEntry>,
    parts: Vec<PartResult>,
    owners: Vec<Option<Pesel>>,
}

/// The document a record names.
fn document_of(record: &AuditEntry) -> Option<DocumentType> {
    record.document.as_deref().and_then(DocumentType::parse)
}

/// When no part was released: the refusal to answer (a register down
/// outranks a document not found), and the challenge stays open.
fn nothing_released(parts: &[PartResult]) -> Option<ErrorCode> {
    if parts.iter().any(|p| p.status == PartStatus::Released) {
        return None;
    }
    if parts.iter().any(|p| p.status == PartStatus::Unavailable) {
        Some(ErrorCode::RegistryUnavailable)
    } else {
        Some(ErrorCode::DocumentNotFound)
    }
}
