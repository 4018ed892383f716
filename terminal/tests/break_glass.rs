//! The officer's break-glass in the terminal: where it is offered (police
//! at the daily limit, a medic whose citizen can get no code), the form,
//! what is sent, the flagged result, and the refusals. Pure update/model
//! tests, and snapshots of the new screens at 40x16 and 80x24 in both
//! languages.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use okaz_protocol::{DocumentStatus, DocumentType, ErrorCode, Permissions, Problem};
use okaz_terminal::break_glass::{Overrides, JUSTIFICATION_MAX};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::notice::Next;
use okaz_terminal::screens::result::photo_fit;
use okaz_terminal::{update, Command, Failure, Key, Model, Msg, Screen};

const CASE: &str = "RSD-12/2026";
const WHY: &str = "suspect fleeing, identity needed now";

fn snap(name: &str, build: Build) {
    for (suffix, t) in snapshot_screens(build) {
        insta::assert_snapshot!(format!("{name}_{suffix}"), t.backend());
    }
}

fn screen_text(m: &Model, w: u16, h: u16) -> String {
    format!("{:?}", render(m, w, h).backend())
}

/// Logged in with `perms`, today's count at `used` of 50.
fn logged_in_at(perms: Permissions, used: u32, lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, perms);
    m.session.as_mut().unwrap().quota = quota(used);
    m
}

/// A police check by PESEL with its case reference, Enter pressed.
fn police_check(m: &mut Model) -> Vec<Command> {
    typed(m, PESEL);
    // PESEL → document → purpose → case reference.
    for _ in 0..3 {
        key(m, Key::Tab);
    }
    typed(m, CASE);
    key(m, Key::Enter)
}

fn police_offer(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in_at(police_break_glass(), 50, lang, profile);
    let cmds = police_check(&mut m);
    assert!(cmds.is_empty(), "nothing is sent at the limit: {cmds:?}");
    m
}

fn police_form(lang: Lang, profile: Profile) -> Model {
    let mut m = police_offer(lang, profile);
    assert!(key(&mut m, Key::Char('b')).is_empty());
    typed(&mut m, WHY);
    m
}

fn police_form_empty(lang: Lang, profile: Profile) -> Model {
    let mut m = police_offer(lang, profile);
    key(&mut m, Key::Char('B'));
    typed(&mut m, "   ");
    assert!(key(&mut m, Key::Enter).is_empty());
    m
}

fn police_flagged(lang: Lang, profile: Profile) -> Model {
    let mut m = police_form(lang, profile);
    let cmds = key(&mut m, Key::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::BreakGlass(_)]),
        "{cmds:?}"
    );
    update(
        &mut m,
        Msg::BrokeGlass(Ok(completed(document(DocumentStatus::Valid, true)))),
    );
    m
}

fn police_refused_detail(lang: Lang, profile: Profile) -> Model {
    let mut m = police_form(lang, profile);
    key(&mut m, Key::Enter);
    let mut p = Problem::new(ErrorCode::InvalidRequest, 400);
    p.detail = Some("the justification is longer than 500 characters".into());
    update(&mut m, Msg::BrokeGlass(Err(Failure::Problem(p))));
    m
}

fn police_cap_reached(lang: Lang, profile: Profile) -> Model {
    let mut m = police_form(lang, profile);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::BrokeGlass(Err(problem(ErrorCode::BreakGlassLimitReached, 429))),
    );
    m
}

/// A medic's consent check refused with `code`.
fn medic_refused_with(code: ErrorCode, perms: Permissions, lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, perms);
    typed(&mut m, PESEL);
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(cmds.as_slice(), [Command::Start(_)]), "{cmds:?}");
    update(&mut m, Msg::Started(Err(problem(code, 409))));
    m
}

fn medic_offer(lang: Lang, profile: Profile) -> Model {
    medic_refused_with(ErrorCode::NotActivated, emergency(), lang, profile)
}

fn medic_awaiting(lang: Lang, profile: Profile) -> Model {
    let mut m = logged_in(lang, profile, emergency());
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Started(Ok(awaiting_verification())));
    m
}

#[test]
fn snapshots_of_the_break_glass_screens() {
    snap("bg_offer_limit", police_offer);
    snap("bg_offer_no_code", medic_offer);
    snap("bg_awaiting", medic_awaiting);
    snap("bg_form", police_form);
    snap("bg_form_empty", police_form_empty);
    snap("bg_form_refused_detail", police_refused_detail);
    snap("bg_cap_reached", police_cap_reached);
    snap("bg_result_flagged", police_flagged);
}

#[test]
fn police_at_the_limit_are_offered_break_glass_instead_of_the_check_that_would_lock() {
    let m = police_offer(Lang::En, Profile::Handheld);
    let Screen::BreakGlassOffer(o) = &m.screen else {
        panic!("expected the offer, got {:?}", m.screen);
    };
    assert_eq!(o.note, Note::AtDailyLimit);
    assert_eq!(o.overrides, Overrides::DailyLimit);
    assert!(screen_text(&m, 40, 16).contains("B break glass"));
    // Enter (or Esc) leaves it: a fresh form, nothing sent.
    let mut m = m;
    assert!(key(&mut m, Key::Enter).is_empty());
    assert!(matches!(m.screen, Screen::Query(_)));
}

