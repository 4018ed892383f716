//! The start page: signed out (sign-in) and signed in (status and actions).

use super::{esc, page, Ctx};

/// The signed-out start page; `notice` is a confirmation to show (signed out).
pub fn signed_out(ctx: &Ctx, notice: Option<&str>) -> String {
    let t = ctx.lang.t();
    let notice = notice
        .map(|n| format!("<p class=\"notice\" role=\"status\">{}</p>\n", esc(n)))
        .unwrap_or_default();
    page(
        ctx,
        t.welcome,
        &format!(
            "{notice}<div class=\"card\"><p>{intro}</p>\n\
<p class=\"actions\"><a class=\"button\" id=\"sign-in\" href=\"/citizen/login?lang={lang}\">{sign_in}</a></p></div>\n",
            intro = esc(t.intro),
            lang = ctx.lang.tag(),
            sign_in = esc(t.sign_in),
        ),
    )
}

/// The signed-in start page.
pub fn dashboard(ctx: &Ctx, name: &str, active: bool, notice: Option<&str>) -> String {
    let t = ctx.lang.t();
    let notice = notice
        .map(|n| format!("<p class=\"notice\" role=\"status\">{}</p>\n", esc(n)))
        .unwrap_or_default();
    let (status, class, help) = if active {
        (t.active, "on", t.active_help)
    } else {
        (t.inactive, "off", t.inactive_help)
    };
    let action = if active {
        ctx.button_form("/citizen/deactivate", t.deactivate, "danger")
    } else {
        format!(
            "<a class=\"button\" id=\"activate\" href=\"/citizen/activate\">{}</a>",
            esc(t.activate)
        )
    };
    page(
        ctx,
        t.your_service,
        &format!(
            "{notice}<p>{signed_in_as} <strong>{name}</strong></p>\n\
<section class=\"card\" aria-labelledby=\"status\"><p id=\"status\" class=\"status {class}\" data-active=\"{active}\">{status}</p>\n\
<p class=\"note\">{help}</p>\n<div class=\"actions\">{action}\
<a class=\"button secondary\" id=\"history\" href=\"/citizen/history\">{history}</a></div></section>\n",
            signed_in_as = esc(t.signed_in_as),
            name = esc(name),
            status = esc(status),
            help = esc(help),
            history = esc(t.history),
        ),
    )
}
