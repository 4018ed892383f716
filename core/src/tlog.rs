//! The audit trail as a transparency log: what the store keeps, how the
//! integrator folds new records into the tree, and how the whole trail is
//! verified.
//!
//! ```text
//!  request ──(its own transaction)──▶ audit_log row (global id, no leaf yet)
//!  integrator (one at a time) ──▶ leaf index + tree hashes ──▶ signed checkpoint
//!  checkpoint ──▶ witnesses ──▶ cosignatures (stored beside it)
//! ```
//!
//! A request never waits for the tree: it only inserts its record. The
//! integrator takes pending records in id order, so the leaf order is the
//! order in which the integrator saw them committed.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::audit::{leaf_hash, verify_chain, StoredRecord};
use crate::ports::StoreError;
use okaz_tlog::merkle::{self, Hash, NodeId};
use okaz_tlog::note::{Checkpoint, Note, Signer, Verifier};

/// A chain's head as stored: how many records it has and the last hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The chain (officer id or `citizen`/`system`).
    pub chain: String,
    /// Records in it.
    pub seq: i64,
    /// Its last record's hash.
    pub hash: String,
}

/// The tree after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    /// Leaves.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
}

/// A stored signed checkpoint with the cosignature lines witnesses gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Tree size it commits to.
    pub size: u64,
    /// The note, as signed by the log (no cosignatures).
    pub note: String,
    /// `(witness name, cosignature line value)`.
    pub cosignatures: Vec<(String, String)>,
}

impl StoredCheckpoint {
    /// The note with the log's signature and every cosignature.
    pub fn with_cosignatures(&self) -> Result<Note, okaz_tlog::note::NoteError> {
        let mut note = Note::parse(&self.note)?;
        note.signatures.extend(self.cosignatures.iter().cloned());
        Ok(note)
    }
}

/// The transparency log's storage.
#[async_trait]
pub trait TlogStore: Send + Sync {
    /// One batch of integration, under the integrator lock (an advisory
    /// lock on PostgreSQL, the write lock on SQLite): takes up to `max`
    /// records not yet in the tree in id order, gives them the next leaf
    /// indexes, stores their leaf hashes and the subtrees they complete
    /// (computed by [`fold_batch`]). `None` when another integrator holds
    /// the lock; otherwise the tree after the batch and how many were added.
    async fn integrate(&self, max: usize) -> Result<Option<(TreeHead, usize)>, StoreError>;
    /// Leaves in the tree.
    async fn tree_size(&self) -> Result<u64, StoreError>;
    /// Stored complete-subtree hashes; missing ones are left out.
    async fn tree_hashes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError>;
    /// Records with a leaf index, in leaf order (for verification).
    async fn leaves(&self) -> Result<Vec<(u64, StoredRecord)>, StoreError>;
    /// The leaf index of the record with this id, once integrated.
    async fn leaf_of(&self, record_id: i64) -> Result<Option<u64>, StoreError>;
    /// Every chain head.
    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError>;
    /// Stores a signed checkpoint (a second one of the same size is ignored).
    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<(), StoreError>;
    /// Stores a witness's cosignature of the checkpoint of `size`.
    async fn save_cosignature(
        &self,
        size: u64,
        witness: &str,
        signature: &str,
    ) -> Result<(), StoreError>;
    /// Stored checkpoints, newest first, with their cosignatures.
    async fn checkpoints(&self, limit: u32) -> Result<Vec<StoredCheckpoint>, StoreError>;
}

/// What one batch writes: new hashes, and the tree after.
pub struct Batch {
    /// Complete-subtree hashes to insert.
    pub hashes: Vec<(NodeId, Hash)>,
    /// `(record id, leaf index)` per record.
    pub leaves: Vec<(i64, u64)>,
    /// The tree after the batch.
    pub head: TreeHead,
}

/// Folds `records` (in id order) into a tree of `size` whose right edge
/// (the hashes of [`merkle::root_needs`]`(size)`) is `edge`.
pub fn fold_batch(
    size: u64,
    records: &[StoredRecord],
    edge: &HashMap<NodeId, Hash>,
) -> Result<Batch, merkle::ProofError> {
    let leaves: Vec<Hash> = records.iter().map(|r| leaf_hash(&r.entry)).collect();
    let hashes = merkle::append(size, &leaves, edge)?;
    let new_size = size + records.len() as u64;
    let mut known = edge.clone();
    known.extend(hashes.iter().copied());
    let root = merkle::root(new_size, &known)?;
    Ok(Batch {
        hashes,
        leaves: records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, size + i as u64))
            .collect(),
        head: TreeHead {
            size: new_size,
            root,
        },
    })
}

