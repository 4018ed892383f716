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

use okaz_protocol::{ErrorCode, Verification, VerificationRequest, VerificationStatus};

use super::Broker;
use crate::error::{BrokerError, Refusal};
use crate::ports::{Claimed, IdempotencyClaim, Settled};
use crate::session;

/// Longest accepted key (a UUID is 36).
pub const MAX_KEY_LEN: usize = 64;

/// Whether a key has the accepted shape: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn key_is_valid(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Broker {
    /// `POST /v1/verifications` with an optional `Idempotency-Key`.
    pub async fn start_verification_once(
        &self,
        token: &str,
        key: Option<&str>,
        body: Result<VerificationRequest, BrokerError>,
    ) -> Result<Verification, BrokerError> {
        let (Some(key), Ok(req)) = (key, body.as_ref()) else {
            // No key, or a body that is refused before anything is done.
            return self.start_verification(token, body).await;
        };
        if !key_is_valid(key) {
            let auth = self.authenticate(token).await?;
            return Err(self.with_quota(
                &auth,
                Refusal::new(ErrorCode::InvalidRequest)
                    .detail("an Idempotency-Key is 1 to 64 letters, digits, - or _")
                    .into(),
            ));
        }
        let json =
            serde_json::to_vec(req).map_err(|_| BrokerError::refused(ErrorCode::Internal))?;
        let json = zeroize::Zeroizing::new(json);
        let session = session::hash(token);
        let claim = IdempotencyClaim {
            session: session.clone(),
            key: key.to_string(),
            fingerprint: self
                .keys
                .pepper
                .mac(&[b"idempotency", json.as_slice()])
                .to_vec(),
            at: self.clock.now(),
        };
        match self.store.claim_idempotency(&claim).await? {
            Claimed::New => {}
            Claimed::Replay(settled) => return self.replay(token, settled).await,
            Claimed::InFlight => {
                return self
                    .refuse_key(token, "a start with this key is still running")
                    .await
            }
            Claimed::Mismatch => {
                return self
                    .refuse_key(token, "this Idempotency-Key was used for another request")
                    .await
            }
        }
        let answer = self.start_verification(token, body).await;
        let settled = match &answer {
            Ok(v) => match (v.status, v.expires_at) {
                (VerificationStatus::AwaitingCode, Some(expires_at)) => Some(Settled::Awaiting {
                    verification: v.id.clone(),
                    expires_at,
                }),
                _ => Some(Settled::Completed {
                    verification: v.id.clone(),
                }),
            },
            Err(BrokerError::Refused(r)) => Some(Settled::Refused(r.code)),
            Err(_) => None,
        };
        let kept = match settled {
            Some(s) => self.store.settle_idempotency(&session, key, &s).await,
            None => self.store.release_idempotency(&session, key).await,
        };
        if let Err(e) = kept {
            // The answer stands; a retry would then be refused as in flight.
            tracing::warn!(error = %e, "idempotency key not settled");
        }
        answer
    }

    /// The answer a retry gets: the first one, without a document.
    async fn replay(&self, token: &str, settled: Settled) -> Result<Verification, BrokerError> {
        let auth = self.authenticate(token).await?;
        let quota = self.quota_of(&auth);
        match settled {
            Settled::Awaiting {
                verification,
                expires_at,
            } => Ok(Verification {
                id: verification,
                status: VerificationStatus::AwaitingCode,
                expires_at: Some(expires_at),
                attempts_left: None,
                sent_to: None,
                document: None,
                display_until: None,
                bundle: None,
                parts: Vec::new(),
                quota,
            }),
            Settled::Completed { .. } => Err(self.with_quota(
                &auth,
                Refusal::new(ErrorCode::ChallengeUsed)
                    .detail("this check was already answered; a document is never sent twice")
                    .into(),
            )),
            Settled::Refused(code) => Err(self.with_quota(&auth, BrokerError::refused(code))),
        }
    }

    async fn refuse_key(&self, token: &str, why: &str) -> Result<Verification, BrokerError> {
        let auth = self.authenticate(token).await?;
        Err(self.with_quota(
            &auth,
            Refusal::new(ErrorCode::InvalidRequest).detail(why).into(),
        ))
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
