//! What every request handler shares: the broker, the metrics, the
//! listener's limits and the citizen portal. Its own module, so that the
//! HTTP layer and the portal both depend on it and not on each other.

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
    pub portal: Option<Arc<crate::portal::Portal>>,
    /// The transparency log's integrator and key.
    pub tlog: Arc<crate::tlog::Transparency>,
}
