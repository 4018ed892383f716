//! The terminal driven as a user would, under tmux: the real binaries at a
//! fixed screen size, keys typed, the screen read back.
//!
//! 1. `okaz-terminal` against the kit's broker, PostgreSQL and sandbox: log
//!    in with a TOTP code, check an ID card with the code from the citizen's
//!    phone, see the document, and see it cleared after the display time.
//! 2. `okaz demo` as a new user runs it: log in with what the panel shows,
//!    check a document with the code in the phone panel, quit cleanly.

use std::time::Duration;

use okaz_tests::tmux::{six_digits_after, Tmux};
use okaz_tests::{binary, Kit, Options};

/// Bound on each wait for the screen; never an assertion on a fixed sleep.
const WAIT: Duration = Duration::from_secs(20);
/// The demo starts registers, broker, migrations and three password hashes.
const DEMO_START: Duration = Duration::from_secs(60);

/// Whether the status band says VALID (drawn letter-spaced, in large text).
fn shows_valid(screen: &str) -> bool {
    screen.replace(' ', "").contains("VALID")
}

/// Shell-quotes one argument.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_checks_an_id_card_in_the_terminal_and_it_is_cleared_after_the_display_time() {
    let kit = Kit::start_with(Options {
        policy_edits: vec![("display_seconds = 60".into(), "display_seconds = 3".into())],
        ..Options::default()
    })
    .await;
    let officer = kit.officer("clerk", "USC-Tmux").await;
    let citizen = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let ca = kit.dir.path().join("broker.pem");
    std::fs::write(&ca, &kit.broker_cert).unwrap();
    let terminal = binary("okaz-terminal");

    let tmux = Tmux::start(100, 30);
    tmux.run(&format!(
        "{} --broker {} --ca {} --lang en; echo okaz-exit=$?",
        q(&terminal.display().to_string()),
        q(&kit.broker_url),
        q(&ca.display().to_string()),
    ));
    tmux.wait_for_text("Log in", WAIT);

    // Login, password and the code of the authenticator app.
    tmux.type_text(&officer.login);
    tmux.press(&["Tab"]);
    tmux.type_text(&officer.password);
    tmux.press(&["Tab"]);
    tmux.type_text(&kit.totp(&officer));
    tmux.press(&["Enter"]);
    // The header names the unit once logged in (and the query form is up).
    tmux.wait_for_text("USC-Tmux", WAIT);

    // ID card and identity confirmation are the form's first choices.
    tmux.type_text(&citizen.pesel);
    tmux.press(&["Enter"]);
    let sent_to = &phone[phone.len() - 3..];
    tmux.wait_for("the waiting screen with the masked phone", WAIT, |s| {
        s.contains(&format!("*** *** {sent_to}"))
    });

    // The citizen reads out the code from their phone.
    let code = kit.latest_code(&phone).await;
    tmux.type_text(&code);
    tmux.press(&["Enter"]);
    // The form's first purpose (age check) releases the given names, not
    // the surname.
    let given = citizen.name.split_whitespace().next().unwrap().to_string();
    let shown = tmux.wait_for("the document", WAIT, |s| {
        shows_valid(s) && s.contains(&given)
    });
    assert!(
        !shown.contains(&citizen.pesel),
        "the PESEL typed is no longer on screen once the document shows"
    );

    // After the display time (3 s here) the document is gone.
    let cleared = tmux.wait_for_text("Display time over", WAIT);
    assert!(!cleared.contains(&given), "cleared screen:\n{cleared}");
    assert!(!shows_valid(&cleared), "cleared screen:\n{cleared}");

    // Ctrl-C quits from anywhere and gives the shell back.
    tmux.press(&["C-c"]);
    let after = tmux.wait_for_text("okaz-exit=0", WAIT);
    assert!(!after.contains(&given));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_runs_the_demo_checks_a_document_with_the_code_on_the_phone_and_quits() {
    let okaz = binary("okaz");
    let tmux = Tmux::start(100, 30);
    tmux.run(&format!(
        "{} demo --lang en; echo okaz-exit=$?",
        q(&okaz.display().to_string())
    ));

    // The terminal opens with the login prefilled and the panel beside it.
    let screen = tmux.wait_for("the demo's login screen and panel", DEMO_START, |s| {
        s.contains("Log in") && s.contains("Citizen's phone") && s.contains("demo.clerk")
    });
    // The clerk's current code stands after their password in the panel.
    let clerk_code = screen
        .lines()
        .find_map(|l| {
            let at = l.rfind("demo.clerk ")?;
            let rest = &l[at + "demo.clerk ".len()..];
            let password = rest.split_whitespace().next()?;
            password
                .starts_with("demo-")
                .then(|| six_digits_after(rest, password))?
        })
        .unwrap_or_else(|| panic!("no code for demo.clerk in the panel:\n{screen}"));
    tmux.type_text(&clerk_code);
    tmux.press(&["Enter"]);
    tmux.wait_for_text("USC-Demo", WAIT);

    // The first sample citizen has a valid ID card.
    let screen = tmux.screen();
    let pesel = screen
        .lines()
        .find_map(|l| {
            let at = l.find(" ID valid")?;
            // The panel's border touches the PESEL: take the digits before the note.
            let before = &l[..at];
            let word = &before[before.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
            (word.len() == 11).then(|| word.to_string())
        })
        .unwrap_or_else(|| panic!("no sample citizen with a valid ID card:\n{screen}"));
    tmux.type_text(&pesel);
    tmux.press(&["Enter"]);

    // The SMS arrives on the citizen's phone, in the panel.
    let screen = tmux.wait_for("the SMS in the phone panel", WAIT, |s| {
        six_digits_after(s, "kod ").is_some()
    });
    let code = six_digits_after(&screen, "kod ").unwrap();
    tmux.type_text(&code);
    tmux.press(&["Enter"]);
    tmux.wait_for("the document", WAIT, |s| {
        shows_valid(s) && s.contains("Clears in")
    });
    // The citizen hears of the check at once: the notice reaches the same
    // phone (the demo runs notices as a deployment does).
    tmux.wait_for("the check's notice in the phone panel", WAIT, |s| {
        s.contains("okaz: powiadomienie")
    });

    // Quit: the demo stops everything, restores the screen and exits 0.
    tmux.press(&["C-c"]);
    let after = tmux.wait_for_text("okaz-exit=0", WAIT);
    assert!(after.contains("okaz demo stopped"), "{after}");
    // The primary screen is back: the banner printed before the terminal
    // opened, and no trace of the document.
    assert!(after.contains("sample citizens"), "{after}");
    assert!(!shows_valid(&after), "{after}");
}
