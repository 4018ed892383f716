//! Configuration: one `okaz.toml`, every key overridable by an environment
//! variable `OKAZ_<SECTION>_<KEY>` (e.g. `OKAZ_DATABASE_URL`). Secrets are
//! never in the file itself: the file names the files that hold them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML (after environment overrides) is not a valid configuration.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A secret file others may read: refused rather than trusted.
    #[error("{0}: a secret file must not be readable by group or others (chmod 600)")]
    Exposed(PathBuf),
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The HTTPS listener.
    #[serde(default)]
    pub server: ServerConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Secret material.
    pub secrets: SecretsConfig,
    /// Policy files.
    #[serde(default)]
    pub policies: PoliciesConfig,
    /// The registers.
    pub registers: RegistersConfig,
    /// The SMS gateway.
    pub sms: SmsConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// The citizen portal; without this section `/citizen` says it is not
    /// configured.
    #[serde(default)]
    pub portal: Option<okaz_portal::PortalConfig>,
    /// Notices to citizens after checks; none: no notices.
    #[serde(default)]
    pub notices: Option<NoticesConfig>,
    /// The audit trail as a transparency log.
    pub audit: AuditConfig,
}

/// The transparency log: its signing key, origin, checkpoints, witnesses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// File holding the log's Ed25519 signing key (signed-note private key
    /// format, mode 600; `okaz-server audit init-key` creates it). The
    /// broker refuses to start without it: a new key would fork the log.
    pub log_key_file: PathBuf,
    /// The checkpoints' origin line, naming this deployment (also the
    /// key's name), e.g. `okaz.gov.example/audit`.
    pub origin: String,
    /// How often the integrator folds new records in and signs a
    /// checkpoint (milliseconds).
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval_ms: u64,
    /// At least this often (seconds) the latest checkpoint is signed again
    /// and pushed to the witnesses for a fresh cosignature, even when no
    /// record came in: their timestamps show the log is alive.
    #[serde(default = "default_checkpoint_refresh")]
    pub checkpoint_refresh_secs: u64,
    /// Witnesses that cosign checkpoints.
    #[serde(default)]
    pub witnesses: Vec<WitnessConfig>,
}

fn default_checkpoint_interval() -> u64 {
    1000
}

fn default_checkpoint_refresh() -> u64 {
    60
}

/// One witness (C2SP tlog-witness).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Its `add-checkpoint` URL, e.g. `http://witness:7380/add-checkpoint`.
    pub url: String,
    /// Its cosigner verifier key (`name+hash+base64`).
    pub key: String,
}

/// The HTTPS listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the API (and portal) listener.
    pub listen: SocketAddr,
    /// Address of the operations listener (`/metrics`, `/healthz`,
    /// `/readyz`, Kannel's delivery reports): plain HTTP, loopback by
    /// default, since it is for the load balancer, Prometheus and Kannel on
    /// the private network, never for clients.
    pub ops_listen: SocketAddr,
    /// On SIGTERM, seconds `/readyz` answers 503 while the API still serves,
    /// so the load balancer's health checks move new connections away before
    /// the listener stops accepting.
    pub shutdown_delay_secs: u64,
    /// PEM certificate chain.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    pub tls_key: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Time a client has to send its request headers.
    pub header_timeout_secs: u64,
    /// Time a whole request may take to be read and answered.
    pub request_timeout_secs: u64,
    /// Time a connection is kept without a request in flight (HTTP/1.1
    /// keep-alive and HTTP/2 alike; h2 gets a GOAWAY); also the HTTP/2
    /// keep-alive ping interval.
    pub idle_timeout_secs: u64,
    /// A connection is closed gracefully (h2 GOAWAY, h1 after the current
    /// answer) this many seconds after it was accepted, so clients
    /// reconnect and spread over replicas.
    pub max_connection_age_secs: u64,
    /// Connections served at once; a connection over the cap gets one 503
    /// problem+json and is closed (or closed at once when many are being
    /// refused), while the connections already open keep working.
    pub max_connections: usize,
    /// Time in-flight requests get to finish on shutdown.
    pub drain_secs: u64,
    /// Units whose terminals log in with client certificates.
    pub client_cas: Vec<ClientCaConfig>,
    /// Seconds between re-reads of the units' CA and CRL files (also done
    /// on SIGHUP); 0: only on SIGHUP.
    pub crl_reload_secs: u64,
}