/// The root of the stored tree of `size`.
pub async fn stored_root(store: &dyn TlogStore, size: u64) -> Result<Hash, TrailError> {
    let hashes = store.tree_hashes(&merkle::root_needs(size)).await?;
    Ok(merkle::root(size, &hashes)?)
}

/// An inclusion proof from the stored tree.
pub async fn inclusion(
    store: &dyn TlogStore,
    leaf: u64,
    size: u64,
) -> Result<Vec<Hash>, TrailError> {
    if size > store.tree_size().await? {
        return Err(merkle::ProofError::OutOfRange("the size is past the tree").into());
    }
    let hashes = store
        .tree_hashes(&merkle::inclusion_needs(leaf, size)?)
        .await?;
    Ok(merkle::inclusion_proof(leaf, size, &hashes)?)
}

/// A consistency proof from the stored tree.
pub async fn consistency(
    store: &dyn TlogStore,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, TrailError> {
    if to > store.tree_size().await? {
        return Err(merkle::ProofError::OutOfRange("the size is past the tree").into());
    }
    let hashes = store
        .tree_hashes(&merkle::consistency_needs(from, to)?)
        .await?;
    Ok(merkle::consistency_proof(from, to, &hashes)?)
}

/// Signs a checkpoint of `head` with the log key.
pub fn sign_checkpoint(signer: &Signer, origin: &str, head: TreeHead) -> Note {
    signer.sign_note(
        &Checkpoint {
            origin: origin.to_string(),
            size: head.size,
            root: head.root,
        }
        .body(),
    )
}

/// Something in the trail that does not hold: the first failure found.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A chain link does not verify.
    #[error(transparent)]
    Chain(#[from] crate::audit::BrokenLink),
    /// A chain's records do not reach its head (tail deleted), or a head
    /// has no records (whole chain deleted), or records have no head.
    #[error("audit chain {chain}: {why}")]
    Head {
        /// The chain.
        chain: String,
        /// What is missing.
        why: String,
    },
    /// A leaf of the tree has no record, or its record does not hash to it.
    #[error("leaf {leaf}: {why}")]
    Leaf {
        /// Leaf index.
        leaf: u64,
        /// What does not match.
        why: String,
    },
    /// The stored tree does not match what its leaves recompute to.
    #[error("the stored tree of size {size} does not match its leaves")]
    Tree {
        /// Tree size.
        size: u64,
    },
    /// A checkpoint does not match the log.
    #[error("checkpoint of size {size}: {why}")]
    Checkpoint {
        /// Its tree size.
        size: u64,
        /// Why.
        why: String,
    },
    /// A proof could not be made or does not verify.
    #[error(transparent)]
    Proof(#[from] merkle::ProofError),
}

/// What verification found, when everything holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked in their chains.
    pub records: u64,
    /// Chains checked against their heads.
    pub chains: u64,
    /// Leaves checked against their records.
    pub leaves: u64,
    /// The checkpoint the log was checked against (size), if one was cosigned.
    pub cosigned: Option<u64>,
    /// The outside checkpoint the log was checked against, if given.
    pub outside: Option<u64>,
}

/// What the verification trusts: the log key, the origin, the witnesses'
/// cosigner keys and how many of them a checkpoint needs.
pub struct Trust<'a> {
    /// The log's key.
    pub log: &'a Verifier,
    /// The log's origin line.
    pub origin: &'a str,
    /// Witness cosigner keys.
    pub witnesses: &'a [Verifier],
    /// An outside checkpoint note to check the log extends.
    pub outside: Option<&'a str>,
}

