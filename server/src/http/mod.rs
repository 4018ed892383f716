//! The HTTP API v1: routes requests to the broker, maps answers and errors
//! to JSON and problem+json. Handlers only translate; rules live in `core`.

pub mod client_auth;
pub mod connections;
pub mod errors;
pub mod ops;
pub mod photo_fit;
pub mod routes;
pub mod server;
pub mod tls;
mod watch;

use okaz_portal::web::RequestBody;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use okaz_protocol::{
    BindCertificateRequest, BundleRequest, CodeRequest, ErrorCode, LoginRequest, PinLoginRequest,
    Problem, ReasonRequest, VerificationRequest,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::app::App;
use errors::{problem, problem_response};
use okaz_core::broker::{Authenticated, Bearer, Broker, PresentedCertificate};
use okaz_core::error::{BrokerError, Refusal};
use okaz_core::ports::AuditFilter;
use routes::{Matched, Route};

/// The SHA-256 fingerprint (hex) of the client certificate the TLS layer
/// verified for this connection, attached to each of its requests.
#[derive(Debug, Clone)]
pub struct PeerCertificate(pub String);

/// The address of the client of this connection, attached to each of its
/// requests (logins are throttled by it).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

type Resp = Response<Full<Bytes>>;

/// Answers one request. Never fails: every error becomes a problem document.
pub async fn handle<B: RequestBody>(
    app: Arc<App>,
    req: Request<B>,
) -> Result<Resp, std::convert::Infallible> {
    let request_id = uuid::Uuid::new_v4().to_string();
    // Every log line of this request names it, and the register and SMS
    // clients send it on as `X-Request-Id`.
    let span = tracing::info_span!("request", request_id = %request_id);
    let answered = okaz_registry::trace::REQUEST_ID.scope(
        request_id.clone(),
        tracing::Instrument::instrument(answer(app, req, request_id), span),
    );
    Ok(answered.await)
}

async fn answer<B: RequestBody>(app: Arc<App>, req: Request<B>, request_id: String) -> Resp {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let (label, resp) = if path == "/citizen" || path.starts_with("/citizen/") {
        // The citizen portal: HTML pages with their own session and errors.
        (
            "citizen portal".to_string(),
            okaz_portal::handle(app.portal.as_deref(), &app.broker, req).await,
        )
    } else {
        match routes::find(&method, &path) {
            Matched::Route(route, pattern, id) => {
                let id = id.map(str::to_string);
                let label = format!("{method} {pattern}");
                let resp = match dispatch(&app, route, id.as_deref(), req).await {
                    Ok(r) => r,
                    Err(e) => problem_response(&e, &request_id),
                };
                (label, resp)
            }
            Matched::WrongMethod => (
                "unmatched".to_string(),
                plain_problem(ErrorCode::InvalidRequest, 405, "method not allowed here"),
            ),
            Matched::NotFound => (
                "unmatched".to_string(),
                plain_problem(ErrorCode::NotFound, 404, "no such path"),
            ),
        }
    };
    let status = resp.status().as_u16();
    app.metrics.request(&label, status, started.elapsed());
    // The path pattern, never the concrete path or query: a query may hold a PESEL.
    tracing::info!(route = %label, status, ms = started.elapsed().as_millis() as u64, "request");
    let mut resp = resp;
    if let Ok(v) = http::HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    if app.is_draining() {
        // HTTP/1.1 clients open their next connection elsewhere (HTTP/2
        // ones get a GOAWAY when the listener stops); harmless on HTTP/2,
        // where hyper drops connection-specific headers.
        resp.headers_mut()
            .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
    }
    resp
}

fn plain_problem(code: ErrorCode, status: u16, detail: &str) -> Resp {
    let mut p = Problem::new(code, status);
    p.detail = Some(detail.to_string());
    problem(p)
}

async fn dispatch<B: RequestBody>(
    app: &App,
    route: Route,
    id: Option<&str>,
    req: Request<B>,
) -> Result<Resp, BrokerError> {
    let b = &app.broker;
    match route {
        Route::Checkpoint => json(StatusCode::OK, &checkpoint(app).await?),
        Route::Login => {
            let client = client_address(&req);
            let body: LoginRequest = read_json(req, app.max_body).await?;
            json(
                StatusCode::CREATED,
                &b.login(body, client.as_deref()).await?,
            )
        }
        Route::CertificateLogin => {
            let fingerprint = peer_certificate(&req);
            let units = req
                .extensions()
                .get::<client_auth::PeerUnits>()
                .map(|u| u.0.clone())
                .unwrap_or_else(|| Vec::new().into());
            let presented = fingerprint.as_deref().map(|f| PresentedCertificate {
                fingerprint: f,
                units: &units,
            });
            let client = client_address(&req);
            let body: PinLoginRequest = read_json(req, app.max_body).await?;
            json(
                StatusCode::CREATED,
                &b.login_with_certificate(presented, body.pin, client.as_deref())
                    .await?,
            )
        }
        Route::CreateOfficer => {
            let auth = authenticate(b, &req).await?;
            let body = read_json(req, app.max_body).await;
            let r = async { b.create_officer(Some(&auth), body?).await }.await;
            respond(b, &auth, StatusCode::CREATED, r).await
        }
        // The hot path authenticates inside the broker, in the same
        // round trips as the work itself.
        Route::StartVerification => {
            let token = bearer(&req)?;
            let cert = peer_certificate(&req);
            let key = idempotency_key(&req);
            let body = read_json::<VerificationRequest, _>(req, app.max_body).await;
            let document = body
                .as_ref()
                .map(|v| v.document.as_str())
                .unwrap_or("invalid");
            let fit = body.as_ref().ok().and_then(|v| v.photo);
            let r = b
                .start_verification_once(with_certificate(&token, &cert), key.as_deref(), body)
                .await;
            app.metrics.verification(outcome(&r));
            app.metrics.verification_start(document, outcome(&r));
            let mut v = r?;
            photo_fit::fit_verification(&mut v, fit);
            json(StatusCode::CREATED, &v)
        }
        Route::StartBundle => {
            let token = bearer(&req)?;
            let cert = peer_certificate(&req);
            let key = idempotency_key(&req);
            let body = read_json::<BundleRequest, _>(req, app.max_body).await;
            let document = "bundle";
            let fit = body.as_ref().ok().and_then(|v| v.photo);
            let r = b
                .start_bundle_once(with_certificate(&token, &cert), key.as_deref(), body)
                .await;
            app.metrics.verification(outcome(&r));
            app.metrics.verification_start(document, outcome(&r));
            let mut v = r?;
            photo_fit::fit_parts(&mut v.parts, fit);
            json(StatusCode::CREATED, &v)
        }
        Route::AnswerCode => {
            let token = bearer(&req)?;
            let cert = peer_certificate(&req);
            let body = read_json::<CodeRequest, _>(req, app.max_body).await;
            let fit = body.as_ref().ok().and_then(|v| v.photo);
            let r = b
                .answer_code(
                    with_certificate(&token, &cert),
                    id.unwrap_or_default(),
                    body,
                )
                .await;
            app.metrics.verification(outcome(&r));
            let mut v = r?;
            photo_fit::fit_verification(&mut v, fit);
            json(StatusCode::OK, &v)
        }
        Route::BreakGlass => watch::break_glass(app, req).await,
        _ => {
            let auth = authenticate(b, &req).await?;
            let r = authed(app, route, id, &auth, req).await;
            match r {
                Ok(resp) => Ok(resp),
                Err(e) => Err(b.with_quota(&auth, e)),
            }
        }
    }
}

/// Routes that need a session; their errors get the quota attached.
async fn authed<B: RequestBody>(
    app: &App,
    route: Route,
    id: Option<&str>,
    auth: &Authenticated,
    req: Request<B>,
) -> Result<Resp, BrokerError> {
    let b = &app.broker;
    let id = id.unwrap_or_default();
    match route {
        Route::Me => json(StatusCode::OK, &b.me(auth).await?),
        Route::Logout => {
            b.logout(auth).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Route::CancelVerification => {
            b.cancel_verification(auth, id).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Route::Lockouts => {
            if req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == "format=csv"))
            {
                let csv = b.export_lockouts(auth).await?;
                let mut r = text(StatusCode::OK, &csv);
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/csv; charset=utf-8"),
                );
                r.headers_mut().insert(
                    header::CONTENT_DISPOSITION,
                    http::HeaderValue::from_static("attachment; filename=\"lockouts.csv\""),
                );
                return Ok(r);
            }
            json(StatusCode::OK, &b.lockouts(auth).await?)
        }
        Route::Accounts => json(StatusCode::OK, &b.accounts(auth).await?),
        Route::Disable | Route::Enable => {
            let body: ReasonRequest = read_json(req, app.max_body).await?;
            b.set_disabled(Some(auth), id, route == Route::Disable, &body.reason)
                .await?;
            json(
                StatusCode::OK,
                &serde_json::json!({ "officer": id, "disabled": route == Route::Disable }),
            )
        }
        Route::ResetPassword => json(StatusCode::OK, &b.reset_password(Some(auth), id).await?),
        Route::ResetTotp => json(StatusCode::OK, &b.reset_totp(Some(auth), id).await?),
        Route::BindCertificate => {
            let body: BindCertificateRequest = read_json(req, app.max_body).await?;
            let pin = b
                .bind_certificate(Some(auth), id, &body.fingerprint)
                .await?;
            json(StatusCode::OK, &serde_json::json!({ "pin": pin }))
        }
        Route::Unlock => {
            let body = read_json(req, app.max_body).await?;
            b.unlock(Some(auth), id, body).await?;
            json(StatusCode::OK, &serde_json::json!({ "unlocked": id }))
        }
        Route::InclusionProof | Route::ConsistencyProof => {
            b.require_admin(auth)?;
            json(
                StatusCode::OK,
                &proof(app, route, req.uri().query().unwrap_or("")).await?,
            )
        }
        Route::Disputes => {
            // `?status=all` lists resolved ones too; the default is the open ones.
            let all = req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|p| p == "status=all"));
            json(StatusCode::OK, &b.unit_disputes(auth, !all).await?)
        }
        Route::ResolveDispute => {
            let body: okaz_protocol::ResolveDispute = read_json(req, app.max_body).await?;
            b.resolve_dispute(auth, id, &body.reason).await?;
            json(StatusCode::OK, &serde_json::json!({ "resolved": id }))
        }
        Route::Audit => {
            let (filter, pesel) = audit_query(req.uri().query().unwrap_or(""))?;
            json(
                StatusCode::OK,
                &b.audit_search(auth, filter, pesel.as_deref()).await?,
            )
        }
        Route::BreakGlassList | Route::BreakGlassDecision | Route::Signals => {
            watch::admin(app, route, id, auth, req).await
        }
        _ => Err(BrokerError::refused(ErrorCode::NotFound)),
    }
}

