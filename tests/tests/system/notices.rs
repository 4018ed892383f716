//! Notices, disputes and the history's detail, end to end: a clerk's check
//! is noticed at once by SMS (and e-mail), a police check only after the
//! policy's delay (the kit's clock) from a sealed outbox row that is gone
//! once sent; the citizen disputes from the notice's link in a real
//! headless Chromium; the unit's security officer sees and resolves it over
//! the API; the citizen sees the resolution, never the officer.

use std::time::Duration;

use fantoccini::Locator;
use okaz_tests::browser::Browser;
use okaz_tests::{Kit, NowUtc, Options, TestCitizen};
use serde_json::json;

fn options() -> Options {
    Options {
        notices: true,
        ..Options::with_police_passwords()
    }
}

/// Waits (boundedly) until a phone holds `n` notices: they are sent off
/// the request's path. Not a timed assertion: only the count is asserted.
async fn notices_at_least(kit: &Kit, phone: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let got = kit.notices(phone).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kit.notices(phone).await
}

async fn mail_at_least(kit: &Kit, address: &str, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let got = kit.mailbox(address).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kit.mailbox(address).await
}

/// The dispute link in a notice.
fn link_in(notice: &str) -> String {
    notice
        .split_whitespace()
        .find(|w| w.contains("/citizen/dispute/"))
        .unwrap_or_else(|| panic!("no dispute link in {notice}"))
        .trim_end_matches(['.', ','])
        .to_string()
}

/// A notice names no citizen, code or document content.
fn assert_private(notice: &str, c: &TestCitizen, code: Option<&str>) {
    assert!(!notice.contains(&c.pesel), "a PESEL in {notice}");
    if let Some(code) = code {
        assert!(!notice.contains(code), "the code in {notice}");
    }
    for part in c.name.split_whitespace() {
        assert!(!notice.contains(part), "a name ({part}) in {notice}");
    }
}

