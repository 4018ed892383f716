//! The citizen portal (`/citizen/…`): eID sign-in, activation and the
//! history of checks. Built in its own issue; until then every page says so.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;

use crate::http::App;

/// Answers a request under `/citizen`.
pub async fn handle<B>(_app: &App, _req: Request<B>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(
        b"<!doctype html><title>okaz</title><p>The citizen portal is not available yet.</p>",
    )));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
