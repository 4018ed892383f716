//! `okaz demo`: the sandbox registers and SMS gateway on loopback, the
//! broker over HTTPS with a self-signed certificate on a SQLite file in a
//! temporary directory, three demo accounts, a few activated sample
//! citizens, and the terminal with a panel showing the citizen's phone.
//!
//! Everything lives in this process and in one temporary directory; on the
//! way out (quitting the terminal, Ctrl-C, SIGTERM) the broker and sandbox
//! stop and the directory is removed.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Local, Utc};
use clap::Args;
use okaz_core::audit::{AuditEntry, AuditEvent};
use okaz_core::broker::Broker;
use okaz_core::clock::SystemClock;
use okaz_core::credentials::totp_code_at;
use okaz_core::ports::NewOfficer;
use okaz_protocol::Pesel;
use okaz_sandbox::{Faults, Sandbox, SandboxOptions};
use okaz_server::config::Config;
use okaz_server::http;
use okaz_server::metrics::Metrics;
use okaz_server::wiring;
use okaz_terminal::client::{Client, TlsFiles};
use okaz_terminal::demo::{DemoOfficer, DemoPanel};
use okaz_terminal::i18n::Lang;
use okaz_terminal::profile::Profile;
use okaz_terminal::{Key, Model, Msg};
use rand::{Rng, RngCore};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

/// The unit every demo account belongs to.
const UNIT: &str = "USC-Demo";
/// The national default policy, so the demo runs from any directory.
const DEFAULT_POLICY: &str = include_str!("../policies/default.toml");
/// How often the citizen's phone is looked at.
const INBOX_POLL: Duration = Duration::from_millis(500);
/// How often the accounts' TOTP codes are recomputed (a code lasts 30 s).
const CODE_POLL: Duration = Duration::from_secs(1);
/// TOTP step length (RFC 6238 default, as the broker uses).
const TOTP_STEP: i64 = 30;
/// How long the broker and sandbox may take to stop.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Citizens looked at when picking the samples.
const SCAN: u64 = 5_000;
/// Messages the panel lists.
const INBOX_SHOWN: usize = 6;

/// Options of `okaz demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Synthetic citizens in the sandbox registers.
    #[arg(long, default_value_t = 100_000)]
    population: u64,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Store URL; a SQLite file in a temporary directory by default. A
    /// PostgreSQL URL (postgres://…) must name an empty database.
    #[arg(long)]
    database_url: Option<String>,
    /// Language of the terminal; by default from LC_ALL / LC_MESSAGES / LANG.
    #[arg(long, value_parser = ["pl", "en"])]
    lang: Option<String>,
    /// Terminal layout.
    #[arg(long, default_value = "desktop", value_parser = ["handheld", "desktop"])]
    profile: String,
    /// Serve broker and sandbox without opening the terminal, until Ctrl-C
    /// (to connect a separate `okaz-terminal`).
    #[arg(long)]
    headless: bool,
}

/// A demo account with what is needed to log in.
struct Account {
    role: &'static str,
    login: String,
    password: Zeroizing<String>,
    totp_secret: Zeroizing<Vec<u8>>,
}

/// A sample citizen and why they are interesting.
struct Sample {
    pesel: String,
    name: String,
    phone: Option<String>,
    note: &'static str,
    activated: bool,
    /// Plates of the citizen's vehicles, for police lookups by plate.
    plates: Vec<String>,
}

/// A demo unit's terminal CA (with its CRL) and one police terminal's
/// certificate, written to the demo's directory.
struct PoliceTerminal {
    client_auth: okaz_server::http::server::ClientAuth,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    fingerprint: String,
}

