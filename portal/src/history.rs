//! "Who checked my documents": the audit records about one citizen turned
//! into one row per check, newest first. Pure over the records and `now`.
//!
//! One check leaves several records (attempt counted, code sent, wrong
//! code, document released); they share a verification id, and the row
//! shows the newest of them, which is the check's outcome. A refusal
//! before any challenge has no verification id and is a row of its own.
//! Operational (police) checks stay hidden until the policy's delay has
//! passed, counted from the check's first record. The officer is never
//! named: only the unit.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use okaz_core::audit::{self, AuditEvent, StoredRecord};

/// Rows per page.
pub const PAGE_SIZE: usize = 20;

/// How a check ended, as the citizen reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The document was shown to the official.
    Released,
    /// A code was sent and not (yet) confirmed.
    CodeSent,
    /// A wrong code was typed, last.
    WrongCode,
    /// The official cancelled it.
    Cancelled,
    /// Refused, with the stable reason code.
    Refused(String),
    /// The register failed; nothing was shown.
    Failed,
}

/// One row of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// When the check began.
    pub at: DateTime<Utc>,
    /// Document type name.
    pub document: String,
    /// Purpose name.
    pub purpose: String,
    /// The unit that asked.
    pub unit: String,
    /// How it ended.
    pub outcome: Outcome,
    /// A police check without consent.
    pub operational: bool,
    /// The release record's id, whose receipt the citizen may download.
    pub receipt: Option<i64>,
    /// The release's leaf index in the audit log, once integrated (filled
    /// in by the page handler, which asks the store).
    pub leaf: Option<u64>,
    /// The check's verification id (what a dispute names).
    pub verification: Option<String>,
    /// Names of the fields the check released (never their values).
    pub fields: Vec<String>,
}

/// Whether a record is about operational (police) work.
fn operational(r: &StoredRecord) -> bool {
    r.entry.purpose.as_deref() == Some("operational_check") || r.entry.case_reference.is_some()
}

fn outcome_of(event: AuditEvent, outcome: audit::Outcome) -> Option<Outcome> {
    Some(match event {
        AuditEvent::DocumentReleased => Outcome::Released,
        AuditEvent::VerificationStarted => Outcome::CodeSent,
        AuditEvent::CodeRejected => Outcome::WrongCode,
        AuditEvent::VerificationCancelled => Outcome::Cancelled,
        AuditEvent::ReleaseFailed => Outcome::Failed,
        AuditEvent::VerificationRefused => Outcome::Refused(outcome.to_string()),
        // Counted and refused at once (the official's limit): no challenge.
        AuditEvent::AttemptCounted if outcome != audit::Outcome::Ok => {
            Outcome::Refused(outcome.to_string())
        }
        _ => return None,
    })
}

