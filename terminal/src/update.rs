//! The pure `update`: the only place the model changes. This file only
//! dispatches: each message and each screen's keys go to the flow that owns
//! them, and where one flow's outcome leads into another (a refused start
//! offered break-glass, a list that updates the supervisor's banner) the
//! hand-over is written here, so no flow calls another.
//!
//! ```text
//!  Login ──LoggedIn──▶ (GET /me) ──Me──▶ Query ──Started(awaiting)──▶ Awaiting
//!    ▲                                  │  ▲  ╲                        │
//!    │                                  │  │   Started(completed)      │ CodeChecked
//!    │ idle, F10, session_expired,      │  │        ╲                  ▼
//!    │ locked account (via Notice)      │  └── Enter / display time ─ Result
//!    │                                  └─F2/F3─▶ Lockouts ⇄ Unlock, Audit
//! ```
//! The flows: [`session`] (login), [`check`] (single and bundle checks),
//! [`break_glass`] (the officer's override), [`supervise`] (lockouts, audit,
//! break-glass list, signals), [`admin`] (the security officer's account
//! screens) and [`alert`] (the supervisor's watch); [`common`] holds what
//! they share and calls none of them.
//! A screen that is left is dropped, and dropping wipes what it held.

pub mod admin;
pub mod alert;
pub mod break_glass;
pub mod check;
pub mod common;
pub mod session;
pub mod supervise;

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::{ErrorCode, PhotoFit};

use self::common::{cancel_pending, fresh_query, to_login};
use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen};
use crate::msg::{Command, Key, Msg};
use crate::msg_admin::AdminAnswer;
use crate::screens::{
    awaiting,
    notice::{Next, Notice},
    query, result,
};

/// Applies one message and returns what to do outside.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Command> {
    if !matches!(
        msg,
        Msg::Tick(_)
            | Msg::Key(_)
            | Msg::Retrying(_)
            | Msg::Inbox(_)
            | Msg::DemoCodes(_)
            | Msg::Watch(_)
    ) {
        // Any answer ends a retry: what it says replaces "retrying".
        m.retrying = None;
        // The request id of the last refusal stays on screen with its note;
        // any other answer clears it.
        m.request_id = msg
            .failure()
            .and_then(Failure::request_id)
            .map(str::to_string);
    }
    match msg {
        Msg::Retrying(n) => {
            // Only while a call is under way; a late notice is ignored.
            if m.busy {
                m.retrying = Some(n);
            }
            Vec::new()
        }
        Msg::Tick(now) => tick(m, now),
        Msg::Key(key) => {
            m.last_key = m.now;
            on_key(m, key)
        }
        Msg::LoggedIn(r) => session::logged_in(m, r),
        Msg::Me(r) => {
            let mut cmds = session::me(m, r);
            // A role that administers starts watching at once (no session: nothing).
            cmds.extend(alert::start(m));
            cmds
        }
        Msg::Started(r) => match check::started(m, r) {
            Ok(cmds) => cmds,
            Err(f) => break_glass::refused(m, *f),
        },
        Msg::CodeChecked(r) => check::code_checked(m, r),
        Msg::BundleStarted(r) => check::bundle_started(m, r),
        Msg::Lockouts(r) => supervise::lockouts(m, r),
        Msg::BreakGlassList(r) => {
            if let Ok(items) = &r {
                alert::listed_break_glass(m, items);
            }
            supervise::break_glass_list(m, r)
        }
        Msg::BreakGlassDecided(r) => supervise::break_glass_decided(m, r),
        Msg::Signals(r) => supervise::signals(m, r),
        Msg::Unlocked(r) => supervise::unlocked(m, r),
        Msg::Audit(r) => supervise::audit(m, r),
        Msg::Inbox(messages) => {
            if let Some(d) = m.demo.as_mut() {
                d.inbox = messages;
            }
            Vec::new()
        }
        Msg::DemoCodes(codes) => {
            if let Some(d) = m.demo.as_mut() {
                d.set_codes(codes);
            }
            Vec::new()
        }
        Msg::Admin(a) => {
            if let AdminAnswer::Disputes(Ok(v)) = &a {
                alert::listed_disputes(m, v.len());
            }
            admin::answer(m, a)
        }
        Msg::BrokeGlass(r) => break_glass::answered(m, r),
        Msg::Watch(a) => alert::answered(m, a),
    }
}

