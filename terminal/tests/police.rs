//! Police on patrol: the certificate + PIN login, the subject named by PESEL
//! or plate, and pickers that offer only what the role may ask. Snapshots of
//! the new screens at 40x16 and 80x24 in both languages.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use okaz_protocol::{DocumentType, ErrorCode, Problem};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::profile::Profile;
use okaz_terminal::{update, Command, Failure, Key, Model, Msg, Screen};

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn pin_login(lang: Lang, profile: Profile) -> Model {
    let mut m = Model::new(lang, profile, t0()).with_certificate();
    typed(&mut m, "1234");
    m
}

fn wrong_pin(lang: Lang, profile: Profile) -> Model {
    let mut m = pin_login(lang, profile);
    key(&mut m, Key::Enter);
    let mut p = Problem::new(ErrorCode::InvalidCredentials, 401);
    p.attempts_left = Some(2);
    update(&mut m, Msg::LoggedIn(Err(Failure::Problem(p))));
    m
}

fn pin_locked(lang: Lang, profile: Profile) -> Model {
    let mut m = pin_login(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::LoggedIn(Err(problem(ErrorCode::AccountLocked, 423))),
    );
    m
}

fn patrol_pesel(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, police_patrol());
    typed(&mut m, PESEL);
    m
}

fn patrol_plate(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, police_patrol());
    key(&mut m, Key::BackTab);
    key(&mut m, Key::Right);
    key(&mut m, Key::Tab);
    typed(&mut m, "wa 1234x");
    m
}

fn patrol_bad_plate(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, police_patrol());
    key(&mut m, Key::BackTab);
    key(&mut m, Key::Right);
    key(&mut m, Key::Tab);
    typed(&mut m, "WA-12");
    for _ in 0..3 {
        key(&mut m, Key::Tab);
    }
    typed(&mut m, "RSD-1/26");
    key(&mut m, Key::Enter);
    m
}

#[test]
fn snapshot_pin_login() {
    snap("pin_login", pin_login);
}

#[test]
fn snapshot_wrong_pin() {
    snap("wrong_pin", wrong_pin);
}

#[test]
fn snapshot_pin_locked() {
    snap("pin_locked", pin_locked);
}

#[test]
fn snapshot_patrol_pesel() {
    snap("patrol_pesel", patrol_pesel);
}

#[test]
fn snapshot_patrol_plate() {
    snap("patrol_plate", patrol_plate);
}

#[test]
fn snapshot_patrol_bad_plate() {
    snap("patrol_bad_plate", patrol_bad_plate);
}

#[test]
fn no_new_screen_panics_at_any_size() {
    let builds: [Build; 6] = [
        pin_login,
        wrong_pin,
        pin_locked,
        patrol_pesel,
        patrol_plate,
        patrol_bad_plate,
    ];
    for build in builds {
        for profile in [Profile::Handheld, Profile::Desktop] {
            let m = build(Lang::Pl, profile);
            for (w, h) in [(0, 0), (1, 1), (10, 3), (24, 8), (40, 16), (200, 60)] {
                render(&m, w, h);
            }
        }
    }
}

#[test]
fn certificate_terminal_asks_only_for_the_pin_and_calls_the_certificate_login() {
    let mut m = Model::new(Lang::En, Profile::Handheld, t0()).with_certificate();
    // Enter on an empty PIN sends nothing.
    assert!(key(&mut m, Key::Enter).is_empty());
    typed(&mut m, "12ab34");
    let cmds = key(&mut m, Key::Enter);
    match &cmds[..] {
        [Command::PinLogin(r)] => assert_eq!(r.pin, "1234"),
        other => panic!("expected a PIN login, got {other:?}"),
    }
    let Screen::Login(form) = &m.screen else {
        panic!("still on the login form while waiting");
    };
    assert!(
        form.pin.is_empty(),
        "the PIN is wiped from the form once sent"
    );
}

