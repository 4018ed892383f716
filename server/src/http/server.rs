//! The HTTPS listener: rustls (TLS 1.3), HTTP/1.1 and HTTP/2, header and
//! request timeouts, a bounded TLS handshake, and graceful shutdown (stop
//! accepting, let in-flight requests finish within a bound, then return).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use okaz_protocol::ErrorCode;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{connections, handle, App, ClientAddress};

/// Timeouts and bounds of the listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send request headers.
    pub header_timeout: Duration,
    /// Time to read and answer one request.
    pub request_timeout: Duration,
    /// Time to finish a TLS handshake.
    pub handshake_timeout: Duration,
    /// HTTP/2 keep-alive ping interval; an unanswered ping closes the connection.
    pub idle_timeout: Duration,
    /// Time in-flight requests get on shutdown.
    pub drain: Duration,
    /// A connection is closed gracefully this long after it was accepted.
    pub max_age: Duration,
    /// Connections served at once; more are refused (one 503, then close).
    pub max_connections: usize,
}

pub use super::client_auth::{ClientAuth, TlsSource, UnitCa};
use super::tls::read;
pub use super::tls::ServeError;

/// The listener's TLS for a certificate chain and key, and the units' trust
/// for client certificates.
pub fn tls_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_auth: Option<&ClientAuth>,
) -> Result<TlsSource, ServeError> {
    TlsSource::new(certs, key, client_auth)
}

/// Loads a PEM certificate chain and private key.
pub fn load_tls(
    cert: &Path,
    key: &Path,
    client_auth: Option<&ClientAuth>,
) -> Result<TlsSource, ServeError> {
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let certs = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate found",
            cert.display()
        )));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| ServeError::Tls(format!("{}: {e}", key.display())))?
        .ok_or_else(|| ServeError::Tls(format!("{}: no private key found", key.display())))?;
    tls_config(certs, key, client_auth)
}

/// A self-signed certificate for 127.0.0.1 and localhost, for development
/// only. Returns the config and the certificate PEM for clients to trust.
pub fn self_signed() -> Result<(TlsSource, String), ServeError> {
    self_signed_with_clients(None)
}

/// Like [`self_signed`], also accepting client certificates.
pub fn self_signed_with_clients(
    client_auth: Option<&ClientAuth>,
) -> Result<(TlsSource, String), ServeError> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let ck =
        rcgen::generate_simple_self_signed(names).map_err(|e| ServeError::Tls(e.to_string()))?;
    let pem = ck.cert.pem();
    let key = PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    Ok((
        tls_config(vec![ck.cert.der().clone()], key, client_auth)?,
        pem,
    ))
}

/// Serves until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    tls: TlsSource,
    app: Arc<App>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    // Every connection task holds a receiver: shutdown is one send, and the
    // drain is over when the last receiver is gone.
    let (graceful, _) = tokio::sync::watch::channel(false);
    let stats = app.metrics.connections.clone();
    let bounds = connections::Bounds {
        header_timeout: limits.header_timeout,
        idle_timeout: limits.idle_timeout,
        max_age: limits.max_age,
        drain: limits.drain,
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout)
        .keep_alive_timeout(limits.header_timeout)
        // At least the 100 streams an h2 client may open before it has read
        // our SETTINGS, so a cold burst is queued rather than refused.
        .max_concurrent_streams(128);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: log, breathe, go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let accepted = tokio::time::Instant::now();
        // Decided before any TLS work, so a flood over the cap costs little.
        let admission = connections::admit(&stats, limits.max_connections);
        if let connections::Admission::Close = admission {
            drop(tcp);
            continue;
        }
        // Each handshake takes the trust current now: a CRL reload applies
        // to the next connection without touching open ones.
        let trust = tls.current();
        let acceptor = TlsAcceptor::from(trust.config());
        let source = tls.clone();
        let app = app.clone();
        let builder = builder.clone();
        let watcher = graceful.subscribe();
        let stats = stats.clone();
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        stats.closed(connections::Closed::HeaderTimeout);
                        return;
                    }
                };
            let _slot = match admission {
                connections::Admission::Admitted(slot) => slot,
                connections::Admission::Refuse(permit) => {
                    tracing::debug!(%peer, "over the connection cap: refused");
                    connections::refuse(tls, limits.header_timeout, permit).await;
                    return;
                }
                connections::Admission::Close => return,
            };
            let activity = std::sync::Arc::new(connections::Activity::default());
            let counted = activity.clone();
            let peer_cert = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| trust.identify(chain));
            let client = ClientAddress(peer.ip().to_string());
            let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                // A certificate revoked (or whose CRL expired) since the
                // handshake is refused at its next request.
                let revoked = peer_cert.as_ref().is_some_and(|p| !source.still_trusted(p));
                if let Some(p) = &peer_cert {
                    p.attach(req.extensions_mut());
                }
                req.extensions_mut().insert(client.clone());
                let app = app.clone();
                let in_flight = counted.start();
                async move {
                    let _in_flight = in_flight;
                    if revoked {
                        return Ok(super::client_auth::untrusted());
                    }
                    match tokio::time::timeout(limits.request_timeout, handle(app, req)).await {
                        Ok(r) => r,
                        Err(_) => Ok(super::errors::problem(okaz_protocol::Problem::new(
                            ErrorCode::ServiceUnavailable,
                            503,
                        ))),
                    }
                }
            });
            let conn = builder
                .serve_connection(TokioIo::new(tls), service)
                .into_owned();
            let ended = connections::drive(
                conn,
                |c| c.graceful_shutdown(),
                &activity,
                bounds,
                accepted,
                &stats,
                watcher,
            )
            .await;
            if let Err(e) = ended {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = graceful.send(true);
    tokio::select! {
        () = graceful.closed() => tracing::info!("all connections drained"),
        () = tokio::time::sleep(limits.drain) => tracing::warn!("drain time over; closing remaining connections"),
    }
}

/// Binds a listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    Ok(TcpListener::bind(addr).await?)
}
