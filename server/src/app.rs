//! What every request handler shares: the broker, the metrics, the
//! listener's limits and the citizen portal. Its own module, so that the
//! HTTP layer and the portal both depend on it and not on each other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use okaz_core::broker::Broker;

use crate::metrics::Metrics;

/// What every request handler shares.
pub struct App {
    /// The broker.
    pub broker: Broker,
    /// Metrics.
    pub metrics: Metrics,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// The citizen portal, when configured (`[portal]`).
    pub portal: Option<Arc<okaz_portal::Portal>>,
    /// The transparency log's integrator and key.
    pub tlog: Arc<crate::tlog::Transparency>,
    /// Set on SIGTERM: readiness fails and HTTP/1.1 answers close their
    /// connection, so clients move to another replica before this one stops.
    pub draining: AtomicBool,
    /// The token Kannel's delivery reports must carry; `None` refuses them all.
    pub dlr_token: Option<Vec<u8>>,
}

impl App {
    /// Starts draining (see [`App::draining`]).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.metrics.set_draining();
    }

    /// Whether this replica is draining.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}
