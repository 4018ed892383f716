//! The citizen's side of notices and disputes: the dispute page a notice
//! links to (`GET /citizen/dispute/{verification}[/{token}]`), its form
//! (`POST /citizen/dispute`), the notice channels (`GET|POST
//! /citizen/notices`), and the history as a JSON download
//! (`GET /citizen/history.json`, with receipts).
//!
//! A dispute names the check, the unit and the outcome; never the officer.
//! The citizen's comment is plain text, stored cleaned and shown escaped.

use std::collections::HashMap;

use chrono::Duration;
use http::StatusCode;
use okaz_core::broker::{Broker, DisputeFailure};
use okaz_core::notice::NoticePrefs;
use okaz_core::ports::Dispute;
use okaz_core::pseudonym::Pseudonym;

use super::history::{self, Row};
use super::i18n::{self, Lang};
use super::pages::{esc, page};
use super::{internal, web, Portal, Visit};
use web::Resp;

/// The words of these pages, Polish and English.
struct Words {
    dispute_title: &'static str,
    dispute_help: &'static str,
    comment: &'static str,
    submit: &'static str,
    disputed: &'static str,
    open: &'static str,
    resolved: &'static str,
    already: &'static str,
    limit: &'static str,
    no_check: &'static str,
    bad_link: &'static str,
    notices_title: &'static str,
    notices_help: &'static str,
    sms: &'static str,
    email: &'static str,
    save: &'static str,
    saved: &'static str,
    fields: &'static str,
    dispute_link: &'static str,
    download: &'static str,
    back: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Pl => &Words {
            dispute_title: "Nie zgadzałem/am się na to sprawdzenie",
            dispute_help: "Zgłoszenie trafi do inspektorów bezpieczeństwa jednostki, która sprawdziła Twój dokument. Zobaczysz tu jego wynik.",
            comment: "Komentarz (nieobowiązkowy, do 500 znaków)",
            submit: "Nie zgadzałem/am się na to",
            disputed: "Zgłoszono",
            open: "w toku",
            resolved: "rozpatrzone",
            already: "To sprawdzenie jest już zgłoszone.",
            limit: "Na dziś wykorzystano limit zgłoszeń. Spróbuj jutro.",
            no_check: "Nie ma takiego sprawdzenia Twoich dokumentów.",
            bad_link: "Ten link jest nieważny. Zgłoś sprawdzenie z historii.",
            notices_title: "Powiadomienia",
            notices_help: "Po każdym sprawdzeniu Twoich dokumentów wysyłamy krótkie powiadomienie na kontakt z rejestru kontaktowego.",
            sms: "SMS",
            email: "E-mail / skrzynka do doręczeń",
            save: "Zapisz",
            saved: "Zapisano.",
            fields: "Udostępnione pola",
            dispute_link: "Nie zgadzałem/am się",
            download: "Pobierz historię (JSON)",
            back: "Powrót",
        },
        Lang::En => &Words {
            dispute_title: "I did not agree to this check",
            dispute_help: "Your report goes to the security officers of the unit that checked your document. You will see its outcome here.",
            comment: "Comment (optional, up to 500 characters)",
            submit: "I did not agree to this",
            disputed: "Disputed",
            open: "open",
            resolved: "resolved",
            already: "This check is disputed already.",
            limit: "Today's disputes are used up. Try again tomorrow.",
            no_check: "There is no such check of your documents.",
            bad_link: "This link is not valid. Dispute the check from your history.",
            notices_title: "Notices",
            notices_help: "After every check of your documents we send a short notice to your contact in the contact register.",
            sms: "SMS",
            email: "E-mail / digital mailbox",
            save: "Save",
            saved: "Saved.",
            fields: "Fields released",
            dispute_link: "I did not agree",
            download: "Download history (JSON)",
            back: "Back",
        },
    }
}

fn pseudonym(v: &Visit) -> Option<Pseudonym> {
    v.session.as_ref().map(|s| Pseudonym(s.citizen.clone()))
}

