//! The security officer's calls: lockouts, unlock, officers, audit search.
//! A security officer acts only within their own unit; every action is audited.

use okaz_protocol::{
    AuditRecordView, DocumentType, ErrorCode, LockoutView, NewOfficer as NewOfficerRequest,
    OfficerCreated, Pesel, UnlockRequest,
};
use rand::rngs::OsRng;

use super::auth::Authenticated;
use super::{officer_view, Broker};
use crate::core::audit::{AuditEntry, AuditEvent, StoredRecord};
use crate::core::credentials::{initial_password, new_totp_secret, totp_uri};
use crate::core::error::{BrokerError, Refusal};
use crate::core::ports::{AuditFilter, NewOfficer, Officer};
use crate::core::pseudonym::Pseudonym;
use crate::core::quota;

/// Longest reason accepted for an unlock; a reason is a note, not a file.
const MAX_REASON: usize = 500;

impl Broker {
    fn require_admin(&self, auth: &Authenticated) -> Result<(), BrokerError> {
        if self.role_of(&auth.officer)?.administers {
            Ok(())
        } else {
            Err(BrokerError::refused(ErrorCode::NotPermitted))
        }
    }

    /// An officer of the security officer's unit, or 403/404.
    async fn officer_in_unit(
        &self,
        auth: &Authenticated,
        id: &str,
    ) -> Result<Officer, BrokerError> {
        let target = self
            .store
            .officer_by_id(id)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::NotFound))?;
        if target.unit != auth.officer.unit {
            return Err(BrokerError::refused(ErrorCode::NotPermitted));
        }
        Ok(target)
    }

    /// Locked officers of my unit.
    pub async fn lockouts(&self, auth: &Authenticated) -> Result<Vec<LockoutView>, BrokerError> {
        self.require_admin(auth)?;
        let day = quota::business_day(self.clock.now(), self.policy.global.time_zone);
        let mut out = Vec::new();
        for o in self.store.lockouts(&auth.officer.unit).await? {
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

    /// Unlocks an officer of my unit, with a reason and optional extra checks today.
    pub async fn unlock(
        &self,
        auth: &Authenticated,
        id: &str,
        req: UnlockRequest,
    ) -> Result<(), BrokerError> {
        self.require_admin(auth)?;
        let reason = req.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("an unlock needs a reason (1 to 500 characters)")
                .into());
        }
        let target = self.officer_in_unit(auth, id).await?;
        let role_limit = self
            .policy
            .role(&target.role)
            .map(|r| r.daily_limit)
            .unwrap_or(0);
        let now = self.clock.now();
        let day = quota::business_day(now, self.policy.global.time_zone);
        let c = self.store.counter(&target.id, day).await?;
        let extra = quota::extra_after_unlock(c.used, role_limit, c.extra, req.extra_allowance);
        let me = &auth.officer;
        let mut audit = AuditEntry::new(now, AuditEvent::AccountUnlocked, &me.id, &me.unit);
        audit.subject_officer = Some(target.id.clone());
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
        let password = initial_password(&mut OsRng);
        let secret = new_totp_secret(&mut OsRng);
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
            .await?;
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
            rand::Rng::gen_range(&mut OsRng, 0..1_000_000u32)
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
        Ok(self
            .store
            .audit_search(&filter)
            .await?
            .iter()
            .map(record_view)
            .collect())
    }
}

/// The API view of a stored audit record.
pub fn record_view(r: &StoredRecord) -> AuditRecordView {
    let e = &r.entry;
    AuditRecordView {
        seq: r.seq,
        chain: e.actor.clone(),
        at: e.at,
        event: e.event.clone(),
        officer: e.actor.clone(),
        unit: e.unit.clone(),
        citizen: e.citizen.clone(),
        document: e.document.as_deref().and_then(DocumentType::parse),
        purpose: e.purpose.clone(),
        outcome: e.outcome.clone(),
        fields: e.fields.clone(),
        hash: r.hash.clone(),
    }
}