#[test]
fn the_break_glass_repeats_the_refused_check_with_the_justification_and_is_flagged() {
    for profile in [Profile::Handheld, Profile::Desktop] {
        let mut m = police_form(Lang::En, profile);
        let cmds = key(&mut m, Key::Enter);
        let [Command::BreakGlass(req)] = cmds.as_slice() else {
            panic!("expected one break-glass, got {cmds:?}");
        };
        assert_eq!(req.subject.pesel.as_deref(), Some(PESEL));
        assert_eq!(req.document, DocumentType::IdCard);
        assert_eq!(req.purpose, "operational_check");
        assert_eq!(req.case_reference.as_deref(), Some(CASE));
        assert_eq!(req.photo, Some(photo_fit(profile)));
        assert_eq!(req.justification, WHY);
        assert!(m.busy, "a second Enter is ignored while it is sent");
        assert!(key(&mut m, Key::Enter).is_empty());

        update(
            &mut m,
            Msg::BrokeGlass(Ok(completed(document(DocumentStatus::Valid, false)))),
        );
        let Screen::Result(shown) = &m.screen else {
            panic!("expected the document, got {:?}", m.screen);
        };
        assert!(shown.break_glass, "the released document is flagged");
        assert!(m.holds_document());
        assert_eq!(m.session.as_ref().unwrap().quota, quota(4));
    }
    let m = police_flagged(Lang::En, Profile::Handheld);
    let text = screen_text(&m, 80, 24);
    assert!(
        text.contains("EMERGENCY / break-glass — awaiting countersign"),
        "{text}"
    );
    let m = police_flagged(Lang::Pl, Profile::Desktop);
    assert!(screen_text(&m, 80, 24).contains("AWARYJNY"));
}

#[test]
fn esc_on_the_form_sends_nothing_and_an_empty_justification_is_refused_here() {
    let mut m = police_form(Lang::En, Profile::Desktop);
    assert!(key(&mut m, Key::Esc).is_empty());
    assert!(matches!(m.screen, Screen::Query(_)));

    let m = police_form_empty(Lang::En, Profile::Desktop);
    assert!(matches!(m.screen, Screen::BreakGlassForm(_)));
    assert_eq!(m.note(), Some(Note::NeedJustification));
    assert!(!m.busy);
}

#[test]
fn the_justification_is_capped_at_the_policy_default_and_counted() {
    let mut m = police_offer(Lang::En, Profile::Desktop);
    key(&mut m, Key::Char('b'));
    typed(&mut m, &"x".repeat(JUSTIFICATION_MAX + 40));
    let Screen::BreakGlassForm(f) = &m.screen else {
        panic!("expected the form");
    };
    assert_eq!(f.justification.value().chars().count(), JUSTIFICATION_MAX);
    assert!(screen_text(&m, 80, 24).contains("500/500"));
}

#[test]
fn the_form_says_the_brokers_terms_and_caps_at_its_length() {
    let mut perms = police_break_glass();
    perms.break_glass_terms = Some(okaz_protocol::BreakGlassTerms {
        deadline_hours: 6,
        per_day: 1,
        justification_max_chars: 120,
    });
    let mut m = logged_in_at(perms, 50, Lang::En, Profile::Desktop);
    assert!(police_check(&mut m).is_empty());
    key(&mut m, Key::Char('b'));
    typed(&mut m, &"x".repeat(200));
    let Screen::BreakGlassForm(f) = &m.screen else {
        panic!("expected the form");
    };
    assert_eq!(f.justification.value().chars().count(), 120);
    let text = screen_text(&m, 80, 24);
    assert!(text.contains("120/120"), "{text}");
    assert!(
        text.contains("within 6 h") && text.contains("At most 1 a day"),
        "{text}"
    );
    // From a broker that gives no terms: the default length, no numbers.
    let mut perms = police_break_glass();
    perms.break_glass_terms = None;
    let mut m = logged_in_at(perms, 50, Lang::En, Profile::Desktop);
    assert!(police_check(&mut m).is_empty());
    key(&mut m, Key::Char('b'));
    assert!(screen_text(&m, 80, 24).contains(&format!("0/{JUSTIFICATION_MAX}")));
    assert!(screen_text(&m, 80, 24).contains("the policy's hours"));
}

