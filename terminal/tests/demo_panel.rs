//! The demo panel (`okaz demo`): beside the screens from 100 columns, as a
//! strip under them on smaller screens; fed only through `update`.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use okaz_terminal::demo::{DemoOfficer, DemoPanel};
use okaz_terminal::i18n::Lang;
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::login::Focus;
use okaz_terminal::{update, Command, Key, Model, Msg, Screen};
use zeroize::Zeroizing;

const SMS: &str = "12:00:05 okaz: kod 123456. USC-Demo prosi o wglad w dokument: dowod osobisty.";

fn panel() -> DemoPanel {
    let officer = |login: &str, password: &str, code: &str| DemoOfficer {
        login: login.into(),
        password: Zeroizing::new(password.into()),
        code: code.into(),
    };
    DemoPanel {
        officers: vec![
            officer("demo.clerk", "demo-1a2b", "------"),
            officer("demo.police", "demo-3c4d", "------"),
            officer("demo.security", "demo-5e6f", "------"),
        ],
        citizens: vec![format!("{PESEL} ID valid"), "02270803628 no phone".into()],
        inbox: Vec::new(),
        ..DemoPanel::default()
    }
}

/// A demo terminal after the launcher's feeds sent codes and one SMS.
fn fed(lang: Lang) -> Model {
    let mut m = Model::new(lang, Profile::Desktop, t0()).with_demo(panel());
    update(
        &mut m,
        Msg::DemoCodes(vec![
            "482913 17s".into(),
            "100200 17s".into(),
            "300400 17s".into(),
        ]),
    );
    update(&mut m, Msg::Inbox(vec![SMS.into()]));
    m
}

#[test]
fn the_panel_stands_beside_the_login_at_100_columns_and_under_it_at_80() {
    for (lang, l) in [(Lang::Pl, "pl"), (Lang::En, "en")] {
        let m = fed(lang);
        for (w, h) in [(100, 30), (80, 24), (40, 16)] {
            insta::assert_snapshot!(
                format!("demo_login_{l}_{w}x{h}"),
                render(&m, w, h).backend()
            );
        }
    }
}

#[test]
fn the_panel_stays_beside_the_query_form_after_login() {
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk());
    m.demo = Some(panel());
    update(&mut m, Msg::Inbox(vec![SMS.into()]));
    insta::assert_snapshot!("demo_query_en_100x30", render(&m, 100, 30).backend());
}

#[test]
fn the_login_is_prefilled_waiting_for_the_code_and_again_after_logout() {
    let mut m = fed(Lang::En);
    let Screen::Login(form) = &m.screen else {
        panic!("login first")
    };
    assert_eq!(form.login.value(), "demo.clerk");
    assert_eq!(form.password.value(), "demo-1a2b");
    assert_eq!(form.focus, Focus::Totp);
    let cmds = typed(&mut m, "482913");
    assert!(cmds.is_empty());
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(&cmds[..], [Command::Login(r)] if r.login == "demo.clerk" && r.totp == "482913")
    );

    // Logged in and out again: the form is prefilled once more.
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk());
    m.demo = Some(panel());
    key(&mut m, Key::F(10));
    let Screen::Login(form) = &m.screen else {
        panic!("logged out")
    };
    assert_eq!(form.login.value(), "demo.clerk");
}

#[test]
fn feeds_change_only_a_demo_and_never_the_screen() {
    let mut plain = Model::new(Lang::En, Profile::Desktop, t0());
    assert!(update(&mut plain, Msg::Inbox(vec![SMS.into()])).is_empty());
    assert!(update(&mut plain, Msg::DemoCodes(vec!["1".into()])).is_empty());
    assert!(plain.demo.is_none());

    let mut m = fed(Lang::En);
    let d = m.demo.as_ref().unwrap();
    assert_eq!(d.inbox, vec![SMS.to_string()]);
    assert_eq!(d.officers[1].code, "100200 17s");
    update(&mut m, Msg::Inbox(Vec::new()));
    assert!(m.demo.as_ref().unwrap().inbox.is_empty());
    assert!(matches!(m.screen, Screen::Login(_)));
}

#[test]
fn the_panel_never_breaks_tiny_screens() {
    let m = fed(Lang::Pl);
    for (w, h) in [(1, 1), (20, 5), (99, 19), (100, 3), (100, 8)] {
        render(&m, w, h);
    }
}