/// One unit's certificate authority for terminal certificates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCaConfig {
    /// The unit (e.g. `KMP-Warszawa`).
    pub unit: String,
    /// The unit's CA certificate (PEM).
    pub ca_file: PathBuf,
    /// The CA's certificate revocation list (PEM or DER); required, so a
    /// revoked terminal is never accepted for want of a list.
    pub crl_file: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            ops_listen: SocketAddr::from(([127, 0, 0, 1], 9443)),
            shutdown_delay_secs: 5,
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 64 * 1024,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_connection_age_secs: 3600,
            max_connections: 10_000,
            drain_secs: 20,
            client_cas: Vec::new(),
            crl_reload_secs: 300,
        }
    }
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…`.
    pub url: String,
    /// Connections in the pool.
    #[serde(default = "default_pool")]
    pub pool_size: usize,
    /// TLS to PostgreSQL (libpq's `sslmode`): `disable`, `prefer`,
    /// `require` (encrypted, certificate unchecked) or `verify-full`
    /// (encrypted, chain checked against `ca_file` and the host name against
    /// the certificate). Unset: the URL's `sslmode`, else `prefer` on
    /// loopback and `verify-full` elsewhere.
    #[serde(default)]
    pub sslmode: Option<String>,
    /// PEM file of the CA(s) that sign the database server's certificate
    /// (libpq's `sslrootcert`), for `verify-full`.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_pool() -> usize {
    16
}

/// Secret material: one key per job, each in its own file of one directory
/// (`okaz-server keys init` writes them): `pepper.key`, and
/// `challenge.<v>.key`, `cookie.<v>.key`, `totp.<v>.key`,
/// `notice_outbox.<v>.key` for each version `<v>` of the keys that rotate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// The key directory (mode 700, files mode 600).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// A prefix before each file name, for when systemd hands the directory
    /// over as credentials (`LoadCredential=okaz-keys:/etc/okaz/keys/broker`
    /// names them `okaz-keys_pepper.key`, …).
    #[serde(default)]
    pub file_prefix: String,
    /// The single master secret of the first stage, from which every key
    /// was derived. No longer used: a broker configured with it refuses to
    /// start and says how to split it (`keys init --from-master`).
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
}

/// Policy files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// Directory of `*.toml` policy files.
    pub dir: PathBuf,
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        PoliciesConfig {
            dir: PathBuf::from("policies"),
        }
    }
}

/// The registers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistersConfig {
    /// Root URL of the registers.
    pub base_url: url::Url,
    /// CA to trust for them (PEM file); none means the public roots.
    pub ca_file: Option<PathBuf>,
    /// Bound on a whole fetch, in milliseconds.
    #[serde(default = "default_register_timeout")]
    pub timeout_ms: u64,
    /// Retries of idempotent reads.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_register_timeout() -> u64 {
    5000
}

fn default_retries() -> u32 {
    2
}

/// The SMS gateway (Kannel `sendsms`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// The `sendsms` URL.
    pub sendsms_url: url::Url,
    /// sendsms user.
    pub username: String,
    /// File holding the sendsms password.
    pub password_file: PathBuf,
    /// CA to trust for an https URL.
    pub ca_file: Option<PathBuf>,
    /// Where Kannel reaches this broker's operations listener for delivery
    /// reports, e.g. `http://10.0.0.5:9443/kannel/dlr`; with `dlr_token_file`
    /// every code is sent asking for a report.
    #[serde(default)]
    pub dlr_url: Option<url::Url>,
    /// File holding the secret token Kannel's reports must carry (the same
    /// file on every replica).
    #[serde(default)]
    pub dlr_token_file: Option<PathBuf>,
}

