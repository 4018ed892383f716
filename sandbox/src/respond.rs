//! Building HTTP answers and reading queries: shared by the register server
//! and the eID provider, so neither has to reach into the other for them.

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::Serialize;

/// Every answer the sandbox gives: a complete body, never streamed.
pub(crate) type Resp = Response<Full<Bytes>>;

/// An answer with `status`, `content_type` and `body`.
pub(crate) fn reply(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

/// A JSON answer (500 if `value` cannot be serialised).
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(b) => reply(status, "application/json", b),
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "serialisation failed",
        ),
    }
}

/// A plain-text answer.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Resp {
    reply(status, "text/plain; charset=utf-8", body)
}

/// The request's query parameters (the last copy of a repeated one wins).
pub(crate) fn query_map(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}
