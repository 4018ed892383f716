//! E-mail / digital mailbox delivery of citizens' notices: one JSON `POST`
//! (`{to, subject, text}`) to the delivery endpoint. The sandbox serves the
//! same interface and keeps each address's inbox readable.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::http::tls_config;

/// Where and how to reach the delivery endpoint.
#[derive(Clone, Debug)]
pub struct MailConfig {
    /// The endpoint (`https://…/mail/send`).
    pub url: url::Url,
    /// CA to trust for it (PEM); none means the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Bound on one delivery.
    pub timeout: Duration,
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The endpoint did not answer or answered unreadably.
    #[error("mail endpoint unavailable: {0}")]
    Unavailable(String),
    /// The endpoint refused the message.
    #[error("mail endpoint refused with status {0}")]
    Refused(u16),
    /// The client could not be built or the request formed.
    #[error("mail client: {0}")]
    Config(String),
}

/// The delivery endpoint's client. Cheap to clone.
#[derive(Clone)]
pub struct MailGateway {
    cfg: MailConfig,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for MailGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailGateway")
            .field("url", &self.cfg.url.as_str())
            .finish_non_exhaustive()
    }
}

impl MailGateway {
    /// Builds the client.
    pub fn new(cfg: MailConfig) -> Result<Self, MailError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(cfg.timeout));
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match cfg.ca_pem.as_deref() {
            Some(pem) => builder.with_tls_config(tls_config(pem).map_err(MailError::Config)?),
            None => builder
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| MailError::Config(e.to_string()))?,
        };
        let https = builder.https_or_http().enable_http1().wrap_connector(http);
        Ok(MailGateway {
            http: Client::builder(TokioExecutor::new()).build(https),
            cfg,
        })
    }

    /// Delivers one message; success is a 2xx answer.
    pub async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        let body = serde_json::json!({ "to": to, "subject": subject, "text": text }).to_string();
        let req = hyper::Request::post(self.cfg.url.as_str())
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| MailError::Config(e.to_string()))?;
        let fut = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| MailError::Unavailable(crate::http::transport_reason(&e)))?;
            let status = resp.status();
            // Read (a bounded amount of) the answer so the connection is reusable.
            let _ = Limited::new(resp.into_body(), 4096).collect().await;
            Ok::<_, MailError>(status)
        };
        let status = tokio::time::timeout(self.cfg.timeout, fut)
            .await
            .map_err(|_| MailError::Unavailable("no answer in time".into()))??;
        if status.is_success() {
            Ok(())
        } else {
            Err(MailError::Refused(status.as_u16()))
        }
    }
}
