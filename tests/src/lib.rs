//! The test kit: starts a fresh PostgreSQL database, the sandbox registers
//! and SMS gateway, and a broker over real HTTPS, and hands back a client,
//! so that each whole-system test reads as a user's story.
//!
//! PostgreSQL is found at `OKAZ_TEST_DATABASE_URL` (an admin URL; the test
//! command `scripts/test` sets it, starting a throwaway server if none runs).
//! Without one the kit fails loudly: no test is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit: any failure should abort the test with its message"
)]

pub mod browser;
pub mod http_client;
pub mod openapi;
pub mod pki;
pub mod portal_agent;
pub mod replica;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use okaz_core::audit::{AuditEntry, AuditEvent};
use okaz_core::broker::Broker;
use okaz_core::clock::ManualClock;
use okaz_core::credentials::totp_code_at;
use okaz_core::ports::{NewOfficer, Store};
use okaz_sandbox::{Sandbox, SandboxOptions};
use okaz_server::config::Config;
use okaz_server::metrics::Metrics;
use okaz_server::wiring;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub use http_client::{plain_get, HttpClient, Reply};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The admin URL of the test PostgreSQL server.
pub fn admin_url() -> String {
    std::env::var("OKAZ_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// `okaz-server --config <config>`, logging warnings only, for a CLI step.
pub fn server_command(config: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(binary("okaz-server"));
    c.arg("--config").arg(config).env("OKAZ_LOG", "warn");
    c
}

/// Runs a command that must succeed and returns its standard output; a
/// failure stops the test with the command and everything it printed.
#[track_caller]
pub fn run_ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Runs a command that may fail: its exit code (-1 for a signal) and
/// everything it printed, standard output first.
pub fn run_said(cmd: &mut std::process::Command) -> (i32, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), said)
}

/// A port free on the loopback interface at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The TOTP secret in an `otpauth://` URI, decoded.
pub fn totp_secret_in(uri: &str) -> Vec<u8> {
    let secret = url::Url::parse(uri)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "secret")
        .expect("the URI carries a secret")
        .1
        .to_string();
    base32_decode(&secret)
}

/// Runs a command that must fail and returns its standard error, for the
/// test to read the reason in.
#[track_caller]
pub fn run_fails(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        !out.status.success(),
        "{cmd:?} succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A client on this database URL (over the store's TLS connector, as the
/// broker connects), its connection driven by a spawned task.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = okaz_store::postgres::tls::connect(url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL is not reachable at {url} ({e}). Run the tests with scripts/test, which starts one.")
    });
    tokio::spawn(conn);
    client
}

/// A client on the server's administrative database ([`admin_url`]).
pub async fn admin_db() -> tokio_postgres::Client {
    connect(&admin_url()).await
}

/// Drops a test database made by [`fresh_database`] (a test calls this once
/// it passed, so that a failed one leaves its database behind for a look).
pub async fn drop_database(url: &str) {
    let name = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_string();
    admin_db()
        .await
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// The SQL of an insider with database access who rewrites record `at` of
/// `chain` (its `records`, as the store reads them) as a refusal, rehashes
/// the chain from there and its head, and clears the Merkle tree so that
/// the integrator rebuilds it from the rewritten records: what the
/// transparency log must catch.
pub fn rewrite_as_refused(
    records: &[okaz_core::audit::StoredRecord],
    at: usize,
    chain: &str,
) -> Vec<String> {
    let mut prev = records[at].prev_hash.clone();
    let mut stmts = vec![format!(
        "UPDATE audit_log SET outcome = 'not_permitted' WHERE id = {}",
        records[at].id
    )];
    for (i, r) in records.iter().enumerate().skip(at) {
        let mut e = r.entry.clone();
        if i == at {
            e.outcome = okaz_core::audit::Outcome::Refused(okaz_protocol::ErrorCode::NotPermitted);
        }
        let hash = okaz_core::audit::link_hash(&prev, r.seq, &e);
        stmts.push(format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
            r.id
        ));
        prev = hash;
    }
    stmts.push(format!(
        "UPDATE audit_chain_heads SET hash = '{prev}' WHERE chain = '{chain}'"
    ));
    stmts.push("DELETE FROM audit_tree".into());
    stmts.push("UPDATE audit_log SET leaf = NULL".into());
    stmts.push("UPDATE audit_tree_size SET size = 0".into());
    stmts
}

