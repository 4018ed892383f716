//! The portal's OpenID Connect client for the national eID: discovery and
//! keys (cached; the keys are fetched again once when a token names an
//! unknown key, so the provider can rotate), the authorization URL with
//! PKCE S256, and the code exchange. Token checks are
//! `okaz_registry::eid::verify_id_token`, shared with the sandbox's tests.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use okaz_registry::eid::{self, Discovery, EidError, IdClaims, Jwks};
use tokio::sync::RwLock;

type Https = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Largest answer read from the provider.
const MAX_ANSWER: usize = 64 * 1024;
/// Bound on one call to the provider.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Discovery and keys are read again after this long.
const CACHE_FOR: Duration = Duration::from_secs(3600);

/// Why a sign-in could not complete.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered badly.
    #[error("eID provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the exchange (e.g. a used or forged code).
    #[error("eID provider refused the code: {0}")]
    Refused(String),
    /// The ID token failed a check.
    #[error("ID token refused: {0}")]
    Token(#[from] EidError),
    /// The client cannot be built from its configuration.
    #[error("eID client configuration: {0}")]
    Config(String),
}

struct Meta {
    discovery: Discovery,
    jwks: Jwks,
    fetched: Instant,
}

/// The eID client.
pub struct Oidc {
    issuer: String,
    client_id: String,
    redirect_uri: String,
    http: Https,
    meta: RwLock<Option<Meta>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// A client of `issuer` as `client_id`, called back at `redirect_uri`;
    /// `ca_pem` names the CA to trust (none: the public roots).
    pub fn new(
        issuer: &str,
        client_id: &str,
        redirect_uri: &str,
        ca_pem: Option<&[u8]>,
    ) -> Result<Oidc, OidcError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(TIMEOUT));
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match ca_pem {
            Some(pem) => builder
                .with_tls_config(okaz_registry::http::tls_config(pem).map_err(OidcError::Config)?),
            None => builder
                .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
                .map_err(|e| OidcError::Config(e.to_string()))?,
        };
        // Only https: codes and tokens never travel in clear.
        let https = builder.https_only().enable_http1().wrap_connector(http);
        Ok(Oidc {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            http: Client::builder(TokioExecutor::new()).build(https),
            meta: RwLock::new(None),
        })
    }

    /// The callback URL registered at the provider.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The origin of the provider's authorization endpoint (for the
    /// Content-Security-Policy's `form-action`), once discovery was read.
    pub async fn provider_origin(&self) -> Option<String> {
        let meta = self.meta.read().await;
        let url = url::Url::parse(&meta.as_ref()?.discovery.authorization_endpoint).ok()?;
        Some(url.origin().ascii_serialization())
    }

    async fn send(&self, req: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), OidcError> {
        let fut = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| OidcError::Unavailable(e.to_string()))?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| OidcError::Unavailable("answer too large or cut".into()))?
                .to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(TIMEOUT, fut)
            .await
            .map_err(|_| OidcError::Unavailable(format!("no answer within {TIMEOUT:?}")))?
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let req = http::Request::get(url)
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| OidcError::Config(e.to_string()))?;
        let (status, body) = self.send(req).await?;
        if status != 200 {
            return Err(OidcError::Unavailable(format!("HTTP {status} from {url}")));
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::Unavailable(format!("{url}: {e}")))
    }

    /// Reads discovery and keys (again, if `refresh` or the cache is old).
    async fn load(&self, refresh: bool) -> Result<(), OidcError> {
        if !refresh {
            if let Some(m) = self.meta.read().await.as_ref() {
                if m.fetched.elapsed() < CACHE_FOR {
                    return Ok(());
                }
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await?;
        // OIDC Discovery 4.3: the issuer must be exactly the one configured.
        if discovery.issuer != self.issuer {
            return Err(OidcError::Unavailable(
                "discovery names another issuer".into(),
            ));
        }
        if !discovery
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
        {
            return Err(OidcError::Unavailable(
                "provider does not offer PKCE S256".into(),
            ));
        }
        let jwks: Jwks = self.get_json(&discovery.jwks_uri).await?;
        *self.meta.write().await = Some(Meta {
            discovery,
            jwks,
            fetched: Instant::now(),
        });
        Ok(())
    }

    /// Where to send the browser to sign in.
    pub async fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
        lang: &str,
    ) -> Result<String, OidcError> {
        self.load(false).await?;
        let meta = self.meta.read().await;
        let m = meta
            .as_ref()
            .ok_or_else(|| OidcError::Unavailable("no discovery".into()))?;
        let mut url = url::Url::parse(&m.discovery.authorization_endpoint)
            .map_err(|e| OidcError::Unavailable(format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", "openid")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &eid::pkce_challenge(verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("ui_locales", lang);
        Ok(url.into())
    }

    /// Whether an `iss` given on the callback (RFC 9207) is our provider's.
    pub fn issuer_matches(&self, iss: &str) -> bool {
        iss == self.issuer
    }

    /// Exchanges the code (with the PKCE verifier) and verifies the ID
    /// token: signature by the provider's key, issuer, audience, nonce, time.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<IdClaims, OidcError> {
        self.load(false).await?;
        let token_endpoint = {
            let meta = self.meta.read().await;
            meta.as_ref()
                .map(|m| m.discovery.token_endpoint.clone())
                .ok_or_else(|| OidcError::Unavailable("no discovery".into()))?
        };
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("client_id", &self.client_id)
            .append_pair("code_verifier", verifier)
            .finish();
        let req = http::Request::post(&token_endpoint)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| OidcError::Config(e.to_string()))?;
        let (status, body) = self.send(req).await?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            id_token: Option<String>,
            error: Option<String>,
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| OidcError::Unavailable(format!("token endpoint: HTTP {status}")))?;
        let id_token = match (status, answer.id_token) {
            (200, Some(t)) => t,
            (400..=499, _) => {
                return Err(OidcError::Refused(
                    answer.error.unwrap_or_else(|| format!("HTTP {status}")),
                ))
            }
            _ => {
                return Err(OidcError::Unavailable(format!(
                    "token endpoint: HTTP {status}"
                )))
            }
        };
        match self.verify(&id_token, nonce, now).await {
            // The provider may have rotated its key since we read the set.
            Err(OidcError::Token(EidError::UnknownKey)) => {
                self.load(true).await?;
                self.verify(&id_token, nonce, now).await
            }
            other => other,
        }
    }

    async fn verify(&self, id_token: &str, nonce: &str, now: i64) -> Result<IdClaims, OidcError> {
        let meta = self.meta.read().await;
        let m = meta
            .as_ref()
            .ok_or_else(|| OidcError::Unavailable("no keys".into()))?;
        Ok(eid::verify_id_token(
            id_token,
            &m.jwks,
            &m.discovery.issuer,
            &self.client_id,
            nonce,
            now,
        )?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    //! The portal's use of the shared verifier: a token must be signed by
    //! the provider's key and name our client, the issuer and our nonce.

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};

    use super::*;

    const ISS: &str = "https://eid.example/oidc";

    fn key() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
    }

    fn token(k: &EcdsaKeyPair, kid: &str, claims: serde_json::Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#));
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{p}");
        let sig = k.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    fn claims(aud: &str, nonce: &str) -> serde_json::Value {
        serde_json::json!({
            "iss": ISS, "sub": "s1", "aud": aud, "exp": 2_000, "iat": 1_000,
            "nonce": nonce, "pesel": "44051401359",
            "given_name": "Jan", "family_name": "Kowalski"
        })
    }

    async fn client_trusting(k: &EcdsaKeyPair) -> (Oidc, String) {
        let jwk = eid::Jwk::es256(k.public_key().as_ref()).unwrap();
        let kid = jwk.kid.clone().unwrap();
        let o = Oidc::new(ISS, "okaz", "https://okaz.example/citizen/callback", None).unwrap();
        let discovery: Discovery = serde_json::from_value(serde_json::json!({
            "issuer": ISS,
            "authorization_endpoint": format!("{ISS}/authorize"),
            "token_endpoint": format!("{ISS}/token"),
            "jwks_uri": format!("{ISS}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"]
        }))
        .unwrap();
        *o.meta.write().await = Some(Meta {
            discovery,
            jwks: Jwks { keys: vec![jwk] },
            fetched: Instant::now(),
        });
        (o, kid)
    }

    #[tokio::test]
    async fn only_the_providers_signature_our_audience_and_nonce_pass() {
        let provider = key();
        let (o, kid) = client_trusting(&provider).await;
        let good = token(&provider, &kid, claims("okaz", "n1"));
        let c = o.verify(&good, "n1", 1_500).await.unwrap();
        assert_eq!(c.pesel.expose(), "44051401359");

        // Signed by someone else's key under the provider's key id.
        let forged = token(&key(), &kid, claims("okaz", "n1"));
        assert!(matches!(
            o.verify(&forged, "n1", 1_500).await,
            Err(OidcError::Token(EidError::Signature))
        ));
        // A changed payload under the provider's signature.
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims("okaz", "n1").to_string().replace("Jan", "Ewa"));
        assert!(matches!(
            o.verify(&parts.join("."), "n1", 1_500).await,
            Err(OidcError::Token(EidError::Signature))
        ));
        assert!(matches!(
            o.verify(&good, "another-nonce", 1_500).await,
            Err(OidcError::Token(EidError::Nonce))
        ));
        let other_client = token(&provider, &kid, claims("someone-else", "n1"));
        assert!(matches!(
            o.verify(&other_client, "n1", 1_500).await,
            Err(OidcError::Token(EidError::Audience))
        ));
        assert!(matches!(
            o.verify(&good, "n1", 2_000).await,
            Err(OidcError::Token(EidError::Expired))
        ));
    }

    #[tokio::test]
    async fn the_authorization_url_carries_pkce_state_and_nonce() {
        let (o, _) = client_trusting(&key()).await;
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let url =
            url::Url::parse(&o.authorize_url("st", "no", verifier, "en").await.unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            q["code_challenge"],
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!((q["state"].as_str(), q["nonce"].as_str()), ("st", "no"));
        assert_eq!(q["redirect_uri"], "https://okaz.example/citizen/callback");
        assert!(
            !url.as_str().contains(verifier),
            "the verifier never leaves"
        );
        assert!(o.issuer_matches(ISS) && !o.issuer_matches("https://evil.example/oidc"));
    }
}
