//! The transparency log's mathematics, apart from the broker: Merkle trees
//! with inclusion and consistency proofs ([`merkle`]) and signed notes,
//! checkpoints and cosignatures ([`note`]). Pure functions over bytes, so
//! the witness, the bench and an outside auditor verify a checkpoint
//! without linking the broker's core (argon2, TOTP, policies).

pub mod merkle;
pub mod note;
