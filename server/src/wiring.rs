//! Builds a running broker from configuration: the one place where config
//! becomes parts. `main`, the `okaz demo` launcher and the test kit use it.

use std::sync::Arc;
use std::time::Duration;

use okaz_policy::PolicySet;
use okaz_registry::sms::{KannelConfig, KannelGateway};
use okaz_registry::{RegisterClient, RegistryConfig};

use crate::adapters::{KannelSms, LiveRegisters};
use crate::app::App;
use crate::config::{read_secret, Config, ConfigError};
use crate::http::server::{ClientAuth, Limits, ServeError};
use crate::metrics::{Metrics, ProbeValues, Probes};
use okaz_core::broker::{Broker, Keys};
use okaz_core::clock::{Clock, SystemClock};
use okaz_core::ports::{OsRandom, Store, StoreError};
use okaz_core::pseudonym::SecretError;
use okaz_registry::breaker::BreakerState;
use okaz_registry::Register;

/// Why the broker could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Policy files are invalid.
    #[error("policy files are invalid:\n{0}")]
    Policy(#[from] okaz_policy::PolicyErrors),
    /// A key is unusable.
    #[error("key: {0}")]
    Secret(#[from] SecretError),
    /// The key directory is missing, incomplete or exposed.
    #[error("keys: {0}")]
    Keys(#[from] crate::keys::KeyFileError),
    /// The database is unreachable or migration failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The register or SMS client could not be built.
    #[error("client: {0}")]
    Client(String),
    /// The audit log's key is missing or unusable.
    #[error("audit log key: {0}")]
    LogKey(#[from] crate::tlog::LogKeyError),
    /// The citizen portal could not be built.
    #[error(transparent)]
    Portal(#[from] okaz_portal::PortalError),
    /// Notices could not be set up.
    #[error("notices: {0}")]
    Notices(#[from] crate::notices::NoticesError),
}

/// Loads every job's key from `[secrets] dir` (refusing exposed files).
pub fn keys(cfg: &Config) -> Result<Keys, WiringError> {
    Ok(crate::keys::KeyDir::from_config(&cfg.secrets)?.load()?)
}

/// Opens the store named by the configuration (migrating it).
pub async fn store(cfg: &Config) -> Result<Arc<dyn Store>, WiringError> {
    Ok(okaz_store::open(&database_url(cfg)?, cfg.database.pool_size).await?)
}

/// `[database] url` with `sslmode` and `ca_file` joined to it as libpq
/// parameters (PostgreSQL only; SQLite is a local file).
pub fn database_url(cfg: &Config) -> Result<String, WiringError> {
    let db = &cfg.database;
    if !(db.url.starts_with("postgres://") || db.url.starts_with("postgresql://")) {
        if db.sslmode.is_some() || db.ca_file.is_some() {
            return Err(WiringError::Store(StoreError::Unavailable(
                "[database] sslmode and ca_file apply to PostgreSQL only".to_string(),
            )));
        }
        return Ok(db.url.clone());
    }
    Ok(okaz_store::postgres::tls::with_settings(
        &db.url,
        db.sslmode.as_deref(),
        db.ca_file.as_deref(),
    )?)
}

fn read_ca(path: Option<&std::path::Path>) -> Result<Option<Vec<u8>>, WiringError> {
    path.map(|p| {
        std::fs::read(p).map_err(|source| ConfigError::Read {
            path: p.to_path_buf(),
            source,
        })
    })
    .transpose()
    .map_err(WiringError::from)
}

/// Builds the broker with the system clock.
pub async fn broker(cfg: &Config) -> Result<Broker, WiringError> {
    broker_with_clock(cfg, Arc::new(SystemClock)).await
}

/// Builds the broker with a given clock (the test kit steps time).
pub async fn broker_with_clock(cfg: &Config, clock: Arc<dyn Clock>) -> Result<Broker, WiringError> {
    broker_with_metrics(cfg, clock, &Metrics::default()).await
}

/// Builds the broker with a given clock, its registers, SMS gateway,
/// database pool and password hasher reporting to `metrics`.
pub async fn broker_with_metrics(
    cfg: &Config,
    clock: Arc<dyn Clock>,
    metrics: &Metrics,
) -> Result<Broker, WiringError> {
    let observer: okaz_registry::trace::Observer = Arc::new(metrics.clone());
    let policy = PolicySet::load_dir(&cfg.policies.dir)?;
    let keys = keys(cfg)?;
    let store = store(cfg).await?;
    let registers = RegisterClient::new(RegistryConfig {
        base_url: cfg.registers.base_url.clone(),
        ca_pem: read_ca(cfg.registers.ca_file.as_deref())?,
        total_timeout: Duration::from_millis(cfg.registers.timeout_ms),
        retries: cfg.registers.retries,
        ..RegistryConfig::default()
    })
    .map_err(|e| WiringError::Client(e.to_string()))?
    .with_observer(observer.clone());
    let password = String::from_utf8(read_secret(&cfg.sms.password_file)?)
        .map_err(|_| WiringError::Client("SMS password file is not UTF-8".to_string()))?;
    let sms = KannelGateway::new(KannelConfig {
        sendsms_url: cfg.sms.sendsms_url.clone(),
        username: cfg.sms.username.clone(),
        password,
        from: None,
        ca_pem: read_ca(cfg.sms.ca_file.as_deref())?,
        timeout: Duration::from_secs(5),
        dlr_url: dlr_url(cfg)?,
    })
    .map_err(|e| WiringError::Client(e.to_string()))?
    .with_observer(observer);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let hasher = crate::hashing::HashingPool::new(cores);
    metrics.add_probes(Arc::new(Probe {
        registers: registers.clone(),
        store: store.clone(),
        hasher: hasher.clone(),
    }));
    let mut broker = Broker {
        store,
        registers: Arc::new(LiveRegisters(registers)),
        sms: Arc::new(KannelSms(sms)),
        clock,
        policy: Arc::new(policy),
        keys,
        random: Arc::new(OsRandom),
        hasher: Arc::new(hasher),
        receipts: Some(Arc::new(okaz_core::receipt::ReceiptKey {
            signer: crate::tlog::load_log_key(&cfg.audit)?,
            origin: cfg.audit.origin.clone(),
        })),
        notices: None,
    };
    crate::notices::attach(cfg.notices.as_ref(), &mut broker, portal_url(cfg), metrics)?;
    Ok(broker)
}

/// The portal's public URL, where notices' dispute links point.
pub fn portal_url(cfg: &Config) -> Option<url::Url> {
    cfg.portal.as_ref().map(|p| p.public_url.clone())
}

/// Scrape-time gauges: breakers, the database pool, the login queue.
struct Probe {
    registers: RegisterClient,
    store: Arc<dyn Store>,
    hasher: crate::hashing::HashingPool,
}

impl Probes for Probe {
    fn read(&self) -> ProbeValues {
        let breakers = Register::ALL
            .into_iter()
            .map(|r| {
                let state = match self.registers.breaker_state(r) {
                    BreakerState::Closed { .. } => 0,
                    BreakerState::HalfOpen => 1,
                    BreakerState::Open { .. } => 2,
                };
                (r.name().to_string(), state)
            })
            .collect();
        let pool = self.store.pool_status();
        ProbeValues {
            breakers,
            pool_in_use: pool.map(|p| p.in_use),
            pool_idle: pool.map(|p| p.idle),
            pool_waiting: pool.map(|p| p.waiting),
            login_queue: Some(u64::try_from(self.hasher.waiting()).unwrap_or(u64::MAX)),
        }
    }
}

/// The token Kannel's delivery reports must carry, from `[sms] dlr_token_file`.
pub fn dlr_token(cfg: &Config) -> Result<Option<Vec<u8>>, WiringError> {
    match &cfg.sms.dlr_token_file {
        None => Ok(None),
        Some(path) => {
            let token = read_secret(path)?;
            let token = token.trim_ascii().to_vec();
            if token.len() < 16 {
                return Err(WiringError::Client(format!(
                    "{}: a delivery-report token needs at least 16 characters",
                    path.display()
                )));
            }
            Ok(Some(token))
        }
    }
}

/// The `dlr-url` sent to Kannel: the configured URL with the token.
fn dlr_url(cfg: &Config) -> Result<Option<url::Url>, WiringError> {
    let (Some(base), Some(token)) = (&cfg.sms.dlr_url, dlr_token(cfg)?) else {
        return Ok(None);
    };
    let token = String::from_utf8(token)
        .map_err(|_| WiringError::Client("delivery-report token is not UTF-8".to_string()))?;
    let mut url = base.clone();
    url.query_pairs_mut().append_pair("token", &token);
    Ok(Some(url))
}

/// The citizen portal from `[portal]`; `None` when the section is absent.
pub fn portal(cfg: &Config, keys: &Keys) -> Result<Option<Arc<okaz_portal::Portal>>, WiringError> {
    let Some(p) = &cfg.portal else {
        return Ok(None);
    };
    let ca = read_ca(p.ca_file.as_deref())?;
    Ok(Some(Arc::new(okaz_portal::Portal::new(
        p,
        keys,
        ca.as_deref(),
    )?)))
}

/// What the request handlers share, from the configuration and a built
/// broker: the portal, the transparency log's integrator (refusing to
/// start without the log key: a new key would fork the log) and the
/// delivery-report token. The serve command, the demo and the test kit
/// all assemble the broker process this one way.
pub fn app(cfg: &Config, broker: Broker, metrics: Metrics) -> Result<Arc<App>, WiringError> {
    let portal = portal(cfg, &broker.keys)?;
    let tlog = Arc::new(crate::tlog::Transparency::new(
        &cfg.audit,
        broker.store.clone(),
    )?);
    Ok(Arc::new(App {
        broker,
        metrics,
        max_body: cfg.server.max_body_bytes,
        portal,
        draining: Default::default(),
        dlr_token: dlr_token(cfg)?,
        tlog,
    }))
}

/// Client-certificate trust from configuration; `None` when no unit uses certificates.
pub fn client_auth(cfg: &Config) -> Result<Option<ClientAuth>, ServeError> {
    let units = &cfg.server.client_cas;
    if units.is_empty() {
        return Ok(None);
    }
    ClientAuth::load(units).map(Some)
}

/// The listener limits from configuration.
pub fn limits(cfg: &Config) -> Limits {
    let s = &cfg.server;
    Limits {
        header_timeout: Duration::from_secs(s.header_timeout_secs),
        request_timeout: Duration::from_secs(s.request_timeout_secs),
        handshake_timeout: Duration::from_secs(s.header_timeout_secs),
        idle_timeout: Duration::from_secs(s.idle_timeout_secs),
        drain: Duration::from_secs(s.drain_secs),
        max_age: Duration::from_secs(s.max_connection_age_secs),
        max_connections: s.max_connections,
    }
}
