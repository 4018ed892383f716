//! The supervisor's watch: a role that administers polls what waits for the
//! unit (on login, then every 15 s), never while idle-locked or logged out,
//! and every screen shows the banner; snapshots at 40x16 and 80x24, PL/EN.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use okaz_protocol::ErrorCode;
use okaz_terminal::alert::WatchAnswer;
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::profile::Profile;
use okaz_terminal::{update, view, Command, Failure, Key, Model, Msg, Screen};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// Logged in as a security officer; returns the model and the commands of
/// the `GET /v1/me` answer.
fn supervisor(lang: Lang, profile: Profile) -> (Model, Vec<Command>) {
    let mut m = Model::new(lang, profile, t0());
    update(
        &mut m,
        Msg::LoggedIn(Ok(okaz_terminal::msg::LoggedIn {
            officer: officer(),
            quota: quota(3),
            expires_at: t0() + Duration::hours(8),
        })),
    );
    let cmds = update(
        &mut m,
        Msg::Me(Ok(okaz_protocol::Me {
            officer: officer(),
            quota: quota(3),
            permissions: security(),
        })),
    );
    (m, cmds)
}

fn generation(cmds: &[Command]) -> Option<u64> {
    cmds.iter().find_map(|c| match c {
        Command::Watch { generation } => Some(*generation),
        _ => None,
    })
}

fn answer(g: u64, ids: &[&str], disputes: usize) -> Msg {
    Msg::Watch(WatchAnswer {
        generation: g,
        break_glass: Ok(ids.iter().map(|s| s.to_string()).collect()),
        disputes: Ok(disputes),
    })
}

fn tick(m: &mut Model, secs: i64) -> Vec<Command> {
    update(m, Msg::Tick(t0() + Duration::seconds(secs)))
}

fn banner(m: &Model) -> String {
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    t.draw(|f| view(m, f)).unwrap();
    format!("{}", t.backend())
}

#[test]
fn login_polls_at_once_then_every_fifteen_seconds() {
    let (mut m, cmds) = supervisor(Lang::En, Profile::Desktop);
    let g = generation(&cmds).expect("a poll on login");
    // One poll at a time: nothing more while it is under way.
    assert!(generation(&tick(&mut m, 20)).is_none());
    update(&mut m, Msg::Tick(t0()));
    assert!(update(&mut m, answer(g, &[], 0)).is_empty());
    assert!(generation(&tick(&mut m, 14)).is_none());
    let g2 = generation(&tick(&mut m, 15)).expect("a poll after 15 s");
    assert!(g2 > g);
}

#[test]
fn the_banner_counts_and_a_new_arrival_highlights_until_f5() {
    let (mut m, cmds) = supervisor(Lang::En, Profile::Desktop);
    update(&mut m, Msg::Tick(t0()));
    let g = generation(&cmds).unwrap();
    assert!(update(&mut m, answer(g, &["bg-1", "bg-2"], 1)).is_empty());
    let w = m.watch().unwrap();
    assert_eq!((w.break_glass(), w.disputes), (Some(2), Some(1)));
    assert!(!w.highlighted(), "pending at login is counted, not new");
    let screen = banner(&m);
    assert!(
        screen.contains("⚠ 2 break-glass awaiting countersign · F5 │ 1 open dispute · F7"),
        "{screen}"
    );
    // A form being typed is untouched by a poll and its answer.
    typed(&mut m, "4405");
    let g = generation(&tick(&mut m, 15)).unwrap();
    let cmds = update(&mut m, answer(g, &["bg-1", "bg-2", "bg-3"], 1));
    assert!(matches!(cmds.as_slice(), [Command::Bell]), "{cmds:?}");
    assert!(m.watch().unwrap().highlighted());
    assert!(matches!(&m.screen, Screen::Query(_)));
    assert!(banner(&m).contains("4405"));
    assert_eq!(m.last_key, t0(), "a poll is not activity");
    // The same arrival again rings no more.
    let g = generation(&tick(&mut m, 30)).unwrap();
    assert!(update(&mut m, answer(g, &["bg-1", "bg-2", "bg-3"], 1)).is_empty());
    // F5 clears the highlight.
    for _ in 0..4 {
        key(&mut m, Key::Backspace);
    }
    let cmds = key(&mut m, Key::F(5));
    assert!(matches!(cmds.as_slice(), [Command::BreakGlassList]));
    assert!(!m.watch().unwrap().highlighted());
}

