//! Notices to the citizen after a check, and the rules of disputes.
//!
//! After every release the citizen hears who checked which document, for
//! what and when, with a link to dispute it. A consent check is noticed at
//! once from memory (the PESEL is there at release); a police check waits
//! for the policy's delay, and the only place its identifier may wait is
//! an outbox row sealed under the notice key ([`seal`]), deleted once sent.
//!
//! ```text
//! police release ──(same tx)──▶ outbox row (sealed, due = at + delay)
//!   worker: due? ─claim─▶ open ─▶ contact register ─▶ send ─▶ delete
//!                                         └─ failure ─▶ attempts+1, due = now + backoff
//! ```
//!
//! A notice never carries a PESEL, a code or document content: only the
//! unit, the document's and purpose's names, the time and the dispute link,
//! whose token is a MAC of the verification id (never the PESEL).

use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use okaz_protocol::{DocumentType, Pesel};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::consent::document_words;
use crate::keyring::{split_version, KeyRing};
use crate::pseudonym::SecretKey;

/// What a notice tells, and whom (the PESEL, to look the citizen's contact
/// up at delivery). Lives in memory or sealed in the outbox, nowhere else.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notice {
    /// The citizen (digits only when sealed); wiped when the notice is
    /// dropped. Typed, so nothing on the notice's way parses it again.
    #[serde(with = "pesel_digits")]
    pub pesel: Pesel,
    /// The check (verification id): the dispute link names it.
    pub verification: String,
    /// The unit that checked.
    pub unit: String,
    /// The document released (a bundle's first part released).
    pub document: DocumentType,
    /// A bundle's further documents released to the same check for this
    /// citizen: one notice names them all, rather than one SMS each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<DocumentType>,
    /// The purpose's name in the policy (the text gives it in words).
    pub purpose: String,
    /// When the document was released.
    pub at: DateTime<Utc>,
    /// A break-glass (emergency) release: the text says so.
    #[serde(default)]
    pub emergency: bool,
    /// The check was refused after the citizen read out the right code
    /// (nothing released): the refusal's stable code, which the text gives
    /// in words. Such a notice has no dispute link, as there is no release
    /// to dispute; it points to the history page instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// The SMS went (or is not wanted): a retry does not send it again.
    #[serde(default)]
    pub sms_sent: bool,
    /// The e-mail went (or is not wanted).
    #[serde(default)]
    pub email_sent: bool,
}

impl Notice {
    /// Every document the check released for this citizen, first first.
    pub fn documents(&self) -> impl Iterator<Item = DocumentType> + '_ {
        std::iter::once(self.document).chain(self.also.iter().copied())
    }

    /// The documents in words (Polish, English), comma-separated.
    fn document_words(&self) -> (String, String) {
        let (pl, en): (Vec<_>, Vec<_>) = self.documents().map(document_words).unzip();
        (pl.join(", "), en.join(", "))
    }
}

/// A PESEL in a sealed notice: its eleven digits, as before it was typed,
/// so rows sealed earlier still open; parsed once, where the row opens.
mod pesel_digits {
    use okaz_protocol::Pesel;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(pesel: &Pesel, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Zeroizing::new(pesel.expose()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pesel, D::Error> {
        let digits = Zeroizing::new(String::deserialize(d)?);
        Pesel::parse(&digits).map_err(D::Error::custom)
    }
}

impl Drop for Notice {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.pesel);
    }
}

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PESEL never reaches a log.
        f.debug_struct("Notice")
            .field("verification", &self.verification)
            .field("unit", &self.unit)
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// Which channels the citizen wants notices on (all on unless they chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticePrefs {
    /// SMS to the phone in the contact register.
    pub sms: bool,
    /// E-mail / digital mailbox in the contact register.
    pub email: bool,
}

impl Default for NoticePrefs {
    fn default() -> Self {
        NoticePrefs {
            sms: true,
            email: true,
        }
    }
}

/// The key notices are sealed under in the outbox (its own job in the key
/// set, `notice_outbox`: not the pepper, not the challenge key), and the
/// dispute links' MAC key. Rotatable: the current version seals and signs,
/// every version held still opens and checks what it made.
#[derive(Clone, Debug)]
pub struct NoticeKey {
    ring: KeyRing,
}