fn tick(m: &mut Model, now: DateTime<Utc>) -> Vec<Command> {
    m.now = now;
    let idle = m
        .permissions()
        .map(|p| i64::from(p.idle_seconds))
        .filter(|s| *s > 0);
    if m.session.as_ref().is_some_and(|s| now >= s.expires_at) {
        let mut cmds = cancel_pending(m);
        cmds.extend(to_login(
            m,
            Some(Note::Refused(ErrorCode::SessionExpired, None)),
        ));
        return cmds;
    }
    if let Some(idle) = idle {
        if now - m.last_key >= Duration::seconds(idle) {
            let mut cmds = cancel_pending(m);
            cmds.extend(to_login(m, Some(Note::IdleLocked)));
            return cmds;
        }
    }
    let mut cmds = match &m.screen {
        Screen::Result(s) if now >= s.until => fresh_query(m, Some(Note::DocumentCleared)),
        Screen::Parts(s) if now >= s.until => fresh_query(m, Some(Note::DocumentCleared)),
        Screen::Awaiting(a) if now >= a.expires_at => {
            m.screen = Screen::Notice(Notice {
                note: Note::Refused(ErrorCode::ChallengeExpired, None),
                next: Next::Query,
            });
            Vec::new()
        }
        _ => Vec::new(),
    };
    // Only here, past the idle lock and the expiry above: a locked or
    // logged-out terminal has no session, so no watch and no poll.
    cmds.extend(alert::poll(m, now));
    cmds
}

fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    match key {
        Key::Interrupt => {
            let mut cmds = cancel_pending(m);
            cmds.extend(to_login(m, None));
            cmds.push(Command::Quit);
            return cmds;
        }
        Key::F(10) if m.session.is_some() => {
            let mut cmds = cancel_pending(m);
            cmds.extend(to_login(m, Some(Note::LoggedOut)));
            return cmds;
        }
        Key::F(10) => return vec![Command::Quit],
        _ if m.busy => return Vec::new(),
        _ => {}
    }
    match &mut m.screen {
        Screen::Login(_) => session::on_key(m, key),
        // The query form is the menu: each of its intents opens a flow.
        Screen::Query(s) => match s.key(key) {
            query::Intent::Submit(mut req) => {
                // Only the photo the result screen can draw, at its size.
                req.photo = Some(result::photo_fit(m.profile));
                break_glass::submit(m, req)
            }
            query::Intent::SubmitBundle(mut req) => {
                req.photo = Some(PhotoFit::NONE);
                m.busy = true;
                vec![Command::StartBundle(req)]
            }
            query::Intent::Lockouts => supervise::open_lockouts(m, None),
            query::Intent::Audit => supervise::open_audit(m),
            query::Intent::Officers => admin::open(m, None),
            query::Intent::BreakGlass => {
                alert::opened_break_glass(m);
                supervise::open_break_glass(m)
            }
            query::Intent::Signals => supervise::open_signals(m),
            query::Intent::Disputes => admin::open_disputes(m, None),
            query::Intent::None => Vec::new(),
        },
        // Waiting for the code: the check goes on, or turns into break-glass.
        Screen::Awaiting(s) => match s.key(key) {
            awaiting::Intent::Submit(code) => {
                let id = s.id.clone();
                // A bundle's parts are shown without photos: none is fetched.
                let photo = if s.bundle {
                    PhotoFit::NONE
                } else {
                    result::photo_fit(m.profile)
                };
                m.busy = true;
                vec![Command::SubmitCode { id, code, photo }]
            }
            awaiting::Intent::Cancel => {
                let mut cmds = cancel_pending(m);
                cmds.extend(fresh_query(m, None));
                cmds
            }
            awaiting::Intent::BreakGlass => break_glass::instead_of_code(m),
            awaiting::Intent::None => Vec::new(),
        },
        Screen::Result(_) | Screen::Parts(_) | Screen::Notice(_) => check::on_key(m, key),
        Screen::BreakGlass(_)
        | Screen::Signals(_)
        | Screen::Lockouts(_)
        | Screen::Unlock(_)
        | Screen::Audit(_) => supervise::on_key(m, key),
        Screen::Officers(_)
        | Screen::NewOfficer(_)
        | Screen::AccountReason(_)
        | Screen::Certificate(_)
        | Screen::Export(_)
        | Screen::Secret(_)
        | Screen::Disputes(_) => admin::on_key(m, key),
        Screen::BreakGlassOffer(_) | Screen::BreakGlassForm(_) => break_glass::on_key(m, key),
    }
}
