//! Transport, from outside, against real `okaz-server serve` processes:
//! connections that dribble, idle, age or exceed the cap; PostgreSQL that
//! requires TLS; the driver's statement logging kept out of the log; plain
//! HTTP refused off loopback. Nothing here asserts a speed: closes are
//! observed (EOF, or the client's connection ending) within generous bounds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::Kit;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Generous: an outer bound for something the server should do in seconds.
const PATIENCE: Duration = Duration::from_secs(90);

fn replica(kit: &Kit, name: &str, env: &[(&str, &str)]) -> Replica {
    Replica::spawn_with(
        &kit.config_path,
        &kit.dir.path().join(format!("{name}.pem")),
        ReplicaOptions {
            log: "warn".into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..ReplicaOptions::default()
        },
    )
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("https://").parse().unwrap()
}

/// A TLS connector trusting the replica's certificate, offering `alpn`.
fn connector(kit: &Kit, name: &str, alpn: &[&[u8]]) -> TlsConnector {
    let pem = std::fs::read(kit.dir.path().join(format!("{name}.pem"))).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(cfg))
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls(addr: SocketAddr, c: &TlsConnector) -> Tls {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    c.connect(name, tcp).await.unwrap()
}

/// An HTTP/2 connection: its request sender and the task driving it (which
/// ends when the server closes the connection).
struct H2 {
    send: hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
    driver: tokio::task::JoinHandle<Result<(), hyper::Error>>,
}

async fn h2(addr: SocketAddr, c: &TlsConnector) -> H2 {
    let stream = tls(addr, c).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    H2 {
        send,
        driver: tokio::spawn(conn),
    }
}

/// An HTTP/2 connection that has been served once (`/v1/me`, 401).
async fn served_h2(addr: SocketAddr, c: &TlsConnector) -> H2 {
    let mut conn = h2(addr, c).await;
    assert_eq!(me(addr, &mut conn.send).await.unwrap().0, 401);
    conn
}

/// A replica started with `env`, its address and an HTTP/2 connector to it.
fn h2_replica(kit: &Kit, name: &str, env: &[(&str, &str)]) -> (Replica, SocketAddr, TlsConnector) {
    let r = replica(kit, name, env);
    let addr = addr_of(&r.url);
    (r, addr, connector(kit, name, &[b"h2"]))
}

/// `GET /v1/me` without a token: the cheapest real request (401).
async fn me(
    addr: SocketAddr,
    send: &mut hyper::client::conn::http2::SendRequest<Empty<Bytes>>,
) -> Result<(u16, String, String), hyper::Error> {
    send.ready().await?;
    let req = http::Request::builder()
        .uri(format!("https://{addr}/v1/me"))
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await?;
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, ct, String::from_utf8_lossy(&body).to_string()))
}

/// Reads until the server closes: EOF, or an error (a reset, or TLS's
/// "closed without close_notify"). Data the server sends first (h2
/// SETTINGS) is read past.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

