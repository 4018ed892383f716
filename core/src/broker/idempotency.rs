//! Idempotent starts: a terminal on a weak network may send a start again
//! when it never saw the answer. With the same `Idempotency-Key` the retry
//! is not counted again and sends no second SMS: it gets the first
//! answer back (an open challenge's id and expiry, or the refusal). A
//! completed check is not released twice: its retry is answered
//! `challenge_used`, so a terminal never shows a document it did not
//! receive in this check. The same key with another body is refused.
//!
//! ```text
//!  claim(session, key, MAC(body)) ─New──────▶ start ─▶ settle(answer) ─▶ answer
//!                                 ├Replay───▶ the settled answer (no count, no SMS)
//!                                 ├InFlight─▶ 409 invalid_request (still running)
//!                                 └Mismatch─▶ 422 invalid_request (another body)
//! ```

use chrono::{DateTime, Utc};
use okaz_protocol::{
    BundleRequest, BundleVerification, ErrorCode, QuotaView, Verification, VerificationRequest,
    VerificationStatus,
};

use super::{Bearer, Broker};
use crate::error::{BrokerError, Refusal};
use crate::ports::{Claimed, IdempotencyClaim, Settled};
use crate::session::{self, TokenHash};

/// Longest accepted key (a UUID is 36).
pub const MAX_KEY_LEN: usize = 64;

/// Whether a key has the accepted shape: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn key_is_valid(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a claimed key lets a start do.
enum Gate {
    /// Run the start, then keep its answer under this session's key.
    Run(TokenHash),
    /// Answer as the first start was answered.
    Replay(Settled),
}

impl Broker {
    /// `POST /v1/verifications` with an optional `Idempotency-Key`.
    pub async fn start_verification_once(
        &self,
        token: Bearer<'_>,
        key: Option<&str>,
        body: Result<VerificationRequest, BrokerError>,
    ) -> Result<Verification, BrokerError> {
        let (Some(key), Ok(req)) = (key, body.as_ref()) else {
            // No key, or a body that is refused before anything is done.
            return self.start_verification(token, body).await;
        };
        let session = match self.gate(token, key, b"verification", req).await? {
            Gate::Run(session) => session,
            Gate::Replay(settled) => {
                return self
                    .replayed(token, settled, |id, expires_at, quota| Verification {
                        id,
                        status: VerificationStatus::AwaitingCode,
                        expires_at: Some(expires_at),
                        attempts_left: None,
                        sent_to: None,
                        document: None,
                        display_until: None,
                        bundle: None,
                        parts: Vec::new(),
                        receipt: None,
                        quota,
                    })
                    .await;
            }
        };
        let answer = self.start_verification(token, body).await;
        let settled = answer
            .as_ref()
            .map(|v| (v.id.as_str(), v.status, v.expires_at));
        self.keep(&session, key, settled_of(settled)).await;
        answer
    }

    /// `POST /v1/bundles` with an optional `Idempotency-Key`.
    pub async fn start_bundle_once(
        &self,
        token: Bearer<'_>,
        key: Option<&str>,
        body: Result<BundleRequest, BrokerError>,
    ) -> Result<BundleVerification, BrokerError> {
        let (Some(key), Ok(req)) = (key, body.as_ref()) else {
            return self.start_bundle(token, body).await;
        };
        let bundle = req.bundle.clone();
        let session = match self.gate(token, key, b"bundle", req).await? {
            Gate::Run(session) => session,
            Gate::Replay(settled) => {
                return self
                    .replayed(token, settled, |id, expires_at, quota| BundleVerification {
                        id,
                        bundle,
                        status: VerificationStatus::AwaitingCode,
                        expires_at: Some(expires_at),
                        attempts_left: None,
                        sent_to: None,
                        parts: Vec::new(),
                        display_until: None,
                        quota,
                    })
                    .await;
            }
        };
        let answer = self.start_bundle(token, body).await;
        let settled = answer
            .as_ref()
            .map(|v| (v.id.as_str(), v.status, v.expires_at));
        self.keep(&session, key, settled_of(settled)).await;
        answer
    }