/// Creates a fresh database and returns its URL and name.
pub async fn fresh_database() -> (String, String) {
    let admin = admin_url();
    let client = connect(&admin).await;
    let name = format!("okaz_t_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

/// How to start the kit.
pub struct Options {
    /// Edits applied to `policies/default.toml` (find, replace), e.g. a lower limit.
    pub policy_edits: Vec<(String, String)>,
    /// Where the manual clock starts.
    pub start: DateTime<Utc>,
    /// Sandbox population size.
    pub population: u64,
    /// Client-certificate trust (units' CAs and CRLs) for police terminals.
    pub client_auth: Option<okaz_server::http::server::ClientAuth>,
    /// The broker's database connections.
    pub pool_size: usize,
    /// Start an `okaz-witness` process (its own state directory) and
    /// configure the broker to push checkpoints to it.
    pub witness: bool,
    /// Configure `[notices]` (key file, the sandbox's mailbox endpoint):
    /// citizens are noticed of checks. Off by default, so tests that count
    /// a phone's messages count only codes.
    pub notices: bool,
}

impl Options {
    /// The default options, with police allowed to log in by password as
    /// well: for tests about what police checks do rather than how police
    /// log in (certificate + PIN, the only way the shipped policy allows,
    /// is tested on its own).
    pub fn with_police_passwords() -> Self {
        Options {
            policy_edits: vec![(
                "auth = [\"certificate_pin\"]".into(),
                "auth = [\"certificate_pin\", \"password_totp\"]".into(),
            )],
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy_edits: Vec::new(),
            client_auth: None,
            start: Utc::now(),
            population: 10_000,
            pool_size: 8,
            witness: false,
            notices: false,
        }
    }
}

/// A test officer with their credentials.
#[derive(Clone, Debug)]
pub struct TestOfficer {
    /// Id.
    pub id: String,
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
    /// TOTP secret.
    pub totp_secret: Vec<u8>,
    /// Unit.
    pub unit: String,
}

/// A synthetic citizen from the sandbox.
#[derive(Clone, Debug)]
pub struct TestCitizen {
    /// PESEL.
    pub pesel: String,
    /// Full name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail / digital mailbox, where the contact register has one.
    pub email: Option<String>,
    /// Scenario tags.
    pub tags: Vec<String>,
    /// Index in the sandbox population.
    pub index: u64,
    /// Registration numbers of the citizen's vehicles.
    pub plates: Vec<String>,
    /// Identity card series and number.
    pub id_card_number: String,
    /// Driving licence number, if the citizen holds one.
    pub licence_number: Option<String>,
}

/// Seed of the sandbox population every kit starts.
pub const SANDBOX_SEED: u64 = 7;

/// Everything a whole-system test needs.
pub struct Kit {
    /// The broker's database URL.
    pub database_url: String,
    /// The database name.
    pub database: String,
    /// The sandbox registers and SMS gateway.
    pub sandbox: Sandbox,
    /// The broker's base URL (https://127.0.0.1:PORT).
    pub broker_url: String,
    /// The operations listener's base URL (http://127.0.0.1:PORT).
    pub ops_url: String,
    /// HTTPS client trusting the broker's and sandbox's certificates.
    pub http: HttpClient,
    /// The broker's clock.
    pub clock: Arc<ManualClock>,
    /// The broker (for the kit's set-up; tests act through HTTP).
    pub broker: Broker,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Config, policy and secret files.
    pub dir: TempDir,
    /// The broker's certificate (PEM).
    pub broker_cert: String,
    /// The broker's okaz.toml.
    pub config_path: PathBuf,
    /// The transparency log's integrator (run by [`Kit::integrate`]).
    pub tlog: Arc<okaz_server::tlog::Transparency>,
    /// The witness process, when [`Options::witness`] asked for one.
    pub witness: Option<WitnessProcess>,
    /// The notice outbox's delivery, when [`Options::notices`] asked for it.
    pub notices: Option<Arc<okaz_server::notices::Delivery>>,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Kit {
    /// Starts everything with default options.
    pub async fn start() -> Kit {
        Self::start_with(Options::default()).await
    }

    /// Starts everything.
    pub async fn start_with(opts: Options) -> Kit {
        let (database_url, database) = fresh_database().await;
        let sandbox = Sandbox::start(SandboxOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            population: opts.population,
            seed: SANDBOX_SEED,
            faults: Default::default(),
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config_path = write_config(dir.path(), &database_url, &sandbox, &opts.policy_edits);
        let log_public = init_test_log_key(dir.path());
        let witness = opts.witness.then(|| WitnessProcess::start(&log_public));
        let witnesses: Vec<(String, String)> = witness
            .iter()
            .map(|w| (w.url.clone(), w.key.clone()))
            .collect();
        add_audit_config(&config_path, dir.path(), &witnesses);
        if opts.notices {
            add_notices_config(&config_path, dir.path(), &sandbox);
        }
        let mut cfg = Config::load(&config_path, Vec::new()).unwrap();
        cfg.database.pool_size = opts.pool_size;
        let clock = Arc::new(ManualClock::new(opts.start));
        let metrics = Metrics::default();
        let listener = okaz_server::http::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        // The portal's eID callback (and the notices' dispute links) name
        // the broker's real port, known only now.
        if let Some(p) = cfg.portal.as_mut() {
            p.public_url = url::Url::parse(&format!("https://{addr}/")).unwrap();
        }
        let broker = wiring::broker_with_metrics(&cfg, clock.clone(), &metrics)
            .await
            .unwrap();
        let (tls, broker_cert) =
            okaz_server::http::server::self_signed_with_clients(opts.client_auth.as_ref()).unwrap();
        // The kit runs the notice outbox on demand ([`Kit::deliver_notices`]).
        let notices = okaz_server::notices::outbox(
            cfg.notices.as_ref(),
            &broker,
            wiring::portal_url(&cfg),
            &metrics,
        )
        .unwrap();
        // The kit runs the integrator on demand ([`Kit::integrate`]), so
        // tests see the log in a known state.
        let app = wiring::app(&cfg, broker.clone(), metrics).unwrap();
        let tlog = app.tlog.clone();
        let ops_listener = okaz_server::http::server::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let ops_url = format!("http://{}", ops_listener.local_addr().unwrap());
        // Lives as long as the test's runtime; it holds no connection pool of its own.
        tokio::spawn(okaz_server::http::ops::serve(
            ops_listener,
            app.clone(),
            std::future::pending::<()>(),
        ));
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = wiring::limits(&cfg);
        let served = tokio::spawn(okaz_server::http::server::serve(
            listener,
            tls,
            app,
            limits,
            async {
                let _ = stopped.await;
            },
        ));
        let http = HttpClient::new(&[broker_cert.as_bytes(), sandbox.ca_pem.as_bytes()]);
        let store = broker.store.clone();
        Kit {
            database_url,
            database,
            sandbox,
            broker_url: format!("https://{addr}"),
            ops_url,
            http,
            clock,
            broker,
            store,
            dir,
            broker_cert,
            config_path,
            tlog,
            witness,
            notices,
            stop: Some(stop),
            served: Some(served),
        }
    }

    /// Runs the integrator once: every pending audit record into the tree,
    /// a signed checkpoint, pushed to the witnesses.
    pub async fn integrate(&self) -> okaz_server::tlog::Pass {
        self.tlog.run_once().await.unwrap()
    }

    /// Runs the notice outbox once at the kit's clock: every due notice
    /// sent (and deleted) or put back with backoff.
    pub async fn deliver_notices(&self) -> okaz_server::notices::OutboxPass {
        let d = self.notices.as_ref().expect("the kit runs without notices");
        d.run_outbox_once(self.clock.now_utc()).await.unwrap()
    }

    /// Stops the broker gracefully and waits for it.
    pub async fn stop_broker(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.served.take() {
            let _ = h.await;
        }
    }

    /// A GET on the operations listener (`/metrics`, `/readyz`, `/healthz`).
    pub async fn ops_get(&self, path: &str) -> Reply {
        plain_get(&format!("{}{path}", self.ops_url)).await.unwrap()
    }

    /// Creates an officer with a known password and TOTP secret.
    pub async fn officer(&self, role: &str, unit: &str) -> TestOfficer {
        let login = format!("{role}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let totp_secret = uuid::Uuid::new_v4().as_bytes().repeat(2)[..20].to_vec();
        let hash = self
            .broker
            .hasher
            .hash(password.clone().into())
            .await
            .unwrap();
        let audit = AuditEntry::new(
            self.clock.now_utc(),
            AuditEvent::OfficerCreated,
            "system",
            unit,
        );
        // Stored as the broker stores it: sealed under the TOTP key, bound to the id.
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = self.broker.seal_totp(&id, &totp_secret).unwrap();
        let o = self
            .store
            .insert_officer(
                NewOfficer {
                    id,
                    login: login.clone(),
                    display_name: format!("Officer {login}"),
                    role: role.to_string(),
                    unit: unit.to_string(),
                    password_hash: hash,
                    totp_secret: sealed,
                },
                audit,
            )
            .await
            .unwrap();
        TestOfficer {
            id: o.id,
            login,
            password,
            totp_secret,
            unit: unit.to_string(),
        }
    }

    /// The officer's TOTP code at the broker's current time.
    pub fn totp(&self, o: &TestOfficer) -> String {
        totp_code_at(&o.totp_secret, self.clock.now_utc().timestamp() as u64).unwrap()
    }

    /// A login attempt with these credentials, as the terminal sends it.
    pub async fn sign_in(&self, login: &str, password: &str, totp: &str) -> Reply {
        self.post(
            "/v1/sessions",
            None,
            json!({"login": login, "password": password, "totp": totp}),
        )
        .await
    }

    /// Logs in over HTTPS and returns the token; moves the clock one TOTP
    /// step first so that consecutive logins never reuse a step.
    pub async fn login(&self, o: &TestOfficer) -> String {
        self.clock.advance(chrono::Duration::seconds(30));
        let r = self.sign_in(&o.login, &o.password, &self.totp(o)).await;
        assert_eq!(r.status, 201, "login failed: {}", r.body);
        r.body["token"].as_str().unwrap().to_string()
    }

    /// Up to `n` sandbox citizens with a scenario tag, read over HTTPS.
    pub async fn citizens(&self, tag: &str, n: usize) -> Vec<TestCitizen> {
        self.citizens_from(tag, n, 0).await
    }

    /// Like [`Kit::citizens`], scanning from population index `start`.
    pub async fn citizens_from(&self, tag: &str, n: usize, start: u64) -> Vec<TestCitizen> {
        let url = format!(
            "{}_population?tag={tag}&limit={n}&start={start}",
            self.sandbox.base_url()
        );
        let r = self.http.request("GET", &url, None, None).await;
        assert_eq!(r.status, 200, "population: {}", r.body);
        let list = r.body.as_array().cloned().unwrap_or_default();
        assert!(
            !list.is_empty(),
            "the sandbox has no citizen tagged {tag} from index {start}"
        );
        list.iter()
            .map(|s| TestCitizen {
                pesel: s["pesel"].as_str().unwrap().to_string(),
                name: s["name"].as_str().unwrap_or_default().to_string(),
                phone: s["phone"].as_str().map(str::to_string),
                email: s["email"].as_str().map(str::to_string),
                tags: s["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
                    .collect(),
                index: s["index"].as_u64().unwrap(),
                plates: s["plates"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|p| p.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                id_card_number: s["id_card_number"].as_str().unwrap_or_default().to_string(),
                licence_number: s["licence_number"].as_str().map(str::to_string),
            })
            .collect()
    }

    /// One citizen with all of these tags.
    pub async fn citizen(&self, tags: &[&str]) -> TestCitizen {
        self.citizens_with(tags, 1).await.remove(0)
    }

    /// `n` different citizens with all of these tags.
    pub async fn citizens_with(&self, tags: &[&str], n: usize) -> Vec<TestCitizen> {
        let mut found = Vec::new();
        let mut start = 0;
        while found.len() < n {
            let page = self.citizens_from(tags[0], 1000, start).await;
            start = page.last().map(|c| c.index + 1).unwrap_or(u64::MAX);
            found.extend(
                page.into_iter()
                    .filter(|c| tags.iter().all(|t| c.tags.iter().any(|x| x == t))),
            );
            assert!(
                start < u64::MAX / 2,
                "not {n} sandbox citizens tagged {tags:?}"
            );
        }
        found.truncate(n);
        found
    }

    /// Activates the service for a citizen (what the portal will do).
    pub async fn activate(&self, pesel: &str) {
        let p = okaz_protocol::Pesel::parse(pesel).unwrap();
        self.broker.set_activation(&p, true).await.unwrap();
    }

    /// The messages in a phone's inbox at the sandbox SMS gateway, oldest first.
    pub async fn inbox(&self, phone: &str) -> Vec<String> {
        self.sandbox_texts(&format!("phones/{phone}/messages"))
            .await
    }

    /// The `text` of each message the sandbox lists at `path`, oldest first.
    async fn sandbox_texts(&self, path: &str) -> Vec<String> {
        let url = format!("{}{path}", self.sandbox.base_url());
        let r = self.http.request("GET", &url, None, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_string())
            .collect()
    }

    /// The code in the newest SMS to a phone, read as the citizen would.
    pub async fn latest_code(&self, phone: &str) -> String {
        let messages = self.inbox(phone).await;
        // The newest code SMS: a notice of an earlier check may come later.
        let last = messages
            .iter()
            .rev()
            .find(|m| !m.starts_with(NOTICE_PREFIX))
            .expect("no SMS arrived");
        code_in(last).expect("no six-digit code in the SMS")
    }

    /// The notices (not the codes) a phone received, oldest first.
    pub async fn notices(&self, phone: &str) -> Vec<String> {
        self.inbox(phone)
            .await
            .into_iter()
            .filter(|m| m.starts_with(NOTICE_PREFIX))
            .collect()
    }

    /// A mailbox's messages (subject, blank line, text), oldest first.
    pub async fn mailbox(&self, address: &str) -> Vec<String> {
        self.sandbox_texts(&format!("mailboxes/{address}/messages"))
            .await
    }

    /// `POST` JSON to the broker.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        let url = format!("{}{path}", self.broker_url);
        self.http
            .request("POST", &url, token, Some(body.to_string().into_bytes()))
            .await
    }

    /// `GET` from the broker.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.http
            .request("GET", &format!("{}{path}", self.broker_url), token, None)
            .await
    }

    /// `DELETE` at the broker.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.http
            .request("DELETE", &format!("{}{path}", self.broker_url), token, None)
            .await
    }

    /// A scripted citizen for the portal (no browser), with its own cookies.
    pub fn portal_agent(&self) -> portal_agent::PortalAgent {
        portal_agent::PortalAgent::new(self)
    }

    /// `okaz-server --config <this kit's config>`, logging warnings only.
    pub fn server_cmd(&self) -> std::process::Command {
        server_command(&self.config_path)
    }

    /// Starts a check of this citizen, which must be accepted, and reads
    /// the code the citizen was sent: the check's id and the code.
    pub async fn check_with_code(
        &self,
        token: &str,
        citizen: &TestCitizen,
        document: &str,
        purpose: &str,
    ) -> (String, String) {
        let r = self
            .start_check(token, &citizen.pesel, document, purpose)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let code = self
            .latest_code(citizen.phone.as_deref().expect("a contactable citizen"))
            .await;
        (r.body["id"].as_str().unwrap().to_string(), code)
    }

    /// Makes the sandbox's `service` misbehave as `how` sets its fault, until
    /// `sandbox.clear_faults()`.
    pub fn fault(&self, service: &str, how: impl FnOnce(&mut okaz_sandbox::Fault)) {
        let mut fault = okaz_sandbox::Fault::default();
        how(&mut fault);
        self.sandbox.set_fault(service, fault);
    }

    /// A security officer's unlock of an officer's account, with this body.
    pub async fn unlock(&self, token: &str, officer_id: &str, body: Value) -> Reply {
        let path = format!("/v1/admin/officers/{officer_id}/unlock");
        self.post(&path, Some(token), body).await
    }

    /// A break-glass release of this citizen's ID card for an identity
    /// confirmation, with this justification.
    pub async fn break_glass(&self, token: &str, pesel: &str, justification: &str) -> Reply {
        self.post(
            "/v1/break-glass",
            Some(token),
            json!({"subject": {"pesel": pesel}, "document": "id_card",
                   "purpose": "identity_confirmation", "justification": justification}),
        )
        .await
    }

    /// The pseudonym this broker records a citizen under.
    pub fn pseudonym(&self, pesel: &str) -> String {
        let pesel = okaz_protocol::Pesel::parse(pesel).unwrap();
        okaz_core::pseudonym::Pseudonym::of(&self.broker.keys.pepper, &pesel)
            .as_str()
            .to_string()
    }

    /// A client on this kit's own database, as someone with database access.
    pub async fn db(&self) -> tokio_postgres::Client {
        connect(&self.database_url).await
    }

    /// Starts a verification.
    pub async fn start_check(
        &self,
        token: &str,
        pesel: &str,
        document: &str,
        purpose: &str,
    ) -> Reply {
        self.post_check(
            token,
            json!({"subject": {"pesel": pesel}, "document": document, "purpose": purpose}),
        )
        .await
    }

    /// Starts a verification with this request body, as it is.
    pub async fn post_check(&self, token: &str, body: Value) -> Reply {
        self.post("/v1/verifications", Some(token), body).await
    }

    /// Gives a code for a verification.
    pub async fn give_code(&self, token: &str, id: &str, code: &str) -> Reply {
        self.post(
            &format!("/v1/verifications/{id}/code"),
            Some(token),
            json!({"code": code}),
        )
        .await
    }
}

/// How a notice's SMS begins (a code's SMS begins `okaz: kod`).
pub const NOTICE_PREFIX: &str = okaz_core::notice::TEXT_PREFIX;

/// Extracts the six-digit code from an SMS text.
pub fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
}

/// Writes okaz.toml, the policy dir, and the secret files; returns the config path.
pub fn write_config(
    dir: &Path,
    database_url: &str,
    sandbox: &Sandbox,
    policy_edits: &[(String, String)],
) -> PathBuf {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    let mut policy = std::fs::read_to_string(workspace().join("policies/default.toml")).unwrap();
    for (from, to) in policy_edits {
        assert!(
            policy.contains(from.as_str()),
            "policy edit does not apply: {from}"
        );
        policy = policy.replacen(from.as_str(), to, 1);
    }
    std::fs::write(policies.join("default.toml"), policy).unwrap();
    okaz_server::keys::KeyDir {
        dir: dir.join("keys"),
        prefix: String::new(),
    }
    .init(None)
    .unwrap();
    write_private(
        &dir.join("kannel.pw"),
        okaz_sandbox::KANNEL_PASSWORD.as_bytes(),
    );
    std::fs::write(dir.join("sandbox-ca.pem"), &sandbox.ca_pem).unwrap();
    let cfg = format!(
        r#"
[server]
listen = "127.0.0.1:0"
ops_listen = "127.0.0.1:0"
shutdown_delay_secs = 1
max_body_bytes = 16384
[database]
url = "{database_url}"
pool_size = 8
[secrets]
dir = "{dir}/keys"
[policies]
dir = "{dir}/policies"
[registers]
base_url = "{base}"
ca_file = "{dir}/sandbox-ca.pem"
timeout_ms = 2000
retries = 1
[sms]
sendsms_url = "{sms}"
username = "{user}"
password_file = "{dir}/kannel.pw"
ca_file = "{dir}/sandbox-ca.pem"
[portal]
# The kit sets the real port once the broker listens; a spawned binary keeps this.
public_url = "https://127.0.0.1/"
oidc_issuer = "{issuer}"
client_id = "okaz-portal"
ca_file = "{dir}/sandbox-ca.pem"
"#,
        issuer = sandbox.oidc_issuer(),
        dir = dir.display(),
        base = sandbox.base_url(),
        sms = sandbox.sendsms_url(),
        user = okaz_sandbox::KANNEL_USERNAME,
    );
    let path = dir.join("okaz.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

/// Writes a secret file as the broker wants it: mode 600 (it refuses
/// secret files that group or others may read).
pub fn write_private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// The log's origin in tests.
pub const TEST_ORIGIN: &str = "okaz.test/audit";

/// Creates the kit's log key (`dir/log.key`); its public key.
pub fn init_test_log_key(dir: &Path) -> String {
    okaz_server::tlog::init_log_key(&dir.join("log.key"), TEST_ORIGIN).unwrap()
}

/// `okaz-witness` running as its own process, with its own state directory.
pub struct WitnessProcess {
    child: std::process::Child,
    /// Its add-checkpoint URL.
    pub url: String,
    /// Its cosigner key.
    pub key: String,
    /// Its key file and state directory.
    pub dir: TempDir,
}

impl WitnessProcess {
    /// Creates a witness key and starts `okaz-witness serve` for the log.
    pub fn start(log_public: &str) -> WitnessProcess {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let bin = binary("okaz-witness");
        let key_file = dir.path().join("witness.key");
        let out = std::process::Command::new(&bin)
            .args(["init-key", "--name", "witness.test", "--key-file"])
            .arg(&key_file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let mut child = std::process::Command::new(&bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--state-dir"])
            .arg(dir.path().join("state"))
            .arg("--key-file")
            .arg(&key_file)
            .args(["--log", log_public])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        WitnessProcess {
            child,
            url: format!("{addr}/add-checkpoint"),
            key,
            dir,
        }
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Appends `[audit]` (the key at `dir/log.key`) to a kit config.
pub fn add_audit_config(config: &Path, dir: &Path, witnesses: &[(String, String)]) {
    let key = dir.join("log.key");
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str(&format!(
        "[audit]\nlog_key_file = \"{}\"\norigin = \"{TEST_ORIGIN}\"\ncheckpoint_interval_ms = 200\n\
         checkpoint_refresh_secs = 1\n",
        key.display()
    ));
    for (url, k) in witnesses {
        text.push_str(&format!(
            "[[audit.witnesses]]\nurl = \"{url}\"\nkey = \"{k}\"\n"
        ));
    }
    std::fs::write(config, text).unwrap();
}

/// Appends `[notices]`: the sandbox's mailbox endpoint (the notice key is
/// the key set's `notice_outbox`).
pub fn add_notices_config(config: &Path, dir: &Path, sandbox: &Sandbox) {
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str(&format!(
        "[notices]\nmail_url = \"{}\"\nmail_ca_file = \"{}\"\n",
        sandbox.mail_url(),
        dir.join("sandbox-ca.pem").display()
    ));
    std::fs::write(config, text).unwrap();
}

/// A manual clock's time, named for readability in tests.
pub trait NowUtc {
    /// The current instant of the clock.
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        okaz_core::clock::Clock::now(self)
    }
}

/// A binary of the workspace, built by the test command before the tests
/// (`cargo build --bins`); a missing one fails the test with that advice.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with scripts/test (it builds the binaries first)",
        path.display()
    );
    path
}

/// The local time in Warsaw as a UTC instant, for stepping a clock.
pub fn warsaw(local: &str) -> DateTime<Utc> {
    use chrono::TimeZone;
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").unwrap();
    chrono_tz::Europe::Warsaw
        .from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// Decodes RFC 4648 base32 (no padding), as in `otpauth://` URIs.
pub fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u64, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("base32") as u64;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// SHA-256 of bytes, hex; the broker identifies terminal certificates so.
pub fn sha256_hex(bytes: &[u8]) -> String {
    okaz_core::session::hash_bytes(bytes)
}

impl Kit {
    /// The most common opening of a story: a logged-in clerk of `unit` and an
    /// adult, contactable citizen with a valid ID who has activated the service.
    pub async fn clerk_and_citizen(&self, unit: &str) -> (TestOfficer, String, TestCitizen) {
        let clerk = self.officer("clerk", unit).await;
        let citizen = self.citizen(&["adult", "valid_id", "contactable"]).await;
        self.activate(&citizen.pesel).await;
        let token = self.login(&clerk).await;
        (clerk, token, citizen)
    }
}