#[test]
fn wrong_pin_says_how_many_attempts_are_left_and_then_the_lock() {
    let m = wrong_pin(Lang::En, Profile::Handheld);
    assert_eq!(m.note(), Some(Note::WrongPin(Some(2))));
    let (text, _) = Note::WrongPin(Some(2)).texts(Lang::En);
    assert!(text.contains("Wrong PIN") && text.contains('2'), "{text}");
    let m = pin_locked(Lang::En, Profile::Handheld);
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::AccountLocked, None))
    );
}

#[test]
fn after_logout_the_certificate_terminal_asks_for_the_pin_again() {
    let mut m = logged_in(Lang::En, Profile::Handheld, police_patrol());
    m.certificate = true;
    key(&mut m, Key::F(10));
    let Screen::Login(form) = &m.screen else {
        panic!("logged out to the login form");
    };
    assert!(form.certificate);
}

#[test]
fn plate_is_normalised_and_only_vehicle_documents_are_offered() {
    let mut m = patrol_plate(Lang::En, Profile::Handheld);
    let Screen::Query(q) = &m.screen else {
        panic!("query form")
    };
    assert_eq!(
        q.documents,
        vec![
            DocumentType::VehicleRegistration,
            DocumentType::TechnicalInspection,
            DocumentType::OcInsurance
        ]
    );
    for _ in 0..3 {
        key(&mut m, Key::Tab);
    }
    typed(&mut m, "RSD-1/26");
    let cmds = key(&mut m, Key::Enter);
    match &cmds[..] {
        [Command::Start(r)] => {
            assert_eq!(r.subject.plate.as_deref(), Some("WA1234X"));
            assert!(r.subject.pesel.is_none());
            assert_eq!(r.document, DocumentType::VehicleRegistration);
        }
        other => panic!("expected a start, got {other:?}"),
    }
}

#[test]
fn malformed_plate_is_refused_before_anything_is_sent() {
    let m = patrol_bad_plate(Lang::En, Profile::Handheld);
    assert_eq!(m.note(), Some(Note::NeedValidPlate));
    assert!(!m.busy);
}

#[test]
fn a_role_without_plates_is_not_offered_the_choice() {
    let m = logged_in(Lang::En, Profile::Handheld, clerk());
    let Screen::Query(q) = &m.screen else {
        panic!("query form")
    };
    assert_eq!(q.kinds.len(), 1);
}

#[test]
fn pickers_offer_only_the_purposes_that_cover_the_chosen_document() {
    let mut m = logged_in(Lang::En, Profile::Desktop, clerk_with_choices());
    let purposes = |m: &Model| match &m.screen {
        Screen::Query(q) => (q.documents.get(q.document).copied(), q.purposes.clone()),
        _ => panic!("query form"),
    };
    assert_eq!(
        purposes(&m),
        (
            Some(DocumentType::IdCard),
            vec!["identity_confirmation".to_string()]
        )
    );
    key(&mut m, Key::Tab);
    key(&mut m, Key::Right);
    assert_eq!(
        purposes(&m),
        (
            Some(DocumentType::DrivingLicence),
            vec!["licence_check".to_string()]
        )
    );
    // Cycling the purpose cannot reach a purpose that does not cover it.
    key(&mut m, Key::Tab);
    key(&mut m, Key::Right);
    assert_eq!(purposes(&m).1, vec!["licence_check".to_string()]);
}

/// The traffic stop picked from the document picker (after the five documents).
fn traffic_stop_form(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, police_patrol());
    typed(&mut m, PESEL);
    key(&mut m, Key::Tab);
    for _ in 0..5 {
        key(&mut m, Key::Right);
    }
    // The bundle asks for the PESEL and the plate: PESEL, Plate, Document, Case.
    key(&mut m, Key::BackTab);
    typed(&mut m, "wa1234x");
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "RSD-7/26");
    m
}

