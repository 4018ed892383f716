//! Signed checkpoints of the audit log, in the C2SP formats: tlog-checkpoint
//! (origin, size, root), signed-note (Ed25519 signature lines), and
//! tlog-cosignature (a witness's timestamped cosignature).
//!
//! Written here rather than taken from `signed_note`: that crate is not
//! available from this build's registry mirror; the formats are a page each.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::merkle::Hash;

/// Signature algorithm byte of Ed25519 in signed-note.
const ALG_ED25519: u8 = 0x01;
/// Signature algorithm byte of a timestamped Ed25519 cosignature.
const ALG_COSIGNATURE: u8 = 0x04;

/// A note or key that cannot be read or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Not in the expected format.
    #[error("malformed: {0}")]
    Malformed(&'static str),
    /// No signature by the expected key verifies.
    #[error("no valid signature by {0}")]
    Unsigned(String),
}

/// A checkpoint body: which log, how many leaves, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (names the deployment).
    pub origin: String,
    /// Leaves in the tree.
    pub size: u64,
    /// The tree's root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text (each line ends in a newline).
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Reads a checkpoint body (extension lines are refused: okaz writes none).
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let mut lines = text.split_terminator('\n');
        let origin = lines.next().filter(|l| !l.is_empty());
        let size = lines.next().and_then(|l| {
            // No leading zeros or signs, as tlog-checkpoint requires.
            (l == "0" || !l.starts_with('0')).then(|| l.parse::<u64>().ok())?
        });
        let root = lines
            .next()
            .and_then(|l| B64.decode(l).ok())
            .and_then(|b| <Hash>::try_from(b.as_slice()).ok());
        match (origin, size, root, lines.next()) {
            (Some(o), Some(size), Some(root), None) if text.ends_with('\n') => Ok(Checkpoint {
                origin: o.to_string(),
                size,
                root,
            }),
            _ => Err(NoteError::Malformed("checkpoint body")),
        }
    }
}

/// A signed note: text and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, ending in a newline.
    pub text: String,
    /// `(key name, base64 signature)` per signature line.
    pub signatures: Vec<(String, String)>,
}

impl Note {
    /// The note as sent: text, a blank line, one line per signature.
    pub fn render(&self) -> String {
        let mut s = self.text.clone();
        s.push('\n');
        for (name, sig) in &self.signatures {
            s.push_str(&format!("\u{2014} {name} {sig}\n"));
        }
        s
    }

