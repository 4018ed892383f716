//! Challenges: the consent codes of verifications.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use okaz_core::ports::ChallengeStore;
use okaz_protocol::DocumentType;
use rusqlite::{params, Connection, Row};

use super::LiteConn;
use super::{audit, canonical_id, col, count, day, exec, instant, micros, one, SqliteStore};
use crate::conn::Conn;
use okaz_core::audit::{AuditEntry, LockReason};
use okaz_core::consent::{self, ChallengeState, Closed};
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::{Challenge, NewChallenge, Reservation, StoreError, WrongCode};
use okaz_core::pseudonym::Pseudonym;
use okaz_core::session::TokenHash;

const COLUMNS: &str = "id, officer_id, citizen, document, purpose, case_reference, state,
     attempts_used, max_attempts, expires_at, code_mac, sealed_subject";

fn challenge(r: &Row<'_>) -> Result<Challenge, StoreError> {
    let document: String = col(r, 3)?;
    let state: String = col(r, 6)?;
    Ok(Challenge {
        id: col(r, 0)?,
        officer_id: col(r, 1)?,
        citizen: Pseudonym(col(r, 2)?),
        document: DocumentType::parse(&document)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown document {document}")))?,
        purpose: col(r, 4)?,
        case_reference: col(r, 5)?,
        state: ChallengeState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown challenge state {state}")))?,
        attempts_used: count(col(r, 7)?)?,
        max_attempts: count(col(r, 8)?)?,
        expires_at: instant(col(r, 9)?)?,
        code_mac: col(r, 10)?,
        sealed_subject: col(r, 11)?,
    })
}

/// Inserts a new challenge inside the write transaction `tx` (written
/// once: [`crate::challenges::insert_row`]).
pub(super) fn insert_row(tx: &mut Connection, ch: &NewChallenge) -> Result<(), StoreError> {
    let (sql, args) = crate::challenges::insert_row(ch)?;
    futures::executor::block_on(LiteConn { c: tx }.exec(sql, &args)).map(drop)
}

