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
use okaz_policy::{Bundle, ConsentMode, PartSubject, ResolvedBundle};
use okaz_protocol::{
    docnumber, plate, BundleRequest, BundleVerification, DocumentType, ErrorCode, PartResult,
    PartStatus, Pesel, PhotoFit, QuotaView, Verification, VerificationStatus,
};

use super::auth::{chrono_duration, Authenticated};
use super::Broker;
use crate::audit::{AuditEntry, AuditEvent};
use crate::error::{BrokerError, Refusal};
use crate::notice;
use crate::ports::{AfterCount, Challenge, Found, OutboxNotice, RegisterFailure, Rng, Subject};
use crate::pseudonym::Pseudonym;

/// The subjects a bundle request names, validated.
#[derive(Debug, PartialEq, Eq)]
struct Subjects {
    /// The person: by PESEL, or (a traffic stop's driver) by licence number.
    person: Option<Subject>,
    /// The vehicle, by its plate (normalised).
    vehicle: Option<String>,
}

impl Broker {
    /// `POST /v1/bundles`: authenticates (one lookup), then runs the bundle.
    pub async fn start_bundle(
        &self,
        token: super::Bearer<'_>,
        body: Result<BundleRequest, BrokerError>,
    ) -> Result<BundleVerification, BrokerError> {
        let citizen = body
            .as_ref()
            .ok()
            .and_then(|r| r.subject.pesel.as_deref())
            .and_then(|p| Pesel::parse(p).ok())
            .map(|p| Pseudonym::of(&self.keys.pepper, &p));
        let (auth, activated) = self.authenticate_for(token, citizen).await?;
        let run = async { self.run_bundle(&auth, activated, body?).await }.await;
        run.map_err(|e| self.with_quota(&auth, e))
    }

    async fn run_bundle(
        &self,
        auth: &Authenticated,
        activated: Option<bool>,
        req: BundleRequest,
    ) -> Result<BundleVerification, BrokerError> {
        let officer = &auth.officer;
        let case_reference = super::verify::case_reference_of(req.case_reference.as_deref());
        let mut base = AuditEntry::new(
            self.clock.now(),
            AuditEvent::VerificationRefused,
            &officer.id,
            &officer.unit,
        );
        // The bundle's name stands where a single check's purpose would.
        base.purpose = Some(req.bundle.clone());
        base.case_reference = case_reference.map(str::to_string);
        // A typo costs nothing: the subjects are validated against what the
        // bundle needs before anything is counted or audited; an unknown
        // bundle is refused below, audited, like any other denial.
        let subjects = match self.policy.bundle(&req.bundle) {
            Some(b) => subjects_of(&req, b)?,
            None => Subjects {
                person: None,
                vehicle: None,
            },
        };
        if let Some(Subject::Pesel(p)) = &subjects.person {
            base.citizen = Some(Pseudonym::of(&self.keys.pepper, p).as_str().to_string());
        }
        let resolved =
            match self
                .policy
                .authorize_bundle(&officer.role, &req.bundle, case_reference)
            {
                Ok(r) => r,
                Err(denial) => {
                    let code = denial.code();
                    self.store.append_audit(base.refused(code)).await?;
                    return Err(Refusal::new(code).detail(denial.to_string()).into());
                }
            };
        // A driver named by licence number has no citizen to ask for a
        // code: only a consent-free role the policy lets look documents up
        // by number may do it (as a single check by number). Refused and
        // audited before anything is counted.
        if let Some(Subject::LicenceNumber(_)) = &subjects.person {
            let role = self.role_of(officer)?;
            if !(role.document_number_lookup && resolved.consent == ConsentMode::None) {
                let code = ErrorCode::NotPermitted;
                self.store.append_audit(base.refused(code)).await?;
                return Err(Refusal::new(code)
                    .detail("this role may not name the driver by licence number")
                    .into());
            }
        }
        if resolved.consent == ConsentMode::Sms {
            return self
                .challenge_bundle(auth, activated, &resolved, subjects, &req.bundle, base)
                .await;
        }
        // One count for the whole bundle, in the single check's one transaction.
        let quota = self
            .count_attempt(auth, resolved.daily_limit, &base, AfterCount::Nothing)
            .await?;
        self.release_parts(&resolved, &subjects, &req.bundle, base, quota, req.photo)
            .await
    }

