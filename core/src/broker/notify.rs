//! The notices a check makes, built from its audit record: every release
//! is noticed (see [`crate::notice`]), and so is a check refused after the
//! citizen read out the right code, since they consented to something that
//! then did not happen.

use okaz_protocol::{DocumentType, ErrorCode, Pesel};

use super::Broker;
use crate::audit::AuditEntry;
use crate::notice::Notice;
use crate::pseudonym::Pseudonym;

impl Broker {
    /// The notice of a check's record about `pesel` (a release, or for
    /// [`Self::notice_refused`] the check's record before it).
    pub(super) fn notice_of(
        &self,
        pesel: &Pesel,
        record: &AuditEntry,
        document: DocumentType,
    ) -> Notice {
        Notice {
            pesel: pesel.clone(),
            verification: record.verification.clone().unwrap_or_default(),
            unit: record.unit.clone(),
            document,
            also: Vec::new(),
            purpose: record.purpose.clone().unwrap_or_default(),
            at: record.at,
            emergency: false,
            refused: None,
            sms_sent: false,
            email_sent: false,
        }
    }

    /// Notices the citizen that a check they gave the right code for was
    /// refused (`code`), from memory, on the channels they chose. A
    /// register that is down is not noticed: the code stays good and the
    /// officer's retry, once released, is. Best effort, off the answer's
    /// path: the refusal stands whether or not the notice can be queued.
    pub(super) async fn notice_refused(
        &self,
        pesel: &Pesel,
        citizen: &Pseudonym,
        record: &AuditEntry,
        document: DocumentType,
        code: ErrorCode,
    ) {
        let Some(n) = &self.notices else { return };
        if !final_after_code(code) {
            return;
        }
        let prefs = match self.store.notice_prefs(citizen).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "a refused check's notice is not sent");
                return;
            }
        };
        let mut notice = self.notice_of(pesel, record, document);
        notice.refused = Some(code.as_str().to_string());
        n.queue.push(notice, prefs);
    }
}

/// Whether a refusal after the right code is the check's end, worth a
/// notice: not a passing fault (a register or the service down), after
/// which the same code is tried again.
fn final_after_code(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::RegistryUnavailable | ErrorCode::ServiceUnavailable | ErrorCode::Internal
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_final_refusal_is_noticed() {
        assert!(final_after_code(ErrorCode::DocumentNotFound));
        assert!(final_after_code(ErrorCode::NotPermitted));
        assert!(!final_after_code(ErrorCode::RegistryUnavailable));
        assert!(!final_after_code(ErrorCode::Internal));
    }
}
