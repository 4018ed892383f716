//! `update` for the supervisor's watch ([`crate::alert`]): when a poll
//! goes, what its answer changes. Polls go only while a session of a role
//! that administers is live: the idle lock and the logout drop the session
//! and the watch with it, and a poll never touches the idle timer.

use chrono::{DateTime, Utc};

use super::common::refused_elsewhere;
use crate::alert::{Watch, WatchAnswer};
use crate::model::Model;
use crate::msg::Command;

/// `GET /v1/me` answered: a role that administers starts watching at once.
pub fn start(m: &mut Model) -> Vec<Command> {
    let (now, every) = (m.now, m.watch_every);
    let Some(s) = m.session.as_mut() else {
        return Vec::new();
    };
    let administers = s.permissions.as_ref().is_some_and(|p| p.administers);
    if !administers || s.watch.is_some() {
        return Vec::new();
    }
    s.watch = Some(Watch::new(now, every));
    poll(m, now)
}

/// A tick: the next poll, when due. Called after the idle lock and the
/// expiry were checked, so a locked terminal has no session to poll for.
pub fn poll(m: &mut Model, now: DateTime<Utc>) -> Vec<Command> {
    let Some(w) = m.session.as_mut().and_then(|s| s.watch.as_mut()) else {
        return Vec::new();
    };
    if !w.due(now) {
        return Vec::new();
    }
    let generation = w.begin(now);
    vec![Command::Watch { generation }]
}

/// A poll's answer. It changes no screen and no form; only a session that
/// is over (expired, account locked) ends as it would on any other call.
pub fn answered(m: &mut Model, a: WatchAnswer) -> Vec<Command> {
    let now = m.now;
    let Some(s) = m.session.as_mut() else {
        return Vec::new();
    };
    let Some(w) = s.watch.as_mut() else {
        return Vec::new();
    };
    let out = w.answer(now, a);
    if let Some(f) = out.ends {
        return refused_elsewhere(m, f);
    }
    if out.refused {
        // The role no longer administers: no banner, no more polls.
        s.watch = None;
        return Vec::new();
    }
    if out.arrived {
        return vec![Command::Bell];
    }
    Vec::new()
}

/// The officer opened F5: what is pending counts as seen.
pub fn opened_break_glass(m: &mut Model) {
    if let Some(w) = m.session.as_mut().and_then(|s| s.watch.as_mut()) {
        w.acknowledge();
    }
}

/// The F5 list came: its pending rows are the freshest count, and seen.
pub fn listed_break_glass(m: &mut Model, items: &[okaz_protocol::BreakGlassView]) {
    if let Some(w) = m.session.as_mut().and_then(|s| s.watch.as_mut()) {
        w.listed(
            items
                .iter()
                .filter(|g| g.status == "pending")
                .map(|g| g.id.clone())
                .collect(),
        );
    }
}

/// The F7 list came: the freshest count of open disputes.
pub fn listed_disputes(m: &mut Model, open: usize) {
    if let Some(w) = m.session.as_mut().and_then(|s| s.watch.as_mut()) {
        w.disputes = Some(open);
    }
}