/// Logging.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// JSON lines instead of text.
    #[serde(default)]
    pub json: bool,
}

impl Config {
    /// Reads `path`, applies `OKAZ_*` overrides from `env`, and validates.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, env)
    }

    /// Parses TOML text with environment overrides.
    pub fn parse(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        for (name, value) in env {
            apply_override(&mut table, &name, &value)?;
        }
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        cfg.check_transport()?;
        Ok(cfg)
    }

    /// Refuses plain `http://` off loopback for every upstream the broker
    /// sends secrets or personal data to, naming the key.
    fn check_transport(&self) -> Result<(), ConfigError> {
        use okaz_protocol::transport::require_tls_off_loopback as check;
        let invalid = |e: okaz_protocol::transport::UrlRefused| ConfigError::Invalid(e.to_string());
        check("[registers] base_url", self.registers.base_url.as_str()).map_err(invalid)?;
        check("[sms] sendsms_url", self.sms.sendsms_url.as_str()).map_err(invalid)?;
        for (i, w) in self.audit.witnesses.iter().enumerate() {
            check(&format!("[[audit.witnesses]] #{} url", i + 1), &w.url).map_err(invalid)?;
        }
        if let Some(p) = &self.portal {
            check("[portal] oidc_issuer", p.oidc_issuer.as_str()).map_err(invalid)?;
        }
        Ok(())
    }
}

const SECTIONS: [&str; 10] = [
    "audit",
    "server",
    "database",
    "secrets",
    "policies",
    "registers",
    "sms",
    "log",
    "portal",
    "notices",
];

/// Applies `OKAZ_SECTION_KEY=value`. A value that parses as a TOML value
/// (number, boolean) is taken as such, otherwise as a string.
fn apply_override(table: &mut toml::Table, name: &str, value: &str) -> Result<(), ConfigError> {
    let Some(rest) = name.strip_prefix("OKAZ_") else {
        return Ok(());
    };
    let rest = rest.to_ascii_lowercase();
    let Some(section) = SECTIONS.iter().find(|s| rest.starts_with(&format!("{s}_"))) else {
        return Ok(());
    };
    let key = &rest[section.len() + 1..];
    let parsed = format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .filter(|v| !v.is_str())
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let entry = table
        .entry((*section).to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => {
            t.insert(key.to_string(), parsed);
            Ok(())
        }
        _ => Err(ConfigError::Invalid(format!("[{section}] is not a table"))),
    }
}

/// Refuses a secret file that group or others may read (or write): its
/// secret can no longer be trusted to be one.
pub fn refuse_exposed(path: &Path) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(ConfigError::Exposed(path.to_path_buf()));
        }
    }
    Ok(())
}

