//! Snapshots of the break-glass and anomaly-signal screens, at 40x16
//! (handheld) and 80x24 (desktop), in Polish and English; and how their
//! keys become commands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use okaz_protocol::{BreakGlassVerdict, BreakGlassView, OfficerView, SignalView, SignalsView};
use okaz_terminal::i18n::Lang;
use okaz_terminal::profile::Profile;
use okaz_terminal::{update, Command, Key, Model, Msg};

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn medic(id: &str, name: &str) -> OfficerView {
    OfficerView {
        id: id.into(),
        login: id.into(),
        display_name: name.into(),
        role: "emergency".into(),
        unit: "PRM Kraków".into(),
    }
}

fn break_glasses() -> Vec<BreakGlassView> {
    vec![
        BreakGlassView {
            id: "bg-1".into(),
            officer: medic("off-21", "Jan Ratownik"),
            overrides: "no_code".into(),
            // A control sequence typed in is shown escaped, never run.
            justification: "unconscious after a crash\u{1b}[31m".into(),
            document: "id_card".into(),
            purpose: "identity_confirmation".into(),
            case_reference: None,
            created_at: t0() - Duration::hours(1),
            deadline: t0() + Duration::hours(11),
            status: "pending".into(),
            decided_by: None,
            decided_at: None,
            decision_reason: None,
        },
        BreakGlassView {
            id: "bg-0".into(),
            officer: medic("off-22", "Ewa Sanitariusz"),
            overrides: "daily_limit".into(),
            justification: "mass casualty incident".into(),
            document: "id_card".into(),
            purpose: "identity_confirmation".into(),
            case_reference: None,
            created_at: t0() - Duration::hours(30),
            deadline: t0() - Duration::hours(18),
            status: "expired".into(),
            decided_by: None,
            decided_at: Some(t0() - Duration::hours(18)),
            decision_reason: None,
        },
    ]
}

fn signals() -> SignalsView {
    SignalsView {
        since: t0() - Duration::days(30),
        computed_at: t0(),
        records: 26_736,
        signals: vec![
            SignalView {
                kind: "off_shift".into(),
                officer: medic("off-9", "Piotr Zieliński"),
                score: 6.0,
                evidence: vec![101, 205, 377, 512, 640, 701, 808],
                citizen: None,
                day: None,
            },
            SignalView {
                kind: "volume_outlier".into(),
                officer: medic("off-12", "Maria Wiśniewska"),
                score: 22.63,
                evidence: (1000..1160).collect(),
                citizen: None,
                day: NaiveDate::from_ymd_opt(2026, 2, 17),
            },
        ],
    }
}

fn break_glass_list(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    let cmds = key(&mut m, Key::F(5));
    assert!(matches!(cmds.as_slice(), [Command::BreakGlassList]));
    update(&mut m, Msg::BreakGlassList(Ok(break_glasses())));
    m
}

fn break_glass_rejecting(lang: Lang, profile: Profile) -> Model {
    let mut m = break_glass_list(lang, profile);
    key(&mut m, Key::Char('x'));
    typed(&mut m, "no emergency logged");
    m
}

fn break_glass_empty(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(5));
    update(&mut m, Msg::BreakGlassList(Ok(vec![])));
    m
}

fn signal_list(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    let cmds = key(&mut m, Key::F(6));
    assert!(matches!(cmds.as_slice(), [Command::Signals]));
    update(&mut m, Msg::Signals(Ok(signals())));
    m
}

fn signal_list_second(lang: Lang, profile: Profile) -> Model {
    let mut m = signal_list(lang, profile);
    key(&mut m, Key::Down);
    m
}

#[test]
fn break_glass_list_screen() {
    snap("break_glass_list", break_glass_list);
}

#[test]
fn break_glass_rejecting_screen() {
    snap("break_glass_rejecting", break_glass_rejecting);
}

#[test]
fn break_glass_empty_screen() {
    snap("break_glass_empty", break_glass_empty);
}

#[test]
fn signal_list_screen() {
    snap("signal_list", signal_list);
}

#[test]
fn signal_list_second_selected_screen() {
    snap("signal_list_second", signal_list_second);
}

#[test]
fn a_decision_needs_a_reason_and_is_sent_for_the_selected_pending_row() {
    let mut m = break_glass_list(Lang::En, Profile::Desktop);
    key(&mut m, Key::Char('c'));
    assert!(
        key(&mut m, Key::Enter).is_empty(),
        "no reason: nothing sent"
    );
    typed(&mut m, "confirmed with dispatch");
    let cmds = key(&mut m, Key::Enter);
    match cmds.as_slice() {
        [Command::DecideBreakGlass { id, request }] => {
            assert_eq!(id, "bg-1");
            assert_eq!(request.decision, BreakGlassVerdict::Countersign);
            assert_eq!(request.reason, "confirmed with dispatch");
        }
        other => panic!("{other:?}"),
    }
    // The answer reloads the list.
    let mut decided = break_glasses().remove(0);
    decided.status = "countersigned".into();
    let cmds = update(&mut m, Msg::BreakGlassDecided(Ok(decided)));
    assert!(matches!(cmds.as_slice(), [Command::BreakGlassList]));
    // An expired row cannot be decided.
    update(&mut m, Msg::BreakGlassList(Ok(break_glasses())));
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('c'));
    typed(&mut m, "late");
    assert!(key(&mut m, Key::Enter).is_empty());
    // R computes again; Esc leaves for the query form.
    let mut m = signal_list(Lang::En, Profile::Desktop);
    assert!(matches!(
        key(&mut m, Key::Char('r')).as_slice(),
        [Command::Signals]
    ));
    let mut m = signal_list(Lang::En, Profile::Desktop);
    key(&mut m, Key::Esc);
    assert!(matches!(m.screen, okaz_terminal::Screen::Query(_)));
}

#[test]
fn a_clerk_has_no_break_glass_or_signal_screens() {
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk());
    assert!(key(&mut m, Key::F(5)).is_empty());
    assert!(key(&mut m, Key::F(6)).is_empty());
    assert!(matches!(m.screen, okaz_terminal::Screen::Query(_)));
}
