//! okaz-witness: a C2SP tlog-witness. It keeps, per log it knows, the last
//! checkpoint it cosigned (in its own state directory) and cosigns a new
//! checkpoint only when it is signed by the log's key and a consistency
//! proof shows it extends that one. A rolled-back or forked log gets a
//! refusal, never a cosignature.
//!
//! `POST /add-checkpoint`, body: `old <size>\n`, the proof's hashes in
//! base64 one a line, a blank line, the signed checkpoint. Answers: 200 with
//! the cosignature line; 409 with the size it holds (`text/x.tlog.size`)
//! when `old` is not it; 422 when the proof does not verify; 403 when the
//! log's signature does not; 404 for an unknown origin; 400 when malformed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use okaz_tlog::merkle::{self, Hash};
use okaz_tlog::note::{Checkpoint, Note, Signer, Verifier};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// An answer: status, content type, body.
pub type Answer = (u16, &'static str, String);

/// The witness: its key, the logs it knows, and its state.
pub struct Witness {
    signer: Signer,
    logs: HashMap<String, Verifier>,
    state: PathBuf,
    // One checkpoint at a time: the state file is read, checked and
    // replaced as one step.
    lock: Mutex<()>,
}

/// A state directory problem.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// Reading or writing the state failed.
    #[error("state {0}: {1}")]
    State(PathBuf, std::io::Error),
    /// The state file is not what the witness writes.
    #[error("state {0} is corrupt")]
    Corrupt(PathBuf),
}

impl Witness {
    /// A witness signing with `signer`, knowing `logs` (origin → log key),
    /// keeping its state in `state`.
    pub fn new(signer: Signer, logs: Vec<Verifier>, state: &Path) -> Witness {
        Witness {
            signer,
            logs: logs.into_iter().map(|v| (v.name.clone(), v)).collect(),
            state: state.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    fn file(&self, origin: &str) -> PathBuf {
        self.state
            .join(hex::encode(Sha256::digest(origin.as_bytes())))
    }

    fn load(&self, origin: &str) -> Result<(u64, Hash), WitnessError> {
        let path = self.file(origin);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut lines = text.lines();
                let size = lines.next().and_then(|l| l.parse().ok());
                let root = lines
                    .next()
                    .and_then(|l| B64.decode(l).ok())
                    .and_then(|b| Hash::try_from(b.as_slice()).ok());
                match (size, root) {
                    (Some(s), Some(r)) => Ok((s, r)),
                    _ => Err(WitnessError::Corrupt(path)),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, merkle::empty_root())),
            Err(e) => Err(WitnessError::State(path, e)),
        }
    }