/// The citizen's rows (every check, as the history shows them).
async fn rows_of(broker: &Broker, v: &Visit, citizen: &Pseudonym) -> Result<Vec<Row>, String> {
    let records = broker
        .citizen_records(citizen)
        .await
        .map_err(|e| e.to_string())?;
    let delay =
        Duration::from_std(broker.policy.global.operational_history_delay).unwrap_or(Duration::MAX);
    Ok(history::rows(&records, v.now, delay))
}

/// The status text of a dispute, as the citizen reads it: no officer.
pub fn status_html(lang: Lang, d: &Dispute) -> String {
    let w = words(lang);
    match &d.resolved {
        None => format!(
            "<span class=\"dispute open\">{}: {}</span>",
            esc(w.disputed),
            esc(w.open)
        ),
        Some(r) => format!(
            "<span class=\"dispute resolved\">{}: {} — <q class=\"resolution\">{}</q></span>",
            esc(w.disputed),
            esc(w.resolved),
            esc(&r.reason)
        ),
    }
}

/// What the history page adds to a row: the fields released, and the
/// dispute's status or the link to dispute.
pub fn row_extra(lang: Lang, row: &Row, disputes: &HashMap<String, Dispute>) -> String {
    let w = words(lang);
    let mut out = String::new();
    if !row.fields.is_empty() {
        let names: Vec<String> = row.fields.iter().map(|f| esc(f)).collect();
        out.push_str(&format!(
            "<br><span class=\"note fields\">{}: {}</span>",
            esc(w.fields),
            names.join(", ")
        ));
    }
    if let Some(v) = row.verification.as_deref() {
        if let Some(d) = disputes.get(v) {
            out.push_str(&format!("<br>{}", status_html(lang, d)));
        } else if row.receipt.is_some() {
            out.push_str(&format!(
                "<br><a class=\"dispute-link\" href=\"/citizen/dispute/{}\">{}</a>",
                esc(v),
                esc(w.dispute_link)
            ));
        }
    }
    out
}

/// The citizen's disputes by check, for the history page.
pub async fn disputes_by_check(
    broker: &Broker,
    citizen: &Pseudonym,
) -> Result<HashMap<String, Dispute>, okaz_core::ports::StoreError> {
    Ok(broker
        .citizen_disputes(citizen)
        .await?
        .into_iter()
        .map(|d| (d.verification.clone(), d))
        .collect())
}

/// The links under the history table: notices and the JSON download.
pub fn history_links(lang: Lang) -> String {
    let w = words(lang);
    format!(
        "<p><a id=\"history-json\" href=\"/citizen/history.json\" download>{}</a> · \
<a id=\"notices\" href=\"/citizen/notices\">{}</a></p>\n",
        esc(w.download),
        esc(w.notices_title)
    )
}

