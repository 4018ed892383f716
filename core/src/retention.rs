//! Retention: what the sweeper removes, and when. Pure rules over `now`
//! and the policy; the store executes them in small idempotent batches, so
//! every replica may sweep at once.
//!
//! ```text
//!  challenge created ── expires ──(+ seal_grace)──▶ seal and code MAC wiped
//!                    └──────────(+ challenges)────▶ row deleted
//!  session expires ───────────(+ sessions)───────▶ row deleted
//!  counter's day ──────(day < today - counter_days)──▶ row deleted
//!  audit record ─────────────────────────────────▶ kept for ever
//! ```

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use okaz_policy::Retention;

use crate::quota::business_day;

/// The cut-offs of one sweep: everything strictly before them is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Challenges (and activation codes) that expired before this lose
    /// their sealed subject and code MAC.
    pub wipe_expired_before: DateTime<Utc>,
    /// Challenges (and activation codes) created before this are deleted.
    pub delete_challenges_created_before: DateTime<Utc>,
    /// Sessions that expired before this are deleted (and portal
    /// sign-out records whose cookie expired before this).
    pub delete_sessions_expired_before: DateTime<Utc>,
    /// Daily counters of days before this are deleted.
    pub delete_counters_before_day: NaiveDate,
}

fn span(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

/// What is due at `now` under the policy; `tz` is the zone of the "day".
pub fn due(now: DateTime<Utc>, policy: &Retention, tz: Tz) -> Due {
    let before = |d| {
        now.checked_sub_signed(span(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let today = business_day(now, tz);
    // counter_days >= 1 (the policy says so), so today's counter is kept
    // even with a smaller value here: at least today survives.
    let keep = u64::from(policy.counter_days.max(1));
    Due {
        wipe_expired_before: before(policy.seal_grace),
        delete_challenges_created_before: before(policy.challenges),
        delete_sessions_expired_before: before(policy.sessions),
        delete_counters_before_day: today
            .checked_sub_days(Days::new(keep))
            .unwrap_or(NaiveDate::MIN),
    }
}

/// How many rows one sweep batch touched, by rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swept {
    /// Challenges and activation codes whose seal and code MAC were wiped.
    pub seals_wiped: u64,
    /// Challenges and activation codes deleted.
    pub challenges_deleted: u64,
    /// Sessions and portal sign-out records deleted.
    pub sessions_deleted: u64,
    /// Daily counters deleted.
    pub counters_deleted: u64,
}

impl Swept {
    /// Whether any rule reached the batch size (so more may be due now).
    pub fn full(&self, batch: u32) -> bool {
        let b = u64::from(batch);
        self.seals_wiped >= b
            || self.challenges_deleted >= b
            || self.sessions_deleted >= b
            || self.counters_deleted >= b
    }

    /// Adds another batch's counts.
    pub fn add(&mut self, other: Swept) {
        self.seals_wiped += other.seals_wiped;
        self.challenges_deleted += other.challenges_deleted;
        self.sessions_deleted += other.sessions_deleted;
        self.counters_deleted += other.counters_deleted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn policy() -> Retention {
        Retention {
            seal_grace: std::time::Duration::from_secs(60),
            challenges: std::time::Duration::from_secs(30 * 86_400),
            sessions: std::time::Duration::from_secs(7 * 86_400),
            counter_days: 90,
        }
    }

    #[test]
    fn cutoffs_follow_the_policy() {
        let now = Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap();
        let d = due(now, &policy(), chrono_tz::Europe::Warsaw);
        assert_eq!(d.wipe_expired_before, now - Duration::seconds(60));
        assert_eq!(d.delete_challenges_created_before, now - Duration::days(30));
        assert_eq!(d.delete_sessions_expired_before, now - Duration::days(7));
        assert_eq!(
            d.delete_counters_before_day,
            NaiveDate::from_ymd_opt(2025, 12, 29).unwrap()
        );
    }

    #[test]
    fn the_counter_day_is_the_local_day() {
        // 23:30 UTC on 31 Dec is already 1 Jan in Warsaw.
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        let p = Retention {
            counter_days: 1,
            ..policy()
        };
        let d = due(now, &p, chrono_tz::Europe::Warsaw);
        assert_eq!(
            d.delete_counters_before_day,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        // Even a zero (refused by the policy check) keeps today.
        let zero = Retention {
            counter_days: 0,
            ..policy()
        };
        let d = due(now, &zero, chrono_tz::Europe::Warsaw);
        assert_eq!(
            d.delete_counters_before_day,
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
    }

    #[test]
    fn a_seal_is_due_only_after_the_grace() {
        let expiry = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        let at = |s| due(expiry + Duration::seconds(s), &policy(), chrono_tz::UTC);
        // Strictly before the cut-off is due.
        assert!(expiry >= at(60).wipe_expired_before);
        assert!(expiry < at(61).wipe_expired_before);
    }

    #[test]
    fn a_full_batch_asks_for_another() {
        let s = Swept {
            sessions_deleted: 500,
            ..Swept::default()
        };
        assert!(s.full(500));
        assert!(!Swept::default().full(500));
    }
}
