//! OpenID Connect provider for the citizen portal: the national eID stand-in.
//!
//! Authorization code flow with PKCE (S256 only), ES256-signed ID tokens and
//! a JWKS, discovery at both `/.well-known/openid-configuration` and
//! `/oidc/.well-known/openid-configuration`. Instead of a password the tester
//! picks a synthetic citizen on an HTML page; the same form is trivially
//! scriptable (`POST /oidc/authorize` with `pesel=` and the hidden fields).
//! The relying-party checks live in [`okaz_registry::eid`].
//!
//! The provider knows nothing of the register server that routes to it: it
//! gets its own state and the [`Directory`] of the population, so the
//! dependency runs one way (server → oidc).

mod codes;
mod keys;
mod pages;
mod request;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use okaz_protocol::Pesel;
use rand::Rng as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::directory::{Directory, Subject};
use crate::respond::{json, reply, text, Resp};
use crate::sync::lock;
use codes::{CodeStore, Grant, CODE_TTL_SECS};
use request::AuthRequest;

/// Lifetime of ID and access tokens. Short: the portal turns the ID token
/// into its own session at once.
const TOKEN_TTL_SECS: i64 = 300;
/// Largest form body accepted (the picker's form is well under 4 KiB).
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Citizens offered per scenario on the picker.
const PER_GROUP: usize = 3;
/// Scenarios on the picker, chosen for what the portal must handle: a phone
/// to activate with, no phone on record, and a contact reservation.
const GROUPS: [(&str, &str); 3] = [
    ("contactable", "Phone on record / Telefon w rejestrze"),
    ("no_phone", "No phone on record / Brak telefonu"),
    (
        "reserved_contact",
        "Contact reserved / Zastrzeżenie kontaktu",
    ),
];
/// The eIDAS level of assurance the Polish national node reports for a
/// trusted profile or e-ID card sign-in.
const ACR: &str = "http://eidas.europa.eu/LoA/substantial";

/// The provider's state: issuer, signing key, pending codes, test clock.
pub(crate) struct Provider {
    issuer: String,
    signer: keys::Signer,
    codes: Mutex<CodeStore>,
    /// Seconds added to the wall clock: lets tests age codes and tokens.
    clock_offset: AtomicI64,
    picker: OnceLock<Vec<(&'static str, &'static str, Vec<Subject>)>>,
}

impl Provider {
    /// A provider for `issuer` (the sandbox base URL + `oidc`) with a fresh key.
    pub(crate) fn new(issuer: String) -> Result<Provider, String> {
        Ok(Provider {
            issuer,
            signer: keys::Signer::generate()?,
            codes: Mutex::new(CodeStore::default()),
            clock_offset: AtomicI64::new(0),
            picker: OnceLock::new(),
        })
    }

    /// Moves the provider's clock forward (test tooling).
    pub(crate) fn advance_clock(&self, secs: i64) {
        self.clock_offset.fetch_add(secs, Ordering::Relaxed);
    }

    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset.load(Ordering::Relaxed)
    }

    fn endpoint(&self, name: &str) -> String {
        format!("{}/{name}", self.issuer)
    }
}

