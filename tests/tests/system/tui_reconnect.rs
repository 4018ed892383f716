//! A terminal on a weak network, under tmux: the broker process is stopped
//! while the officer starts a check and started again a moment later. The
//! terminal says it is retrying, gets the answer from the restarted broker
//! (the start counted once, one SMS), and shows only the document of this
//! check.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use okaz_tests::tmux::Tmux;
use okaz_tests::{binary, Kit};

const WAIT: Duration = Duration::from_secs(30);

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `okaz-server serve` on a fixed address with a fixed certificate, so the
/// terminal finds the same broker again after a restart.
fn serve(config: &Path, listen: &str, cert: &Path, key: &Path) -> Child {
    let child = Command::new(binary("okaz-server"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .env("OKAZ_SERVER_LISTEN", listen)
        .env("OKAZ_SERVER_TLS_CERT", cert)
        .env("OKAZ_SERVER_TLS_KEY", key)
        .env("OKAZ_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ready once it accepts connections.
    let deadline = std::time::Instant::now() + WAIT;
    while std::net::TcpStream::connect(listen).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "broker did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_retries_while_the_broker_restarts_and_shows_only_this_checks_document() {
    let kit = Kit::start().await;
    let officer = kit.officer("clerk", "USC-Net").await;
    let citizen = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();

    let dir = kit.dir.path();
    let tls = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (dir.join("net.pem"), dir.join("net.key"));
    std::fs::write(&cert, tls.cert.pem()).unwrap();
    std::fs::write(&key, tls.key_pair.serialize_pem()).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let config = dir.join("okaz.toml");
    let broker = serve(&config, &listen, &cert, &key);

    let tmux = Tmux::start(80, 24);
    tmux.run(&format!(
        "{} --broker {} --ca {} --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&format!("https://{listen}")),
        q(&cert.display().to_string()),
    ));
    tmux.wait_for_text("Log in", WAIT);
    tmux.type_text(&officer.login);
    tmux.press(&["Tab"]);
    tmux.type_text(&officer.password);
    tmux.press(&["Tab"]);
    tmux.type_text(&kit.totp(&officer));
    tmux.press(&["Enter"]);
    tmux.wait_for_text("USC-Net", WAIT);
    tmux.type_text(&citizen.pesel);

    // The broker goes away just before the officer starts the check.
    stop(broker);
    tmux.press(&["Enter"]);
    tmux.wait_for_text("No connection, retrying", WAIT);
    let broker = serve(&config, &listen, &cert, &key);

    let waiting = tmux.wait_for("the waiting screen after the retry", WAIT, |s| {
        s.contains("Citizen's code")
    });
    assert!(!waiting.contains("retrying"), "{waiting}");
    let inbox = kit.inbox(&phone).await;
    assert_eq!(inbox.len(), 1, "one SMS however often the start was sent");
    let code = kit.latest_code(&phone).await;
    tmux.type_text(&code);
    tmux.press(&["Enter"]);
    let shown = tmux.wait_for("the document", WAIT, |s| s.contains("Clears in"));
    assert!(!shown.contains(&citizen.pesel), "{shown}");

    assert!(
        shown.contains("checks today 1/"),
        "the retried start counted once:\n{shown}"
    );

    tmux.press(&["C-c"]);
    tmux.wait_for_text("okaz-exit=0", WAIT);
    stop(broker);
}
