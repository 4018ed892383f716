//! A small HTTPS client: hyper + rustls over HTTP/1.1, trusting given PEM roots.
//!
//! HTTP/1.1 on purpose: each request in flight holds its own pooled
//! keep-alive connection, as each terminal in an office holds its own, rather
//! than every flow sharing one multiplexed HTTP/2 connection.

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as Legacy;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// An HTTPS client with a connection pool.
#[derive(Clone)]
pub struct Client {
    inner: Legacy<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A status and the body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The problem code of an error answer (`application/problem+json`), or the status.
    pub fn problem(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
            .map(|c| format!("{} {c}", self.status))
            .unwrap_or_else(|| self.status.to_string())
    }
}

impl Client {
    /// A client trusting the certificates in these PEM texts.
    pub fn new(roots_pem: &[Vec<u8>]) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        for pem in roots_pem {
            for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                roots.add(cert.context("reading a PEM certificate")?)?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(Client {
            inner: Legacy::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Sends a request; `token` becomes a bearer header, `body` is sent as JSON.
    pub async fn send(
        &self,
        method: http::Method,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Reply> {
        let mut req = http::Request::builder().method(method).uri(url);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let resp = self
            .inner
            .request(req)
            .await
            .map_err(|e| anyhow!("{url}: {e:?}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| anyhow!("{url}: {e:?}"))?
            .to_bytes();
        Ok(Reply { status, body })
    }

    /// `GET`, expecting 200 and JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        let r = self.send(http::Method::GET, url, None, None).await?;
        parse(url, 200, &r)
    }

    /// `POST` JSON, expecting `status` and JSON back.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        url: &str,
        token: Option<&str>,
        body: &B,
        status: u16,
    ) -> Result<T> {
        let r = self
            .send(
                http::Method::POST,
                url,
                token,
                Some(serde_json::to_vec(body)?),
            )
            .await?;
        parse(url, status, &r)
    }
}

fn parse<T: DeserializeOwned>(url: &str, status: u16, r: &Reply) -> Result<T> {
    if r.status != status {
        bail!(
            "{url}: {} (expected {status}): {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    serde_json::from_slice(&r.body).with_context(|| format!("{url}: unexpected answer"))
}
