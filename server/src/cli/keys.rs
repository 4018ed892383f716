//! `okaz-server keys`: writing and rotating the key files of
//! `[secrets] dir`, and re-encrypting the TOTP secrets under the newest key.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use okaz_server::config::Config;
use okaz_server::wiring;

#[derive(Subcommand)]
pub(super) enum KeysAction {
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

impl KeysAction {
    /// `keys init` and `keys rotate`.
    pub(super) async fn run(self, cfg: &Config) -> Result<()> {
        use okaz_core::keyring::KeyJob;
        use okaz_server::keys::KeyDir;
        let dir = KeyDir::from_config(&okaz_server::config::SecretsConfig {
            master_key_file: None,
            ..cfg.secrets.clone()
        })?;
        let (written, from_master, reseal) = match self {
            Self::Init { from_master } => {
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
            Self::Rotate { key } => {
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
}
