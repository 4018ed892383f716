//! The pure `update`: the only place the model changes.
//!
//! ```text
//!  Login ──LoggedIn──▶ (GET /me) ──Me──▶ Query ──Started(awaiting)──▶ Awaiting
//!    ▲                                  │  ▲  ╲                        │
//!    │                                  │  │   Started(completed)      │ CodeChecked
//!    │ idle, F10, session_expired,      │  │        ╲                  ▼
//!    │ locked account (via Notice)      │  └── Enter / display time ─ Result
//!    │                                  └─F2/F3─▶ Lockouts ⇄ Unlock, Audit
//! ```
//! The officer's break-glass (offer, form, flagged result) is in
//! [`crate::update_break_glass`]; the security officer's account screens
//! in [`crate::update_admin`].
//! A screen that is left is dropped, and dropping wipes what it held.

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::{ErrorCode, PhotoFit, Verification, VerificationStatus};

use crate::i18n::Note;
use crate::model::{Model, Screen, Session};
use crate::msg::{Command, Failure, Key, Msg};
use crate::screens::{
    audit::{self, AuditSearch},
    awaiting::{self, Awaiting},
    lockouts::{self, LockoutList},
    login,
    notice::{self, Next, Notice},
    parts::{self, PartsShown},
    query::{self, QueryForm},
    result::{self, Shown},
    unlock::{self, UnlockForm},
    watch,
};

/// Shown when the broker sends no display time and the role none either.
const DEFAULT_DISPLAY_SECONDS: i64 = 60;
/// Used when the broker sends no expiry for a challenge (policy default).
const DEFAULT_CHALLENGE_SECONDS: i64 = 300;

