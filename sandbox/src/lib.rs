//! The sandbox: synthetic registers, a Kannel-compatible SMS gateway and
//! phones' inboxes, and an OpenID Connect eID provider, served over HTTPS
//! with a development CA.
//!
//! Its own crate so that the broker, which links `okaz-registry`, never
//! carries it; it depends on `okaz-registry` for the registers' wire types,
//! check digits and eID helpers, never the other way round.
//!
//! Inside, the dependencies run one way: [`server`] routes to [`oidc`], and
//! both build answers with `respond` and look citizens up in [`directory`].

pub mod directory;
pub mod faults;
pub mod inbox;
pub mod names;
pub mod numbers;
pub mod oidc;
pub mod photo;
pub mod population;
pub mod render;
mod respond;
pub mod rng;
pub mod server;
mod sync;
pub mod tls;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use directory::Subject;
pub use faults::{Fault, Faults};
pub use inbox::Message;
pub use population::{
    citizen, citizen_at, citizen_of_plate, index_of, vehicle_of_plate, Citizen, MAX_POPULATION,
    MAX_VEHICLES,
};
pub use server::{KANNEL_PASSWORD, KANNEL_USERNAME};

use server::State;
use sync::lock;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Number of citizens.
    pub population: u64,
    /// Seed of the population.
    pub seed: u64,
    /// Faults in force from the start.
    pub faults: Faults,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            population: 10_000,
            seed: 1,
            faults: Faults::none(),
        }
    }
}

/// Why the sandbox did not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Could not make the development certificates.
    #[error("development TLS: {0}")]
    Tls(String),
    /// Could not make the eID provider's signing key.
    #[error("eID provider: {0}")]
    Oidc(String),
    /// Population outside 1..=MAX_POPULATION.
    #[error("population must be between 1 and {MAX_POPULATION}")]
    Population,
}

/// A running sandbox. Dropping it stops it too (without waiting).
pub struct Sandbox {
    /// The bound address.
    pub addr: SocketAddr,
    /// PEM of the CA that signed the sandbox's certificate (for 127.0.0.1 and localhost).
    pub ca_pem: String,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds, makes the development PKI and starts serving.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        if opts.population == 0 || opts.population > MAX_POPULATION {
            return Err(SandboxError::Population);
        }
        let pki = tls::dev_pki(opts.listen.ip()).map_err(SandboxError::Tls)?;
        let listener =
            TcpListener::bind(opts.listen)
                .await
                .map_err(|source| SandboxError::Listen {
                    addr: opts.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Listen {
                addr: opts.listen,
                source,
            })?;
        let (stop, stop_rx) = watch::channel(false);
        let issuer = format!("{}oidc", base_url_of(addr));
        let oidc = oidc::Provider::new(issuer).map_err(SandboxError::Oidc)?;
        let state = Arc::new(State {
            seed: opts.seed,
            population: opts.population,
            faults: std::sync::Mutex::new(opts.faults),
            inboxes: std::sync::Mutex::new(inbox::Inboxes::default()),
            mailboxes: std::sync::Mutex::new(inbox::Inboxes::default()),
            shutdown: stop_rx.clone(),
            malformed_turn: AtomicU64::new(0),
            oidc,
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server);
        let task = tokio::spawn(accept_loop(listener, acceptor, state.clone(), stop_rx));
        tracing::info!(%addr, population = opts.population, "sandbox listening");
        Ok(Sandbox {
            addr,
            ca_pem: pki.ca_pem,
            state,
            stop,
            task: Some(task),
        })
    }

    /// `https://127.0.0.1:PORT/` (or the specific listen address).
    pub fn base_url(&self) -> url::Url {
        base_url_of(self.addr)
    }

    /// The eID provider's issuer, `{base_url}oidc` (no trailing slash): ID
    /// tokens carry it as `iss`, and discovery is at `/.well-known/openid-configuration`.
    pub fn oidc_issuer(&self) -> String {
        format!("{}oidc", self.base_url())
    }

    /// Moves the eID provider's clock forward (test tooling): authorization
    /// codes and tokens issued before then age by `by`.
    pub fn advance_oidc_clock(&self, by: Duration) {
        self.state
            .oidc
            .advance_clock(i64::try_from(by.as_secs()).unwrap_or(i64::MAX));
    }

    /// The Kannel `sendsms` URL of the sandbox gateway.
    pub fn sendsms_url(&self) -> url::Url {
        let mut u = self.base_url();
        u.set_path("/cgi-bin/sendsms");
        u
    }

    /// Sets a register's fault at run time (`sms` for the gateway, `all` for every register).
    pub fn set_fault(&self, register: &str, fault: Fault) {
        lock(&self.state.faults).set(register, fault);
    }

    /// Clears every fault.
    pub fn clear_faults(&self) {
        *lock(&self.state.faults) = Faults::none();
    }

    /// A phone's inbox (any of `+48…`, `0048…`, `48…`).
    pub fn messages(&self, msisdn: &str) -> Vec<Message> {
        inbox::normalise(msisdn)
            .map(|p| lock(&self.state.inboxes).messages(&p))
            .unwrap_or_default()
    }

    /// A mailbox's messages (subject, blank line, text), oldest first.
    pub fn mail(&self, address: &str) -> Vec<Message> {
        inbox::normalise_address(address)
            .map(|a| lock(&self.state.mailboxes).messages(&a))
            .unwrap_or_default()
    }

    /// The e-mail delivery endpoint (`POST`, JSON `{to, subject, text}`).
    pub fn mail_url(&self) -> url::Url {
        let mut u = self.base_url();
        u.set_path("/mail/send");
        u
    }

    /// The citizen at `index` of this sandbox's population.
    pub fn citizen(&self, index: u64) -> Citizen {
        citizen(self.state.seed, index)
    }

    /// Up to `limit` subjects with a scenario tag, as `/_population` lists them.
    pub fn find(&self, tag: &str, limit: usize) -> Vec<Subject> {
        directory::find(self.state.seed, self.state.population, Some(tag), 0, limit)
    }

    /// Stops accepting, lets open requests finish (bounded), and returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// `https://ADDR/`, with an unspecified listen address shown as 127.0.0.1.
fn base_url_of(addr: SocketAddr) -> url::Url {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    #[allow(
        clippy::expect_used,
        reason = "a socket address always forms a valid URL"
    )]
    url::Url::parse(&format!("https://{host}/")).expect("socket address URL")
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    state: Arc<State>,
    stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // e.g. EMFILE under load: log, breathe, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = server::stopped(stop.clone()) => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let svc = hyper::service::service_fn(move |req| server::handle(state.clone(), req));
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc);
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(error = %e, "connection ended with error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("sandbox drain timed out");
    }
}
