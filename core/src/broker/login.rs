//! Logging in: password + TOTP, or a terminal certificate + PIN.
//!
//! Every attempt is counted before any credential is checked, under the
//! login name (or certificate) and the client address, known or not: a
//! burst cannot outrun the count, and an unknown login is throttled,
//! answered and timed exactly like a known one, so logins cannot be
//! enumerated. Wrong passwords only throttle; what locks an account is a
//! second factor failing after the right password, so locking an officer
//! out takes more than their login name.
//!
//! ```text
//!  count attempt (name, address) ──over──▶ 429 login_throttled
//!        │
//!  unknown / disabled ──▶ dummy hash ──▶ 401      locked ──▶ 423 (no hash)
//!        │
//!  password ──wrong──▶ 401 (audited)
//!        │
//!  TOTP ──wrong or replayed──▶ officer failures + 1 ──lock_after──▶ 423
//!        │
//!  still within the count, still unlocked ──▶ session
//! ```

use chrono::{DateTime, Utc};
use okaz_policy::AuthMethod;
use okaz_protocol::{ErrorCode, LoginRequest, SessionCreated};
use zeroize::Zeroizing;

use super::{officer_view, Broker};
use crate::audit::{AuditEntry, AuditEvent, Outcome};
use crate::credentials::{totp_step, DUMMY_HASH};
use crate::error::{BrokerError, Refusal};
use crate::login;
use crate::ports::Officer;

/// Where a login comes from: the client's address as the listener saw it.
pub type ClientAddress<'a> = Option<&'a str>;

/// A client certificate as the TLS layer verified it.
#[derive(Debug, Clone, Copy)]
pub struct PresentedCertificate<'a> {
    /// SHA-256 of the leaf certificate (DER), hex.
    pub fingerprint: &'a str,
    /// The units whose configured CA issued it (and whose CRL cleared it).
    pub units: &'a [String],
}

impl Broker {
    /// Password + TOTP login. Failures look alike to the caller
    /// (`invalid_credentials`), except throttling and a locked account.
    pub async fn login(
        &self,
        req: LoginRequest,
        client: ClientAddress<'_>,
    ) -> Result<SessionCreated, BrokerError> {
        let LoginRequest {
            login,
            password,
            totp,
        } = req;
        let password = Zeroizing::new(password);
        let totp = Zeroizing::new(totp);
        let now = self.clock.now();
        let name = login.trim();
        let keys = login::keys("login", name, client);
        self.count_attempt_to_log_in(&keys, now).await?;

        let officer = self
            .store
            .officer_by_login(name)
            .await?
            .filter(|o| !o.disabled && self.allows(o, AuthMethod::PasswordTotp));
        let Some(officer) = officer else {
            // The same work as a real check, so time tells nothing.
            let _ = self.hasher.verify(password, DUMMY_HASH.to_string()).await?;
            return Err(BrokerError::refused(ErrorCode::InvalidCredentials));
        };
        if officer.locked.is_some() {
            return Err(BrokerError::refused(ErrorCode::AccountLocked));
        }
        let failed = AuditEntry::new(now, AuditEvent::LoginFailed, &officer.id, &officer.unit);
        let password_ok = self
            .hasher
            .verify(password, officer.password_hash.clone())
            .await?;
        if !password_ok {
            self.store
                .append_audit(failed.refused(ErrorCode::InvalidCredentials))
                .await?;
            return Err(BrokerError::refused(ErrorCode::InvalidCredentials));
        }
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let secret = self.totp_secret(&officer)?;
        let Some(step) = totp_step(&secret, &totp, unix)? else {
            let audit = failed.refused(ErrorCode::InvalidCredentials);
            return Err(self.second_factor_failed(&officer, audit).await);
        };
        self.still_within_count(&keys, now).await?;
        let ok = AuditEntry::new(now, AuditEvent::LoginSucceeded, &officer.id, &officer.unit);
        self.open_session(&officer, Some(step), None, ok, failed, &keys)
            .await
    }

    /// Client certificate + PIN login (police terminals). The certificate
    /// was already verified against the units' CAs and CRLs by TLS; here it
    /// must be bound to an officer whose role allows this method, and issued
    /// by the CA of that officer's unit. The session is bound to it.
    pub async fn login_with_certificate(
        &self,
        presented: Option<PresentedCertificate<'_>>,
        pin: String,
        client: ClientAddress<'_>,
    ) -> Result<SessionCreated, BrokerError> {
        let pin = Zeroizing::new(pin);
        let now = self.clock.now();
        let refused = || {
            BrokerError::Refused(
                Refusal::new(ErrorCode::InvalidCredentials)
                    .detail("a registered terminal certificate and the officer's PIN are required"),
            )
        };
        let presented = presented.ok_or_else(refused)?;
        let fingerprint = presented.fingerprint;
        let keys = login::keys("certificate", fingerprint, client);
        self.count_attempt_to_log_in(&keys, now).await?;
        let officer = match self.store.certificate_binding(fingerprint).await? {
            Some((officer_id, pin_hash)) => self
                .store
                .officer_by_id(&officer_id)
                .await?
                .filter(|o| !o.disabled && self.allows(o, AuthMethod::CertificatePin))
                .map(|o| (o, pin_hash)),
            None => None,
        };
        let Some((officer, pin_hash)) = officer else {
            let _ = self.hasher.verify(pin, DUMMY_HASH.to_string()).await?;
            return Err(refused());
        };
        if !presented.units.contains(&officer.unit) {
            // Bound in this unit but issued by another unit's CA: answered
            // like an unknown certificate, and put on record.
            let _ = self.hasher.verify(pin, DUMMY_HASH.to_string()).await?;
            let audit = AuditEntry::new(now, AuditEvent::LoginFailed, &officer.id, &officer.unit)
                .refused(ErrorCode::InvalidCredentials);
            self.store.append_audit(audit).await?;
            return Err(refused());
        }
        if officer.locked.is_some() {
            return Err(BrokerError::refused(ErrorCode::AccountLocked));
        }
        let failed = AuditEntry::new(now, AuditEvent::LoginFailed, &officer.id, &officer.unit)
            .outcome(Outcome::InvalidPin);
        // The certificate is the first factor here, the PIN the second: a
        // wrong PIN counts toward the lock like a wrong TOTP code.
        if !self.hasher.verify(pin, pin_hash).await? {
            return Err(self.second_factor_failed(&officer, failed).await);
        }
        self.still_within_count(&keys, now).await?;
        let ok = AuditEntry::new(now, AuditEvent::LoginSucceeded, &officer.id, &officer.unit)
            .outcome(Outcome::CertificatePin);
        self.open_session(&officer, None, Some(fingerprint), ok, failed, &keys)
            .await
    }

