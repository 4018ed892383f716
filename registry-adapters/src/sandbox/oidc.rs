//! OpenID Connect provider for the citizen portal (the national eID stand-in).
//! Not built yet: every OIDC path answers 501 so a client fails clearly.

use std::collections::HashMap;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};

use super::server::{text, Resp, State};

/// Answers OIDC paths.
pub(crate) async fn handle(
    _state: &State,
    _req: Request<Incoming>,
    _segs: &[&str],
    _q: &HashMap<String, String>,
) -> Resp {
    text(
        StatusCode::NOT_IMPLEMENTED,
        "OpenID Connect provider not implemented yet",
    )
}