/// Reads a secret file, trimming one trailing newline.
pub fn read_secret(path: &Path) -> Result<Vec<u8>, ConfigError> {
    refuse_exposed(path)?;
    let mut bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        [database]
        url = "postgres://localhost/okaz"
        [secrets]
        dir = "/etc/okaz/keys"
        [registers]
        base_url = "https://registers.example/"
        [sms]
        sendsms_url = "https://kannel:13013/cgi-bin/sendsms"
        username = "okaz"
        password_file = "/etc/okaz/kannel.pw"
        [audit]
        log_key_file = "/etc/okaz/log.key"
        origin = "okaz.example/audit"
    "#;

    #[test]
    fn environment_overrides_file_values_with_types() {
        let env = vec![
            (
                "OKAZ_DATABASE_URL".to_string(),
                "postgres://db/other".to_string(),
            ),
            ("OKAZ_SERVER_MAX_BODY_BYTES".to_string(), "1024".to_string()),
            ("OKAZ_LOG_JSON".to_string(), "true".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::parse(BASE, env).unwrap();
        assert_eq!(c.database.url, "postgres://db/other");
        assert_eq!(c.server.max_body_bytes, 1024);
        assert!(c.log.json);
    }

    #[test]
    fn portal_section_is_optional_and_overridable() {
        assert!(Config::parse(BASE, vec![]).unwrap().portal.is_none());
        let text = format!(
            "{BASE}\n[portal]\npublic_url = \"https://okaz.example/\"\n\
             oidc_issuer = \"https://eid.example/oidc\"\nclient_id = \"okaz\""
        );
        let env = vec![("OKAZ_PORTAL_CLIENT_ID".to_string(), "other".to_string())];
        let p = Config::parse(&text, env).unwrap().portal.unwrap();
        assert_eq!(p.client_id, "other");
        assert_eq!(p.session_idle_secs, 900);
        assert_eq!(p.session_max_secs, 3600);
    }

    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../../okaz.example.toml");
        let c = Config::parse(text, vec![]).unwrap();
        assert_eq!(c.server.client_cas.len(), 1);
        assert_eq!(c.registers.retries, 2);
        assert_eq!(c.audit.origin, "okaz.gov.example/audit");
        assert_eq!(c.audit.checkpoint_interval_ms, 1000);
        assert_eq!(c.audit.checkpoint_refresh_secs, 60);
        assert_eq!(c.audit.witnesses.len(), 1);
        okaz_tlog::note::Verifier::parse(&c.audit.witnesses[0].key).unwrap();
    }

    #[test]
    fn plain_http_off_loopback_is_refused_naming_the_key() {
        let cases = [
            (
                "OKAZ_REGISTERS_BASE_URL",
                "http://registers.example/",
                "[registers] base_url",
            ),
            (
                "OKAZ_SMS_SENDSMS_URL",
                "http://kannel:13013/cgi-bin/sendsms",
                "[sms] sendsms_url",
            ),
        ];
        for (var, url, key) in cases {
            let e = Config::parse(BASE, vec![(var.to_string(), url.to_string())]).unwrap_err();
            assert!(e.to_string().contains(key), "{e}");
            assert!(e.to_string().contains("plain http://"), "{e}");
            let local = url
                .replace("registers.example", "127.0.0.1")
                .replace("kannel", "localhost");
            Config::parse(BASE, vec![(var.to_string(), local)]).unwrap();
        }
        let witness = |url: &str| {
            format!("{BASE}\n[[audit.witnesses]]\nurl = \"{url}\"\nkey = \"w+00000000+AA\"\n")
        };
        let e = Config::parse(
            &witness("http://witness.internal:7380/add-checkpoint"),
            vec![],
        )
        .unwrap_err();
        assert!(e.to_string().contains("[[audit.witnesses]] #1 url"), "{e}");
        Config::parse(&witness("http://[::1]:7380/add-checkpoint"), vec![]).unwrap();
        Config::parse(&witness("https://witness.internal/add-checkpoint"), vec![]).unwrap();
    }

    #[test]
    fn database_tls_keys_parse() {
        let env = vec![
            (
                "OKAZ_DATABASE_SSLMODE".to_string(),
                "verify-full".to_string(),
            ),
            (
                "OKAZ_DATABASE_CA_FILE".to_string(),
                "/etc/okaz/db-ca.pem".to_string(),
            ),
        ];
        let c = Config::parse(BASE, env).unwrap();
        assert_eq!(c.database.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(
            c.database.ca_file.as_deref(),
            Some(Path::new("/etc/okaz/db-ca.pem"))
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Config::parse(&format!("{BASE}\n[log]\ncolour = true"), vec![]).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}

/// `[notices]`: notices to citizens after every check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticesConfig {
    /// The e-mail / digital mailbox delivery endpoint; none: SMS only.
    pub mail_url: Option<url::Url>,
    /// CA to trust for it (PEM file); none means the public roots.
    pub mail_ca_file: Option<PathBuf>,
    /// How often this replica's worker looks for due outbox rows.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// Notices waiting in memory at most; more are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Tries of a notice sent from memory before it is given up.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

fn default_poll() -> u64 {
    30
}
fn default_queue() -> usize {
    1024
}
fn default_attempts() -> u32 {
    6
}