/// Context labels of the two uses of the notice key.
const SEAL_LABEL: &[u8] = b"okaz/notice/seal";
const LINK_LABEL: &[u8] = b"okaz/notice/dispute-link";

/// Bytes of a dispute link's token.
const TOKEN_LEN: usize = 18;

fn aead(key: &SecretKey) -> Option<LessSafeKey> {
    let raw = Zeroizing::new(key.mac(&[SEAL_LABEL]));
    UnboundKey::new(&CHACHA20_POLY1305, raw.as_slice())
        .ok()
        .map(LessSafeKey::new)
}

impl NoticeKey {
    /// The notice key from the key set's `notice_outbox` ring.
    pub fn new(ring: KeyRing) -> Self {
        NoticeKey { ring }
    }

    /// Seals a notice for the outbox row `id` (the id is bound as
    /// associated data, so a sealed notice cannot be moved to another row)
    /// as version ‖ nonce ‖ ciphertext. `nonce` must be fresh random bytes.
    /// `None` only if the cipher refuses, which means a bug.
    pub fn seal(&self, id: &str, notice: &Notice, nonce: [u8; NONCE_LEN]) -> Option<Vec<u8>> {
        let (version, secret) = self.ring.current();
        let key = aead(secret)?;
        let mut buf = Zeroizing::new(serde_json::to_vec(notice).ok()?);
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(id.as_bytes()),
            &mut *buf,
        )
        .ok()?;
        let mut out = version.to_be_bytes().to_vec();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Some(out)
    }

    /// Opens a sealed row; `None` if it was sealed for another row, under
    /// a key version not held, or tampered with.
    pub fn open(&self, id: &str, sealed: &[u8]) -> Option<Notice> {
        let (version, rest) = split_version(sealed)?;
        let key = aead(self.ring.get(version)?)?;
        let (nonce, body) = rest.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = key
            .open_in_place(nonce, Aad::from(id.as_bytes()), &mut buf)
            .ok()?;
        serde_json::from_slice(plain).ok()
    }

    /// The unguessable token of a check's dispute link (current version).
    pub fn dispute_token(&self, verification: &str) -> String {
        let (_, key) = self.ring.current();
        let mac = key.mac(&[LINK_LABEL, verification.as_bytes()]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..TOKEN_LEN])
    }

    /// Whether `token` is this check's dispute token under any version held
    /// (constant time per version), so links sent before a rotation work.
    pub fn token_matches(&self, verification: &str, token: &str) -> bool {
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        if given.len() != TOKEN_LEN {
            return false;
        }
        let mut found = subtle::Choice::from(0);
        for version in self.ring.versions() {
            if let Some(key) = self.ring.get(version) {
                let mac = key.mac(&[LINK_LABEL, verification.as_bytes()]);
                found |= subtle::ConstantTimeEq::ct_eq(&mac[..TOKEN_LEN], &given[..]);
            }
        }
        found.into()
    }
}

/// Where notices sent from memory go: a bounded queue that delivers off
/// the request's path. `push` never blocks and never fails the check; a
/// full queue drops the notice and counts it.
pub trait NoticeQueue: Send + Sync {
    /// Hands a notice over for delivery on the channels `prefs` allow.
    fn push(&self, notice: Notice, prefs: NoticePrefs);
}

/// What the broker needs to notice checks: the key, and the queue for
/// notices sent at once.
#[derive(Clone)]
pub struct Notices {
    /// Seals the outbox and signs dispute links.
    pub key: NoticeKey,
    /// Delivers consent checks' notices at once.
    pub queue: std::sync::Arc<dyn NoticeQueue>,
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notices")
    }
}

