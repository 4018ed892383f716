//! The state machine driven through `update` alone: every answer of the
//! broker leads to the right screen, and documents never outstay their time.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Duration;
use common::*;
use okaz_protocol::{DocumentStatus, ErrorCode, Problem};
use okaz_terminal::i18n::{Lang, Note};
use okaz_terminal::msg::{LoggedIn, ALL_CODES};
use okaz_terminal::profile::Profile;
use okaz_terminal::screens::notice::Next;
use okaz_terminal::{update, Command, Failure, Key, Model, Msg, Screen};

fn clerk_model() -> Model {
    logged_in(Lang::En, Profile::Desktop, clerk())
}

fn screen_name(m: &Model) -> &'static str {
    match &m.screen {
        Screen::Login(_) => "login",
        Screen::Query(_) => "query",
        Screen::Awaiting(_) => "awaiting",
        Screen::Result(_) => "result",
        Screen::Parts(_) => "parts",
        Screen::Notice(n) if n.next == Next::Login => "notice->login",
        Screen::Notice(_) => "notice->query",
        Screen::Lockouts(_) => "lockouts",
        Screen::Unlock(_) => "unlock",
        Screen::Audit(_) => "audit",
        Screen::Officers(_) => "officers",
        Screen::NewOfficer(_) => "new_officer",
        Screen::AccountReason(_) => "account_reason",
        Screen::Certificate(_) => "certificate",
        Screen::Export(_) => "export",
        Screen::Secret(_) => "secret",
        Screen::BreakGlass(_) => "break_glass",
        Screen::Signals(_) => "signals",
        Screen::Disputes(_) => "disputes",
        Screen::BreakGlassOffer(_) => "break_glass_offer",
        Screen::BreakGlassForm(_) => "break_glass_form",
    }
}

#[test]
fn login_submits_then_fetches_permissions_then_shows_the_query_form() {
    let mut m = Model::new(Lang::En, Profile::Desktop, t0());
    typed(&mut m, "akowalska");
    key(&mut m, Key::Tab);
    typed(&mut m, "secret");
    key(&mut m, Key::Tab);
    typed(&mut m, "123456");
    let cmds = key(&mut m, Key::Enter);
    match cmds.as_slice() {
        [Command::Login(r)] => {
            assert_eq!(
                (r.login.as_str(), r.password.as_str(), r.totp.as_str()),
                ("akowalska", "secret", "123456")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(m.busy);
    if let Screen::Login(f) = &m.screen {
        assert!(
            f.password.is_empty() && f.totp.is_empty(),
            "secrets wiped from the form"
        );
    }
    let cmds = update(
        &mut m,
        Msg::LoggedIn(Ok(LoggedIn {
            officer: officer(),
            quota: quota(3),
            expires_at: t0() + Duration::hours(8),
        })),
    );
    assert!(matches!(cmds.as_slice(), [Command::FetchMe]));
    let cmds = update(
        &mut m,
        Msg::Me(Ok(okaz_protocol::Me {
            officer: officer(),
            quota: quota(3),
            permissions: clerk(),
        })),
    );
    assert!(cmds.is_empty());
    assert_eq!(screen_name(&m), "query");
    assert_eq!(m.session.as_ref().map(|s| s.quota.used), Some(3));
}

#[test]
fn enter_on_an_incomplete_login_moves_to_the_empty_field() {
    let mut m = Model::new(Lang::En, Profile::Desktop, t0());
    typed(&mut m, "akowalska");
    assert!(key(&mut m, Key::Enter).is_empty());
    let Screen::Login(f) = &m.screen else {
        panic!()
    };
    assert_eq!(f.focus, okaz_terminal::screens::login::Focus::Password);
}

#[test]
fn login_refusals_stay_on_the_login_form_with_words() {
    for f in [
        problem(ErrorCode::InvalidCredentials, 401),
        problem(ErrorCode::AccountLocked, 423),
        problem(ErrorCode::LoginThrottled, 429),
        Failure::Network,
        Failure::Http(502),
    ] {
        let mut m = Model::new(Lang::En, Profile::Desktop, t0());
        let note = f.note();
        update(&mut m, Msg::LoggedIn(Err(f)));
        assert_eq!(screen_name(&m), "login");
        assert_eq!(m.note(), Some(note));
        assert!(m.session.is_none() && !m.busy);
    }
}

#[test]
fn a_failed_me_goes_back_to_login_and_forgets_the_session() {
    let mut m = Model::new(Lang::En, Profile::Desktop, t0());
    update(
        &mut m,
        Msg::LoggedIn(Ok(LoggedIn {
            officer: officer(),
            quota: quota(0),
            expires_at: t0(),
        })),
    );
    let cmds = update(&mut m, Msg::Me(Err(Failure::Network)));
    assert!(matches!(cmds.as_slice(), [Command::Logout]));
    assert_eq!(screen_name(&m), "login");
    assert!(m.session.is_none());
}

#[test]
fn an_invalid_pesel_cannot_be_submitted() {
    let mut m = clerk_model();
    typed(&mut m, "44051401358");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedValidPesel));
    assert_eq!(screen_name(&m), "query");
}

#[test]
fn the_request_carries_the_chosen_document_and_purpose() {
    let mut m = clerk_model();
    typed(&mut m, PESEL);
    key(&mut m, Key::Tab);
    key(&mut m, Key::Right);
    key(&mut m, Key::Tab);
    key(&mut m, Key::Right);
    let cmds = key(&mut m, Key::Enter);
    let [Command::Start(r)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(r.subject.pesel.as_deref(), Some(PESEL));
    assert_eq!(r.document, okaz_protocol::DocumentType::DrivingLicence);
    assert_eq!(r.purpose, "age_check");
    assert_eq!(r.case_reference, None);
}

#[test]
fn police_need_a_case_reference() {
    let mut m = logged_in(Lang::En, Profile::Handheld, police());
    typed(&mut m, PESEL);
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::NeedCaseRef));
    typed(&mut m, "RSD-123/26");
    let cmds = key(&mut m, Key::Enter);
    let [Command::Start(r)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(r.case_reference.as_deref(), Some("RSD-123/26"));
    // Police checks need no code: the broker answers with the document.
    update(
        &mut m,
        Msg::Started(Ok(completed(document(DocumentStatus::Valid, false)))),
    );
    assert_eq!(screen_name(&m), "result");
}

#[test]
fn awaiting_code_answer_shows_the_waiting_screen_and_clears_the_pesel() {
    let m = at_awaiting(Lang::En, Profile::Desktop);
    let Screen::Awaiting(a) = &m.screen else {
        panic!()
    };
    assert_eq!(a.id, "v-1");
    assert_eq!(a.attempts_left, Some(3));
    assert_eq!(a.sent_to, "+48 *** *** 789");
    assert_eq!(m.session.as_ref().map(|s| s.quota.used), Some(4));
}

/// Where each refusal of `POST /v1/verifications` leads.
fn expected_after_start(code: ErrorCode) -> &'static str {
    use ErrorCode as E;
    match code {
        E::InvalidPesel
        | E::InvalidRequest
        | E::InvalidDocumentNumber
        | E::CaseReferenceRequired
        | E::NotPermitted
        | E::PayloadTooLarge => "query",
        E::SessionExpired => "login",
        E::AccountLocked | E::DailyLimitExceeded => "notice->login",
        _ => "notice->query",
    }
}