#[async_trait]
impl ChallengeStore for SqliteStore {
    async fn insert_challenge(
        &self,
        ch: NewChallenge,
        entry: AuditEntry,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            insert_row(tx, &ch)?;
            audit::append(tx, &entry)
        })
        .await
    }

    async fn reserve_code_attempt(
        &self,
        id: &str,
        officer_id: &str,
        session: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let (Some(id), Some(officer)) = (canonical_id(id), canonical_id(officer_id)) else {
            return Ok(Reservation::Closed(Closed::NotFound));
        };
        let session = session.0.clone();
        self.write(move |tx| {
        // Taking the attempt before comparing the code means concurrent guesses
        // each use up an attempt: no more than `max_attempts` can ever be tried.
        let taken = one(
            tx,
            &format!(
                "UPDATE challenges SET attempts_used = attempts_used + 1, releasing_until = ?5
                 WHERE id = ?1 AND officer_id = ?2 AND session_hash = ?3 AND state = 'awaiting'
                   AND attempts_used < max_attempts AND expires_at > ?4
                   AND (releasing_until IS NULL OR releasing_until <= ?4)
                 RETURNING {COLUMNS}"
            ),
            params![id, officer, session, micros(now), micros(consent::lease_until(now))],
            challenge,
        )?;
        if let Some(ch) = taken {
            return Ok(Reservation::Reserved(ch));
        }
        let Some((ch, releasing_until)) = one(
            tx,
            &format!(
                "SELECT {COLUMNS}, releasing_until FROM challenges WHERE id = ?1 AND officer_id = ?2 AND session_hash = ?3"
            ),
            params![id, officer, session],
            |r| {
                let until: Option<i64> = col(r, 12)?;
                Ok((challenge(r)?, until.map(instant).transpose()?))
            },
        )?
        else {
            return Ok(Reservation::Closed(Closed::NotFound));
        };
        let why = consent::refusal(
            ch.state,
            ch.expires_at,
            ch.attempts_used,
            ch.max_attempts,
            releasing_until,
            now,
        );
        Ok(Reservation::Closed(why.unwrap_or(Closed::NotFound)))
    })
    .await
    }

    async fn complete_challenge(
        &self,
        id: &str,
        entries: Vec<AuditEntry>,
        citizen: &Pseudonym,
    ) -> Result<Option<NoticePrefs>, StoreError> {
        let id = super::uuid(id)?;
        let citizen = citizen.as_str().to_string();
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE challenges SET state = 'used', sealed_subject = NULL, releasing_until = NULL
                 WHERE id = ?1 AND state = 'awaiting'",
                [&id],
            )?;
            if n != 1 {
                // Another request used it first; nothing was written.
                return Ok(None);
            }
            entries.iter().try_for_each(|e| audit::append(tx, e))?;
            futures::executor::block_on(crate::notices::prefs_in(
                &mut LiteConn { c: tx },
                &Pseudonym(citizen),
            ))
            .map(Some)
        })
        .await
    }

    async fn reopen_challenge(
        &self,
        id: &str,
        entries: Vec<AuditEntry>,
    ) -> Result<bool, StoreError> {
        let id = super::uuid(id)?;
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE challenges SET releasing_until = NULL,
                   attempts_used = MAX(attempts_used - 1, 0)
                 WHERE id = ?1 AND state = 'awaiting'",
                [&id],
            )?;
            // On record whether or not the challenge was still open: the
            // register was asked.
            for entry in &entries {
                audit::append(tx, entry)?;
            }
            Ok(n == 1)
        })
        .await
    }

    async fn record_wrong_code(
        &self,
        challenge_id: &str,
        officer_id: &str,
        on: NaiveDate,
        threshold: u32,
        entry: AuditEntry,
    ) -> Result<WrongCode, StoreError> {
        let id = super::uuid(challenge_id)?;
        let officer = super::uuid(officer_id)?;
        let on = day(on);
        self.write(move |tx| {
        // The answer's lease ends; the last attempt exhausts the challenge.
        exec(
            tx,
            "UPDATE challenges SET releasing_until = NULL,
               state = CASE WHEN attempts_used >= max_attempts THEN 'exhausted' ELSE state END,
               sealed_subject = CASE WHEN attempts_used >= max_attempts THEN NULL
                                     ELSE sealed_subject END
             WHERE id = ?1 AND state = 'awaiting'",
            [&id],
        )?;
        let wrong_codes_today = one(
            tx,
            "INSERT INTO daily_counters (officer_id, day, wrong_codes) VALUES (?1, ?2, 1)
             ON CONFLICT (officer_id, day) DO UPDATE SET wrong_codes = daily_counters.wrong_codes + 1
             RETURNING wrong_codes",
            params![officer, on],
            |r| count(col(r, 0)?),
        )?
        .ok_or_else(|| StoreError::Unavailable("upsert returned no counter".to_string()))?;
        audit::append(tx, &entry)?;
        let mut locked = false;
        if consent::wrong_codes_lock(wrong_codes_today, threshold) {
            let officer = crate::conn::Arg::Text(officer.clone());
            futures::executor::block_on(crate::officers::lock(
                &mut LiteConn { c: tx },
                &officer,
                LockReason::WrongCodes,
                &entry,
            ))?;
            locked = true;
        }
        Ok(WrongCode {
            wrong_codes_today,
            locked,
        })
    })
    .await
    }

    async fn cancel_challenge(
        &self,
        id: &str,
        officer_id: &str,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let (Some(id), Some(officer)) = (canonical_id(id), canonical_id(officer_id)) else {
            return Ok(false);
        };
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE challenges SET state = 'cancelled', sealed_subject = NULL
             WHERE id = ?1 AND officer_id = ?2 AND state = 'awaiting'",
                params![id, officer],
            )?;
            if n != 1 {
                return Ok(false);
            }
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }

    async fn cancel_unsent_challenge(
        &self,
        id: &str,
        officer_id: &str,
        on: NaiveDate,
        entry: AuditEntry,
    ) -> Result<bool, StoreError> {
        let (Some(id), Some(officer)) = (canonical_id(id), canonical_id(officer_id)) else {
            return Ok(false);
        };
        let on = day(on);
        self.write(move |tx| {
            let n = exec(
                tx,
                "UPDATE challenges SET state = 'cancelled', sealed_subject = NULL
             WHERE id = ?1 AND officer_id = ?2 AND state = 'awaiting'",
                params![id, officer],
            )?;
            if n != 1 {
                return Ok(false);
            }
            exec(
                tx,
                "UPDATE daily_counters SET used = MAX(used - 1, 0)
             WHERE officer_id = ?1 AND day = ?2",
                params![officer, on],
            )?;
            audit::append(tx, &entry)?;
            Ok(true)
        })
        .await
    }
}
