//! Disputes: a citizen marks one of their checks "I did not agree to
//! this"; the security officers of the unit that checked see it with the
//! check's records and resolve it with a reason. Both steps are audited.
//! The citizen sees the status and the resolution, never the officer.

use chrono::{DateTime, Utc};
use okaz_protocol::{DisputeView, ErrorCode};

use super::admin::{record_view, valid_reason};
use super::auth::Authenticated;
use super::Broker;
use crate::audit::{AuditEntry, AuditEvent, StoredRecord, CITIZEN_ACTOR};
use crate::error::BrokerError;
use crate::notice::clean_comment;
use crate::ports::{AuditFilter, Dispute, DisputeOpened, NewDispute, Resolution, Rng, StoreError};
use crate::pseudonym::Pseudonym;
use crate::quota;

/// Records read at most to find a citizen's check (as the history does).
pub const MAX_DISPUTE_RECORDS: u32 = 5000;

/// Why a citizen's dispute was not opened.
#[derive(Debug, thiserror::Error)]
pub enum DisputeFailure {
    /// No released check of this citizen has that id.
    #[error("no such check of this citizen")]
    NotFound,
    /// The check is disputed already.
    #[error("this check is disputed already")]
    AlreadyDisputed,
    /// The day's limit of disputes is reached.
    #[error("the day's disputes are used up")]
    LimitReached,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Broker {
    /// The release record of the citizen's check `verification`, if theirs.
    async fn release_of(
        &self,
        citizen: &Pseudonym,
        verification: &str,
    ) -> Result<Option<StoredRecord>, StoreError> {
        let filter = AuditFilter {
            citizen: Some(citizen.clone()),
            limit: MAX_DISPUTE_RECORDS,
            ..AuditFilter::default()
        };
        let records = self.store.audit_search(&filter).await?;
        Ok(records.into_iter().find(|r| {
            r.entry.event == AuditEvent::DocumentReleased
                && r.entry.verification.as_deref() == Some(verification)
        }))
    }

    /// The citizen (signed in, by pseudonym) disputes one of their checks,
    /// with an optional comment (cleaned and cut to length).
    pub async fn open_dispute(
        &self,
        citizen: &Pseudonym,
        verification: &str,
        comment: &str,
    ) -> Result<(), DisputeFailure> {
        let release = self
            .release_of(citizen, verification)
            .await?
            .ok_or(DisputeFailure::NotFound)?;
        let now = self.clock.now();
        let tz = self.policy.global.time_zone;
        let day = quota::business_day(now, tz);
        let since = day
            .pred_opt()
            .map_or(now - chrono::Duration::days(1), |d| quota::resets_at(d, tz));
        let r = &release.entry;
        let mut audit = AuditEntry::new(now, AuditEvent::DisputeOpened, CITIZEN_ACTOR, &r.unit);
        audit.citizen = Some(citizen.as_str().to_string());
        audit.verification = Some(verification.to_string());
        audit.document = r.document.clone();
        audit.purpose = r.purpose.clone();
        audit.subject_officer = Some(r.actor.clone());
        let d = NewDispute {
            id: Rng(&*self.random).uuid(),
            verification: verification.to_string(),
            citizen: citizen.clone(),
            unit: r.unit.clone(),
            officer_id: r.actor.clone(),
            comment: clean_comment(comment),
            opened_at: now,
        };
        match self
            .store
            .open_dispute(d, since, self.policy.global.disputes_per_day, audit)
            .await?
        {
            DisputeOpened::Opened => Ok(()),
            DisputeOpened::AlreadyDisputed => Err(DisputeFailure::AlreadyDisputed),
            DisputeOpened::LimitReached => Err(DisputeFailure::LimitReached),
        }
    }

    /// The citizen chooses which channels notices come on (on record,
    /// naming the choice, by pseudonym).
    pub async fn set_notice_prefs(
        &self,
        citizen: &Pseudonym,
        prefs: crate::notice::NoticePrefs,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut audit = AuditEntry::new(
            now,
            AuditEvent::NoticePrefsChanged,
            CITIZEN_ACTOR,
            crate::audit::PORTAL_UNIT,
        );
        audit.citizen = Some(citizen.as_str().to_string());
        audit.reason = Some(format!("sms={} email={}", prefs.sms, prefs.email));
        self.store
            .set_notice_prefs(citizen, prefs, now, audit)
            .await
    }

    /// The citizen's disputes, newest first.
    pub async fn citizen_disputes(&self, citizen: &Pseudonym) -> Result<Vec<Dispute>, StoreError> {
        self.store.citizen_disputes(citizen).await
    }

    /// `GET /v1/admin/disputes`: my unit's disputes, each with the check's
    /// records, newest first.
    pub async fn unit_disputes(
        &self,
        auth: &Authenticated,
        open_only: bool,
    ) -> Result<Vec<DisputeView>, BrokerError> {
        self.require_admin(auth)?;
        self.disputes_of(&auth.officer.unit, open_only).await
    }

    /// The disputes of a unit with their records (also the operator's CLI).
    pub async fn disputes_of(
        &self,
        unit: &str,
        open_only: bool,
    ) -> Result<Vec<DisputeView>, BrokerError> {
        let disputes = self.store.unit_disputes(unit, open_only).await?;
        let mut out = Vec::with_capacity(disputes.len());
        for d in disputes {
            let filter = AuditFilter {
                unit: Some(unit.to_string()),
                citizen: Some(d.citizen.clone()),
                limit: MAX_DISPUTE_RECORDS,
                ..AuditFilter::default()
            };
            let mut records: Vec<_> = self
                .store
                .audit_search(&filter)
                .await?
                .iter()
                .filter(|r| r.entry.verification.as_deref() == Some(d.verification.as_str()))
                .map(record_view)
                .collect();
            records.reverse();
            out.push(dispute_view(d, records));
        }
        Ok(out)
    }

    /// `POST /v1/admin/disputes/{id}/resolve`: resolves an open dispute of
    /// my unit with a reason, on record.
    pub async fn resolve_dispute(
        &self,
        auth: &Authenticated,
        id: &str,
        reason: &str,
    ) -> Result<(), BrokerError> {
        self.require_admin(auth)?;
        let o = &auth.officer;
        self.resolve_as(&o.id, &o.unit, id, reason).await
    }

    /// Resolves a dispute of `unit` as `actor` (an officer id, or the
    /// operator at the command line).
    pub async fn resolve_as(
        &self,
        actor: &str,
        unit: &str,
        id: &str,
        reason: &str,
    ) -> Result<(), BrokerError> {
        let reason = valid_reason(reason)?;
        let now = self.clock.now();
        let mut audit = AuditEntry::new(now, AuditEvent::DisputeResolved, actor, unit);
        audit.reason = Some(format!("dispute={id} {reason}"));
        let resolution = Resolution {
            at: now,
            by: actor.to_string(),
            reason: reason.to_string(),
        };
        if self
            .store
            .resolve_dispute(id, unit, resolution, audit)
            .await?
        {
            Ok(())
        } else {
            Err(BrokerError::refused(ErrorCode::NotFound))
        }
    }
}

/// The API view of a dispute.
pub fn dispute_view(d: Dispute, records: Vec<okaz_protocol::AuditRecordView>) -> DisputeView {
    let (status, at, by, reason) = match d.resolved {
        Some(r) => ("resolved", Some(r.at), Some(r.by), Some(r.reason)),
        None => ("open", None::<DateTime<Utc>>, None, None),
    };
    DisputeView {
        id: d.id,
        verification: d.verification,
        unit: d.unit,
        officer: d.officer_id,
        comment: d.comment,
        opened_at: d.opened_at,
        status: status.to_string(),
        resolved_at: at,
        resolved_by: by,
        resolution: reason,
        records,
    }
}
