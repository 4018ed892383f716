//! The citizen portal, end to end: a real headless Chromium signs in
//! through the sandbox eID, activates with the SMS code, sees an officer's
//! check in the history, deactivates, and the next check is refused; then
//! scripted attacks on the sign-in callback and on the forms.

use fantoccini::Locator;
use okaz_tests::browser::Browser;
use okaz_tests::portal_agent::PortalAgent;
use okaz_tests::Kit;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_activates_sees_a_check_and_deactivates_in_chromium() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    let phone = anna.phone.clone().unwrap();
    let b = Browser::start().await;
    let c = &b.client;

    c.goto(&format!("{}/citizen/?lang=en", kit.broker_url))
        .await
        .unwrap();
    b.shoot("01-start").await;
    b.sign_in(&anna.pesel).await;
    let status = b.text_of("#status").await;
    assert_eq!(status, "The service is off.");
    b.shoot("02-signed-in").await;

    // Activation: the masked phone from the contact register, then the code.
    b.click("#activate").await;
    let shown = b.text_of(".phone").await;
    assert!(shown.ends_with(&phone[phone.len() - 3..]), "{shown}");
    assert!(
        !shown.contains(&phone[3..9]),
        "the number is masked: {shown}"
    );
    b.shoot("03-activate").await;
    b.click("#send-code").await;
    b.text_of("#code").await;
    b.shoot("04-code").await;
    let code = kit.latest_code(&phone).await;
    // A wrong code first: the page says so and how many tries are left.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(wrong)
        .await
        .unwrap();
    b.click("#confirm").await;
    let err = b.text_of("#code-error").await;
    assert!(
        err.contains("not the right code") && err.contains('2'),
        "{err}"
    );
    b.shoot("05-wrong-code").await;
    c.find(Locator::Css("#code"))
        .await
        .unwrap()
        .send_keys(&code)
        .await
        .unwrap();
    b.click("#confirm").await;
    assert_eq!(
        b.text_becomes("#status", "The service is on.").await,
        "The service is on."
    );
    b.shoot("06-activated").await;

    // An officer checks Anna's identity card through the API.
    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    let token = kit.login(&clerk).await;
    let started = kit
        .start_check(&token, &anna.pesel, "id_card", "age_check")
        .await;
    assert_eq!(started.status, 201, "{}", started.body);
    let id = started.body["id"].as_str().unwrap();
    let officer_code = kit.latest_code(&phone).await;
    let done = kit.give_code(&token, id, &officer_code).await;
    assert_eq!(done.status, 200, "{}", done.body);

    // The history shows it: unit, document, purpose, outcome; no officer.
    b.click("#history").await;
    let table = b.text_of("#history-table").await;
    for want in [
        "Identity card",
        "Age check",
        "USC-Warszawa",
        "Document shown",
    ] {
        assert!(table.contains(want), "history lacks {want}: {table}");
    }
    let source = c.source().await.unwrap();
    assert!(!source.contains(&clerk.login) && !source.contains(&clerk.id));
    b.shoot("07-history").await;
    // The same page in Polish.
    c.goto(&format!("{}/citizen/history?lang=pl", kit.broker_url))
        .await
        .unwrap();
    let table = b.text_of("#history-table").await;
    assert!(table.contains("Dowód osobisty"), "{table}");
    b.shoot("08-history-pl").await;

    // Deactivate; the next check is refused with not_activated.
    c.goto(&format!("{}/citizen/?lang=en", kit.broker_url))
        .await
        .unwrap();
    b.click("form[action=\"/citizen/deactivate\"] button").await;
    assert_eq!(
        b.text_becomes("#status", "The service is off.").await,
        "The service is off."
    );
    b.shoot("09-deactivated").await;
    let refused = kit
        .start_check(&token, &anna.pesel, "id_card", "age_check")
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["code"], "not_activated");

    // The refusal is in the history too; then sign out.
    b.click("#history").await;
    let table = b.text_of("#history-table").await;
    assert!(table.contains("Refused: service off"), "{table}");
    c.goto(&format!("{}/citizen/", kit.broker_url))
        .await
        .unwrap();
    b.click("form[action=\"/citizen/logout\"] button").await;
    b.text_of("#sign-in").await;
    b.shoot("10-signed-out").await;

    // A citizen without a phone on record is told what to do.
    let piotr = kit.citizen(&["no_phone"]).await;
    b.sign_in(&piotr.pesel).await;
    b.click("#activate").await;
    let help = b.text_of("#no-phone").await;
    assert!(help.contains("contact register"), "{help}");
    b.shoot("11-no-phone").await;
    c.goto(&format!("{}/citizen/nowhere", kit.broker_url))
        .await
        .unwrap();
    b.shoot("12-not-found").await;
    b.client.clone().close().await.unwrap();
}

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut u = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.into()
}

