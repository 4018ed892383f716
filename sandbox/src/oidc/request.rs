//! Validation of an authorization request (the GET query, or the hidden
//! fields echoed back by the picker's POST, which a tester can edit and are
//! therefore checked again).

use std::collections::HashMap;

/// Longest value accepted for any parameter: generous for real clients,
/// and keeps what the picker echoes back into the page bounded.
const MAX_PARAM_LEN: usize = 512;

/// A validated authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthRequest {
    pub client_id: String,
    /// Exactly as received: the token request must repeat it byte for byte.
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub code_challenge: String,
}

impl AuthRequest {
    /// The parameters to carry through the picker form, as (name, value).
    pub(crate) fn hidden_fields(&self) -> [(&'static str, &str); 8] {
        [
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &self.scope),
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", "S256"),
        ]
    }
}

/// Whether the sandbox accepts `uri` as a redirect target: it registers any
/// client whose callback is on this machine (https on 127.0.0.1 or
/// localhost, or plain http on 127.0.0.1), never anywhere else, so an
/// error or a code can never be sent to a foreign site.
pub(crate) fn redirect_uri_allowed(uri: &str) -> bool {
    let Ok(u) = url::Url::parse(uri) else {
        return false;
    };
    // A fragment cannot carry the response, and credentials in a callback
    // URL are a phishing trick (RFC 6749 3.1.2).
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    matches!(
        (u.scheme(), u.host_str()),
        ("https", Some("127.0.0.1" | "localhost")) | ("http", Some("127.0.0.1"))
    )
}

fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    match q.get(name).map(String::as_str) {
        None | Some("") => Err(format!("missing parameter {name}")),
        Some(v) if v.len() > MAX_PARAM_LEN => Err(format!("parameter {name} is too long")),
        Some(v) if v.chars().any(char::is_control) => {
            Err(format!("parameter {name} holds control characters"))
        }
        Some(v) => Ok(v),
    }
}

/// Checks every parameter; the error is a sentence for the tester's error
/// page (it never quotes the values).
pub(crate) fn validate(q: &HashMap<String, String>) -> Result<AuthRequest, String> {
    let client_id = param(q, "client_id")?;
    let redirect_uri = param(q, "redirect_uri")?;
    if !redirect_uri_allowed(redirect_uri) {
        return Err(
            "redirect_uri is not registered: the sandbox accepts https://127.0.0.1, \
                    https://localhost or http://127.0.0.1 callbacks without a fragment"
                .into(),
        );
    }
    if param(q, "response_type")? != "code" {
        return Err("response_type must be code (authorization code flow)".into());
    }
    let scope = param(q, "scope")?;
    if !scope.split(' ').any(|s| s == "openid") {
        return Err("scope must include openid".into());
    }
    let state = param(q, "state")?;
    let nonce = param(q, "nonce")?;
    let code_challenge = param(q, "code_challenge")?;
    let method = q.get("code_challenge_method").map(String::as_str);
    if method != Some("S256") {
        return Err("PKCE is required with code_challenge_method=S256".into());
    }
    // An S256 challenge is a base64url SHA-256: exactly 43 characters.
    let b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if code_challenge.len() != 43 || !code_challenge.bytes().all(b64url) {
        return Err("code_challenge is not a base64url SHA-256 (43 characters)".into());
    }
    Ok(AuthRequest {
        client_id: client_id.into(),
        redirect_uri: redirect_uri.into(),
        scope: scope.into(),
        state: state.into(),
        nonce: nonce.into(),
        code_challenge: code_challenge.into(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn good() -> HashMap<String, String> {
        [
            ("response_type", "code"),
            ("client_id", "portal"),
            ("redirect_uri", "https://127.0.0.1:8443/citizen/callback"),
            ("scope", "openid profile"),
            ("state", "s"),
            ("nonce", "n"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn a_complete_request_validates() {
        let r = validate(&good()).unwrap();
        assert_eq!(r.client_id, "portal");
        assert_eq!(r.hidden_fields().len(), 8);
    }

    #[test]
    fn each_defect_is_refused() {
        let defects: [(&str, Option<&str>); 10] = [
            ("client_id", None),
            ("redirect_uri", Some("https://evil.example/cb")),
            ("redirect_uri", Some("https://127.0.0.1/cb#x")),
            ("redirect_uri", Some("http://localhost/cb")),
            ("response_type", Some("token")),
            ("scope", Some("profile")),
            ("state", None),
            ("nonce", Some("")),
            ("code_challenge_method", Some("plain")),
            ("code_challenge", Some("short")),
        ];
        for (name, value) in defects {
            let mut q = good();
            match value {
                Some(v) => q.insert(name.into(), v.into()),
                None => q.remove(name),
            };
            assert!(validate(&q).is_err(), "{name}={value:?}");
        }
    }

    #[test]
    fn local_callbacks_are_allowed() {
        for ok in [
            "https://localhost/cb",
            "https://127.0.0.1:1234/a?b=c",
            "http://127.0.0.1:8080/cb",
        ] {
            assert!(redirect_uri_allowed(ok), "{ok}");
        }
        for bad in [
            "https://127.0.0.1.evil.example/cb",
            "https://user@127.0.0.1/cb",
            "javascript:alert(1)",
            "/relative",
        ] {
            assert!(!redirect_uri_allowed(bad), "{bad}");
        }
    }
}