async fn respond<T: Serialize>(
    b: &Broker,
    auth: &Authenticated,
    status: StatusCode,
    r: Result<T, BrokerError>,
) -> Result<Resp, BrokerError> {
    match r {
        Ok(v) => json(status, &v),
        Err(e) => Err(b.with_quota(auth, e)),
    }
}

fn outcome<T>(r: &Result<T, BrokerError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code().as_str(),
    }
}

/// The latest signed checkpoint with its cosignatures, the origin and the
/// log's public key: what anyone needs to check the log.
async fn checkpoint(app: &App) -> Result<serde_json::Value, BrokerError> {
    let latest = app.broker.store.checkpoints(1).await?;
    let note = match latest.first() {
        Some(cp) => Some(
            cp.with_cosignatures()
                .map_err(|e| BrokerError::Internal(format!("stored checkpoint: {e}")))?
                .render(),
        ),
        None => None,
    };
    Ok(serde_json::json!({
        "origin": app.tlog.origin(),
        "log_key": app.tlog.verifier(),
        "checkpoint": note,
    }))
}

/// An inclusion or consistency proof from the stored tree.
async fn proof(app: &App, route: Route, query: &str) -> Result<serde_json::Value, BrokerError> {
    use base64::Engine;
    let bad =
        |what: String| BrokerError::from(Refusal::new(ErrorCode::InvalidRequest).detail(what));
    let mut params = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let n: u64 = v
            .parse()
            .map_err(|_| bad(format!("{k}: a non-negative number expected")))?;
        params.insert(k.into_owned(), n);
    }
    let get = |k: &str| {
        params
            .get(k)
            .copied()
            .ok_or_else(|| bad(format!("{k} is required")))
    };
    let store = app.broker.store.as_ref();
    let size = store.tree_size().await?;
    let refuse = |e: okaz_core::tlog::TrailError| match e {
        okaz_core::tlog::TrailError::Store(s) => BrokerError::from(s),
        other => bad(format!("{other} (the tree has {size} leaves)")),
    };
    let b64 = |p: Vec<okaz_tlog::merkle::Hash>| {
        p.iter()
            .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
            .collect::<Vec<_>>()
    };
    if route == Route::InclusionProof {
        let (leaf, size) = (get("leaf")?, get("size")?);
        let p = okaz_core::tlog::inclusion(store, leaf, size)
            .await
            .map_err(refuse)?;
        Ok(serde_json::json!({ "leaf": leaf, "size": size, "proof": b64(p) }))
    } else {
        let (from, to) = (get("from")?, get("to")?);
        let p = okaz_core::tlog::consistency(store, from, to)
            .await
            .map_err(refuse)?;
        Ok(serde_json::json!({ "from": from, "to": to, "proof": b64(p) }))
    }
}

