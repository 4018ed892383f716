//! The citizen portal (`/citizen/…`): sign-in through the national eID
//! (OpenID Connect, code + PKCE), activation by a code sent to the phone in
//! the contact register, deactivation, and the history of checks.
//!
//! Server-rendered HTML without script. The portal keeps nothing about the
//! citizen in the database beyond what the broker already keeps (the
//! activation and the audit, by pseudonym): the session is a sealed cookie
//! (see [`session`]). Every form carries a CSRF token ([`csrf`]).
//!
//! Routes: `GET /citizen/` start page · `GET /citizen/login` → eID ·
//! `GET /citizen/callback` ← eID · `GET /citizen/activate`,
//! `POST /citizen/activate/send`, `GET|POST /citizen/activate/code` ·
//! `POST /citizen/deactivate` · `GET /citizen/history?page=N` ·
//! `POST /citizen/logout` · `GET /citizen/static/portal.css`.
//!
//! Its own crate because it is its own program in all but process: it
//! reaches the broker's data only through `okaz_core::broker::Broker`'s
//! methods, never its store.

mod account;
mod config;
pub mod csrf;
pub mod disputes;
pub mod history;
pub mod i18n;
pub mod oidc;
pub mod pages;
pub mod session;
mod signin;
pub mod web;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use web::RequestBody;

pub use config::PortalConfig;
use i18n::Lang;
use okaz_core::broker::Broker;
use okaz_core::broker::Keys;
use okaz_core::pseudonym::{SecretError, SecretKey};
use pages::Ctx;
use session::{Sealer, Session};
use web::Resp;

/// Name of the cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "__Host-okaz_lang";