#[test]
fn no_poll_while_idle_locked_or_logged_out() {
    let (mut m, cmds) = supervisor(Lang::En, Profile::Desktop);
    let g = generation(&cmds).unwrap();
    update(&mut m, answer(g, &["bg-1"], 0));
    // security() locks after 300 s without a key; polls until then only.
    let mut polls = 0;
    let mut locked_at = None;
    for s in (15..=600).step_by(15) {
        let cmds = tick(&mut m, s);
        if let Some(g) = generation(&cmds) {
            assert!(locked_at.is_none(), "a poll after the idle lock at {s} s");
            polls += 1;
            // The answer does not postpone the lock.
            update(&mut m, answer(g, &["bg-1"], 0));
        }
        if cmds.iter().any(|c| matches!(c, Command::Logout)) {
            assert!(generation(&cmds).is_none(), "no poll with the lock");
            locked_at = Some(s);
        }
    }
    assert_eq!(locked_at, Some(300));
    assert_eq!(polls, 19, "every 15 s from 15 s to 285 s");
    assert!(m.session.is_none() && m.watch().is_none());
    assert_eq!(m.note(), Some(Note::IdleLocked));
    assert!(!banner(&m).contains("F5"), "no banner on the locked screen");

    // Logged out by F10: no more polls either.
    let (mut m, _) = supervisor(Lang::En, Profile::Desktop);
    key(&mut m, Key::F(10));
    assert!((1..40).all(|i| generation(&tick(&mut m, i * 15)).is_none()));
}

#[test]
fn roles_that_do_not_administer_never_poll() {
    for perms in [clerk(), police_patrol(), emergency()] {
        let mut m = logged_in(Lang::En, Profile::Desktop, perms);
        assert!(m.watch().is_none());
        for s in (0..200).step_by(5) {
            assert!(generation(&tick(&mut m, s)).is_none());
        }
    }
}

#[test]
fn a_failed_poll_keeps_the_counts_marked_stale_and_backs_off() {
    let (mut m, cmds) = supervisor(Lang::En, Profile::Desktop);
    update(&mut m, Msg::Tick(t0()));
    let g = generation(&cmds).unwrap();
    update(&mut m, answer(g, &["bg-1", "bg-2"], 1));
    let g = generation(&tick(&mut m, 15)).unwrap();
    let cmds = update(
        &mut m,
        Msg::Watch(WatchAnswer {
            generation: g,
            break_glass: Err(Failure::Network),
            disputes: Err(Failure::Network),
        }),
    );
    assert!(cmds.is_empty());
    let w = m.watch().unwrap();
    assert!(w.stale);
    assert_eq!((w.break_glass(), w.disputes), (Some(2), Some(1)));
    assert!(banner(&m).contains("(not current)"));
    assert!(
        m.note().is_none() && m.request_id.is_none(),
        "nothing else said"
    );
    // Backed off: not at 30 s (the usual interval), but at 45 s (15 + 30).
    assert!(generation(&tick(&mut m, 30)).is_none());
    let g = generation(&tick(&mut m, 45)).unwrap();
    update(&mut m, answer(g, &["bg-1"], 0));
    assert!(!m.watch().unwrap().stale);
    assert!(banner(&m).contains("⚠ 1 break-glass"));
}

#[test]
fn an_expired_session_ends_as_on_any_call_and_polling_stops() {
    let (mut m, cmds) = supervisor(Lang::En, Profile::Desktop);
    let g = generation(&cmds).unwrap();
    let cmds = update(
        &mut m,
        Msg::Watch(WatchAnswer {
            generation: g,
            break_glass: Err(problem(ErrorCode::SessionExpired, 401)),
            disputes: Err(problem(ErrorCode::SessionExpired, 401)),
        }),
    );
    assert!(matches!(cmds.as_slice(), [Command::Logout]), "{cmds:?}");
    assert!(m.session.is_none());
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::SessionExpired, None))
    );
    assert!((1..10).all(|i| generation(&tick(&mut m, i * 15)).is_none()));
}

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn with_banner(lang: Lang, profile: Profile) -> Model {
    let (mut m, cmds) = supervisor(lang, profile);
    let g = generation(&cmds).unwrap();
    update(&mut m, answer(g, &["bg-1"], 1));
    let g = generation(&tick(&mut m, 15)).unwrap();
    update(&mut m, answer(g, &["bg-1", "bg-2"], 1));
    m
}

fn with_stale_banner(lang: Lang, profile: Profile) -> Model {
    let mut m = with_banner(lang, profile);
    let g = generation(&tick(&mut m, 30)).unwrap();
    update(
        &mut m,
        Msg::Watch(WatchAnswer {
            generation: g,
            break_glass: Err(Failure::Http(503)),
            disputes: Err(Failure::Http(503)),
        }),
    );
    m
}

#[test]
fn snapshots() {
    snap("alert_banner", with_banner);
    snap("alert_banner_stale", with_stale_banner);
}