/// Answers OIDC paths.
pub(crate) async fn handle(
    p: &Provider,
    people: Directory,
    req: Request<Incoming>,
    segs: &[&str],
    q: &HashMap<String, String>,
) -> Resp {
    let method = req.method().clone();
    match segs {
        [".well-known", "openid-configuration"]
        | ["oidc", ".well-known", "openid-configuration"]
        | [".well-known", "openid-configuration", "oidc"] => match method {
            Method::GET => no_store(json(StatusCode::OK, &discovery(p))),
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        },
        ["oidc", "jwks"] => match method {
            Method::GET => json(StatusCode::OK, &p.signer.jwks()),
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        },
        ["oidc", "authorize"] => match method {
            Method::GET => authorize_page(p, people, q),
            Method::POST => match read_form(req).await {
                Ok(form) => authorize_post(p, people, &form),
                Err(msg) => html(StatusCode::BAD_REQUEST, pages::error(msg)),
            },
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        },
        ["oidc", "token"] => match method {
            Method::POST => match read_form(req).await {
                Ok(form) => token(p, people, &form),
                Err(msg) => token_error(StatusCode::BAD_REQUEST, "invalid_request", msg),
            },
            _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        },
        _ => text(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

/// OpenID Provider Metadata (OIDC Discovery 1.0 section 3).
fn discovery(p: &Provider) -> serde_json::Value {
    serde_json::json!({
        "issuer": p.issuer,
        "authorization_endpoint": p.endpoint("authorize"),
        "token_endpoint": p.endpoint("token"),
        "jwks_uri": p.endpoint("jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "scopes_supported": ["openid"],
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr",
            "pesel", "given_name", "family_name"
        ],
        "acr_values_supported": [ACR],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

fn authorize_page(p: &Provider, people: Directory, q: &HashMap<String, String>) -> Resp {
    let req = match request::validate(q) {
        Ok(r) => r,
        Err(msg) => return html(StatusCode::BAD_REQUEST, pages::error(&msg)),
    };
    // The scan is short (the tags are common) and done once per sandbox.
    let groups = p.picker.get_or_init(|| {
        GROUPS
            .iter()
            .map(|(tag, label)| {
                let found = people.find(Some(tag), 0, PER_GROUP);
                (*tag, *label, found)
            })
            .collect()
    });
    html(StatusCode::OK, pages::picker(&req, groups))
}

fn authorize_post(p: &Provider, people: Directory, form: &HashMap<String, String>) -> Resp {
    let req = match request::validate(form) {
        Ok(r) => r,
        Err(msg) => return html(StatusCode::BAD_REQUEST, pages::error(&msg)),
    };
    // From here on redirect_uri is one of the allowed local callbacks, so
    // answering the client through it is safe.
    if form.get("action").map(String::as_str) == Some("cancel") {
        return redirect_back(p, &req, &[("error", "access_denied")]);
    }
    let chosen = form
        .get("subject")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .or_else(|| form.get("pesel").map(|s| s.trim()));
    let Some(chosen) = chosen.filter(|s| !s.is_empty()) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("Choose a citizen, or type an index or PESEL."),
        );
    };
    let Some(index) = resolve(people, chosen) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error(
                "No such citizen in this sandbox's population (give an index or a PESEL).",
            ),
        );
    };
    let now = p.now();
    let code = random_token();
    let grant = Grant {
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        nonce: req.nonce.clone(),
        citizen: index,
        auth_time: now,
        expires_at: now + CODE_TTL_SECS,
    };
    if !lock(&p.codes).insert(code.clone(), grant, now) {
        return html(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::error("Too many sign-ins in progress; try again in a minute."),
        );
    }
    tracing::info!(client_id = %req.client_id, "eID authorization code issued");
    redirect_back(p, &req, &[("code", &code)])
}

/// The population index of an index or a PESEL typed by the tester.
fn resolve(people: Directory, input: &str) -> Option<u64> {
    if input.len() == 11 {
        let pesel = Pesel::parse(input).ok()?;
        return people.index_of(&pesel);
    }
    input.parse::<u64>().ok().filter(|i| *i < people.population)
}

/// 302 to the client's callback with `params`, `state` and `iss` (RFC 9207,
/// so a client talking to several providers can tell which one answered).
fn redirect_back(p: &Provider, req: &AuthRequest, params: &[(&str, &str)]) -> Resp {
    let Ok(mut url) = url::Url::parse(&req.redirect_uri) else {
        return html(
            StatusCode::BAD_REQUEST,
            pages::error("redirect_uri is not a URL"),
        );
    };
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
        pairs.append_pair("state", &req.state);
        pairs.append_pair("iss", &p.issuer);
    }
    let mut r = no_store(reply(StatusCode::FOUND, "text/plain; charset=utf-8", ""));
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}

/// The claims of the sandbox's ID token, in the shape login.gov.pl-like
/// providers release them.
#[derive(Serialize)]
struct IdToken<'a> {
    iss: &'a str,
    sub: String,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    nonce: &'a str,
    acr: &'a str,
    pesel: String,
    given_name: String,
    family_name: String,
}

