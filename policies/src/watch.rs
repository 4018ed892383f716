//! Break-glass and anomaly signals: the settings of the two ways okaz
//! watches its own officers. `[break_glass]` says how long a supervisor has
//! to countersign an emergency override and how many an officer may make a
//! day; `[signals]` holds the thresholds of the misuse signals computed from
//! the audit trail. Both tables are optional (defaults below) and may be
//! defined by at most one file; roles opt in with `break_glass = true` and
//! may name their `working_hours`.

use std::time::Duration;

/// Hours a supervisor has to countersign when the policy names none.
pub(crate) const DEFAULT_DEADLINE_HOURS: u64 = 12;
/// Break-glass uses per officer per day when the policy names none.
pub(crate) const DEFAULT_PER_DAY: u32 = 2;
/// Longest justification (characters) when the policy names none.
pub(crate) const DEFAULT_JUSTIFICATION_MAX: usize = 500;

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
