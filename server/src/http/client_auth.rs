//! Client certificates of police terminals: the units' CAs and CRLs, which
//! unit issued a connection's certificate, and reloading the CRLs without a
//! restart.
//!
//! Every new TLS handshake takes the [`Trust`] current at that moment from a
//! [`TlsSource`]; a reload (SIGHUP, or the timer) builds a whole new one and
//! swaps it in. Connections already open keep their TLS session, but each of
//! their requests re-checks the connection's certificate against the current
//! trust once per reload, so a certificate revoked by a new CRL (or whose
//! CRL has expired) is refused at its next request on an open connection as
//! it is at a new handshake. A reload that fails keeps the old trust.
//!
//! ```text
//!  SIGHUP / timer ──▶ read CA + CRL files ──ok──▶ new Trust (generation + 1)
//!                           └──error──▶ keep the old Trust, log, count
//!  new connection ──▶ handshake with the current Trust ──▶ units that issued it
//!  request ──▶ trust changed since checked? ──▶ re-verify ──revoked──▶ 401
//! ```
//! An expired CRL (nextUpdate in the past) leaves revocation unknown, which
//! is refused: the verifiers enforce CRL expiry and deny unknown status.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use okaz_protocol::{ErrorCode, Problem};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;

use super::tls::{read, ServeError};
use super::PeerCertificate;
use crate::config::ClientCaConfig;
use crate::metrics::Metrics;

/// One unit's trust for terminal certificates.
#[derive(Debug, Clone)]
pub struct UnitCa {
    /// The unit (as officers' `unit`).
    pub unit: String,
    /// The unit's CA certificates.
    pub cas: Vec<CertificateDer<'static>>,
    /// Their CRLs; every CA must have one, so revocation is always checked.
    pub crls: Vec<CertificateRevocationListDer<'static>>,
}

/// Trust for client certificates: each unit's CAs and revocation lists.
#[derive(Debug, Clone, Default)]
pub struct ClientAuth {
    /// The units whose terminals log in with certificates.
    pub units: Vec<UnitCa>,
}

impl ClientAuth {
    /// Trust for one unit.
    pub fn unit(
        unit: &str,
        cas: Vec<CertificateDer<'static>>,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> Self {
        ClientAuth {
            units: vec![UnitCa {
                unit: unit.to_string(),
                cas,
                crls,
            }],
        }
    }

    /// Loads each unit's PEM CA certificate and PEM (or DER) CRL.
    pub fn load(units: &[ClientCaConfig]) -> Result<Self, ServeError> {
        let mut out = ClientAuth::default();
        for u in units {
            let pem = read(&u.ca_file)?;
            let cas = rustls_pemfile::certs(&mut pem.as_slice())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ServeError::Tls(format!("{}: {e}", u.ca_file.display())))?;
            if cas.is_empty() {
                return Err(ServeError::Tls(format!(
                    "{}: no certificate found",
                    u.ca_file.display()
                )));
            }
            let bytes = read(&u.crl_file)?;
            let mut crls = rustls_pemfile::crls(&mut bytes.as_slice())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ServeError::Tls(format!("{}: {e}", u.crl_file.display())))?;
            if crls.is_empty() {
                crls.push(CertificateRevocationListDer::from(bytes));
            }
            out.units.push(UnitCa {
                unit: u.unit.clone(),
                cas,
                crls,
            });
        }
        Ok(out)
    }
}

