//! `okaz-server audit`: the log's key, its latest checkpoint, and the
//! whole-trail verification an auditor runs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use okaz_core::tlog::{TrailError, Trust};
use okaz_server::config::Config;
use okaz_server::wiring;
use okaz_tlog::note::Verifier;

#[derive(Subcommand)]
pub(super) enum AuditAction {
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

impl AuditAction {
    pub(super) async fn run(self, cfg: &Config) -> Result<()> {
        match self {
            Self::InitKey => init_key(cfg),
            Self::Checkpoint => checkpoint(cfg).await,
            Self::Verify { checkpoint } => verify(cfg, checkpoint).await,
        }
    }
}

fn init_key(cfg: &Config) -> Result<()> {
    let public = okaz_server::tlog::init_log_key(&cfg.audit.log_key_file, &cfg.audit.origin)
        .with_context(|| format!("creating {}", cfg.audit.log_key_file.display()))?;
    println!("log key written to {}", cfg.audit.log_key_file.display());
    println!("public key: {public}");
    Ok(())
}

async fn checkpoint(cfg: &Config) -> Result<()> {
    let store = wiring::store(cfg).await?;
    let latest = store.checkpoints(1).await?;
    let cp = latest
        .first()
        .context("no checkpoint has been signed yet")?;
    print!("{}", cp.with_cosignatures()?.render());
    Ok(())
}

async fn verify(cfg: &Config, checkpoint: Option<PathBuf>) -> Result<()> {
    let store = wiring::store(cfg).await?;
    let log = okaz_server::tlog::load_log_key(&cfg.audit)?;
    let log = Verifier::parse(&log.verifier())?;
    let witnesses = cfg
        .audit
        .witnesses
        .iter()
        .map(|w| Verifier::parse(&w.key))
        .collect::<Result<Vec<_>, _>>()?;
    let outside = checkpoint
        .map(|p| std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let trust = Trust {
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
        Err(TrailError::Store(e)) => Err(e.into()),
        Err(broken) => {
            eprintln!("{broken}");
            std::process::exit(2);
        }
    }
}
