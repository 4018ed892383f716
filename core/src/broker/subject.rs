//! What a check is about: the subject as typed (a PESEL or a plate),
//! validated into a [`Subject`] before anything is counted or audited, and
//! the vehicle documents a plate can name.

use okaz_policy::Role;
use okaz_protocol::{plate, DocumentType, ErrorCode, Pesel, VerificationRequest};

use crate::error::Refusal;
use crate::ports::Subject;

/// Documents a plate can name.
const VEHICLE_DOCUMENTS: [DocumentType; 3] = [
    DocumentType::VehicleRegistration,
    DocumentType::TechnicalInspection,
    DocumentType::OcInsurance,
];

/// Validates the subject of a request. Malformed input costs nothing: it is
/// refused here, before the attempt is counted.
pub(super) fn subject_of(req: &VerificationRequest) -> Result<Subject, Refusal> {
    match (&req.subject.pesel, &req.subject.plate) {
        (Some(pesel), None) => Pesel::parse(pesel)
            .map(Subject::Pesel)
            .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string())),
        (None, Some(typed)) => {
            let plate = plate::normalise(typed).ok_or_else(|| {
                Refusal::new(ErrorCode::InvalidRequest)
                    .detail("a registration number has 1 to 8 letters and digits")
            })?;
            if !VEHICLE_DOCUMENTS.contains(&req.document) {
                return Err(Refusal::new(ErrorCode::InvalidRequest).detail(
                    "a plate names a vehicle: ask for its registration, inspection or insurance",
                ));
            }
            Ok(Subject::Plate(plate))
        }
        _ => Err(Refusal::new(ErrorCode::InvalidRequest)
            .detail("the subject is either a pesel or a plate")),
    }
}

/// Whether the role may name a subject this way. A plate has no citizen to
/// ask for a code, so only roles whose checks need no consent, and that the
/// policy lets look vehicles up, may use one.
pub(super) fn may_use(role: &Role, subject: &Subject, consent_free: bool) -> bool {
    match subject {
        Subject::Pesel(_) => true,
        Subject::Plate(_) => role.plate_lookup && consent_free,
    }
}
