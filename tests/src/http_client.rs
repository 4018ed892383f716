//! A small HTTPS client for tests: hyper + rustls, trusting given PEM roots.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A status, the headers and the body parsed as JSON (or a JSON string of the text).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content type.
    pub content_type: String,
    /// Body as JSON; non-JSON bodies become a JSON string.
    pub body: Value,
    /// Raw body text.
    pub text: String,
}

impl Reply {
    /// Asserts that this is a refusal with this status and this error `code`,
    /// showing the body when it is not.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.body["code"].as_str()),
            (status, Some(code)),
            "{}",
            self.body
        );
    }
}

/// HTTPS client.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl HttpClient {
    /// A client trusting these PEM certificates.
    pub fn new(roots_pem: &[&[u8]]) -> Self {
        Self::build(roots_pem, None)
    }

    /// A client that also presents a client certificate (PEM chain and key).
    pub fn with_identity(roots_pem: &[&[u8]], cert_pem: &[u8], key_pem: &[u8]) -> Self {
        Self::build(roots_pem, Some((cert_pem, key_pem)))
    }

    fn build(roots_pem: &[&[u8]], identity: Option<(&[u8], &[u8])>) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        for pem in roots_pem {
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                roots.add(cert.unwrap()).unwrap();
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        let tls = match identity {
            None => tls.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = rustls_pemfile::certs(&mut &cert[..])
                    .map(|c| c.unwrap())
                    .collect();
                let key = rustls_pemfile::private_key(&mut &key[..]).unwrap().unwrap();
                tls.with_client_auth_cert(chain, key).unwrap()
            }
        };
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .enable_http2()
            .build();
        HttpClient {
            inner: Client::builder(TokioExecutor::new()).build(https),
        }
    }

    /// Sends a request; `token` becomes a bearer header; `body` is sent as JSON.
    pub async fn request(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        self.raw(method, url, token, body, "application/json").await
    }

    /// `POST`s `body` as JSON to `url`.
    pub async fn post_json(&self, url: &str, token: Option<&str>, body: &Value) -> Reply {
        self.request("POST", url, token, Some(body.to_string().into_bytes()))
            .await
    }

    /// Logs in at the broker at `base` that runs on the real clock (a broker
    /// process, not the kit's broker on its manual clock): the session token.
    pub async fn login_now(&self, base: &str, o: &crate::TestOfficer) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let totp = okaz_core::credentials::totp_code_at(&o.totp_secret, now).unwrap();
        let login = serde_json::json!({"login": o.login, "password": o.password, "totp": totp});
        let r = self
            .post_json(&format!("{base}/v1/sessions"), None, &login)
            .await;
        assert_eq!(r.status, 201, "login at {base}: {}", r.body);
        r.body["token"].as_str().unwrap().to_string()
    }

    /// Sends a request with an explicit content type.
    pub async fn raw(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Reply {
        self.try_raw(method, url, token, body, content_type)
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
    }

    /// Sends a request; a transport failure (e.g. a refused TLS handshake) is an `Err`.
    pub async fn try_request(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        self.try_raw(method, url, token, body, "application/json")
            .await
    }

    async fn try_raw(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Result<Reply, String> {
        let mut req = http::Request::builder().method(method).uri(url);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", content_type);
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| e.to_string())?;
        let resp = self
            .inner
            .request(req)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let (status, headers, bytes) = read_response(resp).await?;
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(Reply {
            status,
            content_type: content_type_of(&headers),
            body,
            text,
        })
    }

    /// Sends a prepared request; the status, the headers and the body text
    /// (for tests that need cookies and redirects, e.g. the citizen portal).
    pub async fn exchange(
        &self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<(u16, http::HeaderMap, String), String> {
        let resp = self
            .inner
            .request(req)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let (status, headers, bytes) = read_response(resp).await?;
        Ok((status, headers, String::from_utf8_lossy(&bytes).to_string()))
    }
}

/// A plain-HTTP GET, for the operations listener (`/metrics`, `/readyz`),
/// which is not TLS; `Err` on a transport failure.
pub async fn plain_get(url: &str) -> Result<Reply, String> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let req = http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| format!("{e:?}"))?;
    let (status, headers, bytes) = read_response(resp).await?;
    let text = String::from_utf8_lossy(&bytes).to_string();
    Ok(Reply {
        status,
        content_type: content_type_of(&headers),
        body: Value::String(text.clone()),
        text,
    })
}

/// The status, the headers and the whole body of a response; one reader for
/// every client here, so that they all fail the same way on a cut body.
async fn read_response(
    resp: http::Response<hyper::body::Incoming>,
) -> Result<(u16, http::HeaderMap, Bytes), String> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{e:?}"))?
        .to_bytes();
    Ok((status, headers, bytes))
}

/// The `content-type` header's text, empty when absent or not text.
fn content_type_of(headers: &http::HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}
