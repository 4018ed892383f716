//! The broker API client. It runs in its own task, takes [`Command`]s from
//! a channel and sends the answers back as [`Msg`]s. It alone holds the
//! session token. Request and response bodies that may carry a PESEL, a
//! password, a code or a document are wiped once used.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use okaz_protocol::{CodeRequest, Problem, SessionCreated};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use zeroize::{Zeroize, Zeroizing};

use crate::msg::{AuditQuery, Command, Failure, LoggedIn, Msg};

mod admin;

/// How long one call may take before the officer is told the broker is unreachable.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest answer accepted (a document with a photo is well below this).
const MAX_BODY: usize = 8 * 1024 * 1024;
/// Retries of a call that may be repeated (a read, or a start with its
/// idempotency key) when no answer came; the officer sees each one.
const RETRIES: u32 = 5;
/// First wait before a retry; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Files for TLS: the CA to trust and an optional client certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// PEM file of the CA certificates to trust; the public web roots when absent.
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain (police handhelds).
    pub cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub key: Option<PathBuf>,
}

type Http = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client of one broker.
pub struct Client {
    http: Http,
    base: String,
    token: Option<Zeroizing<String>>,
    /// Where "retrying (n)" is told while a call is retried.
    notify: Option<UnboundedSender<Msg>>,
    /// Makes each start's idempotency key unique within this process.
    starts: u64,
    /// When this client was made, so keys differ across restarts too.
    epoch: u128,
    /// Retries of a repeatable call.
    retries: u32,
}

impl Client {
    /// A client of the broker at `base` (e.g. `https://broker:8443`).
    pub fn new(base: &str, tls: &TlsFiles) -> anyhow::Result<Self> {
        let config = tls_config(tls)?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .build();
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(https);
        let base = base.trim_end_matches('/').to_string();
        // Tokens, PINs and documents cross this link: https, or loopback only.
        okaz_protocol::transport::require_tls_off_loopback("--broker", &base)?;
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Ok(Client {
            http,
            base,
            token: None,
            notify: None,
            starts: 0,
            epoch,
            retries: RETRIES,
        })
    }

    /// The same client retrying at most `n` times (tests use few).
    pub fn with_retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Tells `tx` of each retry ([`Msg::Retrying`]).
    pub fn notify_retries(&mut self, tx: UnboundedSender<Msg>) {
        self.notify = Some(tx);
    }

    /// A fresh idempotency key for one start: the same for all its retries.
    fn next_key(&mut self) -> String {
        self.starts += 1;
        format!("t{:x}-{}", self.epoch, self.starts)
    }

    /// A start, single or bundle. One key for the start and all its
    /// retries: the broker counts it once and sends one SMS however often
    /// it arrives. The body names the subject, so it is wiped after.
    async fn start<T: DeserializeOwned>(
        &mut self,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<T, Failure> {
        let key = self.next_key();
        let r = self
            .call_retrying(Method::POST, path, body.clone(), Some(&key))
            .await;
        if let Some(b) = body {
            wipe(b);
        }
        r
    }

    /// Calls until an answer comes (of any kind) or the retries are spent,
    /// waiting longer each time and telling the officer. Only for calls
    /// that may be repeated without effect.
    async fn call_retrying<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        key: Option<&str>,
    ) -> Result<T, Failure> {
        let mut wait = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            let r = self
                .call_with(method.clone(), path, body.clone(), key)
                .await;
            match r {
                Err(Failure::Network) if tries < self.retries => {
                    tries += 1;
                    if let Some(tx) = &self.notify {
                        let _ = tx.send(Msg::Retrying(tries));
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(MAX_BACKOFF);
                }
                other => return other,
            }
        }
    }

