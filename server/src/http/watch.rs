//! Break-glass and anomaly-signal routes: translate only; the rules are in
//! `okaz_core::break_glass` and `okaz_core::signals`.

use http::{Request, StatusCode};
use okaz_portal::web::RequestBody;
use okaz_protocol::{BreakGlassDecision, BreakGlassRequest, BreakGlassVerdict};

use super::routes::Route;
use super::{bearer, json, outcome, read_json, Resp};
use crate::app::App;
use okaz_core::broker::Authenticated;
use okaz_core::error::BrokerError;
use okaz_protocol::ErrorCode;

/// `POST /v1/break-glass`: the officer's emergency check.
pub(super) async fn break_glass<B: RequestBody>(
    app: &App,
    req: Request<B>,
) -> Result<Resp, BrokerError> {
    let token = bearer(&req)?;
    let cert = super::peer_certificate(&req);
    let body = read_json::<BreakGlassRequest, _>(req, app.max_body).await;
    let document = body
        .as_ref()
        .map(|v| v.document.as_str())
        .unwrap_or("invalid");
    let r = app
        .broker
        .break_glass_verification(super::with_certificate(&token, &cert), body)
        .await;
    app.metrics.verification(outcome(&r));
    app.metrics.verification_start(document, outcome(&r));
    let (v, overrides) = r?;
    // The alert the unit's supervisors act on, at once.
    app.metrics.break_glass("used", overrides.as_str());
    json(StatusCode::CREATED, &v)
}

/// The supervisors' routes.
pub(super) async fn admin<B: RequestBody>(
    app: &App,
    route: Route,
    id: &str,
    auth: &Authenticated,
    req: Request<B>,
) -> Result<Resp, BrokerError> {
    let b = &app.broker;
    match route {
        Route::BreakGlassList => json(StatusCode::OK, &b.break_glass_list(auth).await?),
        Route::BreakGlassDecision => {
            let body: BreakGlassDecision = read_json(req, app.max_body).await?;
            let verdict = body.decision;
            let view = b.decide_break_glass(Some(auth), id, body).await?;
            let event = match verdict {
                BreakGlassVerdict::Countersign => "countersigned",
                BreakGlassVerdict::Reject => "rejected",
            };
            app.metrics.break_glass(event, &view.overrides);
            json(StatusCode::OK, &view)
        }
        Route::Signals => json(StatusCode::OK, &b.signals(auth).await?),
        _ => Err(BrokerError::refused(ErrorCode::NotFound)),
    }
}
