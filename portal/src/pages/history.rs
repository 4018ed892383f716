//! The history of checks: a table (cards on a phone) and a pager.

use std::fmt::Write as _;

use chrono_tz::Tz;

use super::{esc, page, Ctx};
use crate::history::{Outcome, Row};
use crate::i18n::{self, Lang};

fn outcome(lang: Lang, o: &Outcome) -> String {
    let t = lang.t();
    match o {
        Outcome::Released => t.out_released.to_string(),
        Outcome::CodeSent => t.out_code_sent.to_string(),
        Outcome::WrongCode => t.out_wrong_code.to_string(),
        Outcome::Cancelled => t.out_cancelled.to_string(),
        Outcome::Failed => t.out_failed.to_string(),
        Outcome::Refused(code) => format!("{}: {}", t.out_refused, i18n::refusal(lang, code)),
    }
}

/// Page `page_no` (from 1) of `rows` (this page's rows only); `more` says
/// whether an older page exists. Times are shown in `tz`.
pub fn history(ctx: &Ctx, rows: &[Row], page_no: usize, more: bool, tz: Tz) -> String {
    history_with(ctx, rows, &[], "", page_no, more, tz)
}

/// As [`history`], with `extras[i]` (HTML) added to row `i`'s outcome
/// (the fields released, the dispute) and `footer` (HTML) under the table.
pub fn history_with(
    ctx: &Ctx,
    rows: &[Row],
    extras: &[String],
    footer: &str,
    page_no: usize,
    more: bool,
    tz: Tz,
) -> String {
    let t = ctx.lang.t();
    let lang = ctx.lang;
    let mut b = format!("<p class=\"note\">{}</p>\n", esc(t.history_help));
    if rows.is_empty() && page_no == 1 {
        let _ = writeln!(
            b,
            "<p class=\"card\" id=\"history-empty\">{}</p>",
            esc(t.history_empty)
        );
    } else {
        let _ = write!(
            b,
            "<table id=\"history-table\"><caption>{page} {page_no}</caption>\n<thead><tr>\
<th scope=\"col\">{when}</th><th scope=\"col\">{doc}</th><th scope=\"col\">{purpose}</th>\
<th scope=\"col\">{unit}</th><th scope=\"col\">{out}</th></tr></thead>\n<tbody>\n",
            page = esc(t.page),
            when = esc(t.col_when),
            doc = esc(t.col_document),
            purpose = esc(t.col_purpose),
            unit = esc(t.col_unit),
            out = esc(t.col_outcome),
        );
        for (i, r) in rows.iter().enumerate() {
            let local = r.at.with_timezone(&tz);
            let extra = extras.get(i).map(String::as_str).unwrap_or("");
            // The receipt link (a JSON file with the leaf and its proof).
            let leaf = r
                .leaf
                .map(|l| format!(" <span class=\"note leaf\">{} {l}</span>", esc(t.leaf)))
                .unwrap_or_default();
            let out_cell = match r.receipt {
                Some(id) => format!(
                    "{} <a class=\"receipt\" href=\"/citizen/receipt?record={id}\" download>{}</a>{leaf}",
                    esc(&outcome(lang, &r.outcome)),
                    esc(t.receipt)
                ),
                None => esc(&outcome(lang, &r.outcome)),
            };
            let note = if r.operational {
                format!(" <span class=\"note\">({})</span>", esc(t.operational_note))
            } else {
                String::new()
            };
            let _ = writeln!(
                b,
                "<tr><td data-label=\"{lw}\"><time datetime=\"{iso}\">{when}</time></td>\
<td data-label=\"{ld}\">{doc}</td><td data-label=\"{lp}\">{purpose}{note}</td>\
<td data-label=\"{lu}\">{unit}</td><td data-label=\"{lo}\">{out}{extra}</td></tr>",
                lw = esc(t.col_when),
                ld = esc(t.col_document),
                lp = esc(t.col_purpose),
                lu = esc(t.col_unit),
                lo = esc(t.col_outcome),
                iso = esc(&r.at.to_rfc3339()),
                when = esc(&local.format("%Y-%m-%d %H:%M").to_string()),
                doc = esc(&i18n::document(lang, &r.document)),
                purpose = esc(&i18n::purpose(lang, &r.purpose)),
                unit = esc(&r.unit),
                out = out_cell,
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str(footer);
    b.push_str("<nav class=\"pager\" aria-label=\"pages\">");
    if page_no > 1 {
        let _ = write!(
            b,
            "<a href=\"/citizen/history?page={}\" rel=\"prev\">&larr; {}</a>",
            page_no - 1,
            esc(t.newer)
        );
    } else {
        b.push_str("<span></span>");
    }
    if more {
        let _ = write!(
            b,
            "<a href=\"/citizen/history?page={}\" rel=\"next\" id=\"older\">{} &rarr;</a>",
            page_no + 1,
            esc(t.older)
        );
    }
    let _ = write!(
        b,
        "</nav>\n<p><a href=\"/citizen/\">{}</a></p>\n",
        esc(t.back)
    );
    page(ctx, t.history, &b)
}
