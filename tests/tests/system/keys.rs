//! Keys apart, from outside: a real `okaz-server serve` refuses key and
//! secret files that group or others may read, naming the file; after a
//! real `okaz-server keys rotate`, a challenge sealed before completes on a
//! broker that loaded the new versions, officers still log in (their TOTP
//! secrets re-encrypted under the new TOTP key), and the pepper refuses to
//! rotate, saying why.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use okaz_tests::replica::Replica;
use okaz_tests::Kit;
use serde_json::json;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `okaz-server serve` with the kit's configuration; its exit status and
/// stderr (it must not get as far as listening).
fn serve_refuses(config: &Path, cert: &Path) -> String {
    let out = okaz_tests::server_command(config)
        .args(["serve", "--dev-self-signed", "--write-cert"])
        .arg(cert)
        .env("OKAZ_SERVER_LISTEN", "127.0.0.1:0")
        .env("OKAZ_SERVER_OPS_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "serve started: {stdout}");
    assert!(!stdout.contains("listening on"), "{stdout}");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_refuses_key_files_others_may_read_and_names_them() {
    let kit = Kit::start().await;
    let cert = kit.dir.path().join("refused.pem");
    let keys = kit.dir.path().join("keys");
    for file in [
        keys.join("pepper.key"),
        keys.join("challenge.1.key"),
        keys.join("totp.1.key"),
        kit.dir.path().join("log.key"),
        kit.dir.path().join("kannel.pw"),
    ] {
        chmod(&file, 0o644);
        let err = serve_refuses(&kit.config_path, &cert);
        assert!(
            err.contains(&file.display().to_string()),
            "the refusal names {}: {err}",
            file.display()
        );
        assert!(err.contains("group or others"), "{err}");
        chmod(&file, 0o600);
    }
    // The same files, private again: it starts.
    let mut replica = Replica::spawn(&kit.config_path, &cert, "warn");
    let ready = okaz_tests::plain_get(&format!("{}/readyz", replica.ops_url))
        .await
        .unwrap();
    assert_eq!(ready.status, 200);
    replica.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_keys_rotate_old_challenges_complete_and_officers_log_in() {
    let kit = Kit::start().await;
    let c = &kit
        .citizens_with(&["adult", "valid_id", "contactable"], 1)
        .await[0];
    kit.activate(&c.pesel).await;
    let clerk = kit.officer("clerk", "U1").await;
    // Logs in only after the rotation, on the new broker.
    let later = kit.officer("clerk", "U1").await;
    let token = kit.login(&clerk).await;
    let (sealed_before, code) = kit.check_with_code(&token, c, "id_card", "age_check").await;

    // The pepper refuses, and says why.
    let err = okaz_tests::run_fails(kit.server_cmd().args(["keys", "rotate", "--key", "pepper"]));
    assert!(err.contains("pepper cannot be rotated"), "{err}");
    assert!(err.contains("pseudonym"), "{err}");

    let said = okaz_tests::run_ok(kit.server_cmd().args(["keys", "rotate"]));
    println!("{said}");
    let keys = kit.dir.path().join("keys");
    for name in ["challenge", "cookie", "totp", "notice_outbox"] {
        let v2 = keys.join(format!("{name}.2.key"));
        let mode = std::fs::metadata(&v2).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", v2.display());
        assert!(
            keys.join(format!("{name}.1.key")).exists(),
            "old versions stay"
        );
    }
    assert!(!keys.join("pepper.2.key").exists());
    assert!(said.contains("2 re-encrypted"), "{said}");

    // Every stored TOTP secret now names version 2 of the TOTP key.
    let db = kit.db().await;
    let rows = db
        .query("SELECT totp_secret FROM officers", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        let sealed: Vec<u8> = r.get(0);
        assert_eq!(&sealed[..4], &2u32.to_be_bytes());
    }

    // A broker started after the rotation holds versions 1 and 2.
    let mut replica = Replica::spawn(&kit.config_path, &kit.dir.path().join("r.pem"), "warn");
    let r = replica
        .post(
            &format!("/v1/verifications/{sealed_before}/code"),
            Some(&token),
            &json!({ "code": code }),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "a challenge sealed before the rotation: {}",
        r.body
    );
    assert_eq!(r.body["status"], "completed");

    // An officer whose secret was re-encrypted logs in, and checks again
    // (this challenge is sealed under version 2).
    let token2 = replica.login(&later).await;
    let start =
        json!({"subject": {"pesel": c.pesel}, "document": "id_card", "purpose": "age_check"});
    let r = replica
        .post("/v1/verifications", Some(&token2), &start)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let code = kit.latest_code(c.phone.as_deref().unwrap()).await;
    let r = replica
        .post(
            &format!("/v1/verifications/{id}/code"),
            Some(&token2),
            &json!({ "code": code }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    replica.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_stage_install_moves_to_split_keys_keeping_pseudonyms_and_logins() {
    use okaz_core::audit::{AuditEntry, AuditEvent};
    use okaz_core::ports::NewOfficer;
    let kit = Kit::start().await;
    // A first-stage officer: TOTP secret stored in clear.
    let secret = b"first-stage-secret-2".to_vec();
    let id = uuid::Uuid::new_v4().to_string();
    kit.store
        .insert_officer(
            NewOfficer {
                id: id.clone(),
                login: "old.clerk".into(),
                display_name: "Old Clerk".into(),
                role: "clerk".into(),
                unit: "U1".into(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                totp_secret: secret.clone(),
            },
            AuditEntry::new(
                chrono::Utc::now(),
                AuditEvent::OfficerCreated,
                "system",
                "U1",
            ),
        )
        .await
        .unwrap();
    let master = kit.dir.path().join("master.key");
    okaz_tests::write_private(&master, "0123456789abcdef".repeat(4).as_bytes());

    // Still configured with the master key: the broker refuses and says how.
    let cert = kit.dir.path().join("m.pem");
    let err = okaz_tests::run_fails(
        kit.server_cmd()
            .args(["serve", "--dev-self-signed", "--write-cert"])
            .arg(&cert)
            .env("OKAZ_SECRETS_MASTER_KEY_FILE", &master),
    );
    assert!(err.contains("keys init --from-master"), "{err}");

    let split = kit.dir.path().join("split");
    let said = okaz_tests::run_ok(
        kit.server_cmd()
            .args(["keys", "init", "--from-master"])
            .arg(&master)
            .env("OKAZ_SECRETS_DIR", &split),
    );
    // The only officer's secret was in clear; now it is sealed.
    assert!(said.contains("encrypted from clear"), "{said}");
    let keys = okaz_server::keys::KeyDir {
        dir: split.clone(),
        prefix: String::new(),
    }
    .load()
    .unwrap();
    let stored = kit
        .store
        .officer_by_id(&id)
        .await
        .unwrap()
        .unwrap()
        .totp_secret;
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_slice()));
    let opened = okaz_core::keyring::open_totp(&keys.totp, &id, &stored).unwrap();
    assert_eq!(opened.as_slice(), secret.as_slice());
    // The pepper is the one the master derived: pseudonyms stay.
    let old =
        okaz_core::pseudonym::SecretKey::new(okaz_server::config::read_secret(&master).unwrap())
            .unwrap()
            .derive("okaz/pepper")
            .unwrap();
    let pesel = okaz_protocol::Pesel::parse("44051401359").unwrap();
    assert_eq!(
        okaz_core::pseudonym::Pseudonym::of(&keys.pepper, &pesel),
        okaz_core::pseudonym::Pseudonym::of(&old, &pesel)
    );
    // Never overwrites.
    let again = okaz_tests::run_fails(
        kit.server_cmd()
            .args(["keys", "init"])
            .env("OKAZ_SECRETS_DIR", &split),
    );
    assert!(again.contains("never overwrites"), "{again}");
}
