//! What the broker learns about each outbound call: the request id that
//! travels with it as `X-Request-Id`, and an observer told how long each
//! call took and how it ended (for metrics). Neither carries a person.

use std::sync::Arc;
use std::time::Duration;

tokio::task_local! {
    /// The id of the broker request being served; set by the HTTP layer
    /// around each request, read when a register or the SMS gateway is asked.
    pub static REQUEST_ID: String;
}

/// The header the request id travels in.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The current request's id, if the call happens while serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Told of every outbound call: which upstream (a register's name, or
/// `sms`), how long it took, and its outcome (`ok` or an error kind).
pub trait CallObserver: Send + Sync {
    /// One finished call.
    fn observe(&self, upstream: &'static str, took: Duration, outcome: &'static str);
}

/// A shared observer.
pub type Observer = Arc<dyn CallObserver>;
