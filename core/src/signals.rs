//! Anomaly signals for security officers, computed from the audit trail.
//!
//! Pure functions over audit records (pseudonyms only, never a PESEL):
//! given the records of a window, the officers' working hours, the policy's
//! time zone and thresholds, and `now`, they name each officer whose records
//! look like misuse, with the evidence (audit record ids) and a score.
//!
//! | signal | what | score |
//! |---|---|---|
//! | `off_shift` | checks outside the role's `working_hours` | how many |
//! | `repeated_citizen` | one citizen checked again and again by one officer | how many |
//! | `volume_outlier` | a day's checks far above the unit's officers that day | robust z (median/MAD) |
//! | `failed_challenges` | a high share of challenges abandoned or with a wrong code | the share |
//! | `disputed` | checks the citizen later disputed (`dispute_opened`) | how many |
//!
//! A *check* is a counted attempt (`attempt_counted`, whatever its outcome
//! except a refusal of a locked account, which is not counted) or a
//! break-glass (`break_glass_used`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use okaz_policy::{Signals, WorkingHours};

use crate::audit::{AuditEvent, StoredRecord};

/// The stored event name of a citizen's dispute of a check. The record
/// names the disputed check in `verification`; the officer is whoever made
/// that check.
pub const DISPUTE_OPENED: &str = "dispute_opened";

/// Challenges this young at `now` may still be answered: not yet abandoned.
const STILL_OPEN: chrono::Duration = chrono::Duration::minutes(10);

/// What a signal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalKind {
    /// Checks outside working hours.
    OffShift,
    /// One citizen checked repeatedly by one officer.
    RepeatedCitizen,
    /// A day's volume far above the unit's peers.
    VolumeOutlier,
    /// Many abandoned or wrong-code challenges.
    FailedChallenges,
    /// Checks later disputed by the citizen.
    Disputed,
}

impl SignalKind {
    /// Every kind.
    pub const ALL: [SignalKind; 5] = [
        SignalKind::OffShift,
        SignalKind::RepeatedCitizen,
        SignalKind::VolumeOutlier,
        SignalKind::FailedChallenges,
        SignalKind::Disputed,
    ];

    /// Wire and metric name.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::OffShift => "off_shift",
            SignalKind::RepeatedCitizen => "repeated_citizen",
            SignalKind::VolumeOutlier => "volume_outlier",
            SignalKind::FailedChallenges => "failed_challenges",
            SignalKind::Disputed => "disputed",
        }
    }
}

/// One signal: who, why, how strongly, and the records that show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// What.
    pub kind: SignalKind,
    /// The officer (id).
    pub officer: String,
    /// The officer's unit.
    pub unit: String,
    /// How strongly (see the module table).
    pub score: f64,
    /// The audit records that show it, oldest first.
    pub evidence: Vec<i64>,
    /// The citizen's pseudonym, for `repeated_citizen`.
    pub citizen: Option<String>,
    /// The local day, for `volume_outlier`.
    pub day: Option<NaiveDate>,
}

/// What the rules need to know about the world besides the records.
pub struct Context<'a> {
    /// The policy's time zone (days and hours are local).
    pub time_zone: Tz,
    /// Thresholds.
    pub thresholds: &'a Signals,
    /// Each officer's working hours (by officer id); an officer absent or
    /// `None` works any hour.
    pub working_hours: &'a HashMap<String, Option<WorkingHours>>,
    /// Now: challenges started within ten minutes are not yet abandoned.
    pub now: DateTime<Utc>,
}

/// Whether a record is a check (see the module doc).
fn is_check(r: &StoredRecord) -> bool {
    match r.entry.event {
        AuditEvent::AttemptCounted => r.entry.outcome.as_str() != "account_locked",
        AuditEvent::BreakGlassUsed => true,
        _ => false,
    }
}

