//! A police officer at the daily limit breaks glass from the handheld
//! terminal, under tmux at 40x16 (real binaries, the kit's broker,
//! PostgreSQL and sandbox): the check that would lock the account is not
//! sent; B opens the form, the justification is typed, and the document
//! shows flagged. The broker then holds a pending break-glass for that
//! officer, and the audit a `break_glass_used`.

use std::time::Duration;

use okaz_core::audit::AuditEvent;
use okaz_tests::tmux::Tmux;
use okaz_tests::{binary, openapi, Kit, Options};
use serde_json::json;

/// Bound on each wait for the screen; never an assertion on a fixed sleep.
const WAIT: Duration = Duration::from_secs(20);

const CASE: &str = "RSD-2026/0042";
const WHY: &str = "suspect fleeing, identity needed now";

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_police_officer_at_the_limit_breaks_glass_at_40x16_and_sees_the_flagged_document() {
    let mut opts = Options::with_police_passwords();
    opts.policy_edits
        .push(("daily_limit = 200".into(), "daily_limit = 1".into()));
    let kit = Kit::start_with(opts).await;
    let police = kit.officer("police", "KMP-Krakow").await;
    let driver = kit.citizen(&["adult", "valid_id"]).await;

    // The day's one check, made through the API: the limit is reached.
    let token = kit.login(&police).await;
    let r = kit
        .post_check(
            &token,
            json!({"subject": {"pesel": driver.pesel}, "document": "id_card",
                   "purpose": "operational_check", "case_reference": CASE}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // `GET /v1/me` says the role may break glass, as documented.
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(me.body["permissions"]["break_glass"], true, "{}", me.body);
    // With the policy's terms, which the form says before the officer commits.
    let terms = &me.body["permissions"]["break_glass_terms"];
    assert_eq!(
        (
            terms["deadline_hours"].as_u64(),
            terms["per_day"].as_u64(),
            terms["justification_max_chars"].as_u64()
        ),
        (Some(12), Some(2), Some(500)),
        "{}",
        me.body
    );
    assert_eq!(me.body["quota"]["used"], 1);
    let doc = std::fs::read_to_string(okaz_tests::workspace().join("docs/openapi.yaml")).unwrap();
    openapi::check(&doc, "GET", "/v1/me", &me).unwrap();
    assert!(
        doc.contains("break_glass: { type: boolean"),
        "Permissions documents break_glass"
    );

    let ca = kit.dir.path().join("broker.pem");
    std::fs::write(&ca, &kit.broker_cert).unwrap();
    let tmux = Tmux::start(40, 16);
    tmux.run(&format!(
        "{} --broker {} --ca {} --profile handheld --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&kit.broker_url),
        q(&ca.display().to_string()),
    ));
    tmux.wait_for_text("Log in", WAIT);
    // A fresh TOTP step: the API login above used the current one.
    kit.clock.advance(chrono::Duration::seconds(30));
    tmux.type_text(&police.login);
    tmux.press(&["Tab"]);
    tmux.type_text(&police.password);
    tmux.press(&["Tab"]);
    tmux.type_text(&kit.totp(&police));
    tmux.press(&["Enter"]);
    tmux.wait_for("the query form at 1/1", WAIT, |s| {
        s.contains("Look up by") && s.contains("1/1")
    });

    // PESEL, then document and purpose as offered, then the case reference.
    tmux.type_text(&driver.pesel);
    tmux.press(&["Tab", "Tab", "Tab"]);
    tmux.type_text(CASE);
    tmux.press(&["Enter"]);
    let offer = tmux.wait_for("the break-glass offer", WAIT, |s| {
        s.contains("Daily limit reached") && s.contains("B break glass")
    });
    assert!(!offer.contains(&driver.pesel), "{offer}");

    tmux.press(&["b"]);
    tmux.wait_for("the break-glass form", WAIT, |s| {
        s.contains("Justification 0/500") && s.contains("within 12 h") && s.contains("locks your")
    });
    tmux.type_text(WHY);
    tmux.wait_for_text(&format!("Justification {}/500", WHY.len()), WAIT);
    tmux.press(&["Enter"]);

    let shown = tmux.wait_for("the flagged document", WAIT, |s| {
        s.contains("EMERGENCY") && s.contains("countersign") && s.contains("Clears in")
    });
    assert!(!shown.contains(&driver.pesel), "{shown}");

    // The broker holds it pending for the unit's supervisors…
    let list = kit.broker.break_glass_of("KMP-Krakow").await.unwrap();
    let mine: Vec<_> = list.iter().filter(|b| b.officer.id == police.id).collect();
    assert_eq!(mine.len(), 1, "{list:?}");
    assert_eq!(mine[0].status, "pending");
    assert_eq!(mine[0].overrides, "daily_limit");
    assert_eq!(mine[0].justification, WHY);
    assert_eq!(mine[0].case_reference.as_deref(), Some(CASE));
    // …the audit has its use, and the account is not locked.
    let audit = kit.store.audit_chain(&police.id).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.entry.event == AuditEvent::BreakGlassUsed),
        "no break_glass_used in the audit"
    );
    let officer = kit.store.officer_by_id(&police.id).await.unwrap().unwrap();
    assert!(officer.locked.is_none(), "the account stays unlocked");

    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}