#[test]
fn every_refusal_of_a_start_leads_to_the_right_screen() {
    for code in ALL_CODES {
        let mut m = clerk_model();
        typed(&mut m, PESEL);
        key(&mut m, Key::Enter);
        let mut p = Problem::new(code, 409);
        p.quota = Some(quota(9));
        let cmds = update(&mut m, Msg::Started(Err(Failure::Problem(p))));
        assert_eq!(screen_name(&m), expected_after_start(code), "{code}");
        assert_eq!(m.note(), Some(Note::Refused(code, None)), "{code}");
        assert!(!m.busy);
        if code == ErrorCode::SessionExpired {
            assert!(matches!(cmds.as_slice(), [Command::Logout]));
            assert!(m.session.is_none());
        } else {
            assert_eq!(
                m.session.as_ref().map(|s| s.quota.used),
                Some(9),
                "quota from the problem"
            );
        }
    }
}

#[test]
fn a_locked_account_notice_logs_out_on_enter() {
    let mut m = clerk_model();
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(
        &mut m,
        Msg::Started(Err(problem(ErrorCode::DailyLimitExceeded, 423))),
    );
    let cmds = key(&mut m, Key::Enter);
    assert!(matches!(cmds.as_slice(), [Command::Logout]));
    assert_eq!(screen_name(&m), "login");
}

#[test]
fn a_dropped_connection_on_start_is_a_notice_not_a_crash() {
    let mut m = clerk_model();
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    update(&mut m, Msg::Started(Err(Failure::Network)));
    assert_eq!(screen_name(&m), "notice->query");
    assert_eq!(m.note(), Some(Note::Network));
    key(&mut m, Key::Enter);
    assert_eq!(screen_name(&m), "query");
    let Screen::Query(q) = &m.screen else {
        panic!()
    };
    assert!(q.pesel.is_empty(), "a new query starts empty");
}