/// Every signal the records show, ordered by kind, officer, day.
pub fn compute(records: &[StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    let mut sorted: Vec<&StoredRecord> = records.iter().collect();
    sorted.sort_by_key(|r| (r.entry.at, r.id));
    let checks: Vec<&StoredRecord> = sorted.iter().copied().filter(|r| is_check(r)).collect();
    let mut out = Vec::new();
    out.extend(off_shift(&checks, cx));
    out.extend(repeated_citizen(&checks, cx));
    out.extend(volume_outliers(&checks, cx));
    out.extend(failed_challenges(&sorted, cx));
    out.extend(disputed(&sorted, cx));
    out.sort_by(|a, b| {
        (a.kind, &a.officer, a.day, &a.citizen).cmp(&(b.kind, &b.officer, b.day, &b.citizen))
    });
    out
}

fn off_shift(checks: &[&StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    let mut by_officer: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for r in checks {
        let Some(Some(hours)) = cx.working_hours.get(&r.entry.actor) else {
            continue;
        };
        let hour = r.entry.at.with_timezone(&cx.time_zone).hour();
        if !hours.covers(hour) {
            by_officer
                .entry((&r.entry.actor, &r.entry.unit))
                .or_default()
                .push(r.id);
        }
    }
    by_officer
        .into_iter()
        .filter(|(_, ids)| ids.len() >= cx.thresholds.off_shift_min as usize)
        .map(|((officer, unit), ids)| Signal {
            kind: SignalKind::OffShift,
            officer: officer.to_string(),
            unit: unit.to_string(),
            score: ids.len() as f64,
            evidence: ids,
            citizen: None,
            day: None,
        })
        .collect()
}

fn repeated_citizen(checks: &[&StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    let mut pairs: BTreeMap<(&str, &str, &str), Vec<i64>> = BTreeMap::new();
    for r in checks {
        if let Some(citizen) = r.entry.citizen.as_deref() {
            pairs
                .entry((&r.entry.actor, &r.entry.unit, citizen))
                .or_default()
                .push(r.id);
        }
    }
    pairs
        .into_iter()
        .filter(|(_, ids)| ids.len() >= cx.thresholds.repeat_citizen_min as usize)
        .map(|((officer, unit, citizen), ids)| Signal {
            kind: SignalKind::RepeatedCitizen,
            officer: officer.to_string(),
            unit: unit.to_string(),
            score: ids.len() as f64,
            evidence: ids,
            citizen: Some(citizen.to_string()),
            day: None,
        })
        .collect()
}

/// The median of a non-empty slice (sorted here).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Robust z-scores of `xs`: 0.6745 (x − median) / MAD (Iglewicz and
/// Hoaglin), with the MAD at least `min_mad`. Where more than half the
/// values are equal the MAD is 0; then the mean absolute deviation stands
/// in, scaled by 1.2533 so both estimate the same spread for normal data.
/// All equal: no value stands out (0).
pub fn robust_z(xs: &[f64], min_mad: f64) -> Vec<f64> {
    let med = median(&mut xs.to_vec());
    let mut dev: Vec<f64> = xs.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&mut dev).max(min_mad);
    if mad > 0.0 {
        return xs.iter().map(|x| 0.6745 * (x - med) / mad).collect();
    }
    let mean_ad = dev.iter().sum::<f64>() / dev.len().max(1) as f64;
    if mean_ad > 0.0 {
        return xs.iter().map(|x| (x - med) / (1.2533 * mean_ad)).collect();
    }
    vec![0.0; xs.len()]
}

/// The least spread a day's counts are taken to have: counts of
/// independent checks vary at least as Poisson counts do (σ = √median, so
/// MAD = 0.6745 √median). Without this floor, a unit whose officers happen
/// to agree closely on one day would turn an ordinary busy day into an
/// "outlier" (ten officers doing 20–40 checks can have a MAD of 2).
fn poisson_mad(xs: &[f64]) -> f64 {
    0.6745 * median(&mut xs.to_vec()).max(0.0).sqrt()
}

fn volume_outliers(checks: &[&StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    // unit -> day -> officer -> check ids
    type PerOfficer<'r> = BTreeMap<&'r str, Vec<i64>>;
    let mut days: BTreeMap<(&str, NaiveDate), PerOfficer<'_>> = BTreeMap::new();
    for r in checks {
        let day = r.entry.at.with_timezone(&cx.time_zone).date_naive();
        days.entry((&r.entry.unit, day))
            .or_default()
            .entry(&r.entry.actor)
            .or_default()
            .push(r.id);
    }
    let t = cx.thresholds;
    let mut out = Vec::new();
    for ((unit, day), officers) in days {
        if officers.len() < t.volume_min_peers as usize {
            continue;
        }
        let counts: Vec<f64> = officers.values().map(|ids| ids.len() as f64).collect();
        let z = robust_z(&counts, poisson_mad(&counts));
        for ((officer, ids), z) in officers.into_iter().zip(z) {
            if z > t.volume_z && ids.len() >= t.volume_min_checks as usize {
                out.push(Signal {
                    kind: SignalKind::VolumeOutlier,
                    officer: officer.to_string(),
                    unit: unit.to_string(),
                    score: (z * 100.0).round() / 100.0,
                    evidence: ids,
                    citizen: None,
                    day: Some(day),
                });
            }
        }
    }
    out
}

fn failed_challenges(records: &[&StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    let mut released: BTreeSet<&str> = BTreeSet::new();
    let mut wrong: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        let Some(v) = r.entry.verification.as_deref() else {
            continue;
        };
        match r.entry.event {
            AuditEvent::DocumentReleased | AuditEvent::ReleaseFailed => {
                released.insert(v);
            }
            AuditEvent::CodeRejected => {
                wrong.insert(v);
            }
            _ => {}
        }
    }
    // officer -> (challenges, failed challenge record ids)
    let mut per: BTreeMap<(&str, &str), (usize, Vec<i64>)> = BTreeMap::new();
    for r in records {
        if r.entry.event != AuditEvent::VerificationStarted {
            continue;
        }
        let Some(v) = r.entry.verification.as_deref() else {
            continue;
        };
        let open = !released.contains(v) && r.entry.at + STILL_OPEN > cx.now;
        if open && !wrong.contains(v) {
            continue;
        }
        let slot = per.entry((&r.entry.actor, &r.entry.unit)).or_default();
        slot.0 += 1;
        if wrong.contains(v) || !released.contains(v) {
            slot.1.push(r.id);
        }
    }
    let t = cx.thresholds;
    per.into_iter()
        .filter_map(|((officer, unit), (n, failed))| {
            let share = failed.len() as f64 / n.max(1) as f64;
            (n >= t.failed_min_challenges as usize && share >= t.failed_share).then(|| Signal {
                kind: SignalKind::FailedChallenges,
                officer: officer.to_string(),
                unit: unit.to_string(),
                score: (share * 1000.0).round() / 1000.0,
                evidence: failed,
                citizen: None,
                day: None,
            })
        })
        .collect()
}

fn disputed(records: &[&StoredRecord], cx: &Context<'_>) -> Vec<Signal> {
    // Who made each check: the officer acting on its verification id.
    let mut made_by: HashMap<&str, (&str, &str, i64)> = HashMap::new();
    for r in records {
        if let (Some(v), AuditEvent::DocumentReleased | AuditEvent::BreakGlassUsed) =
            (r.entry.verification.as_deref(), r.entry.event)
        {
            made_by.insert(v, (&r.entry.actor, &r.entry.unit, r.id));
        }
    }
    // (officer, unit) -> (disputed verifications, evidence ids)
    type Disputes<'r> = BTreeMap<(&'r str, &'r str), (BTreeSet<&'r str>, Vec<i64>)>;
    let mut per: Disputes<'_> = BTreeMap::new();
    for r in records {
        if r.entry.event.as_str() != DISPUTE_OPENED {
            continue;
        }
        let Some(v) = r.entry.verification.as_deref() else {
            continue;
        };
        if let Some((officer, unit, check)) = made_by.get(v) {
            let slot = per.entry((officer, unit)).or_default();
            if slot.0.insert(v) {
                slot.1.push(*check);
            }
            slot.1.push(r.id);
        }
    }
    per.into_iter()
        .filter(|(_, (v, _))| v.len() >= cx.thresholds.disputed_min as usize)
        .map(|((officer, unit), (v, mut ids))| {
            ids.sort_unstable();
            Signal {
                kind: SignalKind::Disputed,
                officer: officer.to_string(),
                unit: unit.to_string(),
                score: v.len() as f64,
                evidence: ids,
                citizen: None,
                day: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