    /// One challenge for the whole bundle: counted once, one SMS naming
    /// every document; the parts wait for the code.
    async fn challenge_bundle(
        &self,
        auth: &Authenticated,
        activated: Option<bool>,
        resolved: &ResolvedBundle<'_>,
        subjects: Subjects,
        bundle: &str,
        base: AuditEntry,
    ) -> Result<BundleVerification, BrokerError> {
        // Validation lets only consent-free roles name a vehicle, so every
        // part of a bundle with consent is the person's.
        let (Some(Subject::Pesel(pesel)), Some((_, first))) =
            (subjects.person, resolved.parts.first())
        else {
            return Err(BrokerError::refused(ErrorCode::InvalidRequest));
        };
        let documents: Vec<DocumentType> = resolved.parts.iter().map(|(p, _)| p.document).collect();
        let v = self
            .challenge(
                auth,
                activated.unwrap_or(false),
                pesel,
                &documents,
                first,
                base,
            )
            .await?;
        Ok(BundleVerification {
            id: v.id,
            bundle: bundle.to_string(),
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
        let resolved = match self.policy.authorize_bundle(
            &auth.officer.role,
            &ch.purpose,
            ch.case_reference.as_deref(),
        ) {
            Ok(r) => r,
            Err(d) => {
                // The code was right: the challenge stays open.
                let code = d.code();
                let refused = base
                    .clone()
                    .as_event(AuditEvent::ReleaseFailed)
                    .refused(code);
                self.store.reopen_challenge(id, vec![refused]).await?;
                self.notice_refused(&pesel, &ch.citizen, &base, ch.document, code)
                    .await;
                return Err(BrokerError::refused(code));
            }
        };
        let subjects = Subjects {
            person: Some(Subject::Pesel(pesel.clone())),
            vehicle: None,
        };
        // This answer holds the challenge's lease (taken with its attempt):
        // no other answer reads the registers meanwhile.
        let record = base.clone();
        let Fetched {
            records,
            parts,
            owners,
        } = self
            .fetch_parts(&resolved, &subjects, &ch.purpose, base, photo)
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
        let notice = self.notices.as_ref().and_then(|n| {
            Some((
                n,
                self.bundle_notice(&pesel, &ch.purpose, &records, &owners)?,
            ))
        });
        let Some(prefs) = self
            .store
            .complete_challenge(id, records, &ch.citizen)
            .await?
        else {
            // Another request used the code first: release nothing.
            return Err(BrokerError::refused(ErrorCode::ChallengeUsed));
        };
        if let Some((n, notice)) = notice {
            n.queue.push(notice, prefs);
        }
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
        subjects: &Subjects,
        bundle: &str,
        base: AuditEntry,
        quota: QuotaView,
        photo: Option<PhotoFit>,
    ) -> Result<BundleVerification, BrokerError> {
        let id = Rng(&*self.random).uuid();
        let base = base.verification(&id);
        let Fetched {
            records,
            parts,
            owners,
        } = self
            .fetch_parts(resolved, subjects, bundle, base, photo)
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
        subjects: &Subjects,
        bundle: &str,
        base: AuditEntry,
        photo: Option<PhotoFit>,
    ) -> Fetched {
        let fetches = resolved.parts.iter().map(|(part, _)| async move {
            let subject = match part.subject {
                PartSubject::Person => subjects.person.clone(),
                PartSubject::Vehicle => subjects.vehicle.clone().map(Subject::Plate),
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

/// Validates the subjects against what the bundle needs. Malformed input
/// costs nothing: it is refused here, before anything is counted. The
/// person is named by PESEL, or by licence number where every person's
/// part is one a licence number names (a traffic stop's driving licence);
/// whether the role may name them so is asked once the bundle is authorised.
fn subjects_of(req: &BundleRequest, bundle: &Bundle) -> Result<Subjects, Refusal> {
    let s = &req.subject;
    let needs_person = bundle.needs_pesel();
    if s.id_card_number.is_some() {
        return Err(Refusal::new(ErrorCode::InvalidRequest)
            .detail("a bundle names the person by pesel or licence number"));
    }
    let by_licence = bundle
        .parts
        .iter()
        .filter(|p| p.subject == PartSubject::Person)
        .all(|p| docnumber::LICENCE_DOCUMENTS.contains(&p.document));
    let person = match (&s.pesel, &s.licence_number, needs_person) {
        (Some(_), Some(_), _) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("name the person one way: pesel or licence_number"))
        }
        (Some(p), None, true) => Some(
            Pesel::parse(p)
                .map(Subject::Pesel)
                .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))?,
        ),
        (None, Some(n), true) if by_licence => Some(
            docnumber::licence(n)
                .map(Subject::LicenceNumber)
                .map_err(|e| {
                    Refusal::new(ErrorCode::InvalidDocumentNumber).detail(e.to_string())
                })?,
        ),
        (None, Some(_), true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle names the person by pesel"))
        }
        (None, None, true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle needs the person's pesel or licence number"))
        }
        (_, _, false) => {
            if s.pesel.is_some() || s.licence_number.is_some() {
                return Err(
                    Refusal::new(ErrorCode::InvalidRequest).detail("this bundle names no person")
                );
            }
            None
        }
    };
    let vehicle = match (&s.plate, bundle.needs_plate()) {
        (Some(typed), true) => Some(plate::normalise(typed).ok_or_else(|| {
            Refusal::new(ErrorCode::InvalidRequest)
                .detail("a registration number has 1 to 8 letters and digits")
        })?),
        (None, true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle needs the vehicle's plate"))
        }
        (Some(_), false) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest).detail("this bundle takes no plate"))
        }
        (None, false) => None,
    };
    Ok(Subjects { person, vehicle })
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_policy::PolicySet;
    use okaz_protocol::Subject as Wire;

