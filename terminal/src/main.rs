//! `okaz-terminal --broker URL [--ca FILE] [--cert FILE --key FILE]
//! [--profile handheld|desktop] [--lang pl|en]`

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::Parser;
use okaz_terminal::client::{Client, TlsFiles};
use okaz_terminal::i18n::Lang;
use okaz_terminal::profile::Profile;
use okaz_terminal::Model;

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

/// Test-only: seconds between the supervisor's polls (default 15).
const WATCH_SECONDS_ENV: &str = "OKAZ_TEST_WATCH_SECONDS";

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
    let mut model = Model::new(lang, profile, Utc::now());
    // Test-only: end-to-end tests shorten the supervisor's poll interval so
    // they need not wait 15 s; not a flag, so it is not offered to officers.
    if let Some(secs) = std::env::var(WATCH_SECONDS_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        model = model.with_watch_every(std::time::Duration::from_secs(secs));
    }
    if tls.cert.is_some() {
        // The certificate names the terminal's officer; only the PIN is asked.
        model = model.with_certificate();
    }
    okaz_terminal::tty::run(api, model, |_| {}).await
}
