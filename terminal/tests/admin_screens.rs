//! Snapshots of the security officer's account screens and of the query
//! form naming the subject by document number, at 40x16 (handheld) and
//! 80x24 (desktop), in Polish and English. Fixed data and times.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use okaz_protocol::{
    AccountView, CredentialReset, DocumentType, ErrorCode, OfficerCreated, OfficerView,
    Permissions, SubjectKind,
};
use okaz_terminal::i18n::Lang;
use okaz_terminal::msg_admin::{AdminAnswer, AdminProblem, Secret};
use okaz_terminal::profile::Profile;
use okaz_terminal::{update, Key, Model, Msg, Screen};

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn accounts() -> Vec<AccountView> {
    let o = |id: &str, login: &str, name: &str| OfficerView {
        id: id.into(),
        login: login.into(),
        display_name: name.into(),
        role: "clerk".into(),
        unit: "USC Mokotów".into(),
    };
    vec![
        AccountView {
            officer: o("off-9", "pzielinski", "Piotr Zieliński"),
            disabled: false,
            locked_at: Some(t0() - Duration::minutes(42)),
            lock_reason: Some("daily_limit_exceeded".into()),
        },
        AccountView {
            officer: o("off-12", "mwisniewska", "Maria Wiśniewska"),
            disabled: false,
            locked_at: None,
            lock_reason: None,
        },
        AccountView {
            officer: o("off-15", "jnowak", "Jan Nowak"),
            disabled: true,
            locked_at: None,
            lock_reason: None,
        },
    ]
}

fn officers(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, security());
    key(&mut m, Key::F(4));
    update(&mut m, Msg::Admin(AdminAnswer::Accounts(Ok(accounts()))));
    m
}

fn officers_confirm_reset(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('p'));
    m
}

fn new_officer(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Char('n'));
    typed(&mut m, "kwojcik");
    key(&mut m, Key::Tab);
    typed(&mut m, "Katarzyna Wójcik");
    key(&mut m, Key::Tab);
    typed(&mut m, "clerk");
    m
}

fn new_officer_refused(lang: Lang, profile: Profile) -> Model {
    let mut m = new_officer(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Created(Err(problem(
            ErrorCode::NotPermitted,
            403,
        )))),
    );
    m
}

fn created(lang: Lang, profile: Profile) -> Model {
    let mut m = new_officer(lang, profile);
    key(&mut m, Key::Enter);
    let officer = OfficerView {
        id: "off-20".into(),
        login: "kwojcik".into(),
        display_name: "Katarzyna Wójcik".into(),
        role: "clerk".into(),
        unit: "USC Mokotów".into(),
    };
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Created(Ok(OfficerCreated {
            officer,
            initial_password: "tulip-orbit-42-canal".into(),
            totp_uri: "otpauth://totp/okaz:kwojcik?secret=JBSWY3DPEHPK3PXP&issuer=okaz".into(),
        }))),
    );
    assert!(matches!(m.screen, Screen::Secret(_)));
    m
}

fn reset_shown(lang: Lang, profile: Profile) -> Model {
    let mut m = officers_confirm_reset(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Reset(Ok(CredentialReset {
            initial_password: Some("amber-ferry-17-quill".into()),
            totp_uri: None,
        }))),
    );
    m
}

fn disable(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('d'));
    typed(&mut m, "left the office");
    m
}

fn enable_no_reason(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Down);
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('d'));
    key(&mut m, Key::Enter);
    m
}

fn disabled_done(lang: Lang, profile: Profile) -> Model {
    let mut m = disable(lang, profile);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Admin(AdminAnswer::DisabledSet(Ok(true))));
    update(&mut m, Msg::Admin(AdminAnswer::Accounts(Ok(accounts()))));
    m
}

fn certificate(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Char('c'));
    typed(&mut m, "/media/usb/terminal-07.pem");
    m
}

fn certificate_unreadable(lang: Lang, profile: Profile) -> Model {
    let mut m = certificate(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Bound(Err(AdminProblem::NotACertificate))),
    );
    m
}

fn pin_shown(lang: Lang, profile: Profile) -> Model {
    let mut m = certificate(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Bound(Ok(Secret::new("482913".into())))),
    );
    m
}

