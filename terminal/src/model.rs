//! The whole state of the terminal. Only `update` changes it.

use chrono::{DateTime, FixedOffset, Offset, Utc};
use okaz_protocol::{OfficerView, Permissions, QuotaView};

use crate::demo::DemoPanel;
use crate::i18n::{Lang, Note};
use crate::profile::Profile;
use crate::screens::{
    audit::AuditSearch, awaiting::Awaiting, lockouts::LockoutList, login::LoginForm,
    notice::Notice, parts::PartsShown, query::QueryForm, result::Shown, unlock::UnlockForm,
};

/// Who is logged in, as the header shows it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The officer.
    pub officer: OfficerView,
    /// Today's quota, refreshed by every answer that carries it.
    pub quota: QuotaView,
    /// End of shift: the session ends then, whatever the officer is doing.
    pub expires_at: DateTime<Utc>,
    /// What the role may do; `None` until `GET /v1/me` answered.
    pub permissions: Option<Permissions>,
    /// A role that administers: what waits for the unit. Part of the
    /// session so that it ends with it (idle lock, logout, expiry).
    pub watch: Option<crate::alert::Watch>,
}

/// The screen on display; each owns its state, so leaving a screen drops
/// (and wipes) what it held.
#[derive(Debug)]
pub enum Screen {
    /// Login form; also the locked screen (with a note saying why).
    Login(LoginForm),
    /// The query form.
    Query(QueryForm),
    /// Waiting for the citizen's SMS code.
    Awaiting(Awaiting),
    /// A released document, for a limited time.
    Result(Shown),
    /// A bundle's parts (e.g. a traffic stop), for a limited time.
    Parts(PartsShown),
    /// A refusal or notice that needs acknowledging.
    Notice(Notice),
    /// Security officer: locked accounts.
    Lockouts(LockoutList),
    /// Security officer: unlock one account.
    Unlock(UnlockForm),
    /// Security officer: audit search.
    Audit(AuditSearch),
    /// Security officer: the accounts of the unit.
    Officers(crate::screens::officers::OfficerList),
    /// Security officer: a new account.
    NewOfficer(crate::screens::officer_new::NewOfficerForm),
    /// Security officer: disable or enable an account.
    AccountReason(crate::screens::account_reason::ReasonForm),
    /// Security officer: bind a terminal certificate.
    Certificate(crate::screens::certificate::CertificateForm),
    /// Security officer: save the lockouts as CSV.
    Export(crate::screens::export::ExportForm),
    /// Security officer: a credential to hand over, shown once.
    Secret(crate::screens::secret::SecretShown),
    /// Supervisor: the unit's break-glass checks, to countersign or reject.
    BreakGlass(crate::screens::watch::BreakGlassList),
    /// Security officer: anomaly signals of the unit.
    Signals(crate::screens::watch::SignalList),
    /// Security officer: citizens' disputes of checks, one open, resolving.
    Disputes(crate::screens::disputes::DisputeList),
    /// A refusal that break-glass may override, offering it.
    BreakGlassOffer(crate::screens::break_glass::Offer),
    /// The officer's break-glass: the justification, then sent.
    BreakGlassForm(crate::screens::break_glass::BreakGlassForm),
}

/// The model of the Elm architecture.
#[derive(Debug)]
pub struct Model {
    /// Language of the texts.
    pub lang: Lang,
    /// Handheld or desktop.
    pub profile: Profile,
    /// Offset used to show times (local time of the terminal at start).
    pub offset: FixedOffset,
    /// The time of the last tick.
    pub now: DateTime<Utc>,
    /// When a key was last pressed, for the idle lock.
    pub last_key: DateTime<Utc>,
    /// Who is logged in.
    pub session: Option<Session>,
    /// What is on screen.
    pub screen: Screen,
    /// A call to the broker is under way; submitting again is ignored.
    pub busy: bool,
    /// The demo panel (`okaz demo` only): the citizen's phone beside the screens.
    pub demo: Option<DemoPanel>,
    /// The terminal has a client certificate: officers log in with a PIN.
    pub certificate: bool,
    /// The call under way got no answer and is being retried (the n-th time).
    pub retrying: Option<u32>,
    /// The broker's request id of the last refusal, shown with its note.
    pub request_id: Option<String>,
    /// How often a supervisor's terminal asks what waits for the unit.
    pub watch_every: std::time::Duration,
}

