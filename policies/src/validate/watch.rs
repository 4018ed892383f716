//! Checks of `[break_glass]`, `[signals]` and a role's working hours.

use std::time::Duration;

use toml::Spanned;

use super::checker::{bounded, Checker};
use crate::raw::{RawBreakGlass, RawSignals};
use crate::watch::{
    BreakGlass, Signals, WorkingHours, DEFAULT_DEADLINE_HOURS, DEFAULT_JUSTIFICATION_MAX,
    DEFAULT_PER_DAY,
};

/// A countersign may wait at most three days: longer and nobody remembers.
const MAX_DEADLINE_HOURS: u64 = 72;
/// An emergency is rare; more than this a day is routine, not break-glass.
const MAX_PER_DAY: u32 = 20;

/// Checks `[break_glass]`.
pub(super) fn check_break_glass(c: &mut Checker<'_>, file: usize, b: &RawBreakGlass) -> BreakGlass {
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
pub(super) fn check_signals(c: &mut Checker<'_>, file: usize, s: &RawSignals) -> Signals {
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
pub(super) fn check_working_hours(
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
