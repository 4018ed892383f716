//! Operating the broker as a process: the `okaz-server` commands, health
//! and metrics, graceful shutdown on SIGTERM, and logs free of personal data.

use std::process::Command;

use okaz_tests::replica::Replica;
use okaz_tests::Kit;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_process_serves_drains_on_sigterm_and_logs_no_personal_data() {
    let kit = Kit::start().await;
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;

    // An officer created the way an administrator would.
    let printed = okaz_tests::run_ok(kit.server_cmd().args([
        "officer",
        "add",
        "--login",
        "jkowalska",
        "--name",
        "Jan Kowalska",
        "--role",
        "clerk",
        "--unit",
        "USC-1",
    ]));
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("initial password: "))
        .unwrap()
        .trim()
        .to_string();
    let uri = printed
        .lines()
        .find_map(|l| l.strip_prefix("TOTP URI:         "))
        .unwrap()
        .trim()
        .to_string();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let secret = okaz_tests::totp_secret_in(&uri);

    let config = kit.dir.path().join("okaz.toml");
    let mut replica = Replica::spawn(&config, &kit.dir.path().join("replica.pem"), "debug");
    let base = replica.url.clone();
    let http = replica.http.clone();

    let ops = replica.ops_url.clone();
    for path in ["/healthz", "/readyz"] {
        let r = okaz_tests::plain_get(&format!("{ops}{path}"))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{path} on the operations listener");
    }
    // Not on the API port: what the broker measures is for the operator only.
    for path in ["/metrics", "/readyz", "/healthz"] {
        let r = http
            .request("GET", &format!("{base}{path}"), None, None)
            .await;
        assert_eq!(r.status, 404, "{path} on the API port");
    }

    let totp = okaz_core::credentials::totp_code_at(&secret, chrono::Utc::now().timestamp() as u64)
        .unwrap();
    let login = json!({"login": "jkowalska", "password": password, "totp": totp}).to_string();
    let r = http
        .request(
            "POST",
            &format!("{base}/v1/sessions"),
            None,
            Some(login.into_bytes()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let start = json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "identity_confirmation"}).to_string();
    let r = http
        .request(
            "POST",
            &format!("{base}/v1/verifications"),
            Some(&token),
            Some(start.into_bytes()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(citizen.phone.as_deref().unwrap()).await;
    let wrong = json!({"code": "000000"}).to_string();
    http.request(
        "POST",
        &format!("{base}/v1/verifications/{id}/code"),
        Some(&token),
        Some(wrong.into_bytes()),
    )
    .await;

    // A slow register keeps the release in flight while SIGTERM arrives.
    kit.fault("persons", |f| f.latency_ms = 1500);
    let url = format!("{base}/v1/verifications/{id}/code");
    let body = json!({"code": code}).to_string();
    let in_flight = {
        let http = http.clone();
        let token = token.clone();
        tokio::spawn(async move {
            http.request("POST", &url, Some(&token), Some(body.into_bytes()))
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let stopping = tokio::task::spawn_blocking(move || {
        let status = replica.terminate();
        (status, replica.logs())
    });
    // Draining: readiness fails at once, so a load balancer moves away,
    // while the API still answers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(900);
    let ready = loop {
        let r = okaz_tests::plain_get(&format!("{ops}/readyz"))
            .await
            .unwrap();
        if r.status == 503 || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!((ready.status, ready.text.as_str()), (503, "draining\n"));
    let me = http
        .request("GET", &format!("{base}/v1/me"), Some(&token), None)
        .await;
    assert_eq!(me.status, 200, "the API serves while draining");
    let done = in_flight.await.unwrap();
    assert_eq!(
        done.status, 200,
        "the in-flight request finished: {}",
        done.body
    );
    assert!(done.body["document"]["fields"]["given_names"].is_string());
    let (status, logs) = stopping.await.unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(logs.contains("request"), "the broker did log: {logs}");
    assert!(!logs.contains(&citizen.pesel), "a PESEL is in the log");
    assert!(
        !logs.contains(citizen.phone.as_deref().unwrap().trim_start_matches('+')),
        "a phone is in the log"
    );
    assert!(!logs.contains(&code), "the SMS code is in the log");
    for name in citizen.name.split_whitespace() {
        assert!(!logs.contains(name), "a name ({name}) is in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_verification_outcomes() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    kit.start_check(&token, "12345678901", "id_card", "age_check")
        .await;
    let m = kit.ops_get("/metrics").await;
    assert_eq!(m.status, 200);
    assert!(
        m.text
            .contains("okaz_requests_total{route=\"POST /v1/sessions\",status=\"201\"} 1"),
        "{}",
        m.text
    );
    assert!(
        m.text
            .contains("okaz_verifications_total{outcome=\"invalid_pesel\"} 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains(
        "okaz_request_duration_seconds_bucket{route=\"POST /v1/verifications\",le=\"+Inf\"} 1"
    ));

    // A real check: the contact register and the SMS gateway are measured,
    // the gauges read at scrape time are there, and no label holds a person.
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let r = kit
        .start_check(&token, &citizen.pesel, "id_card", "age_check")
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let m = kit.ops_get("/metrics").await;
    for expected in [
        "okaz_upstream_request_duration_seconds_count{upstream=\"contacts\"} 1",
        "okaz_upstream_request_duration_seconds_count{upstream=\"sms\"} 1",
        "okaz_verification_starts_total{document=\"id_card\",outcome=\"ok\"} 1",
        "okaz_breaker_state{upstream=\"persons\"} 0",
        "okaz_db_pool_connections{state=\"idle\"}",
        "okaz_login_queue_depth 0",
        "okaz_draining 0",
    ] {
        assert!(m.text.contains(expected), "{expected} in\n{}", m.text);
    }
    assert!(!m.text.contains(&citizen.pesel));
    assert!(!m
        .text
        .contains(citizen.phone.as_deref().unwrap().trim_start_matches('+')));
}

#[test]
fn check_policy_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        std::fs::read_to_string(okaz_tests::workspace().join("policies/default.toml")).unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        good.replace(
            "challenge_attempts = 3",
            "challenge_attempts = 3\ncolour = \"red\"",
        ),
    )
    .unwrap();
    let out = Command::new(okaz_tests::binary("okaz-server"))
        .arg("check-policy")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("default.toml:") && err.contains("colour"),
        "{err}"
    );

    okaz_tests::run_ok(
        Command::new(okaz_tests::binary("okaz-server"))
            .arg("check-policy")
            .arg(okaz_tests::workspace().join("policies")),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_without_tls_material() {
    let kit = Kit::start().await;
    let err = okaz_tests::run_fails(
        kit.server_cmd()
            .arg("serve")
            .env("OKAZ_SERVER_LISTEN", "127.0.0.1:0"),
    );
    assert!(err.contains("--dev-self-signed"), "{err}");
}
