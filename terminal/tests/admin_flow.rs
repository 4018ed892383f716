//! The security officer's account screens and the document-number subject,
//! driven through `update` as an officer would: which calls go out, what
//! is refused before anything is sent, and that a credential shown once is
//! gone when its screen is left.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use okaz_protocol::{
    AccountView, DocumentType, ErrorCode, OfficerView, Permissions, PhotoFit, SubjectKind,
    VerificationRequest,
};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::msg_admin::{AdminAnswer, AdminCall, Secret};
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::result::photo_fit;
use okaz_terminal::{update, Command, Key, Model, Msg, Screen};

fn account(id: &str, login: &str, disabled: bool) -> AccountView {
    AccountView {
        officer: OfficerView {
            id: id.into(),
            login: login.into(),
            display_name: login.into(),
            role: "clerk".into(),
            unit: "USC Mokotów".into(),
        },
        disabled,
        locked_at: None,
        lock_reason: None,
    }
}

fn at_officers() -> Model {
    let mut m = logged_in(Lang::En, Profile::Desktop, security());
    let cmds = key(&mut m, Key::F(4));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Admin(AdminCall::Accounts)]
    ));
    assert!(m.busy);
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Accounts(Ok(vec![
            account("off-9", "pzielinski", false),
            account("off-15", "jnowak", true),
        ]))),
    );
    assert!(!m.busy);
    m
}

#[test]
fn only_an_administering_role_opens_the_accounts() {
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk());
    assert!(key(&mut m, Key::F(4)).is_empty());
    assert!(matches!(m.screen, Screen::Query(_)));
}

#[test]
fn a_new_account_is_created_in_the_officers_unit_and_its_password_shown_once() {
    let mut m = at_officers();
    key(&mut m, Key::Char('n'));
    typed(&mut m, "kwojcik");
    key(&mut m, Key::Tab);
    // A field left empty is refused before anything is sent.
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::FillAll));
    typed(&mut m, "Katarzyna Wójcik");
    key(&mut m, Key::Tab);
    typed(&mut m, "clerk");
    let cmds = key(&mut m, Key::Enter);
    let [Command::Admin(AdminCall::Create(new))] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(new.login, "kwojcik");
    assert_eq!(new.role, "clerk");
    // Prefilled with the security officer's own unit.
    assert_eq!(new.unit, "USC Mokotów");
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Created(Ok(okaz_protocol::OfficerCreated {
            officer: account("off-20", "kwojcik", false).officer,
            initial_password: "tulip-orbit".into(),
            totp_uri: "otpauth://totp/okaz:kwojcik?secret=X".into(),
        }))),
    );
    let Screen::Secret(s) = &m.screen else {
        panic!("{:?}", m.screen)
    };
    assert_eq!(s.items.len(), 2);
    assert_eq!(s.items[0].1.expose(), "tulip-orbit");
    // The credential never shows in Debug output (logs, panics).
    assert!(!format!("{:?}", m.screen).contains("tulip"));
    // Leaving the screen drops the credential and reloads the list.
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(
        cmds.as_slice(),
        [Command::Admin(AdminCall::Accounts)]
    ));
    assert!(matches!(m.screen, Screen::Officers(_)));
}

#[test]
fn a_reset_needs_a_deliberate_enter() {
    let mut m = at_officers();
    assert!(key(&mut m, Key::Char('p')).is_empty());
    // Anything but Enter cancels.
    assert!(key(&mut m, Key::Esc).is_empty());
    assert!(matches!(m.screen, Screen::Officers(_)));
    key(&mut m, Key::Char('t'));
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Admin(AdminCall::ResetTotp { officer })] if officer == "off-9"),
        "{cmds:?}"
    );
    // A refusal keeps the list, and says why.
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Reset(Err(problem(
            ErrorCode::NotPermitted,
            403,
        )))),
    );
    assert_eq!(m.note(), Some(Note::Refused(ErrorCode::NotPermitted, None)));
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('p'));
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Admin(AdminCall::ResetPassword { officer })] if officer == "off-15"),
        "{cmds:?}"
    );
}

#[test]
fn disabling_and_enabling_need_a_reason() {
    let mut m = at_officers();
    key(&mut m, Key::Char('d'));
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedReason));
    typed(&mut m, "left the office");
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Admin(AdminCall::SetDisabled { officer, disable: true, reason })]
            if officer == "off-9" && reason == "left the office"),
        "{cmds:?}"
    );
    update(&mut m, Msg::Admin(AdminAnswer::DisabledSet(Ok(true))));
    assert_eq!(m.note(), Some(Note::AccountDisabled));
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Accounts(Ok(vec![
            account("off-9", "pzielinski", true),
            account("off-15", "jnowak", true),
        ]))),
    );
    // A disabled account is offered enabling.
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('d'));
    typed(&mut m, "back from leave");
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(
        cmds.as_slice(),
        [Command::Admin(AdminCall::SetDisabled {
            disable: false,
            ..
        })]
    ));
}

#[test]
fn a_certificate_is_named_by_its_file_and_the_pin_shown_once() {
    let mut m = at_officers();
    key(&mut m, Key::Char('c'));
    assert!(key(&mut m, Key::Enter).is_empty());
    typed(&mut m, "/tmp/t.pem");
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Admin(AdminCall::BindCertificate { officer, path })]
            if officer == "off-9" && path.to_str() == Some("/tmp/t.pem")),
        "{cmds:?}"
    );
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Bound(Ok(Secret::new("482913".into())))),
    );
    let Screen::Secret(s) = &m.screen else {
        panic!()
    };
    assert_eq!(s.login, "pzielinski");
    assert_eq!(s.items[0].1.expose(), "482913");
}

