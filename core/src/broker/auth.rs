//! Logging in, checking a session, logging out.

use chrono::{DateTime, NaiveDate, Utc};
use okaz_policy::AuthMethod;
use okaz_protocol::{ErrorCode, LoginRequest, Me, Permissions, SessionCreated};
use zeroize::Zeroizing;

use super::{officer_view, Broker};
use crate::audit::{AuditEntry, AuditEvent, Outcome};
use crate::credentials::{totp_step, DUMMY_HASH};
use crate::error::{BrokerError, Refusal};
use crate::login::{self, Gate};
use crate::ports::{Counter, NewSession, Officer, Rng, SessionLookup, SessionView};
use crate::pseudonym::Pseudonym;
use crate::quota;
use crate::session::{self, TokenHash};

/// An officer with a live session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The officer, as stored now.
    pub officer: Officer,
    /// Their session.
    pub session: TokenHash,
    /// Their counters today, as read with the session.
    pub counter: Counter,
    /// Today, in the policy's time zone.
    pub day: NaiveDate,
}

impl Broker {
    /// Password + TOTP login. Every failure looks alike to the caller
    /// (`invalid_credentials`), except throttling and a locked account.
    pub async fn login(&self, req: LoginRequest) -> Result<SessionCreated, BrokerError> {
        let LoginRequest {
            login,
            password,
            totp,
        } = req;
        let password = Zeroizing::new(password);
        let totp = Zeroizing::new(totp);
        let now = self.clock.now();
        let Some(officer) = self.store.officer_by_login(login.trim()).await? else {
            // Same work as a real check, so response time does not reveal
            // which logins exist.
            let _ = self.hasher.verify(password, DUMMY_HASH.to_string()).await;
            return Err(BrokerError::refused(ErrorCode::InvalidCredentials));
        };
        let role = self.role_of(&officer)?;
        self.throttle_gate(&officer, now)?;
        let password_ok = self
            .hasher
            .verify(password, officer.password_hash.clone())
            .await?;
        let unix = u64::try_from(now.timestamp()).unwrap_or(0);
        let step = totp_step(&officer.totp_secret, &totp, unix)?;
        let allowed = role.auth.contains(&AuthMethod::PasswordTotp) && !officer.disabled;
        let audit = AuditEntry::new(now, AuditEvent::LoginFailed, &officer.id, &officer.unit);
        let step = match (password_ok && allowed, step) {
            (true, Some(step)) => step,
            _ => {
                return Err(self
                    .login_failure(&officer, audit.refused(ErrorCode::InvalidCredentials))
                    .await)
            }
        };
        if officer.locked.is_some() {
            return Err(BrokerError::refused(ErrorCode::AccountLocked));
        }
        let (issued, new_session) = self.new_session(&officer, role, now);
        let expires_at = new_session.expires_at;
        let ok_audit = AuditEntry::new(now, AuditEvent::LoginSucceeded, &officer.id, &officer.unit);
        if !self
            .store
            .login_succeeded(&officer.id, Some(step), new_session, ok_audit)
            .await?
        {
            // The TOTP step was already used: a replayed code.
            return Err(self
                .login_failure(&officer, audit.outcome(Outcome::TotpReplayed))
                .await);
        }
        Ok(SessionCreated {
            token: issued.token.to_string(),
            expires_at,
            officer: officer_view(&officer),
            quota: self.quota(&officer).await?,
        })
    }

    /// Client certificate + PIN login (police terminals). The certificate
    /// was already verified against the units' CAs and CRLs by TLS; here it
    /// must be bound to an officer whose role allows this method.
    pub async fn login_with_certificate(
        &self,
        fingerprint: Option<&str>,
        pin: String,
    ) -> Result<SessionCreated, BrokerError> {
        let pin = Zeroizing::new(pin);
        let now = self.clock.now();
        let refused = || {
            BrokerError::Refused(
                Refusal::new(ErrorCode::InvalidCredentials)
                    .detail("a registered terminal certificate and the officer's PIN are required"),
            )
        };
        let fingerprint = fingerprint.ok_or_else(refused)?;
        let Some((officer_id, pin_hash)) = self.store.certificate_binding(fingerprint).await?
        else {
            let _ = self.hasher.verify(pin, DUMMY_HASH.to_string()).await;
            return Err(refused());
        };
        let officer = self
            .store
            .officer_by_id(&officer_id)
            .await?
            .ok_or_else(refused)?;
        let role = self.role_of(&officer)?;
        self.throttle_gate(&officer, now)?;
        let pin_ok = self.hasher.verify(pin, pin_hash).await?;
        let allowed = role.auth.contains(&AuthMethod::CertificatePin) && !officer.disabled;
        if !(pin_ok && allowed) {
            let audit = AuditEntry::new(now, AuditEvent::LoginFailed, &officer.id, &officer.unit)
                .outcome(Outcome::InvalidPin);
            return Err(self.login_failure(&officer, audit).await);
        }
        if officer.locked.is_some() {
            return Err(BrokerError::refused(ErrorCode::AccountLocked));
        }
        let (issued, new_session) = self.new_session(&officer, role, now);
        let expires_at = new_session.expires_at;
        let audit = AuditEntry::new(now, AuditEvent::LoginSucceeded, &officer.id, &officer.unit)
            .outcome(Outcome::CertificatePin);
        // Without a TOTP step there is nothing to replay: this always stores.
        self.store
            .login_succeeded(&officer.id, None, new_session, audit)
            .await?;
        Ok(SessionCreated {
            token: issued.token.to_string(),
            expires_at,
            officer: officer_view(&officer),
            quota: self.quota(&officer).await?,
        })
    }

