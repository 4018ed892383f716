//! Sessions: checking one on every request, logging out, who am I.

use chrono::{DateTime, NaiveDate, Utc};
use okaz_protocol::{ErrorCode, Me, Permissions};

use super::{officer_view, Broker};
use crate::audit::{AuditEntry, AuditEvent};
use crate::error::{BrokerError, Refusal};
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

/// What a request authenticates with: its bearer token, and the client
/// certificate its TLS connection presented (SHA-256 fingerprint, hex), if
/// any. A session bound to a certificate is refused without it.
#[derive(Debug, Clone, Copy)]
pub struct Bearer<'a> {
    /// The bearer token.
    pub token: &'a str,
    /// The connection's verified client certificate.
    pub certificate: Option<&'a str>,
}

impl<'a> From<&'a str> for Bearer<'a> {
    /// A token over a connection without a client certificate.
    fn from(token: &'a str) -> Self {
        Bearer {
            token,
            certificate: None,
        }
    }
}

impl Broker {
    /// Resolves a bearer token to a live session of an unlocked officer.
    pub async fn authenticate(&self, token: Bearer<'_>) -> Result<Authenticated, BrokerError> {
        Ok(self.authenticate_for(token, None).await?.0)
    }

    /// Authenticates with one lookup that also reads today's counter and,
    /// when a citizen is named, whether they activated the service.
    pub(super) async fn authenticate_for(
        &self,
        token: Bearer<'_>,
        citizen: Option<Pseudonym>,
    ) -> Result<(Authenticated, Option<bool>), BrokerError> {
        let now = self.clock.now();
        let q = self.lookup(token.token, now, citizen);
        let view = self
            .store
            .lookup_session(&q)
            .await?
            .ok_or_else(|| BrokerError::refused(ErrorCode::SessionExpired))?;
        self.accept(&view, token.certificate, now)?;
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

    /// Whether a looked-up session may act at `now` over a connection
    /// presenting `certificate`: live (shift and idle time), over the
    /// certificate it is bound to, its officer enabled, unlocked and in a
    /// role the policy knows.
    pub(super) fn accept(
        &self,
        view: &SessionView,
        certificate: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), BrokerError> {
        let expired = || BrokerError::refused(ErrorCode::SessionExpired);
        let s = &view.session;
        if !session::certificate_matches(s.certificate.as_deref(), certificate) {
            // A token copied off a terminal is no use without the terminal's
            // certificate; the answer is the one a stale token gets.
            return Err(Refusal::new(ErrorCode::SessionExpired)
                .detail("this session belongs to a terminal certificate: connect with it")
                .into());
        }
        let role = self.role_of(&view.officer)?;
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
    pub(super) fn new_session(
        &self,
        officer: &Officer,
        role: &okaz_policy::Role,
        now: DateTime<Utc>,
        certificate: Option<&str>,
    ) -> (session::IssuedToken, NewSession) {
        let issued = session::issue(&mut Rng(&*self.random));
        let new = NewSession {
            token_hash: issued.hash.clone(),
            officer_id: officer.id.clone(),
            created_at: now,
            expires_at: session::shift_end(now, chrono_duration(role.shift)),
            certificate: certificate.map(str::to_string),
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
                break_glass: role.break_glass,
                break_glass_terms: role.break_glass.then(|| {
                    let bg = &self.policy.break_glass;
                    okaz_protocol::BreakGlassTerms {
                        deadline_hours: u32::try_from(bg.deadline.as_secs() / 3600)
                            .unwrap_or(u32::MAX),
                        per_day: bg.per_officer_per_day,
                        justification_max_chars: u32::try_from(bg.justification_max)
                            .unwrap_or(u32::MAX),
                    }
                }),
            },
        })
    }
}

/// Policy durations are `std`; the rules use `chrono`. Out-of-range values
/// become zero, which ends sessions rather than extending them.
pub(crate) fn chrono_duration(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::zero())
}
