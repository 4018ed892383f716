//! Signing in through the national eID and signing out.
//!
//! Sign-in: a fresh `state`, `nonce` and PKCE verifier per attempt, sealed
//! into a short-lived cookie; the browser goes to the eID. On the callback
//! the `state` must equal the cookie's (constant time), the `iss` (when
//! sent) must be our provider, the code is exchanged with the verifier, and
//! the ID token must verify (signature against the provider's keys, issuer,
//! audience, the cookie's nonce, expiry). The attempt cookie is removed
//! whatever happens, so a callback is accepted at most once per attempt;
//! the provider also takes each code only once.

use bytes::Bytes;
use http::{Request, StatusCode};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::session::{self, LoginAttempt, Session, LOGIN_COOKIE, LOGIN_TTL_SECS};
use super::{web, Portal, Visit};
use okaz_core::broker::Broker;
use okaz_core::pseudonym::Pseudonym;
use web::Resp;

/// `GET /citizen/login`: start an attempt and send the browser to the eID.
pub(super) async fn login(portal: &Portal, v: &mut Visit) -> Resp {
    let t = v.lang.t();
    let verifier = session::random_token();
    let attempt = LoginAttempt {
        state: session::random_token(),
        nonce: session::random_token(),
        verifier,
        lang: v.lang.tag().to_string(),
        expires: v.now.timestamp() + LOGIN_TTL_SECS,
    };
    let url = match portal
        .oidc
        .authorize_url(
            &attempt.state,
            &attempt.nonce,
            &attempt.verifier,
            v.lang.tag(),
        )
        .await
    {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "eID unavailable for sign-in");
            return v.message(
                portal,
                StatusCode::SERVICE_UNAVAILABLE,
                t.error_title,
                t.unavailable,
            );
        }
    };
    // Discovery is known now: let the CSP name the provider.
    v.form_to = portal.oidc.provider_origin().await;
    let Some(sealed) = portal.sealer.seal_json(session::PURPOSE_LOGIN, &attempt) else {
        return v.message(
            portal,
            StatusCode::INTERNAL_SERVER_ERROR,
            t.error_title,
            t.internal,
        );
    };
    web::with_cookie(
        v.redirect(&url),
        &web::set_cookie(LOGIN_COOKIE, &sealed, LOGIN_TTL_SECS),
    )
}

/// `GET /citizen/callback`: the eID sends the browser back here.
pub(super) async fn callback<B>(
    broker: &Broker,
    portal: &Portal,
    v: &mut Visit,
    req: &Request<B>,
) -> Resp
where
    B: hyper::body::Body<Data = Bytes>,
{
    let q = web::query(req);
    let attempt = web::cookie(req, LOGIN_COOKIE).and_then(|c| {
        portal
            .sealer
            .open_json::<LoginAttempt>(session::PURPOSE_LOGIN, &c)
    });
    let result = verify(broker, portal, v, &q, attempt).await;
    let resp = match result {
        Ok(s) => {
            tracing::info!("citizen signed in");
            v.session = Some(s);
            v.ended = false;
            v.redirect("/citizen/")
        }
        Err(reason) => {
            tracing::warn!(reason, "eID callback refused");
            let t = v.lang.t();
            v.message(
                portal,
                StatusCode::BAD_REQUEST,
                t.error_title,
                t.sign_in_failed,
            )
        }
    };
    web::with_cookie(resp, &web::clear_cookie(LOGIN_COOKIE))
}

/// The checks of a callback; the reason of a refusal is for the log only
/// (it names the failed check, never a value).
async fn verify(
    broker: &Broker,
    portal: &Portal,
    v: &mut Visit,
    q: &std::collections::HashMap<String, String>,
    attempt: Option<LoginAttempt>,
) -> Result<Session, &'static str> {
    let attempt = attempt.ok_or("no sign-in attempt in this browser")?;
    if let Some(l) = super::i18n::Lang::parse(&attempt.lang) {
        if !v.lang_chosen {
            v.lang = l;
        }
    }
    let now = v.now.timestamp();
    if now >= attempt.expires {
        return Err("sign-in attempt expired");
    }
    let state = q.get("state").ok_or("no state")?;
    if !bool::from(state.as_bytes().ct_eq(attempt.state.as_bytes())) {
        return Err("state does not match");
    }
    if let Some(iss) = q.get("iss") {
        if !portal.oidc.issuer_matches(iss) {
            return Err("iss names another provider");
        }
    }
    if q.contains_key("error") {
        return Err("the eID reported an error (e.g. the citizen cancelled)");
    }
    let code = q.get("code").ok_or("no code")?;
    let claims = portal
        .oidc
        .redeem(code, &attempt.verifier, &attempt.nonce, now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "eID code exchange or ID token check failed");
            "code exchange or ID token refused"
        })?;
    let pesel = Zeroizing::new(claims.pesel.expose());
    Ok(Session {
        sid: session::random_token(),
        citizen: Pseudonym::of(&broker.keys.pepper, &claims.pesel)
            .as_str()
            .to_string(),
        pesel: pesel.to_string(),
        name: format!("{} {}", claims.given_name, claims.family_name),
        signed_in: now,
        seen: now,
        pending: None,
    })
}

/// `POST /citizen/logout`.
pub(super) async fn logout(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    if let Some(s) = &v.session {
        let until =
            chrono::DateTime::from_timestamp(s.signed_in.saturating_add(portal.max_secs), 0)
                .unwrap_or(v.now);
        if let Err(e) = broker.end_portal_session(&s.sid, until).await {
            // The cookie is dropped anyway; the failure is logged for the operator.
            tracing::error!(error = %e, "portal sign-out not recorded");
        }
    }
    v.session = None;
    v.ended = true;
    v.redirect("/citizen/?done=signed_out")
}

/// A page that needs a session, without one.
pub(super) fn ended(portal: &Portal, v: &mut Visit) -> Resp {
    let t = v.lang.t();
    v.message(
        portal,
        StatusCode::UNAUTHORIZED,
        t.error_title,
        t.session_over,
    )
}
