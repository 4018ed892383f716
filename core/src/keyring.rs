//! The server's keys, one for each job, and the versions of those that
//! rotate.
//!
//! Each job has its own key so that holding one reveals nothing of another:
//! the pseudonym pepper (never rotated: a new pepper would re-pseudonymise
//! every citizen and orphan every activation and audit record), challenge
//! sealing (code MACs and sealed subjects), cookie sealing (the citizen
//! portal), TOTP-secret encryption, and notice outbox sealing. The audit
//! log's signing key lives apart, with the transparency log.
//!
//! A rotatable key is a [`KeyRing`]: numbered versions, the highest seals,
//! every version still opens what it sealed. What a ring seals carries its
//! version in front (4 bytes, big-endian), so opening never guesses.
//!
//! ```text
//!  keys init ──▶ v1 seals, v1 opens
//!  keys rotate ──▶ v2 seals; v1 and v2 open
//!  (v1's seals expired or re-encrypted) ──▶ operator removes v1
//! ```

use std::collections::BTreeMap;

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::ports::RandomSource;
use crate::pseudonym::{SecretError, SecretKey};

/// The number of a key's version (1, 2, …).
pub type KeyVersion = u32;

/// Bytes of the version prefix on everything a ring seals.
pub const VERSION_LEN: usize = 4;

/// The jobs a key file serves, with the file names `keys init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyJob {
    /// Citizens' pseudonyms (HMAC of the PESEL); never rotated.
    Pepper,
    /// Challenge code MACs and sealed subjects.
    Challenge,
    /// Citizen portal cookies.
    Cookie,
    /// Officers' TOTP secrets at rest.
    Totp,
    /// The notice outbox (rows waiting to tell a citizen of a check).
    NoticeOutbox,
}

impl KeyJob {
    /// Every job, in the order an operator reads them.
    pub const ALL: [KeyJob; 5] = [
        KeyJob::Pepper,
        KeyJob::Challenge,
        KeyJob::Cookie,
        KeyJob::Totp,
        KeyJob::NoticeOutbox,
    ];

    /// The file-name stem (`pepper.key`, `challenge.<v>.key`, …).
    pub fn name(self) -> &'static str {
        match self {
            KeyJob::Pepper => "pepper",
            KeyJob::Challenge => "challenge",
            KeyJob::Cookie => "cookie",
            KeyJob::Totp => "totp",
            KeyJob::NoticeOutbox => "notice_outbox",
        }
    }

    /// Whether the job's key may get new versions.
    pub fn rotates(self) -> bool {
        !matches!(self, KeyJob::Pepper)
    }
}

