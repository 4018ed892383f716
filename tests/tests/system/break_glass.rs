//! Break-glass under countersign, and anomaly signals, through the real
//! broker (HTTPS, PostgreSQL, sandbox registers) with the kit's manual
//! clock: an emergency check released without a code is flagged and
//! audited; left unsigned past the policy's deadline it locks the officer,
//! countersigned in time it does not; a planted misuse shows up in the
//! security officer's signals.

use chrono::Duration;
use okaz_core::audit::{AuditEvent, Outcome};
use okaz_core::ports::AuditFilter;
use okaz_tests::{warsaw, Kit, Options, TestCitizen, TestOfficer};
use serde_json::{json, Value};

/// A medic, their service's administrator, an unconscious citizen (valid
/// ID, activated or not: nobody can read a code out).
async fn emergency(kit: &Kit) -> (TestOfficer, TestOfficer, TestCitizen) {
    let medic = kit.officer("emergency", "PRM-Krakow").await;
    let boss = kit.officer("emergency_admin", "PRM-Krakow").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    (medic, boss, citizen)
}

async fn break_glass(kit: &Kit, token: &str, citizen: &TestCitizen, justification: &str) -> Value {
    let r = kit.break_glass(token, &citizen.pesel, justification).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

/// The officer's records of a verification, by event and outcome.
async fn trail(kit: &Kit, officer: &str) -> Vec<(AuditEvent, Outcome, Option<String>)> {
    kit.store
        .audit_chain(officer)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.entry.event, r.entry.outcome, r.entry.reason))
        .collect()
}

