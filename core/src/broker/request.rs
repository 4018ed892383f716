//! The check request, typed at the edge: the wire's strings are parsed
//! once, here, into a [`CheckRequest`] or a [`BundleCheck`] (a subject of
//! checked newtypes, the case reference trimmed, the citizen's pseudonym
//! computed once), before anything is counted or audited. Nothing past
//! this file parses a PESEL, a plate or a document number again.

use okaz_policy::{Bundle, PartSubject};
use okaz_protocol::{
    docnumber, BundleRequest, DocumentType, ErrorCode, Pesel, PhotoFit, Subject as Wire,
    VerificationRequest,
};

use super::subject::names;
use crate::error::Refusal;
use crate::ports::{IdCardNumber, LicenceNumber, Plate, Subject};
use crate::pseudonym::{Pseudonym, SecretKey};

/// One check as asked for, validated: what it is about, which document,
/// why, and what the terminal can draw.
#[derive(Debug)]
pub(super) struct CheckRequest {
    /// What names the check's subject.
    pub subject: Subject,
    /// The pseudonym of the subject's PESEL, where named by one.
    pub citizen: Option<Pseudonym>,
    /// Which document.
    pub document: DocumentType,
    /// The purpose as typed (the policy decides whether it names one).
    pub purpose: String,
    /// The case reference, trimmed; blank is none.
    pub case_reference: Option<String>,
    /// The photo the terminal can draw.
    pub photo: Option<PhotoFit>,
}

impl CheckRequest {
    /// Validates a check request. Malformed input costs nothing: it is
    /// refused here, before the attempt is counted.
    pub(super) fn parse(req: &VerificationRequest, pepper: &SecretKey) -> Result<Self, Refusal> {
        let subject = subject_of(&req.subject, req.document)?;
        Ok(CheckRequest {
            citizen: pseudonym_of(pepper, Some(&subject)),
            subject,
            document: req.document,
            purpose: req.purpose.clone(),
            case_reference: case_reference_of(req.case_reference.as_deref()),
            photo: req.photo,
        })
    }
}

/// A bundle as asked for, its subjects validated against what the bundle
/// needs (where the policy names the bundle).
#[derive(Debug)]
pub(super) struct BundleCheck {
    /// The bundle's policy name.
    pub bundle: String,
    /// The person: by PESEL, or (a traffic stop's driver) by licence number.
    pub person: Option<Subject>,
    /// The vehicle, by its plate.
    pub vehicle: Option<Plate>,
    /// The pseudonym of the person's PESEL, where named by one.
    pub citizen: Option<Pseudonym>,
    /// The case reference, trimmed; blank is none.
    pub case_reference: Option<String>,
    /// The photo the terminal can draw.
    pub photo: Option<PhotoFit>,
}

impl BundleCheck {
    /// Validates a bundle request against `bundle`, the policy's (none for
    /// a name it does not know: that is refused later, audited, like any
    /// other denial). Malformed input costs nothing: refused here.
    pub(super) fn parse(
        req: &BundleRequest,
        bundle: Option<&Bundle>,
        pepper: &SecretKey,
    ) -> Result<Self, Refusal> {
        let (person, vehicle) = match bundle {
            Some(b) => subjects_of(&req.subject, b)?,
            None => (None, None),
        };
        Ok(BundleCheck {
            bundle: req.bundle.clone(),
            citizen: pseudonym_of(pepper, person.as_ref()),
            person,
            vehicle,
            case_reference: case_reference_of(req.case_reference.as_deref()),
            photo: req.photo,
        })
    }
}

/// A parsed request that may name a citizen by PESEL.
pub(super) trait NamesCitizen {
    /// The pseudonym of the citizen's PESEL, computed once by the parse.
    fn citizen(&self) -> Option<&Pseudonym>;
}

impl NamesCitizen for CheckRequest {
    fn citizen(&self) -> Option<&Pseudonym> {
        self.citizen.as_ref()
    }
}

impl NamesCitizen for BundleCheck {
    fn citizen(&self) -> Option<&Pseudonym> {
        self.citizen.as_ref()
    }
}

/// The pseudonym of a subject named by PESEL: the one HMAC of a request.
fn pseudonym_of(pepper: &SecretKey, subject: Option<&Subject>) -> Option<Pseudonym> {
    match subject {
        Some(Subject::Pesel(p)) => Some(Pseudonym::of(pepper, p)),
        _ => None,
    }
}

/// A case reference as typed, trimmed; blank is none.
fn case_reference_of(typed: Option<&str>) -> Option<String> {
    typed
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// A PESEL as typed, or the refusal that says why not.
fn pesel_of(typed: &str) -> Result<Pesel, Refusal> {
    Pesel::parse(typed).map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))
}

