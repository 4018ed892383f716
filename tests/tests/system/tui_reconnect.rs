//! A terminal on a weak network, under tmux: the officer's start reaches
//! the broker and is counted, but the connection drops before the answer
//! comes back; the broker process is then stopped and started again. The
//! terminal says it is retrying, gets the first answer again from the
//! restarted broker (the start counted once, one SMS), and shows only the
//! document of this check.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

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

/// A TCP relay between the terminal and the broker that can lose the
/// network on the terminal's side only: [`Relay::cut`] closes every
/// terminal connection (whatever the broker still sends on them is read and
/// dropped, so the broker finishes its work unaware) and refuses new ones
/// until [`Relay::reopen`]. TLS passes through untouched. It runs on its own
/// thread, so the test's blocking tmux waits never stall it.
struct Relay {
    listen: String,
    closed: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let listen = std_listener.local_addr().unwrap().to_string();
        let closed = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let (closed2, cuts2) = (closed.clone(), cuts.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                while let Ok((client, _)) = listener.accept().await {
                    if closed2.load(Ordering::SeqCst) {
                        // No network: the connection is dropped at once.
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        continue;
                    };
                    tokio::spawn(relay(client, server, cuts2.subscribe()));
                }
            });
        });
        Relay {
            listen,
            closed,
            cuts,
        }
    }

    fn cut(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn reopen(&self) {
        self.closed.store(false, Ordering::SeqCst);
    }
}

/// Relays one connection until either side ends it; on a cut, closes the
/// terminal's side and keeps reading the broker's answers into nothing.
async fn relay(client: TcpStream, server: TcpStream, mut cuts: watch::Receiver<u64>) {
    let (client_r, client_w) = client.into_split();
    let (mut client_r, mut client_w) = (Some(client_r), Some(client_w));
    let (mut server_r, mut server_w) = server.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        tokio::select! {
            n = async { client_r.as_mut().unwrap().read(&mut up).await }, if client_r.is_some() => {
                match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if server_w.write_all(&up[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
            n = server_r.read(&mut down) => {
                match n {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(w) = client_w.as_mut() {
                            if w.write_all(&down[..n]).await.is_err() {
                                client_w = None;
                            }
                        }
                    }
                }
            }
            changed = cuts.changed(), if client_r.is_some() => {
                if changed.is_err() {
                    break;
                }
                // The terminal's side goes; the broker's stays open, so it
                // never sees a disconnect and finishes the start.
                client_r = None;
                client_w = None;
            }
        }
    }
}

/// What the broker has counted for `officer` (all days), and how many
/// idempotency keys it has settled (an answer kept for a retry).
async fn counted(db: &tokio_postgres::Client, officer: &str) -> (i64, i64) {
    let used = db
        .query_one(
            "SELECT COALESCE(SUM(used), 0)::int8 FROM daily_counters WHERE officer_id = $1::text::uuid",
            &[&officer],
        )
        .await
        .unwrap()
        .get(0);
    let settled = db
        .query_one(
            "SELECT count(*) FROM idempotency_keys WHERE state <> 'running'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (used, settled)
}

/// Polls [`counted`] until `ready` holds.
async fn wait_counted(
    db: &tokio_postgres::Client,
    officer: &str,
    what: &str,
    ready: impl Fn((i64, i64)) -> bool,
) -> (i64, i64) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = counted(db, officer).await;
        if ready(now) {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    let net = Relay::start(listen.clone());
    let db = kit.db().await;

    let tmux = Tmux::start(80, 24);
    tmux.run(&format!(
        "{} --broker {} --ca {} --lang en; echo okaz-exit=$?",
        q(&binary("okaz-terminal").display().to_string()),
        q(&format!("https://{}", net.listen)),
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
    assert_eq!(counted(&db, &officer.id).await, (0, 0));

    // A slow SMS gateway holds the broker's answer back after the count, so
    // the network can drop while the start is counted but not yet answered.
    kit.fault("sms", |f| f.latency_ms = 2000);
    tmux.press(&["Enter"]);
    wait_counted(
        &db,
        &officer.id,
        "the start reached the broker",
        |(used, _)| used > 0,
    )
    .await;
    net.cut();
    // The broker finishes the start (one count, one SMS, its answer kept
    // under the terminal's key) and sends the answer into the cut.
    let (used, settled) =
        wait_counted(&db, &officer.id, "the start was answered", |(_, s)| s > 0).await;
    assert_eq!(
        (used, settled),
        (1, 1),
        "the start counted once before the drop"
    );
    kit.sandbox.clear_faults();
    assert_eq!(kit.inbox(&phone).await.len(), 1, "the start's one SMS");

    // The terminal never saw that answer: it retries, and meanwhile the
    // broker process restarts.
    tmux.wait_for_text("No connection, retrying", WAIT);
    stop(broker);
    let broker = serve(&config, &listen, &cert, &key);
    net.reopen();

    let waiting = tmux.wait_for("the waiting screen after the retry", WAIT, |s| {
        s.contains("Citizen's code")
    });
    assert!(!waiting.contains("retrying"), "{waiting}");
    let inbox = kit.inbox(&phone).await;
    assert_eq!(inbox.len(), 1, "one SMS however often the start was sent");
    assert_eq!(
        counted(&db, &officer.id).await.0,
        1,
        "the retried start was answered from the kept answer, not counted again"
    );
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