#[test]
fn the_lockouts_are_saved_where_the_officer_says() {
    let mut m = at_officers();
    key(&mut m, Key::Char('e'));
    typed(&mut m, "/tmp/lockouts.csv");
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Admin(AdminCall::ExportLockouts { path })]
            if path.to_str() == Some("/tmp/lockouts.csv")),
        "{cmds:?}"
    );
    update(&mut m, Msg::Admin(AdminAnswer::Exported(Ok(()))));
    assert_eq!(m.note(), Some(Note::Saved));
}

#[test]
fn an_ended_session_on_an_account_screen_goes_to_the_login() {
    let mut m = at_officers();
    key(&mut m, Key::Char('n'));
    update(
        &mut m,
        Msg::Admin(AdminAnswer::Accounts(Err(problem(
            ErrorCode::SessionExpired,
            401,
        )))),
    );
    assert!(matches!(m.screen, Screen::Login(_)));
    assert!(m.session.is_none());
}

fn police_numbers() -> Permissions {
    police_for(
        &[DocumentType::IdCard, DocumentType::DrivingLicence],
        vec![
            SubjectKind::Pesel,
            SubjectKind::IdCardNumber,
            SubjectKind::LicenceNumber,
        ],
    )
}

/// On the query form with the `steps`-th subject kind, focus on the number.
fn by_kind(steps: usize) -> Model {
    let mut m = logged_in(Lang::En, Profile::Handheld, police_numbers());
    key(&mut m, Key::BackTab);
    for _ in 0..steps {
        key(&mut m, Key::Right);
    }
    key(&mut m, Key::Tab);
    m
}

#[test]
fn a_malformed_document_number_is_refused_before_anything_is_sent() {
    let mut m = by_kind(1);
    typed(&mut m, "ABA400000");
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "RSD-1/26");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedValidNumber));
    let mut m = by_kind(2);
    typed(&mut m, "01234-19-1465");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedValidNumber));
}

/// With the `steps`-th subject kind, which must offer `document` only,
/// types `number` and a case reference and submits: the request sent.
fn sent_by_number(
    steps: usize,
    document: DocumentType,
    number: &str,
) -> (Model, VerificationRequest) {
    let mut m = by_kind(steps);
    let Screen::Query(q) = &m.screen else {
        panic!()
    };
    assert_eq!(q.documents, vec![document]);
    typed(&mut m, number);
    for _ in 0..3 {
        key(&mut m, Key::Tab);
    }
    typed(&mut m, "RSD-1/26");
    let cmds = key(&mut m, Key::Enter);
    let [Command::Start(req)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let req = req.clone();
    (m, req)
}

#[test]
fn a_document_number_names_its_document_and_is_sent_canonical() {
    // An identity card number names the identity card only.
    let (mut m, req) = sent_by_number(1, DocumentType::IdCard, "aba 300000");
    assert_eq!(req.subject.id_card_number.as_deref(), Some("ABA300000"));
    assert!(req.subject.pesel.is_none() && req.subject.licence_number.is_none());
    assert_eq!(req.document, DocumentType::IdCard);
    // The handheld asks for no larger photo than it draws.
    assert_eq!(req.photo, Some(photo_fit(Profile::Handheld)));
    // The broker's refusal of the number keeps the form.
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::InvalidDocumentNumber, 400))),
    );
    assert!(matches!(m.screen, Screen::Query(_)));
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::InvalidDocumentNumber, None))
    );

    let (_, req) = sent_by_number(2, DocumentType::DrivingLicence, "01234 / 19 / 1465");
    assert_eq!(req.subject.licence_number.as_deref(), Some("01234/19/1465"));
}

#[test]
fn a_role_without_number_lookup_is_not_offered_one() {
    let m = logged_in(Lang::En, Profile::Desktop, police_patrol());
    let Screen::Query(q) = &m.screen else {
        panic!()
    };
    assert!(!q.kinds.contains(&SubjectKind::IdCardNumber));
    assert!(!q.kinds.contains(&SubjectKind::LicenceNumber));
}

#[test]
fn photos_are_asked_for_at_the_size_the_screen_draws_and_not_for_bundles() {
    // A clerk's code on a desktop asks for the desktop's photo size.
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    typed(&mut m, "123456");
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::SubmitCode { photo, .. }] if *photo == photo_fit(Profile::Desktop)),
        "{cmds:?}"
    );
    assert!(photo_fit(Profile::Handheld).width < photo_fit(Profile::Desktop).width);
    // A traffic stop's parts show no photo: none is asked for.
    let mut m = logged_in(Lang::En, Profile::Handheld, police_patrol());
    typed(&mut m, PESEL);
    let Screen::Query(q) = &mut m.screen else {
        panic!()
    };
    q.document = q.documents.len();
    key(&mut m, Key::Tab);
    typed(&mut m, "WA1234X");
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "RSD-1/26");
    let cmds = key(&mut m, Key::Enter);
    let [Command::StartBundle(req)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(req.photo, Some(PhotoFit::NONE));
}