/// `GET /citizen/dispute/{verification}[/{token}]`.
pub(super) async fn page_get(broker: &Broker, portal: &Portal, v: &mut Visit, rest: &str) -> Resp {
    let Some(citizen) = pseudonym(v) else {
        return super::signin::ended(portal, v);
    };
    let w = words(v.lang);
    let t = v.lang.t();
    let (verification, token) = match rest.split_once('/') {
        Some((id, tok)) => (id, Some(tok)),
        None => (rest, None),
    };
    // A link from a notice carries the check's token; a wrong one is
    // refused, so links cannot be made up (the history page needs none:
    // the session already names the citizen).
    if let (Some(tok), Some(n)) = (token, broker.notices.as_ref()) {
        if !n.key.token_matches(verification, tok) {
            return v.message(portal, StatusCode::NOT_FOUND, t.error_title, w.bad_link);
        }
    }
    let rows = match rows_of(broker, v, &citizen).await {
        Ok(r) => r,
        Err(e) => return internal(portal, v, "dispute", &e),
    };
    let Some(row) = rows
        .iter()
        .find(|r| r.verification.as_deref() == Some(verification) && r.receipt.is_some())
    else {
        return v.message(portal, StatusCode::NOT_FOUND, t.error_title, w.no_check);
    };
    let disputes = match disputes_by_check(broker, &citizen).await {
        Ok(d) => d,
        Err(e) => return internal(portal, v, "dispute", &e),
    };
    let ctx = v.ctx(portal);
    let tz = broker.policy.global.time_zone;
    let mut b =
        format!(
        "<p class=\"note\">{}</p>\n<dl class=\"card\" id=\"dispute-check\"><dt>{}</dt><dd>{}</dd>\
<dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl>\n",
        esc(w.dispute_help),
        esc(t.col_when),
        esc(&row.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()),
        esc(t.col_document),
        esc(&i18n::document(v.lang, &row.document)),
        esc(t.col_purpose),
        esc(&i18n::purpose(v.lang, &row.purpose)),
        esc(t.col_unit),
        esc(&row.unit),
    );
    match disputes.get(verification) {
        Some(d) => b.push_str(&format!(
            "<p id=\"dispute-status\">{}</p>\n",
            status_html(v.lang, d)
        )),
        None => b.push_str(&format!(
            "<form method=\"post\" action=\"/citizen/dispute\" id=\"dispute-form\">{csrf}\
<input type=\"hidden\" name=\"verification\" value=\"{vid}\">\
<label for=\"comment\">{label}</label>\
<textarea id=\"comment\" name=\"comment\" maxlength=\"500\" rows=\"4\"></textarea>\
<button type=\"submit\" id=\"dispute-submit\">{submit}</button></form>\n",
            csrf = ctx.csrf_field(),
            vid = esc(verification),
            label = esc(w.comment),
            submit = esc(w.submit),
        )),
    }
    b.push_str(&format!(
        "<p><a href=\"/citizen/history\">{}</a></p>\n",
        esc(w.back)
    ));
    v.html(StatusCode::OK, page(&ctx, w.dispute_title, &b))
}

/// `POST /citizen/dispute`.
pub(super) async fn submit(
    broker: &Broker,
    portal: &Portal,
    v: &mut Visit,
    form: &HashMap<String, String>,
) -> Resp {
    let Some(citizen) = pseudonym(v) else {
        return super::signin::ended(portal, v);
    };
    let w = words(v.lang);
    let t = v.lang.t();
    let verification = form.get("verification").map(String::as_str).unwrap_or("");
    let comment = form.get("comment").map(String::as_str).unwrap_or("");
    match broker.open_dispute(&citizen, verification, comment).await {
        Ok(()) => v.redirect("/citizen/history?done=disputed"),
        Err(DisputeFailure::NotFound) => {
            v.message(portal, StatusCode::NOT_FOUND, t.error_title, w.no_check)
        }
        Err(DisputeFailure::AlreadyDisputed) => {
            v.message(portal, StatusCode::CONFLICT, t.error_title, w.already)
        }
        Err(DisputeFailure::LimitReached) => v.message(
            portal,
            StatusCode::TOO_MANY_REQUESTS,
            t.error_title,
            w.limit,
        ),
        Err(DisputeFailure::Store(e)) => internal(portal, v, "dispute", &e),
    }
}

/// `GET /citizen/notices`.
pub(super) async fn notices_get(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(citizen) = pseudonym(v) else {
        return super::signin::ended(portal, v);
    };
    let prefs = match broker.notice_prefs(&citizen).await {
        Ok(p) => p,
        Err(e) => return internal(portal, v, "notices", &e),
    };
    notices_page(portal, v, prefs, false)
}

fn notices_page(portal: &Portal, v: &Visit, prefs: NoticePrefs, saved: bool) -> Resp {
    let w = words(v.lang);
    let ctx = v.ctx(portal);
    let check = |on: bool| if on { " checked" } else { "" };
    let b = format!(
        "<p class=\"note\">{help}</p>\n{saved}<form method=\"post\" action=\"/citizen/notices\" id=\"notices-form\">{csrf}\
<p><label><input type=\"checkbox\" name=\"sms\" id=\"notice-sms\" value=\"on\"{sms_on}> {sms}</label></p>\
<p><label><input type=\"checkbox\" name=\"email\" id=\"notice-email\" value=\"on\"{email_on}> {email}</label></p>\
<button type=\"submit\" id=\"notices-save\">{save}</button></form>\n<p><a href=\"/citizen/\">{back}</a></p>\n",
        help = esc(w.notices_help),
        saved = if saved {
            format!("<p class=\"card\" id=\"notices-saved\">{}</p>", esc(w.saved))
        } else {
            String::new()
        },
        csrf = ctx.csrf_field(),
        sms_on = check(prefs.sms),
        email_on = check(prefs.email),
        sms = esc(w.sms),
        email = esc(w.email),
        save = esc(w.save),
        back = esc(w.back),
    );
    v.html(StatusCode::OK, page(&ctx, w.notices_title, &b))
}

