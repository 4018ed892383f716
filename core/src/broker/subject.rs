//! What a check is about: the subject as typed (a PESEL, a plate or a
//! document number), validated into a [`Subject`] before anything is
//! counted or audited, and the documents each kind of subject can name.

use okaz_policy::Role;
use okaz_protocol::{docnumber, plate, DocumentType, ErrorCode, Pesel, VerificationRequest};

use crate::error::Refusal;
use crate::ports::Subject;

/// Validates the subject of a request. Malformed input costs nothing: it is
/// refused here, before the attempt is counted.
pub(super) fn subject_of(req: &VerificationRequest) -> Result<Subject, Refusal> {
    let s = &req.subject;
    let given = [
        s.pesel.is_some(),
        s.plate.is_some(),
        s.id_card_number.is_some(),
        s.licence_number.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(Refusal::new(ErrorCode::InvalidRequest)
            .detail("name the subject one way: pesel, plate, id_card_number or licence_number"));
    }
    let subject = if let Some(pesel) = &s.pesel {
        Pesel::parse(pesel)
            .map(Subject::Pesel)
            .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))?
    } else if let Some(typed) = &s.plate {
        Subject::Plate(plate::normalise(typed).ok_or_else(|| {
            Refusal::new(ErrorCode::InvalidRequest)
                .detail("a registration number has 1 to 8 letters and digits")
        })?)
    } else if let Some(typed) = &s.id_card_number {
        Subject::IdCardNumber(docnumber::id_card(typed).map_err(invalid_number)?)
    } else if let Some(typed) = &s.licence_number {
        Subject::LicenceNumber(docnumber::licence(typed).map_err(invalid_number)?)
    } else {
        return Err(Refusal::new(ErrorCode::InvalidRequest));
    };
    if !names(&subject, req.document) {
        return Err(
            Refusal::new(ErrorCode::InvalidRequest).detail(match subject {
                Subject::Plate(_) => {
                    "a plate names a vehicle: ask for its registration, inspection or insurance"
                }
                Subject::IdCardNumber(_) => "an identity card number names the identity card only",
                _ => "a licence number names the driving licence only",
            }),
        );
    }
    Ok(subject)
}

fn invalid_number(e: docnumber::DocumentNumberError) -> Refusal {
    Refusal::new(ErrorCode::InvalidDocumentNumber).detail(e.to_string())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_protocol::Subject as Wire;

    fn req(subject: Wire, document: DocumentType) -> VerificationRequest {
        VerificationRequest {
            subject,
            document,
            purpose: "operational_check".into(),
            case_reference: None,
            photo: None,
        }
    }

    #[test]
    fn document_numbers_are_validated_and_name_only_their_document() {
        let id = |n: &str| Wire {
            id_card_number: Some(n.into()),
            ..Default::default()
        };
        let licence = |n: &str| Wire {
            licence_number: Some(n.into()),
            ..Default::default()
        };
        assert_eq!(
            subject_of(&req(id("aba 300000"), DocumentType::IdCard)).unwrap(),
            Subject::IdCardNumber("ABA300000".into())
        );
        let typo = subject_of(&req(id("ABA400000"), DocumentType::IdCard)).unwrap_err();
        assert_eq!(typo.code, ErrorCode::InvalidDocumentNumber);
        let wrong_doc =
            subject_of(&req(id("ABA300000"), DocumentType::DrivingLicence)).unwrap_err();
        assert_eq!(wrong_doc.code, ErrorCode::InvalidRequest);
        assert_eq!(
            subject_of(&req(licence("01234/19/1465"), DocumentType::DrivingLicence)).unwrap(),
            Subject::LicenceNumber("01234/19/1465".into())
        );
        let bad =
            subject_of(&req(licence("01234-19-1465"), DocumentType::DrivingLicence)).unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidDocumentNumber);
        let two = Wire {
            pesel: Some("44051401359".into()),
            id_card_number: Some("ABA300000".into()),
            ..Default::default()
        };
        assert_eq!(
            subject_of(&req(two, DocumentType::IdCard))
                .unwrap_err()
                .code,
            ErrorCode::InvalidRequest
        );
    }
}
