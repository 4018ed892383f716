//! SMS through Kannel's `sendsms` HTTP interface, the production adapter; the
//! sandbox speaks the same interface.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};

use crate::http::{build_client, HttpsClient};

/// Where and how to reach Kannel.
#[derive(Clone)]
pub struct KannelConfig {
    /// The `sendsms` URL, e.g. `http://kannel:13013/cgi-bin/sendsms`.
    pub sendsms_url: url::Url,
    /// sendsms-user username.
    pub username: String,
    /// sendsms-user password.
    pub password: String,
    /// Sender id (`from`), if the SMSC needs one.
    pub from: Option<String>,
    /// CA PEM to trust for an `https` URL; `None` uses public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Bound on a whole send.
    pub timeout: Duration,
    /// Where Kannel sends delivery reports (`dlr-url`), secret token
    /// included; `None` asks for none. The challenge reference and the
    /// report type (`%d`) are appended per message.
    pub dlr_url: Option<url::Url>,
}

impl std::fmt::Debug for KannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KannelConfig")
            .field("sendsms_url", &self.sendsms_url.as_str())
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .field(
                "dlr_url",
                &self.dlr_url.as_ref().map(|_| "<set, token redacted>"),
            )
            .finish()
    }
}

/// Why an SMS was not accepted. Messages never carry the number or text.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// Kannel answered but did not accept the message (403 credentials, 4xx, 5xx).
    #[error("SMS gateway refused the message with HTTP {status}")]
    Refused {
        /// HTTP status of Kannel's answer.
        status: u16,
    },
    /// Kannel could not be reached in time.
    #[error("SMS gateway unavailable: {reason}")]
    Unavailable {
        /// Transport-level reason.
        reason: String,
    },
    /// The number is not E.164 or the text is empty.
    #[error("SMS not sent: {0}")]
    Invalid(&'static str),
    /// The adapter configuration is unusable.
    #[error("SMS gateway configuration: {0}")]
    Config(String),
}

/// Sends SMS through Kannel. Cheap to clone.
#[derive(Clone)]
pub struct KannelGateway {
    cfg: KannelConfig,
    http: HttpsClient,
    observer: Option<crate::trace::Observer>,
}

impl std::fmt::Debug for KannelGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KannelGateway")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl KannelGateway {
    /// Builds the gateway client.
    pub fn new(cfg: KannelConfig) -> Result<Self, SmsError> {
        if !matches!(cfg.sendsms_url.scheme(), "https" | "http") {
            return Err(SmsError::Config("sendsms_url must be http(s)".into()));
        }
        let http = build_client(cfg.ca_pem.as_deref(), cfg.timeout).map_err(SmsError::Config)?;
        Ok(KannelGateway {
            cfg,
            http,
            observer: None,
        })
    }

    /// The same gateway, telling `observer` of every send (as upstream `sms`).
    pub fn with_observer(mut self, observer: crate::trace::Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sends `text` to `to`, asking for a delivery report about `reference`
    /// when a `dlr_url` is configured; see [`KannelGateway::send`].
    pub async fn send_with_reference(
        &self,
        to: &str,
        text: &str,
        reference: Option<&str>,
    ) -> Result<(), SmsError> {
        let started = std::time::Instant::now();
        let r = self.send_inner(to, text, reference).await;
        if let Some(o) = &self.observer {
            let outcome = match &r {
                Ok(()) => "ok",
                Err(SmsError::Refused { .. }) => "refused",
                Err(SmsError::Unavailable { .. }) => "unavailable",
                Err(SmsError::Invalid(_)) => "invalid",
                Err(SmsError::Config(_)) => "config",
            };
            o.observe("sms", started.elapsed(), outcome);
        }
        r
    }

    /// Sends `text` to `to` (E.164). Success means Kannel accepted it for
    /// delivery (HTTP 202, or 200 with `0:`/`3:` as older versions answer).
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        self.send_with_reference(to, text, None).await
    }

    async fn send_inner(
        &self,
        to: &str,
        text: &str,
        reference: Option<&str>,
    ) -> Result<(), SmsError> {
        if !crate::registers::contacts::is_e164(to) {
            return Err(SmsError::Invalid("recipient is not an E.164 number"));
        }
        if text.is_empty() {
            return Err(SmsError::Invalid("empty text"));
        }
        let mut url = self.cfg.sendsms_url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("username", &self.cfg.username)
                .append_pair("password", &self.cfg.password)
                .append_pair("to", to)
                .append_pair("text", text)
                .append_pair("charset", "UTF-8")
                .append_pair("coding", "2");
            if let Some(from) = &self.cfg.from {
                q.append_pair("from", from);
            }
            if let (Some(dlr), Some(reference)) = (&self.cfg.dlr_url, reference) {
                let mut dlr = dlr.clone();
                dlr.query_pairs_mut().append_pair("ref", reference);
                // Kannel replaces `%d` with the report type (1 delivered,
                // 2 failed, 4 buffered, 8 accepted by the SMSC, 16 rejected);
                // appended raw, since Kannel substitutes before it decodes.
                let dlr = format!("{dlr}&type=%d");
                q.append_pair("dlr-mask", "31").append_pair("dlr-url", &dlr);
            }
        }
        let uri: hyper::Uri = url
            .as_str()
            .parse()
            .map_err(|_| SmsError::Config("sendsms URL".into()))?;
        let mut req = hyper::Request::get(uri);
        if let Some(id) = crate::trace::current_request_id() {
            req = req.header(crate::trace::REQUEST_ID_HEADER, id);
        }
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(|_| SmsError::Config("request".into()))?;
        let fut = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| SmsError::Unavailable {
                    reason: crate::http::transport_reason(&e),
                })?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), 4096)
                .collect()
                .await
                .map_err(|_| SmsError::Unavailable {
                    reason: "answer unreadable".into(),
                })?
                .to_bytes();
            Ok::<_, SmsError>((status, body))
        };
        let (status, body) =
            tokio::time::timeout(self.cfg.timeout, fut)
                .await
                .map_err(|_| SmsError::Unavailable {
                    reason: format!("no answer within {:?}", self.cfg.timeout),
                })??;
        let accepted = body.starts_with(b"0:") || body.starts_with(b"3:");
        if (status.as_u16() == 202 || status.as_u16() == 200) && accepted {
            tracing::debug!("SMS accepted by gateway");
            Ok(())
        } else {
            tracing::warn!(status = status.as_u16(), "SMS gateway refused");
            Err(SmsError::Refused {
                status: status.as_u16(),
            })
        }
    }
}