/// A plate as typed, or the refusal that says why not.
fn plate_of(typed: &str) -> Result<Plate, Refusal> {
    Plate::parse(typed).ok_or_else(|| {
        Refusal::new(ErrorCode::InvalidRequest)
            .detail("a registration number has 1 to 8 letters and digits")
    })
}

fn invalid_number(e: docnumber::DocumentNumberError) -> Refusal {
    Refusal::new(ErrorCode::InvalidDocumentNumber).detail(e.to_string())
}

/// Validates the subject of a single check: named one way, well formed,
/// and able to name the document asked for.
fn subject_of(s: &Wire, document: DocumentType) -> Result<Subject, Refusal> {
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
        Subject::Pesel(pesel_of(pesel)?)
    } else if let Some(typed) = &s.plate {
        Subject::Plate(plate_of(typed)?)
    } else if let Some(typed) = &s.id_card_number {
        Subject::IdCardNumber(IdCardNumber::parse(typed).map_err(invalid_number)?)
    } else if let Some(typed) = &s.licence_number {
        Subject::LicenceNumber(LicenceNumber::parse(typed).map_err(invalid_number)?)
    } else {
        return Err(Refusal::new(ErrorCode::InvalidRequest));
    };
    if !names(&subject, document) {
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

/// Validates a bundle's subjects against what the bundle needs. The
/// person is named by PESEL, or by licence number where every person's
/// part is one a licence number names (a traffic stop's driving licence);
/// whether the role may name them so is asked once the bundle is authorised.
fn subjects_of(s: &Wire, bundle: &Bundle) -> Result<(Option<Subject>, Option<Plate>), Refusal> {
    let needs_person = bundle.needs_pesel();
    if s.id_card_number.is_some() {
        return Err(Refusal::new(ErrorCode::InvalidRequest)
            .detail("a bundle names the person by pesel or licence number"));
    }
    let by_licence = bundle
        .parts
        .iter()
        .filter(|p| p.subject == PartSubject::Person)
        .all(|p| docnumber::LICENCE_DOCUMENTS.contains(&p.document));
    let person = match (&s.pesel, &s.licence_number, needs_person) {
        (Some(_), Some(_), _) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("name the person one way: pesel or licence_number"))
        }
        (Some(p), None, true) => Some(Subject::Pesel(pesel_of(p)?)),
        (None, Some(n), true) if by_licence => Some(Subject::LicenceNumber(
            LicenceNumber::parse(n).map_err(invalid_number)?,
        )),
        (None, Some(_), true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle names the person by pesel"))
        }
        (None, None, true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle needs the person's pesel or licence number"))
        }
        (_, _, false) => {
            if s.pesel.is_some() || s.licence_number.is_some() {
                return Err(
                    Refusal::new(ErrorCode::InvalidRequest).detail("this bundle names no person")
                );
            }
            None
        }
    };
    let vehicle = match (&s.plate, bundle.needs_plate()) {
        (Some(typed), true) => Some(plate_of(typed)?),
        (None, true) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest)
                .detail("this bundle needs the vehicle's plate"))
        }
        (Some(_), false) => {
            return Err(Refusal::new(ErrorCode::InvalidRequest).detail("this bundle takes no plate"))
        }
        (None, false) => None,
    };
    Ok((person, vehicle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_policy::PolicySet;

    fn default_policy() -> PolicySet {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
        PolicySet::load_dir(std::path::Path::new(dir)).unwrap()
    }

    fn pepper() -> SecretKey {
        SecretKey::new(vec![7; 32]).unwrap()
    }

    fn check(subject: Wire, document: DocumentType) -> Result<CheckRequest, Refusal> {
        let req = VerificationRequest {
            subject,
            document,
            purpose: "operational_check".into(),
            case_reference: None,
            photo: None,
        };
        CheckRequest::parse(&req, &pepper())
    }

    /// The canonical text of a document number subject, or `None`.
    fn number(s: &Subject) -> Option<&str> {
        match s {
            Subject::IdCardNumber(n) => Some(n.as_str()),
            Subject::LicenceNumber(n) => Some(n.as_str()),
            _ => None,
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
        let card = check(id("aba 300000"), DocumentType::IdCard).unwrap();
        assert!(matches!(card.subject, Subject::IdCardNumber(_)));
        assert_eq!(number(&card.subject), Some("ABA300000"));
        assert_eq!(card.citizen, None);
        let typo = check(id("ABA400000"), DocumentType::IdCard).unwrap_err();
        assert_eq!(typo.code, ErrorCode::InvalidDocumentNumber);
        let wrong_doc = check(id("ABA300000"), DocumentType::DrivingLicence).unwrap_err();
        assert_eq!(wrong_doc.code, ErrorCode::InvalidRequest);
        let by_licence = check(licence("01234/19/1465"), DocumentType::DrivingLicence).unwrap();
        assert!(matches!(by_licence.subject, Subject::LicenceNumber(_)));
        assert_eq!(number(&by_licence.subject), Some("01234/19/1465"));
        let bad = check(licence("01234-19-1465"), DocumentType::DrivingLicence).unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidDocumentNumber);
        let two = Wire {
            pesel: Some("44051401359".into()),
            id_card_number: Some("ABA300000".into()),
            ..Default::default()
        };
        assert_eq!(
            check(two, DocumentType::IdCard).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn a_pesel_is_parsed_once_and_its_pseudonym_computed_with_it() {
        let by_pesel = Wire {
            pesel: Some("44051401359".into()),
            ..Default::default()
        };
        let req = check(by_pesel, DocumentType::IdCard).unwrap();
        let pesel = Pesel::parse("44051401359").unwrap();
        assert_eq!(req.subject, Subject::Pesel(pesel.clone()));
        assert_eq!(req.citizen, Some(Pseudonym::of(&pepper(), &pesel)));
        let typo = Wire {
            pesel: Some("44051401358".into()),
            ..Default::default()
        };
        assert_eq!(
            check(typo, DocumentType::IdCard).unwrap_err().code,
            ErrorCode::InvalidPesel
        );
    }

    fn subjects(
        subject: Wire,
        bundle: &Bundle,
    ) -> Result<(Option<Subject>, Option<Plate>), Refusal> {
        subjects_of(&subject, bundle)
    }

    fn code<T>(r: Result<T, Refusal>) -> ErrorCode {
        match r {
            Ok(_) => panic!("expected a refusal"),
            Err(e) => e.code,
        }
    }

    #[test]
    fn a_traffic_stop_names_the_driver_by_pesel_or_licence_number() {
        let p = default_policy();
        let stop = p.bundle("traffic_stop").unwrap();
        let by = |pesel: Option<&str>, licence: Option<&str>, plate: Option<&str>| Wire {
            pesel: pesel.map(Into::into),
            licence_number: licence.map(Into::into),
            plate: plate.map(Into::into),
            ..Default::default()
        };
        let (person, vehicle) =
            subjects(by(None, Some("01234/19/1465"), Some("wa 1234x")), stop).unwrap();
        assert_eq!(
            person.as_ref().and_then(number),
            Some("01234/19/1465"),
            "the driver by licence number"
        );
        assert!(matches!(person, Some(Subject::LicenceNumber(_))));
        assert_eq!(vehicle.as_ref().map(Plate::as_str), Some("WA1234X"));
        assert!(matches!(
            subjects(by(Some("44051401359"), None, Some("WA1234X")), stop)
                .unwrap()
                .0,
            Some(Subject::Pesel(_))
        ));
        // A malformed number is its own code, refused before any count.
        assert_eq!(
            code(subjects(
                by(None, Some("01234-19-1465"), Some("WA1234X")),
                stop
            )),
            ErrorCode::InvalidDocumentNumber
        );
        // Both ways at once, or neither, is not a subject.
        assert_eq!(
            code(subjects(
                by(Some("44051401359"), Some("01234/19/1465"), Some("WA1234X")),
                stop
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            code(subjects(by(None, None, Some("WA1234X")), stop)),
            ErrorCode::InvalidRequest
        );
        let id_card = Wire {
            id_card_number: Some("ABA300000".into()),
            plate: Some("WA1234X".into()),
            ..Default::default()
        };
        assert_eq!(code(subjects(id_card, stop)), ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_licence_number_names_no_other_document_of_a_bundle() {
        let p = default_policy();
        let pensioner = p.bundle("pensioner_discount").unwrap();
        let licence = Wire {
            licence_number: Some("01234/19/1465".into()),
            ..Default::default()
        };
        assert_eq!(
            code(subjects(licence, pensioner)),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn an_unknown_bundle_validates_nothing_and_is_refused_later() {
        let req = BundleRequest {
            bundle: "no_such_bundle".into(),
            subject: Wire {
                pesel: Some("44051401359".into()),
                ..Default::default()
            },
            case_reference: Some("  ".into()),
            photo: None,
        };
        let parsed = BundleCheck::parse(&req, None, &pepper()).unwrap();
        assert_eq!(parsed.person, None);
        assert_eq!(parsed.citizen, None);
        assert_eq!(parsed.case_reference, None);
    }
}