/// The rows from records newest first, hiding operational checks younger
/// than `delay` at `now`.
pub fn rows(records: &[StoredRecord], now: DateTime<Utc>, delay: Duration) -> Vec<Row> {
    // First pass: when each verification began (its oldest record).
    let mut began: HashMap<&str, DateTime<Utc>> = HashMap::new();
    for r in records {
        if let Some(v) = r.entry.verification.as_deref() {
            let t = began.entry(v).or_insert(r.entry.at);
            if r.entry.at < *t {
                *t = r.entry.at;
            }
        }
    }
    // One row per verification and document: a single check is one row, a
    // bundle one row per part (each part's release has its own receipt).
    let mut seen: HashMap<(&str, &str), ()> = HashMap::new();
    let mut out = Vec::new();
    for r in records {
        let e = &r.entry;
        let (Some(document), Some(purpose)) = (e.document.as_deref(), e.purpose.as_deref()) else {
            continue;
        };
        // A counted attempt with a verification id is a step of that check.
        if e.event == AuditEvent::AttemptCounted && e.outcome == audit::Outcome::Ok {
            continue;
        }
        let Some(outcome) = outcome_of(e.event, e.outcome) else {
            continue;
        };
        let at = match e.verification.as_deref() {
            Some(v) => {
                // Records come newest first: the first one seen is the outcome.
                if seen.insert((v, document), ()).is_some() {
                    continue;
                }
                began.get(v).copied().unwrap_or(e.at)
            }
            None => e.at,
        };
        let op = operational(r);
        if op && now - at < delay {
            continue;
        }
        out.push(Row {
            at,
            document: document.to_string(),
            purpose: purpose.to_string(),
            unit: e.unit.clone(),
            receipt: (outcome == Outcome::Released).then_some(r.id),
            leaf: None,
            verification: e.verification.clone(),
            fields: if outcome == Outcome::Released {
                e.fields.clone()
            } else {
                Vec::new()
            },
            outcome,
            operational: op,
        });
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.at));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use okaz_core::audit::AuditEntry;
    use okaz_protocol::DocumentType;

    fn rec(id: i64, secs: i64, event: AuditEvent, v: Option<&str>, purpose: &str) -> StoredRecord {
        let at = DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap();
        let mut entry = AuditEntry::new(at, event, "officer-1", "UM-Warszawa").about(
            "ps",
            DocumentType::IdCard,
            purpose,
        );
        entry.verification = v.map(str::to_string);
        StoredRecord {
            id,
            seq: id,
            entry,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn now(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn one_row_per_check_with_its_last_outcome() {
        use AuditEvent::*;
        // Newest first, as the store returns them.
        let records = vec![
            rec(6, 60, VerificationStarted, Some("b"), "age_check"),
            rec(5, 59, AttemptCounted, None, "age_check"),
            rec(4, 30, DocumentReleased, Some("a"), "identity_confirmation"),
            rec(3, 20, CodeRejected, Some("a"), "identity_confirmation"),
            rec(
                2,
                10,
                VerificationStarted,
                Some("a"),
                "identity_confirmation",
            ),
            rec(1, 9, AttemptCounted, None, "identity_confirmation"),
        ];
        let r = rows(&records, now(100), Duration::hours(24));
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].outcome, Outcome::CodeSent);
        assert_eq!(r[1].outcome, Outcome::Released);
        assert_eq!(r[1].at, now(10), "a check is dated by its start");
        assert_eq!(r[1].unit, "UM-Warszawa");
        assert_eq!(r[1].verification.as_deref(), Some("a"));
    }

    #[test]
    fn a_release_names_its_fields_and_nothing_else_does() {
        let mut released = rec(2, 30, AuditEvent::DocumentReleased, Some("a"), "age_check");
        released.entry.fields = vec!["photo".into(), "age_over_18".into()];
        let mut started = rec(
            1,
            20,
            AuditEvent::VerificationStarted,
            Some("b"),
            "age_check",
        );
        started.entry.fields = vec!["never".into()];
        let r = rows(&[released, started], now(100), Duration::hours(24));
        assert_eq!(
            r[0].fields,
            vec!["photo".to_string(), "age_over_18".to_string()]
        );
        assert!(r[1].fields.is_empty());
    }

    #[test]
    fn a_bundle_is_one_row_per_part_each_with_its_receipt() {
        use AuditEvent::*;
        let mut card = rec(
            3,
            30,
            DocumentReleased,
            Some("b"),
            "pensioner_discount/entitlement_check",
        );
        card.entry.document = Some("pensioner_id".into());
        let records = vec![
            card,
            rec(
                2,
                30,
                DocumentReleased,
                Some("b"),
                "pensioner_discount/identity_confirmation",
            ),
            rec(1, 10, VerificationStarted, Some("b"), "pensioner_discount"),
        ];
        let r = rows(&records, now(100), Duration::hours(24));
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(
            r.iter().map(|x| x.receipt).collect::<Vec<_>>(),
            vec![Some(3), Some(2)]
        );
        assert!(r.iter().all(|x| x.at == now(10)));
    }

    #[test]
    fn refusals_are_rows_and_police_checks_wait_for_the_delay() {
        use AuditEvent::*;
        let mut refused = rec(2, 50, VerificationRefused, None, "age_check");
        refused.entry.outcome = audit::Outcome::Refused(okaz_protocol::ErrorCode::NotActivated);
        let police = rec(1, 0, DocumentReleased, Some("p"), "operational_check");
        let records = vec![refused, police];
        let delay = Duration::hours(24);
        let early = rows(&records, now(3600), delay);
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].outcome, Outcome::Refused("not_activated".into()));
        let later = rows(&records, now(24 * 3600), delay);
        assert_eq!(later.len(), 2);
        assert!(later[1].operational);
    }

    #[test]
    fn records_that_are_not_checks_are_left_out() {
        let mut activated = rec(1, 0, AuditEvent::CitizenActivated, None, "x");
        activated.entry.document = None;
        assert!(rows(&[activated], now(10), Duration::zero()).is_empty());
    }
}