/// `POST /citizen/notices`: an unticked box is absent from the form.
pub(super) async fn notices_post(
    broker: &Broker,
    portal: &Portal,
    v: &mut Visit,
    form: &HashMap<String, String>,
) -> Resp {
    let Some(citizen) = pseudonym(v) else {
        return super::signin::ended(portal, v);
    };
    let prefs = NoticePrefs {
        sms: form.get("sms").is_some_and(|s| s == "on"),
        email: form.get("email").is_some_and(|s| s == "on"),
    };
    if let Err(e) = broker.set_notice_prefs(&citizen, prefs).await {
        return internal(portal, v, "notices", &e);
    }
    notices_page(portal, v, prefs, true)
}

/// `GET /citizen/history.json`: every check with the fields it released,
/// its dispute (status and resolution, never the officer) and, for each
/// release, its signed receipt.
pub(super) async fn history_json(broker: &Broker, portal: &Portal, v: &mut Visit) -> Resp {
    let Some(citizen) = pseudonym(v) else {
        return super::signin::ended(portal, v);
    };
    let records = match broker.citizen_records(&citizen).await {
        Ok(r) => r,
        Err(e) => return internal(portal, v, "history.json", &e),
    };
    let delay =
        Duration::from_std(broker.policy.global.operational_history_delay).unwrap_or(Duration::MAX);
    let rows = history::rows(&records, v.now, delay);
    let disputes = match disputes_by_check(broker, &citizen).await {
        Ok(d) => d,
        Err(e) => return internal(portal, v, "history.json", &e),
    };
    let mut checks = Vec::with_capacity(rows.len());
    for r in &rows {
        let record = r
            .receipt
            .and_then(|id| records.iter().find(|rec| rec.id == id));
        let receipt = match (record, &broker.receipts) {
            (Some(rec), Some(k)) => serde_json::to_value(k.receipt(&rec.entry)).ok(),
            _ => None,
        };
        let leaf = match r.receipt {
            Some(id) => match broker.leaf_of(id).await {
                Ok(l) => l,
                Err(e) => return internal(portal, v, "history.json", &e),
            },
            None => None,
        };
        let dispute = r
            .verification
            .as_deref()
            .and_then(|id| disputes.get(id))
            .map(|d| {
                serde_json::json!({
                    "opened_at": d.opened_at,
                    "comment": d.comment,
                    "status": if d.resolved.is_some() { "resolved" } else { "open" },
                    "resolved_at": d.resolved.as_ref().map(|x| x.at),
                    "resolution": d.resolved.as_ref().map(|x| x.reason.clone()),
                })
            });
        checks.push(serde_json::json!({
            "at": r.at,
            "verification": r.verification,
            "document": r.document,
            "purpose": r.purpose,
            "unit": r.unit,
            "outcome": outcome_name(&r.outcome),
            "operational": r.operational,
            "fields": r.fields,
            "receipt": receipt,
            "leaf_index": leaf,
            "dispute": dispute,
        }));
    }
    let doc = serde_json::json!({
        "log_key": broker.receipts.as_ref().map(|k| k.signer.verifier()),
        "checks": checks,
    });
    web::json_download(
        serde_json::to_string_pretty(&doc).unwrap_or_default(),
        "okaz-history.json",
    )
}

fn outcome_name(o: &history::Outcome) -> String {
    use history::Outcome as O;
    match o {
        O::Released => "released".into(),
        O::CodeSent => "code_sent".into(),
        O::WrongCode => "wrong_code".into(),
        O::Cancelled => "cancelled".into(),
        O::Failed => "failed".into(),
        O::Refused(code) => format!("refused:{code}"),
    }
}
