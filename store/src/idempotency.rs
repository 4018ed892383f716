//! Idempotency keys of starts, written once for both stores: a settled
//! answer as columns and back.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use okaz_core::ports::{Claimed, IdempotencyClaim, IdempotencyStore, Settled, StoreError};
use okaz_core::session::TokenHash;
use okaz_protocol::ErrorCode;

use crate::conn::{Arg, Backend, Db, Sql};

/// The columns of a settled answer.
fn columns(
    s: &Settled,
) -> (
    &'static str,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
) {
    match s {
        Settled::Awaiting {
            verification,
            expires_at,
        } => (
            "awaiting",
            Some(verification.clone()),
            Some(*expires_at),
            None,
        ),
        Settled::Completed { verification } => {
            ("completed", Some(verification.clone()), None, None)
        }
        Settled::Refused(code) => ("refused", None, None, Some(code.as_str().to_string())),
    }
}

/// A stored row back into what the claim answers.
fn settled(
    state: String,
    verification: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    code: Option<String>,
) -> Result<Claimed, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("idempotency key in state {state}"));
    Ok(match state.as_str() {
        "running" => Claimed::InFlight,
        "awaiting" => Claimed::Replay(Settled::Awaiting {
            verification: verification.ok_or_else(corrupt)?,
            expires_at: expires_at.ok_or_else(corrupt)?,
        }),
        "completed" => Claimed::Replay(Settled::Completed {
            verification: verification.ok_or_else(corrupt)?,
        }),
        "refused" => Claimed::Replay(Settled::Refused(
            code.as_deref()
                .and_then(ErrorCode::parse)
                .ok_or_else(corrupt)?,
        )),
        _ => return Err(corrupt()),
    })
}

const CLAIM: Sql = Sql::Same(
    "INSERT INTO idempotency_keys (session_hash, key, fingerprint, state, created_at)
     VALUES ($1, $2, $3, 'running', $4) ON CONFLICT DO NOTHING",
);
const CLAIMED: Sql = Sql::Same(
    "SELECT fingerprint, state, verification, expires_at, code
     FROM idempotency_keys WHERE session_hash = $1 AND key = $2",
);
const SETTLE: Sql = Sql::Same(
    "UPDATE idempotency_keys SET state = $3, verification = $4, expires_at = $5, code = $6
     WHERE session_hash = $1 AND key = $2",
);
const RELEASE: Sql = Sql::Same("DELETE FROM idempotency_keys WHERE session_hash = $1 AND key = $2");

#[async_trait]
impl<B: Backend> IdempotencyStore for Db<B> {
    async fn claim_idempotency(&self, c: &IdempotencyClaim) -> Result<Claimed, StoreError> {
        let fingerprint = c.fingerprint.clone();
        let insert = [
            (&c.session.0).into(),
            (&c.key).into(),
            Arg::Bytes(c.fingerprint.clone()),
            c.at.into(),
        ];
        let select = [(&c.session.0).into(), (&c.key).into()];
        self.b
            .run_write(move |tx| {
                Box::pin(async move {
                    // A concurrent claim of the same key waits here for the
                    // first to commit, then inserts nothing and reads the
                    // first one's row.
                    if tx.exec(CLAIM, &insert).await? == 1 {
                        return Ok(Claimed::New);
                    }
                    let r = tx
                        .opt(CLAIMED, &select)
                        .await?
                        .ok_or_else(|| StoreError::Corrupt("idempotency key vanished".into()))?;
                    if r.bytes(0)? != fingerprint {
                        return Ok(Claimed::Mismatch);
                    }
                    settled(
                        r.text(1)?,
                        r.opt_text(2)?,
                        r.opt_instant(3)?,
                        r.opt_text(4)?,
                    )
                })
            })
            .await
    }

    async fn settle_idempotency(
        &self,
        session: &TokenHash,
        key: &str,
        s: &Settled,
    ) -> Result<(), StoreError> {
        let (state, verification, expires_at, code) = columns(s);
        let args = [
            (&session.0).into(),
            key.into(),
            state.into(),
            Arg::OptText(verification),
            Arg::OptInstant(expires_at),
            Arg::OptText(code),
        ];
        self.b
            .run_autocommit(move |c| Box::pin(async move { c.exec(SETTLE, &args).await.map(drop) }))
            .await
    }

    async fn release_idempotency(&self, session: &TokenHash, key: &str) -> Result<(), StoreError> {
        let args = [(&session.0).into(), key.into()];
        self.b
            .run_autocommit(move |c| {
                Box::pin(async move { c.exec(RELEASE, &args).await.map(drop) })
            })
            .await
    }
}
