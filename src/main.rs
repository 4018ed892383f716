//! The `okaz` launcher. `okaz demo` runs the sandbox registers, the broker
//! and the terminal in one process, so one person can try the whole system
//! with one command and no database server.

mod demo;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "okaz",
    version,
    about = "okaz: on-demand document verification"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system on this machine: synthetic registers, the
    /// broker on a throw-away SQLite file, and the terminal with the
    /// citizen's phone beside it.
    Demo(demo::DemoArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("okaz: {e:#}");
            ExitCode::FAILURE
        }
    }
}