fn signed_in(agent: &PortalAgent) -> bool {
    agent.jar.contains_key("__Host-okaz_citizen")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sets_a_sealed_host_cookie_that_expires() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;
    let mut a = kit.portal_agent();
    let auth = a.begin_sign_in().await;
    // PKCE S256, state and nonce are fresh per attempt.
    assert_eq!(query_param(auth.as_str(), "code_challenge_method"), "S256");
    let again = kit.portal_agent().begin_sign_in().await;
    for p in ["state", "nonce", "code_challenge"] {
        assert_ne!(
            query_param(auth.as_str(), p),
            query_param(again.as_str(), p)
        );
    }
    let cb = a.pick_citizen(&auth, &anna.pesel).await;
    let p = a.get(&cb).await;
    assert_eq!(p.status, 303, "{}", p.text);
    let cookie = p
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-okaz_citizen="))
        .unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains(&anna.pesel), "the PESEL is sealed");
    let home = a.get("/citizen/").await;
    assert!(home.text.contains("data-active=\"false\""), "{}", home.text);
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    for d in [
        "default-src 'none'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    assert_eq!(home.headers["referrer-policy"], "no-referrer");
    assert_eq!(home.headers["x-content-type-options"], "nosniff");

    // Idle for longer than the limit: signed out.
    kit.clock.advance(chrono::Duration::minutes(16));
    let home = a.get("/citizen/").await;
    assert!(home.text.contains("id=\"sign-in\""), "{}", home.text);
    assert!(!signed_in(&a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_replayed_callbacks_are_refused() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;

    // Wrong state: the callback is not this browser's attempt.
    let mut a = kit.portal_agent();
    let auth = a.begin_sign_in().await;
    let cb = a.pick_citizen(&auth, &anna.pesel).await;
    let p = a.get(&with_param(&cb, "state", "forged-state")).await;
    assert_eq!(p.status, 400, "{}", p.text);
    assert!(!signed_in(&a));

    // Wrong nonce: a code whose ID token carries another nonce (PKCE and
    // state right) is refused by the ID token check.
    let mut a = kit.portal_agent();
    let auth = a.begin_sign_in().await;
    let forged = url::Url::parse(&with_param(auth.as_str(), "nonce", "forged-nonce")).unwrap();
    let cb = a.pick_citizen(&forged, &anna.pesel).await;
    let p = a.get(&cb).await;
    assert_eq!(p.status, 400, "{}", p.text);
    assert!(!signed_in(&a));

    // Another provider's iss (mix-up): refused.
    let mut a = kit.portal_agent();
    let auth = a.begin_sign_in().await;
    let cb = a.pick_citizen(&auth, &anna.pesel).await;
    let p = a
        .get(&with_param(&cb, "iss", "https://127.0.0.1:1/oidc"))
        .await;
    assert_eq!(p.status, 400, "{}", p.text);
    assert!(!signed_in(&a));

    // A PKCE mismatch: a code obtained for another attempt (code injection).
    let mut victim = kit.portal_agent();
    let _ = victim.begin_sign_in().await;
    let mut attacker = kit.portal_agent();
    let auth = attacker.begin_sign_in().await;
    let attackers_cb = attacker.pick_citizen(&auth, &anna.pesel).await;
    let p = victim.get(&attackers_cb).await;
    assert_eq!(p.status, 400, "a foreign callback: {}", p.text);
    assert!(!signed_in(&victim));
    // Nor does a browser without any attempt accept it.
    let mut fresh = kit.portal_agent();
    assert_eq!(fresh.get(&attackers_cb).await.status, 400);
    assert!(!signed_in(&fresh));

    // Replay: a good callback works once; replayed with its attempt cookie
    // it is refused (the code is used), and without it too.
    let mut a = kit.portal_agent();
    let auth = a.begin_sign_in().await;
    let attempt_cookie = a.jar.get("__Host-okaz_login").cloned().unwrap();
    let cb = a.pick_citizen(&auth, &anna.pesel).await;
    assert_eq!(a.get(&cb).await.status, 303);
    assert!(signed_in(&a));
    assert!(
        !a.jar.contains_key("__Host-okaz_login"),
        "attempt cookie removed"
    );
    let mut replayer = kit.portal_agent();
    replayer
        .jar
        .insert("__Host-okaz_login".into(), attempt_cookie);
    let p = replayer.get(&cb).await;
    assert_eq!(p.status, 400, "{}", p.text);
    assert!(!signed_in(&replayer));
    let p = a.get(&cb).await;
    assert_eq!(p.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_their_csrf_token_are_refused() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;
    kit.activate(&anna.pesel).await;
    let mut a = kit.portal_agent();
    let home = a.sign_in(&anna.pesel).await;
    assert!(home.text.contains("data-active=\"true\""), "{}", home.text);
    let token = home.csrf().unwrap();
    let mut other = kit.portal_agent();
    let other_token = other.sign_in(&anna.pesel).await.csrf().unwrap();

    for (what, form) in [
        ("no token", vec![]),
        ("empty token", vec![("csrf", "")]),
        ("garbage token", vec![("csrf", "AAAA")]),
        (
            "another session's token",
            vec![("csrf", other_token.as_str())],
        ),
    ] {
        let p = a.post("/citizen/deactivate", &form).await;
        assert_eq!(p.status, 403, "{what}: {}", p.text);
        let p = a.post("/citizen/logout", &form).await;
        assert_eq!(p.status, 403, "{what}: {}", p.text);
    }
    // The right token from another site is refused too.
    let p = a
        .send(
            "POST",
            "/citizen/deactivate",
            Some(&[("csrf", token.as_str())]),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert!(a
        .get("/citizen/")
        .await
        .text
        .contains("data-active=\"true\""));

    // With its token the form works.
    let p = a
        .post("/citizen/deactivate", &[("csrf", token.as_str())])
        .await;
    assert_eq!(p.status, 303, "{}", p.text);
    assert!(a
        .get("/citizen/")
        .await
        .text
        .contains("data-active=\"false\""));
    // Without a session there is nothing to post to.
    let mut stranger = kit.portal_agent();
    let p = stranger
        .post("/citizen/deactivate", &[("csrf", token.as_str())])
        .await;
    assert_eq!(p.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_codes_run_out_and_reserved_contacts_are_explained() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;
    let mut a = kit.portal_agent();
    let home = a.sign_in(&anna.pesel).await;
    let token = home.csrf().unwrap();
    let p = a.post("/citizen/activate/send", &[("csrf", &token)]).await;
    assert_eq!(p.status, 303, "{}", p.text);
    let code = kit.latest_code(anna.phone.as_deref().unwrap()).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let before_tries = a.jar.clone();
    for left in [2, 1, 0] {
        let p = a
            .post(
                "/citizen/activate/code",
                &[("csrf", &token), ("code", wrong)],
            )
            .await;
        assert_eq!(p.status, 422);
        assert!(p.text.contains(&format!(" {left}.")), "{}", p.text);
    }
    // The right code no longer helps, not even with the cookie from before
    // the wrong tries.
    a.jar = before_tries;
    let p = a
        .post(
            "/citizen/activate/code",
            &[("csrf", &token), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, 410, "{}", p.text);
    assert!(a
        .get("/citizen/")
        .await
        .text
        .contains("data-active=\"false\""));

    let reserved = kit.citizen(&["reserved_contact"]).await;
    let mut r = kit.portal_agent();
    r.sign_in(&reserved.pesel).await;
    let p = r
        .send(
            "GET",
            "/citizen/activate",
            None,
            &[("accept-language", "en")],
        )
        .await;
    assert!(p.text.contains("reserved your phone"), "{}", p.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_codes_are_limited_per_citizen_across_sessions() {
    let kit = Kit::start().await;
    let anna = kit.citizen(&["contactable"]).await;
    // Two browsers (or two replicas) share one limit: it lives in the store.
    let mut first = kit.portal_agent();
    let token1 = first.sign_in(&anna.pesel).await.csrf().unwrap();
    let mut second = kit.portal_agent();
    let token2 = second.sign_in(&anna.pesel).await.csrf().unwrap();
    let limit = okaz_core::broker::CODES_PER_HOUR;
    for i in 0..limit {
        let (agent, token) = if i % 2 == 0 {
            (&mut first, &token1)
        } else {
            (&mut second, &token2)
        };
        let p = agent
            .post("/citizen/activate/send", &[("csrf", token)])
            .await;
        assert_eq!(p.status, 303, "code {i}: {}", p.text);
    }
    let p = first
        .post("/citizen/activate/send", &[("csrf", &token1)])
        .await;
    assert_eq!(p.status, 429, "{}", p.text);
    let p = second
        .post("/citizen/activate/send", &[("csrf", &token2)])
        .await;
    assert_eq!(p.status, 429, "{}", p.text);
    // The last code sent (to the first browser, as the limit is odd) still works.
    assert_eq!(limit % 2, 1);
    let code = kit.latest_code(anna.phone.as_deref().unwrap()).await;
    let p = first
        .post(
            "/citizen/activate/code",
            &[("csrf", &token1), ("code", &code)],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.text);
}