fn part(
    kind: DocumentType,
    status: okaz_protocol::PartStatus,
    doc: bool,
) -> okaz_protocol::PartResult {
    okaz_protocol::PartResult {
        kind,
        status,
        document: doc.then(|| {
            let mut d = document(okaz_protocol::DocumentStatus::Valid, true);
            d.kind = kind;
            d
        }),
        receipt: None,
    }
}

fn traffic_stop_answer() -> okaz_protocol::BundleVerification {
    use okaz_protocol::PartStatus as S;
    okaz_protocol::BundleVerification {
        id: "b-1".into(),
        bundle: "traffic_stop".into(),
        status: okaz_protocol::VerificationStatus::Completed,
        expires_at: None,
        attempts_left: None,
        sent_to: None,
        parts: vec![
            part(DocumentType::DrivingLicence, S::Released, true),
            part(DocumentType::VehicleRegistration, S::Released, true),
            part(DocumentType::TechnicalInspection, S::Unavailable, false),
            part(DocumentType::OcInsurance, S::NotFound, false),
        ],
        display_until: Some(t0() + chrono::Duration::seconds(60)),
        quota: quota(4),
    }
}

fn traffic_stop_result(lang: Lang, profile: Profile) -> Model {
    let mut m = traffic_stop_form(lang, profile);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::BundleStarted(Ok(traffic_stop_answer())));
    m
}

#[test]
fn snapshot_traffic_stop_form() {
    snap("traffic_stop_form", traffic_stop_form);
}

#[test]
fn snapshot_traffic_stop_result() {
    snap("traffic_stop_result", traffic_stop_result);
}

#[test]
fn traffic_stop_is_one_request_with_the_pesel_and_the_plate() {
    let mut m = traffic_stop_form(Lang::En, Profile::Handheld);
    let cmds = key(&mut m, Key::Enter);
    match &cmds[..] {
        [Command::StartBundle(r)] => {
            assert_eq!(r.bundle, "traffic_stop");
            assert_eq!(r.subject.pesel.as_deref(), Some(PESEL));
            assert_eq!(r.subject.plate.as_deref(), Some("WA1234X"));
            assert_eq!(r.case_reference.as_deref(), Some("RSD-7/26"));
        }
        other => panic!("expected one bundle start, got {other:?}"),
    }
}

#[test]
fn traffic_stop_shows_every_part_with_its_own_status_and_clears() {
    use okaz_protocol::PartStatus as S;
    let mut m = traffic_stop_result(Lang::En, Profile::Handheld);
    let Screen::Parts(p) = &m.screen else {
        panic!("parts screen")
    };
    assert_eq!(
        p.statuses(),
        vec![
            (DocumentType::DrivingLicence, S::Released),
            (DocumentType::VehicleRegistration, S::Released),
            (DocumentType::TechnicalInspection, S::Unavailable),
            (DocumentType::OcInsurance, S::NotFound),
        ]
    );
    assert!(m.holds_document());
    update(&mut m, Msg::Tick(t0() + chrono::Duration::seconds(61)));
    assert!(!m.holds_document(), "cleared after the display time");
    assert_eq!(m.note(), Some(Note::DocumentCleared));
}

#[test]
fn a_bundle_answer_for_a_form_that_is_gone_is_dropped() {
    let mut m = traffic_stop_form(Lang::En, Profile::Handheld);
    key(&mut m, Key::Enter);
    // The officer logs out before the answer comes.
    key(&mut m, Key::F(10));
    update(&mut m, Msg::BundleStarted(Ok(traffic_stop_answer())));
    assert!(!m.holds_document());
    assert!(matches!(m.screen, Screen::Login(_)));
}

/// A start under way whose answer did not come: the client is retrying.
fn retrying(lang: Lang, profile: Profile) -> Model {
    let mut m = patrol_pesel(lang, profile);
    for _ in 0..3 {
        key(&mut m, Key::Tab);
    }
    typed(&mut m, "RSD-7/26");
    assert!(matches!(&key(&mut m, Key::Enter)[..], [Command::Start(_)]));
    update(&mut m, Msg::Retrying(2));
    m
}

