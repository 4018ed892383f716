//! Break-glass flows: an officer's emergency check, the supervisors' list
//! and decision, and the sweep that locks an officer whose override went
//! unsigned. The rules are in [`crate::break_glass`]; this file orders them.

use std::collections::HashMap;

use okaz_protocol::{
    BreakGlassDecision, BreakGlassRequest, BreakGlassVerdict, BreakGlassView, ErrorCode,
    OfficerView, Verification,
};

use super::admin::valid_reason;
use super::auth::{Authenticated, Bearer};
use super::request::CheckRequest;
use super::verify::AtOnce;
use super::{officer_view, Broker};
use crate::audit::{AuditEntry, AuditEvent, Outcome};
use crate::break_glass::{self as rules, Decision, Override};
use crate::error::{BrokerError, Refusal};
use crate::ports::{BreakGlassRecord, BreakGlassStart, NewBreakGlass, Rng};
use crate::quota;

/// How far back the supervisors' list looks (pending ones always show).
const LIST_DAYS: i64 = 30;

impl Broker {
    /// `POST /v1/break-glass`: authenticates, then releases
    /// the check by break-glass (see [`crate::break_glass`]).
    pub async fn break_glass_verification(
        &self,
        token: Bearer<'_>,
        body: Result<BreakGlassRequest, BrokerError>,
    ) -> Result<(Verification, Override), BrokerError> {
        let auth = self.authenticate(token).await?;
        let done = async { self.break_glass_start(&auth, body?).await }.await;
        done.map_err(|e| self.with_quota(&auth, e))
    }

    async fn break_glass_start(
        &self,
        auth: &Authenticated,
        req: BreakGlassRequest,
    ) -> Result<(Verification, Override), BrokerError> {
        let officer = &auth.officer;
        let role = self.role_of(officer)?;
        // Malformed input costs nothing, as for any check.
        let check_req = CheckRequest::parse(&req.check(), &self.keys.pepper)?;
        let justification = rules::clean_justification(
            &req.justification,
            self.policy.break_glass.justification_max,
        )
        .map_err(|e| Refusal::new(ErrorCode::InvalidRequest).detail(e.to_string()))?;
        let now = self.clock.now();
        let mut base = self.check_record(officer, &check_req, now);
        if !role.break_glass {
            let why = "this role may not break glass";
            return Err(self
                .refuse_on_record(base, ErrorCode::NotPermitted, why)
                .await);
        }
        let check = self
            .authorize_check(officer, role, &check_req, &mut base)
            .await?;
        let overrides = rules::override_for(check.consent);
        let allowance = quota::allowance(check.daily_limit, auth.counter.extra);
        if overrides == Override::DailyLimit && auth.counter.used < allowance {
            // Nothing to override: a consent-free check within the limit
            // is simply made as usual, with no break-glass on record.
            let why = "the daily limit is not reached: check as usual";
            return Err(self
                .refuse_on_record(base, ErrorCode::NotPermitted, why)
                .await);
        }

        let id = Rng(&*self.random).uuid();
        let base = base.verification(&id);
        let mut used = base
            .clone()
            .as_event(AuditEvent::BreakGlassUsed)
            .outcome(match overrides {
                Override::NoCode => Outcome::NoCode,
                Override::DailyLimit => Outcome::DailyLimit,
            });
        used.reason = Some(justification.clone());
        let refused = base.clone().refused(ErrorCode::BreakGlassLimitReached);
        let bg = NewBreakGlass {
            id: id.clone(),
            officer_id: officer.id.clone(),
            unit: officer.unit.clone(),
            overrides,
            justification,
            document: req.document.as_str().to_string(),
            purpose: base.purpose.clone().unwrap_or_default(),
            case_reference: base.case_reference.clone(),
            created_at: now,
            deadline: rules::deadline(&self.policy, now),
        };
        let cap = self.policy.break_glass.per_officer_per_day;
        match self
            .store
            .start_break_glass(bg, auth.day, cap, used, refused)
            .await?
        {
            BreakGlassStart::Started { .. } => {}
            BreakGlassStart::CapReached => {
                return Err(Refusal::new(ErrorCode::BreakGlassLimitReached)
                    .detail(format!("at most {cap} break-glass checks a day"))
                    .into())
            }
            BreakGlassStart::Locked => return Err(BrokerError::refused(ErrorCode::AccountLocked)),
        }

        // Released as any check made without a code, flagged break-glass.
        let quota = self.quota_of(auth);
        let verification = self
            .release_at_once(
                id.clone(),
                &check_req,
                &check,
                base,
                quota,
                AtOnce::BreakGlass,
            )
            .await?;
        tracing::warn!(
            verification = %id,
            officer = %officer.id,
            unit = %officer.unit,
            overrides = overrides.as_str(),
            "break-glass check released; awaiting countersign"
        );
        Ok((verification, overrides))
    }

    /// `GET /v1/admin/break-glass`: the unit's break-glass checks (pending
    /// first, then the last 30 days'), for its administrators.
    pub async fn break_glass_list(
        &self,
        auth: &Authenticated,
    ) -> Result<Vec<BreakGlassView>, BrokerError> {
        self.require_admin(auth)?;
        self.break_glass_of(&auth.officer.unit).await
    }

