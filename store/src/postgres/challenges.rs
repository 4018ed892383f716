//! Challenges: the consent codes of verifications.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::Transaction;
use okaz_core::ports::ChallengeStore;
use okaz_protocol::DocumentType;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use super::PgConn;
use super::{audit, count, map_err, PgStore};
use crate::conn::Conn;
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::consent::{self, ChallengeState, Closed};
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::{
    Challenge, NewChallenge, Reservation, SessionLookup, SessionView, StoreError, WrongCode,
};
use okaz_core::pseudonym::Pseudonym;
use okaz_core::session::TokenHash;

const COLUMNS: &str = "id, officer_id, citizen, document, purpose, case_reference, state,
     attempts_used, max_attempts, expires_at, code_mac, sealed_subject";

fn challenge(r: &Row) -> Result<Challenge, StoreError> {
    let id: uuid::Uuid = r.get(0);
    let officer: uuid::Uuid = r.get(1);
    let document: String = r.get(3);
    let state: String = r.get(6);
    Ok(Challenge {
        id: id.to_string(),
        officer_id: officer.to_string(),
        citizen: Pseudonym(r.get(2)),
        document: DocumentType::parse(&document)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown document {document}")))?,
        purpose: r.get(4),
        case_reference: r.get(5),
        state: ChallengeState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown challenge state {state}")))?,
        attempts_used: count(r.get(7))?,
        max_attempts: count(r.get(8))?,
        expires_at: r.get(9),
        code_mac: r.get(10),
        sealed_subject: r.get(11),
    })
}

/// Inserts a new challenge inside `tx` (written once:
/// [`crate::challenges::insert_row`]).
pub(super) async fn insert_row(tx: &Transaction<'_>, ch: &NewChallenge) -> Result<(), StoreError> {
    let (sql, args) = crate::challenges::insert_row(ch)?;
    PgConn::Tx(tx).exec(sql, &args).await.map(drop)
}

/// Takes one attempt at an awaiting, unexpired challenge of a session.
/// Taking the attempt before comparing the code means concurrent guesses
/// each use one up: no more than `max_attempts` can ever be tried.
/// The attempt takes the release lease too (`$4`, until when), refused
/// while another answer's lease runs.
const RESERVE_IN_SESSION: &str = "UPDATE challenges SET attempts_used = attempts_used + 1,
       releasing_until = $4
     WHERE id = $1 AND session_hash = $2 AND state = 'awaiting'
       AND attempts_used < max_attempts AND expires_at > $3
       AND (releasing_until IS NULL OR releasing_until <= $3)
     RETURNING id, officer_id, citizen, document, purpose, case_reference, state,
       attempts_used, max_attempts, expires_at, code_mac, sealed_subject";

/// Why a challenge of a session took no attempt.
async fn closed(
    tx: &Transaction<'_>,
    id: &uuid::Uuid,
    session: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Closed, StoreError> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT {COLUMNS}, releasing_until FROM challenges WHERE id = $1 AND session_hash = $2"
            ),
            &[id, &session.0],
        )
        .await
        .map_err(map_err)?;
    let Some(r) = row else {
        return Ok(Closed::NotFound);
    };
    refusal_of(&r, now)
}

/// Why a challenge row (with `releasing_until` after [`COLUMNS`]) took no attempt.
fn refusal_of(r: &Row, now: DateTime<Utc>) -> Result<Closed, StoreError> {
    let ch = challenge(r)?;
    let why = consent::refusal(
        ch.state,
        ch.expires_at,
        ch.attempts_used,
        ch.max_attempts,
        r.get(12),
        now,
    );
    // The row is there and nothing closes it, yet the attempt's UPDATE did
    // not match: under READ COMMITTED it saw the row leased by a concurrent
    // answer whose release has ended since (a register error reopens it).
    // That answer was being released when this one came: retry, not 404.
    Ok(why.unwrap_or(Closed::Releasing))
}

