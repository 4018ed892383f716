//! The citizen's session and sign-in attempt, kept in sealed cookies.
//!
//! Nothing about the citizen reaches the database: the session cookie holds
//! the pseudonym, and (encrypted) the PESEL and name, because the PESEL is
//! needed again to look up the phone for activation. A cookie is sealed by
//! encrypt-then-MAC under two keys derived from the cookie key (its own key
//! file; the version that sealed a cookie is in front of it, so cookies
//! sealed before `keys rotate` still open):
//! the keystream is HMAC-SHA256 as a PRF over a fresh random nonce and a
//! block counter (as in `core::seal`), the tag an HMAC over the purpose, the
//! nonce and the ciphertext. A cookie made for one purpose (sign-in attempt)
//! cannot be passed off as another (session), and any change is refused.
//!
//! ```text
//!  signed out ──eID callback ok──▶ signed in ──request──▶ signed in (seen = now)
//!                                     │ └──now - seen >= idle──▶ ended
//!                                     └──now - signed_in >= max──▶ ended
//!                                     └──sign-out──▶ ended (cookie removed)
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use okaz_core::keyring::{KeyRing, KeyVersion, VERSION_LEN};
use okaz_core::pseudonym::{SecretError, SecretKey};

/// Name of the session cookie (the `__Host-` prefix makes the browser
/// insist on Secure, Path=/ and no Domain).
pub const SESSION_COOKIE: &str = "__Host-okaz_citizen";
/// Name of the cookie that carries one sign-in attempt to the callback.
pub const LOGIN_COOKIE: &str = "__Host-okaz_login";
/// A sign-in attempt must come back within this many seconds.
pub const LOGIN_TTL_SECS: i64 = 600;

const NONCE_LEN: usize = 16;
const TAG_LEN: usize = 32;
/// Bound on a cookie we try to open: ours are well under 2 KiB.
const MAX_SEALED: usize = 4096;

/// Seals and opens cookie values: the newest version seals, every version
/// held opens.
#[derive(Clone, Debug)]
pub struct Sealer {
    current: (KeyVersion, CookieKeys),
    versions: std::collections::BTreeMap<KeyVersion, CookieKeys>,
}

#[derive(Clone, Debug)]
struct CookieKeys {
    enc: SecretKey,
    mac: SecretKey,
}

impl CookieKeys {
    fn new(portal_key: &SecretKey) -> Result<Self, SecretError> {
        Ok(CookieKeys {
            enc: portal_key.derive("okaz/portal/cookie-enc")?,
            mac: portal_key.derive("okaz/portal/cookie-mac")?,
        })
    }
}

impl Sealer {
    /// Keys derived from every version of the cookie key.
    pub fn new(ring: &KeyRing) -> Result<Self, SecretError> {
        let mut versions = std::collections::BTreeMap::new();
        for v in ring.versions() {
            if let Some(k) = ring.get(v) {
                versions.insert(v, CookieKeys::new(k)?);
            }
        }
        let (v, k) = ring.current();
        Ok(Sealer {
            current: (v, CookieKeys::new(k)?),
            versions,
        })
    }

    fn xor_stream(keys: &CookieKeys, nonce: &[u8], data: &mut [u8]) {
        for (i, chunk) in data.chunks_mut(32).enumerate() {
            let block =
                Zeroizing::new(
                    keys.enc
                        .mac(&[b"portal-stream", nonce, &(i as u64).to_be_bytes()]),
                );
            for (d, k) in chunk.iter_mut().zip(block.iter()) {
                *d ^= k;
            }
        }
    }

    /// Encrypts and authenticates `plain` for `purpose`; base64url text.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        let (version, keys) = (&self.current.0.to_be_bytes(), &self.current.1);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut body = plain.to_vec();
        Self::xor_stream(keys, &nonce, &mut body);
        let tag = keys
            .mac
            .mac(&[b"portal-tag", purpose.as_bytes(), version, &nonce, &body]);
        let mut out = Vec::with_capacity(VERSION_LEN + NONCE_LEN + body.len() + TAG_LEN);
        out.extend_from_slice(version);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        out.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens a sealed value; `None` if it was changed, made for another
    /// purpose or under another key. The tag is checked (in constant time)
    /// before anything is decrypted.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() > MAX_SEALED {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < VERSION_LEN + NONCE_LEN + TAG_LEN {
            return None;
        }
        let (version, rest) = raw.split_at(VERSION_LEN);
        let (v, _) = okaz_core::keyring::split_version(version)?;
        let keys = self.versions.get(&v)?;
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
        if !keys.mac.verify(
            &[b"portal-tag", purpose.as_bytes(), version, nonce, body],
            tag,
        ) {
            return None;
        }
        let mut plain = Zeroizing::new(body.to_vec());
        Self::xor_stream(keys, nonce, &mut plain);
        Some(plain)
    }

    /// Seals a value as JSON.
    pub fn seal_json<T: Serialize>(&self, purpose: &str, value: &T) -> Option<String> {
        let json = Zeroizing::new(serde_json::to_vec(value).ok()?);
        Some(self.seal(purpose, &json))
    }

    /// Opens a JSON value.
    pub fn open_json<T: for<'de> Deserialize<'de>>(
        &self,
        purpose: &str,
        sealed: &str,
    ) -> Option<T> {
        let plain = self.open(purpose, sealed)?;
        serde_json::from_slice(&plain).ok()
    }
}

