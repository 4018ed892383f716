//! The sandbox eID (OpenID Connect provider) over real HTTPS: discovery, the
//! citizen picker, code + PKCE exchange, ID token verification with
//! `okaz_registry::eid`, and every refusal a relying party depends on.

// Test helpers outside #[test] fns may fail loudly: that is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use okaz_registry::eid::{pkce_challenge, verify_id_token, Discovery, EidError, IdClaims, Jwks};
use okaz_sandbox::Sandbox;

const CLIENT: &str = "okaz-portal";
const REDIRECT: &str = "https://127.0.0.1:9443/citizen/callback";
const VERIFIER: &str = "portal-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
const NONCE: &str = "nonce-Zk3P";
const STATE: &str = "state-9fQ1";

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client that trusts the sandbox CA, sends bodies, and never follows
/// redirects (hyper does not), so a 302 is seen as it is.
struct Http {
    client: HttpsClient,
    base: url::Url,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Http {
    fn new(sb: &Sandbox) -> Http {
        let tls = okaz_registry::http::tls_config(sb.ca_pem.as_bytes()).unwrap();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Http {
            client: Client::builder(TokioExecutor::new()).build(https),
            base: sb.base_url(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path_or_url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Answer {
        let url = self.base.join(path_or_url).unwrap();
        let mut b = Request::builder().method(method).uri(url.as_str());
        let body = match form {
            Some(pairs) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish()
            }
            None => String::new(),
        };
        let resp = tokio::time::timeout(
            Duration::from_secs(10),
            self.client
                .request(b.body(Full::new(Bytes::from(body))).unwrap()),
        )
        .await
        .expect("sandbox answers in time")
        .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8(body.to_vec()).unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, path, Some(form)).await
    }
}

/// The authorization request parameters a portal sends, as form pairs.
fn auth_params<'a>(challenge: &'a str, redirect: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", redirect),
        ("scope", "openid"),
        ("state", STATE),
        ("nonce", NONCE),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

fn authorize_url(pairs: &[(&str, &str)]) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oidc/authorize?{q}")
}

/// The query of a redirect's Location, asserting it goes to `REDIRECT`.
fn callback_query(a: &Answer) -> HashMap<String, String> {
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let loc = url::Url::parse(a.header("location").expect("Location")).unwrap();
    assert!(loc.as_str().starts_with(REDIRECT), "{loc}");
    loc.query_pairs().into_owned().collect()
}

/// Signs in as `who` (a form field: `pesel` or `subject`) through the
/// scriptable picker POST and returns the authorization code.
async fn sign_in(http: &Http, who: (&str, &str)) -> String {
    let challenge = pkce_challenge(VERIFIER);
    let mut form = auth_params(&challenge, REDIRECT);
    form.push(who);
    let q = callback_query(&http.post("/oidc/authorize", &form).await);
    assert_eq!(q["state"], STATE);
    q["code"].clone()
}

async fn exchange(http: &Http, code: &str, verifier: &str) -> Answer {
    http.post(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn fetch_jwks(http: &Http) -> Jwks {
    serde_json::from_str(&http.get("/oidc/jwks").await.body).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A valid ID token for a contactable citizen, with the JWKS and issuer.
async fn id_token(sb: &Sandbox, http: &Http) -> (String, Jwks, String) {
    let pesel = sb.find("contactable", 1)[0].pesel.clone();
    let code = sign_in(http, ("pesel", &pesel)).await;
    let t = exchange(http, &code, VERIFIER).await.json();
    let token = t["id_token"].as_str().unwrap().to_string();
    (token, fetch_jwks(http).await, sb.oidc_issuer())
}

fn verify(token: &str, jwks: &Jwks, iss: &str) -> Result<IdClaims, EidError> {
    verify_id_token(token, jwks, iss, CLIENT, NONCE, now())
}

fn assert_invalid_grant(a: &Answer) {
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.json()["error"], "invalid_grant", "{}", a.body);
    assert_eq!(a.header("cache-control"), Some("no-store"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_flow_signs_in_a_picked_citizen() {
    let sb = sandbox().await;
    let http = Http::new(&sb);

    // Discovery, at the root and under the issuer path, says the same.
    let d = http.get("/.well-known/openid-configuration").await;
    assert_eq!(d.status, StatusCode::OK);
    let disc: Discovery = serde_json::from_str(&d.body).unwrap();
    let under_issuer = http.get("/oidc/.well-known/openid-configuration").await;
    assert_eq!(
        serde_json::from_str::<Discovery>(&under_issuer.body).unwrap(),
        disc
    );
    assert_eq!(disc.issuer, sb.oidc_issuer());
    assert_eq!(
        disc.issuer,
        format!("https://127.0.0.1:{}/oidc", sb.addr.port())
    );
    assert_eq!(
        disc.authorization_endpoint,
        format!("{}/authorize", disc.issuer)
    );
    assert_eq!(disc.token_endpoint, format!("{}/token", disc.issuer));
    assert_eq!(disc.response_types_supported, ["code"]);
    assert_eq!(disc.grant_types_supported, ["authorization_code"]);
    assert_eq!(disc.code_challenge_methods_supported, ["S256"]);
    assert_eq!(disc.id_token_signing_alg_values_supported, ["ES256"]);
    assert!(disc.scopes_supported.contains(&"openid".to_string()));
    for c in ["sub", "pesel", "given_name", "family_name", "nonce"] {
        assert!(disc.claims_supported.iter().any(|x| x == c), "{c}");
    }
    let jwks: Jwks = serde_json::from_str(&http.get(&disc.jwks_uri).await.body).unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let k = &jwks.keys[0];
    assert_eq!((k.kty.as_str(), k.crv.as_deref()), ("EC", Some("P-256")));
    assert_eq!(
        (k.alg.as_deref(), k.use_.as_deref()),
        (Some("ES256"), Some("sig"))
    );

    // The picker lists citizens per scenario, carrying the request in hidden fields.
    let challenge = pkce_challenge(VERIFIER);
    let page = http
        .get(&authorize_url(&auth_params(&challenge, REDIRECT)))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(page
        .body
        .contains(r#"<form method="post" action="/oidc/authorize">"#));
    assert!(page
        .body
        .contains(&format!(r#"name="nonce" value="{NONCE}""#)));
    assert!(page
        .body
        .contains(&format!(r#"name="code_challenge" value="{challenge}""#)));
    for tag in ["contactable", "no_phone", "reserved_contact"] {
        let s = &sb.find(tag, 1)[0];
        assert!(page.body.contains(&s.pesel), "{tag} citizen listed");
    }

    // Pick a citizen as a browser would post the form.
    let who = &sb.find("contactable", 1)[0];
    let mut form = auth_params(&challenge, REDIRECT);
    form.push(("pesel", &who.pesel));
    form.push(("action", "sign_in"));
    let q = callback_query(&http.post("/oidc/authorize", &form).await);
    assert_eq!(q["state"], STATE);
    assert_eq!(q["iss"], disc.issuer);
    let code = &q["code"];
    assert!(code.len() >= 40);

    let t = exchange(&http, code, VERIFIER).await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.body);
    assert_eq!(t.header("cache-control"), Some("no-store"));
    let t = t.json();
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["access_token"].as_str().is_some_and(|a| !a.is_empty()));
    assert!(t["expires_in"].as_i64().is_some_and(|e| e > 0));
    let token = t["id_token"].as_str().unwrap();

    let claims = verify_id_token(token, &jwks, &disc.issuer, CLIENT, NONCE, now()).unwrap();
    let citizen = sb.citizen(who.index);
    assert_eq!(claims.pesel.expose(), who.pesel);
    assert_eq!(claims.given_name, citizen.given_names.join(" "));
    assert_eq!(claims.family_name, citizen.surname);
    assert_eq!(claims.nonce, NONCE);
    assert_eq!(claims.aud, CLIENT);
    assert!(claims.exp > now() && claims.iat <= now() + 1);
    assert!(claims.auth_time.is_some());
    // The subject is stable, and is not the PESEL itself.
    assert!(!claims.sub.contains(&who.pesel));
    let again = sign_in(&http, ("pesel", &who.pesel)).await;
    let t2 = exchange(&http, &again, VERIFIER).await.json();
    let c2 = verify(t2["id_token"].as_str().unwrap(), &jwks, &disc.issuer).unwrap();
    assert_eq!(c2.sub, claims.sub);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_index_or_pesel_picks_that_citizen() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let jwks = fetch_jwks(&http).await;
    let iss = sb.oidc_issuer();
    let by_index = sign_in(&http, ("subject", "4242")).await;
    let t = exchange(&http, &by_index, VERIFIER).await.json();
    let c = verify(t["id_token"].as_str().unwrap(), &jwks, &iss).unwrap();
    assert_eq!(c.pesel, sb.citizen(4242).pesel);

    let pesel = sb.citizen(77).pesel.expose();
    let by_pesel = sign_in(&http, ("subject", &pesel)).await;
    let t = exchange(&http, &by_pesel, VERIFIER).await.json();
    let c = verify(t["id_token"].as_str().unwrap(), &jwks, &iss).unwrap();
    assert_eq!(c.pesel.expose(), pesel);

    // Out of the population, or nobody chosen: an error page, no code.
    let challenge = pkce_challenge(VERIFIER);
    for who in [("subject", "999999999"), ("pesel", "")] {
        let mut form = auth_params(&challenge, REDIRECT);
        form.push(who);
        let a = http.post("/oidc/authorize", &form).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{who:?}");
        assert!(a.header("location").is_none());
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_verifier_is_invalid_grant() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let code = sign_in(&http, ("subject", "1")).await;
    let other = "another-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
    assert_invalid_grant(&exchange(&http, &code, other).await);
    // The failed attempt burnt the code: the right verifier is too late now.
    assert_invalid_grant(&exchange(&http, &code, VERIFIER).await);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_used_twice_is_invalid_grant_the_second_time() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let code = sign_in(&http, ("subject", "2")).await;
    assert_eq!(
        exchange(&http, &code, VERIFIER).await.status,
        StatusCode::OK
    );
    let second = exchange(&http, &code, VERIFIER).await;
    assert_invalid_grant(&second);
    assert!(second.json().get("id_token").is_none());
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let code = sign_in(&http, ("subject", "3")).await;
    sb.advance_oidc_clock(Duration::from_secs(61));
    let a = exchange(&http, &code, VERIFIER).await;
    assert_invalid_grant(&a);
    assert!(a.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_bound_to_its_client_and_redirect_uri() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    for (field, value) in [
        ("client_id", "another-client"),
        ("redirect_uri", "https://127.0.0.1:9443/citizen/other"),
    ] {
        let code = sign_in(&http, ("subject", "5")).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ];
        form.push((field, value));
        form.push(if field == "client_id" {
            ("redirect_uri", REDIRECT)
        } else {
            ("client_id", CLIENT)
        });
        assert_invalid_grant(&http.post("/oidc/token", &form).await);
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_errors_are_rfc6749_json() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[], "invalid_request"),
        (&[("grant_type", "password")], "unsupported_grant_type"),
        (
            &[("grant_type", "authorization_code"), ("code", "x")],
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "authorization_code"),
                ("code", "never-issued"),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT),
                ("code_verifier", VERIFIER),
            ],
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "authorization_code"),
            ],
            "invalid_request",
        ),
    ];
    for (form, want) in cases {
        let a = http.post("/oidc/token", form).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(a.json()["error"], want, "{form:?}");
    }
    assert_eq!(
        http.get("/oidc/token").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_id_token_fails_verification() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let (token, jwks, iss) = id_token(&sb, &http).await;
    verify(&token, &jwks, &iss).unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    // Another citizen's PESEL in the payload, signature kept.
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["pesel"] = sb.citizen(9).pesel.expose().into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(verify(&forged, &jwks, &iss), Err(EidError::Signature));

    // One bit of the signature flipped.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[10] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(&sig));
    assert_eq!(verify(&flipped, &jwks, &iss), Err(EidError::Signature));

    // alg downgraded to none with the signature stripped.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    assert_eq!(verify(&none, &jwks, &iss), Err(EidError::Algorithm));

    // Signed by another provider's key (another sandbox): no matching key.
    let other = sandbox().await;
    let other_http = Http::new(&other);
    let other_jwks = fetch_jwks(&other_http).await;
    assert_eq!(verify(&token, &other_jwks, &iss), Err(EidError::UnknownKey));
    other.shutdown().await;
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_aud_iss_nonce_or_late_use_fail_verification() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let (token, jwks, iss) = id_token(&sb, &http).await;
    let t = now();
    assert_eq!(
        verify_id_token(&token, &jwks, &iss, "other-client", NONCE, t),
        Err(EidError::Audience)
    );
    assert_eq!(
        verify_id_token(&token, &jwks, "https://127.0.0.1:1/oidc", CLIENT, NONCE, t),
        Err(EidError::Issuer)
    );
    assert_eq!(
        verify_id_token(&token, &jwks, &iss, CLIENT, "replayed-nonce", t),
        Err(EidError::Nonce)
    );
    assert_eq!(
        verify_id_token(&token, &jwks, &iss, CLIENT, NONCE, t + 3600),
        Err(EidError::Expired)
    );
    assert_eq!(
        verify_id_token(&token, &jwks, &iss, CLIENT, NONCE, t - 3600),
        Err(EidError::NotYetValid)
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_authorization_request_gets_an_error_page_not_a_redirect() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let challenge = pkce_challenge(VERIFIER);
    let mutate = |name: &'static str, value: Option<&'static str>| {
        let mut p: Vec<(&str, String)> = auth_params(&challenge, REDIRECT)
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        p.retain(|(k, _)| *k != name);
        if let Some(v) = value {
            p.push((name, v.to_string()));
        }
        p
    };
    let bad = [
        mutate("redirect_uri", Some("https://evil.example/callback")),
        mutate("redirect_uri", Some("https://127.0.0.1.evil.example/cb")),
        mutate("redirect_uri", None),
        mutate("client_id", None),
        mutate("code_challenge", None),
        mutate("code_challenge_method", Some("plain")),
        mutate("response_type", Some("token")),
        mutate("scope", Some("profile")),
        mutate("nonce", None),
    ];
    for params in &bad {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for a in [
            http.get(&authorize_url(&pairs)).await,
            http.post(
                "/oidc/authorize",
                &[pairs.clone(), vec![("pesel", "x")]].concat(),
            )
            .await,
        ] {
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{pairs:?}");
            assert!(a.header("location").is_none(), "{pairs:?}");
            assert!(a.header("content-type").unwrap().starts_with("text/html"));
            assert!(!a.body.contains("evil.example"), "values are not echoed");
        }
    }
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_returns_access_denied_to_the_client() {
    let sb = sandbox().await;
    let http = Http::new(&sb);
    let challenge = pkce_challenge(VERIFIER);
    let mut form = auth_params(&challenge, REDIRECT);
    form.push(("action", "cancel"));
    let q = callback_query(&http.post("/oidc/authorize", &form).await);
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], STATE);
    assert!(!q.contains_key("code"));
    sb.shutdown().await;
}