/// Where each refusal of `POST /v1/verifications/{id}/code` leads.
fn expected_after_code(code: ErrorCode) -> &'static str {
    use ErrorCode as E;
    match code {
        E::WrongCode => "awaiting",
        E::SessionExpired => "login",
        E::AccountLocked | E::DailyLimitExceeded => "notice->login",
        _ => "notice->query",
    }
}

#[test]
fn every_refusal_of_a_code_leads_to_the_right_screen() {
    for code in ALL_CODES {
        let mut m = at_awaiting(Lang::En, Profile::Desktop);
        typed(&mut m, "654321");
        let cmds = key(&mut m, Key::Enter);
        assert!(
            matches!(cmds.as_slice(), [Command::SubmitCode { id, code, .. }] if id == "v-1" && code == "654321")
        );
        let mut p = Problem::new(code, 422);
        p.attempts_left = Some(2);
        update(&mut m, Msg::CodeChecked(Err(Failure::Problem(p))));
        assert_eq!(screen_name(&m), expected_after_code(code), "{code}");
    }
}

#[test]
fn a_wrong_code_shows_attempts_left_and_the_last_one_ends_the_check() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    let mut p = Problem::new(ErrorCode::WrongCode, 422);
    p.attempts_left = Some(1);
    typed(&mut m, "111111");
    key(&mut m, Key::Enter);
    update(&mut m, Msg::CodeChecked(Err(Failure::Problem(p.clone()))));
    let Screen::Awaiting(a) = &m.screen else {
        panic!()
    };
    assert_eq!(a.attempts_left, Some(1));
    assert!(a.code.is_empty());
    assert_eq!(m.note(), Some(Note::Refused(ErrorCode::WrongCode, Some(1))));
    p.attempts_left = Some(0);
    typed(&mut m, "222222");
    key(&mut m, Key::Enter);
    update(&mut m, Msg::CodeChecked(Err(Failure::Problem(p))));
    assert_eq!(screen_name(&m), "notice->query");
}

#[test]
fn a_dropped_connection_while_awaiting_keeps_the_challenge() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    update(&mut m, Msg::CodeChecked(Err(Failure::Network)));
    assert_eq!(screen_name(&m), "awaiting");
    assert_eq!(m.note(), Some(Note::Network));
}

#[test]
fn a_short_code_is_not_sent() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    typed(&mut m, "123");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::CodeIncomplete));
}

#[test]
fn the_right_code_shows_the_document() {
    let m = at_result(Lang::En, Profile::Desktop, DocumentStatus::Valid, true);
    let Screen::Result(s) = &m.screen else {
        panic!()
    };
    assert_eq!(s.status(), DocumentStatus::Valid);
    assert!(s.has_photo());
    assert_eq!(s.until, t0() + Duration::seconds(30));
}

#[test]
fn the_display_timer_clears_the_document() {
    let mut m = at_result(Lang::En, Profile::Desktop, DocumentStatus::Valid, true);
    update(&mut m, Msg::Tick(t0() + Duration::seconds(29)));
    assert!(m.holds_document());
    let cmds = update(&mut m, Msg::Tick(t0() + Duration::seconds(30)));
    assert!(cmds.is_empty());
    assert!(!m.holds_document());
    assert_eq!(screen_name(&m), "query");
    assert_eq!(m.note(), Some(Note::DocumentCleared));
}

#[test]
fn the_shorter_of_broker_and_policy_display_time_wins() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    let mut v = completed(document(DocumentStatus::Valid, false));
    v.display_until = Some(t0() + Duration::seconds(600));
    update(&mut m, Msg::CodeChecked(Ok(v)));
    let Screen::Result(s) = &m.screen else {
        panic!()
    };
    assert_eq!(s.until, t0() + Duration::seconds(30), "policy's 30 s");
    // A broker time already in the past (clock skew) does not hide it at once.
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    let mut v = completed(document(DocumentStatus::Valid, false));
    v.display_until = Some(t0() - Duration::seconds(5));
    update(&mut m, Msg::CodeChecked(Ok(v)));
    assert!(m.holds_document());
}

#[test]
fn a_new_query_clears_the_document() {
    let mut m = at_result(Lang::En, Profile::Desktop, DocumentStatus::Valid, true);
    key(&mut m, Key::Char('n'));
    assert!(!m.holds_document());
    assert_eq!(screen_name(&m), "query");
}