    /// Splits a note into text and signature lines.
    pub fn parse(s: &str) -> Result<Note, NoteError> {
        let Some(split) = s.rfind("\n\n") else {
            return Err(NoteError::Malformed("no blank line before signatures"));
        };
        let text = &s[..=split];
        let mut signatures = Vec::new();
        for line in s[split + 2..].split_terminator('\n') {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or(NoteError::Malformed("signature line"))?;
            let (name, sig) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line"))?;
            signatures.push((name.to_string(), sig.to_string()));
        }
        if signatures.is_empty() || !s.ends_with('\n') {
            return Err(NoteError::Malformed("a note needs a signature"));
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }
}

fn key_id(name: &str, alg: u8, public: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// An Ed25519 signing key with its name (the log's or a witness's).
pub struct Signer {
    name: String,
    pair: Ed25519KeyPair,
    seed: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A key from its 32-byte seed.
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Signer, NoteError> {
        if name.is_empty() || name.contains(['+', ' ', '\n']) {
            return Err(NoteError::Malformed("key name"));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| NoteError::Malformed("Ed25519 seed"))?;
        Ok(Signer {
            name: name.to_string(),
            pair,
            seed: Zeroizing::new(seed.to_vec()),
        })
    }

    /// Reads a key in the signed-note private key format
    /// `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn parse(text: &str) -> Result<Signer, NoteError> {
        // base64 may hold '+': the key is whatever follows the fourth.
        let parts: Vec<&str> = text.trim().splitn(5, '+').collect();
        let [p, k, name, id, key] = parts.as_slice() else {
            return Err(NoteError::Malformed("private key"));
        };
        if *p != "PRIVATE" || *k != "KEY" {
            return Err(NoteError::Malformed("private key"));
        }
        let raw = Zeroizing::new(
            B64.decode(key)
                .map_err(|_| NoteError::Malformed("private key"))?,
        );
        let Some((&ALG_ED25519, seed)) = raw.split_first() else {
            return Err(NoteError::Malformed("private key algorithm"));
        };
        let signer = Signer::from_seed(name, seed)?;
        if hex::encode(signer.id()) != *id {
            return Err(NoteError::Malformed("private key id"));
        }
        Ok(signer)
    }

    /// The key in the signed-note private key format (for its file).
    pub fn encode(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(vec![ALG_ED25519]);
        raw.extend_from_slice(&self.seed);
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.id()),
            B64.encode(&*raw)
        ))
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key bytes.
    pub fn public(&self) -> [u8; 32] {
        let mut p = [0u8; 32];
        p.copy_from_slice(self.pair.public_key().as_ref());
        p
    }

    fn id(&self) -> [u8; 4] {
        key_id(&self.name, ALG_ED25519, &self.public())
    }

    /// The verifier key for others: `<name>+<hex id>+<base64(0x01||pub)>`.
    pub fn verifier(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.public());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(self.id()),
            B64.encode(raw)
        )
    }

    /// Signs a note's text (signed-note Ed25519).
    pub fn sign_note(&self, text: &str) -> Note {
        let sig = self.pair.sign(text.as_bytes());
        let mut raw = self.id().to_vec();
        raw.extend_from_slice(sig.as_ref());
        Note {
            text: text.to_string(),
            signatures: vec![(self.name.clone(), B64.encode(raw))],
        }
    }

    /// Signs arbitrary bytes (receipts), returning base64 of the signature.
    pub fn sign_bytes(&self, msg: &[u8]) -> String {
        B64.encode(self.pair.sign(msg).as_ref())
    }

    /// A witness's cosignature line value over a checkpoint body at `time`
    /// (tlog-cosignature v1).
    pub fn cosign(&self, body: &str, time: u64) -> String {
        let msg = cosigned_message(body, time);
        let sig = self.pair.sign(msg.as_bytes());
        let mut raw = key_id(&self.name, ALG_COSIGNATURE, &self.public()).to_vec();
        raw.extend_from_slice(&time.to_be_bytes());
        raw.extend_from_slice(sig.as_ref());
        B64.encode(raw)
    }

    /// The cosigner's verifier key (alg 0x04).
    pub fn cosigner_verifier(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE];
        raw.extend_from_slice(&self.public());
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, ALG_COSIGNATURE, &self.public())),
            B64.encode(raw)
        )
    }
}

fn cosigned_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// A public key to check notes or cosignatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    /// Key name.
    pub name: String,
    alg: u8,
    id: [u8; 4],
    public: [u8; 32],
}

impl Verifier {
    /// Reads `<name>+<hex id>+<base64(alg || public)>`.
    pub fn parse(text: &str) -> Result<Verifier, NoteError> {
        // base64 may hold '+': the key is whatever follows the second.
        let parts: Vec<&str> = text.trim().splitn(3, '+').collect();
        let [name, id, key] = parts.as_slice() else {
            return Err(NoteError::Malformed("verifier key"));
        };
        let raw = B64
            .decode(key)
            .map_err(|_| NoteError::Malformed("verifier key"))?;
        let Some((&alg, public)) = raw.split_first() else {
            return Err(NoteError::Malformed("verifier key"));
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| NoteError::Malformed("verifier key length"))?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE {
            return Err(NoteError::Malformed("verifier key algorithm"));
        }
        let want = key_id(name, alg, &public);
        if hex::encode(want) != *id {
            return Err(NoteError::Malformed("verifier key id"));
        }
        Ok(Verifier {
            name: name.to_string(),
            alg,
            id: want,
            public,
        })
    }

