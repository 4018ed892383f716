//! One snapshot per screen, at 40x16 (handheld) and 80x24 (desktop), in
//! Polish and English. All data and times are fixed, so no filter is needed
//! for them; the model's clock is the fixed test time.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use okaz_protocol::{DocumentStatus, ErrorCode};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::login::LoginForm;
use okaz_terminal::{update, Failure, Key, Model, Msg, Screen};

/// Renders `build` in both languages at both sizes and snapshots each.
fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn login(lang: Lang, profile: Profile) -> Model {
    let mut m = Model::new(lang, profile, t0());
    typed(&mut m, "akowalska");
    key(&mut m, Key::Tab);
    typed(&mut m, "hunter22");
    key(&mut m, Key::Tab);
    m
}

fn login_refused(lang: Lang, profile: Profile) -> Model {
    let mut m = login(lang, profile);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::LoggedIn(Err(problem(ErrorCode::InvalidCredentials, 401))),
    );
    m
}

fn login_busy(lang: Lang, profile: Profile) -> Model {
    let mut m = login(lang, profile);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    m
}

fn locked(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    update(&mut m, Msg::Tick(t0() + Duration::seconds(300)));
    assert!(matches!(m.screen, Screen::Login(_)));
    m
}

fn query(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, "440514");
    m
}

fn query_bad_checksum(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, "44051401358");
    key(&mut m, Key::Enter);
    m
}

fn query_police(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, police());
    typed(&mut m, PESEL);
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "RSD-123/26");
    m
}

fn query_admin_refused(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::NotPermitted, 403))),
    );
    m
}

fn query_security(lang: Lang, profile: Profile) -> Model {
    let p = okaz_protocol::Permissions {
        documents: vec![],
        purposes: vec![],
        ..security()
    };
    logged_in(lang, profile, p)
}

fn awaiting(lang: Lang, profile: Profile) -> Model {
    let mut m = at_awaiting(lang, profile);
    update(&mut m, Msg::Tick(t0() + Duration::seconds(90)));
    typed(&mut m, "1234");
    m
}

fn awaiting_wrong_code(lang: Lang, profile: Profile) -> Model {
    let mut m = at_awaiting(lang, profile);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    let mut p = okaz_protocol::Problem::new(ErrorCode::WrongCode, 422);
    p.attempts_left = Some(2);
    update(&mut m, Msg::CodeChecked(Err(Failure::Problem(p))));
    m
}

fn result_valid(lang: Lang, profile: Profile) -> Model {
    let mut m = at_result(lang, profile, DocumentStatus::Valid, true);
    update(&mut m, Msg::Tick(t0() + Duration::seconds(5)));
    m
}

fn result_lost(lang: Lang, profile: Profile) -> Model {
    at_result(lang, profile, DocumentStatus::ReportedLost, false)
}

fn result_expired(lang: Lang, profile: Profile) -> Model {
    at_result(lang, profile, DocumentStatus::Expired, true)
}

fn cleared(lang: Lang, profile: Profile) -> Model {
    let mut m = at_result(lang, profile, DocumentStatus::Valid, true);
    update(&mut m, Msg::Tick(t0() + Duration::seconds(30)));
    m
}

fn notice_locked(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::DailyLimitExceeded, 423))),
    );
    m
}

fn notice_not_activated(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::NotActivated, 409))),
    );
    m
}

fn notice_network(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, clerk());
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Started(Err(Failure::Network)));
    m
}

fn lockouts_list(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(2));
    update(&mut m, Msg::Lockouts(Ok(lockouts())));
    m
}

fn lockouts_empty(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(2));
    update(&mut m, Msg::Lockouts(Ok(vec![])));
    m
}

fn unlock(lang: Lang, profile: Profile) -> Model {
    let mut m = lockouts_list(lang, profile);
    key(&mut m, Key::Enter);
    typed(&mut m, "confirmed by phone");
    key(&mut m, Key::Tab);
    typed(&mut m, "5");
    m
}

fn audit(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(3));
    typed(&mut m, "off-7");
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "2026-03-01");
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Audit(Ok(audit_records())));
    m
}

#[test]
fn snapshot_login() {
    snap("login", login);
}
#[test]
fn snapshot_login_refused() {
    snap("login_refused", login_refused);
}
#[test]
fn snapshot_login_busy() {
    snap("login_busy", login_busy);
}
#[test]
fn snapshot_locked() {
    snap("locked", locked);
}
#[test]
fn snapshot_query() {
    snap("query", query);
}
#[test]
fn snapshot_query_bad_checksum() {
    snap("query_bad_checksum", query_bad_checksum);
}
#[test]
fn snapshot_query_police() {
    snap("query_police", query_police);
}
#[test]
fn snapshot_query_admin_refused() {
    snap("query_admin_refused", query_admin_refused);
}
#[test]
fn snapshot_query_security() {
    snap("query_security", query_security);
}
#[test]
fn snapshot_awaiting() {
    snap("awaiting", awaiting);
}
#[test]
fn snapshot_awaiting_wrong_code() {
    snap("awaiting_wrong_code", awaiting_wrong_code);
}
#[test]
fn snapshot_result_valid() {
    snap("result_valid", result_valid);
}
#[test]
fn snapshot_result_lost() {
    snap("result_lost", result_lost);
}
#[test]
fn snapshot_result_expired() {
    snap("result_expired", result_expired);
}
#[test]
fn snapshot_cleared() {
    snap("cleared", cleared);
}
#[test]
fn snapshot_notice_locked() {
    snap("notice_locked", notice_locked);
}
#[test]
fn snapshot_notice_not_activated() {
    snap("notice_not_activated", notice_not_activated);
}
#[test]
fn snapshot_notice_network() {
    snap("notice_network", notice_network);
}
#[test]
fn snapshot_lockouts() {
    snap("lockouts", lockouts_list);
}
#[test]
fn snapshot_lockouts_empty() {
    snap("lockouts_empty", lockouts_empty);
}
#[test]
fn snapshot_unlock() {
    snap("unlock", unlock);
}
#[test]
fn snapshot_audit() {
    snap("audit", audit);
}

/// Every screen, both profiles, at sizes from nothing to large: no panic.
#[test]
fn no_screen_panics_at_any_size() {
    let builds: [Build; 22] = [
        query_security,
        login,
        login_refused,
        login_busy,
        locked,
        query,
        query_bad_checksum,
        query_police,
        query_admin_refused,
        awaiting,
        awaiting_wrong_code,
        result_valid,
        result_lost,
        result_expired,
        cleared,
        notice_locked,
        notice_not_activated,
        notice_network,
        lockouts_list,
        lockouts_empty,
        unlock,
        audit,
    ];
    for build in builds {
        for profile in [Profile::Handheld, Profile::Desktop] {
            let m = build(Lang::Pl, profile);
            for (w, h) in [
                (0, 0),
                (1, 1),
                (10, 3),
                (24, 8),
                (25, 9),
                (33, 12),
                (40, 16),
                (80, 24),
                (200, 60),
            ] {
                render(&m, w, h);
            }
        }
    }
}

/// What a secret field shows is never its value.
#[test]
fn password_is_masked_on_screen() {
    let m = login(Lang::En, Profile::Desktop);
    let t = render(&m, 80, 24);
    let text = format!("{}", t.backend());
    assert!(!text.contains("hunter22"));
    assert!(text.contains("••••••••"));
    let _ = LoginForm::new(Some(Note::IdleLocked));
}
