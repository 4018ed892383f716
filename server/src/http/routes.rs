//! The route table: one list, used by the dispatcher and checked against
//! `docs/openapi.yaml` by a test, so the two cannot drift apart.

use http::Method;

/// Every route the broker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /v1/sessions`
    Login,
    /// `POST /v1/sessions/certificate`
    CertificateLogin,
    /// `GET /v1/me`
    Me,
    /// `DELETE /v1/sessions/current`
    Logout,
    /// `POST /v1/verifications`
    StartVerification,
    /// `POST /v1/verifications/{id}/code`
    AnswerCode,
    /// `POST /v1/bundles`
    StartBundle,
    /// `DELETE /v1/verifications/{id}`
    CancelVerification,
    /// `GET /v1/admin/lockouts`
    Lockouts,
    /// `POST /v1/admin/officers/{id}/unlock`
    Unlock,
    /// `POST /v1/admin/officers`
    CreateOfficer,
    /// `GET /v1/admin/officers`
    Accounts,
    /// `POST /v1/admin/officers/{id}/disable`
    Disable,
    /// `POST /v1/admin/officers/{id}/enable`
    Enable,
    /// `POST /v1/admin/officers/{id}/reset-password`
    ResetPassword,
    /// `POST /v1/admin/officers/{id}/reset-totp`
    ResetTotp,
    /// `POST /v1/admin/officers/{id}/certificate`
    BindCertificate,
    /// `GET /v1/admin/audit`
    Audit,
    /// `GET /v1/audit/checkpoint`
    Checkpoint,
    /// `GET /v1/audit/proof/inclusion`
    InclusionProof,
    /// `GET /v1/audit/proof/consistency`
    ConsistencyProof,
    /// `GET /v1/admin/disputes`
    Disputes,
    /// `POST /v1/admin/disputes/{id}/resolve`
    ResolveDispute,
    /// `POST /v1/break-glass`
    BreakGlass,
    /// `GET /v1/admin/break-glass`
    BreakGlassList,
    /// `POST /v1/admin/break-glass/{id}/decision`
    BreakGlassDecision,
    /// `GET /v1/admin/signals`
    Signals,
}

/// Method, path pattern (OpenAPI style) and route.
pub const ROUTES: &[(&str, &str, Route)] = &[
    ("POST", "/v1/sessions", Route::Login),
    ("POST", "/v1/sessions/certificate", Route::CertificateLogin),
    ("GET", "/v1/me", Route::Me),
    ("DELETE", "/v1/sessions/current", Route::Logout),
    ("POST", "/v1/verifications", Route::StartVerification),
    ("POST", "/v1/verifications/{id}/code", Route::AnswerCode),
    ("POST", "/v1/bundles", Route::StartBundle),
    (
        "DELETE",
        "/v1/verifications/{id}",
        Route::CancelVerification,
    ),
    ("GET", "/v1/admin/lockouts", Route::Lockouts),
    ("POST", "/v1/admin/officers/{id}/unlock", Route::Unlock),
    ("POST", "/v1/admin/officers", Route::CreateOfficer),
    ("GET", "/v1/admin/officers", Route::Accounts),
    ("POST", "/v1/admin/officers/{id}/disable", Route::Disable),
    ("POST", "/v1/admin/officers/{id}/enable", Route::Enable),
    (
        "POST",
        "/v1/admin/officers/{id}/reset-password",
        Route::ResetPassword,
    ),
    (
        "POST",
        "/v1/admin/officers/{id}/reset-totp",
        Route::ResetTotp,
    ),
    (
        "POST",
        "/v1/admin/officers/{id}/certificate",
        Route::BindCertificate,
    ),
    ("GET", "/v1/admin/audit", Route::Audit),
    ("GET", "/v1/audit/checkpoint", Route::Checkpoint),
    ("GET", "/v1/audit/proof/inclusion", Route::InclusionProof),
    (
        "GET",
        "/v1/audit/proof/consistency",
        Route::ConsistencyProof,
    ),
    ("GET", "/v1/admin/disputes", Route::Disputes),
    (
        "POST",
        "/v1/admin/disputes/{id}/resolve",
        Route::ResolveDispute,
    ),
    ("POST", "/v1/break-glass", Route::BreakGlass),
    ("GET", "/v1/admin/break-glass", Route::BreakGlassList),
    (
        "POST",
        "/v1/admin/break-glass/{id}/decision",
        Route::BreakGlassDecision,
    ),
    ("GET", "/v1/admin/signals", Route::Signals),
];

