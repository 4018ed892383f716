//! What `docs/openapi.yaml` documents for a route's answers, read line by
//! line (the file keeps one shape: paths at two spaces, methods at four,
//! statuses at eight), so a test can hold a real answer against it.

use crate::Reply;

/// One documented answer: its status and the text of its entry (the
/// description naming problem codes, and the media types).
#[derive(Debug, Clone)]
pub struct Documented {
    /// The HTTP status.
    pub status: u16,
    /// The entry's lines.
    pub text: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The answers documented for `method` (`get`, `post`, …) on `path` (the
/// OpenAPI pattern, e.g. `/v1/admin/officers/{id}/enable`).
pub fn documented(doc: &str, method: &str, path: &str) -> Vec<Documented> {
    let lines: Vec<&str> = doc.lines().collect();
    let path_line = format!("  {path}:");
    let method_line = format!("    {}:", method.to_lowercase());
    let Some(p) = lines.iter().position(|l| *l == path_line) else {
        return Vec::new();
    };
    let in_path = |l: &&str| l.trim().is_empty() || indent(l) > 2;
    let body: Vec<&str> = lines[p + 1..].iter().copied().take_while(in_path).collect();
    let Some(m) = body.iter().position(|l| *l == method_line) else {
        return Vec::new();
    };
    let in_method = |l: &&str| l.trim().is_empty() || indent(l) > 4;
    let op: Vec<&str> = body[m + 1..]
        .iter()
        .copied()
        .take_while(in_method)
        .collect();
    let Some(r) = op.iter().position(|l| l.trim() == "responses:") else {
        return Vec::new();
    };
    let mut out: Vec<Documented> = Vec::new();
    for line in op[r + 1..].iter().take_while(|l| indent(l) > 6) {
        let status = (indent(line) == 8)
            .then(|| line.trim().strip_prefix('"'))
            .flatten()
            .and_then(|l| l.get(..3))
            .and_then(|s| s.parse::<u16>().ok());
        match (status, out.last_mut()) {
            (Some(status), _) => out.push(Documented {
                status,
                text: line.trim().to_string(),
            }),
            (None, Some(last)) => {
                last.text.push('\n');
                last.text.push_str(line.trim());
            }
            (None, None) => {}
        }
    }
    out
}

/// Whether a real answer of a route is documented: its status, its media
/// type, and, for a problem whose entry names codes, its code. A shared
/// `#/components/responses/Problem` entry stands for any problem code.
pub fn check(doc: &str, method: &str, path: &str, reply: &Reply) -> Result<(), String> {
    let answers = documented(doc, method, path);
    if answers.is_empty() {
        return Err(format!("{method} {path} is not documented"));
    }
    let Some(entry) = answers.iter().find(|a| a.status == reply.status) else {
        return Err(format!(
            "{method} {path} answered {} but documents only {:?}",
            reply.status,
            answers.iter().map(|a| a.status).collect::<Vec<_>>()
        ));
    };
    let media = reply
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let generic = entry.text.contains("#/components/responses/Problem");
    let media_listed = entry.text.contains(&format!("{media}:"))
        || (generic && media == "application/problem+json");
    if !media.is_empty() && !media_listed {
        return Err(format!(
            "{method} {path} answered {} as {media}, not documented there:\n{}",
            reply.status, entry.text
        ));
    }
    if media == "application/problem+json" && !generic {
        let code = reply.body["code"].as_str().unwrap_or_default();
        if !entry.text.contains(code) {
            return Err(format!(
                "{method} {path} answered {} {code}, which its entry does not name:\n{}",
                reply.status, entry.text
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, content_type: &str, body: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: content_type.to_string(),
            text: body.to_string(),
            body,
        }
    }

    #[test]
    fn reads_the_shipped_document_and_catches_what_it_does_not_say() {
        let doc = include_str!("../../docs/openapi.yaml");
        let lockouts = documented(doc, "get", "/v1/admin/lockouts");
        assert!(lockouts.iter().any(|a| a.status == 200));
        let ok = reply(200, "application/json", serde_json::json!([]));
        check(doc, "get", "/v1/admin/lockouts", &ok).unwrap();
        // An undocumented status, media type or problem code is caught.
        let teapot = reply(418, "application/json", serde_json::json!({}));
        assert!(check(doc, "get", "/v1/admin/lockouts", &teapot).is_err());
        let xml = reply(200, "application/xml", serde_json::json!("x"));
        assert!(check(doc, "get", "/v1/admin/lockouts", &xml).is_err());
        let other = reply(
            409,
            "application/problem+json",
            serde_json::json!({"code": "not_activated"}),
        );
        assert!(check(doc, "post", "/v1/verifications/{id}/code", &other).is_err());
        assert!(check(doc, "get", "/v1/nowhere", &ok).is_err());
    }
}