fn audit_query(query: &str) -> Result<(AuditFilter, Option<String>), BrokerError> {
    let mut f = AuditFilter {
        limit: 100,
        ..AuditFilter::default()
    };
    let mut pesel = None;
    let bad = |what: &str| Refusal::new(ErrorCode::InvalidRequest).detail(what.to_string());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "officer" => f.officer = Some(v.into_owned()),
            "pesel" => pesel = Some(v.into_owned()),
            "since" => {
                f.since = Some(time(&v).ok_or_else(|| bad("since: RFC 3339 time expected"))?)
            }
            "until" => {
                f.until = Some(time(&v).ok_or_else(|| bad("until: RFC 3339 time expected"))?)
            }
            "limit" => f.limit = v.parse().map_err(|_| bad("limit: a number expected"))?,
            other => return Err(bad(&format!("unknown parameter {other}")).into()),
        }
    }
    Ok((f, pesel))
}

fn time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The client's address, as the listener saw it.
fn client_address<B>(req: &Request<B>) -> Option<String> {
    req.extensions().get::<ClientAddress>().map(|c| c.0.clone())
}

/// The bearer token of a request.
fn bearer<B>(req: &Request<B>) -> Result<String, BrokerError> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| BrokerError::refused(ErrorCode::SessionExpired))
}