    /// The session a successful login opens: stored only if the account is
    /// still unlocked (and the TOTP step fresh), with the attempts forgotten;
    /// bound to the certificate it was opened with, if any.
    async fn open_session(
        &self,
        officer: &Officer,
        totp_step: Option<i64>,
        certificate: Option<&str>,
        ok: AuditEntry,
        failed: AuditEntry,
        keys: &[String],
    ) -> Result<SessionCreated, BrokerError> {
        let role = self.role_of(officer)?;
        let (issued, new_session) = self.new_session(officer, role, ok.at, certificate);
        let expires_at = new_session.expires_at;
        if !self
            .store
            .login_succeeded(&officer.id, totp_step, new_session, ok)
            .await?
        {
            return Err(self.refused_at_success(officer, failed).await);
        }
        self.store.clear_attempts(keys).await?;
        Ok(SessionCreated {
            token: issued.token.to_string(),
            expires_at,
            officer: officer_view(officer),
            quota: self.quota(officer).await?,
        })
    }

    /// Whether the officer's role may log in this way (an officer whose
    /// role the policy no longer knows may not log in at all).
    fn allows(&self, officer: &Officer, method: AuthMethod) -> bool {
        self.role_of(officer)
            .is_ok_and(|r| r.auth.contains(&method))
    }

    /// The login policy and the window its attempts are counted over.
    fn login_throttle(&self) -> (&okaz_policy::LoginThrottle, chrono::Duration) {
        let policy = &self.policy.global.login;
        let window = chrono::Duration::from_std(policy.throttle_for).unwrap_or_default();
        (policy, window)
    }

    /// Counts this attempt under each key before anything else; refuses it
    /// when a key is over its limit.
    async fn count_attempt_to_log_in(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), BrokerError> {
        let (policy, window) = self.login_throttle();
        let counts = self.store.note_attempts(keys, now, now - window).await?;
        if login::over(&counts, policy) {
            return Err(throttled(now + window));
        }
        Ok(())
    }

    /// At success, the attempts counted under the login name (this one
    /// included) must still be within the limit: a burst in which a right
    /// guess hides among wrong ones gets no session.
    async fn still_within_count(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), BrokerError> {
        let (policy, window) = self.login_throttle();
        let Some(name_key) = keys.first() else {
            return Ok(());
        };
        let n = self.store.attempts(name_key, now - window).await?;
        if n > policy.throttle_after {
            return Err(throttled(now + window));
        }
        Ok(())
    }

    /// A second factor failed after the right first one: counts toward the
    /// officer's lock.
    async fn second_factor_failed(&self, officer: &Officer, audit: AuditEntry) -> BrokerError {
        let now = self.clock.now();
        match self
            .store
            .login_failed(&officer.id, now, &self.policy.global.login, audit)
            .await
        {
            Ok(f) if f.locked => BrokerError::refused(ErrorCode::AccountLocked),
            Ok(f) => {
                // Only someone past the first factor hears how close the
                // lock is: it lets an officer stop before it, and tells a
                // stranger nothing (wrong passwords never get this far).
                let mut r = Refusal::new(ErrorCode::InvalidCredentials);
                r.attempts_left = Some(
                    self.policy
                        .global
                        .login
                        .lock_after
                        .saturating_sub(f.failures),
                );
                r.into()
            }
            Err(e) => e.into(),
        }
    }

    /// The success update found the account locked meanwhile, or the TOTP
    /// step used already (a replayed code).
    async fn refused_at_success(&self, officer: &Officer, failed: AuditEntry) -> BrokerError {
        match self.store.officer_by_id(&officer.id).await {
            Ok(Some(now)) if now.locked.is_some() || now.disabled => {
                BrokerError::refused(ErrorCode::AccountLocked)
            }
            Ok(_) => {
                self.second_factor_failed(officer, failed.outcome(Outcome::TotpReplayed))
                    .await
            }
            Err(e) => e.into(),
        }
    }
}

fn throttled(until: DateTime<Utc>) -> BrokerError {
    Refusal::new(ErrorCode::LoginThrottled)
        .detail(format!(
            "too many attempts: try again after {}",
            until.to_rfc3339()
        ))
        .into()
}