impl Model {
    /// A terminal showing the login form.
    pub fn new(lang: Lang, profile: Profile, now: DateTime<Utc>) -> Self {
        Model {
            lang,
            profile,
            offset: Utc.fix(),
            now,
            last_key: now,
            session: None,
            screen: Screen::Login(LoginForm::new(None)),
            busy: false,
            demo: None,
            certificate: false,
            retrying: None,
            request_id: None,
            watch_every: crate::alert::POLL_INTERVAL,
        }
    }

    /// The same terminal polling every `every` instead of
    /// [`crate::alert::POLL_INTERVAL`] (end-to-end tests only; at least 1 s).
    pub fn with_watch_every(mut self, every: std::time::Duration) -> Self {
        self.watch_every = every.max(std::time::Duration::from_secs(1));
        self
    }

    /// The supervisor's watch, if this session keeps one.
    pub fn watch(&self) -> Option<&crate::alert::Watch> {
        self.session.as_ref().and_then(|s| s.watch.as_ref())
    }

    /// The same terminal with a client certificate: the login form asks
    /// only for the officer's PIN.
    pub fn with_certificate(mut self) -> Self {
        self.certificate = true;
        self.screen = Screen::Login(self.login_form(None));
        self
    }

    /// The same terminal as a demo: with the panel, and the login form
    /// prefilled with the panel's first account. Done once, before the
    /// event loop starts; afterwards only `update` changes the panel.
    pub fn with_demo(mut self, panel: DemoPanel) -> Self {
        self.demo = Some(panel);
        self.screen = Screen::Login(self.login_form(None));
        self
    }

    /// A fresh login form; in a demo, prefilled with the first account.
    pub fn login_form(&self, note: Option<Note>) -> LoginForm {
        if self.certificate {
            return LoginForm::certificate(note);
        }
        match self.demo.as_ref().and_then(DemoPanel::prefill) {
            Some((login, password)) => LoginForm::prefilled(note, login, password),
            None => LoginForm::new(note),
        }
    }

    /// The role's permissions, once known.
    pub fn permissions(&self) -> Option<&Permissions> {
        self.session.as_ref().and_then(|s| s.permissions.as_ref())
    }

    /// Whether a document is held anywhere in the model.
    pub fn holds_document(&self) -> bool {
        matches!(self.screen, Screen::Result(_) | Screen::Parts(_))
    }

    /// The note on the current screen, if any (for tests and the footer).
    pub fn note(&self) -> Option<Note> {
        match &self.screen {
            Screen::Login(s) => s.note,
            Screen::Query(s) => s.note,
            Screen::Awaiting(s) => s.note,
            Screen::Result(_) | Screen::Parts(_) => None,
            Screen::Notice(s) => Some(s.note),
            Screen::Lockouts(s) => s.note,
            Screen::Unlock(s) => s.note,
            Screen::Audit(s) => s.note,
            Screen::Officers(s) => s.note,
            Screen::NewOfficer(s) => s.note,
            Screen::AccountReason(s) => s.note,
            Screen::Certificate(s) => s.note,
            Screen::Export(s) => s.note,
            Screen::Secret(_) => None,
            Screen::BreakGlass(s) => s.note,
            Screen::Signals(s) => s.note,
            Screen::Disputes(s) => s.note,
            Screen::BreakGlassOffer(s) => Some(s.note),
            Screen::BreakGlassForm(s) => s.note,
        }
    }
}
