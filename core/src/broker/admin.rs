//! The security officer's calls: lockouts, unlock, officers, audit search.
//! A security officer acts only within their own unit; every action is audited.

use okaz_protocol::{
    AccountView, AuditRecordView, CredentialReset, DocumentType, ErrorCode, LockoutView,
    NewOfficer as NewOfficerRequest, OfficerCreated, Pesel, UnlockRequest,
};

use super::auth::Authenticated;
use super::{officer_view, Broker};
use crate::audit::{AuditEntry, AuditEvent, StoredRecord};
use crate::credentials::{initial_password, new_totp_secret, totp_uri};
use crate::error::{BrokerError, Refusal};
use crate::ports::{AuditFilter, NewOfficer, Officer, OfficerChange, Rng, StoreError};
use crate::pseudonym::Pseudonym;
use crate::quota;

/// Longest reason accepted for an unlock; a reason is a note, not a file.
const MAX_REASON: usize = 500;

impl Broker {
    /// Refuses an officer whose role does not administer (security officers).
    pub fn require_admin(&self, auth: &Authenticated) -> Result<(), BrokerError> {
        if self.role_of(&auth.officer)?.administers {
            Ok(())
        } else {
            Err(BrokerError::refused(ErrorCode::NotPermitted))
        }
    }

    /// Separation of duties: an administrator acts only on accounts of the
    /// roles their own role manages (the policy's `manages`).
    fn require_manages(&self, auth: &Authenticated, role: &str) -> Result<(), BrokerError> {
        let mine = self.role_of(&auth.officer)?;
        if mine.manages.contains(role) {
            Ok(())
        } else {
            Err(Refusal::new(ErrorCode::NotPermitted)
                .detail(format!(
                    "a {} does not manage {role} accounts",
                    auth.officer.role
                ))
                .into())
        }
    }

