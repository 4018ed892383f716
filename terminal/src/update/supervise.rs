//! `update` for the supervisor's screens: lockouts and unlocks, the audit
//! search, the break-glass list with its decisions, and the misuse signals.

use okaz_protocol::{AuditRecordView, BreakGlassView, LockoutView, SignalsView};

use super::common::{arrived, fresh_query};
use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen};
use crate::msg::{Command, Key};
use crate::screens::{
    audit::{self, AuditSearch},
    lockouts::{self, LockoutList},
    unlock::{self, UnlockForm},
    watch,
};

/// Opens the lockouts list (loading).
pub fn open_lockouts(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    m.screen = Screen::Lockouts(LockoutList::loading(note));
    m.busy = true;
    vec![Command::Lockouts]
}

/// Opens the audit search.
pub fn open_audit(m: &mut Model) -> Vec<Command> {
    m.screen = Screen::Audit(AuditSearch::default());
    Vec::new()
}

/// Opens the break-glass list (loading).
pub fn open_break_glass(m: &mut Model) -> Vec<Command> {
    m.screen = Screen::BreakGlass(watch::BreakGlassList::loading(None));
    m.busy = true;
    vec![Command::BreakGlassList]
}

/// Opens the signals list (loading).
pub fn open_signals(m: &mut Model) -> Vec<Command> {
    m.screen = Screen::Signals(watch::SignalList::default());
    m.busy = true;
    vec![Command::Signals]
}

/// The lockouts came.
pub fn lockouts(m: &mut Model, r: Result<Vec<LockoutView>, Failure>) -> Vec<Command> {
    let r = match arrived(m, r) {
        Ok(v) => v,
        Err(next) => return next,
    };
    if let Screen::Lockouts(s) = &mut m.screen {
        s.selected = s.selected.min(r.len().saturating_sub(1));
        s.items = Some(r);
    }
    Vec::new()
}

/// The break-glass list came.
pub fn break_glass_list(m: &mut Model, r: Result<Vec<BreakGlassView>, Failure>) -> Vec<Command> {
    let r = match arrived(m, r) {
        Ok(v) => v,
        Err(next) => return next,
    };
    if let Screen::BreakGlass(s) = &mut m.screen {
        s.selected = s.selected.min(r.len().saturating_sub(1));
        s.items = Some(r);
    }
    Vec::new()
}

/// A countersign or rejection answered: the list again.
pub fn break_glass_decided(m: &mut Model, r: Result<BreakGlassView, Failure>) -> Vec<Command> {
    let decided = match arrived(m, r) {
        Ok(v) => v,
        Err(next) => return next,
    };
    if let Screen::BreakGlass(s) = &mut m.screen {
        s.done = s.deciding.take().filter(|_| decided.status != "pending");
        s.reason.clear();
        s.items = None;
    }
    m.busy = true;
    vec![Command::BreakGlassList]
}

/// The signals came.
pub fn signals(m: &mut Model, r: Result<SignalsView, Failure>) -> Vec<Command> {
    let r = match arrived(m, r) {
        Ok(v) => v,
        Err(next) => return next,
    };
    if let Screen::Signals(s) = &mut m.screen {
        s.selected = s.selected.min(r.signals.len().saturating_sub(1));
        s.view = Some(r);
    }
    Vec::new()
}

/// An unlock answered: the lockouts again.
pub fn unlocked(m: &mut Model, r: Result<(), Failure>) -> Vec<Command> {
    match arrived(m, r) {
        Err(next) => next,
        Ok(()) => open_lockouts(m, Some(Note::Unlocked)),
    }
}

/// The audit search answered.
pub fn audit(m: &mut Model, r: Result<Vec<AuditRecordView>, Failure>) -> Vec<Command> {
    let r = match arrived(m, r) {
        Ok(v) => v,
        Err(next) => return next,
    };
    if let Screen::Audit(s) = &mut m.screen {
        s.results = Some(r);
        s.scroll = 0;
    }
    Vec::new()
}

/// A key on one of the supervisor's screens.
pub fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    match &mut m.screen {
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
            unlock::Intent::Back => open_lockouts(m, None),
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
        _ => Vec::new(),
    }
}
