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
    let filter = tracing_subscriber::EnvFilter::try_from_env("OKAZ_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
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
            let der = rustls_pemfile::certs(&mut pem.as_slice())
                .next()
                .with_context(|| format!("no certificate in {}", cert.display()))??;
            let fingerprint = okaz_core::session::hash_bytes(der.as_ref());
            let pin = broker
                .bind_certificate(None, &officer.id, &fingerprint)
                .await
                .map_err(|e| anyhow::anyhow!("{e}: {}", e.code().message()))?;
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

async fn serve(cfg: Config, dev_self_signed: bool, write_cert: Option<PathBuf>) -> Result<()> {
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
    let broker =
        wiring::broker_with_metrics(&cfg, Arc::new(okaz_core::clock::SystemClock), &metrics)
            .await?;
    let portal = wiring::portal(&cfg, &broker.keys)?;
    // Refuses to start without the log key: a new key would fork the log.
    let tlog = Arc::new(okaz_server::tlog::Transparency::new(
        &cfg.audit,
        broker.store.clone(),
    )?);
    let integrator = Arc::clone(&tlog).spawn();
    let watch = okaz_server::watch::spawn(broker.clone(), metrics.clone());
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
    integrator.abort();
    watch.abort();
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
