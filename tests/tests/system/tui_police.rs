//! A police officer on patrol, under tmux at 40x16 (handheld profile, real
//! binaries, a terminal certificate from the unit's CA made with rcgen):
//! logs in with the certificate and PIN, runs a traffic stop by PESEL and
//! plate, and sees four parts; the audit shows one counted check with four
//! documents.

use std::time::Duration;

use okaz_server::http::server::ClientAuth;
use okaz_tests::tmux::{six_digits_after, Tmux};
use okaz_tests::{binary, Kit, Options};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};

/// Bound on each wait for the screen; never an assertion on a fixed sleep.
const WAIT: Duration = Duration::from_secs(20);

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patrol_logs_in_with_certificate_and_pin_and_runs_a_traffic_stop_at_40x16() {
    // The unit's CA, an empty CRL, and one terminal certificate.
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "KMP Warszawa terminals CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = p.self_signed(&ca_key).unwrap();
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(2026, 1, 1),
        next_update: date_time_ymd(2036, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca, &ca_key)
    .unwrap();
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "terminal-7");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(SerialNumber::from(7u64));
    p.not_before = date_time_ymd(2025, 1, 1);
    p.not_after = date_time_ymd(2036, 1, 1);
    let cert = p.signed_by(&key, &ca, &ca_key).unwrap();

    let kit = Kit::start_with(Options {
        client_auth: Some(ClientAuth::unit(
            "KMP-Warszawa",
            vec![CertificateDer::from(ca.der().to_vec())],
            vec![CertificateRevocationListDer::from(crl.der().to_vec())],
        )),
        ..Options::default()
    })
    .await;
    let police = kit.officer("police", "KMP-Warszawa").await;
    let pin = kit
        .broker
        .bind_certificate(None, &police.id, &okaz_tests::sha256_hex(cert.der()))
        .await
        .unwrap();
    let driver = kit.citizen(&["adult", "licence"]).await;
    let owner = kit.citizen(&["adult", "vehicle"]).await;
    let plate = owner.plates.first().unwrap().clone();

    let dir = kit.dir.path();
    let (ca_file, cert_file, key_file) = (
        dir.join("broker.pem"),
        dir.join("terminal.pem"),
        dir.join("terminal.key"),
    );
    std::fs::write(&ca_file, &kit.broker_cert).unwrap();
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();

    let tmux = Tmux::start(40, 16);
    tmux.run(&format!(
        "{} --broker {} --ca {} --cert {} --key {} --profile handheld --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&kit.broker_url),
        q(&ca_file.display().to_string()),
        q(&cert_file.display().to_string()),
        q(&key_file.display().to_string()),
    ));
    let login = tmux.wait_for_text("Terminal log-in", WAIT);
    assert!(
        !login.contains("Password"),
        "only the PIN is asked:\n{login}"
    );

    // A wrong PIN first: the officer is told how many tries are left.
    tmux.type_text("000000");
    tmux.press(&["Enter"]);
    tmux.wait_for_text("Wrong PIN", WAIT);
    tmux.type_text(&pin);
    tmux.press(&["Enter"]);
    tmux.wait_for_text("Look up by", WAIT);

    // PESEL, then the traffic stop (after the five documents), the plate,
    // and the case reference.
    tmux.type_text(&driver.pesel);
    tmux.press(&["Tab"]);
    for _ in 0..5 {
        tmux.press(&["Right"]);
    }
    tmux.wait_for_text("Traffic stop", WAIT);
    tmux.press(&["BTab"]);
    tmux.type_text(&plate);
    tmux.press(&["Tab", "Tab"]);
    tmux.type_text("RSD-12/2026");
    tmux.press(&["Enter"]);

    let shown = tmux.wait_for("the four parts of the traffic stop", WAIT, |s| {
        s.contains("Driving licence")
            && s.contains("Vehicle registration")
            && s.contains("Technical inspection")
            && s.contains("OC insurance")
            && s.contains("Clears in")
    });
    assert!(!shown.contains(&driver.pesel), "{shown}");

    let audit = kit.store.audit_chain(&police.id).await.unwrap();
    let counted = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "attempt_counted")
        .count();
    assert_eq!(counted, 1, "one counted check");
    let released: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.event.as_str() == "document_released")
        .collect();
    assert_eq!(released.len(), 4, "four documents");
    let ids: std::collections::BTreeSet<_> = released
        .iter()
        .map(|r| r.entry.verification.clone())
        .collect();
    assert_eq!(ids.len(), 1, "all four under one check");

    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handheld_demo_is_a_police_terminal_with_its_pin_in_the_panel() {
    let tmux = Tmux::start(100, 30);
    tmux.run(&format!(
        "{} demo --profile handheld --lang en; echo okaz-exit=$?",
        q(&binary("okaz").display().to_string())
    ));
    let screen = tmux.wait_for(
        "the PIN login and the panel",
        Duration::from_secs(60),
        |s| s.contains("Terminal log-in") && s.contains("Police terminal: PIN"),
    );
    let pin = six_digits_after(&screen, "demo.police ·")
        .unwrap_or_else(|| panic!("no PIN in the panel:\n{screen}"));
    assert!(screen.contains("Sample plates"), "{screen}");
    tmux.type_text(&pin);
    tmux.press(&["Enter"]);
    let screen = tmux.wait_for_text("Look up by", WAIT);
    assert!(screen.contains("Piotr Policjant"), "{screen}");
    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
}
