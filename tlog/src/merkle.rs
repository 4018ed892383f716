//! The Merkle tree of the audit log: RFC 6962 / RFC 9162 §2.1 hashing,
//! inclusion and consistency proofs, and their verification.
//!
//! The tree is stored as the hashes of its *complete* subtrees, addressed
//! by `(level, index)`: level 0 holds the leaf hashes, level `l` index `i`
//! covers leaves `[i·2^l, (i+1)·2^l)`. Such a hash never changes once the
//! subtree is full, so the integrator only ever inserts. Any other subtree
//! hash a proof needs (the ragged right edge) is folded from at most
//! `log2(n)` stored ones: proofs are computed in two steps, first naming the
//! stored hashes they need ([`inclusion_needs`], [`consistency_needs`]),
//! then folding what the store returned ([`inclusion_proof`],
//! [`consistency_proof`]), so one store round trip serves a proof.
//!
//! Written here rather than taken from a crate: `tlog_tiles` and
//! `signed_note` are not available from this build's registry mirror, and
//! the algorithms are short; they are tested on the RFC 6962 reference
//! vectors and against a naive recursive implementation.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// Address of a complete subtree: `(level, index)`.
pub type NodeId = (u8, u64);

/// A proof or tree request that cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Sizes or indexes out of range (e.g. a leaf at or past the size).
    #[error("out of range: {0}")]
    OutOfRange(&'static str),
    /// The proof does not lead to the expected root.
    #[error("proof does not verify: {0}")]
    Mismatch(&'static str),
    /// A stored hash the computation needs is missing.
    #[error("tree hash ({0}, {1}) is missing")]
    Missing(u8, u64),
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The hash of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The complete subtrees covering `[lo, hi)`, left to right, largest first.
/// In every range the RFC recursion produces, `lo` is a multiple of a power
/// of two at least `hi - lo`, so the pieces shrink left to right.
fn pieces(lo: u64, hi: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = lo;
    while at < hi {
        // The largest aligned block starting at `at` that fits before `hi`.
        let mut level = if at == 0 {
            63
        } else {
            at.trailing_zeros() as u8
        };
        while level > 0 && (1u64.checked_shl(u32::from(level)).unwrap_or(u64::MAX) > hi - at) {
            level -= 1;
        }
        out.push((level, at >> level));
        at += 1u64 << level;
    }
    out
}

/// Folds the pieces of a range into the RFC 9162 subtree hash.
fn fold(pieces: &[NodeId], hashes: &HashMap<NodeId, Hash>) -> Result<Hash, ProofError> {
    let get = |id: &NodeId| {
        hashes
            .get(id)
            .copied()
            .ok_or(ProofError::Missing(id.0, id.1))
    };
    let mut iter = pieces.iter().rev();
    let mut acc = match iter.next() {
        Some(id) => get(id)?,
        None => return Ok(empty_root()),
    };
    for id in iter {
        acc = node_hash(&get(id)?, &acc);
    }
    Ok(acc)
}

/// Largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    let mut k = 1u64;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// The ranges whose hashes form the inclusion path of leaf `m` in `[lo,hi)`,
/// bottom up (RFC 9162 §2.1.3.1).
fn path(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m - lo < k {
        path(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        path(m, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// The ranges of the consistency proof from `m` to the tree `[lo,hi)`
/// (RFC 9162 §2.1.4.1 SUBPROOF).
fn subproof(m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push((lo, hi));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, lo, lo + k, whole, out);
        out.push((lo + k, hi));
    } else {
        subproof(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

fn needs(ranges: &[(u64, u64)]) -> Vec<NodeId> {
    let mut ids: Vec<NodeId> = ranges.iter().flat_map(|&(l, h)| pieces(l, h)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn hashes_of(
    ranges: &[(u64, u64)],
    hashes: &HashMap<NodeId, Hash>,
) -> Result<Vec<Hash>, ProofError> {
    ranges
        .iter()
        .map(|&(l, h)| fold(&pieces(l, h), hashes))
        .collect()
}

/// The stored hashes the root of a tree of `size` leaves needs.
pub fn root_needs(size: u64) -> Vec<NodeId> {
    pieces(0, size)
}

/// The root of a tree of `size` leaves from its stored hashes.
pub fn root(size: u64, hashes: &HashMap<NodeId, Hash>) -> Result<Hash, ProofError> {
    fold(&pieces(0, size), hashes)
}

/// The stored hashes the inclusion proof of `leaf` in `size` needs.
pub fn inclusion_needs(leaf: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    if leaf >= size {
        return Err(ProofError::OutOfRange(
            "the leaf index must be below the tree size",
        ));
    }
    let mut ranges = Vec::new();
    path(leaf, 0, size, &mut ranges);
    Ok(needs(&ranges))
}

/// The inclusion proof of `leaf` in a tree of `size` leaves.
pub fn inclusion_proof(
    leaf: u64,
    size: u64,
    hashes: &HashMap<NodeId, Hash>,
) -> Result<Vec<Hash>, ProofError> {
    if leaf >= size {
        return Err(ProofError::OutOfRange(
            "the leaf index must be below the tree size",
        ));
    }
    let mut ranges = Vec::new();
    path(leaf, 0, size, &mut ranges);
    hashes_of(&ranges, hashes)
}

/// The stored hashes the consistency proof from `from` to `to` needs.
pub fn consistency_needs(from: u64, to: u64) -> Result<Vec<NodeId>, ProofError> {
    let ranges = consistency_ranges(from, to)?;
    Ok(needs(&ranges))
}

fn consistency_ranges(from: u64, to: u64) -> Result<Vec<(u64, u64)>, ProofError> {
    if from > to {
        return Err(ProofError::OutOfRange(
            "the older size must not exceed the newer",
        ));
    }
    let mut ranges = Vec::new();
    if from > 0 && from < to {
        subproof(from, 0, to, true, &mut ranges);
    }
    Ok(ranges)
}

/// The consistency proof from a tree of `from` leaves to one of `to`.
/// Empty when `from` is 0 or equals `to` (nothing to prove).
pub fn consistency_proof(
    from: u64,
    to: u64,
    hashes: &HashMap<NodeId, Hash>,
) -> Result<Vec<Hash>, ProofError> {
    hashes_of(&consistency_ranges(from, to)?, hashes)
}

/// Checks an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if leaf >= size {
        return Err(ProofError::OutOfRange(
            "the leaf index must be below the tree size",
        ));
    }
    let (mut fnode, mut snode) = (leaf, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::Mismatch("proof too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::Mismatch("proof too short"));
    }
    if &r != root {
        return Err(ProofError::Mismatch(
            "inclusion proof leads to another root",
        ));
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::OutOfRange(
            "the older size must not exceed the newer",
        ));
    }
    if from == to {
        return if proof.is_empty() && from_root == to_root {
            Ok(())
        } else {
            Err(ProofError::Mismatch("equal sizes with different roots"))
        };
    }
    if from == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::Mismatch(
                "a proof from the empty tree must be empty",
            ))
        };
    }
    let mut proof = proof.to_vec();
    if from.is_power_of_two() {
        proof.insert(0, *from_root);
    }
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::Mismatch("empty consistency proof"));
    };
    let (mut fnode, mut snode) = (from - 1, to - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(ProofError::Mismatch("proof too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::Mismatch("proof too short"));
    }
    if &fr != from_root {
        return Err(ProofError::Mismatch(
            "the proof does not lead to the older root",
        ));
    }
    if &sr != to_root {
        return Err(ProofError::Mismatch(
            "the proof does not lead to the newer root",
        ));
    }
    Ok(())
}

/// The stored hashes appending leaves `size..size+new.len()` creates: each
/// leaf hash, and every subtree it completes. `right_edge` must hold the
/// complete subtrees of the current tree that the new ones build on (those
/// of [`root_needs`]`(size)`).
pub fn append(
    size: u64,
    new: &[Hash],
    right_edge: &HashMap<NodeId, Hash>,
) -> Result<Vec<(NodeId, Hash)>, ProofError> {
    let mut known = right_edge.clone();
    let mut out = Vec::new();
    for (i, leaf) in new.iter().enumerate() {
        let index = size + i as u64;
        known.insert((0, index), *leaf);
        out.push(((0, index), *leaf));
        // Leaf `index` completes one subtree per trailing one bit of index.
        let (mut level, mut idx, mut h) = (0u8, index, *leaf);
        while idx & 1 == 1 {
            let left = known
                .get(&(level, idx - 1))
                .copied()
                .ok_or(ProofError::Missing(level, idx - 1))?;
            h = node_hash(&left, &h);
            level += 1;
            idx >>= 1;
            known.insert((level, idx), h);
            out.push(((level, idx), h));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive RFC 6962 MTH, for comparison.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn stored(leaves: &[Hash]) -> HashMap<NodeId, Hash> {
        append(0, leaves, &HashMap::new())
            .unwrap()
            .into_iter()
            .collect()
    }

    /// The leaves of the RFC 6962 reference tests (certificate-transparency).
    fn vectors() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    #[test]
    fn roots_match_the_rfc6962_reference_vectors() {
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = vectors();
        let s = stored(&leaves);
        for (i, want) in roots.iter().enumerate() {
            let n = i as u64 + 1;
            assert_eq!(hex::encode(root(n, &s).unwrap()), *want, "size {n}");
            assert_eq!(hex::encode(mth(&leaves[..=i])), *want, "naive size {n}");
        }
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_rfc6962_reference_inclusion_and_consistency_proofs() {
        let s = stored(&vectors());
        // Leaf 0 in a tree of 8 (certificate-transparency merkle_tree_test).
        let p = inclusion_proof(0, 8, &s).unwrap();
        let want = [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ];
        assert_eq!(p.iter().map(hex::encode).collect::<Vec<_>>(), want);
        // Consistency from 1 to 8, from 6 to 8, from 2 to 5.
        let c = consistency_proof(6, 8, &s).unwrap();
        let want = [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ];
        assert_eq!(c.iter().map(hex::encode).collect::<Vec<_>>(), want);
        let c = consistency_proof(2, 5, &s).unwrap();
        let want = [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ];
        assert_eq!(c.iter().map(hex::encode).collect::<Vec<_>>(), want);
    }

    #[test]
    fn every_proof_in_trees_up_to_40_verifies_and_tampering_fails() {
        let leaves: Vec<Hash> = (0..40u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let s = stored(&leaves);
        for n in 1..=40u64 {
            let r = root(n, &s).unwrap();
            assert_eq!(r, mth(&leaves[..n as usize]));
            for m in 0..n {
                let needs: std::collections::HashSet<_> =
                    inclusion_needs(m, n).unwrap().into_iter().collect();
                let only: HashMap<_, _> = s
                    .iter()
                    .filter(|(k, _)| needs.contains(k))
                    .map(|(k, v)| (*k, *v))
                    .collect();
                let p = inclusion_proof(m, n, &only).unwrap();
                verify_inclusion(m, n, &leaves[m as usize], &p, &r).unwrap();
                assert!(verify_inclusion(m, n, &leaves[(m as usize + 1) % 40], &p, &r).is_err());
            }
            for m in 0..=n {
                let needs: std::collections::HashSet<_> =
                    consistency_needs(m, n).unwrap().into_iter().collect();
                let only: HashMap<_, _> = s
                    .iter()
                    .filter(|(k, _)| needs.contains(k))
                    .map(|(k, v)| (*k, *v))
                    .collect();
                let p = consistency_proof(m, n, &only).unwrap();
                let old = root(m, &s).unwrap();
                verify_consistency(m, n, &p, &old, &r).unwrap();
                if m > 0 && m < n {
                    let forged = leaf_hash(b"forged");
                    assert!(verify_consistency(m, n, &p, &forged, &r).is_err());
                    assert!(verify_consistency(m, n, &p, &old, &forged).is_err());
                }
            }
        }
    }

    #[test]
    fn appending_in_batches_stores_the_same_hashes_as_at_once() {
        let leaves: Vec<Hash> = (0..37u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let all = stored(&leaves);
        let mut s: HashMap<NodeId, Hash> = HashMap::new();
        let mut size = 0u64;
        for batch in leaves.chunks(5) {
            let edge: HashMap<_, _> = root_needs(size)
                .into_iter()
                .map(|id| (id, s[&id]))
                .collect();
            s.extend(append(size, batch, &edge).unwrap());
            size += batch.len() as u64;
        }
        assert_eq!(s, all);
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        assert!(inclusion_needs(5, 5).is_err());
        assert!(consistency_needs(6, 5).is_err());
        assert!(verify_inclusion(3, 2, &[0; 32], &[], &[0; 32]).is_err());
    }
}
