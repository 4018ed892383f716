//! Challenges, the consent codes of verifications: the parts written once
//! so far (the insert the quota's count makes too); the rest is per store.

use crate::conn::{id, Arg, Sql};
use okaz_core::ports::{NewChallenge, StoreError};

const INSERT: Sql = Sql::Same(
    "INSERT INTO challenges (id, officer_id, session_hash, citizen, document,
         purpose, case_reference, code_mac, sealed_subject, state, attempts_used, max_attempts,
         created_at, expires_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'awaiting',0,$10,$11,$12)",
);

/// The statement that inserts a new challenge, to run in the caller's
/// transaction (alone, or pipelined with its audit records).
pub(crate) fn insert_row(ch: &NewChallenge) -> Result<(Sql, Vec<Arg>), StoreError> {
    Ok((
        INSERT,
        vec![
            id(&ch.id)?,
            id(&ch.officer_id)?,
            (&ch.session_hash.0).into(),
            ch.citizen.as_str().into(),
            ch.document.as_str().into(),
            (&ch.purpose).into(),
            Arg::OptText(ch.case_reference.clone()),
            Arg::Bytes(ch.code_mac.clone()),
            Arg::Bytes(ch.sealed_subject.clone()),
            ch.max_attempts.into(),
            ch.created_at.into(),
            ch.expires_at.into(),
        ],
    ))
}
