//! Break-glass and anomaly signals: the settings of the two ways okaz
//! watches its own officers. `[break_glass]` says how long a supervisor has
//! to countersign an emergency override and how many an officer may make a
//! day; `[signals]` holds the thresholds of the misuse signals computed from
//! the audit trail. Both tables are optional (defaults below) and may be
//! defined by at most one file; roles opt in with `break_glass = true` and
//! may name their `working_hours`.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::validate::Checker;

/// Hours a supervisor has to countersign when the policy names none.
const DEFAULT_DEADLINE_HOURS: u64 = 12;
/// A countersign may wait at most three days: longer and nobody remembers.
const MAX_DEADLINE_HOURS: u64 = 72;
/// Break-glass uses per officer per day when the policy names none.
const DEFAULT_PER_DAY: u32 = 2;
/// An emergency is rare; more than this a day is routine, not break-glass.
const MAX_PER_DAY: u32 = 20;
/// Longest justification (characters) when the policy names none.
const DEFAULT_JUSTIFICATION_MAX: usize = 500;

/// `[break_glass]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBreakGlass {
    #[serde(default)]
    pub deadline_hours: Option<Spanned<u64>>,
    #[serde(default)]
    pub per_officer_per_day: Option<Spanned<u32>>,
    #[serde(default)]
    pub justification_max_chars: Option<Spanned<usize>>,
}

/// `[signals]` as written; every key optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignals {
    #[serde(default)]
    pub window_days: Option<Spanned<u32>>,
    #[serde(default)]
    pub interval_minutes: Option<Spanned<u64>>,
    #[serde(default)]
    pub off_shift_min: Option<Spanned<u32>>,
    #[serde(default)]
    pub repeat_citizen_min: Option<Spanned<u32>>,
    #[serde(default)]
    pub volume_z: Option<Spanned<f64>>,
    #[serde(default)]
    pub volume_min_checks: Option<Spanned<u32>>,
    #[serde(default)]
    pub volume_min_peers: Option<Spanned<u32>>,
    #[serde(default)]
    pub failed_share: Option<Spanned<f64>>,
    #[serde(default)]
    pub failed_min_challenges: Option<Spanned<u32>>,
    #[serde(default)]
    pub disputed_min: Option<Spanned<u32>>,
}

/// Break-glass: an emergency override of one refusal, under countersign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlass {
    /// How long a supervisor has to countersign or reject; an override
    /// left unsigned past this locks the officer.
    pub deadline: Duration,
    /// Overrides per officer per day (the policy's time zone's day).
    pub per_officer_per_day: u32,
    /// Longest justification kept, in characters.
    pub justification_max: usize,
}

impl Default for BreakGlass {
    fn default() -> Self {
        BreakGlass {
            deadline: Duration::from_secs(DEFAULT_DEADLINE_HOURS * 3600),
            per_officer_per_day: DEFAULT_PER_DAY,
            justification_max: DEFAULT_JUSTIFICATION_MAX,
        }
    }
}

/// Thresholds of the anomaly signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    /// How far back a run looks.
    pub window_days: u32,
    /// How often the background run repeats.
    pub interval: Duration,
    /// Checks outside the officer's working hours that raise a signal.
    pub off_shift_min: u32,
    /// Checks of one citizen by one officer in the window that raise a signal.
    pub repeat_citizen_min: u32,
    /// Robust z-score (median/MAD) of a day's volume against the unit's
    /// officers that day above which the day is an outlier.
    pub volume_z: f64,
    /// A day with fewer checks than this is never an outlier (a quiet unit
    /// has MAD 0 and would flag a second check).
    pub volume_min_checks: u32,
    /// Officers (with checks that day) a unit needs for a peer comparison.
    pub volume_min_peers: u32,
    /// Share of abandoned or wrong-code challenges that raises a signal.
    pub failed_share: f64,
    /// Challenges an officer needs in the window before the share counts.
    pub failed_min_challenges: u32,
    /// Disputed checks of one officer that raise a signal.
    pub disputed_min: u32,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            window_days: 30,
            interval: Duration::from_secs(3600),
            off_shift_min: 3,
            repeat_citizen_min: 5,
            volume_z: 3.5,
            volume_min_checks: 20,
            volume_min_peers: 4,
            failed_share: 0.5,
            failed_min_challenges: 10,
            disputed_min: 1,
        }
    }
}

/// A role's working hours, in the policy's time zone: checks from `start`
/// o'clock up to (not including) `end` o'clock are on shift; `end` below
/// `start` is a night shift across midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    /// First hour on shift (0..=23).
    pub start: u32,
    /// First hour off shift again (0..=23).
    pub end: u32,
}

