//! A supervisor is alerted on screen at once: the medics' coordinator is
//! logged in on the terminal (under tmux, real binaries, the kit's broker,
//! PostgreSQL and sandbox), a medic of the same unit breaks glass through
//! the API, and the banner appears on the coordinator's screen by itself,
//! without a key pressed; F5 lists the break-glass to countersign.

use std::time::Duration;

use okaz_tests::tmux::Tmux;
use okaz_tests::{binary, Kit};

/// Bound on each wait for the screen; never an assertion on a fixed sleep.
const WAIT: Duration = Duration::from_secs(20);

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_glass_shows_on_the_supervisors_screen_without_a_key_pressed() {
    let kit = Kit::start().await;
    let medic = kit.officer("emergency", "PRM-Krakow").await;
    let lead = kit.officer("emergency_admin", "PRM-Krakow").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;

    let ca = kit.dir.path().join("broker.pem");
    std::fs::write(&ca, &kit.broker_cert).unwrap();
    let tmux = Tmux::start(80, 24);
    // The watch's interval, shortened for the test only (15 s otherwise).
    tmux.run(&format!(
        "OKAZ_TEST_WATCH_SECONDS=1 {} --broker {} --ca {} --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&kit.broker_url),
        q(&ca.display().to_string()),
    ));
    tmux.wait_for_text("Log in", WAIT);
    tmux.type_text(&lead.login);
    tmux.press(&["Tab"]);
    tmux.type_text(&lead.password);
    tmux.press(&["Tab"]);
    tmux.type_text(&kit.totp(&lead));
    tmux.press(&["Enter"]);
    let before = tmux.wait_for("the coordinator's query screen", WAIT, |s| {
        s.contains("PRM-Krakow") && s.contains("Check a document")
    });
    assert!(!before.contains("awaiting countersign"), "{before}");

    // A fresh TOTP step for the medic's API login.
    kit.clock.advance(chrono::Duration::seconds(30));
    let token = kit.login(&medic).await;
    let r = kit
        .break_glass(&token, &citizen.pesel, "unconscious after a road accident")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // No key is pressed: the banner comes by itself.
    let alerted = tmux.wait_for("the break-glass banner", WAIT, |s| {
        s.contains("1 break-glass awaiting countersign")
    });
    assert!(alerted.contains("F5"), "{alerted}");
    assert!(!alerted.contains(&citizen.pesel), "{alerted}");
    tmux.press(&["F5"]);
    tmux.wait_for("the break-glass list", WAIT, |s| {
        s.contains(&medic.login) || s.contains("awaiting sign")
    });
    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}
