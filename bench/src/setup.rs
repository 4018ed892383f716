//! Setting the stage: configuration, the sandbox and broker processes,
//! officers (through the CLI and the admin API) and activated citizens.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use okaz_protocol::{NewOfficer, OfficerCreated};
use serde::Deserialize;

use crate::client::Client;
use crate::load::{Citizen, Officer};
use crate::procs::Service;

/// The daily limit the bench gives clerks (the policy's maximum), so that a
/// long run does not lock its officers.
pub const BENCH_DAILY_LIMIT: u32 = 10_000;

/// The unit of every bench officer.
pub const UNIT: &str = "BENCH";

/// Files and binaries of one bench run.
pub struct Stage {
    /// The temporary directory with config, keys, certificates and logs.
    pub dir: tempfile::TempDir,
    /// `okaz-server`.
    pub server_bin: PathBuf,
    /// `okaz-sandbox`.
    pub sandbox_bin: PathBuf,
}

impl Stage {
    /// A fresh directory; the binaries are looked up in `bin_dir`.
    pub fn new(bin_dir: &Path) -> Result<Stage> {
        let server_bin = bin_dir.join("okaz-server");
        let sandbox_bin = bin_dir.join("okaz-sandbox");
        for b in [&server_bin, &sandbox_bin] {
            if !b.exists() {
                bail!(
                    "{} is missing: build with `cargo build --release -p okaz-server -p okaz-registry` (scripts/bench does)",
                    b.display()
                );
            }
        }
        Ok(Stage {
            dir: tempfile::Builder::new().prefix("okaz-bench-").tempdir()?,
            server_bin,
            sandbox_bin,
        })
    }

    /// A path inside the stage directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `okaz-sandbox` on a free port.
    pub fn sandbox(&self, population: u64) -> Result<Service> {
        let mut cmd = Command::new(&self.sandbox_bin);
        cmd.args(["--listen", "127.0.0.1:0", "--seed", "7"])
            .args(["--population", &population.to_string()])
            .arg("--ca-out")
            .arg(self.path("sandbox-ca.pem"))
            .env("RUST_LOG", "warn");
        Service::spawn("okaz-sandbox", cmd, &self.path("sandbox.log"), |line| {
            line.starts_with("https://").then(|| line.to_string())
        })
    }

    /// Writes `okaz.toml`, the secrets and the policy (clerks' daily limit
    /// raised to [`BENCH_DAILY_LIMIT`]); returns the config path.
    pub fn write_config(
        &self,
        database_url: &str,
        sandbox_url: &str,
        policies: &Path,
        pool_size: usize,
    ) -> Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.dir.path();
        let policy_dir = dir.join("policies");
        std::fs::create_dir_all(&policy_dir)?;
        let mut raised = false;
        for entry in std::fs::read_dir(policies)
            .with_context(|| format!("reading the policy directory {}", policies.display()))?
        {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".toml") || name == "Cargo.toml" {
                continue;
            }
            let mut text = std::fs::read_to_string(&path)?;
            if text.contains("[roles.clerk]") {
                text = raise_clerk_limit(&text)?;
                raised = true;
            }
            std::fs::write(policy_dir.join(name), text)?;
        }
        if !raised {
            bail!("no [roles.clerk] in the policies at {}", policies.display());
        }
        // One key per job, as `okaz-server keys init` writes them (mode 600).
        let keys = self.path("keys");
        std::fs::create_dir_all(&keys)?;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o700))?;
        for name in [
            "pepper.key",
            "challenge.1.key",
            "cookie.1.key",
            "totp.1.key",
            "notice_outbox.1.key",
        ] {
            let key = keys.join(name);
            std::fs::write(&key, hex(&random_bytes(32)?))?;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
        }
        let pw = self.path("kannel.pw");
        std::fs::write(&pw, okaz_sandbox::KANNEL_PASSWORD)?;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600))?;
        let log_key = self.path("log.key");
        if !log_key.exists() {
            let signer = okaz_tlog::note::Signer::from_seed("okaz.bench/audit", &random_bytes(32)?)
                .map_err(|e| anyhow::anyhow!("log key: {e}"))?;
            std::fs::write(&log_key, signer.encode().as_bytes())?;
            std::fs::set_permissions(&log_key, std::fs::Permissions::from_mode(0o600))?;
        }
        let config = format!(
            r#"[server]
listen = "127.0.0.1:0"
[database]
url = "{database_url}"
pool_size = {pool_size}
[secrets]
dir = "{dir}/keys"
[policies]
dir = "{dir}/policies"
[registers]
base_url = "{sandbox_url}"
ca_file = "{dir}/sandbox-ca.pem"
timeout_ms = 2000
retries = 1
[sms]
sendsms_url = "{sandbox_url}cgi-bin/sendsms"
username = "{user}"
password_file = "{dir}/kannel.pw"
ca_file = "{dir}/sandbox-ca.pem"
[audit]
log_key_file = "{dir}/log.key"
origin = "okaz.bench/audit"
"#,
            dir = dir.display(),
            user = okaz_sandbox::KANNEL_USERNAME,
        );
        let path = self.path("okaz.toml");
        std::fs::write(&path, config)?;
        Ok(path)
    }

    /// Starts broker replica `n` (`okaz-server serve`) on a free port.
    pub fn broker(&self, config: &Path, n: usize) -> Result<(Service, Vec<u8>)> {
        let cert = self.path(&format!("broker-{n}.pem"));
        let mut cmd = Command::new(&self.server_bin);
        cmd.arg("--config")
            .arg(config)
            .args(["serve", "--dev-self-signed", "--write-cert"])
            .arg(&cert)
            .env("OKAZ_SERVER_LISTEN", "127.0.0.1:0")
            // Replicas on one host: each its own operations port too.
            .env("OKAZ_SERVER_OPS_LISTEN", "127.0.0.1:0")
            .env("OKAZ_LOG", "warn");
        let service = Service::spawn(
            &format!("okaz-server (replica {n})"),
            cmd,
            &self.path(&format!("broker-{n}.log")),
            |line| line.strip_prefix("listening on ").map(str::to_string),
        )?;
        let pem = std::fs::read(&cert).with_context(|| format!("reading {}", cert.display()))?;
        Ok((service, pem))
    }

    /// Runs an `okaz-server` command on the bench config; its stdout.
    pub fn server_cli(&self, config: &Path, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.server_bin)
            .arg("--config")
            .arg(config)
            .args(args)
            .env("OKAZ_LOG", "warn")
            .env("OKAZ_DATABASE_POOL_SIZE", "1")
            .output()
            .with_context(|| format!("running okaz-server {args:?}"))?;
        if !out.status.success() {
            bail!(
                "okaz-server {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).to_string())
    }

    /// Creates the bench's security officer with `okaz-server officer add`,
    /// the way an operator creates the first account.
    pub fn security_officer(&self, config: &Path) -> Result<Officer> {
        let login = "bench.security";
        let out = self.server_cli(
            config,
            &[
                "officer",
                "add",
                "--login",
                login,
                "--name",
                "Bench Security",
                "--role",
                "security_officer",
                "--unit",
                UNIT,
            ],
        )?;
        let field = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                .with_context(|| format!("no {name:?} in `officer add` output:\n{out}"))
        };
        Officer::new(
            login.to_string(),
            field("initial password:")?,
            &field("TOTP URI:")?,
        )
    }
}