    fn default_policy() -> PolicySet {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
        PolicySet::load_dir(std::path::Path::new(dir)).unwrap()
    }

    fn req(bundle: &str, subject: Wire) -> BundleRequest {
        BundleRequest {
            bundle: bundle.into(),
            subject,
            case_reference: None,
            photo: None,
        }
    }

    fn code(r: Result<Subjects, Refusal>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn a_traffic_stop_names_the_driver_by_pesel_or_licence_number() {
        let p = default_policy();
        let stop = p.bundle("traffic_stop").unwrap();
        let by = |pesel: Option<&str>, licence: Option<&str>, plate: Option<&str>| Wire {
            pesel: pesel.map(Into::into),
            licence_number: licence.map(Into::into),
            plate: plate.map(Into::into),
            ..Default::default()
        };
        assert_eq!(
            subjects_of(
                &req(
                    "traffic_stop",
                    by(None, Some("01234/19/1465"), Some("wa 1234x"))
                ),
                stop
            )
            .unwrap(),
            Subjects {
                person: Some(Subject::LicenceNumber("01234/19/1465".into())),
                vehicle: Some("WA1234X".into()),
            }
        );
        assert!(matches!(
            subjects_of(
                &req(
                    "traffic_stop",
                    by(Some("44051401359"), None, Some("WA1234X"))
                ),
                stop
            )
            .unwrap()
            .person,
            Some(Subject::Pesel(_))
        ));
        // A malformed number is its own code, refused before any count.
        assert_eq!(
            code(subjects_of(
                &req(
                    "traffic_stop",
                    by(None, Some("01234-19-1465"), Some("WA1234X"))
                ),
                stop
            )),
            ErrorCode::InvalidDocumentNumber
        );
        // Both ways at once, or neither, is not a subject.
        assert_eq!(
            code(subjects_of(
                &req(
                    "traffic_stop",
                    by(Some("44051401359"), Some("01234/19/1465"), Some("WA1234X"))
                ),
                stop
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            code(subjects_of(
                &req("traffic_stop", by(None, None, Some("WA1234X"))),
                stop
            )),
            ErrorCode::InvalidRequest
        );
        let id_card = Wire {
            id_card_number: Some("ABA300000".into()),
            plate: Some("WA1234X".into()),
            ..Default::default()
        };
        assert_eq!(
            code(subjects_of(&req("traffic_stop", id_card), stop)),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn a_licence_number_names_no_other_document_of_a_bundle() {
        let p = default_policy();
        let pensioner = p.bundle("pensioner_discount").unwrap();
        let licence = Wire {
            licence_number: Some("01234/19/1465".into()),
            ..Default::default()
        };
        assert_eq!(
            code(subjects_of(&req("pensioner_discount", licence), pensioner)),
            ErrorCode::InvalidRequest
        );
    }
}
