//! `update` for logging in: the login form's keys, the login's answer and
//! `GET /v1/me`, which opens the query form.

use okaz_protocol::{ErrorCode, Me};

use super::common::{fresh_query, to_login};
use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen, Session};
use crate::msg::{Command, Key, LoggedIn};
use crate::screens::login;

/// A key on the login form.
pub fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    let Screen::Login(s) = &mut m.screen else {
        return Vec::new();
    };
    match s.key(key) {
        login::Intent::Submit => {
            let req = s.take();
            s.note = None;
            m.busy = true;
            vec![match req {
                login::Request::Password(r) => Command::Login(r),
                login::Request::Pin(r) => Command::PinLogin(r),
            }]
        }
        login::Intent::None => Vec::new(),
    }
}

/// The login's answer: a session and `GET /v1/me`, or the reason on the form.
pub fn logged_in(m: &mut Model, r: Result<LoggedIn, Failure>) -> Vec<Command> {
    m.busy = false;
    if !matches!(m.screen, Screen::Login(_)) {
        return Vec::new();
    }
    match r {
        Ok(l) => {
            m.session = Some(Session {
                officer: l.officer,
                quota: l.quota,
                expires_at: l.expires_at,
                permissions: None,
                watch: None,
            });
            m.last_key = m.now;
            m.busy = true;
            vec![Command::FetchMe]
        }
        Err(f) => {
            let note = match (&f, m.certificate) {
                // A wrong PIN is said as such, with how close the lock is.
                (Failure::Problem(p), true) if p.code == ErrorCode::InvalidCredentials => {
                    Note::WrongPin(p.attempts_left)
                }
                _ => f.note(),
            };
            if let Screen::Login(s) = &mut m.screen {
                s.note = Some(note);
            }
            Vec::new()
        }
    }
}

/// `GET /v1/me` answered: the permissions, and the query form after a login.
pub fn me(m: &mut Model, r: Result<Me, Failure>) -> Vec<Command> {
    m.busy = false;
    match r {
        Ok(me) => {
            let Some(s) = m.session.as_mut() else {
                return Vec::new();
            };
            s.officer = me.officer;
            s.quota = me.quota;
            s.permissions = Some(me.permissions);
            if matches!(m.screen, Screen::Login(_)) {
                fresh_query(m, None)
            } else {
                Vec::new()
            }
        }
        Err(f) => to_login(m, Some(f.note())),
    }
}
