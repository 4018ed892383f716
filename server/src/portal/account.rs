//! The signed-in pages: the start page, activation by SMS code,
//! deactivation, and the history.
//!
//! The activation code lives in the session cookie: its MAC (bound to a
//! random id and this session), its expiry and the wrong tries. Replaying
//! an older cookie would reset the tries, so the portal also counts tries
//! per code id in memory; with several replicas a guesser gains at most
//! `replicas x 3` tries per code, each code lives 5 minutes, and every code
//! goes to the citizen's own phone, where a stream of them is noticed.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::Duration;
use http::{Request, StatusCode};
use okaz_protocol::Pesel;
use rand::rngs::OsRng;

use super::history::{self, PAGE_SIZE};
use super::session::PendingCode;
use super::{pages, web, Portal, Visit, CODE_TRIES, CODE_TTL_SECS};
use crate::core::audit::{AuditEntry, AuditEvent};
use crate::core::consent;
use crate::core::ports::{AuditFilter, RegisterFailure};
use crate::core::pseudonym::Pseudonym;
use crate::http::App;
use web::Resp;

/// The audit's actor and unit for what citizens do in the portal.
const ACTOR: &str = "citizen";
const UNIT: &str = "portal";

fn internal(portal: &Portal, v: &Visit, what: &str, e: &dyn std::fmt::Display) -> Resp {
    tracing::error!(error = %e, what, "portal failure");
    let t = v.lang.t();
    v.message(
        portal,
        StatusCode::INTERNAL_SERVER_ERROR,
        t.error_title,
        t.internal,
    )
}

/// `GET /citizen/`.
pub(super) async fn home<B>(app: &App, portal: &Portal, v: &mut Visit, req: &Request<B>) -> Resp {
    let t = v.lang.t();
    let done = web::query(req).get("done").cloned();
    let notice = match done.as_deref() {
        Some("activated") => Some(t.done_activated),
        Some("deactivated") => Some(t.done_deactivated),
        Some("signed_out") => Some(t.done_signed_out),
        _ => None,
    };
    let Some(s) = &v.session else {
        let notice = if v.ended {
            Some(t.session_over)
        } else {
            notice
        };
        return v.html(
            StatusCode::OK,
            pages::home::signed_out(&v.ctx(portal), notice),
        );
    };
    let citizen = Pseudonym(s.citizen.clone());
    match app.broker.store.is_activated(&citizen).await {
        Ok(active) => v.html(
            StatusCode::OK,
            pages::home::dashboard(&v.ctx(portal), &s.name, active, notice),
        ),
        Err(e) => internal(portal, v, "activation status", &e),
    }
}

/// The phone on record, or the page saying why there is none.
enum Phone {
    Number(String),
    None { reserved: bool },
}

async fn phone_of(app: &App, pesel: &str) -> Result<Phone, String> {
    let pesel = Pesel::parse(pesel).map_err(|_| "session holds an invalid PESEL".to_string())?;
    match app.broker.registers.contact(&pesel).await {
        Ok(c) if c.reserved => Ok(Phone::None { reserved: true }),
        Ok(c) => Ok(c
            .phone
            .map(Phone::Number)
            .unwrap_or(Phone::None { reserved: false })),
        Err(RegisterFailure::NotFound(_)) => Ok(Phone::None { reserved: false }),
        Err(RegisterFailure::Unavailable { register, reason }) => {
            Err(format!("register {register} unavailable: {reason}"))
        }
    }
}

fn unavailable(portal: &Portal, v: &Visit, why: &str) -> Resp {
    tracing::warn!(why, "portal: register or SMS unavailable");
    let t = v.lang.t();
    v.message(
        portal,
        StatusCode::SERVICE_UNAVAILABLE,
        t.error_title,
        t.unavailable,
    )
}

/// `GET /citizen/activate`.
pub(super) async fn activate_page(app: &App, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    match phone_of(app, &s.pesel).await {
        Ok(Phone::Number(p)) => v.html(
            StatusCode::OK,
            pages::activation::phone(&v.ctx(portal), &consent::mask_phone(&p)),
        ),
        Ok(Phone::None { reserved }) => v.html(
            StatusCode::OK,
            pages::activation::no_phone(&v.ctx(portal), reserved),
        ),
        Err(why) => unavailable(portal, v, &why),
    }
}

/// The SMS that carries an activation code.
fn sms_text(code: &str) -> String {
    format!(
        "okaz: kod {code} wlacza sprawdzanie Twoich dokumentow na zadanie. \
         Jesli to nie Ty, zignoruj te wiadomosc. / Code {code} switches on document \
         checks on demand. If this was not you, ignore this message."
    )
}

/// `POST /citizen/activate/send`: a new code to the phone on record.
pub(super) async fn send_code(app: &App, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    let phone = match phone_of(app, &s.pesel).await {
        Ok(Phone::Number(p)) => p,
        Ok(Phone::None { reserved }) => {
            return v.html(
                StatusCode::OK,
                pages::activation::no_phone(&v.ctx(portal), reserved),
            )
        }
        Err(why) => return unavailable(portal, v, &why),
    };
    let id = super::session::random_token();
    let code = consent::new_code(&mut OsRng);
    let mac = consent::code_mac(&portal.key, &format!("{}/{id}", s.sid), &code);
    if let Err(e) = app.broker.sms.send(&phone, &sms_text(&code)).await {
        return unavailable(portal, v, &e.to_string());
    }
    let pending = PendingCode {
        id,
        mac: hex::encode(mac),
        expires: v.now.timestamp() + CODE_TTL_SECS,
        tries: 0,
        sent_to: consent::mask_phone(&phone),
    };
    if let Some(s) = v.session.as_mut() {
        s.pending = Some(pending);
    }
    v.redirect("/citizen/activate/code")
}

