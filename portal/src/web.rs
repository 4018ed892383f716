//! HTTP odds and ends of the portal: cookies, forms, and answers with the
//! security headers every page carries.

use std::collections::HashMap;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};

/// The portal's answers.
pub type Resp = Response<Full<Bytes>>;

/// Largest form body accepted: the portal's forms hold a token and a code.
pub const MAX_FORM: usize = 8 * 1024;

/// A request body the handlers can read: what hyper hands in, or a test's
/// `Full<Bytes>`. One name for the bound every handler would spell out.
pub trait RequestBody:
    hyper::body::Body<Data = Bytes, Error: std::error::Error + Send + Sync + 'static> + Send + 'static
{
}

impl<B> RequestBody for B where
    B: hyper::body::Body<Data = Bytes, Error: std::error::Error + Send + Sync + 'static>
        + Send
        + 'static
{
}

/// The value of cookie `name` in the request, if sent once.
pub fn cookie<B>(req: &Request<B>, name: &str) -> Option<String> {
    let mut found = None;
    for v in req.headers().get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                if k == name {
                    if found.is_some() {
                        // Two cookies of one name: one may be planted; trust neither.
                        return None;
                    }
                    found = Some(val.to_string());
                }
            }
        }
    }
    found
}

/// A `Set-Cookie` value for a `__Host-` cookie: Secure, HttpOnly,
/// SameSite=Lax (the eID's redirect back is a top-level navigation from
/// another site, which Strict would strip), Path=/.
pub fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// A `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", 0)
}

/// The query parameters (a repeated parameter keeps its first value).
pub fn query<B>(req: &Request<B>) -> HashMap<String, String> {
    let mut q = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes()) {
        q.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    q
}

/// Reads an urlencoded form body; `None` if it is too large, unreadable,
/// of another type, or names a field twice.
pub async fn form<B: RequestBody>(req: Request<B>) -> Option<HashMap<String, String>> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return None;
    }
    let body = Limited::new(req.into_body(), MAX_FORM)
        .collect()
        .await
        .ok()?
        .to_bytes();
    let mut f = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body).into_owned() {
        if f.insert(k, v).is_some() {
            return None;
        }
    }
    Some(f)
}

/// The headers every portal answer carries. `form_to` is the eID's origin,
/// where known, so that the browser may follow the sign-in there.
fn secure(mut r: Resp, form_to: Option<&str>) -> Resp {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'{}; \
         frame-ancestors 'none'; base-uri 'none'",
        form_to.map(|o| format!(" {o}")).unwrap_or_default()
    );
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An HTML page.
pub fn html(status: StatusCode, body: String, form_to: Option<&str>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(r, form_to)
}

/// A 303 to `location` (after a form, the browser follows with GET).
pub fn redirect(location: &str, form_to: Option<&str>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    secure(r, form_to)
}

/// A small JSON file to download (a receipt with its proof).
pub fn json_download(body: String, filename: &str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    secure(r, None)
}

/// The style sheet.
pub fn css(body: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    secure(r, None)
}

/// Adds a `Set-Cookie` header.
pub fn with_cookie(mut r: Resp, value: &str) -> Resp {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cookies_are_read_and_duplicates_distrusted() {
        let r = Request::builder()
            .header(header::COOKIE, "a=1; __Host-x=abc")
            .body(())
            .unwrap();
        assert_eq!(cookie(&r, "__Host-x").as_deref(), Some("abc"));
        assert_eq!(cookie(&r, "b"), None);
        let r = Request::builder()
            .header(header::COOKIE, "x=1; x=2")
            .body(())
            .unwrap();
        assert_eq!(cookie(&r, "x"), None);
    }

    #[test]
    fn answers_carry_the_security_headers() {
        let r = html(StatusCode::OK, "<p>".into(), Some("https://eid.example"));
        let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("form-action 'self' https://eid.example"));
        assert_eq!(r.headers()[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let c = set_cookie("__Host-a", "v", 60);
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Lax"));
    }
}
