//! The supervisor's watch: a terminal logged in as a role that administers
//! asks the broker, in the background, what waits for the unit (break-glass
//! checks to countersign, citizens' disputes) and keeps the counts for the
//! banner every screen shows. Only ids and counts are kept: never a
//! justification, a comment or a name.
//!
//! The watch lives in the [`crate::Session`], so it ends with the session:
//! an idle lock, a logout or an expiry drops it, and with it every further
//! poll. A poll is never activity: it leaves the idle timer alone.
//!
//! A failed poll keeps the last known counts, marked stale (the banner says
//! so), and the next one waits longer each time: a pending break-glass does
//! not vanish because the broker is briefly out of reach, and a broker that
//! is down is not flooded.

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use crate::failure::Failure;

/// How often the unit is asked. Break-glass must be countersigned within
/// hours, so seconds of delay cost nothing; 15 s keeps the alert "at once"
/// for a person at the screen while a unit's few supervisors add only a
/// few requests a minute to the broker.
pub const POLL_INTERVAL: StdDuration = StdDuration::from_secs(15);
/// The longest wait between polls after failures (the interval doubles
/// with each failure up to this).
pub const MAX_BACKOFF: StdDuration = StdDuration::from_secs(240);
/// A poll without an answer for this long is taken as lost and the next
/// one may go (the client answers every poll within its two call
/// timeouts, so this only guards against a dropped answer).
const LOST_AFTER: StdDuration = StdDuration::from_secs(90);

/// What one poll brought back: only ids and counts.
#[derive(Debug)]
pub struct WatchAnswer {
    /// The poll this answers ([`crate::Command::Watch`]'s generation).
    pub generation: u64,
    /// Ids of the unit's break-glass checks awaiting countersign.
    pub break_glass: Result<Vec<String>, Failure>,
    /// How many of the unit's disputes are open.
    pub disputes: Result<usize, Failure>,
}

/// The watch's state for one session.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Ids of the break-glass checks awaiting countersign, as last known;
    /// `None` until an answer came.
    pub pending: Option<BTreeSet<String>>,
    /// Open disputes, as last known; `None` until an answer came.
    pub disputes: Option<usize>,
    /// The last poll failed: the counts are the last known ones.
    pub stale: bool,
    /// Pending ids the officer has seen: on the F5 list, or pending already
    /// at login. The others arrived meanwhile and highlight the banner.
    pub acknowledged: BTreeSet<String>,
    /// Every pending id ever known in this session (to ring once per arrival).
    known: BTreeSet<String>,
    /// When the next poll is due.
    pub next_at: DateTime<Utc>,
    /// The poll under way, by generation, and when it was sent.
    in_flight: Option<(u64, DateTime<Utc>)>,
    /// The last generation sent.
    generation: u64,
    /// Failed polls in a row, for the back-off.
    pub failures: u32,
    /// Interval between polls.
    every: Duration,
}

/// What an answer changed, for `update` to act on.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Break-glass checks arrived that were not known before.
    pub arrived: bool,
    /// The broker said the session is over (or the account locked): the
    /// failure to hand to the usual handling.
    pub ends: Option<Failure>,
    /// The broker refused the role the watch (it no longer administers).
    pub refused: bool,
}

impl Watch {
    /// A watch whose first poll is due at once.
    pub fn new(now: DateTime<Utc>, every: StdDuration) -> Self {
        Watch {
            pending: None,
            disputes: None,
            stale: false,
            acknowledged: BTreeSet::new(),
            known: BTreeSet::new(),
            next_at: now,
            in_flight: None,
            generation: 0,
            failures: 0,
            every: Duration::from_std(every).unwrap_or(Duration::seconds(15)),
        }
    }

    /// Whether a poll should go now.
    pub fn due(&self, now: DateTime<Utc>) -> bool {
        let lost = Duration::from_std(LOST_AFTER).unwrap_or(Duration::seconds(90));
        match self.in_flight {
            Some((_, sent)) => now - sent >= lost,
            None => now >= self.next_at,
        }
    }

    /// Marks a poll as sent and returns its generation.
    pub fn begin(&mut self, now: DateTime<Utc>) -> u64 {
        self.generation += 1;
        self.in_flight = Some((self.generation, now));
        self.generation
    }