/// Applies one message and returns what to do outside.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Command> {
    // Any answer ends a retry: what it says replaces "retrying".
    if !matches!(
        msg,
        Msg::Tick(_)
            | Msg::Key(_)
            | Msg::Retrying(_)
            | Msg::Inbox(_)
            | Msg::DemoCodes(_)
            | Msg::Watch(_)
    ) {
        m.retrying = None;
    }
    // The request id of the last refusal stays on screen with its note;
    // any other answer clears it.
    if !matches!(
        msg,
        Msg::Tick(_)
            | Msg::Key(_)
            | Msg::Retrying(_)
            | Msg::Inbox(_)
            | Msg::DemoCodes(_)
            | Msg::Watch(_)
    ) {
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
        Msg::LoggedIn(r) => {
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
                    set_login_note(m, note);
                    Vec::new()
                }
            }
        }
        Msg::Me(r) => {
            m.busy = false;
            match r {
                Ok(me) => {
                    let Some(s) = m.session.as_mut() else {
                        return Vec::new();
                    };
                    s.officer = me.officer;
                    s.quota = me.quota;
                    s.permissions = Some(me.permissions);
                    let mut cmds = if matches!(m.screen, Screen::Login(_)) {
                        fresh_query(m, None)
                    } else {
                        Vec::new()
                    };
                    cmds.extend(crate::update_alert::start(m));
                    cmds
                }
                Err(f) => to_login(m, Some(f.note())),
            }
        }
        Msg::Started(r) => started(m, r),
        Msg::CodeChecked(r) => code_checked(m, r),
        Msg::BundleStarted(r) => bundle_started(m, r),
        Msg::Lockouts(r) => {
            m.busy = false;
            let r = match r {
                Err(f) => return refused_elsewhere(m, f),
                Ok(v) => v,
            };
            if let Screen::Lockouts(s) = &mut m.screen {
                s.selected = s.selected.min(r.len().saturating_sub(1));
                s.items = Some(r);
            }
            Vec::new()
        }
        Msg::BreakGlassList(r) => {
            m.busy = false;
            let r = match r {
                Err(f) => return refused_elsewhere(m, f),
                Ok(v) => v,
            };
            crate::update_alert::listed_break_glass(m, &r);
            if let Screen::BreakGlass(s) = &mut m.screen {
                s.selected = s.selected.min(r.len().saturating_sub(1));
                s.items = Some(r);
            }
            Vec::new()
        }
        Msg::BreakGlassDecided(r) => {
            m.busy = false;
            let decided = match r {
                Err(f) => return refused_elsewhere(m, f),
                Ok(v) => v,
            };
            if let Screen::BreakGlass(s) = &mut m.screen {
                s.done = s.deciding.take().filter(|_| decided.status != "pending");
                s.reason.clear();
                s.items = None;
            }
            m.busy = true;
            vec![Command::BreakGlassList]
        }
        Msg::Signals(r) => {
            m.busy = false;
            let r = match r {
                Err(f) => return refused_elsewhere(m, f),
                Ok(v) => v,
            };
            if let Screen::Signals(s) = &mut m.screen {
                s.selected = s.selected.min(r.signals.len().saturating_sub(1));
                s.view = Some(r);
            }
            Vec::new()
        }
        Msg::Unlocked(r) => {
            m.busy = false;
            match r {
                Err(f) => refused_elsewhere(m, f),
                Ok(()) => {
                    m.screen = Screen::Lockouts(LockoutList::loading(Some(Note::Unlocked)));
                    m.busy = true;
                    vec![Command::Lockouts]
                }
            }
        }
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
        Msg::Audit(r) => {
            m.busy = false;
            let r = match r {
                Err(f) => return refused_elsewhere(m, f),
                Ok(v) => v,
            };
            if let Screen::Audit(s) = &mut m.screen {
                s.results = Some(r);
                s.scroll = 0;
            }
            Vec::new()
        }
        Msg::Admin(a) => crate::update_admin::answer(m, a),
        Msg::BrokeGlass(r) => crate::update_break_glass::answered(m, r),
        Msg::Watch(a) => crate::update_alert::answered(m, a),
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
    cmds.extend(crate::update_alert::poll(m, now));
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
        Screen::Login(s) => match s.key(key) {
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
        },
        Screen::Query(s) => match s.key(key) {
            query::Intent::Submit(mut req) => {
                // Only the photo the result screen can draw, at its size.
                req.photo = Some(result::photo_fit(m.profile));
                crate::update_break_glass::submit(m, req)
            }
            query::Intent::SubmitBundle(mut req) => {
                req.photo = Some(PhotoFit::NONE);
                m.busy = true;
                vec![Command::StartBundle(req)]
            }
            query::Intent::Lockouts => {
                m.screen = Screen::Lockouts(LockoutList::loading(None));
                m.busy = true;
                vec![Command::Lockouts]
            }
            query::Intent::Audit => {
                m.screen = Screen::Audit(AuditSearch::default());
                Vec::new()
            }
            query::Intent::Officers => crate::update_admin::open(m, None),
            query::Intent::BreakGlass => {
                crate::update_alert::opened_break_glass(m);
                m.screen = Screen::BreakGlass(watch::BreakGlassList::loading(None));
                m.busy = true;
                vec![Command::BreakGlassList]
            }
            query::Intent::Signals => {
                m.screen = Screen::Signals(watch::SignalList::default());
                m.busy = true;
                vec![Command::Signals]
            }
            query::Intent::Disputes => crate::update_admin::open_disputes(m, None),
            query::Intent::None => Vec::new(),
        },
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
            awaiting::Intent::BreakGlass => crate::update_break_glass::instead_of_code(m),
            awaiting::Intent::None => Vec::new(),
        },
        Screen::Result(s) => match s.key(key) {
            result::Intent::New => fresh_query(m, None),
            result::Intent::None => Vec::new(),
        },
        Screen::Parts(s) => match s.key(key) {
            parts::Intent::New => fresh_query(m, None),
            parts::Intent::None => Vec::new(),
        },
        Screen::Notice(s) => match s.key(key) {
            notice::Intent::Continue => match s.next {
                Next::Query => fresh_query(m, None),
                Next::Login => to_login(m, None),
            },
            notice::Intent::None => Vec::new(),
        },
        Screen::BreakGlass(s) => match s.key(key) {
            watch::Intent::Decide(id, request) => {
                m.busy = true;
                vec![Command::DecideBreakGlass { id, request }]
            }
            watch::Intent::Refresh => {
                s.items = None;
                m.busy = true;
                vec![Command::BreakGlassList]
            }
            watch::Intent::Back => fresh_query(m, None),
            watch::Intent::None => Vec::new(),
        },
        Screen::Signals(s) => match s.key(key) {
            watch::SignalIntent::Refresh => {
                s.view = None;
                m.busy = true;
                vec![Command::Signals]
            }
            watch::SignalIntent::Back => fresh_query(m, None),
            watch::SignalIntent::None => Vec::new(),
        },
        Screen::Lockouts(s) => match s.key(key) {
            lockouts::Intent::Unlock(officer) => {
                m.screen = Screen::Unlock(UnlockForm::new(officer));
                Vec::new()
            }
            lockouts::Intent::Refresh => {
                s.items = None;
                m.busy = true;
                vec![Command::Lockouts]
            }
            lockouts::Intent::Back => fresh_query(m, None),
            lockouts::Intent::None => Vec::new(),
        },
        Screen::Unlock(s) => match s.key(key) {
            unlock::Intent::Submit(officer, request) => {
                m.busy = true;
                vec![Command::Unlock { officer, request }]
            }
            unlock::Intent::Back => {
                m.screen = Screen::Lockouts(LockoutList::loading(None));
                m.busy = true;
                vec![Command::Lockouts]
            }
            unlock::Intent::None => Vec::new(),
        },
        Screen::Audit(s) => match s.key(key) {
            audit::Intent::Search(q) => {
                m.busy = true;
                vec![Command::Audit(q)]
            }
            audit::Intent::Back => fresh_query(m, None),
            audit::Intent::None => Vec::new(),
        },
        Screen::Officers(_)
        | Screen::NewOfficer(_)
        | Screen::AccountReason(_)
        | Screen::Certificate(_)
        | Screen::Export(_)
        | Screen::Secret(_)
        | Screen::Disputes(_) => crate::update_admin::on_key(m, key),
        Screen::BreakGlassOffer(_) | Screen::BreakGlassForm(_) => {
            crate::update_break_glass::on_key(m, key)
        }
    }
}

