//! Snapshots of the security officer's disputes screen (list, empty list,
//! detail with the check's audit records, resolving with a reason, after
//! resolving) at 40x16 (handheld) and 80x24 (desktop), in Polish and
//! English, and the flow through `update`: which calls go out, a reason is
//! required, and the citizen's comment is drawn escaped. Fixed data and times.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use okaz_protocol::{DisputeView, ErrorCode};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::msg_admin::{AdminAnswer, AdminCall};
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::disputes::Mode;
use okaz_terminal::{update, Command, Key, Model, Msg, Screen};

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn disputes() -> Vec<DisputeView> {
    let d = |id: &str, officer: &str, comment: &str, minutes: i64| DisputeView {
        id: id.into(),
        verification: format!("ver-{id}"),
        unit: "USC Mokotów".into(),
        officer: officer.into(),
        comment: comment.into(),
        opened_at: t0() - Duration::minutes(minutes),
        status: "open".into(),
        resolved_at: None,
        resolved_by: None,
        resolution: None,
        records: audit_records(),
    };
    vec![
        d(
            "dsp-1",
            "off-7",
            "Nie byłam wtedy w urzędzie\u{1b}[2J\u{202E}",
            5,
        ),
        d("dsp-2", "off-9", "Nie wyrażałem zgody", 50),
    ]
}

fn listed(lang: Lang, profile: Profile, items: Vec<DisputeView>) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(7));
    update(&mut m, Msg::Admin(AdminAnswer::Disputes(Ok(items))));
    m
}

fn list(lang: Lang, profile: Profile) -> Model {
    listed(lang, profile, disputes())
}

fn empty(lang: Lang, profile: Profile) -> Model {
    listed(lang, profile, Vec::new())
}

fn detail(lang: Lang, profile: Profile) -> Model {
    let mut m = list(lang, profile);
    key(&mut m, Key::Enter);
    m
}

fn resolving(lang: Lang, profile: Profile) -> Model {
    let mut m = detail(lang, profile);
    key(&mut m, Key::Enter);
    typed(&mut m, "Zgoda kodem SMS w audycie");
    m
}

fn resolved(lang: Lang, profile: Profile) -> Model {
    let mut m = resolving(lang, profile);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Admin(AdminAnswer::DisputeResolved(Ok(()))));
    let rest = disputes().into_iter().skip(1).collect();
    update(&mut m, Msg::Admin(AdminAnswer::Disputes(Ok(rest))));
    m
}

#[test]
fn disputes_list() {
    snap("disputes_list", list);
}

#[test]
fn disputes_empty() {
    snap("disputes_empty", empty);
}

#[test]
fn disputes_detail() {
    snap("disputes_detail", detail);
}

#[test]
fn disputes_resolve_with_reason() {
    snap("disputes_resolve", resolving);
}

#[test]
fn disputes_resolved() {
    snap("disputes_resolved", resolved);
}

fn mode(m: &Model) -> Mode {
    match &m.screen {
        Screen::Disputes(s) => s.mode,
        _ => panic!("not on the disputes screen"),
    }
}

#[test]
fn only_an_administering_role_opens_the_disputes() {
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk());
    assert!(key(&mut m, Key::F(7)).is_empty());
    assert!(matches!(m.screen, Screen::Query(_)));
}

#[test]
fn f7_loads_the_open_disputes() {
    let mut m = logged_in(Lang::En, Profile::Desktop, security());
    let cmds = key(&mut m, Key::F(7));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Admin(AdminCall::Disputes)]
    ));
    assert!(m.busy);
    update(&mut m, Msg::Admin(AdminAnswer::Disputes(Ok(disputes()))));
    assert!(!m.busy);
    assert_eq!(mode(&m), Mode::List);
}

#[test]
fn resolving_sends_the_selected_dispute_and_the_reason_then_reloads() {
    let mut m = list(Lang::En, Profile::Desktop);
    key(&mut m, Key::Down);
    key(&mut m, Key::Enter);
    assert_eq!(mode(&m), Mode::Detail);
    key(&mut m, Key::Enter);
    assert_eq!(mode(&m), Mode::Resolve);
    typed(&mut m, "  consent was given  ");
    let cmds = key(&mut m, Key::Enter);
    match cmds.as_slice() {
        [Command::Admin(AdminCall::ResolveDispute { id, reason })] => {
            assert_eq!(id, "dsp-2");
            assert_eq!(reason, "consent was given");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(m.busy);
    let cmds = update(&mut m, Msg::Admin(AdminAnswer::DisputeResolved(Ok(()))));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Admin(AdminCall::Disputes)]
    ));
    assert_eq!(m.note(), Some(Note::DisputeResolved));
    assert_eq!(mode(&m), Mode::List);
}

#[test]
fn a_resolution_needs_a_reason() {
    let mut m = detail(Lang::En, Profile::Desktop);
    key(&mut m, Key::Enter);
    typed(&mut m, "   ");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedResolution));
    assert_eq!(mode(&m), Mode::Resolve);
}

#[test]
fn esc_steps_back_to_the_list_then_the_query_form() {
    let mut m = resolving(Lang::En, Profile::Desktop);
    key(&mut m, Key::Esc);
    assert_eq!(mode(&m), Mode::Detail);
    key(&mut m, Key::Esc);
    assert_eq!(mode(&m), Mode::List);
    key(&mut m, Key::Esc);
    assert!(matches!(m.screen, Screen::Query(_)));
}

#[test]
fn enter_on_an_empty_list_opens_nothing() {
    let mut m = empty(Lang::En, Profile::Desktop);
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(mode(&m), Mode::List);
}

#[test]
fn a_refused_resolution_stays_on_the_form_and_says_why() {
    let mut m = resolving(Lang::En, Profile::Desktop);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::DisputeResolved(Err(refused(
            ErrorCode::NotFound,
        )))),
    );
    assert!(!m.busy);
    assert_eq!(mode(&m), Mode::Resolve);
    assert_eq!(m.note(), Some(Note::Refused(ErrorCode::NotFound, None)));
}

#[test]
fn an_expired_session_on_the_disputes_goes_to_the_login_form() {
    let mut m = list(Lang::En, Profile::Desktop);
    key(&mut m, Key::Char('r'));
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Disputes(Err(refused(
            ErrorCode::SessionExpired,
        )))),
    );
    assert!(matches!(m.screen, Screen::Login(_)));
}

#[test]
fn the_comment_is_drawn_escaped() {
    let m = detail(Lang::En, Profile::Desktop);
    let t = render(&m, 80, 24);
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(!text.contains('\u{1b}'));
    assert!(!text.contains('\u{202E}'));
    assert!(text.contains("\\u{1b}[2J\\u{202e}"));
}