/// 256 random bits, base64url: state, nonce, PKCE verifier, session ids.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// One sign-in attempt, from the redirect to the eID until its callback.
#[derive(Serialize, Deserialize)]
pub struct LoginAttempt {
    /// Echoed back by the eID; binds the callback to this browser.
    pub state: String,
    /// Must come back inside the ID token; binds the token to this attempt.
    pub nonce: String,
    /// PKCE verifier (43 base64url characters).
    pub verifier: String,
    /// Language chosen before leaving.
    pub lang: String,
    /// Until when the callback is accepted (seconds since the epoch).
    pub expires: i64,
}

/// A code sent to the citizen's phone to activate the service. The code's
/// MAC, its tries and its use live in the store (the core's activation
/// flow); the session only remembers which code to ask about.
#[derive(Serialize, Deserialize, Clone)]
pub struct PendingCode {
    /// The code's id in the store.
    pub id: String,
    /// The masked number it went to, to show again.
    pub sent_to: String,
}

/// A signed-in citizen.
#[derive(Serialize, Deserialize, Clone)]
pub struct Session {
    /// Random id of this session: CSRF tokens and codes are bound to it.
    pub sid: String,
    /// The citizen's pseudonym (what the store knows them by).
    pub citizen: String,
    /// The PESEL, only ever inside the sealed cookie.
    pub pesel: String,
    /// Given and family name, for the greeting.
    pub name: String,
    /// When the citizen signed in (seconds since the epoch).
    pub signed_in: i64,
    /// Last request (seconds since the epoch).
    pub seen: i64,
    /// An activation code on its way, if any.
    pub pending: Option<PendingCode>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("signed_in", &self.signed_in)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.pesel.zeroize();
        self.name.zeroize();
    }
}

/// Whether a session is still alive at `now` (idle and absolute limits).
pub fn alive(s: &Session, now: i64, idle_secs: i64, max_secs: i64) -> bool {
    now >= s.signed_in && now - s.seen < idle_secs && now - s.signed_in < max_secs
}

/// Purpose labels of the sealed cookies.
pub const PURPOSE_SESSION: &str = "session";
/// Purpose label of the sign-in attempt cookie.
pub const PURPOSE_LOGIN: &str = "login";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ring(versions: &[(u32, u8)]) -> KeyRing {
        KeyRing::new(
            "cookie",
            versions
                .iter()
                .map(|(v, b)| (*v, SecretKey::new(vec![*b; 32]).unwrap())),
        )
        .unwrap()
    }

    fn sealer(b: u8) -> Sealer {
        Sealer::new(&ring(&[(1, b)])).unwrap()
    }

    #[test]
    fn cookies_sealed_before_a_rotation_still_open() {
        let old = sealer(1);
        let c = old.seal("session", b"hello");
        let rotated = Sealer::new(&ring(&[(1, 1), (2, 2)])).unwrap();
        assert_eq!(&rotated.open("session", &c).unwrap()[..], b"hello");
        let newer = rotated.seal("session", b"hello");
        assert!(
            old.open("session", &newer).is_none(),
            "v2 unknown to v1 only"
        );
        let only_new = Sealer::new(&ring(&[(2, 2)])).unwrap();
        assert!(only_new.open("session", &c).is_none(), "v1 removed");
        assert_eq!(&only_new.open("session", &newer).unwrap()[..], b"hello");
    }

    #[test]
    fn sealed_values_round_trip_and_hide_the_content() {
        let s = sealer(1);
        let long = "44051401359 ".repeat(20);
        let c = s.seal("session", long.as_bytes());
        assert!(!c.contains("4405"));
        assert_eq!(&s.open("session", &c).unwrap()[..], long.as_bytes());
        // Fresh nonce each time.
        assert_ne!(c, s.seal("session", long.as_bytes()));
    }

    #[test]
    fn changed_foreign_or_misused_values_do_not_open() {
        let s = sealer(1);
        let c = s.seal("session", b"hello");
        assert!(s.open("login", &c).is_none(), "purpose is bound");
        assert!(sealer(2).open("session", &c).is_none(), "key is bound");
        let mut raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
        raw[VERSION_LEN + NONCE_LEN] ^= 1;
        assert!(s.open("session", &URL_SAFE_NO_PAD.encode(&raw)).is_none());
        for junk in ["", "!!", "AAAA", &"A".repeat(5000)] {
            assert!(s.open("session", junk).is_none());
        }
    }

    fn session(signed_in: i64, seen: i64) -> Session {
        Session {
            sid: "s".into(),
            citizen: "c".into(),
            pesel: "44051401359".into(),
            name: "Jan".into(),
            signed_in,
            seen,
            pending: None,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_too_old() {
        let (idle, max) = (900, 3600);
        assert!(alive(&session(0, 0), 899, idle, max));
        assert!(!alive(&session(0, 0), 900, idle, max), "idle limit");
        assert!(alive(&session(0, 3000), 3599, idle, max));
        assert!(!alive(&session(0, 3000), 3600, idle, max), "absolute limit");
        assert!(!alive(&session(100, 100), 50, idle, max), "from the future");
    }

    #[test]
    fn debug_hides_the_citizen() {
        let d = format!("{:?}", session(0, 0));
        assert!(!d.contains("4405") && !d.contains("Jan"), "{d}");
    }
}