impl WorkingHours {
    /// Whether a local hour of day is on shift.
    pub fn covers(self, hour: u32) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&hour)
        } else {
            hour >= self.start || hour < self.end
        }
    }
}

/// Reads an optional value within bounds, reporting one outside them.
fn bounded<T: Copy + PartialOrd + std::fmt::Display>(
    c: &mut Checker<'_>,
    file: usize,
    key: &str,
    value: &Option<Spanned<T>>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> T {
    match value {
        None => default,
        Some(v) => {
            let x = *v.get_ref();
            if range.contains(&x) {
                x
            } else {
                let message = format!("{x} is outside {}..={}", range.start(), range.end());
                c.report(file, Some(v.span()), key.to_string(), message);
                default
            }
        }
    }
}

/// Checks `[break_glass]`.
pub(crate) fn check_break_glass(c: &mut Checker<'_>, file: usize, b: &RawBreakGlass) -> BreakGlass {
    let hours = bounded(
        c,
        file,
        "break_glass.deadline_hours",
        &b.deadline_hours,
        DEFAULT_DEADLINE_HOURS,
        1..=MAX_DEADLINE_HOURS,
    );
    BreakGlass {
        deadline: Duration::from_secs(hours * 3600),
        per_officer_per_day: bounded(
            c,
            file,
            "break_glass.per_officer_per_day",
            &b.per_officer_per_day,
            DEFAULT_PER_DAY,
            1..=MAX_PER_DAY,
        ),
        justification_max: bounded(
            c,
            file,
            "break_glass.justification_max_chars",
            &b.justification_max_chars,
            DEFAULT_JUSTIFICATION_MAX,
            20..=2000,
        ),
    }
}

/// Checks `[signals]`.
pub(crate) fn check_signals(c: &mut Checker<'_>, file: usize, s: &RawSignals) -> Signals {
    let d = Signals::default();
    let minutes = bounded(
        c,
        file,
        "signals.interval_minutes",
        &s.interval_minutes,
        60,
        1..=24 * 60,
    );
    Signals {
        window_days: bounded(
            c,
            file,
            "signals.window_days",
            &s.window_days,
            d.window_days,
            1..=366,
        ),
        interval: Duration::from_secs(minutes * 60),
        off_shift_min: bounded(
            c,
            file,
            "signals.off_shift_min",
            &s.off_shift_min,
            d.off_shift_min,
            1..=10_000,
        ),
        repeat_citizen_min: bounded(
            c,
            file,
            "signals.repeat_citizen_min",
            &s.repeat_citizen_min,
            d.repeat_citizen_min,
            2..=10_000,
        ),
        volume_z: bounded(
            c,
            file,
            "signals.volume_z",
            &s.volume_z,
            d.volume_z,
            1.0..=100.0,
        ),
        volume_min_checks: bounded(
            c,
            file,
            "signals.volume_min_checks",
            &s.volume_min_checks,
            d.volume_min_checks,
            1..=100_000,
        ),
        volume_min_peers: bounded(
            c,
            file,
            "signals.volume_min_peers",
            &s.volume_min_peers,
            d.volume_min_peers,
            3..=10_000,
        ),
        failed_share: bounded(
            c,
            file,
            "signals.failed_share",
            &s.failed_share,
            d.failed_share,
            0.05..=1.0,
        ),
        failed_min_challenges: bounded(
            c,
            file,
            "signals.failed_min_challenges",
            &s.failed_min_challenges,
            d.failed_min_challenges,
            1..=100_000,
        ),
        disputed_min: bounded(
            c,
            file,
            "signals.disputed_min",
            &s.disputed_min,
            d.disputed_min,
            1..=10_000,
        ),
    }
}

/// Checks a role's `working_hours = [start, end]`.
pub(crate) fn check_working_hours(
    c: &mut Checker<'_>,
    file: usize,
    role: &str,
    raw: &Option<Spanned<Vec<u32>>>,
) -> Option<WorkingHours> {
    let raw = raw.as_ref()?;
    match raw.get_ref().as_slice() {
        [start, end] if *start < 24 && *end < 24 && start != end => Some(WorkingHours {
            start: *start,
            end: *end,
        }),
        _ => {
            c.report(
                file,
                Some(raw.span()),
                format!("roles.{role}.working_hours"),
                "must be [start, end]: two different hours 0..=23".into(),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_hours_cover_day_and_night_shifts() {
        let day = WorkingHours { start: 7, end: 19 };
        assert!(day.covers(7) && day.covers(18));
        assert!(!day.covers(19) && !day.covers(3) && !day.covers(6));
        let night = WorkingHours { start: 19, end: 7 };
        assert!(night.covers(19) && night.covers(23) && night.covers(0) && night.covers(6));
        assert!(!night.covers(7) && !night.covers(12));
    }
}