    /// What a replayed key answers: the check still awaiting its code
    /// (built by `awaiting` from its id, expiry and the quota now), or the
    /// refusal the first call got.
    async fn replayed<T>(
        &self,
        token: Bearer<'_>,
        settled: Settled,
        awaiting: impl FnOnce(String, DateTime<Utc>, QuotaView) -> T,
    ) -> Result<T, BrokerError> {
        let auth = self.authenticate(token).await?;
        let quota = self.quota_of(&auth);
        match settled {
            Settled::Awaiting {
                verification,
                expires_at,
            } => Ok(awaiting(verification, expires_at, quota)),
            other => Err(self.with_quota(&auth, replayed_refusal(&other))),
        }
    }

    /// Checks the key's shape and claims it for this session and body
    /// (`route` keeps a key of one call from matching another's).
    async fn gate<R: serde::Serialize>(
        &self,
        token: Bearer<'_>,
        key: &str,
        route: &[u8],
        req: &R,
    ) -> Result<Gate, BrokerError> {
        if !key_is_valid(key) {
            return Err(self
                .refuse_key(
                    token,
                    "an Idempotency-Key is 1 to 64 letters, digits, - or _",
                )
                .await);
        }
        let json =
            serde_json::to_vec(req).map_err(|_| BrokerError::refused(ErrorCode::Internal))?;
        let json = zeroize::Zeroizing::new(json);
        let session = session::hash(token.token);
        let claim = IdempotencyClaim {
            session: session.clone(),
            key: key.to_string(),
            fingerprint: self
                .keys
                .pepper
                .mac(&[b"idempotency", route, json.as_slice()])
                .to_vec(),
            at: self.clock.now(),
        };
        match self.store.claim_idempotency(&claim).await? {
            Claimed::New => Ok(Gate::Run(session)),
            Claimed::Replay(settled) => Ok(Gate::Replay(settled)),
            Claimed::InFlight => Err(self
                .refuse_key(token, "a start with this key is still running")
                .await),
            Claimed::Mismatch => Err(self
                .refuse_key(token, "this Idempotency-Key was used for another request")
                .await),
        }
    }

    /// Keeps what the start answered, or gives the key back.
    async fn keep(&self, session: &TokenHash, key: &str, settled: Option<Settled>) {
        let kept = match settled {
            Some(s) => self.store.settle_idempotency(session, key, &s).await,
            None => self.store.release_idempotency(session, key).await,
        };
        if let Err(e) = kept {
            // The answer stands; a retry would then be refused as in flight.
            tracing::warn!(error = %e, "idempotency key not settled");
        }
    }

    async fn refuse_key(&self, token: Bearer<'_>, why: &str) -> BrokerError {
        match self.authenticate(token).await {
            Ok(auth) => self.with_quota(
                &auth,
                Refusal::new(ErrorCode::InvalidRequest).detail(why).into(),
            ),
            Err(e) => e,
        }
    }
}

/// What to keep of a start's answer: its id, state and expiry, or its
/// refusal; nothing (the key is given back) when it failed otherwise.
fn settled_of(
    answer: Result<(&str, VerificationStatus, Option<DateTime<Utc>>), &BrokerError>,
) -> Option<Settled> {
    match answer {
        Ok((id, VerificationStatus::AwaitingCode, Some(expires_at))) => Some(Settled::Awaiting {
            verification: id.to_string(),
            expires_at,
        }),
        Ok((id, _, _)) => Some(Settled::Completed {
            verification: id.to_string(),
        }),
        Err(BrokerError::Refused(r)) => Some(Settled::Refused(r.code)),
        Err(_) => None,
    }
}

/// A retry of a completed start gets no document; of a refused one, the
/// same refusal.
fn replayed_refusal(settled: &Settled) -> BrokerError {
    match settled {
        Settled::Refused(code) => BrokerError::refused(*code),
        _ => Refusal::new(ErrorCode::ChallengeUsed)
            .detail("this check was already answered; a document is never sent twice")
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_and_plain() {
        assert!(key_is_valid("3f2a-9c_1"));
        assert!(key_is_valid(&"a".repeat(64)));
        assert!(!key_is_valid(""));
        assert!(!key_is_valid(&"a".repeat(65)));
        assert!(!key_is_valid("a b"));
        assert!(!key_is_valid("ключ"));
    }
}