#[test]
fn idle_time_locks_the_terminal_and_clears_everything() {
    let mut m = at_result(Lang::En, Profile::Desktop, DocumentStatus::Valid, true);
    // Display time is 30 s, idle 300 s; make the display last longer to
    // see the idle lock clear the document itself.
    if let Screen::Result(s) = &mut m.screen {
        s.until = t0() + Duration::seconds(10_000);
    }
    update(&mut m, Msg::Tick(t0() + Duration::seconds(299)));
    assert!(m.holds_document());
    let cmds = update(&mut m, Msg::Tick(t0() + Duration::seconds(300)));
    assert!(matches!(cmds.as_slice(), [Command::Logout]));
    assert!(!m.holds_document());
    assert!(m.session.is_none());
    assert_eq!(m.note(), Some(Note::IdleLocked));
}

#[test]
fn keys_postpone_the_idle_lock() {
    let mut m = clerk_model();
    update(&mut m, Msg::Tick(t0() + Duration::seconds(200)));
    key(&mut m, Key::Char('4'));
    update(&mut m, Msg::Tick(t0() + Duration::seconds(450)));
    assert_eq!(screen_name(&m), "query");
    update(&mut m, Msg::Tick(t0() + Duration::seconds(500)));
    assert_eq!(screen_name(&m), "login");
}

#[test]
fn idle_lock_while_awaiting_withdraws_the_challenge() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    // expires_at is 5 min after t0 = the idle time: the idle lock comes first.
    let cmds = update(&mut m, Msg::Tick(t0() + Duration::seconds(300)));
    assert!(matches!(cmds.as_slice(), [Command::Cancel { id }, Command::Logout] if id == "v-1"));
    assert_eq!(screen_name(&m), "login");
}

#[test]
fn the_countdown_ends_the_challenge() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    update(&mut m, Msg::Tick(t0() + Duration::seconds(200)));
    key(&mut m, Key::Char('1'));
    update(&mut m, Msg::Tick(t0() + Duration::seconds(299)));
    assert_eq!(screen_name(&m), "awaiting");
    update(&mut m, Msg::Tick(t0() + Duration::seconds(301)));
    assert_eq!(screen_name(&m), "notice->query");
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::ChallengeExpired, None))
    );
}

#[test]
fn esc_cancels_the_challenge() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    let cmds = key(&mut m, Key::Esc);
    assert!(matches!(cmds.as_slice(), [Command::Cancel { id }] if id == "v-1"));
    assert_eq!(screen_name(&m), "query");
}

#[test]
fn f10_logs_out_and_ctrl_c_quits() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    let cmds = key(&mut m, Key::F(10));
    assert!(matches!(
        cmds.as_slice(),
        [Command::Cancel { .. }, Command::Logout]
    ));
    assert_eq!(m.note(), Some(Note::LoggedOut));
    assert!(matches!(
        key(&mut m, Key::F(10)).as_slice(),
        [Command::Quit]
    ));
    let mut m = clerk_model();
    assert!(matches!(
        key(&mut m, Key::Interrupt).as_slice(),
        [Command::Logout, Command::Quit]
    ));
}

#[test]
fn a_late_document_after_a_lock_is_dropped() {
    let mut m = at_awaiting(Lang::En, Profile::Desktop);
    typed(&mut m, "123456");
    key(&mut m, Key::Enter);
    key(&mut m, Key::F(10));
    update(
        &mut m,
        Msg::CodeChecked(Ok(completed(document(DocumentStatus::Valid, true)))),
    );
    assert_eq!(screen_name(&m), "login");
    assert!(!m.holds_document());
    // A late challenge is withdrawn.
    let mut m = clerk_model();
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    key(&mut m, Key::F(10));
    let cmds = update(&mut m, Msg::Started(Ok(awaiting_verification())));
    assert!(matches!(cmds.as_slice(), [Command::Cancel { .. }]));
}

#[test]
fn keys_are_ignored_while_waiting_for_the_broker() {
    let mut m = clerk_model();
    typed(&mut m, PESEL);
    key(&mut m, Key::Enter);
    assert!(m.busy);
    assert!(key(&mut m, Key::Enter).is_empty(), "no double submit");
}

