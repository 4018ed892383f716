//! The signed-in pages: the start page, activation by SMS code,
//! deactivation, and the history. The activation itself (code, tries,
//! lifetime, single use) is the core's flow; these pages render it and
//! read its forms.

use std::collections::HashMap;

use chrono::Duration;
use http::StatusCode;
use okaz_core::broker::{ActivationCode, PhoneOnRecord, SendOutcome};
use okaz_core::error::BrokerError;
use okaz_core::pseudonym::Pseudonym;
use okaz_protocol::{ErrorCode, Pesel};

use super::history::{self, PAGE_SIZE};
use super::session::PendingCode;
use super::{internal, pages, web, Portal, Visit};
use okaz_core::broker::Broker;
use web::Resp;

/// A failure of the core's flow: a register or the SMS gateway down is
/// "try later"; anything else is ours.
fn failed(portal: &Portal, v: &Visit, what: &str, e: &BrokerError) -> Resp {
    match e.code() {
        ErrorCode::RegistryUnavailable | ErrorCode::SmsUnavailable => {
            tracing::warn!(what, code = %e.code(), "portal: register or SMS unavailable");
            let t = v.lang.t();
            v.message(
                portal,
                StatusCode::SERVICE_UNAVAILABLE,
                t.error_title,
                t.unavailable,
            )
        }
        _ => internal(portal, v, what, e),
    }
}

/// The signed-in citizen's PESEL; a session always holds a valid one.
fn pesel_of(v: &Visit) -> Option<Pesel> {
    v.session.as_ref().and_then(|s| Pesel::parse(&s.pesel).ok())
}