    fn store(&self, origin: &str, size: u64, root: &Hash) -> Result<(), WitnessError> {
        let path = self.file(origin);
        let tmp = path.with_extension("tmp");
        let io = |e| WitnessError::State(path.clone(), e);
        std::fs::write(&tmp, format!("{size}\n{}\n", B64.encode(root))).map_err(io)?;
        // Renamed into place so a crash leaves the old or the new state.
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Handles one `add-checkpoint` request body at `now` (Unix seconds).
    pub async fn add_checkpoint(&self, body: &str, now: u64) -> Answer {
        match self.add(body, now).await {
            Ok(a) | Err(a) => a,
        }
    }

    async fn add(&self, body: &str, now: u64) -> Result<Answer, Answer> {
        let bad = |why: &str| (400, "text/plain", format!("{why}\n"));
        let (head, note) = body
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad("the first line must be `old <size>`"))?;
        let proof = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                B64.decode(l)
                    .ok()
                    .and_then(|b| Hash::try_from(b.as_slice()).ok())
                    .ok_or_else(|| bad("a proof line is not a base64 hash"))
            })
            .collect::<Result<Vec<Hash>, _>>()?;
        if proof.len() > 63 {
            return Err(bad("proof too long"));
        }
        let note = Note::parse(note).map_err(|e| bad(&e.to_string()))?;
        let cp = Checkpoint::parse_body(&note.text).map_err(|e| bad(&e.to_string()))?;
        let Some(log) = self.logs.get(&cp.origin) else {
            return Err((404, "text/plain", "unknown log origin\n".into()));
        };
        log.verify(&note).map_err(|_| {
            (
                403,
                "text/plain",
                "the log's signature does not verify\n".into(),
            )
        })?;
        let _one = self.lock.lock().await;
        let internal = |e: WitnessError| (500, "text/plain", format!("{e}\n"));
        let (size, root) = self.load(&cp.origin).map_err(internal)?;
        if old != size {
            return Err((409, "text/x.tlog.size", format!("{size}\n")));
        }
        if cp.size < old {
            return Err(bad("the checkpoint is older than the one named"));
        }
        if merkle::verify_consistency(old, cp.size, &proof, &root, &cp.root).is_err() {
            tracing::error!(
                origin = %cp.origin,
                old,
                new = cp.size,
                "refused: the checkpoint does not extend the last one cosigned (rollback or fork)"
            );
            return Err((
                422,
                "text/plain",
                "the consistency proof does not verify: not an extension of the last checkpoint\n"
                    .into(),
            ));
        }
        self.store(&cp.origin, cp.size, &cp.root)
            .map_err(internal)?;
        let sig = self.signer.cosign(&note.text, now);
        tracing::info!(origin = %cp.origin, size = cp.size, "cosigned");
        Ok((
            200,
            "text/plain",
            format!("\u{2014} {} {sig}\n", self.signer.name()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap as Map;

    fn tree(n: u32) -> Map<okaz_tlog::merkle::NodeId, Hash> {
        let leaves: Vec<Hash> = (0..n)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        merkle::append(0, &leaves, &Map::new())
            .unwrap()
            .into_iter()
            .collect()
    }

    fn request(
        log: &Signer,
        old: u64,
        size: u64,
        t: &Map<okaz_tlog::merkle::NodeId, Hash>,
    ) -> String {
        let root = merkle::root(size, t).unwrap();
        let note = log.sign_note(
            &Checkpoint {
                origin: log.name().into(),
                size,
                root,
            }
            .body(),
        );
        let mut body = format!("old {old}\n");
        for p in merkle::consistency_proof(old, size, t).unwrap() {
            body.push_str(&format!("{}\n", B64.encode(p)));
        }
        body.push('\n');
        body.push_str(&note.render());
        body
    }

    #[tokio::test]
    async fn cosigns_extensions_and_refuses_rollbacks_and_forks() {
        let dir = std::env::temp_dir().join(format!("okaz-witness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = Signer::from_seed("log.test", &[1; 32]).unwrap();
        let w = Witness::new(
            Signer::from_seed("w.test", &[2; 32]).unwrap(),
            vec![Verifier::parse(&log.verifier()).unwrap()],
            &dir,
        );
        let t = tree(20);
        assert_eq!(w.add_checkpoint(&request(&log, 0, 5, &t), 1).await.0, 200);
        assert_eq!(w.add_checkpoint(&request(&log, 5, 12, &t), 2).await.0, 200);
        // Rolled back: names an old size the witness no longer holds.
        let (s, _, body) = w.add_checkpoint(&request(&log, 5, 8, &t), 3).await;
        assert_eq!((s, body.as_str()), (409, "12\n"));
        // Forked: a different tree of a larger size.
        let forked = tree(30);
        let mut other: Map<_, _> = forked;
        other.insert((0, 3), merkle::leaf_hash(b"rewritten"));
        let other: Map<_, _> = merkle::append(
            0,
            &(0..20).map(|i| other[&(0u8, i as u64)]).collect::<Vec<_>>(),
            &Map::new(),
        )
        .unwrap()
        .into_iter()
        .collect();
        assert_eq!(
            w.add_checkpoint(&request(&log, 12, 20, &other), 4).await.0,
            422
        );
        // Signed by another key.
        let stranger = Signer::from_seed("log.test", &[9; 32]).unwrap();
        assert_eq!(
            w.add_checkpoint(&request(&stranger, 12, 20, &t), 5).await.0,
            403
        );
        // The honest extension still works.
        assert_eq!(w.add_checkpoint(&request(&log, 12, 20, &t), 6).await.0, 200);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