fn started(m: &mut Model, r: Result<Verification, Failure>) -> Vec<Command> {
    m.busy = false;
    if !matches!(m.screen, Screen::Query(_)) {
        // An answer for a form that is gone (idle lock, logout): drop it,
        // wiping any document, and withdraw a challenge nobody will answer.
        return match r {
            Ok(v) if v.status == VerificationStatus::AwaitingCode => {
                vec![Command::Cancel { id: v.id }]
            }
            Ok(v) => {
                drop(shown(m, v));
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
    }
    match r {
        Ok(v) => {
            set_quota(m, &v.quota);
            match v.status {
                VerificationStatus::AwaitingCode => {
                    let Screen::Query(form) = &mut m.screen else {
                        return Vec::new();
                    };
                    // Kept only for a role that may break glass instead.
                    let check = form.sent.take();
                    let document = form
                        .documents
                        .get(form.document)
                        .copied()
                        .unwrap_or(okaz_protocol::DocumentType::IdCard);
                    let expires_at = v
                        .expires_at
                        .unwrap_or(m.now + Duration::seconds(DEFAULT_CHALLENGE_SECONDS));
                    let mut waiting = Awaiting::new(
                        v.id,
                        document,
                        v.sent_to.unwrap_or_default(),
                        expires_at,
                        v.attempts_left,
                    );
                    waiting.check = check;
                    m.screen = Screen::Awaiting(waiting);
                    Vec::new()
                }
                VerificationStatus::Completed => show(m, v),
            }
        }
        Err(f) => {
            if let Some(q) = f.quota() {
                set_quota(m, &q.clone());
            }
            match f.code() {
                Some(
                    ErrorCode::InvalidPesel
                    | ErrorCode::InvalidDocumentNumber
                    | ErrorCode::InvalidRequest
                    | ErrorCode::CaseReferenceRequired
                    | ErrorCode::NotPermitted
                    | ErrorCode::PayloadTooLarge,
                ) => {
                    // The officer can fix the form: keep what was typed.
                    if let Screen::Query(form) = &mut m.screen {
                        form.note = Some(f.note());
                    }
                    Vec::new()
                }
                _ => crate::update_break_glass::refused(m, f),
            }
        }
    }
}

fn bundle_started(
    m: &mut Model,
    r: Result<okaz_protocol::BundleVerification, Failure>,
) -> Vec<Command> {
    m.busy = false;
    if !matches!(m.screen, Screen::Query(_)) {
        // An answer for a form that is gone: dropped, and with it any document.
        return Vec::new();
    }
    match r {
        Ok(v) if v.status == VerificationStatus::AwaitingCode => {
            // One SMS code for the whole bundle: the same waiting screen.
            set_quota(m, &v.quota);
            let document = v
                .parts
                .first()
                .map(|p| p.kind)
                .unwrap_or(okaz_protocol::DocumentType::IdCard);
            let expires_at = v
                .expires_at
                .unwrap_or(m.now + Duration::seconds(DEFAULT_CHALLENGE_SECONDS));
            let mut waiting = Awaiting::new(
                v.id,
                document,
                v.sent_to.unwrap_or_default(),
                expires_at,
                v.attempts_left,
            );
            waiting.bundle = true;
            m.screen = Screen::Awaiting(waiting);
            Vec::new()
        }
        Ok(v) => {
            set_quota(m, &v.quota);
            let local = m
                .permissions()
                .map(|p| i64::from(p.display_seconds))
                .filter(|s| *s > 0)
                .unwrap_or(DEFAULT_DISPLAY_SECONDS);
            let local = m.now + Duration::seconds(local);
            let until = match v.display_until {
                Some(b) if b > m.now => b.min(local),
                _ => local,
            };
            m.screen = Screen::Parts(PartsShown::new(v.bundle, v.parts, until));
            Vec::new()
        }
        Err(f) => {
            if let Some(q) = f.quota() {
                set_quota(m, &q.clone());
            }
            match f.code() {
                Some(
                    ErrorCode::InvalidPesel
                    | ErrorCode::InvalidDocumentNumber
                    | ErrorCode::InvalidRequest
                    | ErrorCode::CaseReferenceRequired
                    | ErrorCode::NotPermitted
                    | ErrorCode::PayloadTooLarge,
                ) => {
                    if let Screen::Query(form) = &mut m.screen {
                        form.note = Some(f.note());
                    }
                    Vec::new()
                }
                _ => refused_elsewhere(m, f),
            }
        }
    }
}

fn code_checked(m: &mut Model, r: Result<Verification, Failure>) -> Vec<Command> {
    m.busy = false;
    if !matches!(m.screen, Screen::Awaiting(_)) {
        if let Ok(v) = r {
            drop(shown(m, v));
        }
        return Vec::new();
    }
    match r {
        Ok(v) => {
            set_quota(m, &v.quota);
            match v.status {
                VerificationStatus::Completed if !v.parts.is_empty() => show_parts(m, v),
                VerificationStatus::Completed => show(m, v),
                VerificationStatus::AwaitingCode => {
                    if let Screen::Awaiting(a) = &mut m.screen {
                        a.attempts_left = v.attempts_left.or(a.attempts_left);
                    }
                    Vec::new()
                }
            }
        }
        Err(f) => {
            if let Some(q) = f.quota() {
                let q = q.clone();
                set_quota(m, &q);
            }
            let Screen::Awaiting(a) = &mut m.screen else {
                return Vec::new();
            };
            match &f {
                Failure::Problem(p) if p.code == ErrorCode::WrongCode => {
                    a.attempts_left = p.attempts_left.or(a.attempts_left);
                    if a.attempts_left == Some(0) {
                        m.screen = Screen::Notice(Notice {
                            note: Note::Refused(ErrorCode::ChallengeExhausted, None),
                            next: Next::Query,
                        });
                    } else {
                        a.note = Some(f.note());
                    }
                    Vec::new()
                }
                Failure::Network | Failure::Http(_) => {
                    // The challenge may still be good: let the officer retry.
                    a.note = Some(f.note());
                    Vec::new()
                }
                Failure::Problem(_) => refused_elsewhere(m, f),
            }
        }
    }
}

/// A refusal that ends the current step: to the login form when the session
/// or account is gone, to a notice otherwise.
pub(crate) fn refused_elsewhere(m: &mut Model, f: Failure) -> Vec<Command> {
    if let Some(q) = f.quota() {
        let q = q.clone();
        set_quota(m, &q);
    }
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

/// The screen of a released document, at the shorter display time.
pub(crate) fn shown(m: &Model, mut v: Verification) -> Option<Shown> {
    let document = v.document.take()?;
    let local = m
        .permissions()
        .map(|p| i64::from(p.display_seconds))
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_DISPLAY_SECONDS);
    let local = m.now + Duration::seconds(local);
    // The shorter of the broker's and the policy's time wins; a broker time
    // already past (clock skew) must not hide the document at once.
    let until = match v.display_until {
        Some(b) if b > m.now => b.min(local),
        _ => local,
    };
    Some(Shown::new(document, until))
}

fn show(m: &mut Model, v: Verification) -> Vec<Command> {
    match shown(m, v) {
        Some(s) => {
            m.screen = Screen::Result(s);
            Vec::new()
        }
        None => {
            m.screen = Screen::Notice(Notice {
                note: Note::Refused(ErrorCode::Internal, None),
                next: Next::Query,
            });
            Vec::new()
        }
    }
}

/// A bundle released by its code: every part on one screen.
fn show_parts(m: &mut Model, v: Verification) -> Vec<Command> {
    let local = m
        .permissions()
        .map(|p| i64::from(p.display_seconds))
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_DISPLAY_SECONDS);
    let local = m.now + Duration::seconds(local);
    let until = match v.display_until {
        Some(b) if b > m.now => b.min(local),
        _ => local,
    };
    let bundle = v.bundle.unwrap_or_default();
    m.screen = Screen::Parts(PartsShown::new(bundle, v.parts, until));
    Vec::new()
}

/// Takes the quota an answer carried.
pub(crate) fn set_quota(m: &mut Model, q: &okaz_protocol::QuotaView) {
    if let Some(s) = m.session.as_mut() {
        s.quota = q.clone();
    }
}

fn set_login_note(m: &mut Model, note: Note) {
    if let Screen::Login(s) = &mut m.screen {
        s.note = Some(note);
    }
}

fn cancel_pending(m: &Model) -> Vec<Command> {
    match &m.screen {
        Screen::Awaiting(a) => vec![Command::Cancel { id: a.id.clone() }],
        _ => Vec::new(),
    }
}

pub(crate) fn fresh_query(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    match m.permissions() {
        Some(p) => {
            m.screen = Screen::Query(QueryForm::new(p, note));
            Vec::new()
        }
        None => to_login(m, note),
    }
}

fn to_login(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    m.screen = Screen::Login(m.login_form(note));
    m.busy = false;
    match m.session.take() {
        Some(_) => vec![Command::Logout],
        None => Vec::new(),
    }
}