    /// The public key bytes.
    pub fn public(&self) -> [u8; 32] {
        self.public
    }

    /// Finds this key's signature on `note` and checks it. For a cosigner
    /// key, returns the cosignature's timestamp; for a note key, 0.
    pub fn verify(&self, note: &Note) -> Result<u64, NoteError> {
        let unsigned = || NoteError::Unsigned(self.name.clone());
        for (name, sig) in &note.signatures {
            if name != &self.name {
                continue;
            }
            let Ok(raw) = B64.decode(sig) else { continue };
            if raw.len() < 4 || raw[..4] != self.id {
                continue;
            }
            let key = UnparsedPublicKey::new(&ED25519, self.public);
            if self.alg == ALG_ED25519 {
                if key.verify(note.text.as_bytes(), &raw[4..]).is_ok() {
                    return Ok(0);
                }
            } else if raw.len() == 4 + 8 + 64 {
                let mut t = [0u8; 8];
                t.copy_from_slice(&raw[4..12]);
                let time = u64::from_be_bytes(t);
                let msg = cosigned_message(&note.text, time);
                if key.verify(msg.as_bytes(), &raw[12..]).is_ok() {
                    return Ok(time);
                }
            }
        }
        Err(unsigned())
    }

    /// Checks a base64 signature over bytes (receipts).
    pub fn verify_bytes(&self, msg: &[u8], sig_b64: &str) -> Result<(), NoteError> {
        let sig = B64
            .decode(sig_b64)
            .map_err(|_| NoteError::Malformed("signature"))?;
        UnparsedPublicKey::new(&ED25519, self.public)
            .verify(msg, &sig)
            .map_err(|_| NoteError::Unsigned(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, b: u8) -> Signer {
        Signer::from_seed(name, &[b; 32]).unwrap()
    }

    #[test]
    fn a_checkpoint_round_trips_and_verifies() {
        let log = signer("okaz.test/log", 7);
        let cp = Checkpoint {
            origin: "okaz.test/log".into(),
            size: 12,
            root: [9; 32],
        };
        let note = log.sign_note(&cp.body());
        let text = note.render();
        let back = Note::parse(&text).unwrap();
        assert_eq!(back, note);
        assert_eq!(Checkpoint::parse_body(&back.text).unwrap(), cp);
        let v = Verifier::parse(&log.verifier()).unwrap();
        assert_eq!(v.verify(&back), Ok(0));
        let mut forged = back.clone();
        forged.text = forged.text.replace("12", "13");
        assert!(v.verify(&forged).is_err());
    }

    #[test]
    fn a_private_key_round_trips_and_a_bad_one_is_refused() {
        let log = signer("okaz.test/log", 3);
        let again = Signer::parse(&log.encode()).unwrap();
        assert_eq!(again.verifier(), log.verifier());
        assert!(Signer::parse("PRIVATE+KEY+x+00000000+AQ==").is_err());
        assert!(Signer::parse(&log.encode().replace("okaz.test/log", "other")).is_err());
    }

    #[test]
    fn a_cosignature_verifies_with_its_time_and_not_under_another_key() {
        let w = signer("witness.test", 5);
        let body = "o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let note = Note {
            text: body.into(),
            signatures: vec![("witness.test".into(), w.cosign(body, 1_700_000_000))],
        };
        let v = Verifier::parse(&w.cosigner_verifier()).unwrap();
        assert_eq!(v.verify(&note), Ok(1_700_000_000));
        let other = Verifier::parse(&signer("witness.test", 6).cosigner_verifier()).unwrap();
        assert!(other.verify(&note).is_err());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for bad in ["", "o\n", "o\n01\nAA==\n", "o\n1\nAA==\n", "o\n1\n"] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
        assert!(Note::parse("text\n").is_err());
    }
}
