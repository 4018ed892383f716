//! The operations listener: `/healthz`, `/readyz` and `/metrics` for the
//! load balancer and Prometheus, on its own address (`[server] ops_listen`,
//! loopback by default), never on the API port, so that what the broker
//! measures about itself is not answered to anyone who can reach the API.
//! Plain HTTP/1.1: it is meant for the private network only, and HAProxy's
//! health checks and Prometheus' scrapes need no client certificates.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::app::App;
use okaz_core::audit::{AuditEntry, AuditEvent};

type Resp = Response<Full<Bytes>>;

/// Answers one operations request.
pub async fn handle<B>(app: &App, req: &Request<B>) -> Resp {
    if req.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" => ready(app).await,
        "/metrics" => text(
            StatusCode::OK,
            &format!("{}{}", app.metrics.render(), app.tlog.status.render()),
        ),
        "/kannel/dlr" => delivery_report(app, req.uri().query().unwrap_or("")).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Ready when not draining, the database answers and no witness has
/// refused the audit log's checkpoint.
async fn ready(app: &App) -> Resp {
    if app.is_draining() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "draining\n");
    }
    if app
        .tlog
        .status
        .alarm
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit log alarm: a witness refused a checkpoint\n",
        );
    }
    match app.broker.store.ping().await {
        Ok(()) => text(StatusCode::OK, "ready\n"),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n"),
    }
}

/// What a Kannel report type (`%d` in the `dlr-url`) means.
fn report_status(kind: &str) -> &'static str {
    match kind {
        "1" => "delivered",
        "2" => "failed",
        "4" => "buffered",
        "8" => "smsc_accepted",
        "16" => "smsc_rejected",
        _ => "other",
    }
}

/// Kannel's delivery report for one challenge's code: authenticated by the
/// deployment's token (constant-time compare), counted by status, and, when
/// final, audited against the challenge. It never names the phone number
/// (Kannel could add it; the URL asks for no `%p`).
async fn delivery_report(app: &App, query: &str) -> Resp {
    let mut token = None;
    let mut reference = None;
    let mut kind = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "token" => token = Some(v.into_owned()),
            "ref" => reference = Some(v.into_owned()),
            "type" => kind = Some(v.into_owned()),
            _ => {}
        }
    }
    let authentic = match (&app.dlr_token, &token) {
        (Some(expected), Some(given)) => bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            given.as_bytes(),
        )),
        _ => false,
    };
    if !authentic {
        tracing::warn!("delivery report refused: wrong or missing token");
        return text(StatusCode::FORBIDDEN, "forbidden\n");
    }
    // Only a challenge id is accepted as reference, so nothing else reaches the audit.
    let Some(reference) = reference.filter(|r| uuid::Uuid::parse_str(r).is_ok()) else {
        return text(StatusCode::BAD_REQUEST, "ref must be a challenge id\n");
    };
    let status = report_status(kind.as_deref().unwrap_or_default());
    app.metrics.delivery_report(status);
    let event = match status {
        "delivered" => Some(AuditEvent::SmsDelivered),
        "failed" | "smsc_rejected" => Some(AuditEvent::SmsFailed),
        _ => None,
    };
    if let Some(event) = event {
        let entry = AuditEntry::new(app.broker.clock.now(), event, "system", "sms-gateway")
            .verification(&reference);
        if let Err(e) = app.broker.store.append_audit(entry).await {
            tracing::warn!(error = %e, "delivery report not recorded");
            // Kannel retries a report that was not taken.
            return text(StatusCode::SERVICE_UNAVAILABLE, "not recorded\n");
        }
    }
    tracing::info!(verification = %reference, status, "SMS delivery report");
    text(StatusCode::OK, "ok\n")
}

fn text(status: StatusCode, s: &str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(s.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Connections the operations listener serves at once; it answers a
/// load balancer, Prometheus and Kannel, a handful of clients, so more is a
/// fault or an attack, and those are closed at once.
const OPS_MAX_CONNECTIONS: usize = 128;

/// The operations listener's bounds: a request line and headers within
/// 5 s, 30 s without a request closes, a connection lives at most
/// 10 minutes, and a request is answered within 10 s (503 otherwise).
const OPS_BOUNDS: super::connections::Bounds = super::connections::Bounds {
    header_timeout: Duration::from_secs(5),
    idle_timeout: Duration::from_secs(30),
    max_age: Duration::from_secs(600),
    drain: Duration::from_secs(2),
};
const OPS_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the operations listener until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    use super::connections::{self, Admission};
    let (graceful, _) = tokio::sync::watch::channel(false);
    // Its own counters: `okaz_connections_*` describes the API listener.
    let stats = Arc::new(connections::ConnectionStats::default());
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (tcp, _peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "ops accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = match connections::admit(&stats, OPS_MAX_CONNECTIONS) {
            Admission::Admitted(slot) => slot,
            Admission::Refuse(_) | Admission::Close => {
                tracing::warn!("ops listener at its connection cap: connection closed");
                continue;
            }
        };
        let accepted = tokio::time::Instant::now();
        let app = app.clone();
        let activity = Arc::new(connections::Activity::default());
        let counted = activity.clone();
        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
            let app = app.clone();
            let in_flight = counted.start();
            async move {
                let _in_flight = in_flight;
                let answer = tokio::time::timeout(OPS_REQUEST_TIMEOUT, handle(&app, &req)).await;
                Ok::<_, std::convert::Infallible>(
                    answer.unwrap_or_else(|_| text(StatusCode::SERVICE_UNAVAILABLE, "timed out\n")),
                )
            }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(OPS_BOUNDS.header_timeout)
            .serve_connection(TokioIo::new(tcp), service);
        let watcher = graceful.subscribe();
        let stats = stats.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let ended = connections::drive(
                conn,
                |c| c.graceful_shutdown(),
                &activity,
                OPS_BOUNDS,
                accepted,
                &stats,
                watcher,
            )
            .await;
            if let Err(e) = ended {
                tracing::debug!(error = %e, "ops connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = graceful.send(true);
    tokio::select! {
        () = graceful.closed() => {},
        () = tokio::time::sleep(Duration::from_secs(2)) => {},
    }
}
