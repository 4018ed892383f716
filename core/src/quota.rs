//! The daily query limit.
//!
//! Every attempt counts, successful or not. The count is per officer per
//! *business day*: the calendar date in the policy's time zone, computed from
//! one UTC instant (never from a database session's zone).
//!
//! ```text
//!   used <= allowance ──▶ Within (the check may proceed)
//!   used  > allowance ──▶ Exceeded (refused; the account locks)
//!   locked            ──▶ refused before counting
//! ```
//! The store counts with one atomic upsert that returns the new count, and
//! then asks [`judge`]; so concurrency can never let an officer past the limit.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The business day `now` falls in.
pub fn business_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The instant the count for `day` ends: the next local midnight.
pub fn resets_at(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    let mut local = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Where midnight itself falls in a DST gap, the day starts at the first
    // local time that exists; step forward a minute at a time to find it.
    for _ in 0..180 {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(1);
    }
    Utc.from_utc_datetime(&local)
}

/// What the count means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the allowance: the check may proceed.
    Within,
    /// Past the allowance: refuse, and lock the account.
    Exceeded,
}

/// Judges a freshly incremented count against today's allowance.
pub fn judge(used: u32, allowance: u32) -> Verdict {
    if used > allowance {
        Verdict::Exceeded
    } else {
        Verdict::Within
    }
}

/// The day's allowance: the role's limit plus what a security officer added.
pub fn allowance(role_limit: u32, extra: u32) -> u32 {
    role_limit.saturating_add(extra)
}

/// The new `extra` after an unlock that grants `more` checks today: exactly
/// `more` further attempts pass, whatever was counted before (the attempt
/// that tripped the lock counted too).
pub fn extra_after_unlock(used: u32, role_limit: u32, extra: u32, more: u32) -> u32 {
    let spent_to = used.max(allowance(role_limit, extra));
    spent_to.saturating_add(more).saturating_sub(role_limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Warsaw;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_day_turns_at_local_midnight_not_utc() {
        // 23:30 UTC on 14 Jan is 00:30 on 15 Jan in Warsaw (UTC+1).
        assert_eq!(
            business_day(utc("2026-01-14T22:59:59Z"), Warsaw).to_string(),
            "2026-01-14"
        );
        assert_eq!(
            business_day(utc("2026-01-14T23:00:00Z"), Warsaw).to_string(),
            "2026-01-15"
        );
        // In summer Warsaw is UTC+2.
        assert_eq!(
            business_day(utc("2026-07-01T21:59:59Z"), Warsaw).to_string(),
            "2026-07-01"
        );
        assert_eq!(
            business_day(utc("2026-07-01T22:00:00Z"), Warsaw).to_string(),
            "2026-07-02"
        );
    }

    #[test]
    fn reset_is_next_local_midnight_across_dst_changes() {
        // Spring forward on 29 March 2026: the day is 23 hours long.
        let d = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(resets_at(d, Warsaw), utc("2026-03-29T22:00:00Z"));
        let prev = NaiveDate::from_ymd_opt(2026, 3, 28).unwrap();
        assert_eq!(resets_at(prev, Warsaw), utc("2026-03-28T23:00:00Z"));
        // Fall back on 25 October 2026: the day is 25 hours long.
        let d = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(resets_at(d, Warsaw), utc("2026-10-25T23:00:00Z"));
        let prev = NaiveDate::from_ymd_opt(2026, 10, 24).unwrap();
        assert_eq!(resets_at(prev, Warsaw), utc("2026-10-24T22:00:00Z"));
    }

    #[test]
    fn the_attempt_past_the_allowance_is_the_first_exceeded() {
        assert_eq!(judge(50, 50), Verdict::Within);
        assert_eq!(judge(51, 50), Verdict::Exceeded);
        assert_eq!(judge(0, 0), Verdict::Within);
        assert_eq!(judge(1, 0), Verdict::Exceeded);
    }

    #[test]
    fn unlock_grants_exactly_the_extra_checks() {
        // Limit 50, the 51st attempt locked: 10 more must pass (52..=61).
        let extra = extra_after_unlock(51, 50, 0, 10);
        let allowance = allowance(50, extra);
        assert_eq!(allowance, 61);
        assert_eq!(
            (52..=70)
                .filter(|u| judge(*u, allowance) == Verdict::Within)
                .count(),
            10
        );
        // Locked for another reason with checks to spare: the spare ones stay.
        assert_eq!(extra_after_unlock(10, 50, 0, 5), 5);
    }
}