    /// An officer of the security officer's unit, or 403/404.
    async fn officer_in_unit(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<Officer, BrokerError> {
        self.target(Some(auth), id).await
    }

    /// The officer an administrative action is about. A security officer
    /// reaches only their own unit; the operator at the server's command
    /// line (`actor = None`) reaches every unit.
    async fn target(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
    ) -> Result<Officer, BrokerError> {
        if let Some(auth) = actor {
            self.require_admin(auth)?;
        }
        let target = self
            .store
            .officer_by_id(id)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?;
        if let Some(auth) = actor {
            if auth.officer.unit != target.unit {
                return Err(BrokerError::refused(ErrorCode::NotPermitted));
            }
            self.require_manages(auth, &target.role)?;
        }
        Ok(target)
    }

    /// The audit record of an administrative action, by its actor.
    fn admin_entry(
        &self,
        actor: Option<&Authenticated>,
        event: AuditEvent,
        target: &Officer,
    ) -> AuditEntry {
        let (id, unit) = match actor {
            Some(a) => (a.officer.id.as_str(), a.officer.unit.as_str()),
            None => ("operator", target.unit.as_str()),
        };
        AuditEntry::on_officer(self.clock.now(), event, id, unit, &target.id)
    }

    /// Every officer of my unit.
    pub async fn accounts(&self, auth: &Authenticated) -> Result<Vec<AccountView>, BrokerError> {
        self.require_admin(auth)?;
        let officers = self.store.officers_in_unit(&auth.officer.unit).await?;
        Ok(officers
            .iter()
            .map(|o| AccountView {
                officer: officer_view(o),
                disabled: o.disabled,
                locked_at: o.locked.as_ref().map(|l| l.at),
                lock_reason: o.locked.as_ref().map(|l| l.reason.clone()),
            })
            .collect())
    }

    /// Disables or enables an account, with a reason.
    pub async fn set_disabled(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
        disabled: bool,
        reason: &str,
    ) -> Result<(), BrokerError> {
        let reason = valid_reason(reason)?;
        let target = self.target(actor, id).await?;
        let (event, change) = if disabled {
            (AuditEvent::OfficerDisabled, OfficerChange::Disable)
        } else {
            (AuditEvent::OfficerEnabled, OfficerChange::Enable)
        };
        let mut audit = self.admin_entry(actor, event, &target);
        audit.reason = Some(reason.to_string());
        self.store.change_officer(&target.id, change, audit).await?;
        Ok(())
    }

    /// Gives an officer a new random password (shown once); their sessions end.
    pub async fn reset_password(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
    ) -> Result<CredentialReset, BrokerError> {
        let target = self.target(actor, id).await?;
        let password = initial_password(&mut Rng(&*self.random));
        let hash = self.hasher.hash(password.clone()).await?;
        let audit = self.admin_entry(actor, AuditEvent::PasswordReset, &target);
        self.store
            .change_officer(&target.id, OfficerChange::Password(hash), audit)
            .await?;
        Ok(CredentialReset {
            initial_password: Some(password.to_string()),
            totp_uri: None,
        })
    }

    /// Gives an officer a new TOTP secret (URI shown once); their sessions end.
    pub async fn reset_totp(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
    ) -> Result<CredentialReset, BrokerError> {
        let target = self.target(actor, id).await?;
        let secret = new_totp_secret(&mut Rng(&*self.random));
        let uri = totp_uri(&secret, &target.login)?;
        let audit = self.admin_entry(actor, AuditEvent::TotpReset, &target);
        self.store
            .change_officer(&target.id, OfficerChange::Totp(secret.to_vec()), audit)
            .await?;
        Ok(CredentialReset {
            initial_password: None,
            totp_uri: Some(uri),
        })
    }

    /// The unit's lockouts as CSV, for the unit's records. Fields are quoted
    /// so a comma or quote in a name cannot shift columns, and a leading
    /// `=`, `+`, `-` or `@` is neutralised so a spreadsheet never runs it.
    pub fn lockouts_csv(lockouts: Vec<LockoutView>) -> String {
        let mut out =
            String::from("officer_id,login,display_name,unit,locked_at,reason,attempts_today\r\n");
        for l in lockouts {
            let row = [
                l.officer.id,
                l.officer.login,
                l.officer.display_name,
                l.officer.unit,
                l.locked_at.to_rfc3339(),
                l.reason,
                l.attempts_today.to_string(),
            ];
            let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The unit's lockouts as CSV; the export itself is on record.
    pub async fn export_lockouts(&self, auth: &Authenticated) -> Result<String, BrokerError> {
        let lockouts = self.lockouts(auth).await?;
        let o = &auth.officer;
        let audit = AuditEntry::new(
            self.clock.now(),
            AuditEvent::LockoutsExported,
            &o.id,
            &o.unit,
        );
        self.store.append_audit(audit).await?;
        Ok(Self::lockouts_csv(lockouts))
    }

    /// Locked officers of my unit.
    pub async fn lockouts(&self, auth: &Authenticated) -> Result<Vec<LockoutView>, BrokerError> {
        self.require_admin(auth)?;
        self.lockouts_of(&auth.officer.unit).await
    }

    /// Locked officers of a unit (the operator's command line names the unit).
    pub async fn lockouts_of(&self, unit: &str) -> Result<Vec<LockoutView>, BrokerError> {
        let day = quota::business_day(self.clock.now(), self.policy.global.time_zone);
        let mut out = Vec::new();
        for o in self.store.lockouts(unit).await? {
            let counter = self.store.counter(&o.id, day).await?;
            if let Some(lock) = &o.locked {
                out.push(LockoutView {
                    officer: officer_view(&o),
                    locked_at: lock.at,
                    reason: lock.reason.clone(),
                    attempts_today: counter.used,
                });
            }
        }
        Ok(out)
    }

    /// Unlocks an officer, with a reason and optional extra checks today.
    pub async fn unlock(
        &self,
        actor: Option<&Authenticated>,
        id: &str,
        req: UnlockRequest,
    ) -> Result<(), BrokerError> {
        let reason = valid_reason(&req.reason)?;
        let cap = self.policy.global.unlock_allowance_cap;
        if req.extra_allowance > cap {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail(format!("extra_allowance is at most {cap} per unlock"))
                .into());
        }
        let target = self.target(actor, id).await?;
        if target.locked.is_none() {
            return Err(BrokerError::refused(ErrorCode::NotLocked));
        }
        let role_limit = self
            .policy
            .role(&target.role)
            .map(|r| r.daily_limit)
            .unwrap_or(0);
        let now = self.clock.now();
        let day = quota::business_day(now, self.policy.global.time_zone);
        let c = self.store.counter(&target.id, day).await?;
        let extra = quota::extra_after_unlock(c.used, role_limit, c.extra, req.extra_allowance);
        let mut audit = self.admin_entry(actor, AuditEvent::AccountUnlocked, &target);
        audit.reason = Some(reason.to_string());
        audit.fields = vec![format!("extra_allowance={}", req.extra_allowance)];
        self.store.unlock(&target.id, day, extra, audit).await?;
        Ok(())
    }

    /// Creates an officer; the password and TOTP URI are returned once.
    pub async fn create_officer(
        &self,
        actor: Option<&Authenticated>,
        req: NewOfficerRequest,
    ) -> Result<OfficerCreated, BrokerError> {
        if let Some(auth) = actor {
            self.require_admin(auth)?;
            if req.unit != auth.officer.unit {
                return Err(BrokerError::refused(ErrorCode::NotPermitted));
            }
            self.require_manages(auth, &req.role)?;
        }
        let login = req.login.trim().to_string();
        let valid_login = !login.is_empty()
            && login.len() <= 64
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid_login || self.policy.role(&req.role).is_none() || req.unit.trim().is_empty() {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("login must be 1-64 of [A-Za-z0-9._-], role must exist, unit is required")
                .into());
        }
        let password = initial_password(&mut Rng(&*self.random));
        let secret = new_totp_secret(&mut Rng(&*self.random));
        let hash = self.hasher.hash(password.clone()).await?;
        let now = self.clock.now();
        let (actor_id, actor_unit) = match actor {
            Some(a) => (a.officer.id.clone(), a.officer.unit.clone()),
            None => ("system".to_string(), req.unit.clone()),
        };
        let audit = AuditEntry::new(now, AuditEvent::OfficerCreated, &actor_id, &actor_unit);
        let officer = self
            .store
            .insert_officer(
                NewOfficer {
                    login: login.clone(),
                    display_name: req.display_name.trim().to_string(),
                    role: req.role,
                    unit: req.unit,
                    password_hash: hash,
                    totp_secret: secret.to_vec(),
                },
                audit,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => BrokerError::Refused(
                    Refusal::new(ErrorCode::InvalidRequest).detail("this login is already taken"),
                ),
                other => other.into(),
            })?;
        Ok(OfficerCreated {
            officer: officer_view(&officer),
            initial_password: password.to_string(),
            totp_uri: totp_uri(&secret, &login)?,
        })
    }