/// One sample of the replica's `/metrics`.
async fn metric(replica: &Replica, sample: &str) -> u64 {
    let text = okaz_tests::plain_get(&format!("{}/metrics", replica.ops_url))
        .await
        .unwrap()
        .text;
    text.lines()
        .find_map(|l| l.strip_prefix(sample).map(str::trim))
        .unwrap_or_else(|| panic!("{sample} not in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_dribble_and_a_silent_socket_are_closed_within_the_header_timeout() {
    let kit = Kit::start().await;
    let (r, addr, h2c) = h2_replica(&kit, "dribble", &[("OKAZ_SERVER_HEADER_TIMEOUT_SECS", "2")]);

    // A well-behaved client, to see that the deadline spares it.
    let mut good = served_h2(addr, &h2c).await;

    // 20 clients send part of the HTTP/2 preface and go silent; 5 more
    // never start TLS at all.
    let started = std::time::Instant::now();
    let mut dribblers = Vec::new();
    for _ in 0..20 {
        let mut s = tls(addr, &h2c).await;
        s.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        s.flush().await.unwrap();
        dribblers.push(tokio::spawn(async move {
            tokio::time::timeout(PATIENCE, closed_by_server(&mut s)).await
        }));
    }
    // And 5 that send the whole preface and SETTINGS but never a request.
    for _ in 0..5 {
        let mut s = tls(addr, &h2c).await;
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            .await
            .unwrap();
        dribblers.push(tokio::spawn(async move {
            tokio::time::timeout(PATIENCE, closed_by_server(&mut s)).await
        }));
    }
    for _ in 0..5 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        dribblers.push(tokio::spawn(async move {
            tokio::time::timeout(PATIENCE, closed_by_server(&mut s)).await
        }));
    }
    let mut closed = 0;
    for d in dribblers {
        if d.await.unwrap() == Ok(true) {
            closed += 1;
        }
    }
    println!(
        "30 silent connections: {closed} closed by the server, the last after {:?} (header timeout 2 s)",
        started.elapsed()
    );
    assert_eq!(
        closed, 30,
        "every dribbling connection is closed by the server"
    );
    assert!(
        metric(
            &r,
            "okaz_connections_closed_total{reason=\"header_timeout\"}"
        )
        .await
            >= 30
    );

    // The client that sent its request in time is still served.
    assert_eq!(me(addr, &mut good.send).await.unwrap().0, 401);
    assert!(!good.driver.is_finished());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_idle_connections_are_closed_after_the_idle_timeout_and_a_busy_one_is_not() {
    let kit = Kit::start().await;
    let (r, addr, h2c) = h2_replica(&kit, "idle", &[("OKAZ_SERVER_IDLE_TIMEOUT_SECS", "3")]);

    let mut idle = Vec::new();
    for _ in 0..200 {
        let c = served_h2(addr, &h2c).await;
        idle.push(c);
    }
    // An HTTP/1.1 keep-alive connection, idle after one request.
    let h1c = connector(&kit, "idle", &[b"http/1.1"]);
    let (mut h1, h1_conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(tls(addr, &h1c).await))
            .await
            .unwrap();
    let h1_driver = tokio::spawn(h1_conn);
    let resp = h1
        .send_request(
            http::Request::builder()
                .uri("/v1/me")
                .header("host", addr.to_string())
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    drop(resp);

    // A busy connection: a request every 500 ms for 8 s (well past 3 s).
    let mut busy = h2(addr, &h2c).await;
    let busy_run = tokio::spawn(async move {
        for _ in 0..16 {
            assert_eq!(me(addr, &mut busy.send).await.unwrap().0, 401);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        busy
    });

    let started = std::time::Instant::now();
    for c in idle {
        let ended = tokio::time::timeout(PATIENCE, c.driver).await;
        assert!(
            matches!(ended, Ok(Ok(Ok(())))),
            "an idle h2 connection ends cleanly (GOAWAY, close): {ended:?}"
        );
    }
    let ended = tokio::time::timeout(PATIENCE, h1_driver).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "idle h1: {ended:?}");
    println!(
        "201 idle connections closed by the server {:?} after the test stopped using them (idle timeout 3 s)",
        started.elapsed()
    );
    let busy = busy_run.await.unwrap();
    assert!(
        !busy.driver.is_finished(),
        "a connection with requests every 500 ms is not idle"
    );
    assert!(metric(&r, "okaz_connections_closed_total{reason=\"idle\"}").await >= 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_new_connections_get_a_503_and_open_ones_keep_working() {
    let kit = Kit::start().await;
    let (r, addr, h2c) = h2_replica(&kit, "cap", &[("OKAZ_SERVER_MAX_CONNECTIONS", "5")]);
    let mut open = Vec::new();
    for _ in 0..5 {
        let c = served_h2(addr, &h2c).await;
        open.push(c);
    }
    assert_eq!(metric(&r, "okaz_connections_open").await, 5);

    // The sixth, over HTTP/2: one clean problem+json 503, then the end.
    let mut sixth = h2(addr, &h2c).await;
    let (status, ct, body) = me(addr, &mut sixth.send).await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(ct, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["code"], "service_unavailable", "{body}");
    let ended = tokio::time::timeout(PATIENCE, sixth.driver).await;
    assert!(
        matches!(ended, Ok(Ok(_))),
        "the refused h2 connection is closed: {ended:?}"
    );

    // The seventh, over HTTP/1.1: the same answer, and the socket closes.
    let h1c = connector(&kit, "cap", &[b"http/1.1"]);
    let mut s = tls(addr, &h1c).await;
    s.write_all(format!("GET /v1/me HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(PATIENCE, s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 503"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(read.is_ok(), "the refused h1 connection is closed");

    // Those already open are untouched.
    for c in &mut open {
        assert_eq!(me(addr, &mut c.send).await.unwrap().0, 401);
    }
    assert!(metric(&r, "okaz_connections_refused_total{how=\"503\"}").await >= 2);

    // A freed slot admits a new connection.
    let gone = open.pop().unwrap();
    drop(gone.send);
    let _ = tokio::time::timeout(PATIENCE, gone.driver).await;
    let mut admitted = None;
    for _ in 0..100 {
        if metric(&r, "okaz_connections_open").await < 5 {
            let mut c = h2(addr, &h2c).await;
            admitted = Some(me(addr, &mut c.send).await.unwrap().0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        admitted,
        Some(401),
        "a connection is admitted once one closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_connection_is_closed_gracefully_at_its_maximum_age() {
    let kit = Kit::start().await;
    let r = replica(&kit, "age", &[("OKAZ_SERVER_MAX_CONNECTION_AGE_SECS", "2")]);
    let addr = addr_of(&r.url);
    let mut c = h2(addr, &connector(&kit, "age", &[b"h2"])).await;
    let mut answered = 0;
    let ended = tokio::time::timeout(PATIENCE, async {
        loop {
            match me(addr, &mut c.send).await {
                Ok((401, _, _)) => answered += 1,
                Ok(other) => panic!("unexpected answer {other:?}"),
                // GOAWAY: the client may send no new stream.
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection is closed at its maximum age");
    assert!(answered > 0);
    let driver = tokio::time::timeout(PATIENCE, c.driver).await;
    assert!(
        matches!(driver, Ok(Ok(Ok(())))),
        "a graceful end: {driver:?}"
    );
    assert!(metric(&r, "okaz_connections_closed_total{reason=\"max_age\"}").await >= 1);
}

/// The admin URL with its query replaced.
fn with_query(url: &str, query: Option<&str>) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_query(query);
    u.to_string()
}

/// The CA file the test command's PostgreSQL URL names.
fn database_ca() -> String {
    url::Url::parse(&okaz_tests::admin_url())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "sslrootcert")
        .map(|(_, v)| v.into_owned())
        .expect(
            "the test PostgreSQL URL names its CA (sslrootcert): run the tests with scripts/test",
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_refuses_plain_tcp_and_the_broker_speaks_tls_with_each_sslmode() {
    let kit = Kit::start().await;
    let plain = with_query(&kit.database_url, Some("sslmode=disable"));
    let refused = okaz_store::postgres::tls::connect(&plain).await;
    let e = refused.err().unwrap_or_else(|| {
        panic!("the test PostgreSQL accepted a plain connection: scripts/test starts one with hostssl lines only")
    });
    assert!(e.to_string().contains("no encryption"), "{e}");

    // A broker process with sslmode=require (encrypted, certificate unchecked).
    let require = with_query(&kit.database_url, Some("sslmode=require"));
    let r = replica(&kit, "require", &[("OKAZ_DATABASE_URL", &require)]);
    let ready = okaz_tests::plain_get(&format!("{}/readyz", r.ops_url))
        .await
        .unwrap();
    assert_eq!(ready.status, 200, "{}", ready.text);
    let clerk = kit.officer("clerk", "USC-1").await;
    // The replica's clock is the system's.
    r.login(&clerk).await;

    // Every connection to this database, the broker's included, is TLS.
    let admin = okaz_tests::admin_db().await;
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s \
             JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
            &[&kit.database],
        )
        .await
        .unwrap();
    let (tls, all): (i64, i64) = (row.get(0), row.get(1));
    println!("connections to {}: {tls} of {all} over TLS", kit.database);
    assert!(all > 0);
    assert_eq!(tls, all);

    // [database] sslmode and ca_file instead of URL parameters: verify-full.
    let bare = with_query(&kit.database_url, None);
    let ca = database_ca();
    okaz_tests::run_ok(
        kit.server_cmd()
            .arg("migrate")
            .env("OKAZ_DATABASE_URL", &bare)
            .env("OKAZ_DATABASE_SSLMODE", "verify-full")
            .env("OKAZ_DATABASE_CA_FILE", &ca),
    );

    // verify-full against a CA that did not sign the server's certificate.
    let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let wrong_ca = kit.dir.path().join("stranger-ca.pem");
    std::fs::write(&wrong_ca, stranger.cert.pem()).unwrap();
    let stderr = okaz_tests::run_fails(
        kit.server_cmd()
            .arg("migrate")
            .env("OKAZ_DATABASE_URL", &bare)
            .env("OKAZ_DATABASE_SSLMODE", "verify-full")
            .env("OKAZ_DATABASE_CA_FILE", &wrong_ca),
    );
    assert!(stderr.contains("certificate"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_the_database_driver_logs_no_statement_or_parameter() {
    let kit = Kit::start().await;
    let clerk = kit.officer("clerk", "USC-1").await;
    let mut r = Replica::spawn_with(
        &kit.config_path,
        &kit.dir.path().join("trace.pem"),
        ReplicaOptions {
            log: "trace".into(),
            ..ReplicaOptions::default()
        },
    );
    // A login runs statements with the login as a parameter.
    let login = json!({"login": clerk.login, "password": "not-the-password", "totp": "000000"});
    let reply = r.post("/v1/sessions", None, &login).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let status = r.terminate();
    assert!(status.success());
    let logs = r.logs();
    assert!(logs.contains("TRACE"), "the broker logged at trace level");
    // Crates logging through the `log` facade (as tokio-postgres does) do
    // reach this log at trace level: rustls does, for the handshakes.
    assert!(
        logs.lines().any(|l| l.contains("rustls::")),
        "log-facade records reach the log"
    );
    for driver_line in ["executing statement", "with parameters", "preparing query"] {
        assert!(
            !logs.contains(driver_line),
            "the driver logged {driver_line:?}"
        );
    }
    assert!(
        !logs.contains(&clerk.login),
        "a statement parameter reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_off_loopback_is_refused_at_start_naming_the_key() {
    let kit = Kit::start().await;
    for (var, url, key) in [
        (
            "OKAZ_REGISTERS_BASE_URL",
            "http://registers.example/",
            "[registers] base_url",
        ),
        (
            "OKAZ_SMS_SENDSMS_URL",
            "http://kannel.example:13013/cgi-bin/sendsms",
            "[sms] sendsms_url",
        ),
    ] {
        let stderr = okaz_tests::run_fails(
            kit.server_cmd()
                .args(["serve", "--dev-self-signed"])
                .env(var, url)
                .env("OKAZ_SERVER_LISTEN", "127.0.0.1:0")
                .env("OKAZ_SERVER_OPS_LISTEN", "127.0.0.1:0"),
        );
        assert!(
            stderr.contains(&format!("{key}: plain http://")),
            "{stderr}"
        );
    }
    let with_witness = kit.dir.path().join("witness.toml");
    let mut text = std::fs::read_to_string(&kit.config_path).unwrap();
    text.push_str("[[audit.witnesses]]\nurl = \"http://witness.example:7380/add-checkpoint\"\nkey = \"w+00000000+AA\"\n");
    std::fs::write(&with_witness, text).unwrap();
    let stderr = okaz_tests::run_fails(okaz_tests::server_command(&with_witness).arg("migrate"));
    assert!(
        stderr.contains("[[audit.witnesses]] #1 url: plain http://"),
        "{stderr}"
    );

    let out = std::process::Command::new(okaz_tests::binary("okaz-terminal"))
        .args(["--broker", "http://broker.example:8443"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--broker: plain http://"), "{stderr}");
}
