//! `okaz-server officer`: creating accounts and binding a police
//! terminal's certificate to one.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use okaz_core::broker::Broker;
use okaz_core::error::BrokerError;
use okaz_protocol::NewOfficer;
use okaz_server::config::Config;
use okaz_server::{http, wiring};

#[derive(Subcommand)]
pub(super) enum OfficerAction {
    /// Create an officer; prints the first password and the TOTP URI once.
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: String,
    },
    /// Bind a police terminal's client certificate (PEM) to an officer;
    /// prints the officer's new PIN once.
    BindCertificate {
        #[arg(long)]
        login: String,
        #[arg(long)]
        cert: PathBuf,
    },
}

impl OfficerAction {
    pub(super) async fn run(self, cfg: &Config) -> Result<()> {
        let broker = wiring::broker(cfg).await?;
        match self {
            Self::Add {
                login,
                name,
                role,
                unit,
            } => {
                let new = NewOfficer {
                    login,
                    display_name: name,
                    role,
                    unit,
                };
                add(&broker, new).await
            }
            Self::BindCertificate { login, cert } => {
                bind_certificate(cfg, &broker, &login, &cert).await
            }
        }
    }
}

async fn add(broker: &Broker, new: NewOfficer) -> Result<()> {
    let created = broker
        .create_officer(None, new)
        .await
        .map_err(|e| anyhow::anyhow!("{e}: {}", e.code().message()))?;
    println!(
        "officer:          {} ({})",
        created.officer.login, created.officer.id
    );
    println!("initial password: {}", created.initial_password);
    println!("TOTP URI:         {}", created.totp_uri);
    Ok(())
}

async fn bind_certificate(cfg: &Config, broker: &Broker, login: &str, cert: &Path) -> Result<()> {
    let officer = broker
        .store
        .officer_by_login(login)
        .await?
        .with_context(|| format!("no officer with login {login}"))?;
    let pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let chain = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", cert.display()))?;
    let der = chain
        .first()
        .with_context(|| format!("no certificate in {}", cert.display()))?;
    // A terminal of this unit has a certificate from this unit's CA.
    let issuers = http::client_auth::issuing_units(&cfg.server.client_cas, &chain)?;
    if !issuers.contains(&officer.unit) {
        bail!(
            "{} was not issued by the CA configured for unit {} (issued by: {})",
            cert.display(),
            officer.unit,
            if issuers.is_empty() {
                "no configured unit's CA".to_string()
            } else {
                issuers.join(", ")
            }
        );
    }
    let fingerprint = okaz_core::session::hash_bytes(der.as_ref());
    let pin = broker
        .bind_certificate(None, &officer.id, &fingerprint)
        .await
        .map_err(|e| {
            let detail = match &e {
                BrokerError::Refused(r) => r.detail.clone(),
                _ => None,
            };
            anyhow::anyhow!(
                "{e}: {}",
                detail.unwrap_or_else(|| e.code().message().to_string())
            )
        })?;
    println!("certificate: {fingerprint}");
    println!("officer:     {login}");
    println!("PIN:         {pin}");
    Ok(())
}
