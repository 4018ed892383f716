//! The provider's HTML: the citizen picker and the error page. Plain forms,
//! no script, so they work in any browser and can be driven by a script.

use std::fmt::Write as _;

use okaz_protocol::html::escape;

use super::request::AuthRequest;
use crate::directory::Subject;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;\
padding:0 1rem;color:#111;background:#fff;line-height:1.5}\
fieldset{margin:1rem 0;border:1px solid #555}label{display:block;padding:.25rem 0}\
button{font-size:1rem;padding:.5rem 1rem;margin:.5rem .5rem 0 0}\
input[type=text]{font-size:1rem;padding:.25rem;width:100%;box-sizing:border-box}\
.note{color:#333;font-size:.9rem}.err{color:#a00000}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style></head><body>\n<main>\n<h1>{t}</h1>\n{body}</main>\n</body></html>\n",
        t = escape(title)
    )
}

/// The sign-in page: pick a synthetic citizen (groups by scenario tag) or
/// type an index or PESEL. Every request parameter rides in hidden fields.
pub(crate) fn picker(req: &AuthRequest, groups: &[(&str, &str, Vec<Subject>)]) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>Sandbox eID (stand-in for login.gov.pl). Client <code>{}</code> \
asks you to sign in. Choose a synthetic citizen.</p>\n\
<p lang=\"pl\">Piaskownica eID: wybierz syntetycznego obywatela.</p>\n\
<form method=\"post\" action=\"/oidc/authorize\">\n",
        escape(&req.client_id)
    );
    for (name, value) in req.hidden_fields() {
        let _ = writeln!(
            b,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        );
    }
    // The first citizen is pre-selected so that "Sign in" works at once.
    let mut first = true;
    for (tag, label, subjects) in groups {
        if subjects.is_empty() {
            continue;
        }
        let _ = writeln!(b, "<fieldset><legend>{}</legend>", escape(label));
        for s in subjects {
            let _ =
                writeln!(
                b,
                "<label><input type=\"radio\" name=\"pesel\" value=\"{p}\" data-tag=\"{tag}\"{c}> \
{n} &middot; PESEL {p} &middot; #{i}</label>",
                c = if std::mem::take(&mut first) { " checked" } else { "" },
                p = escape(&s.pesel),
                n = escape(&s.name),
                tag = escape(tag),
                i = s.index,
            );
        }
        b.push_str("</fieldset>\n");
    }
    b.push_str(
        "<p><label for=\"subject\">Or a population index or PESEL \
(overrides the choice above) / Indeks lub PESEL</label>\n\
<input type=\"text\" id=\"subject\" name=\"subject\" inputmode=\"numeric\" autocomplete=\"off\"></p>\n\
<button type=\"submit\" name=\"action\" value=\"sign_in\">Sign in / Zaloguj</button>\
<button type=\"submit\" name=\"action\" value=\"cancel\">Cancel / Anuluj</button>\n\
</form>\n<p class=\"note\">Scripted use: POST this form with <code>pesel=</code> \
(or <code>subject=</code>) and the hidden fields.</p>\n",
    );
    page("Sign in with eID (sandbox)", &b)
}

/// An error page: shown instead of redirecting whenever the request cannot
/// be trusted to name a safe callback, or the picker input is wrong.
pub(crate) fn error(message: &str) -> String {
    page(
        "eID sign-in error / Błąd logowania",
        &format!("<p class=\"err\" role=\"alert\">{}</p>\n", escape(message)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        assert!(!error("<script>").contains("<script>"));
    }
}
