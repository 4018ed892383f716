//! The one HTTP(S) client shared by all adapters: trust, timeouts, bounded
//! retries of idempotent reads with jittered backoff, and the size limit.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Empty};
use hyper::StatusCode;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use tokio::time::Instant;

use crate::error::RegistryError;

/// A pooled hyper client over rustls that speaks HTTP/1.1 and HTTP/2.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The rustls client configuration trusting only the CA certificates in `ca_pem`.
pub fn tls_config(ca_pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    // The provider is named explicitly: with several rustls backends in one
    // build, relying on the process default would panic at run time.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let mut reader = ca_pem;
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| format!("CA PEM unreadable: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("CA certificate rejected: {e}"))?;
    }
    if roots.is_empty() {
        return Err("CA PEM holds no certificate".into());
    }
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// Builds the shared client with a connect timeout; `http://` URLs are
/// allowed too because a production Kannel usually listens in clear on a LAN.
pub fn build_client(
    ca_pem: Option<&[u8]>,
    connect_timeout: Duration,
) -> Result<HttpsClient, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = match ca_pem {
        Some(pem) => builder.with_tls_config(tls_config(pem)?),
        None => builder
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| format!("TLS versions: {e}"))?,
    };
    let https = builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https))
}

/// One answer: its status and body (already size-checked).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// The body bytes.
    pub body: Bytes,
}

/// Limits of one logical read.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Bound on the whole read including retries.
    pub total_timeout: Duration,
    /// Extra attempts after a retryable failure.
    pub retries: u32,
    /// Largest body accepted.
    pub max_bytes: usize,
}

/// One GET attempt; reads at most `max_bytes` of the body.
async fn get_once(
    client: &HttpsClient,
    uri: &hyper::Uri,
    max_bytes: usize,
    register: &'static str,
) -> Result<Answer, RegistryError> {
    let mut req = hyper::Request::get(uri.clone());
    if let Some(id) = crate::trace::current_request_id() {
        // The register's logs and ours then name the same request.
        req = req.header(crate::trace::REQUEST_ID_HEADER, id);
    }
    let req = req
        .header(hyper::header::ACCEPT, "application/json")
        .body(Empty::<Bytes>::new())
        .map_err(|e| RegistryError::Config(format!("request: {e}")))?;
    let resp = client
        .request(req)
        .await
        .map_err(|e| RegistryError::Unavailable {
            register,
            reason: transport_reason(&e),
        })?;
    let status = resp.status();
    let mut body = resp.into_body();
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| RegistryError::Unavailable {
            register,
            reason: format!("answer interrupted: {e}"),
        })?;
        if let Ok(data) = frame.into_data() {
            // Stop before buffering past the limit: a hostile or broken
            // register must not make us allocate without bound.
            if buf.len() + data.len() > max_bytes {
                return Err(RegistryError::TooLarge { register });
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Answer {
        status,
        body: buf.freeze(),
    })
}

pub(crate) fn transport_reason(e: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// Classifies a status: success passes, 404 is `NotFound`, 5xx is retryable.
fn classify(answer: Answer, register: &'static str) -> Result<Answer, RegistryError> {
    let status = answer.status;
    if status.is_success() {
        Ok(answer)
    } else if status == StatusCode::NOT_FOUND {
        Err(RegistryError::NotFound { register })
    } else if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        Err(RegistryError::Unavailable {
            register,
            reason: format!("HTTP {}", status.as_u16()),
        })
    } else {
        Err(RegistryError::Refused {
            register,
            status: status.as_u16(),
        })
    }
}

/// An idempotent GET with a deadline for the whole call, retrying connect
/// errors, 5xx and per-attempt timeouts (never 404) with jittered backoff.
pub async fn get_json(
    client: &HttpsClient,
    url: &url::Url,
    limits: ReadLimits,
    register: &'static str,
) -> Result<Bytes, RegistryError> {
    let uri: hyper::Uri = url
        .as_str()
        .parse()
        .map_err(|e| RegistryError::Config(format!("register URL: {e}")))?;
    let deadline = Instant::now() + limits.total_timeout;
    let mut attempt = 0u32;
    loop {
        let result = match tokio::time::timeout_at(
            deadline,
            get_once(client, &uri, limits.max_bytes, register),
        )
        .await
        {
            Ok(r) => r.and_then(|a| classify(a, register)),
            Err(_) => {
                return Err(RegistryError::Unavailable {
                    register,
                    reason: format!("no answer within {:?}", limits.total_timeout),
                })
            }
        };
        match result {
            Ok(a) => return Ok(a.body),
            Err(e) if e.is_retryable() && attempt < limits.retries => {
                attempt += 1;
                let pause = backoff(attempt);
                if Instant::now() + pause >= deadline {
                    return Err(e);
                }
                tracing::debug!(register, attempt, "retrying register read");
                tokio::time::sleep(pause).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Exponential backoff from 50 ms with full jitter, so many brokers retrying
/// a recovering register do not all arrive at the same instant.
fn backoff(attempt: u32) -> Duration {
    let cap_ms = 50u64.saturating_mul(1 << attempt.min(6));
    let ms = rand::thread_rng().gen_range(cap_ms / 2..=cap_ms);
    Duration::from_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_bounded() {
        for a in 1..10 {
            let b = backoff(a);
            assert!(b >= Duration::from_millis(25));
            assert!(b <= Duration::from_millis(3200));
        }
    }

    #[test]
    fn empty_ca_pem_is_a_config_error() {
        assert!(tls_config(b"not a pem").is_err());
    }

    #[test]
    fn statuses_are_classified() {
        let a = |s: u16| Answer {
            status: StatusCode::from_u16(s).unwrap(),
            body: Bytes::new(),
        };
        assert!(classify(a(200), "x").is_ok());
        assert!(matches!(
            classify(a(404), "x"),
            Err(RegistryError::NotFound { .. })
        ));
        assert!(matches!(
            classify(a(503), "x"),
            Err(RegistryError::Unavailable { .. })
        ));
        assert!(matches!(
            classify(a(403), "x"),
            Err(RegistryError::Refused { status: 403, .. })
        ));
    }
}