/// What a request path matched.
#[derive(Debug, PartialEq, Eq)]
pub enum Matched<'a> {
    /// A route, with the `{id}` segment if the pattern has one.
    Route(Route, &'static str, Option<&'a str>),
    /// The path exists but not with this method.
    WrongMethod,
    /// No such path.
    NotFound,
}

/// Finds the route for a method and path.
pub fn find<'a>(method: &Method, path: &'a str) -> Matched<'a> {
    let mut path_known = false;
    for (m, pattern, route) in ROUTES {
        if let Some(id) = matches(pattern, path) {
            if method.as_str() == *m {
                return Matched::Route(*route, pattern, id);
            }
            path_known = true;
        }
    }
    if path_known {
        Matched::WrongMethod
    } else {
        Matched::NotFound
    }
}

/// `Some(id)` if `path` fits `pattern` (`{id}` matches one non-empty segment).
fn matches<'a>(pattern: &str, path: &'a str) -> Option<Option<&'a str>> {
    let mut id = None;
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => id = Some(seg),
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_ids() {
        assert_eq!(
            find(&Method::POST, "/v1/verifications/abc/code"),
            Matched::Route(
                Route::AnswerCode,
                "/v1/verifications/{id}/code",
                Some("abc")
            )
        );
        assert_eq!(
            find(&Method::DELETE, "/v1/verifications/abc"),
            Matched::Route(
                Route::CancelVerification,
                "/v1/verifications/{id}",
                Some("abc")
            )
        );
        assert_eq!(
            find(&Method::GET, "/v1/verifications"),
            Matched::WrongMethod
        );
        assert_eq!(find(&Method::GET, "/v1/nothing"), Matched::NotFound);
        assert_eq!(
            find(&Method::POST, "/v1/verifications//code"),
            Matched::NotFound
        );
    }

    /// Every route is documented, with its method, and nothing else is.
    #[test]
    fn openapi_documents_exactly_the_routes() {
        let doc = include_str!("../../../docs/openapi.yaml");
        let mut documented = std::collections::BTreeSet::new();
        let mut path: Option<&str> = None;
        for line in doc.lines() {
            if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
                path = Some(p);
            } else if !line.starts_with("   ") && !line.trim().is_empty() {
                path = None;
            }
            let method = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'));
            if let (Some(p), Some(m)) = (path, method) {
                if ["get", "post", "delete", "put", "patch"].contains(&m) {
                    documented.insert((m.to_uppercase(), format!("/{p}")));
                }
            }
        }
        let served: std::collections::BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p, _)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(served, documented);
    }

    /// The Problem schema's `code` enum is exactly the error codes, and
    /// each code a route table entry documents by name is a real code: a
    /// new code (e.g. `challenge_releasing`) cannot go undocumented.
    #[test]
    fn openapi_problem_codes_are_exactly_the_error_codes() {
        let doc = include_str!("../../../docs/openapi.yaml");
        let start = doc
            .find("enum: [invalid_request")
            .unwrap_or_else(|| panic!("the Problem code enum is missing"));
        let list = &doc[start + "enum: [".len()..];
        let list = &list[..list.find(']').unwrap_or(0)];
        let documented: std::collections::BTreeSet<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        let real: std::collections::BTreeSet<&str> = okaz_protocol::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(documented, real);
        // Each documented problem entry whose status is that of the codes
        // it names: `"409": { description: challenge_releasing …` must be
        // the status `challenge_releasing` is answered with.
        for line in doc.lines() {
            let t = line.trim();
            let Some(status) = t
                .strip_prefix('"')
                .and_then(|l| l.get(..3))
                .and_then(|s| s.parse::<u16>().ok())
            else {
                continue;
            };
            if !t.contains("application/problem+json") {
                continue;
            }
            for code in okaz_protocol::ErrorCode::ALL {
                let named = t
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .any(|w| w == code.as_str());
                if named {
                    assert_eq!(
                        crate::http::errors::status_of(code).as_u16(),
                        status,
                        "{code} is documented under {status}: {t}"
                    );
                }
            }
        }
    }
}
