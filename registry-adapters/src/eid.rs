//! The relying-party side of the national eID over OpenID Connect: the
//! provider's published documents (discovery, JWKS), ID token verification
//! and the PKCE challenge. Pure functions (the caller passes `now`), so the
//! citizen portal and the tests share one implementation of the checks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use okaz_protocol::Pesel;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only signing algorithm accepted: the sandbox and the Polish national
/// node sign with ECDSA P-256, and accepting anything else (notably `none`
/// or an HMAC keyed with the public key) is the classic JWT downgrade.
pub const ALG_ES256: &str = "ES256";

/// Upper bound on a token's length: a real ID token is well under 2 KiB, and
/// refusing early keeps base64 and JSON decoding of hostile input bounded.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// How far in the future `iat` may lie before the token is refused (clock skew
/// between provider and relying party).
pub const MAX_IAT_SKEW_SECS: i64 = 60;

/// A JSON Web Key Set (RFC 7517) as the provider's `jwks_uri` serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys; a relying party picks one by `kid`.
    pub keys: Vec<Jwk>,
}

/// One public key of a JWKS. Only EC P-256 keys are usable here; other keys
/// may appear in a set and are ignored when looking up a `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type (`EC`).
    pub kty: String,
    /// Curve (`P-256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// X coordinate, base64url without padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Y coordinate, base64url without padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Key identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended use (`sig`).
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Algorithm (`ES256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl Jwk {
    /// The JWK of an uncompressed P-256 public key (`0x04 || X || Y`, 65
    /// bytes), with its RFC 7638 thumbprint as `kid` so the identifier is
    /// derived from the key rather than chosen; `None` for any other length.
    pub fn es256(public_uncompressed: &[u8]) -> Option<Jwk> {
        if public_uncompressed.len() != 65 || public_uncompressed.first() != Some(&0x04) {
            return None;
        }
        let x = URL_SAFE_NO_PAD.encode(public_uncompressed.get(1..33)?);
        let y = URL_SAFE_NO_PAD.encode(public_uncompressed.get(33..65)?);
        // RFC 7638: the required members in lexicographic order, no spaces.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        Some(Jwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some(x),
            y: Some(y),
            kid: Some(kid),
            use_: Some("sig".into()),
            alg: Some(ALG_ES256.into()),
        })
    }

    /// The uncompressed point `0x04 || X || Y` if this is a well-formed EC
    /// P-256 signing key.
    fn p256_point(&self) -> Option<Vec<u8>> {
        if self.kty != "EC" || self.crv.as_deref() != Some("P-256") {
            return None;
        }
        if self.alg.as_deref().is_some_and(|a| a != ALG_ES256)
            || self.use_.as_deref().is_some_and(|u| u != "sig")
        {
            return None;
        }
        let x = URL_SAFE_NO_PAD.decode(self.x.as_deref()?).ok()?;
        let y = URL_SAFE_NO_PAD.decode(self.y.as_deref()?).ok()?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Some(point)
    }
}

/// The provider metadata a relying party needs from
/// `/.well-known/openid-configuration` (unknown members are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Issuer identifier; every ID token's `iss` must equal it.
    pub issuer: String,
    /// Where the browser is sent to sign in.
    pub authorization_endpoint: String,
    /// Where the code is exchanged (back channel).
    pub token_endpoint: String,
    /// Where the signing keys are published.
    pub jwks_uri: String,
    /// Supported `response_type` values.
    pub response_types_supported: Vec<String>,
    /// Supported subject identifier types.
    pub subject_types_supported: Vec<String>,
    /// Supported ID token signing algorithms.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Supported PKCE methods (absent means the provider does not say).
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// Supported grant types.
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    /// Supported scopes.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Claims the provider may release.
    #[serde(default)]
    pub claims_supported: Vec<String>,
    /// Client authentication methods at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

/// The verified claims of an ID token. `Debug` withholds the PESEL and the
/// names so that logging a value by mistake does not leak who signed in.
#[derive(Clone, PartialEq, Eq)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Stable subject identifier at this provider.
    pub sub: String,
    /// The audience that was checked (this relying party's client_id).
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: i64,
    /// When the citizen authenticated, seconds since the Unix epoch.
    pub auth_time: Option<i64>,
    /// The nonce the relying party sent (already checked).
    pub nonce: String,
    /// The citizen's PESEL, validated (length, date, check digit).
    pub pesel: Pesel,
    /// Given name(s).
    pub given_name: String,
    /// Family name.
    pub family_name: String,
}

impl std::fmt::Debug for IdClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdClaims")
            .field("iss", &self.iss)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

/// The claims as they travel (before checking).
#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    iat: i64,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    nonce: Option<String>,
    pesel: String,
    given_name: String,
    family_name: String,
}

/// `aud` is a string or an array of strings (OIDC Core 2).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// Why an ID token was refused. Messages carry no claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EidError {
    /// Not three base64url parts of JSON, too long, or a required claim missing.
    #[error("malformed ID token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than ES256, or critical extensions.
    #[error("ID token algorithm not accepted (only ES256)")]
    Algorithm,
    /// No usable P-256 key in the JWKS matches the token's `kid`.
    #[error("no matching signing key in the JWKS")]
    UnknownKey,
    /// The signature does not verify.
    #[error("ID token signature invalid")]
    Signature,
    /// `iss` differs from the expected issuer.
    #[error("ID token issuer mismatch")]
    Issuer,
    /// `aud` does not contain this client, or has other audiences too.
    #[error("ID token audience mismatch")]
    Audience,
    /// `nonce` missing or different from the one sent.
    #[error("ID token nonce mismatch")]
    Nonce,
    /// `exp` is not after `now`.
    #[error("ID token expired")]
    Expired,
    /// `iat` lies in the future beyond the allowed clock skew.
    #[error("ID token issued in the future")]
    NotYetValid,
    /// The `pesel` claim is not a valid PESEL.
    #[error("ID token carries an invalid PESEL")]
    Pesel,
}

/// The PKCE S256 challenge of a verifier: BASE64URL(SHA256(verifier)) without
/// padding (RFC 7636 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `s` is a syntactically valid PKCE verifier (RFC 7636 4.1: 43 to
/// 128 characters of `[A-Za-z0-9-._~]`).
pub fn is_valid_pkce_verifier(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Verifies an ID token: ES256 signature by a key of `jwks`, then issuer,
/// audience (exactly `expected_aud`), nonce, expiry against `now` (seconds
/// since the Unix epoch) and the PESEL's validity. The signature is checked
/// before any claim is trusted.
pub fn verify_id_token(
    token: &str,
    jwks: &Jwks,
    expected_iss: &str,
    expected_aud: &str,
    expected_nonce: &str,
    now: i64,
) -> Result<IdClaims, EidError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(EidError::Malformed("too long"));
    }
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EidError::Malformed("not three parts"));
    };
    let header: Header = decode_json(h64, "header")?;
    if header.alg != ALG_ES256 {
        return Err(EidError::Algorithm);
    }
    // No extension is understood, so any critical one must be refused (RFC 7515 4.1.11).
    if header.crit.is_some() {
        return Err(EidError::Algorithm);
    }
    let point = find_key(jwks, header.kid.as_deref()).ok_or(EidError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD
        .decode(s64)
        .map_err(|_| EidError::Malformed("signature encoding"))?;
    let signing_input_len = h64.len() + 1 + p64.len();
    let signing_input = token
        .get(..signing_input_len)
        .ok_or(EidError::Malformed("signing input"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| EidError::Signature)?;

    let raw: RawClaims = decode_json(p64, "claims")?;
    if raw.iss != expected_iss {
        return Err(EidError::Issuer);
    }
    // A token for several audiences could be replayed by another of them; the
    // eID issues one audience per token, so anything else is refused.
    let aud_ok = match &raw.aud {
        Audience::One(a) => a == expected_aud,
        Audience::Many(v) => v.len() == 1 && v.first().is_some_and(|a| a == expected_aud),
    };
    if !aud_ok {
        return Err(EidError::Audience);
    }
    if raw.nonce.as_deref() != Some(expected_nonce) {
        return Err(EidError::Nonce);
    }
    if raw.exp <= now {
        return Err(EidError::Expired);
    }
    if raw.iat > now.saturating_add(MAX_IAT_SKEW_SECS) {
        return Err(EidError::NotYetValid);
    }
    if raw.sub.is_empty() {
        return Err(EidError::Malformed("empty sub"));
    }
    let pesel = Pesel::parse(&raw.pesel).map_err(|_| EidError::Pesel)?;
    Ok(IdClaims {
        iss: raw.iss,
        sub: raw.sub,
        aud: expected_aud.to_string(),
        exp: raw.exp,
        iat: raw.iat,
        auth_time: raw.auth_time,
        nonce: expected_nonce.to_string(),
        pesel,
        given_name: raw.given_name,
        family_name: raw.family_name,
    })
}

/// The P-256 point of the key named `kid`; without a `kid`, only an
/// unambiguous set (a single usable key) is accepted.
fn find_key(jwks: &Jwks, kid: Option<&str>) -> Option<Vec<u8>> {
    let mut usable = jwks
        .keys
        .iter()
        .filter(|k| kid.is_none_or(|want| k.kid.as_deref() == Some(want)))
        .filter_map(Jwk::p256_point);
    let first = usable.next()?;
    match usable.next() {
        None => Some(first),
        Some(_) => None,
    }
}

fn decode_json<T: serde::de::DeserializeOwned>(
    part: &str,
    what: &'static str,
) -> Result<T, EidError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| EidError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| EidError::Malformed(what))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(is_valid_pkce_verifier(verifier));
        assert_eq!(
            pkce_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!is_valid_pkce_verifier("short"));
        assert!(!is_valid_pkce_verifier(&"a".repeat(42)));
        assert!(!is_valid_pkce_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn jwk_of_wrong_length_is_refused() {
        assert!(Jwk::es256(&[4u8; 64]).is_none());
        assert!(Jwk::es256(&[3u8; 65]).is_none());
        let k = Jwk::es256(&[4u8; 65]).unwrap();
        assert_eq!(k.p256_point().unwrap().len(), 65);
    }

    #[test]
    fn garbage_tokens_are_malformed_not_panics() {
        let jwks = Jwks { keys: vec![] };
        for t in ["", ".", "..", "a.b.c", "a.b.c.d", "eyJ.eyJ.x"] {
            assert!(verify_id_token(t, &jwks, "i", "a", "n", 0).is_err(), "{t}");
        }
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(b"{}")
        );
        assert_eq!(
            verify_id_token(&none_alg, &jwks, "i", "a", "n", 0),
            Err(EidError::Algorithm)
        );
    }

    #[test]
    fn claims_debug_hides_identity() {
        let c = IdClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            exp: 2,
            iat: 1,
            auth_time: None,
            nonce: "n".into(),
            pesel: Pesel::parse("44051401359").unwrap(),
            given_name: "Jan".into(),
            family_name: "Kowalski".into(),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("44051401359") && !d.contains("Kowalski"), "{d}");
    }
}