    /// Performs one command; `None` for commands that need no answer.
    pub async fn perform(&mut self, cmd: Command) -> Option<Msg> {
        match cmd {
            Command::Login(mut req) => {
                let body = json(&req);
                req.password.zeroize();
                req.totp.zeroize();
                let r: Result<SessionCreated, Failure> =
                    self.call(Method::POST, "/v1/sessions", body).await;
                Some(Msg::LoggedIn(r.map(|mut s| {
                    self.token = Some(Zeroizing::new(std::mem::take(&mut s.token)));
                    LoggedIn {
                        officer: s.officer,
                        quota: s.quota,
                        expires_at: s.expires_at,
                    }
                })))
            }
            Command::PinLogin(mut req) => {
                let body = json(&req);
                req.pin.zeroize();
                let r: Result<SessionCreated, Failure> = self
                    .call(Method::POST, "/v1/sessions/certificate", body)
                    .await;
                Some(Msg::LoggedIn(r.map(|mut s| {
                    self.token = Some(Zeroizing::new(std::mem::take(&mut s.token)));
                    LoggedIn {
                        officer: s.officer,
                        quota: s.quota,
                        expires_at: s.expires_at,
                    }
                })))
            }
            Command::FetchMe => Some(Msg::Me(
                self.call_retrying(Method::GET, "/v1/me", None, None).await,
            )),
            Command::Start(mut req) => {
                let body = json(&req);
                req.subject.zeroize();
                Some(Msg::Started(self.start("/v1/verifications", body).await))
            }
            Command::StartBundle(mut req) => {
                let body = json(&req);
                req.subject.zeroize();
                Some(Msg::BundleStarted(self.start("/v1/bundles", body).await))
            }
            Command::SubmitCode {
                id,
                mut code,
                photo,
            } => {
                let mut req = CodeRequest {
                    code: code.clone(),
                    photo: Some(photo),
                };
                code.zeroize();
                let body = json(&req);
                req.code.zeroize();
                let path = format!("/v1/verifications/{}/code", segment(&id));
                Some(Msg::CodeChecked(self.call(Method::POST, &path, body).await))
            }
            Command::Cancel { id } => {
                let path = format!("/v1/verifications/{}", segment(&id));
                let _ = self.call_empty(Method::DELETE, &path, None).await;
                None
            }
            Command::Logout => {
                if self.token.is_some() {
                    let _ = self
                        .call_empty(Method::DELETE, "/v1/sessions/current", None)
                        .await;
                }
                self.token = None;
                None
            }
            Command::Lockouts => Some(Msg::Lockouts(
                self.call(Method::GET, "/v1/admin/lockouts", None).await,
            )),
            Command::Unlock { officer, request } => {
                let path = format!("/v1/admin/officers/{}/unlock", segment(&officer));
                Some(Msg::Unlocked(
                    self.call_empty(Method::POST, &path, json(&request)).await,
                ))
            }
            Command::Audit(q) => {
                let path = format!("/v1/admin/audit?{}", audit_query(&q));
                Some(Msg::Audit(self.call(Method::GET, &path, None).await))
            }
            Command::Quit => None,
            Command::Admin(call) => Some(Msg::Admin(self.admin(call).await)),
            Command::BreakGlassList => Some(Msg::BreakGlassList(
                self.call(Method::GET, "/v1/admin/break-glass", None).await,
            )),
            Command::DecideBreakGlass { id, request } => {
                let path = format!("/v1/admin/break-glass/{}/decision", segment(&id));
                Some(Msg::BreakGlassDecided(
                    self.call(Method::POST, &path, json(&request)).await,
                ))
            }
            Command::Signals => Some(Msg::Signals(
                self.call(Method::GET, "/v1/admin/signals", None).await,
            )),
            Command::BreakGlass(mut req) => {
                let body = json(&req);
                req.subject.zeroize();
                req.justification.zeroize();
                // Sent once, never retried: each one is a flagged release
                // counted against the day's break-glass cap.
                let r = self
                    .call(Method::POST, "/v1/break-glass", body.clone())
                    .await;
                if let Some(b) = body {
                    wipe(b);
                }
                Some(Msg::BrokeGlass(r))
            }
            Command::Watch { generation } => Some(Msg::Watch(self.watch(generation).await)),
            // The event loop rings the bell; nothing for the broker.
            Command::Bell => None,
        }
    }