/// `GET /citizen/activate/code`.
pub(super) fn code_page(portal: &Portal, v: &mut Visit) -> Resp {
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    match &s.pending {
        Some(p) => v.html(
            StatusCode::OK,
            pages::activation::code_form(&v.ctx(portal), &p.sent_to, None),
        ),
        None => v.redirect("/citizen/activate"),
    }
}

/// Wrong tries recorded here for a code id (0 if none); old entries go.
fn tries_seen(portal: &Portal, id: &str, now: i64) -> u32 {
    let mut map = match portal.tries.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    map.retain(|_, (_, exp)| *exp > now);
    map.get(id).map(|(n, _)| *n).unwrap_or(0)
}

fn record_try(portal: &Portal, id: &str, tries: u32, expires: i64) {
    let mut map = match portal.tries.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    // Bounded: entries live 5 minutes; a flood only costs memory until then.
    if map.len() < 100_000 {
        map.insert(id.to_string(), (tries, expires));
    }
}

/// `POST /citizen/activate/code`.
pub(super) async fn check_code(
    app: &App,
    portal: &Portal,
    v: &mut Visit,
    form: &HashMap<String, String>,
) -> Resp {
    let t = v.lang.t();
    let Some(s) = v.session.clone() else {
        return super::signin::ended(portal, v);
    };
    let Some(mut p) = s.pending.clone() else {
        return v.redirect("/citizen/activate");
    };
    let now = v.now.timestamp();
    p.tries = p.tries.max(tries_seen(portal, &p.id, now));
    if now >= p.expires || p.tries >= CODE_TRIES {
        if let Some(s) = v.session.as_mut() {
            s.pending = None;
        }
        return v.html(
            StatusCode::GONE,
            pages::activation::code_form(&v.ctx(portal), &p.sent_to, Some((t.code_over, None))),
        );
    }
    let typed = form.get("code").map(String::as_str).unwrap_or("");
    let bound = format!("{}/{}", s.sid, p.id);
    let right = consent::well_formed(typed)
        && hex::decode(&p.mac)
            .is_ok_and(|mac| consent::code_matches(&portal.key, &bound, typed, &mac));
    if !right {
        p.tries += 1;
        record_try(portal, &p.id, p.tries, p.expires);
        let left = CODE_TRIES.saturating_sub(p.tries);
        let sent_to = p.sent_to.clone();
        if let Some(s) = v.session.as_mut() {
            s.pending = (left > 0).then_some(p);
        }
        let msg = if left > 0 { t.wrong_code } else { t.code_over };
        return v.html(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::activation::code_form(&v.ctx(portal), &sent_to, Some((msg, Some(left)))),
        );
    }
    // Used: a replayed cookie cannot use it again.
    record_try(portal, &p.id, CODE_TRIES, p.expires);
    let citizen = Pseudonym(s.citizen.clone());
    let mut audit = AuditEntry::new(v.now, AuditEvent::CitizenActivated, ACTOR, UNIT);
    audit.citizen = Some(s.citizen.clone());
    if let Err(e) = app.broker.store.set_activation(&citizen, true, audit).await {
        return internal(portal, v, "activation", &e);
    }
    tracing::info!("citizen activated the service");
    if let Some(s) = v.session.as_mut() {
        s.pending = None;
    }
    v.redirect("/citizen/?done=activated")
}

/// `POST /citizen/deactivate`.
pub(super) async fn deactivate(app: &App, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    let citizen = Pseudonym(s.citizen.clone());
    let mut audit = AuditEntry::new(v.now, AuditEvent::CitizenDeactivated, ACTOR, UNIT);
    audit.citizen = Some(s.citizen.clone());
    if let Err(e) = app
        .broker
        .store
        .set_activation(&citizen, false, audit)
        .await
    {
        return internal(portal, v, "deactivation", &e);
    }
    tracing::info!("citizen deactivated the service");
    v.redirect("/citizen/?done=deactivated")
}

/// `GET /citizen/history?page=N`.
pub(super) async fn history<B>(app: &App, portal: &Portal, v: &mut Visit, req: &Request<B>) -> Resp
where
    B: hyper::body::Body<Data = Bytes>,
{
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    let page_no = web::query(req)
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(1);
    let filter = AuditFilter {
        citizen: Some(Pseudonym(s.citizen.clone())),
        limit: history::MAX_RECORDS,
        ..AuditFilter::default()
    };
    let records = match app.broker.store.audit_search(&filter).await {
        Ok(r) => r,
        Err(e) => return internal(portal, v, "history", &e),
    };
    let g = &app.broker.policy.global;
    let delay = Duration::from_std(g.operational_history_delay).unwrap_or(Duration::MAX);
    let rows = history::rows(&records, v.now, delay);
    let start = (page_no - 1) * PAGE_SIZE;
    let this: Vec<_> = rows.iter().skip(start).take(PAGE_SIZE).cloned().collect();
    let more = rows.len() > start + PAGE_SIZE;
    v.html(
        StatusCode::OK,
        pages::history::history(&v.ctx(portal), &this, page_no, more, g.time_zone),
    )
}
