//! The Kannel adapter against the sandbox gateway: delivery to the inbox,
//! refusal, and a gateway that is down.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use okaz_registry::http::{build_client, get_json, ReadLimits};
use okaz_registry::sms::{KannelConfig, KannelGateway, SmsError};
use okaz_sandbox::{KANNEL_PASSWORD, KANNEL_USERNAME};

fn kannel(url: url::Url, ca: &str, password: &str) -> KannelGateway {
    KannelGateway::new(KannelConfig {
        sendsms_url: url,
        username: KANNEL_USERNAME.into(),
        password: password.into(),
        from: Some("OKAZ".into()),
        ca_pem: Some(ca.as_bytes().to_vec()),
        timeout: Duration::from_secs(2),
        dlr_url: None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_reaches_the_phone_inbox() {
    let sb = sandbox().await;
    let gw = kannel(sb.sendsms_url(), &sb.ca_pem, KANNEL_PASSWORD);
    let phone = sb.find("contactable", 1)[0].phone.clone().unwrap();
    let text = "Kod okaz: 123456. Urząd Miasta pyta o dowód osobisty. Nie podawaj kodu nikomu.";
    gw.send(&phone, text).await.unwrap();
    let inbox = sb.messages(&phone);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].text, text);
    // And as a citizen's phone would read it, over HTTPS.
    let http = build_client(Some(sb.ca_pem.as_bytes()), Duration::from_secs(2)).unwrap();
    let url = sb
        .base_url()
        .join(&format!("phones/{phone}/messages"))
        .unwrap();
    let limits = ReadLimits {
        total_timeout: Duration::from_secs(2),
        retries: 0,
        max_bytes: 1 << 16,
    };
    let body = get_json(&http, &url, limits, "sandbox").await.unwrap();
    let list: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(list[0]["text"], text);
    assert!(list[0]["received_at"].as_str().is_some());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_refused_with_403() {
    let sb = sandbox().await;
    let gw = kannel(sb.sendsms_url(), &sb.ca_pem, "wrong");
    let e = gw.send("+48601234567", "x").await.unwrap_err();
    assert!(matches!(e, SmsError::Refused { status: 403 }), "{e}");
    assert!(!e.to_string().contains("601234567"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_gateway_is_a_typed_error() {
    let sb = sandbox().await;
    fault(&sb, "sms", |f| f.error_rate = 1.0);
    let gw = kannel(sb.sendsms_url(), &sb.ca_pem, KANNEL_PASSWORD);
    let e = gw.send("+48601234567", "x").await.unwrap_err();
    assert!(matches!(e, SmsError::Refused { status: 503 }), "{e}");
    assert!(sb.messages("+48601234567").is_empty());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_is_down_is_unavailable() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gw = KannelGateway::new(KannelConfig {
        sendsms_url: format!("http://127.0.0.1:{port}/cgi-bin/sendsms")
            .parse()
            .unwrap(),
        username: "u".into(),
        password: "p".into(),
        from: None,
        ca_pem: None,
        timeout: Duration::from_secs(2),
        dlr_url: None,
    })
    .unwrap();
    let e = gw.send("+48601234567", "x").await.unwrap_err();
    assert!(matches!(e, SmsError::Unavailable { .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_gateway_times_out() {
    let sb = sandbox().await;
    fault(&sb, "sms", |f| f.hang = true);
    let gw = KannelGateway::new(KannelConfig {
        sendsms_url: sb.sendsms_url(),
        username: KANNEL_USERNAME.into(),
        password: KANNEL_PASSWORD.into(),
        from: None,
        ca_pem: Some(sb.ca_pem.as_bytes().to_vec()),
        timeout: Duration::from_millis(300),
        dlr_url: None,
    })
    .unwrap();
    let e = gw.send("+48601234567", "x").await.unwrap_err();
    assert!(matches!(e, SmsError::Unavailable { .. }), "{e}");
    sb.shutdown().await;
}
