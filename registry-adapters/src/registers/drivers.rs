//! Drivers register (CEPIK-like): a driver and their licence, nested and in
//! English camelCase as the CEPIK API answers.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{
    age_over_18, date, decode, document, malformed, png_photo, status_with_expiry, text, today,
};
use crate::error::RegistryError;

const REGISTER: &str = "drivers";

/// `GET cepik/drivers/v1/licences/{pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DriverAnswer {
    /// The holder.
    pub driver: Driver,
    /// The licence.
    pub licence: Licence,
    /// Portrait from the licence.
    pub photo: Option<DriverPhoto>,
}

/// Licence holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Driver {
    /// First given name.
    pub first_name: String,
    /// Second given name, if any.
    pub second_name: Option<String>,
    /// Surname.
    pub last_name: String,
    /// Birth date.
    pub birth_date: String,
}

/// A driving licence record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Licence {
    /// Licence number, e.g. `01234/19/1465`.
    pub licence_number: String,
    /// Issue date.
    pub issue_date: String,
    /// Expiry date.
    pub expiry_date: String,
    /// Categories held.
    pub categories: Vec<Category>,
    /// Restriction codes (EU harmonised), e.g. `01.06`.
    pub restrictions: Vec<String>,
    /// Licence state.
    pub state: LicenceState,
    /// End of a suspension, when suspended.
    pub suspended_until: Option<String>,
}

/// One category entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Category {
    /// Category code, e.g. `B`.
    pub category: String,
    /// Held since.
    pub valid_from: String,
}

/// Licence state in CEPIK's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LicenceState {
    /// Issued and in force.
    Issued,
    /// Past its expiry date.
    Expired,
    /// Suspended (zatrzymane).
    Suspended,
    /// Revoked (cofnięte).
    Revoked,
    /// Reported lost.
    Lost,
}

/// Photo envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DriverPhoto {
    /// Media type; only `image/png` is accepted.
    pub mime: String,
    /// Base64 content.
    pub content: String,
}

const CATEGORIES: &[&str] = &[
    "AM", "A1", "A2", "A", "B1", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE", "T",
];

/// Parses the drivers register's answer into a driving licence document.
pub fn parse_driving_licence(bytes: &[u8]) -> Result<Document, RegistryError> {
    let a: DriverAnswer = decode(bytes, REGISTER)?;
    licence_of(&a)
}

/// Maps a decoded driver record into a driving licence document.
pub(crate) fn licence_of(a: &DriverAnswer) -> Result<Document, RegistryError> {
    let l = &a.licence;
    let birth = date(&a.driver.birth_date, "birthDate", REGISTER)?;
    let issued = date(&l.issue_date, "issueDate", REGISTER)?;
    let expiry = date(&l.expiry_date, "expiryDate", REGISTER)?;
    let mut categories = Vec::with_capacity(l.categories.len());
    for c in &l.categories {
        if !CATEGORIES.contains(&c.category.as_str()) {
            return Err(malformed(REGISTER, "unknown licence category"));
        }
        date(&c.valid_from, "validFrom", REGISTER)?;
        categories.push(c.category.clone());
    }
    let status = match l.state {
        LicenceState::Issued => DocumentStatus::Valid,
        LicenceState::Expired => DocumentStatus::Expired,
        LicenceState::Suspended => DocumentStatus::Suspended,
        LicenceState::Revoked => DocumentStatus::Cancelled,
        LicenceState::Lost => DocumentStatus::ReportedLost,
    };
    let mut given = a.driver.first_name.clone();
    if let Some(second) = a.driver.second_name.as_deref() {
        given.push(' ');
        given.push_str(second);
    }
    let mut fields = vec![
        (
            "document_number",
            text(&l.licence_number, "licenceNumber", REGISTER)?,
        ),
        ("given_names", text(&given, "firstName", REGISTER)?),
        ("surname", text(&a.driver.last_name, "lastName", REGISTER)?),
        ("birth_date", FieldValue::date(birth)),
        ("age_over_18", FieldValue::Flag(age_over_18(birth, today()))),
        ("categories", FieldValue::List(categories)),
        ("issue_date", FieldValue::date(issued)),
        ("expiry_date", FieldValue::date(expiry)),
        ("restrictions", FieldValue::List(l.restrictions.clone())),
    ];
    match (l.state, l.suspended_until.as_deref()) {
        (LicenceState::Suspended, Some(until)) => {
            fields.push((
                "suspended_until",
                FieldValue::date(date(until, "suspendedUntil", REGISTER)?),
            ));
        }
        (LicenceState::Suspended, None) => {
            return Err(malformed(
                REGISTER,
                "suspended licence without suspendedUntil",
            ))
        }
        (_, Some(_)) => {
            return Err(malformed(
                REGISTER,
                "suspendedUntil on a licence that is not suspended",
            ))
        }
        (_, None) => {}
    }
    let photo = match &a.photo {
        Some(p) if p.mime == "image/png" => Some(png_photo(&p.content, REGISTER)?),
        Some(_) => return Err(malformed(REGISTER, "photo is not image/png")),
        None => None,
    };
    document(
        DocumentType::DrivingLicence,
        status_with_expiry(status, Some(expiry)),
        fields,
        photo,
        REGISTER,
    )
}
