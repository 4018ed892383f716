//! `okaz-server`: serve the broker, migrate, check policies, manage
//! officers and activations, the security officer's actions, keys and the
//! audit trail. Each subcommand lives in its own module under `cli/`.

mod cli;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    cli::Cli::parse().run().await
}