#[test]
fn snapshot_retrying() {
    snap("retrying", retrying);
}

#[test]
fn retrying_is_shown_until_an_answer_comes_and_no_stale_document_is_shown() {
    let mut m = retrying(Lang::En, Profile::Handheld);
    assert_eq!(m.retrying, Some(2));
    let t = render(&m, 40, 16);
    assert!(format!("{}", t.backend()).contains("retrying (2)"));
    // The retries are spent: the officer is told, and nothing is shown.
    update(&mut m, Msg::Started(Err(Failure::Network)));
    assert_eq!(m.retrying, None);
    assert!(!m.holds_document());
    assert_eq!(m.note(), Some(Note::Network));
    // A late retry notice, with nothing under way, changes nothing.
    update(&mut m, Msg::Retrying(3));
    assert_eq!(m.retrying, None);
}

#[test]
fn a_clerks_bundle_waits_for_one_code_then_shows_both_parts() {
    use okaz_protocol::{BundleChoice, BundleVerification, PartStatus, VerificationStatus};
    let perms = okaz_protocol::Permissions {
        bundles: vec![BundleChoice {
            name: "pensioner_discount".into(),
            documents: vec![DocumentType::IdCard, DocumentType::PensionerId],
            needs_pesel: true,
            needs_plate: false,
            person_by_licence: false,
        }],
        ..clerk()
    };
    let mut m = logged_in(Lang::En, Profile::Desktop, perms);
    typed(&mut m, PESEL);
    key(&mut m, Key::Tab);
    // Two documents, then the bundle.
    key(&mut m, Key::Right);
    key(&mut m, Key::Right);
    let cmds = key(&mut m, Key::Enter);
    let [Command::StartBundle(r)] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(r.subject.plate, None);
    let pending = |kind| okaz_protocol::PartResult {
        kind,
        status: PartStatus::Pending,
        document: None,
        receipt: None,
    };
    update(
        &mut m,
        Msg::BundleStarted(Ok(BundleVerification {
            id: "c-1".into(),
            bundle: "pensioner_discount".into(),
            status: VerificationStatus::AwaitingCode,
            expires_at: Some(t0() + chrono::Duration::minutes(5)),
            attempts_left: Some(3),
            sent_to: Some("+48 *** *** 789".into()),
            parts: vec![
                pending(DocumentType::IdCard),
                pending(DocumentType::PensionerId),
            ],
            display_until: None,
            quota: quota(4),
        })),
    );
    assert!(matches!(m.screen, Screen::Awaiting(_)));
    typed(&mut m, "123456");
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(&cmds[..], [Command::SubmitCode { id, .. }] if id == "c-1"));
    let mut done = completed(document(okaz_protocol::DocumentStatus::Valid, false));
    done.document = None;
    done.bundle = Some("pensioner_discount".into());
    done.parts = vec![
        part(DocumentType::IdCard, PartStatus::Released, true),
        part(DocumentType::PensionerId, PartStatus::Released, true),
    ];
    update(&mut m, Msg::CodeChecked(Ok(done)));
    let Screen::Parts(p) = &m.screen else {
        panic!("parts screen")
    };
    assert_eq!(p.statuses().len(), 2);
}

/// A patrol whose policy lets it name a traffic stop's driver by licence
/// number (as `/v1/me` offers it: the kind and the bundle's flag).
fn patrol_by_licence() -> okaz_protocol::Permissions {
    let mut p = police_patrol();
    p.subjects.push(okaz_protocol::SubjectKind::LicenceNumber);
    for b in &mut p.bundles {
        b.person_by_licence = true;
    }
    p
}