/// Verifies the whole trail, in order: every chain against its head; every
/// leaf against its record and the stored tree against its leaves; the
/// latest witness-cosigned checkpoint; an outside checkpoint. Names the
/// first failure.
pub async fn verify(
    audit: &dyn crate::ports::AuditStore,
    tlog: &dyn TlogStore,
    trust: &Trust<'_>,
) -> Result<VerifyReport, TrailError> {
    // 1. Chains against heads.
    let heads = tlog.chain_heads().await?;
    let mut records = 0u64;
    let chains = audit.audit_chains().await?;
    for c in &chains {
        if !heads.iter().any(|h| &h.chain == c) {
            return Err(TrailError::Head {
                chain: c.clone(),
                why: "records without a chain head".into(),
            });
        }
    }
    for head in &heads {
        let recs = audit.audit_chain(&head.chain).await?;
        verify_chain(&head.chain, &recs)?;
        let (last_seq, last_hash) = recs
            .last()
            .map(|r| (r.seq, r.hash.as_str()))
            .unwrap_or((0, crate::audit::GENESIS));
        if last_seq != head.seq || last_hash != head.hash {
            return Err(TrailError::Head {
                chain: head.chain.clone(),
                why: format!(
                    "the head says {} records but the chain ends at record {} (records {}..={} are missing)",
                    head.seq,
                    last_seq,
                    last_seq + 1,
                    head.seq
                ),
            });
        }
        records += recs.len() as u64;
    }
    // 2. Leaves against records, and the stored tree against the leaves.
    let size = tlog.tree_size().await?;
    let leaves = tlog.leaves().await?;
    let stored_leaves = tlog
        .tree_hashes(&(0..size).map(|i| (0u8, i)).collect::<Vec<_>>())
        .await?;
    let mut by_index: HashMap<u64, &StoredRecord> = HashMap::new();
    for (i, r) in &leaves {
        by_index.insert(*i, r);
    }
    let mut recomputed = Vec::with_capacity(size as usize);
    for i in 0..size {
        let Some(r) = by_index.get(&i) else {
            return Err(TrailError::Leaf {
                leaf: i,
                why: "its record is missing from the audit log".into(),
            });
        };
        let h = leaf_hash(&r.entry);
        if stored_leaves.get(&(0, i)) != Some(&h) {
            return Err(TrailError::Leaf {
                leaf: i,
                why: format!("record id {} does not hash to the stored leaf", r.id),
            });
        }
        recomputed.push(h);
    }
    let full: HashMap<NodeId, Hash> = merkle::append(0, &recomputed, &HashMap::new())?
        .into_iter()
        .collect();
    if size > 0 && stored_root(tlog, size).await? != merkle::root(size, &full)? {
        return Err(TrailError::Tree { size });
    }
    // 3. The latest checkpoint that enough witnesses cosigned.
    let mut cosigned = None;
    for cp in tlog.checkpoints(1000).await? {
        let note = cp.with_cosignatures().map_err(|e| TrailError::Checkpoint {
            size: cp.size,
            why: e.to_string(),
        })?;
        let witnessed = trust.witnesses.iter().any(|w| w.verify(&note).is_ok());
        if !witnessed {
            continue;
        }
        check_checkpoint(trust, &note, size, &full)?;
        cosigned = Some(cp.size);
        break;
    }
    // 4. A checkpoint kept outside.
    let mut outside = None;
    if let Some(text) = trust.outside {
        let note = Note::parse(text).map_err(|e| TrailError::Checkpoint {
            size: 0,
            why: e.to_string(),
        })?;
        outside = Some(check_checkpoint(trust, &note, size, &full)?);
    }
    Ok(VerifyReport {
        records,
        chains: heads.len() as u64,
        leaves: size,
        cosigned,
        outside,
    })
}

/// Checks a checkpoint is signed by the log and that the tree recomputed
/// from the records extends it (a consistency proof from the recomputed
/// tree leads from its root to today's).
fn check_checkpoint(
    trust: &Trust<'_>,
    note: &Note,
    size: u64,
    full: &HashMap<NodeId, Hash>,
) -> Result<u64, TrailError> {
    let bad = |s: u64, why: String| TrailError::Checkpoint { size: s, why };
    let cp = Checkpoint::parse_body(&note.text).map_err(|e| bad(0, e.to_string()))?;
    trust
        .log
        .verify(note)
        .map_err(|e| bad(cp.size, e.to_string()))?;
    if cp.origin != trust.origin {
        return Err(bad(
            cp.size,
            format!("origin {} is not this log", cp.origin),
        ));
    }
    if cp.size > size {
        return Err(bad(
            cp.size,
            format!("the log has only {size} leaves: it was rolled back"),
        ));
    }
    let proof = merkle::consistency_proof(cp.size, size, full)?;
    let today = merkle::root(size, full)?;
    merkle::verify_consistency(cp.size, size, &proof, &cp.root, &today).map_err(|_| {
        bad(
            cp.size,
            "the records no longer hash to its root: the log was rewritten".into(),
        )
    })?;
    Ok(cp.size)
}