/// Why keys could not be assembled or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Key material is unusable.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A ring without any version.
    #[error("no version of the {0} key")]
    Empty(&'static str),
    /// Something sealed names a version this replica does not hold.
    #[error("the {job} key has no version {version} here")]
    UnknownVersion {
        /// Which key.
        job: &'static str,
        /// The version named.
        version: KeyVersion,
    },
    /// A ciphertext did not open (changed, bound to another officer, or
    /// sealed under another key).
    #[error("a sealed {0} value did not open")]
    Unsealed(&'static str),
}

/// The versions of one rotatable key.
#[derive(Clone)]
pub struct KeyRing {
    job: &'static str,
    versions: BTreeMap<KeyVersion, SecretKey>,
    /// The highest version and its key, kept apart so `current` is total.
    current: (KeyVersion, SecretKey),
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("job", &self.job)
            .field("versions", &self.versions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyRing {
    /// A ring of the given versions (at least one).
    pub fn new(
        job: &'static str,
        versions: impl IntoIterator<Item = (KeyVersion, SecretKey)>,
    ) -> Result<Self, KeyError> {
        let versions: BTreeMap<_, _> = versions.into_iter().collect();
        let current = versions
            .iter()
            .next_back()
            .map(|(v, k)| (*v, k.clone()))
            .ok_or(KeyError::Empty(job))?;
        Ok(KeyRing {
            job,
            versions,
            current,
        })
    }

    /// The version that seals now (the highest) and its key.
    pub fn current(&self) -> (KeyVersion, &SecretKey) {
        (self.current.0, &self.current.1)
    }

    /// The key of one version.
    pub fn get(&self, version: KeyVersion) -> Option<&SecretKey> {
        self.versions.get(&version)
    }

    /// The versions held, oldest first.
    pub fn versions(&self) -> Vec<KeyVersion> {
        self.versions.keys().copied().collect()
    }

    /// MAC under the current version, the version in front.
    pub fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let (v, k) = self.current();
        let mut out = Vec::with_capacity(VERSION_LEN + 32);
        out.extend_from_slice(&v.to_be_bytes());
        out.extend_from_slice(&k.mac(parts));
        out
    }

    /// Constant-time check of a MAC made by [`KeyRing::mac`] under any
    /// version held; a bare 32-byte MAC (made before versions existed) is
    /// version 1's.
    pub fn verify(&self, parts: &[&[u8]], stored: &[u8]) -> bool {
        let Some((key, mac)) = self.split(stored) else {
            return false;
        };
        key.verify(parts, mac)
    }

    /// The key a versioned value names, and the value after its prefix.
    /// A bare 32-byte value (before versions existed) is version 1's.
    pub fn split<'a>(&self, stored: &'a [u8]) -> Option<(&SecretKey, &'a [u8])> {
        if stored.len() == 32 {
            return Some((self.get(1)?, stored));
        }
        let (v, rest) = split_version(stored)?;
        Some((self.get(v)?, rest))
    }
}

/// The version in front of a sealed value, and the rest.
pub fn split_version(stored: &[u8]) -> Option<(KeyVersion, &[u8])> {
    if stored.len() < VERSION_LEN {
        return None;
    }
    let (v, rest) = stored.split_at(VERSION_LEN);
    let v = KeyVersion::from_be_bytes([v[0], v[1], v[2], v[3]]);
    Some((v, rest))
}

/// The server's keys, one per job, each from its own file.
#[derive(Clone, Debug)]
pub struct Keys {
    /// Pseudonyms of citizens (must never change once data exists).
    pub pepper: SecretKey,
    /// MACs of challenge codes and the sealed subject.
    pub challenge: KeyRing,
    /// The citizen portal's cookies.
    pub cookie: KeyRing,
    /// Officers' TOTP secrets at rest.
    pub totp: KeyRing,
    /// Rows of the notice outbox, sealed until sent.
    pub notice_outbox: KeyRing,
}

impl Keys {
    /// The keys a server of the first stage derived from its one master
    /// secret; `keys init --from-master` writes these as version 1 (and
    /// the pepper) so activations, pseudonyms and open challenges stay
    /// valid. The TOTP and outbox keys had no master-derived predecessor.
    pub fn legacy_material(master: &SecretKey) -> LegacyMaterial {
        let challenge = Zeroizing::new(master.mac(&[b"okaz/challenge"]));
        LegacyMaterial {
            pepper: Zeroizing::new(master.mac(&[b"okaz/pepper"])),
            // The portal's key was derived from the challenge key.
            cookie: SecretKey::new(challenge.to_vec())
                .map(|k| Zeroizing::new(k.mac(&[b"okaz/portal"])))
                .unwrap_or_else(|_| Zeroizing::new([0; 32])),
            challenge,
        }
    }
}

/// The raw key material the master secret used to derive.
pub struct LegacyMaterial {
    /// The pepper.
    pub pepper: Zeroizing<[u8; 32]>,
    /// The challenge key.
    pub challenge: Zeroizing<[u8; 32]>,
    /// The portal (cookie) key.
    pub cookie: Zeroizing<[u8; 32]>,
}

const TOTP_NONCE_LEN: usize = 12;

fn totp_aead(key: &SecretKey) -> Result<LessSafeKey, KeyError> {
    // The AEAD key is derived from the file's material for this one use,
    // so the same file could never serve as a MAC key and a cipher key.
    let raw = Zeroizing::new(key.mac(&[b"okaz/totp-aes-256-gcm"]));
    let unbound = UnboundKey::new(&aead::AES_256_GCM, raw.as_ref())
        .map_err(|_| KeyError::Unsealed("TOTP"))?;
    Ok(LessSafeKey::new(unbound))
}

fn totp_aad(officer_id: &str) -> Vec<u8> {
    let mut aad = b"okaz/totp/".to_vec();
    aad.extend_from_slice(officer_id.as_bytes());
    aad
}

/// Encrypts an officer's TOTP secret (AES-256-GCM under the TOTP key's
/// current version, a random nonce, the officer id as associated data):
/// `version (4) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
pub fn seal_totp(
    ring: &KeyRing,
    random: &dyn RandomSource,
    officer_id: &str,
    secret: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let (version, key) = ring.current();
    let aead = totp_aead(key)?;
    let mut nonce = [0u8; TOTP_NONCE_LEN];
    random.fill(&mut nonce);
    let mut body = secret.to_vec();
    aead.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(totp_aad(officer_id)),
        &mut body,
    )
    .map_err(|_| KeyError::Unsealed("TOTP"))?;
    let mut out = Vec::with_capacity(VERSION_LEN + TOTP_NONCE_LEN + body.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypts an officer's TOTP secret sealed by [`seal_totp`]; refuses one
/// changed, sealed for another officer, or under a version not held.
pub fn open_totp(
    ring: &KeyRing,
    officer_id: &str,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let (version, rest) = split_version(sealed).ok_or(KeyError::Unsealed("TOTP"))?;
    let key = ring.get(version).ok_or(KeyError::UnknownVersion {
        job: "totp",
        version,
    })?;
    if rest.len() < TOTP_NONCE_LEN + aead::AES_256_GCM.tag_len() {
        return Err(KeyError::Unsealed("TOTP"));
    }
    let (nonce, body) = rest.split_at(TOTP_NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| KeyError::Unsealed("TOTP"))?;
    let mut body = Zeroizing::new(body.to_vec());
    let plain = totp_aead(key)?
        .open_in_place(nonce, Aad::from(totp_aad(officer_id)), body.as_mut_slice())
        .map_err(|_| KeyError::Unsealed("TOTP"))?;
    Ok(Zeroizing::new(plain.to_vec()))
}

/// The version a sealed TOTP secret names (to tell which need re-sealing).
pub fn totp_version(sealed: &[u8]) -> Option<KeyVersion> {
    split_version(sealed).map(|(v, _)| v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    fn ring(versions: &[(u32, u8)]) -> KeyRing {
        KeyRing::new(
            "test",
            versions
                .iter()
                .map(|(v, b)| (*v, SecretKey::new(vec![*b; 32]).unwrap())),
        )
        .unwrap()
    }

    #[test]
    fn the_highest_version_seals_and_every_version_opens() {
        let old = ring(&[(1, 1)]);
        let mac = old.mac(&[b"x"]);
        assert_eq!(&mac[..4], &1u32.to_be_bytes());
        let rotated = ring(&[(1, 1), (2, 2)]);
        assert_eq!(rotated.current().0, 2);
        assert!(rotated.verify(&[b"x"], &mac));
        assert!(!rotated.verify(&[b"y"], &mac));
        let new = rotated.mac(&[b"x"]);
        assert_eq!(&new[..4], &2u32.to_be_bytes());
        // A replica without version 2 refuses, it does not guess.
        assert!(!old.verify(&[b"x"], &new));
        // Version 1 removed: its MACs no longer verify.
        assert!(!ring(&[(2, 2)]).verify(&[b"x"], &mac));
    }

    #[test]
    fn a_bare_mac_from_before_versions_is_version_one() {
        let k = SecretKey::new(vec![1; 32]).unwrap();
        let bare = k.mac(&[b"x"]);
        assert!(ring(&[(1, 1), (2, 2)]).verify(&[b"x"], &bare));
        assert!(!ring(&[(2, 1)]).verify(&[b"x"], &bare));
    }

    #[test]
    fn an_empty_ring_is_refused() {
        assert!(KeyRing::new("test", Vec::new()).is_err());
    }

    #[test]
    fn totp_secrets_open_only_for_their_officer_and_under_a_held_version() {
        let r1 = ring(&[(1, 1)]);
        let secret = b"12345678901234567890";
        let sealed = seal_totp(&r1, &OsRandom, "officer-a", secret).unwrap();
        assert!(!sealed.windows(secret.len()).any(|w| w == secret));
        assert_eq!(totp_version(&sealed), Some(1));
        assert_eq!(
            open_totp(&r1, "officer-a", &sealed).unwrap().as_slice(),
            secret
        );
        assert!(open_totp(&r1, "officer-b", &sealed).is_err());
        let mut changed = sealed.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert!(open_totp(&r1, "officer-a", &changed).is_err());
        let r2 = ring(&[(1, 1), (2, 2)]);
        assert!(open_totp(&r2, "officer-a", &sealed).is_ok());
        let resealed = seal_totp(&r2, &OsRandom, "officer-a", secret).unwrap();
        assert_eq!(totp_version(&resealed), Some(2));
        assert!(matches!(
            open_totp(&r1, "officer-a", &resealed),
            Err(KeyError::UnknownVersion { version: 2, .. })
        ));
    }

    #[test]
    fn legacy_material_is_what_the_master_secret_derived() {
        let master = SecretKey::new(vec![9; 32]).unwrap();
        let m = Keys::legacy_material(&master);
        let pepper = SecretKey::new(m.pepper.to_vec()).unwrap();
        let derived = master.derive("okaz/pepper").unwrap();
        assert_eq!(pepper.mac(&[b"p"]), derived.mac(&[b"p"]));
        let challenge = master.derive("okaz/challenge").unwrap();
        let cookie = SecretKey::new(m.cookie.to_vec()).unwrap();
        assert_eq!(
            cookie.mac(&[b"c"]),
            challenge.derive("okaz/portal").unwrap().mac(&[b"c"])
        );
    }
}