    /// Binds a terminal certificate (SHA-256 fingerprint of its DER, hex) to
    /// an officer and sets a new random PIN, returned once.
    pub async fn bind_certificate(
        &self,
        actor: Option<&Authenticated>,
        officer_id: &str,
        fingerprint: &str,
    ) -> Result<String, BrokerError> {
        let target = match actor {
            Some(auth) => {
                self.require_admin(auth)?;
                self.officer_in_unit(auth, officer_id).await?
            }
            None => self
                .store
                .officer_by_id(officer_id)
                .await?
                .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?,
        };
        let fingerprint = fingerprint.trim().to_ascii_lowercase();
        if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("a certificate fingerprint is 64 hex digits (SHA-256)")
                .into());
        }
        let pin = zeroize::Zeroizing::new(format!(
            "{:06}",
            rand::Rng::gen_range(&mut Rng(&*self.random), 0..1_000_000u32)
        ));
        let hash = self.hasher.hash(pin.clone()).await?;
        let now = self.clock.now();
        let (actor_id, unit) = match actor {
            Some(a) => (a.officer.id.clone(), a.officer.unit.clone()),
            None => ("system".to_string(), target.unit.clone()),
        };
        let mut audit = AuditEntry::new(now, AuditEvent::CertificateBound, &actor_id, &unit);
        audit.subject_officer = Some(target.id.clone());
        self.store
            .bind_certificate(&target.id, &fingerprint, &hash, audit)
            .await?;
        Ok(pin.to_string())
    }

    /// Searches the audit trail of my unit; a PESEL is searched through its pseudonym.
    pub async fn audit_search(
        &self,
        auth: &Authenticated,
        mut filter: AuditFilter,
        pesel: Option<&str>,
    ) -> Result<Vec<AuditRecordView>, BrokerError> {
        self.require_admin(auth)?;
        filter.unit = Some(auth.officer.unit.clone());
        if let Some(p) = pesel {
            let pesel = Pesel::parse(p)
                .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))?;
            filter.citizen = Some(Pseudonym::of(&self.keys.pepper, &pesel));
        }
        filter.limit = filter.limit.clamp(1, 1000);
        let found = self.store.audit_search(&filter).await?;
        // On record before anything is shown: if the record cannot be
        // written, nothing found is returned.
        let o = &auth.officer;
        self.store
            .append_audit(searched(self.clock.now(), &o.id, &o.unit, &filter))
            .await?;
        Ok(found.iter().map(record_view).collect())
    }
}

