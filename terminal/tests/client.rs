//! The API client against a scripted HTTP/1.1 broker on localhost: bodies
//! decode, the token is sent, problems keep their code.

// Test helpers outside #[test] fns: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use okaz_protocol::{ErrorCode, LoginRequest};
use okaz_terminal::client::{Client, TlsFiles};
use okaz_terminal::{Command, Failure, Msg};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves one canned answer per connection, in order, and hands back the
/// requests it saw.
async fn broker(
    answers: Vec<(u16, &'static str, String)>,
) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for (status, ctype, body) in answers {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let mut n = 0;
            loop {
                n += s.read(&mut buf[n..]).await.unwrap();
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if n >= end + 4 + len {
                        seen.push(text);
                        break;
                    }
                }
            }
            let resp = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(resp.as_bytes()).await.unwrap();
            s.shutdown().await.ok();
        }
        seen
    });
    (url, task)
}

const QUOTA: &str = r#"{"used":3,"limit":50,"resets_at":"2026-03-02T23:00:00Z"}"#;

#[tokio::test]
async fn login_keeps_the_token_and_sends_it_on_later_calls() {
    let session = format!(
        r#"{{"token":"tok-123","expires_at":"2026-03-02T17:00:00Z","officer":{{"id":"o1","login":"a","display_name":"A","role":"clerk","unit":"U"}},"quota":{QUOTA}}}"#
    );
    let problem = format!(
        r#"{{"type":"x","title":"t","status":422,"code":"wrong_code","attempts_left":2,"quota":{QUOTA}}}"#
    );
    let (url, task) = broker(vec![
        (201, "application/json", session),
        (422, "application/problem+json", problem),
        (200, "text/html", "<html>proxy</html>".into()),
    ])
    .await;
    let mut c = Client::new(&url, &TlsFiles::default()).unwrap();
    let msg = c
        .perform(Command::Login(LoginRequest {
            login: "a".into(),
            password: "pw".into(),
            totp: "123456".into(),
        }))
        .await;
    let Some(Msg::LoggedIn(Ok(l))) = msg else {
        panic!("{msg:?}")
    };
    assert_eq!(l.officer.id, "o1");
    let msg = c
        .perform(Command::SubmitCode {
            id: "v 1".into(),
            code: "000000".into(),
            photo: okaz_protocol::PhotoFit::NONE,
        })
        .await;
    let Some(Msg::CodeChecked(Err(Failure::Problem(p)))) = msg else {
        panic!("{msg:?}")
    };
    assert_eq!((p.code, p.attempts_left), (ErrorCode::WrongCode, Some(2)));
    assert_eq!(p.quota.map(|q| q.used), Some(3));
    let msg = c.perform(Command::FetchMe).await;
    assert!(
        matches!(msg, Some(Msg::Me(Err(Failure::Http(200))))),
        "{msg:?}"
    );
    let seen = task.await.unwrap();
    assert!(seen[0].starts_with("POST /v1/sessions "));
    assert!(!seen[0].to_ascii_lowercase().contains("authorization"));
    assert!(seen[1].starts_with("POST /v1/verifications/v%201/code "));
    assert!(seen[1].contains("Bearer tok-123"));
    assert!(seen[1].contains(r#"{"code":"000000","#));
    // The code asks for no photo here (the box is 0x0).
    assert!(seen[1].contains(r#""photo":{"width":0,"height":0}"#));
    assert!(seen[2].starts_with("GET /v1/me "));
}

#[tokio::test]
async fn logout_forgets_the_token() {
    let (url, task) = broker(vec![(204, "application/json", String::new())]).await;
    let mut c = Client::new(&url, &TlsFiles::default()).unwrap();
    // No token yet: logout sends nothing and answers nothing.
    assert!(c.perform(Command::Logout).await.is_none());
    assert!(c
        .perform(Command::Cancel { id: "v1".into() })
        .await
        .is_none());
    let seen = task.await.unwrap();
    assert!(seen[0].starts_with("DELETE /v1/verifications/v1 "));
}
