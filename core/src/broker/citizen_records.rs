//! What a signed-in citizen may read of the trail: their own records,
//! each release's place in the transparency log, their notice choices,
//! and the inclusion proof that makes a receipt checkable offline. The
//! portal asks here rather than reading the store, so the rule "a citizen
//! sees only their own pseudonym's records" is written once.

use okaz_tlog::merkle::Hash;

use super::Broker;
use crate::audit::StoredRecord;
use crate::notice::NoticePrefs;
use crate::ports::{AuditFilter, StoreError};
use crate::pseudonym::Pseudonym;
use crate::tlog::TrailError;

/// Records read at most for one citizen's history (as many as a dispute looks at).
pub const MAX_CITIZEN_RECORDS: u32 = super::MAX_DISPUTE_RECORDS;

/// Checkpoints looked through for one that holds a leaf and is witnessed.
const CHECKPOINTS_SEARCHED: u32 = 1000;

/// A leaf's inclusion in a signed checkpoint of the log.
#[derive(Debug, Clone)]
pub struct Inclusion {
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// Whether witnesses cosigned the checkpoint.
    pub witnessed: bool,
    /// The checkpoint as a signed note, with its cosignatures.
    pub checkpoint: String,
    /// The audit path from the leaf to the checkpoint's root.
    pub proof: Vec<Hash>,
}

/// Why an inclusion proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum InclusionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log's tree or a stored checkpoint is not what it should be.
    #[error(transparent)]
    Trail(#[from] TrailError),
    /// A stored checkpoint is not a valid signed note.
    #[error(transparent)]
    Note(#[from] okaz_tlog::note::NoteError),
}

impl Broker {
    /// The citizen's own records, newest first, at most [`MAX_CITIZEN_RECORDS`].
    pub async fn citizen_records(
        &self,
        citizen: &Pseudonym,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let filter = AuditFilter {
            citizen: Some(citizen.clone()),
            limit: MAX_CITIZEN_RECORDS,
            ..AuditFilter::default()
        };
        self.store.audit_search(&filter).await
    }

    /// The log leaf a record became, once the integrator has taken it in.
    pub async fn leaf_of(&self, record_id: i64) -> Result<Option<u64>, StoreError> {
        self.store.leaf_of(record_id).await
    }

    /// The citizen's choice of channels for notices.
    pub async fn notice_prefs(&self, citizen: &Pseudonym) -> Result<NoticePrefs, StoreError> {
        self.store.notice_prefs(citizen).await
    }

    /// The proof that `leaf` is in the log: against the latest witnessed
    /// checkpoint that holds it, else the latest that does; none while no
    /// checkpoint holds it yet.
    pub async fn inclusion(&self, leaf: u64) -> Result<Option<Inclusion>, InclusionError> {
        let checkpoints = self.store.checkpoints(CHECKPOINTS_SEARCHED).await?;
        let holding = checkpoints.iter().filter(|c| c.size > leaf);
        let chosen = holding
            .clone()
            .find(|c| !c.cosignatures.is_empty())
            .or_else(|| holding.clone().next());
        let Some(cp) = chosen else {
            return Ok(None);
        };
        let proof = crate::tlog::inclusion(self.store.as_ref(), leaf, cp.size).await?;
        Ok(Some(Inclusion {
            tree_size: cp.size,
            witnessed: !cp.cosignatures.is_empty(),
            checkpoint: cp.with_cosignatures()?.render(),
            proof,
        }))
    }
}
