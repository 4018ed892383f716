//! SMS through a real Kannel: Debian's bearerbox and smsbox, configured by
//! `deploy/kannel/kannel.conf`, with Kannel's `fakesmsc` as the SMSC. The
//! broker (a real `okaz-server` process) sends codes through Kannel's
//! `sendsms`; the test reads them from what fakesmsc received, as a
//! citizen's phone would. Kannel's delivery reports come back to the
//! broker's operations listener, authenticated by a token, and are counted
//! and audited per challenge. Kannel restarts in the middle: the start in
//! flight answers 503 `sms_unavailable` and costs no attempt.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okaz_core::audit::AuditEvent;
use okaz_core::ports::AuditFilter;
use okaz_tests::replica::{Replica, ReplicaOptions};
use okaz_tests::{HttpClient, Kit};
use serde_json::json;

const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";
const SENDSMS_PASSWORD: &str = "kannel-test-sendsms-pw";
const DLR_TOKEN: &str = "dlr-token-0123456789abcdef";

fn need(path: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: install Kannel (Debian: apt-get install kannel kannel-extras); scripts/test does"
    );
    p
}

struct Ports {
    admin: u16,
    smsbox: u16,
    smsc: u16,
    sendsms: u16,
}

/// `deploy/kannel/kannel.conf` with only ports, paths and passwords changed.
fn write_conf(dir: &Path, p: &Ports) -> PathBuf {
    let shipped =
        std::fs::read_to_string(okaz_tests::workspace().join("deploy/kannel/kannel.conf")).unwrap();
    let mut out = String::new();
    for line in shipped.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let line = match key {
            "admin-port" => format!("admin-port = {}", p.admin),
            "smsbox-port" => format!("smsbox-port = {}", p.smsbox),
            "bearerbox-port" => format!("bearerbox-port = {}", p.smsbox),
            "port" => format!("port = {}", p.smsc),
            "sendsms-port" => format!("sendsms-port = {}", p.sendsms),
            "password" => format!("password = {SENDSMS_PASSWORD}"),
            "log-file" | "access-log" | "store-location" => {
                let file = line
                    .split('/')
                    .next_back()
                    .unwrap()
                    .trim_end_matches('"')
                    .to_string();
                format!("{key} = \"{}\"", dir.join(file).display())
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    let path = dir.join("kannel.conf");
    std::fs::write(&path, out).unwrap();
    path
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// bearerbox, smsbox and fakesmsc; what fakesmsc received is in `received`.
struct Kannel {
    conf: PathBuf,
    ports: Ports,
    procs: Vec<Child>,
    received: Arc<Mutex<Vec<String>>>,
}

impl Kannel {
    fn start(&mut self) {
        let bearerbox = need("/usr/sbin/bearerbox");
        let smsbox = need("/usr/sbin/smsbox");
        let fakesmsc = need(FAKESMSC);
        let quiet = || Stdio::null();
        self.procs.push(
            Command::new(bearerbox)
                .arg(&self.conf)
                .stdout(quiet())
                .stderr(quiet())
                .spawn()
                .unwrap(),
        );
        wait_for_port(self.ports.smsbox, "bearerbox");
        wait_for_port(self.ports.smsc, "bearerbox's fake SMSC");
        self.procs.push(
            Command::new(smsbox)
                .arg(&self.conf)
                .stdout(quiet())
                .stderr(quiet())
                .spawn()
                .unwrap(),
        );
        wait_for_port(self.ports.sendsms, "smsbox");
        // -m 0: fakesmsc sends no messages of its own, it only receives.
        let mut sc = Command::new(fakesmsc)
            .args([
                "-H",
                "127.0.0.1",
                "-r",
                &self.ports.smsc.to_string(),
                "-m",
                "0",
            ])
            .arg("000 000 text unused")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        for stream in [
            Box::new(sc.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(sc.stderr.take().unwrap()),
        ] {
            let received = self.received.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains("Got message") {
                        received.lock().unwrap().push(line);
                    }
                }
            });
        }
        self.procs.push(sc);
        // fakesmsc connects once it runs; give bearerbox the SMSC link.
        std::thread::sleep(Duration::from_millis(1500));
    }

    fn stop(&mut self) {
        // smsbox first, as an operator would; then bearerbox, then the SMSC.
        for mut p in self.procs.drain(..).rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &p.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while p.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = p.kill();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

/// The text of a fakesmsc line, `Got message N: <from to type data>`;
/// `ucs2` data is URL-encoded UTF-16BE, as Kannel sends coding=2.
fn message_text(line: &str) -> Option<(String, String)> {
    let inner = line.split_once('<')?.1.trim_end().strip_suffix('>')?;
    let mut parts = inner.splitn(4, ' ');
    let (_from, to, kind, data) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    // fakesmsc names UCS-2 data by its coding; tell it by its zero bytes.
    let text = match kind {
        _ if kind == "ucs2" || data.contains("%00") => {
            let bytes = percent_decode(data);
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        "data" | "text" if data.contains('%') => {
            String::from_utf8_lossy(&percent_decode(data)).to_string()
        }
        _ => data.to_string(),
    };
    Some((to.to_string(), text))
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    out
}

async fn next_code(received: &Arc<Mutex<Vec<String>>>, seen: usize, phone: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let lines = received.lock().unwrap().clone();
        if lines.len() > seen {
            let (to, text) =
                message_text(&lines[seen]).unwrap_or_else(|| panic!("unreadable: {}", lines[seen]));
            assert_eq!(to.trim_start_matches('+'), phone.trim_start_matches('+'));
            return okaz_tests::code_in(&text).unwrap_or_else(|| panic!("no code in {text:?}"));
        }
        assert!(Instant::now() < deadline, "fakesmsc received no SMS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One whole check through the replica, the code read from fakesmsc.
struct Flow {
    http: HttpClient,
    base: String,
    token: String,
    start: serde_json::Value,
    received: Arc<Mutex<Vec<String>>>,
    phone: String,
}

impl Flow {
    /// Returns the challenge id and the quota used after it.
    async fn run(&self, round: &str) -> (String, u64) {
        let seen = self.received.lock().unwrap().len();
        let r = post(
            &self.http,
            &format!("{}/v1/verifications", self.base),
            Some(&self.token),
            self.start.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{round}: {}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        let code = next_code(&self.received, seen, &self.phone).await;
        let r = post(
            &self.http,
            &format!("{}/v1/verifications/{id}/code", self.base),
            Some(&self.token),
            json!({"code": code}),
        )
        .await;
        assert_eq!(r.status, 200, "{round}: {}", r.body);
        (id, r.body["quota"]["used"].as_u64().unwrap())
    }
}

async fn post(
    http: &HttpClient,
    url: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> okaz_tests::Reply {
    http.request("POST", url, token, Some(body.to_string().into_bytes()))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn codes_go_through_real_kannel_with_delivery_reports_and_a_restart() {
    let kit = Kit::start().await;
    let dir = kit.dir.path().join("kannel");
    std::fs::create_dir_all(&dir).unwrap();
    let ports = Ports {
        admin: okaz_tests::free_port(),
        smsbox: okaz_tests::free_port(),
        smsc: okaz_tests::free_port(),
        sendsms: okaz_tests::free_port(),
    };
    let conf = write_conf(&dir, &ports);
    let received = Arc::new(Mutex::new(Vec::new()));
    let mut kannel = Kannel {
        conf,
        ports,
        procs: Vec::new(),
        received: received.clone(),
    };
    kannel.start();

    okaz_tests::write_private(&dir.join("sendsms.pw"), SENDSMS_PASSWORD.as_bytes());
    okaz_tests::write_private(&dir.join("dlr.token"), DLR_TOKEN.as_bytes());
    let ops = format!("127.0.0.1:{}", okaz_tests::free_port());
    let replica = Replica::spawn_with(
        &kit.dir.path().join("okaz.toml"),
        &kit.dir.path().join("kannel-broker.pem"),
        ReplicaOptions {
            ops_listen: ops.clone(),
            log: "warn".into(),
            env: vec![
                (
                    "OKAZ_SMS_SENDSMS_URL".into(),
                    format!("http://127.0.0.1:{}/cgi-bin/sendsms", kannel.ports.sendsms),
                ),
                ("OKAZ_SMS_USERNAME".into(), "okaz".into()),
                (
                    "OKAZ_SMS_PASSWORD_FILE".into(),
                    dir.join("sendsms.pw").display().to_string(),
                ),
                (
                    "OKAZ_SMS_DLR_URL".into(),
                    format!("http://{ops}/kannel/dlr"),
                ),
                (
                    "OKAZ_SMS_DLR_TOKEN_FILE".into(),
                    dir.join("dlr.token").display().to_string(),
                ),
            ],
            ..ReplicaOptions::default()
        },
    );
    let (base, http) = (replica.url.clone(), replica.http.clone());

    let citizen = kit.citizen(&["adult", "valid_id", "contactable"]).await;
    kit.activate(&citizen.pesel).await;
    let phone = citizen.phone.clone().unwrap();
    let clerk = kit.officer("clerk", "U1").await;
    let totp = okaz_core::credentials::totp_code_at(
        &clerk.totp_secret,
        chrono::Utc::now().timestamp() as u64,
    )
    .unwrap();
    let r = post(
        &http,
        &format!("{base}/v1/sessions"),
        None,
        json!({"login": clerk.login, "password": clerk.password, "totp": totp}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    let start =
        json!({"subject": {"pesel": citizen.pesel}, "document": "id_card", "purpose": "age_check"});

    let mut ids = Vec::new();
    let mut delivered = 0;
    let flow = Flow {
        http: http.clone(),
        base: base.clone(),
        token: token.clone(),
        start: start.clone(),
        received: received.clone(),
        phone: phone.clone(),
    };
    let check = |round: &'static str| flow.run(round);

    // Codes one and two.
    for round in ["first", "second"] {
        let before = received.lock().unwrap().len();
        let (id, _) = check(round).await;
        assert_eq!(received.lock().unwrap().len(), before + 1);
        ids.push(id);
        delivered += 1;
    }

    // Kannel stops: the start in flight is answered 503 sms_unavailable and
    // costs nothing.
    let me = http
        .request("GET", &format!("{base}/v1/me"), Some(&token), None)
        .await;
    let used_before = me.body["quota"]["used"].as_u64().unwrap();
    kannel.stop();
    let r = post(
        &http,
        &format!("{base}/v1/verifications"),
        Some(&token),
        start.clone(),
    )
    .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["code"], "sms_unavailable", "{}", r.body);
    assert_eq!(
        r.body["quota"]["used"].as_u64(),
        Some(used_before),
        "{}",
        r.body
    );
    let me = http
        .request("GET", &format!("{base}/v1/me"), Some(&token), None)
        .await;
    assert_eq!(
        me.body["quota"]["used"].as_u64(),
        Some(used_before),
        "the failed start cost nothing"
    );
    println!("Kannel down: start answered 503 sms_unavailable; quota used stays {used_before}");

    // Kannel back: the third code goes through.
    kannel.start();
    let before = received.lock().unwrap().len();
    let (id, used) = check("third").await;
    assert_eq!(received.lock().unwrap().len(), before + 1);
    ids.push(id);
    delivered += 1;
    assert_eq!(used, used_before + 1);
    println!(
        "fakesmsc received {delivered} codes through bearerbox/smsbox: {:?}",
        received.lock().unwrap().len()
    );

    // Delivery reports: counted on the ops listener, audited per challenge.
    let deadline = Instant::now() + Duration::from_secs(15);
    let reports = loop {
        let m = okaz_tests::plain_get(&format!("http://{ops}/metrics"))
            .await
            .unwrap();
        let n: u64 = m
            .text
            .lines()
            .find_map(|l| l.strip_prefix("okaz_sms_delivery_reports_total{status=\"delivered\"} "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if n >= 1 {
            break m.text;
        }
        assert!(
            Instant::now() < deadline,
            "no delivery report arrived:\n{}",
            m.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let report_lines: Vec<&str> = reports
        .lines()
        .filter(|l| l.starts_with("okaz_sms_delivery_reports_total"))
        .collect();
    println!("delivery reports: {report_lines:?}");
    let audited = kit
        .store
        .audit_search(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let delivered_records: Vec<_> = audited
        .iter()
        .filter(|r| r.entry.event == AuditEvent::SmsDelivered)
        .collect();
    assert!(
        !delivered_records.is_empty(),
        "no sms_delivered audit record"
    );
    for r in &delivered_records {
        let v = r.entry.verification.clone().unwrap();
        assert!(ids.contains(&v), "a report for an unknown challenge {v}");
        let printed = format!("{:?}", r.entry);
        assert!(
            !printed.contains(phone.trim_start_matches('+')),
            "a phone in the audit: {printed}"
        );
    }
    println!(
        "audit: {} sms_delivered records, each naming its challenge",
        delivered_records.len()
    );

    // A report without the token is refused and recorded nowhere.
    let forged = okaz_tests::plain_get(&format!(
        "http://{ops}/kannel/dlr?token=wrong&ref={}&type=1",
        ids[0]
    ))
    .await
    .unwrap();
    assert_eq!(forged.status, 403);
    kannel.stop();
}