/// A verifier for these CAs and CRLs: revocation checked on the terminal's
/// certificate, an unknown status (no CRL of its issuer, or an expired one)
/// refused; with `optional`, clients without a certificate pass.
fn verifier(
    cas: &[CertificateDer<'static>],
    crls: &[CertificateRevocationListDer<'static>],
    optional: bool,
) -> Result<Arc<dyn ClientCertVerifier>, ServeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        roots
            .add(ca.clone())
            .map_err(|e| ServeError::Tls(format!("client CA: {e}")))?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .with_crls(crls.iter().cloned())
        .only_check_end_entity_revocation()
        .enforce_revocation_expiration();
    let builder = if optional {
        builder.allow_unauthenticated()
    } else {
        builder
    };
    builder
        .build()
        .map_err(|e| ServeError::Tls(format!("client verifier: {e}")))
}

/// The configured units whose CA issued this certificate chain (leaf
/// first) and whose CRL clears it now.
pub fn issuing_units(
    units: &[ClientCaConfig],
    chain: &[CertificateDer<'static>],
) -> Result<Vec<String>, ServeError> {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Ok(Vec::new());
    };
    let auth = ClientAuth::load(units)?;
    let now = UnixTime::now();
    let mut out = Vec::new();
    for u in &auth.units {
        if verifier(&u.cas, &u.crls, false)?
            .verify_client_cert(leaf, intermediates, now)
            .is_ok()
        {
            out.push(u.unit.clone());
        }
    }
    Ok(out)
}

/// What new handshakes use, built whole and swapped whole.
pub struct Trust {
    config: Arc<ServerConfig>,
    /// All units' CAs and CRLs: what the handshake checks.
    all: Option<Arc<dyn ClientCertVerifier>>,
    /// Each unit's own, to tell which unit issued a certificate.
    units: Vec<(String, Arc<dyn ClientCertVerifier>)>,
    generation: u64,
}

impl Trust {
    fn build(
        identity: &Identity,
        auth: Option<&ClientAuth>,
        generation: u64,
    ) -> Result<Trust, ServeError> {
        let auth = auth.filter(|a| a.units.iter().any(|u| !u.cas.is_empty()));
        let (all, units) = match auth {
            Some(a) => {
                let cas: Vec<_> = a.units.iter().flat_map(|u| u.cas.clone()).collect();
                let crls: Vec<_> = a.units.iter().flat_map(|u| u.crls.clone()).collect();
                let units = a
                    .units
                    .iter()
                    .map(|u| Ok((u.unit.clone(), verifier(&u.cas, &u.crls, false)?)))
                    .collect::<Result<Vec<_>, ServeError>>()?;
                (Some(verifier(&cas, &crls, true)?), units)
            }
            None => (None, Vec::new()),
        };
        let config = super::tls::tls_config_with(
            identity.certs.clone(),
            identity.key.clone_key(),
            all.clone(),
        )?;
        Ok(Trust {
            config,
            all,
            units,
            generation,
        })
    }

    /// The rustls config for a new handshake.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }

    /// The verified client certificate of a connection that handshook with
    /// this trust: its fingerprint and the units whose CA issued it.
    pub fn identify(&self, chain: &[CertificateDer<'_>]) -> Option<Arc<Peer>> {
        let (leaf, intermediates) = chain.split_first()?;
        let now = UnixTime::now();
        let units = self
            .units
            .iter()
            .filter(|(_, v)| v.verify_client_cert(leaf, intermediates, now).is_ok())
            .map(|(u, _)| u.clone())
            .collect::<Vec<_>>();
        Some(Arc::new(Peer {
            fingerprint: PeerCertificate(okaz_core::session::hash_bytes(leaf.as_ref())),
            units: PeerUnits(units.into()),
            chain: chain.iter().map(|c| c.clone().into_owned()).collect(),
            checked: AtomicU64::new(self.generation),
            trusted: AtomicBool::new(true),
        }))
    }
}

/// The units whose configured CA issued a connection's client certificate
/// (and whose CRL cleared it), attached to each of its requests.
#[derive(Debug, Clone)]
pub struct PeerUnits(pub Arc<[String]>);

/// A connection's client certificate and when it was last checked.
pub struct Peer {
    fingerprint: PeerCertificate,
    units: PeerUnits,
    chain: Vec<CertificateDer<'static>>,
    /// The trust generation it was last verified against.
    checked: AtomicU64,
    trusted: AtomicBool,
}

impl Peer {
    /// Attaches the certificate's fingerprint and units to a request.
    pub fn attach(&self, ext: &mut http::Extensions) {
        ext.insert(self.fingerprint.clone());
        ext.insert(self.units.clone());
    }
}

/// The server's own certificate chain and key, kept to rebuild configs.
struct Identity {
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

/// Where a reload reads the client trust from.
enum Source {
    /// Built in memory (tests, the demo): a reload rebuilds the same trust,
    /// which still re-checks CRL expiry on open connections.
    Fixed(Option<ClientAuth>),
    /// The configured CA and CRL files, read again at each reload.
    Files(Vec<ClientCaConfig>),
}

struct Inner {
    identity: Identity,
    source: Mutex<Source>,
    current: RwLock<Arc<Trust>>,
    reloads: AtomicU64,
    failures: AtomicU64,
}

/// The TLS configuration of the listener, swapped whole on a reload. Cheap
/// to clone; clones share the current trust.
#[derive(Clone)]
pub struct TlsSource(Arc<Inner>);

impl TlsSource {
    /// A source for this server certificate chain and key, trusting these
    /// units' CAs for client certificates (optional on the listener).
    pub fn new(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        client_auth: Option<&ClientAuth>,
    ) -> Result<TlsSource, ServeError> {
        let identity = Identity { certs, key };
        let trust = Trust::build(&identity, client_auth, 0)?;
        Ok(TlsSource(Arc::new(Inner {
            identity,
            source: Mutex::new(Source::Fixed(client_auth.cloned())),
            current: RwLock::new(Arc::new(trust)),
            reloads: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })))
    }

    /// Makes reloads read the units' CA and CRL files again.
    pub fn reload_from(self, units: Vec<ClientCaConfig>) -> Self {
        *self.0.source.lock().unwrap_or_else(PoisonError::into_inner) = Source::Files(units);
        self
    }

    /// The trust for a new handshake.
    pub fn current(&self) -> Arc<Trust> {
        self.0
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Builds the trust afresh and swaps it in for new handshakes. On any
    /// error (a missing or malformed file) the old trust stays in use.
    pub fn reload(&self) -> Result<(), ServeError> {
        let source = self.0.source.lock().unwrap_or_else(PoisonError::into_inner);
        let built = match &*source {
            Source::Fixed(auth) => Ok(auth.clone()),
            Source::Files(units) if units.is_empty() => Ok(None),
            Source::Files(units) => ClientAuth::load(units).map(Some),
        }
        .and_then(|auth| {
            let generation = self.current().generation + 1;
            Trust::build(&self.0.identity, auth.as_ref(), generation)
        });
        drop(source);
        match built {
            Ok(trust) => {
                *self
                    .0
                    .current
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Arc::new(trust);
                self.0.reloads.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.0.failures.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Successful and failed reloads so far.
    pub fn reload_counts(&self) -> (u64, u64) {
        (
            self.0.reloads.load(Ordering::Relaxed),
            self.0.failures.load(Ordering::Relaxed),
        )
    }

    /// Whether a connection's certificate is still trusted: verified again
    /// against the current trust if that changed since it was last checked.
    pub fn still_trusted(&self, peer: &Peer) -> bool {
        let trust = self.current();
        if peer.checked.load(Ordering::Acquire) == trust.generation {
            return peer.trusted.load(Ordering::Acquire);
        }
        let ok = match (&trust.all, peer.chain.split_first()) {
            (Some(v), Some((leaf, intermediates))) => v
                .verify_client_cert(leaf, intermediates, UnixTime::now())
                .is_ok(),
            _ => false,
        };
        peer.trusted.store(ok, Ordering::Release);
        peer.checked.store(trust.generation, Ordering::Release);
        ok
    }

    /// Reloads on SIGHUP and, when `every` is given, on that interval;
    /// each outcome is logged and counted. Runs until aborted.
    pub fn spawn_reloads(
        &self,
        every: Option<Duration>,
        metrics: Metrics,
    ) -> tokio::task::JoinHandle<()> {
        let source = self.clone();
        // Installed before returning, so a SIGHUP from now on reloads
        // rather than ending the process.
        #[cfg(unix)]
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "no SIGHUP handler: CRLs reload on the timer only");
                None
            }
        };
        tokio::spawn(async move {
            let mut tick = every.map(|d| {
                let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
                i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                i
            });
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hup.as_mut() {
                        Some(s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<()>();
                let timer = async {
                    match tick.as_mut() {
                        Some(i) => {
                            i.tick().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                let why = tokio::select! {
                    () = hangup => "SIGHUP",
                    () = timer => "timer",
                };
                match source.reload() {
                    Ok(()) => {
                        metrics.client_trust_reload("ok");
                        tracing::info!(trigger = why, "client certificate trust reloaded");
                    }
                    Err(e) => {
                        metrics.client_trust_reload("failed");
                        tracing::error!(
                            trigger = why,
                            error = %e,
                            "client certificate trust NOT reloaded; the previous CAs and CRLs stay in use"
                        );
                    }
                }
            }
        })
    }
}

/// The answer to a request over a connection whose certificate is no longer
/// trusted (revoked by a reloaded CRL, or its CRL expired).
pub fn untrusted() -> Response<Full<Bytes>> {
    let mut p = Problem::new(ErrorCode::SessionExpired, 401);
    p.detail = Some(
        "the client certificate of this connection is no longer trusted (revoked, or its revocation list expired)"
            .to_string(),
    );
    let mut r = super::errors::problem(p);
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}