/// The record of an audit search: who searched, in which unit, with what
/// filter; a PESEL searched for is recorded as its pseudonym only.
pub fn searched(
    at: chrono::DateTime<chrono::Utc>,
    actor: &str,
    unit: &str,
    f: &AuditFilter,
) -> AuditEntry {
    let mut e = AuditEntry::new(at, AuditEvent::AuditSearched, actor, unit);
    e.citizen = f.citizen.as_ref().map(|c| c.as_str().to_string());
    let mut parts = vec![format!("unit={}", f.unit.as_deref().unwrap_or("*"))];
    if let Some(o) = &f.officer {
        parts.push(format!("officer={o}"));
    }
    if let Some(t) = f.since {
        parts.push(format!("since={}", t.to_rfc3339()));
    }
    if let Some(t) = f.until {
        parts.push(format!("until={}", t.to_rfc3339()));
    }
    parts.push(format!("limit={}", f.limit));
    e.reason = Some(parts.join(" "));
    e
}

pub(super) fn valid_reason(reason: &str) -> Result<&str, BrokerError> {
    let reason = reason.trim();
    if reason.is_empty()
        || reason.chars().count() > MAX_REASON
        || reason.chars().any(char::is_control)
    {
        return Err(Refusal::new(ErrorCode::InvalidRequest)
            .detail("a reason is required: 1 to 500 characters, no control characters")
            .into());
    }
    Ok(reason)
}

fn csv_cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

/// The API view of a stored audit record.
pub fn record_view(r: &StoredRecord) -> AuditRecordView {
    let e = &r.entry;
    AuditRecordView {
        seq: r.seq,
        chain: e.actor.clone(),
        at: e.at,
        event: e.event.as_str().to_string(),
        officer: e.actor.clone(),
        unit: e.unit.clone(),
        citizen: e.citizen.clone(),
        document: e.document.as_deref().and_then(DocumentType::parse),
        purpose: e.purpose.clone(),
        outcome: e.outcome.as_str().to_string(),
        fields: e.fields.clone(),
        hash: r.hash.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