    /// Whether a poll is under way.
    pub fn polling(&self) -> bool {
        self.in_flight.is_some()
    }

    /// Takes an answer; one for an older poll (or another session) is ignored.
    pub fn answer(&mut self, now: DateTime<Utc>, a: WatchAnswer) -> Outcome {
        let mut out = Outcome::default();
        match self.in_flight {
            Some((g, _)) if g == a.generation => {}
            _ => return out,
        }
        self.in_flight = None;
        let first = self.pending.is_none();
        let mut failed = None;
        match a.break_glass {
            Ok(ids) => {
                let ids: BTreeSet<String> = ids.into_iter().collect();
                if first {
                    // Pending already at login: counted, not an arrival.
                    self.acknowledged.extend(ids.iter().cloned());
                } else {
                    out.arrived = ids.iter().any(|id| !self.known.contains(id));
                }
                self.known.extend(ids.iter().cloned());
                self.pending = Some(ids);
            }
            Err(f) => failed = Some(f),
        }
        match a.disputes {
            Ok(n) => self.disputes = Some(n),
            Err(f) => failed = failed.or(Some(f)),
        }
        match failed {
            None => {
                self.stale = false;
                self.failures = 0;
                self.next_at = now + self.every;
            }
            Some(f) => {
                use okaz_protocol::ErrorCode;
                match f.code() {
                    Some(
                        ErrorCode::SessionExpired
                        | ErrorCode::AccountLocked
                        | ErrorCode::DailyLimitExceeded,
                    ) => out.ends = Some(f),
                    Some(ErrorCode::NotPermitted) => out.refused = true,
                    _ => {}
                }
                self.stale = true;
                self.failures = self.failures.saturating_add(1);
                self.next_at = now + self.backoff();
            }
        }
        out
    }

    /// The wait after the current run of failures: the interval doubled
    /// per failure, at most [`MAX_BACKOFF`].
    pub fn backoff(&self) -> Duration {
        let max = Duration::from_std(MAX_BACKOFF).unwrap_or(Duration::seconds(240));
        let factor = 1i32 << self.failures.min(8);
        (self.every * factor).min(max)
    }

    /// The officer opened the break-glass list: what is pending is seen.
    pub fn acknowledge(&mut self) {
        if let Some(p) = &self.pending {
            self.acknowledged.extend(p.iter().cloned());
        }
    }

    /// The F5 list came: the freshest word on what is pending, and seen.
    pub fn listed(&mut self, pending: Vec<String>) {
        let ids: BTreeSet<String> = pending.into_iter().collect();
        self.known.extend(ids.iter().cloned());
        self.acknowledged.extend(ids.iter().cloned());
        self.pending = Some(ids);
    }

    /// How many break-glass checks await countersign, once known.
    pub fn break_glass(&self) -> Option<usize> {
        self.pending.as_ref().map(BTreeSet::len)
    }

    /// Whether a break-glass arrived that the officer has not seen on F5.
    pub fn highlighted(&self) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|p| p.iter().any(|id| !self.acknowledged.contains(id)))
    }

    /// Whether the banner has anything to say.
    pub fn shows(&self) -> bool {
        self.break_glass().unwrap_or(0) > 0 || self.disputes.unwrap_or(0) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(g: u64, ids: &[&str], disputes: usize) -> WatchAnswer {
        WatchAnswer {
            generation: g,
            break_glass: Ok(ids.iter().map(|s| s.to_string()).collect()),
            disputes: Ok(disputes),
        }
    }

    #[test]
    fn a_stale_answer_is_ignored_and_backoff_is_capped() {
        let now = Utc::now();
        let mut w = Watch::new(now, POLL_INTERVAL);
        assert!(w.due(now));
        let g = w.begin(now);
        assert!(!w.due(now + Duration::seconds(60)));
        assert_eq!(w.answer(now, answer(g + 1, &["x"], 0)), Outcome::default());
        assert!(w.pending.is_none() && w.polling());
        w.answer(now, answer(g, &["a"], 1));
        assert_eq!((w.break_glass(), w.disputes), (Some(1), Some(1)));
        assert!(!w.highlighted(), "pending at login is not an arrival");
        w.failures = 30;
        assert_eq!(w.backoff(), Duration::seconds(240));
    }
}