/// The outbox row of a delayed notice, sealed under a fresh nonce; `None`
/// only if the cipher refuses (a bug), when the check goes on unnoticed
/// rather than failing.
pub fn outbox_row(
    notices: &Notices,
    random: &dyn crate::ports::RandomSource,
    notice: &Notice,
    due_at: DateTime<Utc>,
) -> Option<crate::ports::OutboxNotice> {
    let id = crate::ports::Rng(random).uuid();
    let mut nonce = [0u8; NONCE_LEN];
    random.fill(&mut nonce);
    let sealed = notices.key.seal(&id, notice, nonce);
    if sealed.is_none() {
        tracing::error!("a notice could not be sealed");
    }
    Some(crate::ports::OutboxNotice {
        id,
        sealed: sealed?,
        due_at,
        attempts: 0,
    })
}

/// The dispute link's path below the portal's public URL.
pub fn dispute_path(key: &NoticeKey, verification: &str) -> String {
    format!(
        "citizen/dispute/{verification}/{}",
        key.dispute_token(verification)
    )
}

/// What a notice's text gives in words, each as (Polish, English): the
/// purpose, and for a refused check the reason.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// The purpose (or a bundle's name) in words.
    pub purpose: (String, String),
    /// The refusal's reason in words, for a check refused after the code.
    pub refusal: Option<(String, String)>,
}

/// The notice's text, Polish then English, and the link: the check's
/// dispute link, or the history page's for a refused check. No PESEL, code
/// or document content. It begins with [`TEXT_PREFIX`], so a phone's
/// notices and codes are told apart.
pub fn text(n: &Notice, words: &Words, link: &str) -> String {
    let (doc_pl, doc_en) = n.document_words();
    let (pl, en) = (&words.purpose.0, &words.purpose.1);
    let when = n.at.format("%Y-%m-%d %H:%M UTC");
    let unit = &n.unit;
    let (em_pl, em_en) = if n.emergency {
        (" (kontrola w trybie naglym)", " (emergency check)")
    } else {
        ("", "")
    };
    if let Some((why_pl, why_en)) = &words.refusal {
        return format!(
            "okaz: powiadomienie. {unit} probowal(a) sprawdzic Twoj dokument: {doc_pl}, cel: {pl}, \
             {when}: odmowa ({why_pl}), nic nie udostepniono. Historia: {link} / \
             {unit} tried to check your {doc_en}, purpose: {en}, {when}: refused ({why_en}), \
             nothing was released. History: {link}"
        );
    }
    let (dok, doc) = if n.also.is_empty() {
        ("Twoj dokument", "your")
    } else {
        ("Twoje dokumenty", "your documents:")
    };
    format!(
        "okaz: powiadomienie. {unit} sprawdzil(a) {dok}: {doc_pl}, cel: {pl}, {when}{em_pl}. \
         To nie Ty? Zglos: {link} / \
         {unit} checked {doc} {doc_en}, purpose: {en}, {when}{em_en}. \
         Not you? Dispute: {link}"
    )
}

/// How every notice's text begins.
pub const TEXT_PREFIX: &str = "okaz: powiadomienie";

/// The e-mail subject of a notice.
pub fn subject(n: &Notice) -> String {
    let (doc_pl, doc_en) = n.document_words();
    format!("okaz: {doc_pl} / {doc_en} — {}", n.unit)
}

/// How long to wait before the next try after `attempts` failed ones:
/// 30 s doubling, at most six hours, so a long outage costs few tries.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts.min(20));
    Duration::from_secs(secs.min(6 * 3600))
}

/// Longest dispute comment kept, in characters.
pub const MAX_COMMENT: usize = 500;

/// A dispute comment as stored: control characters removed (newlines
/// become spaces), trimmed, at most [`MAX_COMMENT`] characters. Plain text:
/// every page escapes it when shown.
pub fn clean_comment(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    spaced.trim().chars().take(MAX_COMMENT).collect()
}

