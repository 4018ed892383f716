//! The one place that maps error codes to HTTP statuses and bodies.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::Full;
use okaz_protocol::{ErrorCode, Problem};

use okaz_core::error::BrokerError;

/// The HTTP status of each error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        InvalidRequest | InvalidPesel | InvalidDocumentNumber | CaseReferenceRequired => {
            StatusCode::BAD_REQUEST
        }
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        InvalidCredentials | SessionExpired => StatusCode::UNAUTHORIZED,
        LoginThrottled => StatusCode::TOO_MANY_REQUESTS,
        AccountLocked | DailyLimitExceeded => StatusCode::LOCKED,
        NotPermitted => StatusCode::FORBIDDEN,
        NotActivated | NoContact | NotLocked | ChallengeReleasing => StatusCode::CONFLICT,
        DocumentNotFound | NotFound => StatusCode::NOT_FOUND,
        RegistryUnavailable => StatusCode::BAD_GATEWAY,
        SmsUnavailable | ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        WrongCode => StatusCode::UNPROCESSABLE_ENTITY,
        ChallengeExpired | ChallengeExhausted | ChallengeUsed => StatusCode::GONE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        BreakGlassLimitReached => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// A problem+json response for a broker error. Internal details are logged
/// under the request id, never sent.
pub fn problem_response(err: &BrokerError, request_id: &str) -> Response<Full<Bytes>> {
    let code = err.code();
    let mut p = Problem::new(code, status_of(code).as_u16());
    p.request_id = Some(request_id.to_string());
    match err {
        BrokerError::Refused(r) => {
            p.detail = r.detail.clone();
            p.attempts_left = r.attempts_left;
            p.quota = r.quota.clone();
        }
        other => tracing::error!(request_id, error = %other, "request failed"),
    }
    problem(p)
}

/// Serialises a problem.
pub fn problem(p: Problem) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&p).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/problem+json"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_api_table() {
        use ErrorCode::*;
        let table = [
            (InvalidRequest, 400),
            (InvalidPesel, 400),
            (InvalidDocumentNumber, 400),
            (CaseReferenceRequired, 400),
            (PayloadTooLarge, 413),
            (InvalidCredentials, 401),
            (SessionExpired, 401),
            (LoginThrottled, 429),
            (AccountLocked, 423),
            (DailyLimitExceeded, 423),
            (NotPermitted, 403),
            (NotActivated, 409),
            (NoContact, 409),
            (DocumentNotFound, 404),
            (NotFound, 404),
            (RegistryUnavailable, 502),
            (SmsUnavailable, 503),
            (ServiceUnavailable, 503),
            (WrongCode, 422),
            (ChallengeExpired, 410),
            (ChallengeExhausted, 410),
            (ChallengeUsed, 410),
            (ChallengeReleasing, 409),
            (Internal, 500),
            (BreakGlassLimitReached, 429),
        ];
        for (code, status) in table {
            assert_eq!(status_of(code).as_u16(), status, "{code}");
        }
    }
}
