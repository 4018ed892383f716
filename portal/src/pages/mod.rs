//! The portal's HTML, as plain functions from data to text. Every value
//! that is not a literal of this file goes through [`esc`]. The pages need
//! no script; the style sheet is a file of our own (`style-src 'self'`).

pub mod activation;
pub mod history;
pub mod home;

use std::fmt::Write as _;

use super::i18n::Lang;

/// Escapes text for element content and double-quoted attributes.
pub use okaz_protocol::html::escape as esc;

/// What every page needs to know about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Language.
    pub lang: Lang,
    /// The CSRF token, when signed in (forms need it).
    pub csrf: Option<String>,
    /// The path of this page (for the language switch).
    pub here: String,
}

impl Ctx {
    /// The hidden CSRF field of a form.
    pub fn csrf_field(&self) -> String {
        match &self.csrf {
            Some(t) => format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                super::csrf::FIELD,
                esc(t)
            ),
            None => String::new(),
        }
    }

    /// A one-button form posting to `action`.
    pub fn button_form(&self, action: &str, label: &str, class: &str) -> String {
        format!(
            "<form method=\"post\" action=\"{}\">{}<button type=\"submit\" class=\"{}\">{}</button></form>",
            esc(action),
            self.csrf_field(),
            esc(class),
            esc(label)
        )
    }
}

/// A whole page: header with language switch (and sign-out when signed
/// in), a skip link, and `body` (already HTML) in `<main>`.
pub fn page(ctx: &Ctx, title: &str, body: &str) -> String {
    let t = ctx.lang.t();
    let other = ctx.lang.other();
    let mut h = String::with_capacity(4096);
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n\
<title>{title} · {service}</title>\n\
<link rel=\"stylesheet\" href=\"/citizen/static/portal.css\">\n</head>\n<body>\n\
<a class=\"skip\" href=\"#main\">{skip}</a>\n\
<header><div class=\"bar\"><a class=\"brand\" href=\"/citizen/\">{service}</a>\n<nav>\
<a href=\"{here}?lang={otag}\" lang=\"{otag}\" hreflang=\"{otag}\">{switch}</a>",
        lang = ctx.lang.tag(),
        title = esc(title),
        service = esc(t.service),
        skip = esc(t.skip),
        here = esc(&ctx.here),
        otag = other.tag(),
        switch = esc(t.switch_to),
    );
    if ctx.csrf.is_some() {
        h.push_str(&ctx.button_form("/citizen/logout", t.sign_out, "secondary"));
    }
    let _ = write!(
        h,
        "</nav></div></header>\n<main id=\"main\" tabindex=\"-1\">\n<h1>{}</h1>\n{body}</main>\n</body>\n</html>\n",
        esc(title)
    );
    h
}

/// A page with one message and a way back.
pub fn message(ctx: &Ctx, title: &str, text: &str, alert: bool) -> String {
    let t = ctx.lang.t();
    let class = if alert { "alert" } else { "notice" };
    let role = if alert { " role=\"alert\"" } else { "" };
    page(
        ctx,
        title,
        &format!(
            "<p class=\"{class}\"{role}>{}</p>\n<p><a class=\"button secondary\" href=\"/citizen/\">{}</a></p>\n",
            esc(text),
            esc(t.back)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
        let ctx = Ctx {
            lang: Lang::En,
            csrf: None,
            here: "/citizen/\"><script>".into(),
        };
        let p = message(&ctx, "<b>", "<script>alert(1)</script>", true);
        assert!(!p.contains("<script>") && !p.contains("<b>"), "{p}");
        assert!(p.contains("lang=\"en\""));
    }
}
