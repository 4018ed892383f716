//! Police terminals' certificates beyond the handshake: a session opened by
//! certificate + PIN is bound to that certificate; a unit's terminals have
//! certificates from that unit's CA, and a terminal bound in one unit
//! cannot be taken over by another; CRLs replaced on disk take effect on a
//! SIGHUP to the running broker, without a restart, and an expired CRL is
//! refused.

use okaz_server::http::server::{ClientAuth, UnitCa};
use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::{HttpClient, Kit, Options, Reply};
use rcgen::{
    date_time_ymd, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason,
    RevokedCertParams, SerialNumber,
};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
use serde_json::json;

use okaz_tests::pki::{ca, Ca};

/// A CRL of `ca` revoking `revoked` serials, valid from `from` until `until` (years).
fn crl(ca: &Ca, number: u64, revoked: &[u64], (from, until): (i32, i32)) -> String {
    CertificateRevocationListParams {
        this_update: date_time_ymd(from, 1, 1),
        next_update: date_time_ymd(until, 1, 1),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|s| RevokedCertParams {
                serial_number: SerialNumber::from(*s),
                revocation_time: date_time_ymd(from, 2, 1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca.cert, &ca.key)
    .unwrap()
    .pem()
    .unwrap()
}

/// A unit's trust: its CA and a CRL revoking nothing.
fn unit(name: &str, ca: &Ca) -> UnitCa {
    let pem = crl(ca, 1, &[], (2025, 2036));
    let crl = rustls_pemfile::crls(&mut pem.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    UnitCa {
        unit: name.to_string(),
        cas: vec![CertificateDer::from(ca.cert.der().to_vec())],
        crls: vec![CertificateRevocationListDer::from(crl.to_vec())],
    }
}

/// A terminal's certificate from `ca`.
struct Terminal {
    pem: String,
    key: String,
    fingerprint: String,
}

fn terminal(ca: &Ca, serial: u64) -> Terminal {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, format!("terminal-{serial}"));
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = date_time_ymd(2025, 1, 1);
    p.not_after = date_time_ymd(2036, 1, 1);
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    Terminal {
        fingerprint: okaz_tests::sha256_hex(cert.der()),
        pem: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// A client presenting the terminal's certificate, trusting `broker_pem`.
fn client(broker_pem: &[u8], t: &Terminal) -> HttpClient {
    HttpClient::with_identity(&[broker_pem], t.pem.as_bytes(), t.key.as_bytes())
}

async fn pin_login(c: &HttpClient, base: &str, pin: &str) -> Result<Reply, String> {
    c.try_request(
        "POST",
        &format!("{base}/v1/sessions/certificate"),
        None,
        Some(json!({ "pin": pin }).to_string().into_bytes()),
    )
    .await
}

async fn call(
    c: &HttpClient,
    method: &str,
    url: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    c.request(
        method,
        url,
        Some(token),
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
}

fn code(r: &Reply) -> (u16, Option<&str>) {
    (r.status, r.body["code"].as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_police_token_is_refused_over_a_connection_without_its_certificate() {
    let waw = ca("KMP Warszawa terminals CA");
    let kit = Kit::start_with(Options {
        client_auth: Some(ClientAuth {
            units: vec![unit("KMP-Warszawa", &waw)],
        }),
        ..Options::default()
    })
    .await;
    let police = kit.officer("police", "KMP-Warszawa").await;
    let colleague = kit.officer("police", "KMP-Warszawa").await;
    let mine = terminal(&waw, 1);
    let theirs = terminal(&waw, 2);
    let pin = kit
        .broker
        .bind_certificate(None, &police.id, &mine.fingerprint)
        .await
        .unwrap();
    kit.broker
        .bind_certificate(None, &colleague.id, &theirs.fingerprint)
        .await
        .unwrap();
    let broker_pem = kit.broker_cert.as_bytes();
    let (with_mine, with_theirs) = (client(broker_pem, &mine), client(broker_pem, &theirs));
    let base = kit.broker_url.clone();

    let r = pin_login(&with_mine, &base, &pin).await.unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let me = call(&with_mine, "GET", &format!("{base}/v1/me"), &token, None).await;
    assert_eq!(me.status, 200, "{}", me.body);

    let driver = kit.citizen(&["adult", "licence"]).await;
    let check = json!({
        "subject": {"pesel": driver.pesel},
        "document": "driving_licence",
        "purpose": "operational_check",
        "case_reference": "RSD-7/2026",
    });
    let code_url = format!("{base}/v1/verifications/{}/code", uuid::Uuid::new_v4());
    for (over, c) in [
        ("no certificate", &kit.http),
        ("another valid, bound certificate", &with_theirs),
    ] {
        // Every way in, the hot path included, refuses the copied token.
        for (method, url, body) in [
            ("GET", format!("{base}/v1/me"), None),
            (
                "POST",
                format!("{base}/v1/verifications"),
                Some(check.clone()),
            ),
            ("POST", format!("{base}/v1/bundles"), Some(json!({}))),
            ("POST", code_url.clone(), Some(json!({"code": "123456"}))),
            ("GET", format!("{base}/v1/admin/lockouts"), None),
            ("DELETE", format!("{base}/v1/sessions/current"), None),
        ] {
            let r = call(c, method, &url, &token, body).await;
            assert_eq!(
                code(&r),
                (401, Some("session_expired")),
                "{method} {url} over a connection with {over}: {}",
                r.body
            );
            assert_eq!(r.content_type, "application/problem+json");
        }
    }

    // None of it cost the officer anything, nor ended the session: over
    // its own certificate it goes on.
    let me = call(&with_mine, "GET", &format!("{base}/v1/me"), &token, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["quota"]["used"], 0);
    let r = call(
        &with_mine,
        "POST",
        &format!("{base}/v1/verifications"),
        &token,
        Some(check),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["quota"]["used"], 1);

    // A clerk's session (password + TOTP) is bound to no certificate: it is
    // served over a terminal's connection as over any other.
    let clerk = kit.officer("clerk", "USC-1").await;
    let clerk_token = kit.login(&clerk).await;
    let r = call(
        &with_mine,
        "GET",
        &format!("{base}/v1/me"),
        &clerk_token,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_units_ca_is_refused_at_login_and_not_bound_across_units() {
    let waw = ca("KMP Warszawa terminals CA");
    let krk = ca("KMP Krakow terminals CA");
    let kit = Kit::start_with(Options {
        client_auth: Some(ClientAuth {
            units: vec![unit("KMP-Warszawa", &waw), unit("KMP-Krakow", &krk)],
        }),
        ..Options::default()
    })
    .await;
    let base = kit.broker_url.clone();
    let broker_pem = kit.broker_cert.as_bytes();
    let police = kit.officer("police", "KMP-Warszawa").await;

    // Bound by fingerprint (all the admin API sees), a Kraków terminal
    // passes the handshake, since Kraków's CA is trusted, but it is not a
    // Warsaw terminal: refused at login, like an unknown certificate.
    let from_krakow = terminal(&krk, 10);
    let pin = kit
        .broker
        .bind_certificate(None, &police.id, &from_krakow.fingerprint)
        .await
        .unwrap();
    let r = pin_login(&client(broker_pem, &from_krakow), &base, &pin)
        .await
        .unwrap();
    assert_eq!(code(&r), (401, Some("invalid_credentials")), "{}", r.body);
    let chain = kit.store.audit_chain(&police.id).await.unwrap();
    assert!(
        chain
            .iter()
            .any(|r| r.entry.event.as_str() == "login_failed"
                && r.entry.outcome.as_str() == "invalid_credentials"),
        "the refused login is on record"
    );
    assert!(!chain
        .iter()
        .any(|r| r.entry.event.as_str() == "login_succeeded"));

    // A terminal from the officer's own unit's CA logs in.
    let from_warsaw = terminal(&waw, 11);
    let warsaw_pin = kit
        .broker
        .bind_certificate(None, &police.id, &from_warsaw.fingerprint)
        .await
        .unwrap();
    let r = pin_login(&client(broker_pem, &from_warsaw), &base, &warsaw_pin)
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);

    // Kraków's police administrator cannot take the Warsaw terminal over.
    let krk_admin = kit.officer("police_admin", "KMP-Krakow").await;
    let krk_police = kit.officer("police", "KMP-Krakow").await;
    let admin_token = kit.login(&krk_admin).await;
    let r = kit
        .post(
            &format!("/v1/admin/officers/{}/certificate", krk_police.id),
            Some(&admin_token),
            json!({ "fingerprint": from_warsaw.fingerprint }),
        )
        .await;
    assert_eq!(code(&r), (403, Some("not_permitted")), "{}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("another unit"),
        "{}",
        r.body
    );
    // It stays the Warsaw officer's, with the same PIN.
    let r = pin_login(&client(broker_pem, &from_warsaw), &base, &warsaw_pin)
        .await
        .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);

    // The operator's command line says the same, and checks the CA too.
    let dir = kit.dir.path();
    let mut config = std::fs::read_to_string(&kit.config_path).unwrap();
    for (name, ca) in [("KMP-Warszawa", &waw), ("KMP-Krakow", &krk)] {
        let ca_file = dir.join(format!("{name}.pem"));
        let crl_file = dir.join(format!("{name}.crl"));
        std::fs::write(&ca_file, ca.cert.pem()).unwrap();
        std::fs::write(&crl_file, crl(ca, 1, &[], (2025, 2036))).unwrap();
        config.push_str(&format!(
            "[[server.client_cas]]\nunit = \"{name}\"\nca_file = \"{}\"\ncrl_file = \"{}\"\n",
            ca_file.display(),
            crl_file.display()
        ));
    }
    let config_path = dir.join("with-units.toml");
    std::fs::write(&config_path, config).unwrap();
    let bind = |login: &str, t: &Terminal| {
        let file = dir.join(format!("{}.pem", &t.fingerprint[..8]));
        std::fs::write(&file, &t.pem).unwrap();
        let out = okaz_tests::server_command(&config_path)
            .args(["officer", "bind-certificate", "--login", login, "--cert"])
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, err) = bind(&krk_police.login, &from_warsaw);
    assert!(!ok);
    assert!(
        err.contains("was not issued by the CA configured for unit KMP-Krakow")
            && err.contains("issued by: KMP-Warszawa"),
        "{err}"
    );
    // A Kraków certificate, but bound in Warsaw already.
    let (ok, err) = bind(&krk_police.login, &from_krakow);
    assert!(!ok);
    assert!(
        err.contains("already bound to an officer of another unit"),
        "{err}"
    );
    let (found, _) = kit
        .store
        .certificate_binding(&from_krakow.fingerprint)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, police.id, "the binding did not move");
    // Its own unit's terminal binds.
    let own = terminal(&krk, 12);
    let (ok, err) = bind(&krk_police.login, &own);
    assert!(ok, "{err}");
}

/// Waits until the broker's metrics count `n` reloads with `result`.
async fn reloads(replica: &Replica, result: &str, n: u64) {
    let line = format!("okaz_client_trust_reloads_total{{result=\"{result}\"}} {n}");
    for _ in 0..300 {
        let m = okaz_tests::plain_get(&format!("{}/metrics", replica.ops_url))
            .await
            .unwrap();
        if m.text.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the broker never reported {line}");
}

fn hangup(replica: &Replica) {
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &replica.pid().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -HUP failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crl_replaced_on_disk_and_signalled_revokes_a_terminal_without_a_restart() {
    let kit = Kit::start().await;
    let waw = ca("KMP Warszawa terminals CA");
    let dir = kit.dir.path();
    let (ca_file, crl_file) = (dir.join("kmp-ca.pem"), dir.join("kmp.crl"));
    std::fs::write(&ca_file, waw.cert.pem()).unwrap();
    std::fs::write(&crl_file, crl(&waw, 1, &[], (2025, 2036))).unwrap();
    let mut config = std::fs::read_to_string(&kit.config_path).unwrap();
    config.push_str(&format!(
        "[[server.client_cas]]\nunit = \"KMP-Warszawa\"\nca_file = \"{}\"\ncrl_file = \"{}\"\n",
        ca_file.display(),
        crl_file.display()
    ));
    let config_path = dir.join("with-crl.toml");
    std::fs::write(&config_path, config).unwrap();

    let (one, two) = (terminal(&waw, 21), terminal(&waw, 22));
    let mut pins = Vec::new();
    for t in [&one, &two] {
        let o = kit.officer("police", "KMP-Warszawa").await;
        pins.push(
            kit.broker
                .bind_certificate(None, &o.id, &t.fingerprint)
                .await
                .unwrap(),
        );
    }
    let cert = dir.join("replica.pem");
    let replica = Replica::spawn_with(
        &config_path,
        &cert,
        ReplicaOptions {
            // Only the signal reloads here, so each reload is this test's.
            env: vec![("OKAZ_SERVER_CRL_RELOAD_SECS".into(), "0".into())],
            ..ReplicaOptions::default()
        },
    );
    let broker_pem = std::fs::read(&cert).unwrap();
    let base = replica.url.clone();
    let me = format!("{base}/v1/me");
    // Each client keeps its connection open across the reloads.
    let (c1, c2) = (client(&broker_pem, &one), client(&broker_pem, &two));
    let mut tokens = Vec::new();
    for (c, pin) in [(&c1, &pins[0]), (&c2, &pins[1])] {
        let r = pin_login(c, &base, pin).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.body);
        let token = r.body["token"].as_str().unwrap().to_string();
        assert_eq!(call(c, "GET", &me, &token, None).await.status, 200);
        tokens.push(token);
    }

    // The unit revokes terminal one: a new CRL on disk, then SIGHUP.
    std::fs::write(&crl_file, crl(&waw, 2, &[21], (2025, 2036))).unwrap();
    hangup(&replica);
    reloads(&replica, "ok", 1).await;
    // Its open connection was not dropped (a new one could not even be
    // made), but its next request is refused...
    let r = c1.try_request("GET", &me, Some(&tokens[0]), None).await;
    let r = r.expect("the open connection still answers");
    assert_eq!(code(&r), (401, Some("session_expired")), "{}", r.body);
    assert!(r.text.contains("no longer trusted"), "{}", r.body);
    // ...and a new connection fails at the handshake.
    let fresh = pin_login(&client(&broker_pem, &one), &base, &pins[0]).await;
    assert!(
        fresh.is_err(),
        "a revoked terminal got {:?}",
        fresh.map(|r| r.status)
    );
    // Terminal two goes on, its session and connection untouched.
    assert_eq!(call(&c2, "GET", &me, &tokens[1], None).await.status, 200);

    // A broken file is not loaded: the previous CRL stays in force (never
    // fall open), and the failure is counted.
    std::fs::write(
        &crl_file,
        "-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n",
    )
    .unwrap();
    hangup(&replica);
    reloads(&replica, "failed", 1).await;
    let fresh = pin_login(&client(&broker_pem, &one), &base, &pins[0]).await;
    assert!(fresh.is_err(), "fell open: {:?}", fresh.map(|r| r.status));
    assert_eq!(call(&c2, "GET", &me, &tokens[1], None).await.status, 200);

    // An expired CRL (nextUpdate passed) leaves revocation unknown: refused,
    // on the open connection and at a new handshake.
    std::fs::write(&crl_file, crl(&waw, 3, &[], (2020, 2021))).unwrap();
    hangup(&replica);
    reloads(&replica, "ok", 2).await;
    let r = c2.try_request("GET", &me, Some(&tokens[1]), None).await;
    assert_eq!(code(&r.unwrap()), (401, Some("session_expired")));
    let fresh = pin_login(&client(&broker_pem, &two), &base, &pins[1]).await;
    assert!(
        fresh.is_err(),
        "an expired CRL let {:?} in",
        fresh.map(|r| r.status)
    );

    // The same process served all along, and still serves clerks, who have
    // no certificate.
    let health = okaz_tests::plain_get(&format!("{}/healthz", replica.ops_url))
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    let r = replica
        .http
        .try_request("GET", &format!("{base}/v1/audit/checkpoint"), None, None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}
