//! The signals over a synthetic month of audit records: a clean month
//! raises nothing; a month with planted misuse finds every planted case.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;
use okaz_policy::{Signals, WorkingHours};
use okaz_protocol::{DocumentType, ErrorCode};

use super::*;
use crate::audit::{AuditEntry, AuditEvent, Outcome, StoredRecord};

/// A small deterministic generator (SplitMix64): the month is the same on
/// every run, so a failure can be reproduced.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What to plant in a month.
#[derive(Default, Clone, Copy)]
struct Plant {
    night: bool,
    stalker: bool,
    volume: bool,
    failures: bool,
}

struct Month {
    records: Vec<StoredRecord>,
    hours: HashMap<String, Option<WorkingHours>>,
    end: DateTime<Utc>,
}

const UNIT: &str = "KMP-1";
const OFFICERS: usize = 10;
const DAYS: i64 = 30;

fn officer(i: usize) -> String {
    format!("00000000-0000-0000-0000-{i:012}")
}

fn local(day: i64, secs: i64) -> DateTime<Utc> {
    let start = Warsaw
        .with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc);
    // Add calendar days in local time so hours stay local (no DST in Nov,
    // but keep the rule honest).
    let d = start.with_timezone(&Warsaw) + Duration::days(day);
    d.with_timezone(&Utc) + Duration::seconds(secs)
}

struct Writer {
    records: Vec<StoredRecord>,
    next_verification: u64,
}

impl Writer {
    fn push(&mut self, entry: AuditEntry) {
        let id = self.records.len() as i64 + 1;
        self.records.push(StoredRecord {
            id,
            seq: id,
            entry,
            prev_hash: String::new(),
            hash: String::new(),
        });
    }

    /// One consent check: counted, challenged, then released, wrong code
    /// then released, or abandoned.
    fn check(&mut self, g: &mut Gen, who: &str, at: DateTime<Utc>, citizen: &str, fail_pct: u64) {
        self.next_verification += 1;
        let v = format!("v-{}", self.next_verification);
        let base = AuditEntry::new(at, AuditEvent::AttemptCounted, who, UNIT)
            .about(citizen, DocumentType::IdCard, "identity_confirmation")
            .verification(&v);
        self.push(base.clone());
        let mut started = base.clone().as_event(AuditEvent::VerificationStarted);
        started.at = at + Duration::seconds(1);
        self.push(started);
        let roll = g.below(100);
        if roll < fail_pct {
            if roll.is_multiple_of(2) {
                let mut wrong = base.clone().as_event(AuditEvent::CodeRejected);
                wrong.at = at + Duration::seconds(30);
                self.push(wrong.refused(ErrorCode::WrongCode));
            }
            // Otherwise abandoned: the challenge just expires, unrecorded.
            return;
        }
        let mut released = base.released(vec!["photo".into()]);
        released.at = at + Duration::seconds(60);
        self.push(released);
    }
}

fn month(seed: u64, plant: Plant) -> Month {
    let mut g = Gen(seed);
    let mut w = Writer {
        records: Vec::new(),
        next_verification: 0,
    };
    let day_hours = WorkingHours { start: 7, end: 19 };
    for day in 0..DAYS {
        for i in 0..OFFICERS {
            let who = officer(i);
            let mut n = 20 + g.below(21);
            if plant.volume && i == 3 && day == 15 {
                n = 160;
            }
            let fail = if plant.failures && i == 4 { 65 } else { 8 };
            // Office hours 08:00–18:00 local.
            let mut times: Vec<i64> = (0..n)
                .map(|_| 8 * 3600 + g.below(10 * 3600) as i64)
                .collect();
            times.sort_unstable();
            for t in times {
                let citizen = format!("ps-{}", g.below(2_000_000));
                w.check(&mut g, &who, local(day, t), &citizen, fail);
            }
        }
        if plant.night && day % 5 == 1 {
            // 02:00–03:00 local: outside 07–19.
            let t = 2 * 3600 + g.below(3600) as i64;
            let citizen = format!("ps-{}", g.below(2_000_000));
            w.check(&mut g, &officer(1), local(day, t), &citizen, 0);
        }
        if plant.stalker && day % 4 == 2 {
            let t = 9 * 3600 + g.below(8 * 3600) as i64;
            w.check(&mut g, &officer(2), local(day, t), "ps-the-ex", 0);
        }
    }
    let hours = (0..OFFICERS)
        .map(|i| (officer(i), Some(day_hours)))
        .collect();
    Month {
        records: w.records,
        hours,
        end: local(DAYS, 0),
    }
}

fn run(m: &Month) -> Vec<Signal> {
    let thresholds = Signals::default();
    let cx = Context {
        time_zone: Warsaw,
        thresholds: &thresholds,
        working_hours: &m.hours,
        now: m.end,
    };
    compute(&m.records, &cx)
}

/// Precision and recall of `found` against the planted (kind, officer) pairs.
fn score(found: &[Signal], planted: &BTreeSet<(SignalKind, String)>) -> (f64, f64) {
    let got: BTreeSet<(SignalKind, String)> =
        found.iter().map(|s| (s.kind, s.officer.clone())).collect();
    let tp = got.intersection(planted).count() as f64;
    let precision = if got.is_empty() {
        1.0
    } else {
        tp / got.len() as f64
    };
    let recall = if planted.is_empty() {
        1.0
    } else {
        tp / planted.len() as f64
    };
    (precision, recall)
}

