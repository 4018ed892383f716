//! Circuit breaker, one per register, as a pure state machine over `now`.
//!
//! ```text
//!   Closed --N consecutive failures--> Open{until}
//!   Open   --now >= until: one probe--> HalfOpen
//!   HalfOpen --probe succeeds--> Closed     HalfOpen --probe fails--> Open{now+cooldown}
//! ```
//! While half-open only the single probe is let through, so a register that is
//! just coming back is not flooded by every waiting request at once.

use std::time::{Duration, Instant};

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow; counts consecutive failures.
    Closed {
        /// Consecutive failures so far.
        failures: u32,
    },
    /// Requests are refused until the instant.
    Open {
        /// When a probe may be tried.
        until: Instant,
    },
    /// One probe is in flight; others are refused.
    HalfOpen,
}

/// A circuit breaker for one register.
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: BreakerState,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures.
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether a request may go out now; moving Open to HalfOpen admits the probe.
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// Records a healthy answer.
    pub fn on_success(&mut self) {
        self.state = BreakerState::Closed { failures: 0 };
    }

    /// Records a failure of the register at `now`.
    pub fn on_failure(&mut self, now: Instant) {
        self.state = match self.state {
            BreakerState::Closed { failures } if failures + 1 < self.threshold => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            _ => BreakerState::Open {
                until: now + self.cooldown,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_after_successful_probe() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(30));
        for _ in 0..2 {
            assert!(b.allow(t0));
            b.on_failure(t0);
        }
        assert_eq!(b.state(), BreakerState::Closed { failures: 2 });
        assert!(b.allow(t0));
        b.on_failure(t0);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert!(!b.allow(t0 + Duration::from_secs(29)));
        // Cooldown over: exactly one probe goes through.
        assert!(b.allow(t0 + Duration::from_secs(30)));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(!b.allow(t0 + Duration::from_secs(30)));
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed { failures: 0 });
        assert!(b.allow(t0 + Duration::from_secs(31)));
    }

    #[test]
    fn failed_probe_reopens_for_a_full_cooldown() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(10));
        b.on_failure(t0);
        let t1 = t0 + Duration::from_secs(10);
        assert!(b.allow(t1));
        b.on_failure(t1);
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until: t1 + Duration::from_secs(10)
            }
        );
        assert!(!b.allow(t1 + Duration::from_secs(9)));
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(10));
        b.on_failure(t0);
        b.on_success();
        b.on_failure(t0);
        assert_eq!(b.state(), BreakerState::Closed { failures: 1 });
    }
}