    /// The supervisor's poll: ids of the pending break-glass checks and the
    /// number of open disputes, nothing else kept. Sent once, not retried:
    /// a retry would say "retrying" on the officer's screen, and the next
    /// poll comes anyway.
    async fn watch(&self, generation: u64) -> crate::alert::WatchAnswer {
        let break_glass: Result<Vec<okaz_protocol::BreakGlassView>, Failure> =
            self.call(Method::GET, "/v1/admin/break-glass", None).await;
        let disputes: Result<Vec<okaz_protocol::DisputeView>, Failure> =
            self.call(Method::GET, "/v1/admin/disputes", None).await;
        crate::alert::WatchAnswer {
            generation,
            break_glass: break_glass.map(|v| {
                v.into_iter()
                    .filter(|g| g.status == "pending")
                    .map(|g| g.id)
                    .collect()
            }),
            disputes: disputes.map(|v| v.len()),
        }
    }

    /// A copy for a call run beside this client's own (the watch): the
    /// same connection pool and token, telling no retries.
    fn beside(&self) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            token: self.token.clone(),
            notify: None,
            starts: 0,
            epoch: self.epoch,
            retries: 0,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<T, Failure> {
        self.call_with(method, path, body, None).await
    }

    async fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        key: Option<&str>,
    ) -> Result<T, Failure> {
        let (status, bytes) = self.send(method, path, body, key).await?;
        let parsed = if status.is_success() {
            serde_json::from_slice(&bytes).map_err(|_| Failure::Http(status.as_u16()))
        } else {
            Err(problem(status, &bytes))
        };
        wipe(bytes);
        parsed
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(), Failure> {
        let (status, bytes) = self.send(method, path, body, None).await?;
        let r = if status.is_success() {
            Ok(())
        } else {
            Err(problem(status, &bytes))
        };
        wipe(bytes);
        r
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        key: Option<&str>,
    ) -> Result<(StatusCode, Bytes), Failure> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(ACCEPT, "application/json, application/problem+json");
        if body.is_some() {
            req = req.header(CONTENT_TYPE, "application/json");
        }
        if let Some(t) = &self.token {
            req = req.header(AUTHORIZATION, format!("Bearer {}", t.as_str()));
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        // A second handle on the body, to wipe it once hyper has let go.
        let keep = body.clone();
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|_| Failure::Http(0))?;
        let answer = tokio::time::timeout(CALL_TIMEOUT, async {
            let resp = self.http.request(req).await.map_err(|_| Failure::Network)?;
            let status = resp.status();
            let bytes = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|_| Failure::Network)?
                .to_bytes();
            Ok((status, bytes))
        })
        .await
        .unwrap_or(Err(Failure::Network));
        if let Some(k) = keep {
            wipe(k);
        }
        answer
    }
}

/// Starts the client task: commands in, answers out. It ends when the
/// command channel closes, after finishing the commands already queued (so
/// a logout sent just before quitting still reaches the broker).
pub fn spawn(
    mut client: Client,
    mut commands: UnboundedReceiver<Command>,
    answers: UnboundedSender<Msg>,
) -> tokio::task::JoinHandle<()> {
    client.notify_retries(answers.clone());
    tokio::spawn(async move {
        while let Some(cmd) = commands.recv().await {
            if let Command::Watch { generation } = cmd {
                // In its own task: a slow poll never holds up the officer's
                // calls queued behind it.
                let mut beside = client.beside();
                let answers = answers.clone();
                tokio::spawn(async move {
                    if let Some(msg) = beside.perform(Command::Watch { generation }).await {
                        let _ = answers.send(msg);
                    }
                });
                continue;
            }
            if let Some(msg) = client.perform(cmd).await {
                if answers.send(msg).is_err() {
                    break;
                }
            }
        }
    })
}

fn tls_config(tls: &TlsFiles) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let builder = match &tls.ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(path)? {
                roots
                    .add(cert)
                    .with_context(|| format!("CA certificate in {}", path.display()))?;
            }
            builder.with_root_certificates(roots)
        }
        None => builder.with_webpki_roots(),
    };
    Ok(match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert)?;
            let key = rustls_pemfile::private_key(&mut BufReader::new(open(key)?))
                .with_context(|| format!("reading {}", key.display()))?
                .with_context(|| format!("no private key in {}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .context("client certificate and key do not match")?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => bail!("--cert and --key go together"),
    })
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let certs = rustls_pemfile::certs(&mut BufReader::new(open(path)?))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading certificates from {}", path.display()))?;
    if certs.is_empty() {
        bail!("no certificate in {}", path.display());
    }
    Ok(certs)
}

