//! What every flow of `update` shares: leaving a step (to the query form,
//! to the login form, to a notice), taking the quota an answer carried, and
//! how long a released document stays on screen. A leaf: it calls no flow.

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::{ErrorCode, PartResult, Verification};

use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen};
use crate::msg::Command;
use crate::screens::{
    notice::{Next, Notice},
    parts::PartsShown,
    query::QueryForm,
    result::Shown,
};

/// Shown when the broker sends no display time and the role none either.
const DEFAULT_DISPLAY_SECONDS: i64 = 60;

/// A refusal that ends the current step: to the login form when the session
/// or account is gone, to a notice otherwise.
pub(crate) fn refused_elsewhere(m: &mut Model, f: Failure) -> Vec<Command> {
    take_quota_of(m, &f);
    match f.code() {
        Some(ErrorCode::SessionExpired) => to_login(m, Some(f.note())),
        Some(ErrorCode::AccountLocked | ErrorCode::DailyLimitExceeded) => {
            m.screen = Screen::Notice(Notice {
                note: f.note(),
                next: Next::Login,
            });
            Vec::new()
        }
        _ => {
            match &mut m.screen {
                // Admin screens keep their state and show the refusal inline.
                Screen::Lockouts(s) => s.note = Some(f.note()),
                Screen::Unlock(s) => s.note = Some(f.note()),
                Screen::Audit(s) => s.note = Some(f.note()),
                Screen::BreakGlass(s) => s.note = Some(f.note()),
                Screen::Signals(s) => s.note = Some(f.note()),
                _ => {
                    m.screen = Screen::Notice(Notice {
                        note: f.note(),
                        next: Next::Query,
                    })
                }
            }
            Vec::new()
        }
    }
}

/// Until when a released document stays on screen: the shorter of the
/// broker's and the policy's time wins; a broker time already past (clock
/// skew) must not hide the document at once.
pub(crate) fn display_until(m: &Model, broker: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let local = m
        .permissions()
        .map(|p| i64::from(p.display_seconds))
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_DISPLAY_SECONDS);
    let local = m.now + Duration::seconds(local);
    match broker {
        Some(b) if b > m.now => b.min(local),
        _ => local,
    }
}

/// The screen of a released document, at the shorter display time.
pub(crate) fn shown(m: &Model, mut v: Verification) -> Option<Shown> {
    let document = v.document.take()?;
    Some(Shown::new(document, display_until(m, v.display_until)))
}

/// An answer that may release a document, for the screen it was asked
/// from (`here`). `None` when that screen is gone (idle lock, logout): the
/// answer is dropped, and with it, wiped, the document. A release that
/// arrives has its quota taken.
pub(crate) fn answer_on(
    m: &mut Model,
    here: bool,
    r: Result<Verification, Failure>,
) -> Option<Result<Verification, Failure>> {
    m.busy = false;
    if !here {
        if let Ok(v) = r {
            drop(shown(m, v));
        }
        return None;
    }
    if let Ok(v) = &r {
        set_quota(m, &v.quota);
    }
    Some(r)
}

/// A list's (or a decision's) answer: the value, or the refusal already
/// turned into what comes next.
pub(crate) fn arrived<T>(m: &mut Model, r: Result<T, Failure>) -> Result<T, Vec<Command>> {
    m.busy = false;
    r.map_err(|f| refused_elsewhere(m, f))
}

/// Shows a released document, or says the answer held none.
pub(crate) fn show(m: &mut Model, v: Verification) -> Vec<Command> {
    m.screen = match shown(m, v) {
        Some(s) => Screen::Result(s),
        None => Screen::Notice(Notice {
            note: Note::Refused(ErrorCode::Internal, None),
            next: Next::Query,
        }),
    };
    Vec::new()
}

/// A released bundle: every part on one screen.
pub(crate) fn show_parts(
    m: &mut Model,
    bundle: String,
    parts: Vec<PartResult>,
    broker_until: Option<DateTime<Utc>>,
) -> Vec<Command> {
    let until = display_until(m, broker_until);
    m.screen = Screen::Parts(PartsShown::new(bundle, parts, until));
    Vec::new()
}

/// Takes the quota an answer carried.
pub(crate) fn set_quota(m: &mut Model, q: &okaz_protocol::QuotaView) {
    if let Some(s) = m.session.as_mut() {
        s.quota = q.clone();
    }
}

/// Takes the quota a refusal carried, if it carried one.
pub(crate) fn take_quota_of(m: &mut Model, f: &Failure) {
    if let Some(q) = f.quota() {
        set_quota(m, &q.clone());
    }
}

/// The challenge still open on screen, withdrawn when the step is left.
pub(crate) fn cancel_pending(m: &Model) -> Vec<Command> {
    match &m.screen {
        Screen::Awaiting(a) => vec![Command::Cancel { id: a.id.clone() }],
        _ => Vec::new(),
    }
}

/// A fresh query form (the officer's home), or the login form without a session.
pub(crate) fn fresh_query(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    match m.permissions() {
        Some(p) => {
            m.screen = Screen::Query(QueryForm::new(p, note));
            Vec::new()
        }
        None => to_login(m, note),
    }
}

/// Back to the login form, ending the session (and with it the watch).
pub(crate) fn to_login(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    m.screen = Screen::Login(m.login_form(note));
    m.busy = false;
    match m.session.take() {
        Some(_) => vec![Command::Logout],
        None => Vec::new(),
    }
}
