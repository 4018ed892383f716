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
use hyper_util::server::graceful::GracefulShutdown;
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

/// Serves the operations listener until `shutdown` resolves.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
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
        let app = app.clone();
        let service = service_fn(move |req: Request<hyper::body::Incoming>| {
            let app = app.clone();
            async move { Ok::<_, std::convert::Infallible>(handle(&app, &req).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(5))
            .serve_connection(TokioIo::new(tcp), service);
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "ops connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(Duration::from_secs(2)) => {},
    }
}