fn json<T: Serialize>(v: &T) -> Option<Bytes> {
    serde_json::to_vec(v).ok().map(Bytes::from)
}

fn problem(status: StatusCode, bytes: &[u8]) -> Failure {
    match serde_json::from_slice::<Problem>(bytes) {
        Ok(p) => Failure::Problem(p),
        Err(_) => Failure::Http(status.as_u16()),
    }
}

/// Zeroes a buffer when this is its only handle (it is, once a call is over).
fn wipe(b: Bytes) {
    if let Ok(mut m) = b.try_into_mut() {
        m.as_mut().zeroize();
    }
}

/// Percent-encodes one path segment or query value.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string of an audit search. Dates are whole days: `since` is
/// the first day's midnight, `until` the midnight after the last day (UTC).
pub fn audit_query(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    if let Some(o) = &q.officer {
        parts.push(format!("officer={}", segment(o)));
    }
    if let Some(p) = &q.pesel {
        parts.push(format!("pesel={}", segment(p)));
    }
    if let Some(d) = q.since {
        parts.push(format!("since={}T00:00:00Z", d.format("%Y-%m-%d")));
    }
    if let Some(d) = q.until.and_then(|d| d.succ_opt()) {
        parts.push(format!("until={}T00:00:00Z", d.format("%Y-%m-%d")));
    }
    parts.push(format!("limit={}", q.limit));
    parts.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn audit_query_encodes_and_spans_whole_days() {
        let q = AuditQuery {
            officer: Some("a b&c".into()),
            pesel: Some("44051401359".into()),
            since: NaiveDate::from_ymd_opt(2026, 3, 1),
            until: NaiveDate::from_ymd_opt(2026, 3, 31),
            limit: 50,
        };
        assert_eq!(
            audit_query(&q),
            "officer=a%20b%26c&pesel=44051401359&since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z&limit=50"
        );
    }

    #[test]
    fn bad_broker_url_and_half_a_client_cert_are_refused() {
        assert!(Client::new("ftp://x", &TlsFiles::default()).is_err());
        let e = Client::new("http://broker.example:8443", &TlsFiles::default())
            .err()
            .unwrap();
        assert!(e.to_string().contains("--broker: plain http://"), "{e}");
        assert!(Client::new("http://localhost:8443", &TlsFiles::default()).is_ok());
        let half = TlsFiles {
            cert: Some("/nonexistent".into()),
            ..TlsFiles::default()
        };
        assert!(Client::new("https://x", &half).is_err());
    }

    #[tokio::test]
    async fn unreachable_broker_is_a_network_failure_not_a_crash() {
        let mut c = Client::new("http://127.0.0.1:9", &TlsFiles::default())
            .unwrap()
            .with_retries(0);
        let msg = c.perform(Command::FetchMe).await;
        assert!(matches!(msg, Some(Msg::Me(Err(Failure::Network)))));
    }

    #[tokio::test]
    async fn a_repeatable_call_is_retried_and_each_retry_is_told() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut c = Client::new("http://127.0.0.1:9", &TlsFiles::default())
            .unwrap()
            .with_retries(2);
        c.notify_retries(tx);
        let msg = c.perform(Command::FetchMe).await;
        assert!(matches!(msg, Some(Msg::Me(Err(Failure::Network)))));
        assert!(matches!(rx.try_recv(), Ok(Msg::Retrying(1))));
        assert!(matches!(rx.try_recv(), Ok(Msg::Retrying(2))));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn each_start_gets_its_own_key() {
        let mut c = Client::new("http://127.0.0.1:9", &TlsFiles::default()).unwrap();
        let (a, b) = (c.next_key(), c.next_key());
        assert_ne!(a, b);
        assert!(a.len() <= 64 && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}
