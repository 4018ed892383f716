//! The operator's command line: one module per subcommand group, each a
//! clap `Args`/`Subcommand` type with a `run` that does its job. `main`
//! only parses, loads the configuration and dispatches here.

mod admin;
mod audit;
mod citizen;
mod keys;
mod officer;
mod serve;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use okaz_server::config::Config;
use okaz_server::wiring;

/// `okaz-server`'s arguments.
#[derive(Parser)]
#[command(
    name = "okaz-server",
    version,
    about = "The okaz document verification broker"
)]
pub struct Cli {
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
    Serve(serve::Serve),
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
        action: officer::OfficerAction,
    },
    /// Citizen activations (the citizen portal does this for citizens).
    Citizen {
        #[command(subcommand)]
        action: citizen::CitizenAction,
    },
    /// The security officer's actions, for any unit (audited as `operator`).
    Admin {
        #[command(subcommand)]
        action: admin::AdminAction,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        action: audit::AuditAction,
    },
    /// The key files of `[secrets] dir` (one per job and version).
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> Result<()> {
        // Checking policies needs no configuration: it runs before a deployment has one.
        if let Command::CheckPolicy { dir } = &self.command {
            return check_policy(dir);
        }
        let cfg = Config::load(&self.config, std::env::vars())
            .with_context(|| format!("loading {}", self.config.display()))?;
        init_logging(cfg.log.json);
        match self.command {
            Command::Serve(serve) => serve.run(cfg).await,
            Command::Migrate => {
                wiring::store(&cfg).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::Officer { action } => action.run(&cfg).await,
            Command::Citizen { action } => action.run(&cfg).await,
            Command::Admin { action } => action.run(&cfg).await,
            Command::Audit { action } => action.run(&cfg).await,
            Command::Keys { action } => action.run(&cfg).await,
            Command::CheckPolicy { .. } => Ok(()),
        }
    }
}

fn check_policy(dir: &std::path::Path) -> Result<()> {
    match okaz_policy::check_dir(dir) {
        Ok(summary) => {
            println!("{summary}");
            Ok(())
        }
        Err(errors) => {
            eprintln!("{errors}");
            std::process::exit(1);
        }
    }
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

/// A broker refusal as the operator reads it: the code's message and the detail.
fn refusal(e: okaz_core::error::BrokerError) -> anyhow::Error {
    match e {
        okaz_core::error::BrokerError::Refused(r) => {
            anyhow::anyhow!("{}: {}", r.code.message(), r.detail.unwrap_or_default())
        }
        e => anyhow::anyhow!("{e}"),
    }
}