/// Makes the demo unit's CA, an empty CRL and a terminal certificate for
/// `demo.police`; the files go to `dir` (removed with it on the way out).
fn police_terminal(dir: &Path) -> Result<PoliceTerminal> {
    use rcgen::{
        date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
        DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
    };
    use rustls::pki_types::{CertificateDer, CertificateRevocationListDer};
    let ca_key = KeyPair::generate()?;
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name
        .push(DnType::CommonName, "okaz demo unit terminals CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = p.self_signed(&ca_key)?;
    let now = Utc::now();
    let year = chrono::Datelike::year(&now);
    let crl = CertificateRevocationListParams {
        this_update: date_time_ymd(year - 1, 1, 1),
        next_update: date_time_ymd(year + 1, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca, &ca_key)?;
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name
        .push(DnType::CommonName, "demo police terminal");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.serial_number = Some(SerialNumber::from(1u64));
    p.not_before = date_time_ymd(year - 1, 1, 1);
    p.not_after = date_time_ymd(year + 1, 1, 1);
    let cert = p.signed_by(&key, &ca, &ca_key)?;
    let files = [
        ("unit-ca.pem", ca.pem()),
        ("unit-ca.crl.pem", crl.pem()?),
        ("police-terminal.pem", cert.pem()),
        ("police-terminal.key", key.serialize_pem()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
    let key_path = dir.join("police-terminal.key");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
    }
    let fingerprint = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(cert.der()))
    };
    Ok(PoliceTerminal {
        client_auth: okaz_server::http::server::ClientAuth::unit(
            UNIT,
            vec![CertificateDer::from(ca.der().to_vec())],
            vec![CertificateRevocationListDer::from(crl.der().to_vec())],
        ),
        cert: dir.join("police-terminal.pem"),
        key: key_path,
        fingerprint,
    })
}

/// Runs the demo until the user quits.
pub async fn run(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("okaz-demo-")
        .tempdir()
        .context("creating a temporary directory")?;
    let sandbox = Sandbox::start(SandboxOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        population: args.population,
        seed: args.seed,
        faults: Faults::none(),
    })
    .await
    .map(Arc::new)
    .context("starting the sandbox registers")?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("okaz.db").display()));
    let mut cfg = write_config(dir.path(), &database_url, &sandbox)?;
    let police = police_terminal(dir.path()).context("making the demo police terminal")?;
    let (tls, cert_pem) = http::server::self_signed_with_clients(Some(&police.client_auth))?;
    let listener = http::server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let broker_url = format!("https://{addr}");
    // The portal's eID callback and the notices' dispute links name the
    // broker's port, known only now: before the broker is built.
    if let Some(p) = cfg.portal.as_mut() {
        p.public_url = url::Url::parse(&format!("https://{addr}/"))?;
    }
    let metrics = Metrics::default();
    let broker = wiring::broker_with_metrics(&cfg, Arc::new(SystemClock), &metrics)
        .await
        .with_context(|| format!("starting the broker on {}", redact(&database_url)))?;
    let cert_path = dir.path().join("broker.pem");
    std::fs::write(&cert_path, &cert_pem).context("writing the broker certificate")?;
    let app = wiring::app(&cfg, broker.clone(), metrics.clone())
        .context("starting the citizen portal and the audit log")?;
    // As on a deployment: the log's integrator, the notice outbox, the
    // break-glass deadlines and the anomaly signals run while the demo does.
    let _background =
        okaz_server::background::Background::start(&cfg, &broker, &app.tlog, &metrics)
            .context("starting the broker's background work")?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(http::server::serve(
        listener,
        tls,
        app,
        wiring::limits(&cfg),
        async {
            let _ = stop_rx.await;
        },
    ));

    let accounts = create_accounts(&broker).await?;
    let police_id = broker
        .store
        .officer_by_login("demo.police")
        .await?
        .context("the demo police account")?
        .id;
    let pin = Zeroizing::new(
        broker
            .bind_certificate(None, &police_id, &police.fingerprint)
            .await
            .map_err(|e| anyhow::anyhow!("binding the demo police terminal: {e:?}"))?,
    );
    let samples = samples(&sandbox, args.population)?;
    for s in samples.iter().filter(|s| s.activated) {
        activate(&broker, &s.pesel).await?;
    }
    let lang = Lang::choose(
        args.lang.as_deref(),
        env("LC_ALL").as_deref(),
        env("LC_MESSAGES").as_deref(),
        env("LANG").as_deref(),
    );
    print_banner(&broker_url, &cert_path, &database_url, &accounts, &samples);
    println!("ready in {} ms", started.elapsed().as_millis());

    let result = if args.headless {
        println!("headless: press Ctrl-C to stop");
        shutdown_signal().await;
        Ok(())
    } else {
        let profile = Profile::parse(&args.profile).unwrap_or(Profile::Desktop);
        // The handheld is the police terminal: its certificate and the PIN.
        let handheld = profile == Profile::Handheld;
        let api = Client::new(
            &broker_url,
            &TlsFiles {
                ca: Some(cert_path.clone()),
                cert: handheld.then(|| police.cert.clone()),
                key: handheld.then(|| police.key.clone()),
            },
        )?;
        let mut demo_panel = panel(&accounts, &samples);
        demo_panel.plates = samples
            .iter()
            .flat_map(|s| s.plates.clone())
            .take(3)
            .collect();
        let mut model = Model::new(lang, profile, Utc::now());
        if handheld {
            demo_panel.pin = Some(pin.clone());
            model = model.with_certificate();
        }
        let model = model.with_demo(demo_panel);
        let phones: Vec<String> = samples
            .iter()
            .filter(|s| s.activated)
            .filter_map(|s| s.phone.clone())
            .collect();
        let secrets: Vec<Zeroizing<Vec<u8>>> =
            accounts.iter().map(|a| a.totp_secret.clone()).collect();
        let mut feeds: Vec<JoinHandle<()>> = Vec::new();
        let out = okaz_terminal::tty::run(api, model, |tx| {
            feeds.push(tokio::spawn(feed_inbox(
                sandbox.clone(),
                phones,
                tx.clone(),
            )));
            feeds.push(tokio::spawn(feed_codes(secrets, tx.clone())));
            feeds.push(tokio::spawn(quit_on_signal(tx)));
        })
        .await;
        for f in feeds {
            f.abort();
            // Waiting for the abort lets the inbox feed give back the sandbox.
            let _ = f.await;
        }
        out
    };

    // Stop accepting, let requests finish (bounded), then the registers.
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(STOP_GRACE, served).await;
    if let Ok(sandbox) = Arc::try_unwrap(sandbox) {
        let _ = tokio::time::timeout(STOP_GRACE, sandbox.shutdown()).await;
    }
    drop(dir);
    result?;
    println!("okaz demo stopped; its temporary files are removed.");
    Ok(())
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Writes the policy, secrets and `okaz.toml` into `dir` and loads them the
/// way `okaz-server` would.
fn write_config(dir: &Path, database_url: &str, sandbox: &Sandbox) -> Result<Config> {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies)?;
    std::fs::write(policies.join("default.toml"), DEFAULT_POLICY)?;
    // One key per job, mode 600, as `okaz-server keys init` writes them.
    okaz_server::keys::KeyDir {
        dir: dir.join("keys"),
        prefix: String::new(),
    }
    .init(None)?;
    write_private(
        &dir.join("kannel.pw"),
        okaz_sandbox::KANNEL_PASSWORD.as_bytes(),
    )?;
    std::fs::write(dir.join("sandbox-ca.pem"), &sandbox.ca_pem)?;
    okaz_server::tlog::init_log_key(&dir.join("log.key"), "okaz.demo/audit")
        .context("creating the demo's audit log key")?;
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
max_body_bytes = 16384
[database]
url = {url}
pool_size = 4
[secrets]
dir = {keys}
[policies]
dir = {policies}
[registers]
base_url = "{base}"
ca_file = {ca}
timeout_ms = 2000
retries = 1
[sms]
sendsms_url = "{sms}"
username = "{user}"
password_file = {pw}
ca_file = {ca}
[portal]
# Replaced by the broker's real address once it listens.
public_url = "https://127.0.0.1/"
oidc_issuer = "{issuer}"
client_id = "okaz-portal"
ca_file = {ca}
[audit]
log_key_file = {logkey}
origin = "okaz.demo/audit"
# Every check is noticed to the citizen: by SMS (the panel's inbox shows
# it) and to the sandbox's mailbox where the contact register has one.
[notices]
mail_url = "{mail}"
mail_ca_file = {ca}
poll_interval_secs = 5
"#,
        mail = sandbox.mail_url(),
        logkey = toml_string(&dir.join("log.key").display().to_string()),
        issuer = sandbox.oidc_issuer(),
        url = toml_string(database_url),
        keys = toml_path(&dir.join("keys")),
        policies = toml_path(&policies),
        base = sandbox.base_url(),
        ca = toml_path(&dir.join("sandbox-ca.pem")),
        sms = sandbox.sendsms_url(),
        user = okaz_sandbox::KANNEL_USERNAME,
        pw = toml_path(&dir.join("kannel.pw")),
    );
    let path = dir.join("okaz.toml");
    std::fs::write(&path, text)?;
    // The demo is self-contained: OKAZ_* variables of a real install must
    // not leak into it.
    Ok(Config::load(&path, Vec::new())?)
}

