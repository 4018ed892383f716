//! Under tmux, real binaries: a security officer manages the unit's accounts
//! in the terminal (creates one and sees its password and TOTP URI once,
//! saves the lockouts CSV, with a clerk locked out for exceeding the daily
//! limit in it, to a file they name), and a police officer looks
//! an identity card up by its number on the 40x16 handheld.

use std::time::Duration;

use okaz_tests::tmux::Tmux;
use okaz_tests::{binary, Kit, Options};

/// Bound on each wait for the screen; never an assertion on a fixed sleep.
const WAIT: Duration = Duration::from_secs(20);

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn start_terminal(kit: &Kit, tmux: &Tmux, profile: &str) {
    let ca = kit.dir.path().join("broker.pem");
    std::fs::write(&ca, &kit.broker_cert).unwrap();
    tmux.run(&format!(
        "{} --broker {} --ca {} --profile {profile} --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&kit.broker_url),
        q(&ca.display().to_string()),
    ));
    tmux.wait_for_text("Log in", WAIT);
}

fn log_in(kit: &Kit, tmux: &Tmux, o: &okaz_tests::TestOfficer) {
    tmux.type_text(&o.login);
    tmux.press(&["Tab"]);
    tmux.type_text(&o.password);
    tmux.press(&["Tab"]);
    tmux.type_text(&kit.totp(o));
    tmux.press(&["Enter"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_officer_creates_an_account_and_saves_the_lockouts() {
    // A clerk's daily limit of 2, so that a third check locks the account.
    let kit = Kit::start_with(Options {
        policy_edits: vec![("daily_limit = 100".into(), "daily_limit = 2".into())],
        ..Options::default()
    })
    .await;
    let so = kit.officer("security_officer", "USC-Tmux").await;
    let clerk = kit.officer("clerk", "USC-Tmux").await;

    // A real lockout to export: the clerk exceeds the daily limit.
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let clerk_token = kit.login(&clerk).await;
    for _ in 0..2 {
        let r = kit
            .start_check(&clerk_token, &citizen.pesel, "id_card", "age_check")
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = kit
        .start_check(&clerk_token, &citizen.pesel, "id_card", "age_check")
        .await;
    r.assert_refused(423, "daily_limit_exceeded");
    let tmux = Tmux::start(80, 24);
    start_terminal(&kit, &tmux, "desktop");
    log_in(&kit, &tmux, &so);
    tmux.wait_for_text("F4 accounts", WAIT);

    tmux.press(&["F4"]);
    tmux.wait_for("the unit's accounts", WAIT, |s| {
        s.contains("Accounts of the unit") && s.contains(&clerk.login)
    });

    // A new clerk: login, name, role; the unit is the officer's own.
    tmux.type_text("n");
    tmux.wait_for_text("New account", WAIT);
    tmux.type_text("kwojcik-tmux");
    tmux.press(&["Tab"]);
    tmux.type_text("Katarzyna Wojcik");
    tmux.press(&["Tab"]);
    tmux.type_text("clerk");
    tmux.press(&["Enter"]);
    let shown = tmux.wait_for("the credentials shown once", WAIT, |s| {
        s.contains("Shown this once") && s.contains("otpauth://")
    });
    assert!(shown.contains("kwojcik-tmux"), "{shown}");
    // Enter leaves the credentials; the list now has the new account.
    tmux.press(&["Enter"]);
    tmux.wait_for("the list with the new account", WAIT, |s| {
        s.contains("Accounts of the unit") && s.contains("kwojcik-tmux")
    });
    let token = kit.login(&so).await;
    let accounts = kit.get("/v1/admin/officers", Some(&token)).await;
    let created =
        accounts.body.as_array().unwrap().iter().find(|a| {
            a["officer"]["login"] == "kwojcik-tmux" && a["officer"]["unit"] == "USC-Tmux"
        });
    assert!(created.is_some(), "{}", accounts.body);

    // The lockouts, saved to a file the officer names.
    let csv = kit.dir.path().join("lockouts.csv");
    tmux.type_text("e");
    tmux.wait_for_text("Export lockouts", WAIT);
    tmux.type_text(&csv.display().to_string());
    tmux.press(&["Enter"]);
    tmux.wait_for_text("Saved.", WAIT);
    let written = std::fs::read_to_string(&csv).unwrap();
    let expected = kit
        .get("/v1/admin/lockouts?format=csv", Some(&token))
        .await
        .text;
    assert_eq!(written, expected);
    // The file holds the clerk's lockout: one row under the header, naming
    // the officer, the unit, why and how many attempts, and nothing of the
    // citizen the checks were about.
    let lines: Vec<&str> = written.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.first().copied(),
        Some("officer_id,login,display_name,unit,locked_at,reason,attempts_today"),
        "{written}"
    );
    assert_eq!(lines.len(), 2, "the header and one lockout: {written}");
    // Every cell is quoted; none of these holds a comma or a quote.
    let cells: Vec<&str> = lines[1].split(',').map(|c| c.trim_matches('"')).collect();
    assert_eq!(cells.len(), 7, "{}", lines[1]);
    assert_eq!(
        (cells[0], cells[1], cells[3], cells[5], cells[6]),
        (
            clerk.id.as_str(),
            clerk.login.as_str(),
            "USC-Tmux",
            "daily_limit_exceeded",
            "3"
        ),
        "{}",
        lines[1]
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(cells[4]).is_ok(),
        "locked_at is a time: {}",
        lines[1]
    );
    assert!(!written.contains(&citizen.pesel), "{written}");
    if let Some(phone) = &citizen.phone {
        assert!(!written.contains(phone.as_str()), "{written}");
    }
    // Never overwritten: the same path again is refused.
    tmux.type_text("e");
    tmux.wait_for_text("Export lockouts", WAIT);
    tmux.type_text(&csv.display().to_string());
    tmux.press(&["Enter"]);
    tmux.wait_for_text("The file exists already", WAIT);

    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patrol_looks_an_identity_card_up_by_its_number_at_40x16() {
    let kit = Kit::start_with(Options::with_police_passwords()).await;
    let police = kit.officer("police", "KMP-Tmux").await;
    let holder = kit.citizen(&["adult"]).await;
    let tmux = Tmux::start(40, 16);
    start_terminal(&kit, &tmux, "handheld");
    log_in(&kit, &tmux, &police);
    tmux.wait_for_text("Look up by", WAIT);

    // Look up by: PESEL, plate, ID card number.
    tmux.press(&["BTab", "Right", "Right"]);
    tmux.wait_for_text("ID card number", WAIT);
    tmux.press(&["Tab"]);
    // A typo in the check digit is refused as typed, before sending.
    let mut typo = holder.id_card_number.clone().into_bytes();
    typo[3] = b'0' + (typo[3] - b'0' + 1) % 10;
    tmux.type_text(&String::from_utf8(typo).unwrap());
    tmux.wait_for_text("check digit wrong", WAIT);
    for _ in 0..9 {
        tmux.press(&["BSpace"]);
    }
    tmux.type_text(&holder.id_card_number.to_lowercase());
    tmux.wait_for_text(&format!("✔ {}", holder.id_card_number), WAIT);
    tmux.press(&["Tab", "Tab", "Tab"]);
    tmux.type_text("RSD-9/2026");
    tmux.press(&["Enter"]);
    let shown = tmux.wait_for("the identity card", WAIT, |s| {
        s.contains(&holder.id_card_number) && s.contains("Clears in")
    });
    assert!(!shown.contains(&holder.pesel), "{shown}");
    let audit = kit.store.audit_chain(&police.id).await.unwrap();
    let counted = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "attempt_counted")
        .count();
    assert_eq!(counted, 1, "the typo cost nothing");

    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}
