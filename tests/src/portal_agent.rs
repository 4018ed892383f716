//! A scripted citizen for the portal, without a browser: follows the eID
//! sign-in by hand (the sandbox's picker is a plain form), keeps the
//! broker's cookies, and posts forms. Tests use it for what a browser would
//! never do: forged callbacks, forms without their token.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;

use crate::{HttpClient, Kit};

/// One answer of the portal.
#[derive(Debug, Clone)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body text.
    pub text: String,
}

impl Page {
    /// The `Location` header.
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// The `Set-Cookie` headers.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    /// The value of `name="csrf"` in the first form of the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.text.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
        let end = self.text[at..].find('"')?;
        Some(self.text[at..at + end].to_string())
    }
}

/// A citizen's user agent with a cookie jar for the broker.
#[derive(Clone)]
pub struct PortalAgent {
    http: HttpClient,
    broker: String,
    /// The broker's cookies by name.
    pub jar: HashMap<String, String>,
}

impl PortalAgent {
    /// An agent for the kit's broker.
    pub fn new(kit: &Kit) -> Self {
        PortalAgent {
            http: kit.http.clone(),
            broker: kit.broker_url.clone(),
            jar: HashMap::new(),
        }
    }

    /// The same citizen's browser, cookies and all, talking to another
    /// broker (a second replica at `url`, trusted by `http`).
    pub fn at(&self, http: HttpClient, url: &str) -> Self {
        PortalAgent {
            http,
            broker: url.to_string(),
            jar: self.jar.clone(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("https://") {
            url.to_string()
        } else {
            format!("{}{url}", self.broker)
        }
    }

    /// Sends a request; cookies go to (and come from) the broker only.
    pub async fn send(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Page {
        let url = self.absolute(url);
        let to_broker = url.starts_with(&self.broker);
        let mut req = http::Request::builder().method(method).uri(&url);
        if to_broker && !self.jar.is_empty() {
            let c: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", c.join("; "));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let body = match form {
            Some(f) => {
                req = req.header("content-type", "application/x-www-form-urlencoded");
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(f.iter())
                    .finish()
            }
            None => String::new(),
        };
        let (status, headers, text) = self
            .http
            .exchange(req.body(Full::new(Bytes::from(body))).unwrap())
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let page = Page {
            status,
            headers,
            text,
        };
        if to_broker {
            for c in page.set_cookies() {
                let first = c.split(';').next().unwrap_or_default();
                if let Some((k, v)) = first.split_once('=') {
                    if v.is_empty() || c.contains("Max-Age=0") {
                        self.jar.remove(k);
                    } else {
                        self.jar.insert(k.to_string(), v.to_string());
                    }
                }
            }
        }
        page
    }

    /// `GET`.
    pub async fn get(&mut self, url: &str) -> Page {
        self.send("GET", url, None, &[]).await
    }

    /// `POST` a form.
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        self.send("POST", url, Some(form), &[]).await
    }

    /// Starts a sign-in: the eID authorization URL the portal sends us to.
    pub async fn begin_sign_in(&mut self) -> url::Url {
        let p = self.get("/citizen/login").await;
        assert_eq!(p.status, 303, "login: {}", p.text);
        url::Url::parse(&p.location()).unwrap()
    }

    /// Picks the citizen at the eID for an authorization URL (possibly
    /// edited by the test): the callback URL the eID sends us back to.
    pub async fn pick_citizen(&mut self, authorize: &url::Url, pesel: &str) -> String {
        let mut fields: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        fields.retain(|(k, _)| k != "ui_locales");
        fields.push(("pesel".into(), pesel.into()));
        fields.push(("action".into(), "sign_in".into()));
        let mut target = authorize.clone();
        target.set_query(None);
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let p = self.post(target.as_str(), &form).await;
        assert_eq!(p.status, 302, "eID authorize: {}", p.text);
        p.location()
    }

    /// Signs in as `pesel` through the sandbox eID; the start page after.
    pub async fn sign_in(&mut self, pesel: &str) -> Page {
        let auth = self.begin_sign_in().await;
        let callback = self.pick_citizen(&auth, pesel).await;
        let p = self.get(&callback).await;
        assert_eq!(p.status, 303, "callback: {}", p.text);
        self.get("/citizen/").await
    }
}
