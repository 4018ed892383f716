//! Police terminals over mutual TLS: a certificate from the unit's CA plus
//! the officer's PIN. Unknown, expired and revoked certificates are refused
//! at the handshake; a wrong PIN is throttled like a password.

use okaz_server::http::server::ClientAuth;
use okaz_tests::{HttpClient, Kit, Options};
use rcgen::{
    date_time_ymd, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use serde_json::json;

use okaz_tests::pki::{ca, Ca};

/// A terminal certificate: (PEM, key PEM, fingerprint).
fn terminal(ca: &Ca, serial: u64, valid: (i32, i32)) -> (String, String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, format!("terminal-{serial}"));
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = date_time_ymd(valid.0, 1, 1);
    p.not_after = date_time_ymd(valid.1, 1, 1);
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    let fp = okaz_tests::sha256_hex(cert.der());
    (cert.pem(), key.serialize_pem(), fp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminals_log_in_with_a_good_certificate_and_pin_only() {
    let unit_ca = ca("KMP Warszawa terminals CA");
    let stranger_ca = ca("Some other CA");
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2026, 1, 1),
        next_update: date_time_ymd(2036, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(666u64),
            revocation_time: date_time_ymd(2026, 2, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&unit_ca.cert, &unit_ca.key)
    .unwrap();
    let client_auth = ClientAuth::unit(
        "KMP-Warszawa",
        vec![CertificateDer::from(unit_ca.cert.der().to_vec())],
        vec![CertificateRevocationListDer::from(crl.der().to_vec())],
    );
    let kit = Kit::start_with(Options {
        client_auth: Some(client_auth),
        ..Options::default()
    })
    .await;
    let police = kit.officer("police", "KMP-Warszawa").await;

    let good = terminal(&unit_ca, 1, (2025, 2036));
    let expired = terminal(&unit_ca, 2, (2020, 2021));
    let revoked = terminal(&unit_ca, 666, (2025, 2036));
    let foreign = terminal(&stranger_ca, 3, (2025, 2036));
    let pin = kit
        .broker
        .bind_certificate(None, &police.id, &good.2)
        .await
        .unwrap();
    for (_, _, fp) in [&expired, &revoked, &foreign] {
        // Even bound to an officer, TLS refuses these before any PIN is asked.
        kit.broker
            .bind_certificate(None, &police.id, fp)
            .await
            .unwrap();
    }
    let pin_now = kit
        .broker
        .bind_certificate(None, &police.id, &good.2)
        .await
        .unwrap();
    assert_ne!(pin, pin_now, "rebinding sets a new PIN");

    let client = |t: &(String, String, String)| {
        HttpClient::with_identity(
            &[kit.broker_cert.as_bytes()],
            t.0.as_bytes(),
            t.1.as_bytes(),
        )
    };
    let url = format!("{}/v1/sessions/certificate", kit.broker_url);
    let body = |p: &str| Some(json!({"pin": p}).to_string().into_bytes());

    let ok = client(&good)
        .try_request("POST", &url, None, body(&pin_now))
        .await
        .unwrap();
    assert_eq!(ok.status, 201, "{}", ok.body);
    let token = ok.body["token"].as_str().unwrap().to_string();
    let me = client(&good)
        .try_request(
            "GET",
            &format!("{}/v1/me", kit.broker_url),
            Some(&token),
            None,
        )
        .await
        .unwrap();
    assert_eq!(me.body["officer"]["role"], "police");

    for (name, t) in [
        ("unknown CA", &foreign),
        ("expired", &expired),
        ("revoked", &revoked),
    ] {
        let r = client(t)
            .try_request("POST", &url, None, body(&pin_now))
            .await;
        assert!(
            r.is_err(),
            "a {name} certificate must be refused at the handshake, got {:?}",
            r.map(|r| r.status)
        );
    }

    // Without a certificate the same listener serves clerks, but no PIN login.
    let r = kit
        .post("/v1/sessions/certificate", None, json!({"pin": pin_now}))
        .await;
    r.assert_refused(401, "invalid_credentials");

    // Wrong PINs count like wrong passwords: throttled after five.
    let wrong = if pin_now == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let r = client(&good)
            .try_request("POST", &url, None, body(wrong))
            .await
            .unwrap();
        r.assert_refused(401, "invalid_credentials");
    }
    let r = client(&good)
        .try_request("POST", &url, None, body(&pin_now))
        .await
        .unwrap();
    r.assert_refused(429, "login_throttled");
}
