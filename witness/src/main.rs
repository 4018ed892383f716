//! `okaz-witness`: serve the C2SP tlog-witness protocol, or create a key.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use okaz_tlog::note::{Signer, Verifier};
use okaz_witness::Witness;

/// Largest request body (a checkpoint and a proof are well under this).
const MAX_BODY: usize = 16 * 1024;

#[derive(Parser)]
#[command(name = "okaz-witness", version, about = "A C2SP tlog-witness for okaz")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the witness's key file (mode 600); prints its cosigner key.
    InitKey {
        /// The witness's name (its key name).
        #[arg(long)]
        name: String,
        /// Where to write the key.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Serve `POST /add-checkpoint`.
    Serve {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:7380")]
        listen: SocketAddr,
        /// The witness's own state (last cosigned checkpoint per log).
        #[arg(long)]
        state_dir: PathBuf,
        /// The witness's key file.
        #[arg(long)]
        key_file: PathBuf,
        /// A log's verifier key (`origin+hash+base64`); repeatable.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::InitKey { name, key_file } => {
            use std::io::Write;
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            let signer = Signer::from_seed(&name, &seed)?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(&key_file)
                .with_context(|| format!("creating {}", key_file.display()))?;
            f.write_all(signer.encode().as_bytes())?;
            println!("{}", signer.cosigner_verifier());
            Ok(())
        }
        Command::Serve {
            listen,
            state_dir,
            key_file,
            logs,
        } => {
            let key = std::fs::read_to_string(&key_file)
                .with_context(|| format!("reading {}", key_file.display()))?;
            let signer = Signer::parse(&key)?;
            let logs = logs
                .iter()
                .map(|l| Verifier::parse(l))
                .collect::<Result<Vec<_>, _>>()?;
            std::fs::create_dir_all(&state_dir)
                .with_context(|| format!("creating {}", state_dir.display()))?;
            let witness = Arc::new(Witness::new(signer, logs, &state_dir));
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("listening on http://{}", listener.local_addr()?);
            loop {
                let (stream, _) = match listener.accept().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let witness = Arc::clone(&witness);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&witness), req));
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

async fn handle(
    witness: Arc<Witness>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, ctype, body) =
        if req.method() != hyper::Method::POST || req.uri().path() != "/add-checkpoint" {
            (404, "text/plain", "not found\n".to_string())
        } else {
            match Limited::new(req.into_body(), MAX_BODY).collect().await {
                Err(_) => (400, "text/plain", "body too large or unreadable\n".into()),
                Ok(b) => match String::from_utf8(b.to_bytes().to_vec()) {
                    Err(_) => (400, "text/plain", "not UTF-8\n".into()),
                    Ok(text) => {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        witness.add_checkpoint(&text, now).await
                    }
                },
            }
        };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        http::HeaderValue::from_static(ctype),
    );
    Ok(resp)
}