    /// Refuses a login attempt while the officer's failures throttle it,
    /// before any credential is even checked.
    fn throttle_gate(&self, officer: &Officer, now: DateTime<Utc>) -> Result<(), BrokerError> {
        let policy = &self.policy.global.login;
        match login::gate(
            officer.failed_logins,
            officer.last_failed_login,
            policy,
            now,
        ) {
            Gate::Open => Ok(()),
            Gate::Throttled(until) => Err(Refusal::new(ErrorCode::LoginThrottled)
                .detail(format!("try again after {}", until.to_rfc3339()))
                .into()),
        }
    }

    async fn login_failure(&self, officer: &Officer, audit: AuditEntry) -> BrokerError {
        let now = self.clock.now();
        match self
            .store
            .login_failed(&officer.id, now, &self.policy.global.login, audit)
            .await
        {
            Ok(f) if f.locked => BrokerError::refused(ErrorCode::AccountLocked),
            Ok(f) => {
                // Saying how close the lock is lets an officer stop before it;
                // an attacker learns nothing the policy file does not say.
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

    /// Resolves a bearer token to a live session of an unlocked officer.
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, BrokerError> {
        Ok(self.authenticate_for(token, None).await?.0)
    }

    /// Authenticates with one lookup that also reads today's counter and,
    /// when a citizen is named, whether they activated the service.
    pub(super) async fn authenticate_for(
        &self,
        token: &str,
        citizen: Option<Pseudonym>,
    ) -> Result<(Authenticated, Option<bool>), BrokerError> {
        let now = self.clock.now();
        let q = self.lookup(token, now, citizen);
        let view = self
            .store
            .lookup_session(&q)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::SessionExpired))?;
        self.accept(&view, now)?;
        let activated = view.activated;
        Ok((self.admitted(view, q, now).await?, activated))
    }

    /// What to look a token up by at `now`.
    pub(super) fn lookup(
        &self,
        token: &str,
        now: DateTime<Utc>,
        citizen: Option<Pseudonym>,
    ) -> SessionLookup {
        SessionLookup {
            token: session::hash(token),
            day: quota::business_day(now, self.policy.global.time_zone),
            citizen,
        }
    }

    /// Whether a looked-up session may act at `now`: live (shift and idle
    /// time), its officer enabled, unlocked and in a role the policy knows.
    pub(super) fn accept(&self, view: &SessionView, now: DateTime<Utc>) -> Result<(), BrokerError> {
        let expired = || BrokerError::refused(ErrorCode::SessionExpired);
        let role = self.role_of(&view.officer)?;
        let s = &view.session;
        if !session::is_live(s.expires_at, s.last_seen, chrono_duration(role.idle), now)
            || view.officer.disabled
        {
            return Err(expired());
        }
        if view.officer.locked.is_some() {
            return Err(BrokerError::refused(ErrorCode::AccountLocked));
        }
        Ok(())
    }

    /// An accepted session as the request's [`Authenticated`]; records
    /// activity at most once per [`session::TOUCH_INTERVAL`].
    pub(super) async fn admitted(
        &self,
        view: SessionView,
        q: SessionLookup,
        now: DateTime<Utc>,
    ) -> Result<Authenticated, BrokerError> {
        if session::touch_due(view.session.last_seen, now) {
            self.store.touch_session(&q.token, now).await?;
        }
        Ok(Authenticated {
            officer: view.officer,
            session: q.token,
            counter: view.counter,
            day: q.day,
        })
    }

    /// A fresh token and the session to store, ending with the role's shift.
    fn new_session(
        &self,
        officer: &Officer,
        role: &okaz_policy::Role,
        now: DateTime<Utc>,
    ) -> (session::IssuedToken, NewSession) {
        let issued = session::issue(&mut Rng(&*self.random));
        let new = NewSession {
            token_hash: issued.hash.clone(),
            officer_id: officer.id.clone(),
            created_at: now,
            expires_at: session::shift_end(now, chrono_duration(role.shift)),
        };
        (issued, new)
    }

    /// Ends the session.
    pub async fn logout(&self, auth: &Authenticated) -> Result<(), BrokerError> {
        let o = &auth.officer;
        let audit = AuditEntry::new(self.clock.now(), AuditEvent::LoggedOut, &o.id, &o.unit);
        Ok(self.store.end_session(&auth.session, audit).await?)
    }

    /// Who is logged in, their quota and what they may ask for.
    pub async fn me(&self, auth: &Authenticated) -> Result<Me, BrokerError> {
        let role = self.role_of(&auth.officer)?;
        let g = &self.policy.global;
        Ok(Me {
            officer: officer_view(&auth.officer),
            quota: self.quota_of(auth),
            permissions: Permissions {
                documents: role.documents.iter().copied().collect(),
                purposes: role.purposes.iter().cloned().collect(),
                case_reference_required: role.case_reference_required,
                consent: match role.consent {
                    okaz_policy::ConsentMode::Sms => "sms".into(),
                    okaz_policy::ConsentMode::None => "none".into(),
                },
                display_seconds: u32::try_from(g.display.as_secs()).unwrap_or(u32::MAX),
                idle_seconds: u32::try_from(role.idle.as_secs()).unwrap_or(u32::MAX),
                administers: role.administers,
                choices: super::choices::choices(&self.policy, role),
                subjects: super::choices::subject_kinds(role),
                bundles: super::choices::bundles(&self.policy, role),
            },
        })
    }
}

/// Policy durations are `std`; the rules use `chrono`. Out-of-range values
/// become zero, which ends sessions rather than extending them.
pub(crate) fn chrono_duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::zero())
}
