//! The retention sweeper: on every replica, every so often, one pass of
//! the core's rules ([`okaz_core::retention`]) in batches. Passes on
//! several replicas at once are safe: each batch is idempotent and, on
//! PostgreSQL, skips rows another replica is sweeping.

use std::time::Duration;

use okaz_core::broker::Broker;
use okaz_core::ports::StoreError;
use okaz_core::retention::{self, Swept};

/// Rows per rule per batch: small enough to hold no lock for long.
pub const BATCH: u32 = 500;

/// How often a replica sweeps.
pub const EVERY: Duration = Duration::from_secs(30);

/// One pass at the broker's `now`: batches until no rule fills one.
pub async fn sweep_once(broker: &Broker) -> Result<Swept, StoreError> {
    let g = &broker.policy.global;
    let due = retention::due(broker.clock.now(), &g.retention, g.time_zone);
    let mut total = Swept::default();
    loop {
        let batch = broker.store.sweep(&due, BATCH).await?;
        total.add(batch);
        if !batch.full(BATCH) {
            return Ok(total);
        }
    }
}

/// Sweeps every `every` until the task is aborted; a failed pass is
/// logged and tried again at the next tick.
pub fn spawn(broker: Broker, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_once(&broker).await {
                Ok(s) if s != Swept::default() => tracing::info!(
                    seals_wiped = s.seals_wiped,
                    challenges_deleted = s.challenges_deleted,
                    sessions_deleted = s.sessions_deleted,
                    counters_deleted = s.counters_deleted,
                    "retention sweep"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention sweep failed; next pass retries"),
            }
        }
    })
}