/// The stable subject of a PESEL: the same citizen gets the same `sub` on
/// every start and seed, without the PESEL itself being the identifier.
fn subject_of(pesel: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"okaz-sandbox-eid-sub\0");
    h.update(pesel.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

fn token(p: &Provider, people: Directory, form: &HashMap<String, String>) -> Resp {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type") {
        Some("authorization_code") => {}
        Some(_) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only authorization_code is supported",
            )
        }
        None => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "missing grant_type",
            )
        }
    }
    let (Some(code), Some(redirect_uri), Some(client_id)) =
        (field("code"), field("redirect_uri"), field("client_id"))
    else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code, redirect_uri and client_id are required",
        );
    };
    let Some(verifier) = field("code_verifier") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier is required (PKCE)",
        );
    };
    if !okaz_registry::eid::is_valid_pkce_verifier(verifier) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]",
        );
    }
    let now = p.now();
    let grant = match lock(&p.codes).redeem(code, client_id, redirect_uri, verifier, now) {
        Ok(g) => g,
        Err(refusal) => {
            tracing::info!(reason = refusal.description(), "eID code exchange refused");
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                refusal.description(),
            );
        }
    };
    let c = people.citizen(grant.citizen);
    let pesel = c.pesel.expose();
    let claims = IdToken {
        iss: &p.issuer,
        sub: subject_of(&pesel),
        aud: &grant.client_id,
        exp: now + TOKEN_TTL_SECS,
        iat: now,
        auth_time: grant.auth_time,
        nonce: &grant.nonce,
        acr: ACR,
        pesel,
        given_name: c.given_names.join(" "),
        family_name: c.surname.clone(),
    };
    let id_token = match p.signer.sign(&claims) {
        Ok(t) => t,
        Err(_) => {
            return token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "could not sign the ID token",
            )
        }
    };
    tracing::info!(client_id = %grant.client_id, "eID tokens issued");
    no_store(json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": random_token(),
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL_SECS,
            "scope": "openid",
            "id_token": id_token,
        }),
    ))
}

/// An RFC 6749 5.2 error answer.
fn token_error(status: StatusCode, error: &str, description: &str) -> Resp {
    no_store(json(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    ))
}

/// 256 random bits, base64url: codes and access tokens.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a form body; a parameter given twice is refused (RFC 6749 3.1),
/// because which copy wins would otherwise be an accident of parsing.
async fn read_form(req: Request<Incoming>) -> Result<HashMap<String, String>, &'static str> {
    let body = Limited::new(req.into_body(), MAX_FORM_BYTES)
        .collect()
        .await
        .map_err(|_| "request body too large or unreadable")?
        .to_bytes();
    let mut form = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body).into_owned() {
        if form.insert(k, v).is_some() {
            return Err("a parameter appears more than once");
        }
    }
    Ok(form)
}

fn set(r: &mut Resp, name: &'static str, value: &'static str) {
    r.headers_mut().insert(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    );
}

/// Tokens and codes must not be cached by anything on the way (RFC 6749 5.1).
fn no_store(mut r: Resp) -> Resp {
    set(&mut r, "cache-control", "no-store");
    set(&mut r, "pragma", "no-cache");
    r
}

/// An HTML answer that cannot be framed, scripted or leak its URL (the query
/// holds state and nonce) through the Referer header.
fn html(status: StatusCode, body: String) -> Resp {
    let mut r = no_store(reply(status, "text/html; charset=utf-8", body));
    // No form-action directive: browsers apply it to the redirect that
    // follows the form post, which goes to the client's callback origin.
    set(
        &mut r,
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(&mut r, "x-frame-options", "DENY");
    set(&mut r, "x-content-type-options", "nosniff");
    set(&mut r, "referrer-policy", "no-referrer");
    r
}
