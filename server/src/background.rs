//! The work every replica does beside answering requests: folding audit
//! records into the transparency log, the retention sweep, delivering the
//! notice outbox, and the watch (break-glass deadlines, anomaly signals).
//! `okaz-server serve` and `okaz demo` start the same set, so the demo
//! behaves as a deployment does. Each task is safe on many replicas at
//! once (advisory locks, conditional updates, `SKIP LOCKED` claims).

use std::sync::Arc;
use std::time::Duration;

use okaz_core::broker::Broker;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::notices::NoticesError;
use crate::tlog::Transparency;

/// The running background tasks; stopped when dropped.
pub struct Background {
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts every background task for this broker. Fails only if the
    /// notices' delivery cannot be built from `[notices]`.
    pub fn start(
        cfg: &Config,
        broker: &Broker,
        tlog: &Arc<Transparency>,
        metrics: &Metrics,
    ) -> Result<Background, NoticesError> {
        let mut tasks = vec![
            Arc::clone(tlog).spawn(),
            crate::retention::spawn(broker.clone(), crate::retention::EVERY),
            crate::watch::spawn(broker.clone(), metrics.clone()),
        ];
        let outbox = crate::notices::outbox(
            cfg.notices.as_ref(),
            broker,
            crate::wiring::portal_url(cfg),
            metrics,
        )?;
        if let Some(delivery) = outbox {
            let every = Duration::from_secs(
                cfg.notices
                    .as_ref()
                    .map_or(30, |n| n.poll_interval_secs.max(1)),
            );
            tasks.push(crate::notices::outbox_worker(
                delivery,
                broker.clock.clone(),
                every,
            ));
        }
        Ok(Background { tasks })
    }

    /// Stops every task (as dropping does), at a point the caller names.
    pub fn stop(self) {}
}

impl Drop for Background {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