/// Writes a secret file with mode 600 (the broker refuses looser ones).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

/// A TOML basic string (quotes and backslashes escaped).
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn toml_path(p: &Path) -> String {
    toml_string(&p.display().to_string())
}

/// Creates a clerk, a police officer, a security officer, a medic (who may
/// break glass for a citizen who cannot read out a code) and the medics'
/// coordinator (who countersigns it) in the demo unit, with short
/// passwords and known TOTP secrets.
async fn create_accounts(broker: &Broker) -> Result<Vec<Account>> {
    let mut accounts = Vec::new();
    for (role, login, name) in [
        ("clerk", "demo.clerk", "Anna Urzędniczka"),
        ("police", "demo.police", "Piotr Policjant"),
        ("security_officer", "demo.security", "Ewa Bezpieczna"),
        ("emergency", "demo.medic", "Marek Ratownik"),
        ("emergency_admin", "demo.medlead", "Olga Koordynatorka"),
    ] {
        if broker.store.officer_by_login(login).await?.is_some() {
            bail!("the database already has an officer {login}: give the demo an empty database");
        }
        let (password, secret) = {
            let mut rng = rand::thread_rng();
            let password = Zeroizing::new(format!("demo-{:04x}", rng.gen::<u16>()));
            let mut secret = Zeroizing::new(vec![0u8; 20]);
            rng.fill_bytes(secret.as_mut_slice());
            (password, secret)
        };
        let hash = broker
            .hasher
            .hash(password.clone())
            .await
            .map_err(|e| anyhow::anyhow!("hashing a demo password: {e}"))?;
        let audit = AuditEntry::new(Utc::now(), AuditEvent::OfficerCreated, "system", UNIT);
        // Stored sealed under the TOTP key, bound to the officer's id.
        let id = okaz_core::ports::Rng(&okaz_core::ports::OsRandom).uuid();
        let sealed = broker
            .seal_totp(&id, &secret)
            .map_err(|e| anyhow::anyhow!("sealing a demo TOTP secret: {e}"))?;
        broker
            .store
            .insert_officer(
                NewOfficer {
                    id,
                    login: login.to_string(),
                    display_name: name.to_string(),
                    role: role.to_string(),
                    unit: UNIT.to_string(),
                    password_hash: hash,
                    totp_secret: sealed,
                },
                audit,
            )
            .await?;
        accounts.push(Account {
            role,
            login: login.to_string(),
            password,
            totp_secret: secret,
        });
    }
    Ok(accounts)
}