#[test]
fn security_officer_unlocks_an_account() {
    let mut m = logged_in(Lang::En, Profile::Desktop, security());
    let cmds = key(&mut m, Key::F(2));
    assert!(matches!(cmds.as_slice(), [Command::Lockouts]));
    update(&mut m, Msg::Lockouts(Ok(lockouts())));
    key(&mut m, Key::Down);
    key(&mut m, Key::Char('u'));
    let Screen::Unlock(u) = &m.screen else {
        panic!()
    };
    assert_eq!(u.officer.id, "off-12");
    assert!(key(&mut m, Key::Enter).is_empty(), "a reason is required");
    assert_eq!(m.note(), Some(Note::NeedReason));
    typed(&mut m, "confirmed by phone");
    key(&mut m, Key::Tab);
    typed(&mut m, "5");
    let cmds = key(&mut m, Key::Enter);
    let [Command::Unlock { officer, request }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(officer, "off-12");
    assert_eq!(
        (request.reason.as_str(), request.extra_allowance),
        ("confirmed by phone", 5)
    );
    let cmds = update(&mut m, Msg::Unlocked(Ok(())));
    assert!(matches!(cmds.as_slice(), [Command::Lockouts]));
    assert_eq!(m.note(), Some(Note::Unlocked));
    update(
        &mut m,
        Msg::Lockouts(Err(problem(ErrorCode::NotPermitted, 403))),
    );
    assert_eq!(screen_name(&m), "lockouts");
    assert_eq!(m.note(), Some(Note::Refused(ErrorCode::NotPermitted, None)));
}

#[test]
fn security_officer_searches_the_audit() {
    let mut m = logged_in(Lang::En, Profile::Desktop, security());
    key(&mut m, Key::F(3));
    assert_eq!(screen_name(&m), "audit");
    typed(&mut m, "off-7");
    key(&mut m, Key::Tab);
    typed(&mut m, PESEL);
    key(&mut m, Key::Tab);
    typed(&mut m, "2026-03-01");
    key(&mut m, Key::Tab);
    typed(&mut m, "2026-13-01");
    assert!(key(&mut m, Key::Enter).is_empty());
    assert_eq!(m.note(), Some(Note::BadDate));
    for _ in 0..10 {
        key(&mut m, Key::Backspace);
    }
    typed(&mut m, "2026-03-02");
    let cmds = key(&mut m, Key::Enter);
    let [Command::Audit(q)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(q.officer.as_deref(), Some("off-7"));
    assert_eq!(q.pesel.as_deref(), Some(PESEL));
    update(&mut m, Msg::Audit(Ok(audit_records())));
    let Screen::Audit(a) = &m.screen else {
        panic!()
    };
    assert_eq!(a.results.as_ref().map(Vec::len), Some(3));
    update(
        &mut m,
        Msg::Audit(Err(problem(ErrorCode::SessionExpired, 401))),
    );
    assert_eq!(screen_name(&m), "login");
}

#[test]
fn only_security_officers_reach_admin_screens() {
    let mut m = clerk_model();
    assert!(key(&mut m, Key::F(2)).is_empty());
    assert!(key(&mut m, Key::F(3)).is_empty());
    assert_eq!(screen_name(&m), "query");
}

#[test]
fn the_end_of_shift_ends_the_session() {
    let mut m = at_result(Lang::En, Profile::Desktop, DocumentStatus::Valid, true);
    for minute in 1..8 * 60 {
        // Keys keep the terminal from idling; the shift still ends.
        update(&mut m, Msg::Tick(t0() + Duration::minutes(minute)));
        key(&mut m, Key::Char('x'));
    }
    assert!(m.session.is_some());
    let cmds = update(&mut m, Msg::Tick(t0() + Duration::hours(8)));
    assert!(matches!(cmds.as_slice(), [Command::Logout]));
    assert_eq!(
        m.note(),
        Some(Note::Refused(ErrorCode::SessionExpired, None))
    );
    assert!(m.session.is_none());
}

/// The text a model shows at `w`x`h`.
fn screen_text(m: &Model, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| okaz_terminal::view(m, f)).unwrap();
    let buf = t.backend().buffer().clone();
    buf.content().iter().map(|c| c.symbol()).collect()
}

#[test]
fn a_refusal_shows_the_request_id_to_quote_to_support_and_the_next_answer_clears_it() {
    for code in [ErrorCode::RegistryUnavailable, ErrorCode::NotActivated] {
        let mut m = clerk_model();
        typed(&mut m, PESEL);
        key(&mut m, Key::Enter);
        let mut p = Problem::new(code, 503);
        p.request_id = Some("req-7f3a".into());
        update(&mut m, Msg::Started(Err(Failure::Problem(p))));
        assert_eq!(m.request_id.as_deref(), Some("req-7f3a"));
        let text = screen_text(&m, 80, 24);
        assert!(text.contains("Reference: req-7f3a"), "{code}: {text}");
        // A problem without an id (or any other answer) shows none.
        update(&mut m, Msg::Started(Err(refused(ErrorCode::InvalidPesel))));
        assert_eq!(m.request_id, None);
        assert!(!screen_text(&m, 80, 24).contains("Reference:"));
    }
}
