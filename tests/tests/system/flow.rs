//! The clerk's whole flow over real HTTPS: log in with password and TOTP,
//! start a check, read the code from the citizen's phone, confirm, and get
//! the document with only the purpose's fields.

use okaz_tests::Kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_checks_age_with_the_citizens_sms_code() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    let anna = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    kit.activate(&anna.pesel).await;

    let token = kit.login(&clerk).await;
    let me = kit.get("/v1/me", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["officer"]["login"], clerk.login.as_str());
    assert_eq!(me.body["quota"]["used"], 0);
    assert_eq!(me.body["quota"]["limit"], 100);

    let started = kit
        .start_check(&token, &anna.pesel, "id_card", "age_check")
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    assert_eq!(started.body["status"], "awaiting_code");
    assert_eq!(started.body["attempts_left"], 3);
    assert_eq!(started.body["quota"]["used"], 1);
    let phone = anna.phone.clone().unwrap();
    let masked = started.body["sent_to"].as_str().unwrap();
    assert!(masked.ends_with(&phone[phone.len() - 3..]) && !masked.contains(&phone[3..9]));

    let sms = kit.inbox(&phone).await;
    let text = sms.last().unwrap();
    assert!(
        text.contains("USC-Warszawa"),
        "the SMS names the unit: {text}"
    );
    let code = okaz_tests::code_in(text).unwrap();

    let id = started.body["id"].as_str().unwrap();
    let done = kit.give_code(&token, id, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed");
    let doc = &done.body["document"];
    assert_eq!(doc["type"], "id_card");
    assert_eq!(doc["status"], "valid");
    let mut fields: Vec<&str> = doc["fields"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec!["age_over_18", "given_names"],
        "age_check releases no birth date"
    );
    assert_eq!(doc["fields"]["age_over_18"], true);
    assert!(
        doc["photo"]["data"].as_str().is_some_and(|d| !d.is_empty()),
        "age_check releases the photo"
    );
    assert_eq!(
        doc["source"]["register"].as_str().map(|s| !s.is_empty()),
        Some(true)
    );
    assert!(done.body["display_until"].is_string());
    assert_eq!(
        done.body["quota"]["used"], 1,
        "confirming does not count again"
    );

    let audit = kit.store.audit_chain(&clerk.id).await.unwrap();
    let released = audit
        .iter()
        .find(|r| r.entry.event.as_str() == "document_released")
        .unwrap();
    assert_eq!(
        released.entry.fields,
        vec!["age_over_18", "given_names", "photo"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_before_the_code_say_why() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    // What the broker has counted today, as the officer's own view reads it.
    let used = || async { kit.get("/v1/me", Some(&token)).await.body["quota"]["used"].as_u64() };
    assert_eq!(used().await, Some(0), "a fresh officer has used nothing");

    // Not activated: refused, and counted (DESIGN.md step 3: successful and
    // failed attempts count), and the problem says so.
    let stranger = kit.citizen(&["valid_id", "contactable"]).await;
    let r = kit
        .start_check(&token, &stranger.pesel, "id_card", "age_check")
        .await;
    r.assert_refused(409, "not_activated");
    assert_eq!(r.content_type, "application/problem+json");
    assert!(
        r.body["quota"]["used"].is_number(),
        "problems carry the quota"
    );
    assert_eq!(
        r.body["quota"]["used"].as_u64(),
        Some(1),
        "a not_activated start is counted once, and the problem shows the new count"
    );
    assert_eq!(
        used().await,
        Some(1),
        "the count stays where the problem said"
    );

    // No contact: refused after the contact register is read, counted too.
    let silent = kit.citizen(&["no_phone"]).await;
    kit.activate(&silent.pesel).await;
    let r = kit
        .start_check(&token, &silent.pesel, "id_card", "age_check")
        .await;
    r.assert_refused(409, "no_contact");
    assert_eq!(
        r.body["quota"]["used"].as_u64(),
        Some(2),
        "a no_contact start is counted once"
    );
    assert_eq!(used().await, Some(2));

    // Not permitted: the policy refuses before anything is counted.
    let r = kit
        .start_check(&token, &stranger.pesel, "id_card", "operational_check")
        .await;
    r.assert_refused(403, "not_permitted");
    assert_eq!(
        used().await,
        Some(2),
        "a start the policy refuses costs no quota"
    );
}
