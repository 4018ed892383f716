//! One request id follows a check: the broker answers with it
//! (`X-Request-Id`), every JSON log line of the request carries it, and it
//! travels to the registers and the SMS gateway as `X-Request-Id`.

use std::sync::{Arc, Mutex};

use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::Kit;
use serde_json::json;

/// A one-request-per-connection HTTP server answering every request with
/// `status` and `body`, keeping the request heads it was sent.
async fn recording_server(
    status: &'static str,
    body: &'static str,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 16384];
            let n = s.read(&mut buf).await.unwrap_or(0);
            kept.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).to_string());
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes()).await;
        }
    });
    (port, seen)
}

fn header_in(request: &str) -> Option<String> {
    request
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .map(|v| v.trim().to_string())
}

/// Logs in to `replica` and starts a check; the answer's status and request id.
async fn start_check(kit: &Kit, replica: &Replica) -> (u16, String) {
    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let clerk = kit.officer("clerk", "U1").await;
    let token = replica.login(&clerk).await;
    let body =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"});
    let req = http::Request::post(format!("{}/v1/verifications", replica.url))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.to_string(),
        )))
        .unwrap();
    let (status, headers, text) = replica.http.exchange(req).await.unwrap();
    let id = headers["x-request-id"].to_str().unwrap().to_string();
    if status >= 400 {
        let problem: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            problem["request_id"],
            id.as_str(),
            "the problem names the same id"
        );
    }
    (status, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_travels_to_the_sms_gateway() {
    let kit = Kit::start().await;
    let (port, seen) = recording_server("202 Accepted", "0: Accepted for delivery").await;
    let replica = Replica::spawn_with(
        &kit.dir.path().join("okaz.toml"),
        &kit.dir.path().join("rid-sms.pem"),
        ReplicaOptions {
            log: "warn".into(),
            env: vec![(
                "OKAZ_SMS_SENDSMS_URL".into(),
                format!("http://127.0.0.1:{port}/cgi-bin/sendsms"),
            )],
            ..ReplicaOptions::default()
        },
    );
    let (status, id) = start_check(&kit, &replica).await;
    assert_eq!(status, 201);
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        header_in(&sent[0]).as_deref(),
        Some(id.as_str()),
        "{}",
        sent[0]
    );
    println!("request {id}: the same id reached the SMS gateway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_travels_to_the_registers_and_is_in_every_json_log_line() {
    let kit = Kit::start().await;
    // A contact register that is down: the broker asks (and retries), then
    // answers 503 registry_unavailable.
    let (port, seen) = recording_server("503 Service Unavailable", "down").await;
    let mut replica = Replica::spawn_with(
        &kit.dir.path().join("okaz.toml"),
        &kit.dir.path().join("rid-reg.pem"),
        ReplicaOptions {
            log: "info".into(),
            env: vec![
                (
                    "OKAZ_REGISTERS_BASE_URL".into(),
                    format!("http://127.0.0.1:{port}/"),
                ),
                ("OKAZ_LOG_JSON".into(), "true".into()),
            ],
            ..ReplicaOptions::default()
        },
    );
    let (status, id) = start_check(&kit, &replica).await;
    assert_eq!(status, 502, "registry_unavailable");
    let asked = seen.lock().unwrap().clone();
    assert!(!asked.is_empty(), "the register was asked");
    for request in &asked {
        assert_eq!(
            header_in(request).as_deref(),
            Some(id.as_str()),
            "{request}"
        );
    }
    assert!(replica.terminate().success());
    let logs = replica.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains(&id)).collect();
    assert!(
        lines.len() >= 2,
        "the request and the register's failure are logged: {logs}"
    );
    for l in &lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(
            v["span"]["request_id"] == id.as_str() || v["fields"]["request_id"] == id.as_str(),
            "{l}"
        );
    }
    println!(
        "request {id}: sent to the register {} times; {} JSON log lines carry it",
        asked.len(),
        lines.len()
    );
}