    /// A unit's break-glass checks (the operator's command line names the unit).
    pub async fn break_glass_of(&self, unit: &str) -> Result<Vec<BreakGlassView>, BrokerError> {
        let since = self.clock.now() - chrono::Duration::days(LIST_DAYS);
        let records = self.store.break_glass_of_unit(unit, since).await?;
        let officers: HashMap<String, OfficerView> = self
            .store
            .officers_in_unit(unit)
            .await?
            .iter()
            .map(|o| (o.id.clone(), officer_view(o)))
            .collect();
        let mut views: Vec<BreakGlassView> = records
            .into_iter()
            .map(|r| break_glass_view(r, &officers))
            .collect();
        // Pending first (they need someone now), each group newest first.
        views.sort_by(|a, b| {
            (a.status != "pending", std::cmp::Reverse(a.created_at))
                .cmp(&(b.status != "pending", std::cmp::Reverse(b.created_at)))
        });
        Ok(views)
    }

    /// `POST /v1/admin/break-glass/{id}/decision`: countersigns or rejects
    /// a pending break-glass before its deadline. `actor = None` is the
    /// operator at the command line. A rejection locks the officer.
    pub async fn decide_break_glass(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
        req: BreakGlassDecision,
    ) -> Result<BreakGlassView, BrokerError> {
        let reason = valid_reason(&req.reason)?.to_string();
        if let Some(auth) = actor {
            self.require_admin(auth)?;
        }
        let record = self
            .store
            .break_glass(id)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?;
        let officer = self
            .store
            .officer_by_id(&record.officer_id)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?;
        if let Some(auth) = actor {
            // Another unit's break-glass does not exist for this supervisor.
            if auth.officer.unit != record.unit {
                return Err(BrokerError::refused(ErrorCode::NotFound));
            }
            let signer = self.role_of(&auth.officer)?;
            let allowed = auth.officer.id != officer.id
                && rules::may_decide(
                    &auth.officer.role,
                    signer,
                    &officer.role,
                    self.policy.role(&officer.role),
                );
            if !allowed {
                return Err(Refusal::new(ErrorCode::NotPermitted)
                    .detail(format!(
                        "a {} may not countersign a {}'s break-glass",
                        auth.officer.role, officer.role
                    ))
                    .into());
            }
        }
        let now = self.clock.now();
        if !rules::decidable(record.status, record.deadline, now) {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail(format!(
                    "this break-glass is {} and can no longer be decided",
                    if record.status == rules::Status::Pending {
                        "past its deadline"
                    } else {
                        record.status.as_str()
                    }
                ))
                .into());
        }
        let decision = match req.decision {
            BreakGlassVerdict::Countersign => Decision::Countersign,
            BreakGlassVerdict::Reject => Decision::Reject,
        };
        let event = match decision {
            Decision::Countersign => AuditEvent::BreakGlassCountersigned,
            Decision::Reject => AuditEvent::BreakGlassRejected,
        };
        let (by, unit) = match actor {
            Some(a) => (a.officer.id.clone(), a.officer.unit.clone()),
            None => ("operator".to_string(), record.unit.clone()),
        };
        let mut audit =
            AuditEntry::on_officer(now, event, &by, &unit, &officer.id).verification(id);
        audit.reason = Some(reason.clone());
        if !self
            .store
            .decide_break_glass(id, decision, &by, &reason, now, audit)
            .await?
        {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this break-glass was decided (or expired) meanwhile")
                .into());
        }
        let decided = self
            .store
            .break_glass(id)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?;
        let officers = HashMap::from([(officer.id.clone(), officer_view(&officer))]);
        Ok(break_glass_view(decided, &officers))
    }

    /// One pass of the break-glass sweeper (every replica runs it): every
    /// pending break-glass past its deadline is expired and its officer
    /// locked, each in one conditional transaction, so replicas sweeping at
    /// once lock and record each officer once. Returns those it expired.
    pub async fn sweep_break_glass(&self) -> Result<Vec<BreakGlassRecord>, BrokerError> {
        let now = self.clock.now();
        let mut expired = Vec::new();
        for r in self.store.overdue_break_glass(now).await? {
            if !rules::overdue(r.status, r.deadline, now) {
                continue;
            }
            let audit = AuditEntry::on_officer(
                now,
                AuditEvent::BreakGlassExpired,
                "system",
                &r.unit,
                &r.officer_id,
            )
            .verification(&r.id)
            .outcome(Outcome::BreakGlassUnsigned);
            if self.store.expire_break_glass(&r.id, now, audit).await? {
                tracing::warn!(
                    break_glass = %r.id,
                    officer = %r.officer_id,
                    unit = %r.unit,
                    "break-glass unsigned past its deadline: officer locked"
                );
                expired.push(r);
            }
        }
        Ok(expired)
    }
}

/// The API view of a break-glass record.
fn break_glass_view(
    r: BreakGlassRecord,
    officers: &HashMap<String, OfficerView>,
) -> BreakGlassView {
    let officer = officers.get(&r.officer_id).cloned().unwrap_or(OfficerView {
        id: r.officer_id.clone(),
        login: String::new(),
        display_name: String::new(),
        role: String::new(),
        unit: r.unit.clone(),
    });
    BreakGlassView {
        id: r.id,
        officer,
        overrides: r.overrides.as_str().to_string(),
        justification: r.justification,
        document: r.document,
        purpose: r.purpose,
        case_reference: r.case_reference,
        created_at: r.created_at,
        deadline: r.deadline,
        status: r.status.as_str().to_string(),
        decided_by: r.decided_by,
        decided_at: r.decided_at,
        decision_reason: r.decision_reason,
    }
}
