//! The broker stores no citizen data: after every kind of check (released,
//! refused, wrong code, cancelled, expired), with notices on (a police
//! check's notice waiting sealed in the outbox, another one delivered, a
//! consent check's sent from memory) and a dispute, a `pg_dump` of its
//! database holds no PESEL, name, phone number or e-mail of any citizen
//! involved.

use std::process::Command;

use okaz_tests::{Kit, NowUtc, Options, TestCitizen};

async fn exercise(kit: &Kit, token: &str, citizens: &[TestCitizen]) {
    for (i, c) in citizens.iter().enumerate() {
        kit.activate(&c.pesel).await;
        let r = kit
            .start_check(token, &c.pesel, "id_card", "identity_confirmation")
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        let code = kit.latest_code(c.phone.as_deref().unwrap()).await;
        match i % 4 {
            0 => assert_eq!(kit.give_code(token, &id, &code).await.status, 200),
            1 => assert_eq!(kit.give_code(token, &id, "000000").await.status, 422),
            2 => assert_eq!(
                kit.delete(&format!("/v1/verifications/{id}"), Some(token))
                    .await
                    .status,
                204
            ),
            _ => {} // left to expire with its sealed subject in place
        }
    }
}

/// The kit database's rows as `pg_dump --data-only --inserts` writes them.
fn data_dump(kit: &Kit) -> Vec<u8> {
    let out = Command::new("pg_dump")
        .args(["--data-only", "--inserts", &kit.database_url])
        .output()
        .expect("pg_dump is part of the PostgreSQL client tools the test command installs");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_dump_reveals_no_citizen() {
    let kit = Kit::start_with(Options {
        notices: true,
        ..Options::with_police_passwords()
    })
    .await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    let citizens = kit
        .citizens_with(&["adult", "valid_id", "contactable", "email"], 8)
        .await;
    exercise(&kit, &token, &citizens).await;
    // Police checks: one notice delivered (its row deleted), one pending.
    let police = kit.officer("police", "KMP").await;
    let kit = &kit;
    let police_check = |token: String, c: &TestCitizen| {
        let body = serde_json::json!({"subject": {"pesel": c.pesel}, "document": "id_card",
            "purpose": "operational_check", "case_reference": "RSD-1/2026"});
        async move { kit.post("/v1/verifications", Some(&token), body).await }
    };
    let ptoken = kit.login(&police).await;
    assert_eq!(police_check(ptoken, &citizens[1]).await.status, 201);
    kit.clock.advance(chrono::Duration::hours(25));
    // A new shift: the first session has ended.
    let ptoken = kit.login(&police).await;
    assert_eq!(police_check(ptoken, &citizens[2]).await.status, 201);
    assert_eq!(kit.deliver_notices().await.sent, 1, "one notice delivered");
    assert_eq!(kit.deliver_notices().await.sent, 0, "one notice pending");
    // A dispute, with the citizen's comment.
    // The broker's clock is a day ahead; the eID's follows, so its ID
    // tokens are fresh to the broker.
    let ahead = kit.clock.now_utc() - chrono::Utc::now();
    kit.sandbox
        .advance_oidc_clock(ahead.to_std().unwrap_or_default());
    let mut agent = kit.portal_agent();
    agent.sign_in(&citizens[0].pesel).await;
    let history = agent.get("/citizen/history").await;
    let vid = history
        .text
        .split("/citizen/dispute/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a dispute link in the history")
        .to_string();
    let csrf = history.csrf().unwrap();
    let disputed = agent
        .post(
            "/citizen/dispute",
            &[
                ("csrf", &csrf),
                ("verification", &vid),
                ("comment", "not me"),
            ],
        )
        .await;
    assert_eq!(disputed.status, 303, "{}", disputed.text);
    let unactivated = kit.citizens_with(&["adult", "no_phone"], 2).await;
    for c in &unactivated {
        kit.start_check(&token, &c.pesel, "id_card", "age_check")
            .await;
    }

    let dump = data_dump(kit);
    let dump = String::from_utf8_lossy(&dump);
    assert!(dump.contains("audit_log"), "the dump has the audit trail");
    assert!(
        dump.contains("verification_started"),
        "the dump has the checks"
    );
    assert!(
        dump.contains("INSERT INTO public.notice_outbox"),
        "the dump has the pending notice"
    );
    assert!(
        dump.contains("INSERT INTO public.disputes"),
        "the dump has the dispute"
    );

    for c in citizens.iter().chain(&unactivated) {
        assert!(!dump.contains(&c.pesel), "a PESEL is in the dump");
        if let Some(phone) = &c.phone {
            assert!(
                !dump.contains(phone.trim_start_matches('+')),
                "a phone number is in the dump"
            );
        }
        if let Some(email) = &c.email {
            assert!(!dump.contains(email.as_str()), "an e-mail is in the dump");
            let local = email.split('@').next().unwrap_or_default();
            assert!(!dump.contains(local), "an e-mail's name is in the dump");
        }
        for part in c.name.split_whitespace() {
            assert!(
                !dump.contains(&format!("'{part}'")) && !dump.contains(&format!(" {part} ")),
                "a name ({part}) is in the dump"
            );
        }
    }
}

/// RFC 4648 base32 without padding, as authenticator apps are given it.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buf, mut bits) = (String::new(), 0u64, 0u32);
    for b in bytes {
        buf = (buf << 8) | u64::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_dump_holds_no_totp_secret_in_clear() {
    let kit = Kit::start().await;
    // Officers made every way the broker makes them: the kit's, the admin
    // API's, a TOTP reset; each logs in, so each secret was used.
    let sec = kit.officer("security_officer", "U1").await;
    let sec_token = kit.login(&sec).await;
    let mut secrets = vec![sec.totp_secret.clone()];
    for _ in 0..3 {
        let clerk = kit.officer("clerk", "U1").await;
        kit.login(&clerk).await;
        secrets.push(clerk.totp_secret.clone());
    }
    let created = kit
        .post(
            "/v1/admin/officers",
            Some(&sec_token),
            serde_json::json!({"login": "new.clerk", "display_name": "N", "role": "clerk", "unit": "U1"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    secrets.push(okaz_tests::totp_secret_in(
        created.body["totp_uri"].as_str().unwrap(),
    ));
    let id = created.body["officer"]["id"].as_str().unwrap().to_string();
    let reset = kit
        .post(
            &format!("/v1/admin/officers/{id}/reset-totp"),
            Some(&sec_token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    secrets.push(okaz_tests::totp_secret_in(
        reset.body["totp_uri"].as_str().unwrap(),
    ));

    {
        let dump = &data_dump(&kit);
        let text = String::from_utf8_lossy(dump).to_lowercase();
        assert!(
            text.contains("insert into public.officers"),
            "the dump has the officers"
        );
        for s in &secrets {
            assert!(s.len() >= 16, "a real secret");
            let b32 = base32(s).to_lowercase();
            assert!(!text.contains(&b32), "a base32 TOTP secret is in the dump");
            let hex: String = s.iter().map(|b| format!("{b:02x}")).collect();
            assert!(
                !text.contains(&hex),
                "a TOTP secret (hex bytea) is in the dump"
            );
            assert!(
                !dump.windows(s.len()).any(|w| w == s.as_slice()),
                "a TOTP secret's raw bytes are in the dump"
            );
        }
    }
}
