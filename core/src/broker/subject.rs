//! What a check is about: the documents each kind of [`Subject`] can
//! name, and the roles that may name a subject each way. The subject is
//! parsed once, in [`super::request`].

use okaz_policy::Role;
use okaz_protocol::{docnumber, plate, DocumentType};

use crate::ports::Subject;

/// Whether `subject` can name a document of `kind`: a PESEL names any of
/// the person's, a plate the vehicle's, a document number that document.
pub(super) fn names(subject: &Subject, kind: DocumentType) -> bool {
    match subject {
        Subject::Pesel(_) => true,
        Subject::Plate(_) => plate::DOCUMENTS.contains(&kind),
        Subject::IdCardNumber(_) => docnumber::ID_CARD_DOCUMENTS.contains(&kind),
        Subject::LicenceNumber(_) => docnumber::LICENCE_DOCUMENTS.contains(&kind),
    }
}

/// Whether the role may name a subject this way. A plate or a document
/// number has no citizen to ask for a code before the lookup, so only roles
/// whose checks need no consent, and that the policy lets look up that way,
/// may use one.
pub(super) fn may_use(role: &Role, subject: &Subject, consent_free: bool) -> bool {
    match subject {
        Subject::Pesel(_) => true,
        Subject::Plate(_) => role.plate_lookup && consent_free,
        Subject::IdCardNumber(_) | Subject::LicenceNumber(_) => {
            role.document_number_lookup && consent_free
        }
    }
}
