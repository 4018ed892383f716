//! What a connection may hold, and for how long: a cap on concurrent
//! connections, a deadline for the first request, an idle timeout, a
//! maximum age, and the counters behind `okaz_connections_*`.
//!
//! A connection's life:
//!
//! ```text
//!  accept ──over the cap──▶ refused: TLS, one 503 problem+json, close
//!    │                      (or closed at once when too many are being refused)
//!    ▼
//!  TLS handshake ─ not done within header_timeout ─▶ closed
//!    ▼
//!  first request's headers (h1 request line, h2 preface + HEADERS)
//!    ─ not in within header_timeout of accept ─▶ closed (the "dribble")
//!    ▼
//!  serving ─ no request in flight and none started for idle_timeout ─▶ graceful close (h2 GOAWAY)
//!          ─ max_age since accept ─▶ graceful close
//!          ─ shutdown ─▶ graceful close
//!    ▼
//!  closing ─ in-flight requests not done within drain ─▶ closed
//! ```
//!
//! Per request the only work is two uncontended atomic increments on the
//! connection's own [`Activity`]; the timers run per connection, not per
//! request.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use okaz_protocol::{ErrorCode, Problem};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// How many refusals (TLS handshake plus one 503) may run at once; past
/// that, connections over the cap are closed at once, so that refusing
/// cannot itself become the overload.
pub const MAX_REFUSING: usize = 64;

/// Why the server closed a connection (a label of `okaz_connections_closed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// No TLS handshake or no first request within the header timeout.
    HeaderTimeout,
    /// No request for the idle timeout.
    Idle,
    /// Older than the maximum age.
    MaxAge,
}

/// Connection counters, shared by the listener and `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    open: AtomicUsize,
    refusing: AtomicUsize,
    refused_503: AtomicU64,
    refused_closed: AtomicU64,
    closed_header: AtomicU64,
    closed_idle: AtomicU64,
    closed_age: AtomicU64,
}