#[async_trait]
impl ChallengeStore for PgStore {
    async fn insert_challenge(
        &self,
        ch: NewChallenge,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        insert_row(&tx, &ch).await?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn reserve_code_attempt(
        &self,
        id: &str,
        officer_id: &str,
        session: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let (Ok(id), Ok(officer)) = (uuid::Uuid::parse_str(id), uuid::Uuid::parse_str(officer_id))
        else {
            return Ok(Reservation::Closed(Closed::NotFound));
        };
        let c = self.client().await?;
        // Taking the attempt before comparing the code means concurrent guesses
        // each use up an attempt: no more than `max_attempts` can ever be tried.
        let row = c
            .query_opt(
                &format!(
                    "UPDATE challenges SET attempts_used = attempts_used + 1, releasing_until = $5
                 WHERE id = $1 AND officer_id = $2 AND session_hash = $3 AND state = 'awaiting'
                   AND attempts_used < max_attempts AND expires_at > $4
                   AND (releasing_until IS NULL OR releasing_until <= $4)
                 RETURNING {COLUMNS}"
                ),
                &[&id, &officer, &session.0, &now, &consent::lease_until(now)],
            )
            .await
            .map_err(map_err)?;
        if let Some(r) = row {
            return Ok(Reservation::Reserved(challenge(&r)?));
        }
        let row = c
        .query_opt(
            &format!("SELECT {COLUMNS}, releasing_until FROM challenges WHERE id = $1 AND officer_id = $2 AND session_hash = $3"),
            &[&id, &officer, &session.0],
        )
        .await
        .map_err(map_err)?;
        let Some(r) = row else {
            return Ok(Reservation::Closed(Closed::NotFound));
        };
        Ok(Reservation::Closed(refusal_of(&r, now)?))
    }

    async fn authenticate_and_reserve(
        &self,
        q: &SessionLookup,
        id: &str,
        now: DateTime<Utc>,
        accept: &(dyn for<'v> Fn(&'v SessionView) -> bool + Send + Sync),
    ) -> Result<Option<(SessionView, Reservation)>, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let (lookup, reserve) = futures::try_join!(
            tx.prepare_cached(crate::officers::LOOKUP_PG),
            tx.prepare_cached(RESERVE_IN_SESSION)
        )
        .map_err(map_err)?;
        let citizen: Option<&str> = None;
        let challenge_id = uuid::Uuid::parse_str(id).ok();
        let lease = consent::lease_until(now);
        // The lookup and the attempt go to the database together; the
        // attempt stands only if the session turns out to be acceptable.
        let lookup_params: [&(dyn ToSql + Sync); 3] = [&q.token.0, &q.day, &citizen];
        let (view, reserved) = futures::try_join!(tx.query_opt(&lookup, &lookup_params), async {
            match &challenge_id {
                Some(cid) => {
                    tx.query_opt(&reserve, &[cid, &q.token.0, &now, &lease])
                        .await
                }
                None => Ok(None),
            }
        })
        .map_err(map_err)?;
        let Some(view) = view
            .as_ref()
            .map(|r| crate::officers::session_view(&super::row(r)?))
            .transpose()?
        else {
            tx.rollback().await.map_err(map_err)?;
            return Ok(None);
        };
        if !accept(&view) {
            tx.rollback().await.map_err(map_err)?;
            return Ok(Some((view, Reservation::Closed(Closed::NotFound))));
        }
        let reservation = match (reserved, &challenge_id) {
            (Some(r), _) => Reservation::Reserved(challenge(&r)?),
            (None, Some(cid)) => Reservation::Closed(closed(&tx, cid, &q.token, now).await?),
            (None, None) => Reservation::Closed(Closed::NotFound),
        };
        tx.commit().await.map_err(map_err)?;
        Ok(Some((view, reservation)))
    }

    async fn complete_challenge(
        &self,
        id: &str,
        entries: Vec<AuditEntry>,
        citizen: &Pseudonym,
    ) -> Result<Option<NoticePrefs>, StoreError> {
        let id = super::uuid(id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let st = tx
            .prepare_cached(
                "UPDATE challenges SET state = 'used', sealed_subject = NULL, releasing_until = NULL
                 WHERE id = $1 AND state = 'awaiting'",
            )
            .await
            .map_err(map_err)?;
        if tx.execute(&st, &[&id]).await.map_err(map_err)? != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(None);
        }
        audit::append_all(&tx, &entries).await?;
        let prefs = crate::notices::prefs_in(&mut PgConn::Tx(&tx), citizen).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(prefs))
    }

    async fn reopen_challenge(
        &self,
        id: &str,
        entries: Vec<AuditEntry>,
    ) -> Result<bool, StoreError> {
        let id = super::uuid(id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = tx
            .execute(
                "UPDATE challenges SET releasing_until = NULL,
                   attempts_used = GREATEST(attempts_used - 1, 0)
                 WHERE id = $1 AND state = 'awaiting'",
                &[&id],
            )
            .await
            .map_err(map_err)?;
        // On record whether or not the challenge was still open: the
        // register was asked.
        audit::append_all(&tx, &entries).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(n == 1)
    }

    async fn record_wrong_code(
        &self,
        challenge_id: &str,
        officer_id: &str,
        day: chrono::NaiveDate,
        threshold: u32,
        entry: AuditEntry,
    ) -> Result<WrongCode, StoreError> {
        let id = super::uuid(challenge_id)?;
        let officer = super::uuid(officer_id)?;
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        // The answer's lease ends; the last attempt exhausts the challenge.
        tx.execute(
            "UPDATE challenges SET releasing_until = NULL,
               state = CASE WHEN attempts_used >= max_attempts THEN 'exhausted' ELSE state END,
               sealed_subject = CASE WHEN attempts_used >= max_attempts THEN NULL
                                     ELSE sealed_subject END
         WHERE id = $1 AND state = 'awaiting'",
            &[&id],
        )
        .await
        .map_err(map_err)?;
        let row = tx
        .query_one(
            "INSERT INTO daily_counters (officer_id, day, wrong_codes) VALUES ($1, $2, 1)
             ON CONFLICT (officer_id, day) DO UPDATE SET wrong_codes = daily_counters.wrong_codes + 1
             RETURNING wrong_codes",
            &[&officer, &day],
        )
        .await
        .map_err(map_err)?;
        let wrong_codes_today = count(row.get(0))?;
        audit::append(&tx, &entry).await?;
        let mut locked = false;
        if consent::wrong_codes_lock(wrong_codes_today, threshold) {
            let officer = crate::conn::Arg::Text(officer.to_string());
            crate::officers::lock(
                &mut PgConn::Tx(&tx),
                &officer,
                LockReason::WrongCodes,
                &entry,
            )
            .await?;
            locked = true;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(WrongCode {
            wrong_codes_today,
            locked,
        })
    }

    async fn cancel_challenge(
        &self,
        id: &str,
        officer_id: &str,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let (Ok(id), Ok(officer)) = (uuid::Uuid::parse_str(id), uuid::Uuid::parse_str(officer_id))
        else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = tx
            .execute(
                "UPDATE challenges SET state = 'cancelled', sealed_subject = NULL
             WHERE id = $1 AND officer_id = $2 AND state = 'awaiting'",
                &[&id, &officer],
            )
            .await
            .map_err(map_err)?;
        if n != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn cancel_unsent_challenge(
        &self,
        id: &str,
        officer_id: &str,
        day: NaiveDate,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let (Ok(id), Ok(officer)) = (uuid::Uuid::parse_str(id), uuid::Uuid::parse_str(officer_id))
        else {
            return Ok(false);
        };
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let n = tx
            .execute(
                "UPDATE challenges SET state = 'cancelled', sealed_subject = NULL
             WHERE id = $1 AND officer_id = $2 AND state = 'awaiting'",
                &[&id, &officer],
            )
            .await
            .map_err(map_err)?;
        if n != 1 {
            tx.rollback().await.map_err(map_err)?;
            return Ok(false);
        }
        // The same row the attempt was counted in; never below zero.
        tx.execute(
            "UPDATE daily_counters SET used = GREATEST(used - 1, 0)
             WHERE officer_id = $1 AND day = $2",
            &[&officer, &day],
        )
        .await
        .map_err(map_err)?;
        audit::append(&tx, &entry).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
