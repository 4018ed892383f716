//! Login throttling and lockout.
//!
//! ```text
//!  failures < throttle_after            ──▶ may try
//!  failures >= throttle_after, recent   ──▶ throttled until last failure + throttle_for
//!  failures >= lock_after               ──▶ account locked (security officer unlocks)
//! ```
//! A success resets the count. Password and second-factor failures count
//! alike: a wrong TOTP is as much a failed login as a wrong password.

use chrono::{DateTime, Utc};
use okaz_policy::LoginThrottle;

/// Whether a login may be attempted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Go ahead.
    Open,
    /// Wait until the instant given.
    Throttled(DateTime<Utc>),
}

/// Decides whether the next attempt may run, from the stored failure count.
pub fn gate(
    failures: u32,
    last_failure: Option<DateTime<Utc>>,
    policy: &LoginThrottle,
    now: DateTime<Utc>,
) -> Gate {
    match last_failure {
        Some(last) if failures >= policy.throttle_after => {
            let until = last + chrono::Duration::from_std(policy.throttle_for).unwrap_or_default();
            if now < until {
                Gate::Throttled(until)
            } else {
                Gate::Open
            }
        }
        _ => Gate::Open,
    }
}

/// Whether a failure count, just incremented, locks the account.
pub fn locks(failures: u32, policy: &LoginThrottle) -> bool {
    failures >= policy.lock_after
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn policy() -> LoginThrottle {
        LoginThrottle {
            throttle_after: 3,
            throttle_for: Duration::from_secs(30),
            lock_after: 6,
        }
    }

    #[test]
    fn throttles_after_n_failures_for_a_while_then_locks() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let p = policy();
        assert_eq!(gate(2, Some(t0), &p, t0), Gate::Open);
        let until = t0 + chrono::Duration::seconds(30);
        assert_eq!(gate(3, Some(t0), &p, t0), Gate::Throttled(until));
        assert_eq!(gate(3, Some(t0), &p, until), Gate::Open);
        assert!(!locks(5, &p));
        assert!(locks(6, &p));
    }
}
