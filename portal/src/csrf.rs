//! CSRF tokens. Every form carries a token derived from the session id
//! (a MAC under a portal key), and the session id rides in the sealed,
//! SameSite, HttpOnly session cookie: a form posted from another site has
//! the cookie but cannot know the token. Compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use okaz_core::pseudonym::SecretKey;

/// The form field name.
pub const FIELD: &str = "csrf";

/// The token for forms of session `sid`.
pub fn token(key: &SecretKey, sid: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.mac(&[b"portal-csrf", sid.as_bytes()]))
}

/// Whether `presented` is the token of session `sid`.
pub fn valid(key: &SecretKey, sid: &str, presented: Option<&str>) -> bool {
    let Some(bytes) = presented.and_then(|p| URL_SAFE_NO_PAD.decode(p.trim()).ok()) else {
        return false;
    };
    key.verify(&[b"portal-csrf", sid.as_bytes()], &bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn token_is_bound_to_the_session() {
        let k = SecretKey::new(vec![5; 32]).unwrap();
        let t = token(&k, "sid-1");
        assert!(valid(&k, "sid-1", Some(&t)));
        assert!(!valid(&k, "sid-2", Some(&t)));
        assert!(!valid(&k, "sid-1", None));
        assert!(!valid(&k, "sid-1", Some("")));
        assert!(!valid(&k, "sid-1", Some("not base64 !")));
    }
}