fn export(lang: Lang, profile: Profile) -> Model {
    let mut m = officers(lang, profile);
    key(&mut m, Key::Char('e'));
    typed(&mut m, "/home/so/lockouts-2026-03-02.csv");
    m
}

fn export_exists(lang: Lang, profile: Profile) -> Model {
    let mut m = export(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Exported(Err(AdminProblem::FileExists))),
    );
    m
}

fn exported(lang: Lang, profile: Profile) -> Model {
    let mut m = export(lang, profile);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Admin(AdminAnswer::Exported(Ok(()))));
    update(&mut m, Msg::Admin(AdminAnswer::Accounts(Ok(accounts()))));
    m
}

/// Police as the default policy now says: PESEL, plate, or a document number.
fn police_numbers() -> Permissions {
    police_for(
        &[DocumentType::IdCard, DocumentType::DrivingLicence],
        vec![
            SubjectKind::Pesel,
            SubjectKind::Plate,
            SubjectKind::IdCardNumber,
            SubjectKind::LicenceNumber,
        ],
    )
}

/// The query form with the subject kind moved `steps` to the right.
fn query_kind(lang: Lang, profile: Profile, steps: usize) -> Model {
    let mut m = logged_in(lang, profile, police_numbers());
    key(&mut m, Key::BackTab);
    for _ in 0..steps {
        key(&mut m, Key::Right);
    }
    key(&mut m, Key::Tab);
    m
}

fn query_id_card_number(lang: Lang, profile: Profile) -> Model {
    let mut m = query_kind(lang, profile, 2);
    typed(&mut m, "aba 300000");
    m
}

fn query_id_card_typo(lang: Lang, profile: Profile) -> Model {
    let mut m = query_kind(lang, profile, 2);
    typed(&mut m, "ABA400000");
    key(&mut m, Key::Enter);
    m
}

fn query_licence_number(lang: Lang, profile: Profile) -> Model {
    let mut m = query_kind(lang, profile, 3);
    typed(&mut m, "01234/19/14");
    m
}

#[test]
fn snapshot_officers() {
    snap("officers", officers);
}
#[test]
fn snapshot_officers_confirm_reset() {
    snap("officers_confirm_reset", officers_confirm_reset);
}
#[test]
fn snapshot_new_officer() {
    snap("new_officer", new_officer);
}
#[test]
fn snapshot_new_officer_refused() {
    snap("new_officer_refused", new_officer_refused);
}
#[test]
fn snapshot_created() {
    snap("created", created);
}
#[test]
fn snapshot_reset_shown() {
    snap("reset_shown", reset_shown);
}
#[test]
fn snapshot_disable() {
    snap("disable", disable);
}
#[test]
fn snapshot_enable_no_reason() {
    snap("enable_no_reason", enable_no_reason);
}
#[test]
fn snapshot_disabled_done() {
    snap("disabled_done", disabled_done);
}
#[test]
fn snapshot_certificate() {
    snap("certificate", certificate);
}
#[test]
fn snapshot_certificate_unreadable() {
    snap("certificate_unreadable", certificate_unreadable);
}
#[test]
fn snapshot_pin_shown() {
    snap("pin_shown", pin_shown);
}
#[test]
fn snapshot_export() {
    snap("export", export);
}
#[test]
fn snapshot_export_exists() {
    snap("export_exists", export_exists);
}
#[test]
fn snapshot_exported() {
    snap("exported", exported);
}
#[test]
fn snapshot_query_id_card_number() {
    snap("query_id_card_number", query_id_card_number);
}
#[test]
fn snapshot_query_id_card_typo() {
    snap("query_id_card_typo", query_id_card_typo);
}
#[test]
fn snapshot_query_licence_number() {
    snap("query_licence_number", query_licence_number);
}

#[test]
fn no_account_screen_panics_at_any_size() {
    let builds: [Build; 8] = [
        officers,
        officers_confirm_reset,
        new_officer,
        created,
        disable,
        certificate,
        export,
        query_id_card_number,
    ];
    for build in builds {
        for (w, h) in [(1, 1), (20, 5), (39, 15), (40, 16), (80, 24), (200, 60)] {
            let m = build(Lang::Pl, Profile::Handheld);
            render(&m, w, h);
        }
    }
}