/// Why the portal could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// A key could not be derived.
    #[error("portal keys: {0}")]
    Secret(#[from] SecretError),
    /// The eID client could not be built.
    #[error(transparent)]
    Oidc(#[from] oidc::OidcError),
    /// The public URL cannot carry the callback.
    #[error("portal public_url: {0}")]
    Url(String),
}

/// The portal's parts.
pub struct Portal {
    oidc: oidc::Oidc,
    sealer: Sealer,
    /// CSRF tokens.
    key: SecretKey,
    idle_secs: i64,
    max_secs: i64,
    /// `scheme://host[:port]` of the public URL: the only accepted `Origin`.
    origin: String,
}

impl std::fmt::Debug for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portal")
            .field("oidc", &self.oidc)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Portal {
    /// Builds the portal from its configuration; `ca_pem` is the eID's CA.
    pub fn new(
        cfg: &PortalConfig,
        keys: &Keys,
        ca_pem: Option<&[u8]>,
    ) -> Result<Portal, PortalError> {
        // Cookies and forms have their own key, never the challenge key's.
        let portal_key = keys.cookie.current().1.clone();
        let callback = cfg
            .public_url
            .join("citizen/callback")
            .map_err(|e| PortalError::Url(e.to_string()))?;
        if cfg.public_url.scheme() != "https" {
            return Err(PortalError::Url(
                "must be https (cookies are Secure)".into(),
            ));
        }
        let issuer = cfg.oidc_issuer.as_str();
        // `Url` adds a slash to a bare host; an issuer with a path keeps its form.
        let issuer = if cfg.oidc_issuer.path() == "/" {
            issuer.trim_end_matches('/')
        } else {
            issuer
        };
        Ok(Portal {
            oidc: oidc::Oidc::new(issuer, &cfg.client_id, callback.as_str(), ca_pem)?,
            sealer: Sealer::new(&keys.cookie)?,
            key: portal_key.derive("okaz/portal/forms")?,
            idle_secs: i64::try_from(cfg.session_idle_secs).unwrap_or(i64::MAX),
            max_secs: i64::try_from(cfg.session_max_secs).unwrap_or(i64::MAX),
            origin: cfg.public_url.origin().ascii_serialization(),
        })
    }
}

/// What a handler knows about the request.
pub(crate) struct Visit {
    lang: Lang,
    /// `?lang=` was given: remember it.
    lang_chosen: bool,
    path: String,
    /// The live session, if any.
    session: Option<Session>,
    /// A session cookie was sent but has ended (or does not open).
    ended: bool,
    now: chrono::DateTime<chrono::Utc>,
    form_to: Option<String>,
    /// The query string, read once (first value of each key).
    query: std::collections::HashMap<String, String>,
}

impl Visit {
    fn ctx(&self, portal: &Portal) -> Ctx {
        Ctx {
            lang: self.lang,
            csrf: self
                .session
                .as_ref()
                .map(|s| csrf::token(&portal.key, &s.sid)),
            here: self.path.clone(),
        }
    }

    fn html(&self, status: StatusCode, body: String) -> Resp {
        web::html(status, body, self.form_to.as_deref())
    }

    fn redirect(&self, to: &str) -> Resp {
        web::redirect(to, self.form_to.as_deref())
    }

    fn message(&self, portal: &Portal, status: StatusCode, title: &str, text: &str) -> Resp {
        let alert = !status.is_success();
        self.html(
            status,
            pages::message(&self.ctx(portal), title, text, alert),
        )
    }
}

/// A failure of ours: logged (without the citizen), and the visitor told
/// only that something went wrong.
pub(crate) fn internal(portal: &Portal, v: &Visit, what: &str, e: &dyn std::fmt::Display) -> Resp {
    tracing::error!(error = %e, what, "portal failure");
    let t = v.lang.t();
    v.message(
        portal,
        StatusCode::INTERNAL_SERVER_ERROR,
        t.error_title,
        t.internal,
    )
}

/// Answers a request under `/citizen`.
pub async fn handle<B: RequestBody>(
    portal: Option<&Portal>,
    broker: &Broker,
    req: Request<B>,
) -> Response<Full<Bytes>> {
    let Some(portal) = portal else {
        let lang = lang_of(&req).0;
        let ctx = Ctx {
            lang,
            csrf: None,
            here: "/citizen/".into(),
        };
        let t = lang.t();
        return web::html(
            StatusCode::NOT_FOUND,
            pages::message(&ctx, t.error_title, t.not_configured, true),
            None,
        );
    };
    let now = broker.clock.now();
    let (lang, lang_chosen) = lang_of(&req);
    let (session, ended) = match web::cookie(&req, session::SESSION_COOKIE) {
        None => (None, false),
        Some(c) => match portal
            .sealer
            .open_json::<Session>(session::PURPOSE_SESSION, &c)
            .filter(|s| session::alive(s, now.timestamp(), portal.idle_secs, portal.max_secs))
        {
            // A signed-out session's cookie is refused on every replica; if
            // the store cannot say, the session is treated as ended.
            Some(s) => match broker.portal_session_ended(&s.sid).await {
                Ok(false) => (Some(s), false),
                Ok(true) | Err(_) => (None, true),
            },
            None => (None, true),
        },
    };
    let mut v = Visit {
        lang,
        lang_chosen,
        path: req.uri().path().to_string(),
        session,
        ended,
        now,
        form_to: portal.oidc.provider_origin().await,
        query: web::query(&req),
    };
    let method = req.method().clone();
    let path = v.path.clone();
    let resp = match (&method, path.as_str()) {
        (&Method::GET, "/citizen") => v.redirect("/citizen/"),
        (&Method::GET, "/citizen/static/portal.css") => {
            return web::css(include_str!("portal.css"));
        }
        (&Method::GET, "/citizen/") => account::home(broker, portal, &mut v).await,
        (&Method::GET, "/citizen/login") => signin::login(portal, &mut v).await,
        (&Method::GET, "/citizen/callback") => signin::callback(broker, portal, &mut v, &req).await,
        (&Method::GET, "/citizen/activate") => account::activate_page(broker, portal, &mut v).await,
        (&Method::GET, "/citizen/activate/code") => account::code_page(portal, &mut v),
        (&Method::GET, "/citizen/history") => account::history(broker, portal, &mut v).await,
        (&Method::GET, "/citizen/receipt") => account::receipt(broker, portal, &mut v).await,
        (&Method::GET, "/citizen/notices") => disputes::notices_get(broker, portal, &mut v).await,
        (&Method::GET, "/citizen/history.json") => {
            disputes::history_json(broker, portal, &mut v).await
        }
        (&Method::GET, p) if p.starts_with("/citizen/dispute/") => {
            let rest = p.trim_start_matches("/citizen/dispute/").to_string();
            disputes::page_get(broker, portal, &mut v, &rest).await
        }
        (
            &Method::POST,
            p @ ("/citizen/activate/send"
            | "/citizen/activate/code"
            | "/citizen/deactivate"
            | "/citizen/dispute"
            | "/citizen/notices"
            | "/citizen/logout"),
        ) => {
            let p = p.to_string();
            post(broker, portal, &mut v, req, &p).await
        }
        _ => {
            let t = v.lang.t();
            v.message(portal, StatusCode::NOT_FOUND, t.error_title, t.not_found)
        }
    };
    finish(portal, &v, resp)
}

/// The forms: the session must be live, the request must come from our
/// own pages (`Origin`, when the browser sends it) and carry the token.
async fn post<B: RequestBody>(
    broker: &Broker,
    portal: &Portal,
    visit: &mut Visit,
    req: Request<B>,
    path: &str,
) -> Resp {
    let t = visit.lang.t();
    // Defence in depth beside the token: a browser says where a form came
    // from. `null` is what it sends under our `no-referrer` policy.
    let h = req.headers();
    let origin_ok = h
        .get(http::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_none_or(|o| o == portal.origin || o == "null")
        && h.get("sec-fetch-site").and_then(|o| o.to_str().ok()) != Some("cross-site");
    let Some(sid) = visit.session.as_ref().map(|s| s.sid.clone()) else {
        return signin::ended(portal, visit);
    };
    let form = web::form(req).await;
    let token_ok = form
        .as_ref()
        .is_some_and(|f| csrf::valid(&portal.key, &sid, f.get(csrf::FIELD).map(String::as_str)));
    if !origin_ok || !token_ok {
        tracing::warn!(
            route = path,
            origin_ok,
            "portal form refused: CSRF check failed"
        );
        return visit.message(portal, StatusCode::FORBIDDEN, t.error_title, t.form_refused);
    }
    let form = form.unwrap_or_default();
    match path {
        "/citizen/activate/send" => account::send_code(broker, portal, visit).await,
        "/citizen/activate/code" => account::check_code(broker, portal, visit, &form).await,
        "/citizen/deactivate" => account::deactivate(broker, portal, visit).await,
        "/citizen/dispute" => disputes::submit(broker, portal, visit, &form).await,
        "/citizen/notices" => disputes::notices_post(broker, portal, visit, &form).await,
        _ => signin::logout(broker, portal, visit).await,
    }
}

/// The language: `?lang=`, else the remembered choice, else the browser's.
fn lang_of<B>(req: &Request<B>) -> (Lang, bool) {
    if let Some(l) = web::query(req).get("lang").and_then(|l| Lang::parse(l)) {
        return (l, true);
    }
    let remembered = web::cookie(req, LANG_COOKIE).and_then(|l| Lang::parse(&l));
    let accepted = || {
        req.headers()
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept)
    };
    (remembered.or_else(accepted).unwrap_or(Lang::Pl), false)
}

/// Finishes an answer for a signed-in visit: the session cookie again with
/// the new time of last use (the idle limit counts from it), and the
/// language choice when one was made.
fn finish(portal: &Portal, visit: &Visit, mut resp: Resp) -> Resp {
    if visit.lang_chosen {
        resp = web::with_cookie(
            resp,
            &web::set_cookie(LANG_COOKIE, visit.lang.tag(), 365 * 24 * 3600),
        );
    }
    if let Some(s) = &visit.session {
        let mut s = s.clone();
        s.seen = visit.now.timestamp();
        if let Some(sealed) = portal.sealer.seal_json(session::PURPOSE_SESSION, &s) {
            let left = portal.max_secs - (s.seen - s.signed_in);
            resp = web::with_cookie(
                resp,
                &web::set_cookie(session::SESSION_COOKIE, &sealed, left),
            );
        }
    } else if visit.ended {
        resp = web::with_cookie(resp, &web::clear_cookie(session::SESSION_COOKIE));
    }
    resp
}
