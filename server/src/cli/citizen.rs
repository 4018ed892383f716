//! `okaz-server citizen`: activations by the operator (the portal does
//! this for citizens themselves).

use anyhow::Result;
use clap::Subcommand;
use okaz_protocol::Pesel;
use okaz_server::config::Config;
use okaz_server::wiring;

#[derive(Subcommand)]
pub(super) enum CitizenAction {
    /// Activate the service for a PESEL.
    Activate { pesel: String },
    /// Deactivate the service for a PESEL.
    Deactivate { pesel: String },
}

impl CitizenAction {
    pub(super) async fn run(self, cfg: &Config) -> Result<()> {
        let (pesel, active) = match self {
            Self::Activate { pesel } => (pesel, true),
            Self::Deactivate { pesel } => (pesel, false),
        };
        let pesel = Pesel::parse(&pesel).map_err(|e| anyhow::anyhow!("invalid PESEL: {e}"))?;
        let broker = wiring::broker(cfg).await?;
        broker.set_activation(&pesel, active).await?;
        println!("{}", if active { "activated" } else { "deactivated" });
        Ok(())
    }
}