/// Longest resolution reason a security officer may give.
pub const MAX_RESOLUTION: usize = 500;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(b: u8) -> NoticeKey {
        NoticeKey::new(
            KeyRing::new("notice_outbox", [(1, SecretKey::new(vec![b; 32]).unwrap())]).unwrap(),
        )
    }

    fn notice() -> Notice {
        Notice {
            pesel: Pesel::parse("44051401359").unwrap(),
            verification: "v-1".into(),
            unit: "USC-Warszawa".into(),
            document: DocumentType::IdCard,
            also: Vec::new(),
            purpose: "age_check".into(),
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            emergency: false,
            refused: None,
            sms_sent: false,
            email_sent: false,
        }
    }

    #[test]
    fn sealed_opens_only_for_its_row_and_key_and_hides_the_pesel() {
        let sealed = key(1).seal("row-1", &notice(), [7; 12]).unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"44051401359"));
        assert_eq!(key(1).open("row-1", &sealed), Some(notice()));
        assert_eq!(key(1).open("row-2", &sealed), None);
        assert_eq!(key(2).open("row-1", &sealed), None);
        let mut bent = sealed.clone();
        if let Some(b) = bent.last_mut() {
            *b ^= 1;
        }
        assert_eq!(key(1).open("row-1", &bent), None);
    }

    fn words(pl: &str, en: &str) -> Words {
        Words {
            purpose: (pl.into(), en.into()),
            refusal: None,
        }
    }

    #[test]
    fn a_refused_checks_notice_says_nothing_was_released_and_offers_no_dispute() {
        let mut n = notice();
        n.refused = Some("document_not_found".into());
        let mut w = words("Pelnoletnosc", "Age check");
        w.refusal = Some(("brak dokumentu".into(), "no such document".into()));
        let t = text(&n, &w, "https://portal/citizen/history");
        assert!(t.starts_with(TEXT_PREFIX));
        assert!(t.contains("tried to check your identity card"), "{t}");
        assert!(t.contains("refused (no such document)") && t.contains("odmowa (brak dokumentu)"));
        assert!(t.contains("nothing was released") && !t.contains("Dispute"));
        assert!(!t.contains("44051401359"));
    }

    #[test]
    fn text_names_the_check_not_the_citizen() {
        let n = notice();
        let t = text(
            &n,
            &words("Pelnoletnosc", "Age check"),
            "https://portal/citizen/dispute/v-1/x",
        );
        assert!(t.starts_with(TEXT_PREFIX));
        assert!(t.contains("USC-Warszawa") && t.contains("identity card"));
        assert!(t.contains("dowod osobisty") && t.contains("Age check"));
        assert!(!t.contains("44051401359"));
        assert!(!t.contains("emergency"));
        let mut n = n;
        n.emergency = true;
        let e = text(&n, &words("p", "a"), "l");
        assert!(e.contains("emergency check") && e.contains("trybie naglym"));
    }

    #[test]
    fn a_bundles_notice_names_every_document_once() {
        let mut n = notice();
        n.also = vec![DocumentType::LargeFamilyCard];
        let t = text(&n, &words("p", "Identity confirmation"), "l");
        assert!(t.contains("your documents: identity card, Large Family Card"));
        assert!(t.contains("Twoje dokumenty: dowod osobisty, Karta Duzej Rodziny"));
        assert!(subject(&n).contains("identity card, Large Family Card"));
        // Sealed and opened, the list survives; an old row without it opens.
        let k = key(1);
        let sealed = k.seal("row-1", &n, [3; 12]).unwrap();
        assert_eq!(k.open("row-1", &sealed).unwrap().also, n.also);
        let old = serde_json::to_vec(&notice()).unwrap();
        assert!(!String::from_utf8_lossy(&old).contains("also"));
    }

    #[test]
    fn dispute_tokens_are_per_check_and_checked() {
        let k = key(1);
        let t = k.dispute_token("v-1");
        assert!(k.token_matches("v-1", &t));
        assert!(!k.token_matches("v-2", &t));
        assert!(!key(2).token_matches("v-1", &t));
        assert!(!k.token_matches("v-1", "not base64!"));
        assert!(dispute_path(&k, "v-1").ends_with(&t));
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(40), Duration::from_secs(6 * 3600));
    }

    #[test]
    fn comments_lose_control_characters_and_length() {
        assert_eq!(clean_comment(" a\u{0}b\nc\u{1b}[31m "), "ab c[31m");
        assert_eq!(clean_comment(&"x".repeat(900)).len(), MAX_COMMENT);
        assert_eq!(clean_comment("żółć"), "żółć");
    }
}