/// The `Idempotency-Key` header, as sent (checked by the broker).
fn idempotency_key<B>(req: &Request<B>) -> Option<String> {
    req.headers()
        .get("idempotency-key")
        // A header that is not text is kept as "", which the broker refuses.
        .map(|v| v.to_str().unwrap_or_default().trim().to_string())
}

async fn authenticate<B>(b: &Broker, req: &Request<B>) -> Result<Authenticated, BrokerError> {
    let token = bearer(req)?;
    let cert = peer_certificate(req);
    b.authenticate(with_certificate(&token, &cert)).await
}

/// The fingerprint of the client certificate the connection presented.
pub(super) fn peer_certificate<B>(req: &Request<B>) -> Option<String> {
    req.extensions()
        .get::<PeerCertificate>()
        .map(|p| p.0.clone())
}

/// A bearer token with the connection's certificate: a session bound to a
/// terminal's certificate is refused without it.
pub(super) fn with_certificate<'a>(token: &'a str, certificate: &'a Option<String>) -> Bearer<'a> {
    Bearer {
        token,
        certificate: certificate.as_deref(),
    }
}

/// Reads a bounded JSON body. Oversized, unreadable or malformed bodies are
/// refused with a precise message; unknown fields are refused by the types.
async fn read_json<T: DeserializeOwned, B: RequestBody>(
    req: Request<B>,
    max: usize,
) -> Result<T, BrokerError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !ct.starts_with("application/json") {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("content-type must be application/json")
                .into());
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(BrokerError::refused(ErrorCode::PayloadTooLarge));
    }
    let body = Limited::new(req.into_body(), max)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                BrokerError::refused(ErrorCode::PayloadTooLarge)
            } else {
                Refusal::new(ErrorCode::InvalidRequest)
                    .detail("the body could not be read")
                    .into()
            }
        })?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| {
        // Unknown and missing fields are named; for a wrong type or value only
        // the position is given, since serde's message would echo the value.
        let msg = e.to_string();
        let detail = match e.classify() {
            serde_json::error::Category::Data
                if msg.starts_with("unknown field") || msg.starts_with("missing field") =>
            {
                msg
            }
            serde_json::error::Category::Data => {
                format!(
                    "a field has the wrong type or value at line {} column {}",
                    e.line(),
                    e.column()
                )
            }
            _ => format!("malformed JSON at line {} column {}", e.line(), e.column()),
        };
        Refusal::new(ErrorCode::InvalidRequest)
            .detail(detail)
            .into()
    })
}

fn json<T: Serialize>(status: StatusCode, v: &T) -> Result<Resp, BrokerError> {
    let body = serde_json::to_vec(v).map_err(|e| BrokerError::Internal(e.to_string()))?;
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

fn text(status: StatusCode, s: &str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(s.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

fn empty(status: StatusCode) -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}