/// The outbox's rows: id and sealed bytes.
async fn outbox(kit: &Kit) -> Vec<(String, Vec<u8>, i32)> {
    kit.db()
        .await
        .query(
            "SELECT id::text, sealed, attempts FROM notice_outbox ORDER BY due_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// A clerk's consent check, released; returns (verification id, code).
async fn clerk_check(kit: &Kit, token: &str, c: &TestCitizen) -> (String, String) {
    let (id, code) = kit.check_with_code(token, c, "id_card", "age_check").await;
    let done = kit.give_code(token, &id, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    (id, code)
}

/// A police check without consent, released at once.
async fn police_check(kit: &Kit, token: &str, c: &TestCitizen) -> String {
    let r = kit
        .post_check(
            token,
            json!({"subject": {"pesel": c.pesel}, "document": "driving_licence",
                   "purpose": "operational_check", "case_reference": "RSD-77/2026"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["status"], "completed");
    r.body["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_are_noticed_disputed_from_the_link_and_resolved_by_the_unit() {
    let kit = Kit::start_with(options()).await;
    let anna = kit
        .citizen(&["valid_id", "adult", "licence", "contactable", "email"])
        .await;
    let phone = anna.phone.clone().unwrap();
    let email = anna.email.clone().unwrap();
    kit.activate(&anna.pesel).await;

    // A clerk's check: the notice comes at once, by SMS and by e-mail.
    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    let token = kit.login(&clerk).await;
    let (id, code) = clerk_check(&kit, &token, &anna).await;
    let notices = notices_at_least(&kit, &phone, 1).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    let notice = &notices[0];
    for want in [
        "USC-Warszawa",
        "identity card",
        "dowod osobisty",
        "Age check",
        "Potwierdzenie pełnoletności",
        "Not you?",
    ] {
        assert!(notice.contains(want), "the notice lacks {want}: {notice}");
    }
    assert_private(notice, &anna, Some(&code));
    assert!(!notice.contains("emergency"), "not a break-glass check");
    let link = link_in(notice);
    assert!(link.starts_with(&kit.broker_url), "{link}");
    assert!(link.contains(&id), "the link names the check: {link}");
    let mail = mail_at_least(&kit, &email, 1).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains(&link) && mail[0].contains("USC-Warszawa"));
    assert_private(&mail[0], &anna, Some(&code));
    assert!(
        outbox(&kit).await.is_empty(),
        "a consent check's notice is never stored"
    );

    // A police check: no notice until the policy's delay has passed; it
    // waits sealed in the outbox, which holds no clear identifier.
    let police = kit.officer("police", "KMP-Warszawa").await;
    let ptoken = kit.login(&police).await;
    police_check(&kit, &ptoken, &anna).await;
    let pass = kit.deliver_notices().await;
    assert_eq!(pass.sent, 0, "not due yet");
    let rows = outbox(&kit).await;
    assert_eq!(rows.len(), 1, "one sealed row waits");
    let sealed = &rows[0].1;
    let sealed_text = String::from_utf8_lossy(sealed);
    assert!(
        !sealed.windows(11).any(|w| w == anna.pesel.as_bytes())
            && !sealed_text.contains("KMP-Warszawa")
            && !sealed_text.contains(phone.trim_start_matches('+')),
        "the outbox row is sealed"
    );
    kit.clock
        .advance(chrono::Duration::hours(23) + chrono::Duration::minutes(59));
    assert_eq!(kit.deliver_notices().await.sent, 0, "a minute early");
    assert_eq!(kit.notices(&phone).await.len(), 1);
    kit.clock.advance(chrono::Duration::minutes(2));
    let pass = kit.deliver_notices().await;
    assert_eq!((pass.sent, pass.retried), (1, 0));
    let notices = kit.notices(&phone).await;
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[1].contains("KMP-Warszawa") && notices[1].contains("driving licence"));
    assert!(notices[1].contains("Police check"));
    assert_private(&notices[1], &anna, None);
    assert!(outbox(&kit).await.is_empty(), "deleted once sent");
    assert_eq!(kit.deliver_notices().await.sent, 0, "sent once");

    // The citizen follows the first notice's link, signs in, disputes.
    let b = Browser::start().await;
    let c = &b.client;
    // The broker's clock is a day ahead now; the eID's must be too, or
    // its ID tokens would look long expired.
    let ahead = kit.clock.now_utc() - chrono::Utc::now();
    kit.sandbox
        .advance_oidc_clock(ahead.to_std().unwrap_or_default());
    c.goto(&format!("{}/citizen/?lang=en", kit.broker_url))
        .await
        .unwrap();
    b.sign_in(&anna.pesel).await;
    b.text_of("#status").await;
    c.goto(&format!("{link}?lang=en")).await.unwrap();
    let check = b.text_of("#dispute-check").await;
    assert!(
        check.contains("USC-Warszawa") && check.contains("Age check"),
        "{check}"
    );
    b.shoot("notices-01-dispute").await;
    c.find(Locator::Css("#comment"))
        .await
        .unwrap()
        .send_keys("<script>alert(1)</script> I was not at any office\u{7}")
        .await
        .unwrap();
    b.click("#dispute-submit").await;
    let table = b.text_with("#history-table", "Disputed: open").await;
    assert!(table.contains("Disputed: open"), "{table}");
    assert!(
        table.contains("age_over_18"),
        "the fields released: {table}"
    );
    b.shoot("notices-02-disputed").await;
    // A made-up token is refused.
    c.goto(&format!(
        "{}/citizen/dispute/{id}/AAAAAAAAAAAAAAAAAAAAAAAA?lang=en",
        kit.broker_url
    ))
    .await
    .unwrap();
    assert!(c.source().await.unwrap().contains("not valid"));

    // The unit's security officer sees it with the check's records and
    // the officer; another unit's does not.
    let security = kit.officer("security_officer", "USC-Warszawa").await;
    let stoken = kit.login(&security).await;
    let other = kit.officer("security_officer", "USC-Krakow").await;
    let otoken = kit.login(&other).await;
    let theirs = kit.get("/v1/admin/disputes", Some(&otoken)).await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.body, json!([]));
    // A day later the clerk's shift has ended: a new session.
    let token = kit.login(&clerk).await;
    let clerk_view = kit.get("/v1/admin/disputes", Some(&token)).await;
    assert_eq!(clerk_view.status, 403, "a clerk is not a security officer");
    let list = kit.get("/v1/admin/disputes", Some(&stoken)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let d = &list.body[0];
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.body);
    assert_eq!(d["verification"], id.as_str());
    assert_eq!(d["officer"], clerk.id.as_str());
    assert_eq!(d["status"], "open");
    let comment = d["comment"].as_str().unwrap();
    assert_eq!(
        comment, "<script>alert(1)</script> I was not at any office",
        "control characters stripped, kept as plain text"
    );
    let events: Vec<&str> = d["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"document_released"), "{events:?}");
    let did = d["id"].as_str().unwrap().to_string();
    let bad = kit
        .post(
            &format!("/v1/admin/disputes/{did}/resolve"),
            Some(&otoken),
            json!({"reason": "not mine to resolve"}),
        )
        .await;
    assert_eq!(bad.status, 404, "another unit cannot resolve it");
    let empty = kit
        .post(
            &format!("/v1/admin/disputes/{did}/resolve"),
            Some(&stoken),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(empty.status, 400, "a reason is required");
    let reason = "Checked with the counter's camera: the citizen was there";
    let ok = kit
        .post(
            &format!("/v1/admin/disputes/{did}/resolve"),
            Some(&stoken),
            json!({ "reason": reason }),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let open = kit.get("/v1/admin/disputes", Some(&stoken)).await;
    assert_eq!(open.body, json!([]), "no open dispute left");
    let all = kit
        .get("/v1/admin/disputes?status=all", Some(&stoken))
        .await;
    assert_eq!(all.body[0]["status"], "resolved");
    assert_eq!(all.body[0]["resolution"], reason);
    assert_eq!(all.body[0]["resolved_by"], security.id.as_str());
    // Both are on record.
    let audit = kit.get("/v1/admin/audit?limit=1000", Some(&stoken)).await;
    let events: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"dispute_opened") && events.contains(&"dispute_resolved"));

    // The citizen sees the resolution, and no officer.
    c.goto(&format!("{}/citizen/history?lang=en", kit.broker_url))
        .await
        .unwrap();
    let table = b.text_with("#history-table", "resolved").await;
    assert!(
        table.contains("Disputed: resolved") && table.contains(reason),
        "{table}"
    );
    let source = c.source().await.unwrap();
    for officer in [&clerk, &security] {
        assert!(!source.contains(&officer.id) && !source.contains(&officer.login));
    }
    assert!(!source.contains("<script>alert"), "nothing unescaped");
    b.shoot("notices-03-resolved").await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_the_citizens_choice_disputes_are_limited_and_the_history_downloads() {
    let kit = Kit::start_with(Options {
        policy_edits: vec![("disputes_per_day = 5".into(), "disputes_per_day = 1".into())],
        ..options()
    })
    .await;
    let bob = kit
        .citizen(&["valid_id", "adult", "contactable", "email"])
        .await;
    let phone = bob.phone.clone().unwrap();
    let email = bob.email.clone().unwrap();
    kit.activate(&bob.pesel).await;
    let mut agent = kit.portal_agent();
    agent.sign_in(&bob.pesel).await;

    // SMS off, e-mail on.
    let page = agent.get("/citizen/notices?lang=en").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let csrf = page.csrf().unwrap();
    let saved = agent
        .post("/citizen/notices", &[("csrf", &csrf), ("email", "on")])
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("notices-saved"));

    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    let token = kit.login(&clerk).await;
    let (first, _) = clerk_check(&kit, &token, &bob).await;
    let mail = mail_at_least(&kit, &email, 1).await;
    assert_eq!(mail.len(), 1, "the e-mail still comes");
    // The e-mail and the SMS of one notice go in one delivery, the SMS
    // first: once the e-mail is there, no SMS was sent.
    assert!(kit.notices(&phone).await.is_empty(), "SMS notices are off");

    // Both on again; the next check comes by both.
    let csrf = agent.get("/citizen/notices").await.csrf().unwrap();
    agent
        .post(
            "/citizen/notices",
            &[("csrf", &csrf), ("sms", "on"), ("email", "on")],
        )
        .await;
    let (second, _) = clerk_check(&kit, &token, &bob).await;
    assert_eq!(notices_at_least(&kit, &phone, 1).await.len(), 1);
    assert_eq!(mail_at_least(&kit, &email, 2).await.len(), 2);

    // One dispute a day: the second is refused.
    let csrf = agent
        .get(&format!("/citizen/dispute/{first}"))
        .await
        .csrf()
        .unwrap();
    let r = agent
        .post(
            "/citizen/dispute",
            &[("csrf", &csrf), ("verification", &first), ("comment", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let again = agent
        .post(
            "/citizen/dispute",
            &[
                ("csrf", &csrf),
                ("verification", &first),
                ("comment", "again"),
            ],
        )
        .await;
    assert_eq!(again.status, 409, "once per check");
    let other = agent
        .post(
            "/citizen/dispute",
            &[("csrf", &csrf), ("verification", &second), ("comment", "x")],
        )
        .await;
    assert_eq!(other.status, 429, "the day's limit");
    let nobody = agent
        .post(
            "/citizen/dispute",
            &[
                ("csrf", &csrf),
                ("verification", "not-a-check"),
                ("comment", "x"),
            ],
        )
        .await;
    assert_eq!(nobody.status, 404);
    let forged = agent
        .post(
            "/citizen/dispute",
            &[("verification", &second), ("comment", "x")],
        )
        .await;
    assert_eq!(forged.status, 403, "a form without its token is refused");

    // The history as JSON: each check's fields, receipt and dispute.
    kit.integrate().await;
    let json_page = agent.get("/citizen/history.json").await;
    assert_eq!(json_page.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&json_page.text).unwrap();
    let checks = doc["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{doc}");
    let disputed = checks
        .iter()
        .find(|c| c["verification"] == first.as_str())
        .unwrap();
    assert_eq!(disputed["dispute"]["status"], "open");
    assert_eq!(disputed["outcome"], "released");
    assert_eq!(
        disputed["fields"],
        json!(["age_over_18", "given_names", "photo"])
    );
    assert!(disputed["receipt"].is_object(), "{disputed}");
    assert!(disputed["leaf_index"].is_u64(), "{disputed}");
    assert!(doc["log_key"].is_string());
    assert!(!json_page.text.contains(&clerk.id) && !json_page.text.contains(&bob.pesel));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_with_backoff_counted_and_never_sent_twice() {
    let kit = Kit::start_with(options()).await;
    let cara = kit
        .citizen(&["valid_id", "adult", "licence", "contactable", "email"])
        .await;
    let phone = cara.phone.clone().unwrap();
    let email = cara.email.clone().unwrap();
    let police = kit.officer("police", "KMP-Gdansk").await;
    let token = kit.login(&police).await;
    // The SMS gateway is down: the check is not affected.
    kit.fault("sms", |f| f.error_rate = 1.0);
    police_check(&kit, &token, &cara).await;
    kit.clock.advance(chrono::Duration::hours(25));
    let pass = kit.deliver_notices().await;
    assert_eq!((pass.sent, pass.retried), (0, 1));
    assert_eq!(kit.mailbox(&email).await.len(), 1, "the e-mail went");
    let rows = outbox(&kit).await;
    assert_eq!((rows.len(), rows[0].2), (1, 1), "kept, one failure");
    let metrics = kit.ops_get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("okaz_notices_total{channel=\"sms\",outcome=\"failed\"} 1"),
        "{}",
        metrics.text
    );
    // Not again before the backoff.
    kit.sandbox.clear_faults();
    assert_eq!(kit.deliver_notices().await.retried, 0, "backing off");
    kit.clock.advance(chrono::Duration::seconds(61));
    let pass = kit.deliver_notices().await;
    assert_eq!(pass.sent, 1);
    assert_eq!(kit.notices(&phone).await.len(), 1, "the SMS went on retry");
    assert_eq!(
        kit.mailbox(&email).await.len(),
        1,
        "the e-mail was not sent twice"
    );
    assert!(outbox(&kit).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_noticed_once_to_each_person_whose_papers_it_released() {
    let kit = Kit::start_with(options()).await;

    // A clerk's bundle: one code, then one notice naming both documents
    // under the bundle's name, at once, from memory (never stored).
    let clerk = kit.officer("clerk", "USC-1").await;
    let pensioner = kit
        .citizen(&["pensioner", "valid_id", "pensioner_id:valid", "contactable"])
        .await;
    kit.activate(&pensioner.pesel).await;
    let phone = pensioner.phone.clone().unwrap();
    let token = kit.login(&clerk).await;
    let r = kit
        .post(
            "/v1/bundles",
            Some(&token),
            json!({"bundle": "pensioner_discount", "subject": {"pesel": pensioner.pesel}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(&phone).await;
    let done = kit.give_code(&token, &id, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let notices = notices_at_least(&kit, &phone, 1).await;
    assert_eq!(notices.len(), 1, "one notice for the bundle: {notices:?}");
    let n = &notices[0];
    for want in [
        "USC-1",
        "your documents: identity card, pensioner ID",
        "Pensioner discount",
    ] {
        assert!(n.contains(want), "the notice lacks {want}: {n}");
    }
    assert!(
        link_in(n).contains(&id),
        "the link names the bundle's check"
    );
    assert_private(n, &pensioner, Some(&code));
    assert!(
        outbox(&kit).await.is_empty(),
        "a consent notice is never stored"
    );

    // A traffic stop: the driver and the vehicle's owner each hear of
    // their own papers, after the police delay, from sealed rows written
    // with the parts' records.
    let police = kit.officer("police", "KMP-Warszawa").await;
    let driver = kit.citizen(&["adult", "licence", "contactable"]).await;
    let owner = kit.citizen(&["adult", "vehicle", "contactable"]).await;
    let plate = owner.plates.first().unwrap().clone();
    let ptoken = kit.login(&police).await;
    let r = kit
        .post(
            "/v1/bundles",
            Some(&ptoken),
            json!({"bundle": "traffic_stop",
                   "subject": {"pesel": driver.pesel, "plate": plate},
                   "case_reference": "RSD-9/2026"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let released = r.body["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "released")
        .count();
    assert_eq!(released, 4, "{}", r.body);
    let rows = outbox(&kit).await;
    assert_eq!(rows.len(), 2, "one sealed row per person");
    for (_, sealed, _) in &rows {
        for c in [&driver, &owner] {
            assert!(!sealed.windows(11).any(|w| w == c.pesel.as_bytes()));
        }
    }
    assert_eq!(kit.deliver_notices().await.sent, 0, "not due yet");
    kit.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
    let pass = kit.deliver_notices().await;
    assert_eq!((pass.sent, pass.retried), (2, 0));
    let to_driver = kit.notices(driver.phone.as_deref().unwrap()).await;
    assert_eq!(to_driver.len(), 1, "{to_driver:?}");
    assert!(
        to_driver[0].contains("KMP-Warszawa")
            && to_driver[0].contains("your driving licence")
            && to_driver[0].contains("Traffic stop"),
        "{}",
        to_driver[0]
    );
    assert!(!to_driver[0].contains("vehicle"), "{}", to_driver[0]);
    let to_owner = kit.notices(owner.phone.as_deref().unwrap()).await;
    assert_eq!(to_owner.len(), 1, "{to_owner:?}");
    assert!(
        to_owner[0]
            .contains("your documents: vehicle registration, vehicle inspection, OC insurance"),
        "{}",
        to_owner[0]
    );
    assert!(!to_owner[0].contains("driving licence"), "{}", to_owner[0]);
    assert_private(&to_driver[0], &driver, None);
    assert_private(&to_owner[0], &owner, None);
    assert!(outbox(&kit).await.is_empty(), "deleted once sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_break_glass_check_is_noticed_at_once_as_an_emergency() {
    let kit = Kit::start_with(options()).await;
    let medic = kit.officer("emergency", "PRM-Krakow").await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let token = kit.login(&medic).await;
    let r = kit
        .break_glass(&token, &citizen.pesel, "unconscious after a road accident")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    // Written sealed with the release, due at once: it survives the replica.
    let rows = outbox(&kit).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].1.windows(11).any(|w| w == citizen.pesel.as_bytes()));
    assert!(kit.notices(&phone).await.is_empty(), "sent by the worker");
    let pass = kit.deliver_notices().await;
    assert_eq!(pass.sent, 1);
    let notices = kit.notices(&phone).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    assert!(
        n.contains("PRM-Krakow") && n.contains("emergency check") && n.contains("trybie naglym"),
        "{n}"
    );
    assert!(link_in(n).contains(&id));
    assert_private(n, &citizen, None);
    assert!(
        !n.contains("road accident"),
        "the justification stays inside"
    );
    assert!(outbox(&kit).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_refused_after_the_right_code_is_noticed_without_a_dispute_link() {
    let kit = Kit::start_with(options()).await;
    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    // No driving licence on record: the register answers "not found" only
    // after the citizen has read the code out.
    let citizen = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let token = kit.login(&clerk).await;
    let started = kit
        .start_check(&token, &citizen.pesel, "driving_licence", "licence_check")
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(&phone).await;
    let refused = kit.give_code(&token, &id, &code).await;
    refused.assert_refused(404, "document_not_found");
    let notices = notices_at_least(&kit, &phone, 1).await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    assert!(
        n.contains("USC-Warszawa tried to check your driving licence")
            && n.contains("refused (no such document)")
            && n.contains("nothing was released"),
        "{n}"
    );
    assert!(
        n.contains(&format!("{}/citizen/history", kit.broker_url)),
        "it points to the history: {n}"
    );
    assert!(!n.contains("/citizen/dispute/"), "nothing to dispute: {n}");
    assert_private(n, &citizen, Some(&code));
    assert!(outbox(&kit).await.is_empty());
}
