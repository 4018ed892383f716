//! Activation: the phone on record, the code form, and what to do without
//! a phone.

use super::{esc, page, Ctx};

/// The phone on record (masked) and a button to send a code.
pub fn phone(ctx: &Ctx, masked: &str) -> String {
    let t = ctx.lang.t();
    page(
        ctx,
        t.activation,
        &format!(
            "<div class=\"card\"><p>{on_record}</p><p class=\"phone\">{masked}</p>\n\
<form method=\"post\" action=\"/citizen/activate/send\">{csrf}\
<button type=\"submit\" id=\"send-code\">{send}</button></form></div>\n\
<p><a href=\"/citizen/\">{back}</a></p>\n",
            on_record = esc(t.phone_on_record),
            masked = esc(masked),
            csrf = ctx.csrf_field(),
            send = esc(t.send_code),
            back = esc(t.back),
        ),
    )
}

/// The form to type the code; `error` says why the last try failed.
pub fn code_form(ctx: &Ctx, sent_to: &str, error: Option<(&str, Option<u32>)>) -> String {
    let t = ctx.lang.t();
    let (alert, invalid) = match error {
        Some((msg, left)) => {
            let left = left
                .map(|n| format!(" {} {n}.", esc(t.attempts_left)))
                .unwrap_or_default();
            (
                format!(
                    "<p class=\"alert\" role=\"alert\" id=\"code-error\">{}{left}</p>\n",
                    esc(msg)
                ),
                " aria-invalid=\"true\" aria-describedby=\"code-hint code-error\"",
            )
        }
        None => (String::new(), " aria-describedby=\"code-hint\""),
    };
    page(
        ctx,
        t.activation,
        &format!(
            "{alert}<div class=\"card\"><p>{sent} <span class=\"phone\">{sent_to}</span></p>\n\
<form method=\"post\" action=\"/citizen/activate/code\">{csrf}\
<label for=\"code\">{label}</label>\
<input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" \
maxlength=\"6\" autocomplete=\"one-time-code\" required autofocus{invalid}>\
<p class=\"hint\" id=\"code-hint\">{hint}</p>\
<div class=\"actions\"><button type=\"submit\" id=\"confirm\">{confirm}</button></div></form>\n\
<form method=\"post\" action=\"/citizen/activate/send\">{csrf}\
<div class=\"actions\"><button type=\"submit\" class=\"secondary\">{again}</button></div></form></div>\n\
<p><a href=\"/citizen/\">{back}</a></p>\n",
            sent = esc(t.code_sent),
            sent_to = esc(sent_to),
            csrf = ctx.csrf_field(),
            label = esc(t.code_label),
            hint = esc(t.code_hint),
            confirm = esc(t.confirm),
            again = esc(t.send_again),
            back = esc(t.back),
        ),
    )
}

/// No phone on record, or contact reserved: what to do.
pub fn no_phone(ctx: &Ctx, reserved: bool) -> String {
    let t = ctx.lang.t();
    let help = if reserved {
        t.reserved_help
    } else {
        t.no_phone_help
    };
    page(
        ctx,
        t.no_phone_title,
        &format!(
            "<div class=\"card\" id=\"no-phone\"><p>{}</p></div>\n\
<p><a class=\"button secondary\" href=\"/citizen/\">{}</a></p>\n",
            esc(help),
            esc(t.back)
        ),
    )
}