/// The traffic stop with the driver named by licence number `number`.
fn traffic_stop_by_licence(lang: Lang, profile: Profile, number: &str) -> Model {
    let mut m = logged_in(lang, profile, patrol_by_licence());
    key(&mut m, Key::Tab);
    for _ in 0..5 {
        key(&mut m, Key::Right);
    }
    // Driver by, PESEL, Plate, Document, Case: back to "driver by".
    for _ in 0..3 {
        key(&mut m, Key::BackTab);
    }
    key(&mut m, Key::Right);
    // Driver by, Licence no., Plate, Document, Case.
    key(&mut m, Key::Tab);
    typed(&mut m, number);
    key(&mut m, Key::Tab);
    typed(&mut m, "wa1234x");
    key(&mut m, Key::Tab);
    key(&mut m, Key::Tab);
    typed(&mut m, "RSD-7/26");
    m
}

fn traffic_stop_licence_form(lang: Lang, profile: Profile) -> Model {
    traffic_stop_by_licence(lang, profile, "01234/19/1465")
}

fn traffic_stop_bad_licence(lang: Lang, profile: Profile) -> Model {
    let mut m = traffic_stop_by_licence(lang, profile, "01234-19-1465");
    key(&mut m, Key::Enter);
    m
}

#[test]
fn snapshot_traffic_stop_licence_form() {
    snap("traffic_stop_licence_form", traffic_stop_licence_form);
}

#[test]
fn snapshot_traffic_stop_bad_licence() {
    snap("traffic_stop_bad_licence", traffic_stop_bad_licence);
}

#[test]
fn traffic_stop_names_the_driver_by_licence_number_in_one_request() {
    let mut m = traffic_stop_licence_form(Lang::En, Profile::Handheld);
    let cmds = key(&mut m, Key::Enter);
    match &cmds[..] {
        [Command::StartBundle(r)] => {
            assert_eq!(r.bundle, "traffic_stop");
            assert_eq!(r.subject.pesel, None);
            assert_eq!(r.subject.licence_number.as_deref(), Some("01234/19/1465"));
            assert_eq!(r.subject.plate.as_deref(), Some("WA1234X"));
        }
        other => panic!("expected one bundle start, got {other:?}"),
    }
}

#[test]
fn a_malformed_licence_number_is_refused_before_anything_is_sent() {
    let mut m = traffic_stop_by_licence(Lang::En, Profile::Handheld, "01234-19-1465");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedValidNumber));
}

#[test]
fn a_traffic_stop_the_policy_names_by_pesel_only_offers_no_driver_choice() {
    let mut m = traffic_stop_form(Lang::En, Profile::Handheld);
    // Pesel, Plate, Document, Case: no "driver by" row to reach.
    let t = render(&m, 80, 24);
    let screen = format!("{:?}", t.backend());
    assert!(!screen.contains("Driver by"), "{screen}");
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(&cmds[..], [Command::StartBundle(r)] if r.subject.licence_number.is_none()),
        "{cmds:?}"
    );
}

#[test]
fn a_bundle_challenge_answered_after_the_form_is_gone_is_withdrawn() {
    use okaz_protocol::{BundleVerification, VerificationStatus};
    let mut m = traffic_stop_form(Lang::En, Profile::Desktop);
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(&cmds[..], [Command::StartBundle(_)]), "{cmds:?}");
    // The officer logs out before the broker answers.
    key(&mut m, Key::F(10));
    assert!(!matches!(m.screen, Screen::Query(_)));
    let cmds = update(
        &mut m,
        Msg::BundleStarted(Ok(BundleVerification {
            status: VerificationStatus::AwaitingCode,
            expires_at: Some(t0() + chrono::Duration::minutes(5)),
            attempts_left: Some(3),
            display_until: None,
            ..traffic_stop_answer()
        })),
    );
    assert!(
        matches!(&cmds[..], [Command::Cancel { id }] if id == "b-1"),
        "{cmds:?}"
    );
    assert!(!matches!(m.screen, Screen::Awaiting(_)));
}