impl ConnectionStats {
    /// Connections open now (handshaking or serving).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Counts a close by the server.
    pub fn closed(&self, why: Closed) {
        let c = match why {
            Closed::HeaderTimeout => &self.closed_header,
            Closed::Idle => &self.closed_idle,
            Closed::MaxAge => &self.closed_age,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The samples of each `okaz_connections_*` family (the families'
    /// help texts are in [`crate::metrics::FAMILIES`]).
    pub fn samples(&self) -> [(&'static str, String); 3] {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            (
                "okaz_connections_open",
                format!("okaz_connections_open {}\n", self.open()),
            ),
            (
                "okaz_connections_refused_total",
                format!(
                    "okaz_connections_refused_total{{how=\"503\"}} {}\n\
                     okaz_connections_refused_total{{how=\"closed\"}} {}\n",
                    n(&self.refused_503),
                    n(&self.refused_closed)
                ),
            ),
            (
                "okaz_connections_closed_total",
                format!(
                    "okaz_connections_closed_total{{reason=\"header_timeout\"}} {}\n\
                     okaz_connections_closed_total{{reason=\"idle\"}} {}\n\
                     okaz_connections_closed_total{{reason=\"max_age\"}} {}\n",
                    n(&self.closed_header),
                    n(&self.closed_idle),
                    n(&self.closed_age)
                ),
            ),
        ]
    }

    #[cfg(test)]
    fn render(&self) -> String {
        self.samples().into_iter().map(|(_, s)| s).collect()
    }
}

/// What a new connection gets.
pub enum Admission {
    /// Served; the slot is freed when dropped.
    Admitted(Slot),
    /// Over the cap: answer one 503 and close; the permit is freed when dropped.
    Refuse(Refusing),
    /// Over the cap and too many refusals under way: close at once.
    Close,
}

/// Decides at accept time, before any TLS work, whether a connection is served.
pub fn admit(stats: &Arc<ConnectionStats>, max_connections: usize) -> Admission {
    if stats.open.fetch_add(1, Ordering::AcqRel) < max_connections {
        return Admission::Admitted(Slot(stats.clone()));
    }
    stats.open.fetch_sub(1, Ordering::AcqRel);
    if stats.refusing.fetch_add(1, Ordering::AcqRel) < MAX_REFUSING {
        stats.refused_503.fetch_add(1, Ordering::Relaxed);
        return Admission::Refuse(Refusing(stats.clone()));
    }
    stats.refusing.fetch_sub(1, Ordering::AcqRel);
    stats.refused_closed.fetch_add(1, Ordering::Relaxed);
    Admission::Close
}

/// One admitted connection's place under the cap.
#[derive(Debug)]
pub struct Slot(Arc<ConnectionStats>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One refusal under way.
#[derive(Debug)]
pub struct Refusing(Arc<ConnectionStats>);

impl Drop for Refusing {
    fn drop(&mut self) {
        self.0.refusing.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Requests started and finished on one connection.
#[derive(Debug, Default)]
pub struct Activity {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Activity {
    /// Marks a request as started; the guard marks it finished when dropped
    /// (answered, timed out, or reset by the client).
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.started.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    fn snapshot(&self) -> (u64, u64) {
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

/// A request in flight.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// The bounds one connection lives under.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// From accept to the first request's headers (TLS handshake included).
    pub header_timeout: Duration,
    /// Without a request in flight for this long, the connection is closed.
    pub idle_timeout: Duration,
    /// Closed gracefully this long after accept, however busy.
    pub max_age: Duration,
    /// After a graceful close begins, in-flight requests get this long.
    pub drain: Duration,
}

/// Idle is judged at quarter-timeout ticks: a connection is closed after
/// between one and one and a quarter idle timeouts without a request.
const IDLE_TICKS: u32 = 4;

/// Drives one connection under `bounds` until it ends. `graceful` starts a
/// graceful close (h1: close when idle; h2: GOAWAY, finish open streams).
/// `accepted` is when the TCP connection was accepted, so the TLS handshake
/// counts against the header timeout.
pub async fn drive<F, E>(
    conn: F,
    graceful: impl Fn(Pin<&mut F>),
    activity: &Activity,
    bounds: Bounds,
    accepted: Instant,
    stats: &ConnectionStats,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), E>
where
    F: Future<Output = Result<(), E>>,
{
    tokio::pin!(conn);
    let first_request = tokio::time::sleep_until(accepted + bounds.header_timeout);
    let age = tokio::time::sleep_until(accepted + bounds.max_age);
    let hard_stop = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(first_request, age, hard_stop);
    let tick = (bounds.idle_timeout / IDLE_TICKS).max(Duration::from_millis(10));
    let mut idle_check = tokio::time::interval_at(Instant::now() + tick, tick);
    idle_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut quiet_ticks = 0u32;
    let mut last = activity.snapshot();
    let mut first_checked = false;
    let mut closing = false;
    if *shutdown.borrow() {
        closing = true;
        graceful(conn.as_mut());
        hard_stop.as_mut().reset(Instant::now() + bounds.drain);
    }
    loop {
        tokio::select! {
            r = conn.as_mut() => return r,
            () = &mut first_request, if !first_checked => {
                first_checked = true;
                if activity.snapshot().0 == 0 {
                    // Nothing worth a graceful goodbye: drop it, closing the socket.
                    stats.closed(Closed::HeaderTimeout);
                    return Ok(());
                }
            }
            _ = idle_check.tick(), if !closing => {
                let now = activity.snapshot();
                let idle = now.0 == now.1 && now == last;
                last = now;
                quiet_ticks = if idle { quiet_ticks + 1 } else { 0 };
                if quiet_ticks >= IDLE_TICKS {
                    stats.closed(Closed::Idle);
                    closing = true;
                    graceful(conn.as_mut());
                    hard_stop.as_mut().reset(Instant::now() + bounds.drain);
                }
            }
            () = &mut age, if !closing => {
                stats.closed(Closed::MaxAge);
                closing = true;
                graceful(conn.as_mut());
                hard_stop.as_mut().reset(Instant::now() + bounds.drain);
            }
            changed = shutdown.changed(), if !closing => {
                // A dropped sender means the listener is gone: shut down too.
                if changed.is_err() || *shutdown.borrow() {
                    closing = true;
                    graceful(conn.as_mut());
                    hard_stop.as_mut().reset(Instant::now() + bounds.drain);
                }
            }
            () = &mut hard_stop => return Ok(()),
        }
    }
}

/// The answer to a connection over the cap.
fn busy() -> Response<Full<Bytes>> {
    let mut p = Problem::new(ErrorCode::ServiceUnavailable, 503);
    p.detail = Some("The broker is at its connection limit; try again shortly.".to_string());
    let mut r = super::errors::problem(p);
    r.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("5"),
    );
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}

/// Answers every request on a connection over the cap with 503
/// problem+json, closing it after the first answer or within the header
/// timeout, whichever comes first.
pub async fn refuse<IO>(io: IO, header_timeout: Duration, _permit: Refusing)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let answered = Arc::new(tokio::sync::Notify::new());
    let signal = answered.clone();
    let service = service_fn(move |_req: http::Request<hyper::body::Incoming>| {
        signal.notify_one();
        async { Ok::<_, std::convert::Infallible>(busy()) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(false);
    builder.http2().timer(TokioTimer::new());
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let deadline = tokio::time::sleep(header_timeout);
    tokio::pin!(deadline);
    tokio::select! {
        _ = conn.as_mut() => return,
        () = answered.notified() => conn.as_mut().graceful_shutdown(),
        () = &mut deadline => return,
    }
    // Let the 503 (and h2's GOAWAY) go out.
    let _ = tokio::time::timeout(header_timeout, conn).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_admits_then_refuses_then_closes() {
        let stats = Arc::new(ConnectionStats::default());
        let a = admit(&stats, 2);
        let b = admit(&stats, 2);
        assert!(matches!(a, Admission::Admitted(_)));
        assert!(matches!(b, Admission::Admitted(_)));
        let mut refusing = Vec::new();
        for _ in 0..MAX_REFUSING {
            let r = admit(&stats, 2);
            assert!(matches!(r, Admission::Refuse(_)));
            refusing.push(r);
        }
        assert!(matches!(admit(&stats, 2), Admission::Close));
        assert_eq!(stats.open(), 2);
        drop(a);
        assert!(matches!(admit(&stats, 2), Admission::Admitted(_)));
        let text = stats.render();
        assert!(
            text.contains(&format!(
                "okaz_connections_refused_total{{how=\"503\"}} {MAX_REFUSING}"
            )),
            "{text}"
        );
        assert!(
            text.contains("okaz_connections_refused_total{how=\"closed\"} 1"),
            "{text}"
        );
        drop(refusing);
        assert!(matches!(admit(&stats, 1), Admission::Refuse(_)));
    }

    fn bounds(header_ms: u64, idle_ms: u64) -> Bounds {
        Bounds {
            header_timeout: Duration::from_millis(header_ms),
            idle_timeout: Duration::from_millis(idle_ms),
            max_age: Duration::from_secs(3600),
            drain: Duration::from_millis(100),
        }
    }

    /// An outer bound only, far above what the server is configured to do.
    const PATIENCE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_connection_without_a_first_request_is_dropped_at_the_header_deadline() {
        let stats = ConnectionStats::default();
        let activity = Arc::new(Activity::default());
        let (_tx, rx) = watch::channel(false);
        let closes = std::cell::Cell::new(0);
        let r: Result<Result<(), ()>, _> = tokio::time::timeout(
            PATIENCE,
            drive(
                std::future::pending(),
                |_| closes.set(closes.get() + 1),
                &activity,
                bounds(200, 60_000),
                Instant::now(),
                &stats,
                rx,
            ),
        )
        .await;
        assert_eq!(r, Ok(Ok(())), "dropped, not left open");
        assert_eq!(
            closes.get(),
            0,
            "no graceful goodbye for a client that sent nothing"
        );
        assert!(stats.render().contains("reason=\"header_timeout\"} 1"));
    }

    #[tokio::test]
    async fn an_idle_connection_is_closed_gracefully_and_a_busy_one_is_not() {
        let stats = ConnectionStats::default();
        let activity = Arc::new(Activity::default());
        let (_tx, rx) = watch::channel(false);
        // A request in flight from the start, for five idle timeouts.
        let inflight = activity.start();
        let closes = std::cell::Cell::new(0);
        let run = drive(
            std::future::pending::<Result<(), ()>>(),
            |_| closes.set(closes.get() + 1),
            &activity,
            bounds(100, 200),
            Instant::now(),
            &stats,
            rx,
        );
        tokio::pin!(run);
        assert!(
            tokio::time::timeout(Duration::from_millis(1000), run.as_mut())
                .await
                .is_err()
        );
        assert_eq!(
            closes.get(),
            0,
            "a connection with a request in flight is not idle"
        );
        drop(inflight);
        // Idle from now on: a graceful close, then the drain bound ends it.
        assert!(tokio::time::timeout(PATIENCE, run).await.is_ok());
        assert_eq!(closes.get(), 1);
        assert!(stats.render().contains("reason=\"idle\"} 1"));
    }

    #[tokio::test]
    async fn shutdown_starts_a_graceful_close() {
        let stats = ConnectionStats::default();
        let activity = Arc::new(Activity::default());
        let _req = activity.start();
        let (tx, rx) = watch::channel(false);
        let closes = std::cell::Cell::new(0);
        let run = drive(
            std::future::pending::<Result<(), ()>>(),
            |_| closes.set(closes.get() + 1),
            &activity,
            bounds(100, 60_000),
            Instant::now(),
            &stats,
            rx,
        );
        tokio::pin!(run);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), run.as_mut())
                .await
                .is_err()
        );
        tx.send(true).unwrap();
        assert!(tokio::time::timeout(PATIENCE, run).await.is_ok());
        assert_eq!(closes.get(), 1);
    }
}
