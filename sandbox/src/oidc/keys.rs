//! The provider's ID-token signing key: a fresh ECDSA P-256 key pair at each
//! sandbox start (like the development CA), published as a one-key JWKS.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Serialize;

use okaz_registry::eid::{Jwk, Jwks};

/// Signs compact JWS (ES256) with the sandbox's key.
pub(crate) struct Signer {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    jwk: Jwk,
    kid: String,
}

impl Signer {
    /// Generates a new key pair.
    pub(crate) fn generate() -> Result<Signer, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "cannot generate the eID signing key".to_string())?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| "cannot load the eID signing key".to_string())?;
        let jwk = Jwk::es256(pair.public_key().as_ref())
            .ok_or_else(|| "eID public key is not an uncompressed P-256 point".to_string())?;
        let kid = jwk.kid.clone().unwrap_or_default();
        Ok(Signer {
            pair,
            rng,
            jwk,
            kid,
        })
    }

    /// The public key set to publish at `jwks_uri`.
    pub(crate) fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.jwk.clone()],
        }
    }

    /// A compact JWS `header.payload.signature` over `claims`, with the
    /// fixed-length (r || s) signature JWS requires for ES256 (RFC 7518 3.4).
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let header = serde_json::json!({"alg": "ES256", "kid": self.kid, "typ": "JWT"});
        let header = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        let payload = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(payload));
        let sig = self
            .pair
            .sign(&self.rng, token.as_bytes())
            .map_err(|_| "signing failed".to_string())?;
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(sig.as_ref()));
        Ok(token)
    }
}