#[test]
fn a_clean_synthetic_month_raises_no_signal() {
    for seed in [1, 2, 3] {
        let m = month(seed, Plant::default());
        let found = run(&m);
        println!(
            "clean month (seed {seed}): {} records, {} signals",
            m.records.len(),
            found.len()
        );
        assert!(
            found.is_empty(),
            "false alarms on a clean month: {found:#?}"
        );
    }
}

#[test]
fn every_planted_misuse_is_found_with_precision_and_recall_one() {
    let plant = Plant {
        night: true,
        stalker: true,
        volume: true,
        failures: true,
    };
    let planted: BTreeSet<(SignalKind, String)> = [
        (SignalKind::OffShift, officer(1)),
        (SignalKind::RepeatedCitizen, officer(2)),
        (SignalKind::VolumeOutlier, officer(3)),
        (SignalKind::FailedChallenges, officer(4)),
    ]
    .into_iter()
    .collect();
    for seed in [1, 2, 3] {
        let m = month(seed, plant);
        let found = run(&m);
        let (precision, recall) = score(&found, &planted);
        println!(
            "planted month (seed {seed}): {} records, {} signals, precision {precision:.2}, recall {recall:.2}",
            m.records.len(),
            found.len()
        );
        for s in &found {
            println!(
                "  {} officer …{} score {} evidence {}",
                s.kind.as_str(),
                &s.officer[s.officer.len() - 2..],
                s.score,
                s.evidence.len()
            );
        }
        assert_eq!((precision, recall), (1.0, 1.0), "{found:#?}");
        let ids: BTreeSet<i64> = m.records.iter().map(|r| r.id).collect();
        for s in &found {
            assert!(!s.evidence.is_empty());
            assert!(s.evidence.iter().all(|e| ids.contains(e)));
        }
        let night = found
            .iter()
            .find(|s| s.kind == SignalKind::OffShift)
            .unwrap();
        assert_eq!(night.evidence.len(), 6, "the six night checks, no day one");
        let stalk = found
            .iter()
            .find(|s| s.kind == SignalKind::RepeatedCitizen)
            .unwrap();
        assert_eq!(stalk.citizen.as_deref(), Some("ps-the-ex"));
        let vol = found
            .iter()
            .find(|s| s.kind == SignalKind::VolumeOutlier)
            .unwrap();
        assert_eq!(
            vol.day,
            Some(local(15, 0).with_timezone(&Warsaw).date_naive())
        );
        assert_eq!(vol.evidence.len(), 160);
    }
}

#[test]
fn robust_z_flags_the_outlier_and_survives_equal_values() {
    let z = robust_z(&[30.0, 28.0, 31.0, 29.0, 33.0, 160.0], 0.0);
    assert!(z[5] > 10.0, "{z:?}");
    assert!(z[..5].iter().all(|x| x.abs() < 3.5), "{z:?}");
    // More than half equal: MAD is 0, the mean absolute deviation stands in.
    let z = robust_z(&[10.0, 10.0, 10.0, 10.0, 90.0], 0.0);
    assert!(z[4] > 3.5 && z[0] == 0.0, "{z:?}");
    assert_eq!(robust_z(&[5.0, 5.0, 5.0], 0.0), vec![0.0; 3]);
    // Officers agreeing closely (MAD 1): a busy 40 is an "outlier" without
    // the Poisson floor, an ordinary day with it; 160 stands out either way.
    let day = [29.0, 30.0, 30.0, 31.0, 28.0, 32.0, 40.0];
    assert!(robust_z(&day, 0.0)[6] > 3.5);
    assert!(robust_z(&day, poisson_mad(&day))[6] < 3.5);
    let busy = [29.0, 30.0, 30.0, 31.0, 28.0, 32.0, 160.0];
    assert!(robust_z(&busy, poisson_mad(&busy))[6] > 3.5);
}

#[test]
fn a_locked_refusal_is_no_check_and_a_young_challenge_not_abandoned() {
    let at = local(0, 3 * 3600);
    let who = officer(0);
    let mut w = Writer {
        records: Vec::new(),
        next_verification: 0,
    };
    for _ in 0..5 {
        w.push(
            AuditEntry::new(at, AuditEvent::AttemptCounted, &who, UNIT)
                .about("ps-1", DocumentType::IdCard, "age_check")
                .outcome(Outcome::Refused(ErrorCode::AccountLocked)),
        );
    }
    let mut m = Month {
        records: w.records,
        hours: [(who.clone(), Some(WorkingHours { start: 7, end: 19 }))].into(),
        end: at,
    };
    assert!(
        run(&m).is_empty(),
        "refusals of a locked account are not checks"
    );

    // Ten challenges just started, none answered yet: not abandoned.
    let mut w = Writer {
        records: Vec::new(),
        next_verification: 0,
    };
    let mut g = Gen(9);
    for k in 0..10 {
        let t = local(0, 10 * 3600 + k);
        w.next_verification += 1;
        let v = format!("v-{}", w.next_verification);
        let e = AuditEntry::new(t, AuditEvent::VerificationStarted, &who, UNIT)
            .about(
                &format!("ps-{}", g.below(1000)),
                DocumentType::IdCard,
                "age_check",
            )
            .verification(&v);
        w.push(e);
    }
    m.records = w.records;
    m.end = local(0, 10 * 3600 + 60);
    assert!(run(&m).is_empty());
    m.end = local(0, 11 * 3600);
    let later = run(&m);
    assert_eq!(later.len(), 1, "{later:?}");
    assert_eq!(later[0].kind, SignalKind::FailedChallenges);
    assert_eq!(later[0].score, 1.0);
}
