//! `okaz-server`: serve the broker, migrate, check policies, add officers,
//! activate citizens (until the portal exists), verify the audit trail.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use okaz_core::ports::AuditFilter;
use okaz_protocol::{NewOfficer, Pesel};
use okaz_server::app::App;
use okaz_server::config::Config;
use okaz_server::http;
use okaz_server::metrics::Metrics;
use okaz_server::{operator, wiring};

#[derive(Parser)]
#[command(
    name = "okaz-server",
    version,
    about = "The okaz document verification broker"
)]
struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "okaz.toml",
        env = "OKAZ_CONFIG"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API over HTTPS.
    Serve {
        /// Use a generated self-signed certificate (development only).
        #[arg(long)]
        dev_self_signed: bool,
        /// Where to write the self-signed certificate for clients to trust.
        #[arg(long, requires = "dev_self_signed")]
        write_cert: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Check a directory of policy files and exit.
    CheckPolicy {
        /// The directory.
        dir: PathBuf,
    },
    /// Manage officer accounts.
    Officer {
        #[command(subcommand)]
        action: OfficerAction,
    },
    /// Citizen activations (the citizen portal does this for citizens).
    Citizen {
        #[command(subcommand)]
        action: CitizenAction,
    },
    /// The security officer's actions, for any unit (audited as `operator`).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The key files of `[secrets] dir` (one per job and version).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Write the first version of every key (mode 600; never overwrites).
    Init {
        /// The first stage's master key file: derive the pepper, challenge
        /// and cookie keys from it (so pseudonyms, activations and open
        /// challenges stay valid) and encrypt the stored TOTP secrets.
        #[arg(long)]
        from_master: Option<PathBuf>,
    },
    /// Add a new version of every rotatable key (challenge, cookie, totp,
    /// notice_outbox) and re-encrypt the TOTP secrets under it; restart
    /// every replica afterwards. The pepper never rotates.
    Rotate {
        /// Only this key (pepper is refused, with the reason).
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Subcommand)]
enum OfficerAction {
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

#[derive(Subcommand)]
enum CitizenAction {
    /// Activate the service for a PESEL.
    Activate { pesel: String },
    /// Deactivate the service for a PESEL.
    Deactivate { pesel: String },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Anomaly signals over the policy's window (one unit, or all).
    Signals {
        #[arg(long)]
        unit: Option<String>,
    },
    /// Break-glass checks of a unit (pending first).
    BreakGlass {
        #[arg(long)]
        unit: String,
    },
    /// Countersign a pending break-glass check, with a reason.
    Countersign {
        #[arg(long)]
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Reject a pending break-glass check, with a reason (locks the officer).
    RejectBreakGlass {
        #[arg(long)]
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Locked accounts of a unit.
    Lockouts {
        #[arg(long)]
        unit: String,
        /// CSV for the unit's records.
        #[arg(long)]
        csv: bool,
    },
    /// Unlock an account, with a reason and extra checks for today.
    Unlock {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value_t = 0)]
        extra: u32,
    },
    /// Disable an account (its sessions end).
    Disable {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
    },
    /// Enable an account again.
    Enable {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
    },
    /// Give an officer a new password (printed once).
    ResetPassword {
        #[arg(long)]
        login: String,
    },
    /// Give an officer a new TOTP secret (URI printed once).
    ResetTotp {
        #[arg(long)]
        login: String,
    },
    /// Search the audit trail.
    Audit {
        #[arg(long)]
        unit: Option<String>,
        /// Officer login.
        #[arg(long)]
        officer: Option<String>,
        /// Citizen's PESEL (searched through the pseudonym, never stored).
        #[arg(long)]
        pesel: Option<String>,
        /// From (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Until (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Citizens' disputes of a unit's checks.
    Disputes {
        #[command(subcommand)]
        action: DisputeAction,
    },
}

#[derive(Subcommand)]
enum DisputeAction {
    /// List a unit's disputes (open ones unless `--all`), with each check's records.
    List {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        all: bool,
    },
    /// Resolve an open dispute of a unit, with a reason.
    Resolve {
        #[arg(long)]
        unit: String,
        /// The dispute's id.
        id: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check every chain against its head, every leaf against the tree,
    /// the tree against the latest witness-cosigned checkpoint (and an
    /// outside checkpoint); name the first failure and exit 2.
    Verify {
        /// A checkpoint kept outside (signed note) the log must extend.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the latest signed checkpoint with its cosignatures.
    Checkpoint,
    /// Create the log's signing key in `[audit] log_key_file` (never
    /// overwrites); prints its public key.
    InitKey,
}

fn init_logging(json: bool) {
    // The database driver stays below debug: it would log statement parameters.
    let filter = okaz_server::logging::from_env();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Command::CheckPolicy { dir } = &cli.command {
        return match okaz_policy::check_dir(dir) {
            Ok(summary) => {
                println!("{summary}");
                Ok(())
            }
            Err(errors) => {
                eprintln!("{errors}");
                std::process::exit(1);
            }
        };
    }
    let cfg = Config::load(&cli.config, std::env::vars())
        .with_context(|| format!("loading {}", cli.config.display()))?;
    init_logging(cfg.log.json);
    match cli.command {
        Command::Keys { action } => keys_command(&cfg, action).await,
        Command::Serve {
            dev_self_signed,
            write_cert,
        } => serve(cfg, dev_self_signed, write_cert).await,
        Command::Migrate => {
            wiring::store(&cfg).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Officer {
            action:
                OfficerAction::Add {
                    login,
                    name,
                    role,
                    unit,
                },
        } => {
            let broker = wiring::broker(&cfg).await?;
            let created = broker
                .create_officer(
                    None,
                    NewOfficer {
                        login,
                        display_name: name,
                        role,
                        unit,
                    },
                )
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
        Command::Officer {
            action: OfficerAction::BindCertificate { login, cert },
        } => {
            let broker = wiring::broker(&cfg).await?;
            let officer = broker
                .store
                .officer_by_login(&login)
                .await?
                .with_context(|| format!("no officer with login {login}"))?;
            let pem =
                std::fs::read(&cert).with_context(|| format!("reading {}", cert.display()))?;
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
                        okaz_core::error::BrokerError::Refused(r) => r.detail.clone(),
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
        Command::Citizen { action } => {
            let (pesel, active) = match action {
                CitizenAction::Activate { pesel } => (pesel, true),
                CitizenAction::Deactivate { pesel } => (pesel, false),
            };
            let pesel = Pesel::parse(&pesel).map_err(|e| anyhow::anyhow!("invalid PESEL: {e}"))?;
            let broker = wiring::broker(&cfg).await?;
            broker.set_activation(&pesel, active).await?;
            println!("{}", if active { "activated" } else { "deactivated" });
            Ok(())
        }
        Command::Admin { action } => {
            let b = wiring::broker(&cfg).await?;
            let out = match action {
                AdminAction::Lockouts { unit, csv } => operator::lockouts(&b, &unit, csv).await,
                AdminAction::Signals { unit } => operator::signals(&b, unit.as_deref()).await,
                AdminAction::BreakGlass { unit } => operator::break_glass(&b, &unit).await,
                AdminAction::Countersign { id, reason } => {
                    operator::decide_break_glass(&b, &id, true, &reason).await
                }
                AdminAction::RejectBreakGlass { id, reason } => {
                    operator::decide_break_glass(&b, &id, false, &reason).await
                }
                AdminAction::Unlock {
                    login,
                    reason,
                    extra,
                } => operator::unlock(&b, &login, &reason, extra).await,
                AdminAction::Disable { login, reason } => {
                    operator::set_disabled(&b, &login, true, &reason).await
                }
                AdminAction::Enable { login, reason } => {
                    operator::set_disabled(&b, &login, false, &reason).await
                }
                AdminAction::ResetPassword { login } => operator::reset(&b, &login, false).await,
                AdminAction::ResetTotp { login } => operator::reset(&b, &login, true).await,
                AdminAction::Audit {
                    unit,
                    officer,
                    pesel,
                    since,
                    until,
                    limit,
                } => {
                    let filter = AuditFilter {
                        unit,
                        since,
                        until,
                        limit,
                        ..AuditFilter::default()
                    };
                    operator::audit(&b, filter, officer.as_deref(), pesel.as_deref()).await
                }
                AdminAction::Disputes {
                    action: DisputeAction::List { unit, all },
                } => operator::disputes(&b, &unit, !all).await,
                AdminAction::Disputes {
                    action: DisputeAction::Resolve { unit, id, reason },
                } => operator::resolve_dispute(&b, &unit, &id, &reason).await,
            };
            match out {
                Ok(text) => {
                    print!("{text}");
                    Ok(())
                }
                Err(okaz_core::error::BrokerError::Refused(r)) => {
                    bail!("{}: {}", r.code.message(), r.detail.unwrap_or_default())
                }
                Err(e) => bail!("{e}"),
            }
        }
        Command::Audit {
            action: AuditAction::InitKey,
        } => {
            let public =
                okaz_server::tlog::init_log_key(&cfg.audit.log_key_file, &cfg.audit.origin)
                    .with_context(|| format!("creating {}", cfg.audit.log_key_file.display()))?;
            println!("log key written to {}", cfg.audit.log_key_file.display());
            println!("public key: {public}");
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Checkpoint,
        } => {
            let store = wiring::store(&cfg).await?;
            let latest = store.checkpoints(1).await?;
            let cp = latest
                .first()
                .context("no checkpoint has been signed yet")?;
            print!("{}", cp.with_cosignatures()?.render());
            Ok(())
        }
        Command::Audit {
            action: AuditAction::Verify { checkpoint },
        } => {
            let store = wiring::store(&cfg).await?;
            let log = okaz_server::tlog::load_log_key(&cfg.audit)?;
            let log = okaz_core::note::Verifier::parse(&log.verifier())?;
            let witnesses = cfg
                .audit
                .witnesses
                .iter()
                .map(|w| okaz_core::note::Verifier::parse(&w.key))
                .collect::<Result<Vec<_>, _>>()?;
            let outside = checkpoint
                .map(|p| {
                    std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
                })
                .transpose()?;
            let trust = okaz_core::tlog::Trust {
                log: &log,
                origin: &cfg.audit.origin,
                witnesses: &witnesses,
                outside: outside.as_deref(),
            };
            match okaz_core::tlog::verify(store.as_ref(), store.as_ref(), &trust).await {
                Ok(r) => {
                    println!(
                        "audit trail intact: {} records in {} chains, {} leaves; cosigned checkpoint: {}; outside checkpoint: {}",
                        r.records,
                        r.chains,
                        r.leaves,
                        r.cosigned.map_or("none".to_string(), |s| format!("size {s} extended")),
                        r.outside.map_or("not given".to_string(), |s| format!("size {s} extended")),
                    );
                    Ok(())
                }
                Err(okaz_core::tlog::TrailError::Store(e)) => Err(e.into()),
                Err(broken) => {
                    eprintln!("{broken}");
                    std::process::exit(2);
                }
            }
        }
        Command::CheckPolicy { .. } => Ok(()),
    }
}

/// `keys init` and `keys rotate`.
async fn keys_command(cfg: &Config, action: KeysAction) -> Result<()> {
    use okaz_core::keyring::KeyJob;
    use okaz_server::keys::KeyDir;
    let dir = KeyDir::from_config(&okaz_server::config::SecretsConfig {
        master_key_file: None,
        ..cfg.secrets.clone()
    })?;
    let (written, from_master, reseal) = match action {
        KeysAction::Init { from_master } => {
            let master = from_master
                .as_deref()
                .map(|p| -> Result<_> {
                    let bytes = okaz_server::config::read_secret(p)?;
                    okaz_core::pseudonym::SecretKey::new(bytes)
                        .with_context(|| format!("{}", p.display()))
                })
                .transpose()?;
            // A fresh install has no TOTP secret to encrypt yet: no database needed.
            (
                dir.init(master.as_ref())?,
                master.is_some(),
                master.is_some(),
            )
        }
        KeysAction::Rotate { key } => {
            let only = key
                .map(|k| {
                    KeyJob::ALL
                        .into_iter()
                        .find(|j| j.name() == k)
                        .with_context(|| {
                            format!(
                                "no key named {k}: pepper, challenge, cookie, totp, notice_outbox"
                            )
                        })
                })
                .transpose()?;
            let written = dir.rotate(only)?;
            if only.is_none() {
                println!(
                    "pepper: not rotated ({})",
                    okaz_server::keys::KeyFileError::PepperRotation
                );
            }
            (written, false, true)
        }
    };
    for path in &written {
        println!("written {} (mode 600)", path.display());
    }
    if cfg.secrets.master_key_file.is_some() {
        println!("now remove [secrets] master_key_file from the configuration");
    }
    if !reseal {
        return Ok(());
    }
    // The TOTP secrets follow the newest TOTP key (and, from the first
    // stage, leave the clear).
    let keys = dir.load()?;
    let store = wiring::store(cfg).await?;
    let done = okaz_core::broker::reseal_totp_secrets(
        &keys,
        &okaz_core::ports::OsRandom,
        store.as_ref(),
        from_master,
    )
    .await
    .map_err(|e| anyhow::anyhow!("re-encrypting TOTP secrets: {e}"))?;
    println!(
        "TOTP secrets under totp key version {}: {} re-encrypted, {} encrypted from clear, {} already current",
        keys.totp.current().0,
        done.resealed,
        done.from_clear,
        done.current
    );
    println!("restart every replica so all of them hold the new versions");
    Ok(())
}

async fn serve(cfg: Config, dev_self_signed: bool, write_cert: Option<PathBuf>) -> Result<()> {
    if let Some(key) = &cfg.server.tls_key {
        okaz_server::config::refuse_exposed(key)?;
    }
    let clients = wiring::client_auth(&cfg)?;
    let tls = match (&cfg.server.tls_cert, &cfg.server.tls_key, dev_self_signed) {
        (Some(cert), Some(key), _) => http::server::load_tls(cert, key, clients.as_ref())?,
        (_, _, true) => {
            let (tls, pem) = http::server::self_signed_with_clients(clients.as_ref())?;
            if let Some(path) = write_cert {
                std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
            }
            tracing::warn!("serving with a self-signed development certificate");
            tls
        }
        _ => bail!(
            "no TLS material: set server.tls_cert and server.tls_key, or pass --dev-self-signed for development"
        ),
    };
    let metrics = Metrics::default();
    // CRLs (and CAs) are read again on SIGHUP and on a timer, without a restart.
    let tls = tls.reload_from(cfg.server.client_cas.clone());
    let reloads = tls.spawn_reloads(
        (cfg.server.crl_reload_secs > 0)
            .then(|| std::time::Duration::from_secs(cfg.server.crl_reload_secs)),
        metrics.clone(),
    );
    let broker =
        wiring::broker_with_metrics(&cfg, Arc::new(okaz_core::clock::SystemClock), &metrics)
            .await?;
    let portal = wiring::portal(&cfg, &broker.keys)?;
    // Refuses to start without the log key: a new key would fork the log.
    let tlog = Arc::new(okaz_server::tlog::Transparency::new(
        &cfg.audit,
        broker.store.clone(),
    )?);
    let background = okaz_server::background::Background::start(&cfg, &broker, &tlog, &metrics)?;
    let app = Arc::new(App {
        broker,
        metrics,
        max_body: cfg.server.max_body_bytes,
        portal,
        draining: Default::default(),
        dlr_token: wiring::dlr_token(&cfg)?,
        tlog,
    });
    let listener = http::server::bind(cfg.server.listen).await?;
    let addr = listener.local_addr()?;
    let ops_listener = http::server::bind(cfg.server.ops_listen)
        .await
        .with_context(|| format!("binding the operations listener {}", cfg.server.ops_listen))?;
    let ops_addr = ops_listener.local_addr()?;
    tracing::info!(%addr, %ops_addr, "okaz broker listening");
    println!("listening on https://{addr}");
    println!("operations on http://{ops_addr}");
    let (ops_stop, ops_stopped) = tokio::sync::oneshot::channel::<()>();
    let ops = tokio::spawn(http::ops::serve(ops_listener, app.clone(), async {
        let _ = ops_stopped.await;
    }));
    let delay = std::time::Duration::from_secs(cfg.server.shutdown_delay_secs);
    let draining = app.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Readiness fails first and the API keeps serving, so the load
        // balancer moves new connections away before the listener closes.
        draining.start_draining();
        tracing::info!(secs = delay.as_secs(), "draining: readiness now fails");
        tokio::time::sleep(delay).await;
    };
    http::server::serve(listener, tls, app, wiring::limits(&cfg), shutdown).await;
    let _ = ops_stop.send(());
    let _ = ops.await;
    background.stop();
    reloads.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
