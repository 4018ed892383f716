//! Receipts of released documents, signed with the audit log's key, so a
//! citizen (or anyone they show it to) can later check the release is on
//! record: the receipt names its leaf hash, and an inclusion proof shows
//! that leaf in a witnessed checkpoint. A receipt holds no PESEL, name or
//! document content: only what was checked, by which unit, and when.

use okaz_protocol::Receipt;

use crate::audit::{leaf_hash, AuditEntry};
use okaz_tlog::note::{NoteError, Signer, Verifier};

/// Domain separation: a receipt signature can never pass for a note's.
const CONTEXT: &[u8] = b"okaz-receipt/v1\n";

/// The log key and origin that sign receipts.
pub struct ReceiptKey {
    /// The log's signing key.
    pub signer: Signer,
    /// The log's origin.
    pub origin: String,
}

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptKey")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// The bytes a receipt's signature covers.
pub fn signed_bytes(r: &Receipt) -> Vec<u8> {
    let mut unsigned = r.clone();
    unsigned.signature = String::new();
    let mut out = CONTEXT.to_vec();
    // Struct fields serialise in declaration order, so this is canonical.
    out.extend(serde_json::to_vec(&unsigned).unwrap_or_default());
    out
}

impl ReceiptKey {
    /// The signed receipt of a release record.
    pub fn receipt(&self, released: &AuditEntry) -> Receipt {
        let mut r = Receipt {
            verification: released.verification.clone().unwrap_or_default(),
            unit: released.unit.clone(),
            document: released.document.clone().unwrap_or_default(),
            purpose: released.purpose.clone().unwrap_or_default(),
            fields: released.fields.clone(),
            at: released.at,
            log: self.origin.clone(),
            leaf_hash: hex::encode(leaf_hash(released)),
            signature: String::new(),
        };
        r.signature = self.signer.sign_bytes(&signed_bytes(&r));
        r
    }
}

/// Checks a receipt's signature with the log's public key.
pub fn verify(r: &Receipt, log: &Verifier) -> Result<(), NoteError> {
    log.verify_bytes(&signed_bytes(r), &r.signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditEvent;
    use okaz_protocol::DocumentType;

    #[test]
    fn a_receipt_verifies_names_its_leaf_and_holds_no_citizen_data() {
        let key = ReceiptKey {
            signer: Signer::from_seed("okaz.test/audit", &[4; 32]).unwrap(),
            origin: "okaz.test/audit".into(),
        };
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut e = AuditEntry::new(at, AuditEvent::VerificationStarted, "o1", "U1")
            .about("pseudonym-xyz", DocumentType::IdCard, "age_check")
            .verification("v-1")
            .released(vec!["photo".into()]);
        e.case_reference = Some("case/1".into());
        let r = key.receipt(&e);
        let v = Verifier::parse(&key.signer.verifier()).unwrap();
        verify(&r, &v).unwrap();
        assert_eq!(r.leaf_hash, hex::encode(leaf_hash(&e)));
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("pseudonym-xyz") && !text.contains("o1\""),
            "{text}"
        );
        let mut forged = r.clone();
        forged.purpose = "other".into();
        assert!(verify(&forged, &v).is_err());
    }
}