/// `GET /citizen/`.
pub(super) async fn home(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let t = v.lang.t();
    let done = v.query.get("done").cloned();
    let notice = match done.as_deref() {
        Some("activated") => Some(t.done_activated),
        Some("deactivated") => Some(t.done_deactivated),
        Some("signed_out") => Some(t.done_signed_out),
        _ => None,
    };
    let (Some(s), Some(pesel)) = (&v.session, pesel_of(v)) else {
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
    match broker.is_activated(&pesel).await {
        Ok(active) => v.html(
            StatusCode::OK,
            pages::home::dashboard(&v.ctx(portal), &s.name, active, notice),
        ),
        Err(e) => internal(portal, v, "activation status", &e),
    }
}

/// `GET /citizen/activate`.
pub(super) async fn activate_page(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(pesel) = pesel_of(v) else {
        return super::signin::ended(portal, v);
    };
    match broker.phone_on_record(&pesel).await {
        Ok(PhoneOnRecord::Masked(p)) => {
            v.html(StatusCode::OK, pages::activation::phone(&v.ctx(portal), &p))
        }
        Ok(PhoneOnRecord::None { reserved }) => v.html(
            StatusCode::OK,
            pages::activation::no_phone(&v.ctx(portal), reserved),
        ),
        Err(e) => failed(portal, v, "phone on record", &e),
    }
}

/// `POST /citizen/activate/send`: a new code to the phone on record.
pub(super) async fn send_code(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(pesel) = pesel_of(v) else {
        return super::signin::ended(portal, v);
    };
    let t = v.lang.t();
    match broker.send_activation_code(&pesel).await {
        Ok(SendOutcome::Sent(sent)) => {
            if let Some(s) = v.session.as_mut() {
                s.pending = Some(PendingCode {
                    id: sent.id,
                    sent_to: sent.sent_to,
                });
            }
            v.redirect("/citizen/activate/code")
        }
        Ok(SendOutcome::NoPhone { reserved }) => v.html(
            StatusCode::OK,
            pages::activation::no_phone(&v.ctx(portal), reserved),
        ),
        Ok(SendOutcome::TooMany) => v.message(
            portal,
            StatusCode::TOO_MANY_REQUESTS,
            t.error_title,
            t.too_many_codes,
        ),
        Err(e) => failed(portal, v, "activation code", &e),
    }
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

/// `POST /citizen/activate/code`.
pub(super) async fn check_code(
    broker: &Broker,
    portal: &Portal,
    v: &mut Visit,
    form: &HashMap<String, String>,
) -> Resp {
    let t = v.lang.t();
    let (Some(pesel), Some(s)) = (pesel_of(v), v.session.clone()) else {
        return super::signin::ended(portal, v);
    };
    let Some(p) = s.pending.clone() else {
        return v.redirect("/citizen/activate");
    };
    let typed = form.get("code").map(String::as_str).unwrap_or("");
    let answer = match broker.confirm_activation(&pesel, &p.id, typed).await {
        Ok(a) => a,
        Err(e) => return internal(portal, v, "activation", &e),
    };
    let (status, msg, left) = match answer {
        ActivationCode::Activated => {
            if let Some(s) = v.session.as_mut() {
                s.pending = None;
            }
            return v.redirect("/citizen/?done=activated");
        }
        ActivationCode::Wrong { attempts_left } => {
            if attempts_left == 0 {
                if let Some(s) = v.session.as_mut() {
                    s.pending = None;
                }
            }
            let msg = if attempts_left > 0 {
                t.wrong_code
            } else {
                t.code_over
            };
            (StatusCode::UNPROCESSABLE_ENTITY, msg, Some(attempts_left))
        }
        ActivationCode::Over => {
            if let Some(s) = v.session.as_mut() {
                s.pending = None;
            }
            (StatusCode::GONE, t.code_over, None)
        }
    };
    v.html(
        status,
        pages::activation::code_form(&v.ctx(portal), &p.sent_to, Some((msg, left))),
    )
}

/// `POST /citizen/deactivate`.
pub(super) async fn deactivate(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(pesel) = pesel_of(v) else {
        return super::signin::ended(portal, v);
    };
    if let Err(e) = broker.deactivate(&pesel).await {
        return internal(portal, v, "deactivation", &e);
    }
    v.redirect("/citizen/?done=deactivated")
}

/// `GET /citizen/history?page=N`.
pub(super) async fn history(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    let page_no = v
        .query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| (1..=1000).contains(p))
        .unwrap_or(1);
    let citizen = Pseudonym(s.citizen.clone());
    let records = match broker.citizen_records(&citizen).await {
        Ok(r) => r,
        Err(e) => return internal(portal, v, "history", &e),
    };
    let g = &broker.policy.global;
    let delay = Duration::from_std(g.operational_history_delay).unwrap_or(Duration::MAX);
    let rows = history::rows(&records, v.now, delay);
    let start = (page_no - 1) * PAGE_SIZE;
    let mut this: Vec<_> = rows.iter().skip(start).take(PAGE_SIZE).cloned().collect();
    // At most a page of releases: one indexed lookup each.
    for row in &mut this {
        if let Some(id) = row.receipt {
            row.leaf = match broker.leaf_of(id).await {
                Ok(l) => l,
                Err(e) => return internal(portal, v, "history", &e),
            };
        }
    }
    let more = rows.len() > start + PAGE_SIZE;
    let disputes = match super::disputes::disputes_by_check(broker, &citizen).await {
        Ok(d) => d,
        Err(e) => return internal(portal, v, "history", &e),
    };
    let extras: Vec<String> = this
        .iter()
        .map(|r| super::disputes::row_extra(v.lang, r, &disputes))
        .collect();
    let footer = super::disputes::history_links(v.lang);
    v.html(
        StatusCode::OK,
        pages::history::history_with(
            &v.ctx(portal),
            &this,
            &extras,
            &footer,
            page_no,
            more,
            g.time_zone,
        ),
    )
}

/// `GET /citizen/receipt?record=ID`: the signed receipt of one of the
/// citizen's released checks with its leaf index and an inclusion proof
/// against the latest witnessed checkpoint, as a JSON file anyone can check
/// offline (the log key and the checkpoint are inside).
pub(super) async fn receipt(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    use base64::Engine;
    let Some(s) = &v.session else {
        return super::signin::ended(portal, v);
    };
    let t = v.lang.t();
    let not_found = |v: &Visit| v.message(portal, StatusCode::NOT_FOUND, t.error_title, t.internal);
    let Some(id) = v.query.get("record").and_then(|r| r.parse::<i64>().ok()) else {
        return not_found(v);
    };
    let records = match broker.citizen_records(&Pseudonym(s.citizen.clone())).await {
        Ok(r) => r,
        Err(e) => return internal(portal, v, "receipt", &e),
    };
    // Only the citizen's own released checks have receipts.
    let Some(record) = records
        .iter()
        .find(|r| r.id == id && r.entry.event == okaz_core::audit::AuditEvent::DocumentReleased)
    else {
        return not_found(v);
    };
    let Some(key) = &broker.receipts else {
        return not_found(v);
    };
    let receipt = key.receipt(&record.entry);
    let mut doc = serde_json::json!({
        "receipt": receipt,
        "log_key": key.signer.verifier(),
        "leaf_index": null,
    });
    let leaf = match broker.leaf_of(id).await {
        Ok(l) => l,
        Err(e) => return internal(portal, v, "receipt", &e),
    };
    if let Some(leaf) = leaf {
        let inclusion = match broker.inclusion(leaf).await {
            Ok(i) => i,
            Err(e) => return internal(portal, v, "receipt", &e),
        };
        if let Some(inc) = inclusion {
            doc["leaf_index"] = serde_json::json!(leaf);
            doc["tree_size"] = serde_json::json!(inc.tree_size);
            doc["witnessed"] = serde_json::json!(inc.witnessed);
            doc["checkpoint"] = serde_json::json!(inc.checkpoint);
            doc["proof"] = serde_json::json!(inc
                .proof
                .iter()
                .map(|h| base64::engine::general_purpose::STANDARD.encode(h))
                .collect::<Vec<_>>());
        }
    }
    web::json_download(
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
        &format!("okaz-receipt-{id}.json"),
    )
}