async fn locked_reason(kit: &Kit, officer: &TestOfficer) -> Option<String> {
    kit.store
        .officer_by_id(&officer.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .map(|l| l.reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_glass_left_unsigned_locks_the_officer_after_the_deadline() {
    let kit = Kit::start_with(Options {
        start: warsaw("2026-11-20 03:10:00"),
        ..Options::default()
    })
    .await;
    let (medic, boss, citizen) = emergency(&kit).await;
    let token = kit.login(&medic).await;

    // Without a justification (or with only control characters): refused,
    // nothing released, nothing counted.
    let r = kit.break_glass(&token, &citizen.pesel, " \u{7}\n ").await;
    r.assert_refused(400, "invalid_request");

    // The citizen is unconscious: no code can be read out. The PESEL typed
    // into the justification by mistake never reaches the database.
    let typed = format!(
        "unconscious after a road accident, A4 km 12; id {}\u{1b}[31m",
        citizen.pesel
    );
    let v = break_glass(&kit, &token, &citizen, &typed).await;
    assert_eq!(v["status"], "completed");
    assert!(v["document"]["fields"]["surname"].is_string(), "{v}");
    let id = v["id"].as_str().unwrap().to_string();

    // The unit's supervisors see it at once: the list and the metric.
    let sec = kit.login(&boss).await;
    let list = kit.get("/v1/admin/break-glass", Some(&sec)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let bg = &list.body[0];
    assert_eq!(bg["id"], id.as_str());
    assert_eq!(bg["status"], "pending");
    assert_eq!(bg["overrides"], "no_code");
    assert_eq!(bg["officer"]["id"], medic.id.as_str());
    let kept = bg["justification"].as_str().unwrap();
    assert!(!kept.contains(&citizen.pesel), "{kept}");
    assert!(!kept.chars().any(char::is_control), "{kept:?}");
    assert!(
        kept.starts_with("unconscious after a road accident"),
        "{kept}"
    );
    let metrics = kit.ops_get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("okaz_break_glass_total{event=\"used\",overrides=\"no_code\"} 1"),
        "{}",
        metrics.text
    );

    // Flagged and audited: the use (with the cleaned justification) and
    // the release, whose outcome says break-glass.
    let medic_trail = trail(&kit, &medic.id).await;
    assert!(medic_trail
        .iter()
        .any(|(e, o, reason)| *e == AuditEvent::BreakGlassUsed
            && *o == Outcome::NoCode
            && reason.as_deref() == Some(kept)));
    assert!(medic_trail
        .iter()
        .any(|(e, o, _)| *e == AuditEvent::DocumentReleased && *o == Outcome::BreakGlass));

    // An hour before the deadline the sweeper does nothing.
    kit.clock.advance(Duration::hours(11));
    assert!(kit.broker.sweep_break_glass().await.unwrap().is_empty());
    assert_eq!(locked_reason(&kit, &medic).await, None);

    // Past the deadline (12 h): the officer is locked, on record.
    kit.clock.advance(Duration::hours(1) + Duration::minutes(1));
    let expired = kit.broker.sweep_break_glass().await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].id, id);
    assert_eq!(
        kit.broker.sweep_break_glass().await.unwrap().len(),
        0,
        "a second sweep (another replica) finds nothing left"
    );
    assert_eq!(
        locked_reason(&kit, &medic).await.as_deref(),
        Some("break_glass_unsigned")
    );
    let system: Vec<_> = trail(&kit, "system")
        .await
        .into_iter()
        .filter(|(e, _, _)| matches!(e, AuditEvent::BreakGlassExpired | AuditEvent::AccountLocked))
        .map(|(e, o, _)| (e, o))
        .collect();
    assert_eq!(
        system,
        vec![
            (AuditEvent::BreakGlassExpired, Outcome::BreakGlassUnsigned),
            (AuditEvent::AccountLocked, Outcome::BreakGlassUnsigned),
        ]
    );

    // Too late to countersign now; the lockout is the unit's to resolve.
    let sec = kit.login(&boss).await;
    let r = kit
        .post(
            &format!("/v1/admin/break-glass/{id}/decision"),
            Some(&sec),
            json!({"decision": "countersign", "reason": "late"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let list = kit.get("/v1/admin/break-glass", Some(&sec)).await;
    assert_eq!(list.body[0]["status"], "expired");
    let lockouts = kit.get("/v1/admin/lockouts", Some(&sec)).await;
    assert_eq!(lockouts.body[0]["reason"], "break_glass_unsigned");
    let r = kit
        .sign_in(&medic.login, &medic.password, &kit.totp(&medic))
        .await;
    r.assert_refused(423, "account_locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_countersigned_break_glass_does_not_lock_and_the_cap_holds() {
    // Early in the day, so all of this test falls on one business day.
    let kit = Kit::start_with(Options {
        start: warsaw("2026-11-20 03:00:00"),
        ..Options::default()
    })
    .await;
    let (medic, boss, citizen) = emergency(&kit).await;
    let token = kit.login(&medic).await;
    let v = break_glass(
        &kit,
        &token,
        &citizen,
        "patient unconscious, no ID card on them",
    )
    .await;
    let id = v["id"].as_str().unwrap().to_string();

    // Nobody countersigns their own, nor an office's security officer.
    let path = format!("/v1/admin/break-glass/{id}/decision");
    let other_admin = kit.officer("security_officer", "PRM-Krakow").await;
    let other = kit.login(&other_admin).await;
    let r = kit
        .post(
            &path,
            Some(&other),
            json!({"decision": "countersign", "reason": "ok"}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let elsewhere = kit.officer("emergency_admin", "PRM-Gdansk").await;
    let elsewhere = kit.login(&elsewhere).await;
    let r = kit
        .post(
            &path,
            Some(&elsewhere),
            json!({"decision": "countersign", "reason": "ok"}),
        )
        .await;
    assert_eq!(
        r.status, 404,
        "another unit's break-glass does not exist there"
    );

    kit.clock.advance(Duration::hours(2));
    let sec = kit.login(&boss).await;
    let r = kit
        .post(
            &path,
            Some(&sec),
            json!({"decision": "countersign", "reason": "confirmed with dispatch, call 112/4411"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "countersigned");
    assert_eq!(r.body["decided_by"], boss.id.as_str());
    let r = kit
        .post(
            &path,
            Some(&sec),
            json!({"decision": "reject", "reason": "changed my mind"}),
        )
        .await;
    assert_eq!(r.status, 400, "decided once");

    // Long past the deadline: the sweeper leaves a countersigned one alone.
    kit.clock.advance(Duration::hours(13));
    assert!(kit.broker.sweep_break_glass().await.unwrap().is_empty());
    assert_eq!(locked_reason(&kit, &medic).await, None);
    let boss_trail = trail(&kit, &boss.id).await;
    assert!(boss_trail
        .iter()
        .any(|(e, _, r)| *e == AuditEvent::BreakGlassCountersigned && r.is_some()));
    let metrics = kit.ops_get("/metrics").await;
    assert!(metrics
        .text
        .contains("okaz_break_glass_total{event=\"countersigned\",overrides=\"no_code\"} 1"));

    // The cap: two a day (policy), the third refused and not released.
    let token = kit.login(&medic).await;
    break_glass(&kit, &token, &citizen, "second emergency of the day").await;
    let r = kit.break_glass(&token, &citizen.pesel, "third").await;
    r.assert_refused(429, "break_glass_limit_reached");
    assert!(r.body.get("document").is_none());

    // A clerk's role has no break-glass.
    let (_, clerk_token, _) = kit.clerk_and_citizen("USC-A").await;
    let r = kit
        .break_glass(&clerk_token, &citizen.pesel, "please")
        .await;
    r.assert_refused(403, "not_permitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_police_officer_past_the_limit_breaks_glass_and_a_rejection_locks() {
    let mut opts = Options::with_police_passwords();
    opts.policy_edits
        .push(("daily_limit = 200".into(), "daily_limit = 1".into()));
    let kit = Kit::start_with(opts).await;
    let police = kit.officer("police", "KMP-Krakow").await;
    let admin = kit.officer("police_admin", "KMP-Krakow").await;
    let driver = kit.citizen(&["adult", "valid_id"]).await;
    let token = kit.login(&police).await;
    let check = json!({"subject": {"pesel": driver.pesel}, "document": "id_card",
                       "purpose": "operational_check", "case_reference": "RSD-2026/0042",
                       "justification": "suspect fleeing, identity needed now"});
    // Within the limit there is nothing to override.
    let r = kit
        .post("/v1/break-glass", Some(&token), check.clone())
        .await;
    r.assert_refused(403, "not_permitted");
    let r = kit
        .post_check(
            &token,
            json!({"subject": {"pesel": driver.pesel}, "document": "id_card",
                   "purpose": "operational_check", "case_reference": "RSD-2026/0042"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // At the limit: break-glass instead of the attempt that would lock.
    let r = kit
        .post("/v1/break-glass", Some(&token), check.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(locked_reason(&kit, &police).await, None);

    let sec = kit.login(&admin).await;
    let list = kit.get("/v1/admin/break-glass", Some(&sec)).await;
    assert_eq!(list.body[0]["overrides"], "daily_limit");
    assert_eq!(list.body[0]["case_reference"], "RSD-2026/0042");
    let r = kit
        .post(
            &format!("/v1/admin/break-glass/{id}/decision"),
            Some(&sec),
            json!({"decision": "reject", "reason": "no pursuit was logged"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(
        locked_reason(&kit, &police).await.as_deref(),
        Some("break_glass_rejected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn night_checks_show_up_in_the_security_officers_signals() {
    // 02:00 in Warsaw: outside a clerk's working hours (07–19).
    let kit = Kit::start_with(Options {
        start: warsaw("2026-11-20 02:00:00"),
        ..Options::default()
    })
    .await;
    let (clerk, token, _) = kit.clerk_and_citizen("USC-Night").await;
    let day_clerk = kit.officer("clerk", "USC-Night").await;
    let citizens = kit
        .citizens_with(&["adult", "valid_id", "contactable"], 4)
        .await;
    for c in &citizens[..3] {
        kit.activate(&c.pesel).await;
        let r = kit
            .start_check(&token, &c.pesel, "id_card", "age_check")
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        kit.clock.advance(Duration::minutes(7));
    }
    // A day check by another clerk raises nothing. The fourth citizen has
    // not activated the service: the attempt is refused but still counted,
    // so it is a counted day attempt like any other.
    kit.clock.set(warsaw("2026-11-20 10:00:00"));
    let day_token = kit.login(&day_clerk).await;
    let r = kit
        .start_check(&day_token, &citizens[3].pesel, "id_card", "age_check")
        .await;
    r.assert_refused(409, "not_activated");
    assert_eq!(r.body["quota"]["used"], 1, "counted: {}", r.body);

    let security = kit.officer("security_officer", "USC-Night").await;
    let sec = kit.login(&security).await;
    let r = kit.get("/v1/admin/signals", Some(&sec)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let signals = r.body["signals"].as_array().unwrap();
    assert_eq!(signals.len(), 1, "{}", r.body);
    let s = &signals[0];
    assert_eq!(s["kind"], "off_shift");
    assert_eq!(s["officer"]["id"], clerk.id.as_str());
    assert_eq!(s["officer"]["login"], clerk.login.as_str());
    assert_eq!(s["score"], 3.0);
    let evidence: Vec<i64> = s["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_i64().unwrap())
        .collect();
    assert_eq!(evidence.len(), 3);
    // The evidence names the clerk's counted night attempts.
    let records = kit
        .store
        .audit_search(&AuditFilter {
            officer: Some(clerk.id.clone()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    for id in &evidence {
        let r = records
            .iter()
            .find(|r| r.id == *id)
            .expect("evidence is the clerk's");
        assert_eq!(r.entry.event, AuditEvent::AttemptCounted);
    }
    // Another unit's security officer sees none of it.
    let other = kit.officer("security_officer", "USC-Day").await;
    let other = kit.login(&other).await;
    let r = kit.get("/v1/admin/signals", Some(&other)).await;
    assert_eq!(r.body["signals"].as_array().unwrap().len(), 0);
    // Looking is on record.
    let searched = trail(&kit, &security.id).await;
    assert!(searched
        .iter()
        .any(|(e, _, _)| *e == AuditEvent::AuditSearched));
}