/// Picks sample citizens that show the main paths: a valid ID card and
/// licence, an expired ID card, a suspended licence (all activated, with a
/// phone), one without a phone and one who never activated the service.
/// Neighbouring indices share a birth date, so the scan strides across the
/// whole population to meet adults and edge cases.
fn samples(sandbox: &Sandbox, population: u64) -> Result<Vec<Sample>> {
    let wanted: [(&[&str], &'static str, bool); 5] = [
        (
            &["valid_id", "adult", "licence", "vehicle", "contactable"],
            "ID valid",
            true,
        ),
        (&["expired_id", "adult", "contactable"], "ID expired", true),
        (
            &["suspended_licence", "contactable"],
            "licence suspended",
            true,
        ),
        (&["no_phone", "adult"], "no phone", true),
        (
            &["valid_id", "adult", "contactable"],
            "not activated",
            false,
        ),
    ];
    let mut found: Vec<Option<Sample>> = wanted.iter().map(|_| None).collect();
    let step = (population / SCAN).max(1) | 1;
    for k in 0..SCAN.min(population) {
        if found.iter().all(Option::is_some) {
            break;
        }
        let c = sandbox.citizen((k * step + k) % population);
        let tags = c.tags();
        let pesel = c.pesel.expose();
        for ((need, note, activated), slot) in wanted.iter().zip(found.iter_mut()) {
            if slot.is_none() && need.iter().all(|t| tags.iter().any(|x| x == t)) {
                *slot = Some(Sample {
                    pesel: pesel.clone(),
                    name: format!("{} {}", c.given_names.join(" "), c.surname),
                    phone: c.contact.phone.clone(),
                    note,
                    activated: *activated,
                    plates: c.vehicles.iter().map(|v| v.plate.clone()).collect(),
                });
                // One citizen fills one slot: the samples stay different people.
                break;
            }
        }
    }
    let out: Vec<Sample> = found.into_iter().flatten().collect();
    if out.is_empty() {
        bail!("the sandbox population has no usable sample citizens");
    }
    Ok(out)
}

/// Activates the service for a citizen, as the citizen portal would.
async fn activate(broker: &Broker, pesel: &str) -> Result<()> {
    let pesel = Pesel::parse(pesel).map_err(|e| anyhow::anyhow!("sample PESEL: {e}"))?;
    broker.set_activation(&pesel, true).await?;
    Ok(())
}

/// The current TOTP code of a secret, with the seconds it stays valid.
fn code_now(secret: &[u8], now: DateTime<Utc>) -> String {
    let t = now.timestamp();
    let left = TOTP_STEP - t.rem_euclid(TOTP_STEP);
    match u64::try_from(t)
        .ok()
        .and_then(|t| totp_code_at(secret, t).ok())
    {
        Some(code) => format!("{code} {left:>2}s"),
        None => "------".to_string(),
    }
}

fn print_banner(
    broker_url: &str,
    cert: &Path,
    database_url: &str,
    accounts: &[Account],
    samples: &[Sample],
) {
    println!("okaz demo");
    println!(
        "  broker         {broker_url}  (certificate {})",
        cert.display()
    );
    println!("  citizen portal {broker_url}/citizen/");
    println!("  store          {}", redact(database_url));
    println!("  unit           {UNIT}");
    println!("  accounts (login / password / TOTP code now):");
    for a in accounts {
        println!(
            "    {:<16} {:<14} {:<10} {}",
            a.role,
            a.login,
            a.password.as_str(),
            code_now(&a.totp_secret, Utc::now())
        );
    }
    println!("  sample citizens (synthetic):");
    for s in samples {
        println!(
            "    {}  {:<28} {:<18} {}",
            s.pesel,
            s.name,
            s.note,
            s.phone.as_deref().unwrap_or("-")
        );
    }
}

/// The panel the terminal shows beside its screens.
fn panel(accounts: &[Account], samples: &[Sample]) -> DemoPanel {
    let now = Utc::now();
    DemoPanel {
        officers: accounts
            .iter()
            .map(|a| DemoOfficer {
                login: a.login.clone(),
                password: a.password.clone(),
                code: code_now(&a.totp_secret, now),
            })
            .collect(),
        citizens: samples
            .iter()
            .map(|s| format!("{} {}", s.pesel, s.note))
            .collect(),
        inbox: Vec::new(),
        pin: None,
        plates: Vec::new(),
    }
}

/// Sends the accounts' codes every second, until the terminal is gone.
async fn feed_codes(secrets: Vec<Zeroizing<Vec<u8>>>, tx: UnboundedSender<Msg>) {
    let mut every = tokio::time::interval(CODE_POLL);
    loop {
        every.tick().await;
        let now = Utc::now();
        let codes = secrets.iter().map(|s| code_now(s, now)).collect();
        if tx.send(Msg::DemoCodes(codes)).is_err() {
            return;
        }
    }
}

/// Reads the sample citizens' phones, as the citizen would, and sends the
/// messages newest first whenever they change.
async fn feed_inbox(sandbox: Arc<Sandbox>, phones: Vec<String>, tx: UnboundedSender<Msg>) {
    let mut every = tokio::time::interval(INBOX_POLL);
    let mut last: Vec<String> = Vec::new();
    loop {
        every.tick().await;
        let mut all: Vec<(String, String)> = phones
            .iter()
            .flat_map(|phone| {
                sandbox.messages(phone).into_iter().map(|m| {
                    let at = DateTime::parse_from_rfc3339(&m.received_at)
                        .map(|t| t.with_timezone(&Local).format("%H:%M:%S").to_string())
                        .unwrap_or_default();
                    (m.received_at, format!("{at} {}", m.text))
                })
            })
            .collect();
        // RFC 3339 times of one gateway sort as text.
        all.sort_by(|a, b| b.0.cmp(&a.0));
        let shown: Vec<String> = all.into_iter().take(INBOX_SHOWN).map(|(_, m)| m).collect();
        if shown != last {
            last.clone_from(&shown);
            if tx.send(Msg::Inbox(shown)).is_err() {
                return;
            }
        } else if tx.is_closed() {
            return;
        }
    }
}

/// Ctrl-C from outside the terminal (or SIGTERM) quits like the key does,
/// through `update`, so the screen is cleared and the terminal restored.
async fn quit_on_signal(tx: UnboundedSender<Msg>) {
    shutdown_signal().await;
    let _ = tx.send(Msg::Key(Key::Interrupt));
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let (term, hangup) = (
        unix_signal(tokio::signal::unix::SignalKind::terminate()),
        // A closed terminal window: still stop cleanly and remove the files.
        unix_signal(tokio::signal::unix::SignalKind::hangup()),
    );
    #[cfg(not(unix))]
    let (term, hangup) = (std::future::pending::<()>(), std::future::pending::<()>());
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
        () = hangup => {},
    }
}

#[cfg(unix)]
async fn unix_signal(kind: tokio::signal::unix::SignalKind) {
    match tokio::signal::unix::signal(kind) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redact("postgres://okaz:secret@db:5432/okaz"),
            "postgres://okaz:***@db:5432/okaz"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn codes_show_the_seconds_left() {
        let t = DateTime::from_timestamp(59, 0).unwrap_or_default();
        // RFC 6238 test vector: SHA-1, T = 59 s → 94287082 (8 digits), 287082 in 6.
        assert_eq!(code_now(b"12345678901234567890", t), "287082  1s");
    }
}
