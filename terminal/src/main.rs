//! `okaz-terminal --broker URL [--ca FILE] [--cert FILE --key FILE]
//! [--profile handheld|desktop] [--lang pl|en]`

use std::io::stdout;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Local, Offset, Utc};
use clap::Parser;
use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use okaz_terminal::client::{self, Client, TlsFiles};
use okaz_terminal::i18n::Lang;
use okaz_terminal::profile::Profile;
use okaz_terminal::Model;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// The okaz terminal: check a citizen's document with their consent.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Broker URL, e.g. https://broker.example:8443
    #[arg(long)]
    broker: String,
    /// PEM file of the CA that signed the broker's certificate
    #[arg(long)]
    ca: Option<PathBuf>,
    /// PEM client certificate (police handhelds); needs --key
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of --cert
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Screen layout
    #[arg(long, default_value = "desktop", value_parser = ["handheld", "desktop"])]
    profile: String,
    /// Language of the texts; by default from LC_ALL / LC_MESSAGES / LANG
    #[arg(long, value_parser = ["pl", "en"])]
    lang: Option<String>,
}

/// Puts the terminal back as it was, on every way out of `main`.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, Show);
}

fn main() -> ExitCode {
    let args = Args::parse();
    let env = |k: &str| std::env::var(k).ok();
    let lang = Lang::choose(
        args.lang.as_deref(),
        env("LC_ALL").as_deref(),
        env("LC_MESSAGES").as_deref(),
        env("LANG").as_deref(),
    );
    let profile = Profile::parse(&args.profile).unwrap_or(Profile::Desktop);
    let tls = TlsFiles {
        ca: args.ca,
        cert: args.cert,
        key: args.key,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("okaz-terminal: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args.broker, &tls, lang, profile)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("okaz-terminal: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(broker: &str, tls: &TlsFiles, lang: Lang, profile: Profile) -> anyhow::Result<()> {
    // Configuration errors are reported before the screen is taken over.
    let api = Client::new(broker, tls)?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let _restore = Restore;
    execute!(stdout(), EnterAlternateScreen, Hide)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;

    let (msg_tx, mut msg_rx) = tokio::sync::mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let client_task = client::spawn(api, cmd_rx, msg_tx.clone());
    let _keys = okaz_terminal::app::spawn_key_reader(msg_tx);

    let mut model = Model::new(lang, profile, Utc::now());
    model.offset = Local::now().offset().fix();
    let result =
        okaz_terminal::app::run(&mut terminal, &mut model, &mut msg_rx, &cmd_tx, Utc::now).await;
    // Whatever the model held is wiped before the screen is given back.
    drop(model);
    drop(cmd_tx);
    // Let a queued logout reach the broker, but never hang on the way out.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), client_task).await;
    msg_rx.close();
    result?;
    Ok(())
}