/// Sets `daily_limit` of `[roles.clerk]` to [`BENCH_DAILY_LIMIT`].
fn raise_clerk_limit(policy: &str) -> Result<String> {
    let Some(at) = policy.find("[roles.clerk]") else {
        bail!("no [roles.clerk]");
    };
    let section = &policy[at..];
    let Some(rel) = section.find("\ndaily_limit") else {
        bail!("no daily_limit in [roles.clerk]");
    };
    let start = at + rel + 1;
    let end = policy[start..]
        .find('\n')
        .map(|e| start + e)
        .unwrap_or(policy.len());
    Ok(format!(
        "{}daily_limit = {BENCH_DAILY_LIMIT}{}",
        &policy[..start],
        &policy[end..]
    ))
}

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates `n` clerks through `POST /v1/admin/officers` as the security
/// officer (`token`), a few at a time (each costs the broker one argon2id hash).
pub async fn create_clerks(
    client: &Client,
    broker: &str,
    token: &str,
    prefix: &str,
    n: usize,
) -> Result<Vec<Officer>> {
    let mut out = Vec::with_capacity(n);
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    while out.len() < n {
        while next < n && set.len() < 8 {
            let (client, url, token) = (
                client.clone(),
                format!("{broker}/v1/admin/officers"),
                token.to_string(),
            );
            let login = format!("{prefix}{next:04}");
            set.spawn(async move {
                let body = NewOfficer {
                    login: login.clone(),
                    display_name: format!("Bench {login}"),
                    role: "clerk".into(),
                    unit: UNIT.into(),
                };
                let created: OfficerCreated =
                    client.post_json(&url, Some(&token), &body, 201).await?;
                Officer::new(
                    created.officer.login,
                    created.initial_password,
                    &created.totp_uri,
                )
            });
            next += 1;
        }
        match set.join_next().await {
            Some(r) => out.push(r??),
            None => break,
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Listed {
    pesel: String,
    phone: Option<String>,
    tags: Vec<String>,
    index: u64,
}

/// `n` adult, contactable citizens with a valid ID card, from the sandbox's
/// population listing.
pub async fn find_citizens(client: &Client, sandbox: &str, n: usize) -> Result<Vec<Citizen>> {
    let wanted = ["adult", "valid_id", "contactable"];
    let mut found = Vec::new();
    let mut start = 0u64;
    while found.len() < n {
        let page: Vec<Listed> = client
            .get_json(&format!(
                "{sandbox}_population?tag=contactable&limit=1000&start={start}"
            ))
            .await?;
        let Some(last) = page.last() else {
            bail!(
                "the sandbox population has only {} suitable citizens",
                found.len()
            );
        };
        start = last.index + 1;
        found.extend(page.into_iter().filter_map(|c| {
            let suits = wanted.iter().all(|t| c.tags.iter().any(|x| x == t));
            match (suits, c.phone) {
                (true, Some(phone)) => Some(Citizen {
                    pesel: c.pesel,
                    phone,
                }),
                _ => None,
            }
        }));
    }
    found.truncate(n);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_clerks_limit_is_raised() {
        let p = "[roles.police]\ndaily_limit = 200\n\n[roles.clerk]\nconsent = \"sms\"\ndaily_limit = 100\nx = 1\n";
        let raised = raise_clerk_limit(p).unwrap();
        assert!(raised.contains("[roles.police]\ndaily_limit = 200\n"));
        assert!(raised.contains("consent = \"sms\"\ndaily_limit = 10000\nx = 1\n"));
    }
}