#[test]
fn not_offered_to_a_role_without_break_glass_or_for_a_refusal_it_cannot_override() {
    // Police without break-glass at the limit: the check is sent as before.
    let mut m = logged_in_at(police_patrol(), 50, Lang::En, Profile::Handheld);
    let cmds = police_check(&mut m);
    assert!(matches!(cmds.as_slice(), [Command::Start(_)]), "{cmds:?}");
    // Police with break-glass within the limit: sent, and no copy is kept.
    let mut m = logged_in_at(police_break_glass(), 49, Lang::En, Profile::Handheld);
    let cmds = police_check(&mut m);
    assert!(matches!(cmds.as_slice(), [Command::Start(_)]), "{cmds:?}");
    let Screen::Query(form) = &m.screen else {
        panic!("expected the form");
    };
    assert!(form.sent.is_none());
    // The refusal past the limit locked the account: no offer, log in again.
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::DailyLimitExceeded, 429))),
    );
    assert!(matches!(
        m.screen,
        Screen::Notice(ref n) if n.next == Next::Login
    ));

    // A clerk whose citizen has not activated: a plain refusal.
    let m = medic_refused_with(ErrorCode::NotActivated, clerk(), Lang::En, Profile::Desktop);
    assert!(matches!(m.screen, Screen::Notice(_)), "{:?}", m.screen);
    assert!(!screen_text(&m, 80, 24).contains("break glass"));
    // A medic refused for a reason break-glass does not override.
    let m = medic_refused_with(
        ErrorCode::DocumentNotFound,
        emergency(),
        Lang::En,
        Profile::Desktop,
    );
    assert!(matches!(m.screen, Screen::Notice(_)), "{:?}", m.screen);
    // A clerk waiting for a code: B does nothing, and is not hinted.
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    assert!(key(&mut m, Key::Char('b')).is_empty());
    assert!(matches!(m.screen, Screen::Awaiting(_)));
    assert!(!screen_text(&m, 80, 24).contains("break glass"));
}

#[test]
fn a_medic_breaks_glass_after_no_code_can_be_had_or_while_waiting_for_one() {
    for code in [
        ErrorCode::NotActivated,
        ErrorCode::NoContact,
        ErrorCode::SmsUnavailable,
    ] {
        let mut m = medic_refused_with(code, emergency(), Lang::En, Profile::Desktop);
        let Screen::BreakGlassOffer(o) = &m.screen else {
            panic!("{code}: expected the offer, got {:?}", m.screen);
        };
        assert_eq!(o.note, Note::Refused(code, None));
        assert_eq!(o.overrides, Overrides::NoCode);
        key(&mut m, Key::Char('b'));
        typed(&mut m, "unconscious after a road accident");
        let cmds = key(&mut m, Key::Enter);
        let [Command::BreakGlass(req)] = cmds.as_slice() else {
            panic!("expected one break-glass, got {cmds:?}");
        };
        assert_eq!(req.subject.pesel.as_deref(), Some(PESEL));
        assert_eq!(req.purpose, "identity_confirmation");
        assert_eq!(req.case_reference, None);
    }

    // Waiting for a code the citizen cannot read out: B withdraws the
    // challenge and opens the form.
    let mut m = medic_awaiting(Lang::En, Profile::Desktop);
    assert!(screen_text(&m, 80, 24).contains("B break glass"));
    let cmds = key(&mut m, Key::Char('B'));
    assert!(
        matches!(cmds.as_slice(), [Command::Cancel { id }] if id == "v-1"),
        "{cmds:?}"
    );
    let Screen::BreakGlassForm(f) = &m.screen else {
        panic!("expected the form, got {:?}", m.screen);
    };
    assert_eq!(f.overrides, Overrides::NoCode);
    assert_eq!(f.check.request().document, DocumentType::IdCard);
}

#[test]
fn refusals_of_the_break_glass_are_shown_with_their_words() {
    // Today's break-glass uses are spent: a refusal to acknowledge.
    let m = police_cap_reached(Lang::En, Profile::Desktop);
    assert!(matches!(m.screen, Screen::Notice(ref n) if n.next == Next::Query));
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::BreakGlassLimitReached, None))
    );
    assert!(screen_text(&m, 80, 24).contains("No more emergency overrides today"));
    // Not permitted: likewise.
    let mut m = police_form(Lang::En, Profile::Desktop);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::BrokeGlass(Err(problem(ErrorCode::NotPermitted, 403))),
    );
    assert_eq!(m.note(), Some(Note::Refused(ErrorCode::NotPermitted, None)));
    // A locked account: to the login form after the notice.
    let mut m = police_form(Lang::En, Profile::Desktop);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::BrokeGlass(Err(problem(ErrorCode::AccountLocked, 423))),
    );
    assert!(matches!(m.screen, Screen::Notice(ref n) if n.next == Next::Login));
    // Invalid request: the form stays, with the broker's detail, to fix.
    let m = police_refused_detail(Lang::En, Profile::Desktop);
    let Screen::BreakGlassForm(f) = &m.screen else {
        panic!("expected the form, got {:?}", m.screen);
    };
    assert_eq!(f.justification.value(), WHY);
    assert_eq!(f.note, Some(Note::Refused(ErrorCode::InvalidRequest, None)));
    assert!(screen_text(&m, 80, 24).contains("longer than 500"));
}

#[test]
fn an_answer_for_a_form_that_is_gone_is_dropped_with_its_document() {
    let mut m = police_form(Lang::En, Profile::Desktop);
    key(&mut m, Key::Enter);
    // F10 works while busy: logged out before the answer comes.
    key(&mut m, Key::F(10));
    update(
        &mut m,
        Msg::BrokeGlass(Ok(completed(document(DocumentStatus::Valid, false)))),
    );
    assert!(matches!(m.screen, Screen::Login(_)));
    assert!(!m.holds_document());
}
