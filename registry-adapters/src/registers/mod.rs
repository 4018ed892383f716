//! One module per register: its wire shape (as the sandbox serves it) and the
//! mapping into [`okaz_protocol::Document`]. The parsers are pure functions
//! over bytes so they can be fuzzed.

pub mod contacts;
pub mod drivers;
pub mod insurance;
pub mod large_family;
pub mod numbers;
pub mod pensioners;
pub mod persons;
pub mod plates;
pub mod schools;
pub mod students;
pub mod vehicles;

use std::collections::BTreeMap;

use base64::Engine as _;
use chrono::{Datelike, NaiveDate, Utc};
use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue, Photo, Source};
use serde::de::DeserializeOwned;

use crate::error::RegistryError;

pub use contacts::parse_contact;
pub use drivers::parse_driving_licence;
pub use insurance::parse_oc_insurance;
pub use large_family::parse_large_family_card;
pub use pensioners::parse_pensioner_id;
pub use persons::parse_id_card;
pub use plates::{parse_plate_inspection, parse_plate_registration, PlateAnswer};
pub use schools::parse_school_id;
pub use students::parse_student_id;
pub use vehicles::{parse_technical_inspection, parse_vehicle_registration};

/// The registers okaz reads, each with its own path under the base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Register {
    /// Persons and identity cards (SRP-like).
    Persons,
    /// Drivers and licences (CEPIK-like).
    Drivers,
    /// Vehicles, registrations and inspections (CEPIK-like), by owner's
    /// PESEL or, for the police, by registration number ([`plates`]).
    Vehicles,
    /// Vehicle liability insurance (UFG-like).
    Insurance,
    /// University students (POL-on-like).
    Students,
    /// Pensioners' cards (ZUS-like).
    Pensioners,
    /// Large Family Cards.
    LargeFamily,
    /// School pupils' cards (SIO-like).
    Schools,
    /// Contact and reservation register (KRR-like).
    Contacts,
}

impl Register {
    /// Every register.
    pub const ALL: [Register; 9] = [
        Register::Persons,
        Register::Drivers,
        Register::Vehicles,
        Register::Insurance,
        Register::Students,
        Register::Pensioners,
        Register::LargeFamily,
        Register::Schools,
        Register::Contacts,
    ];

    /// Short stable name, used in errors, faults and `Source::register`.
    pub fn name(self) -> &'static str {
        match self {
            Register::Persons => "persons",
            Register::Drivers => "drivers",
            Register::Vehicles => "vehicles",
            Register::Insurance => "insurance",
            Register::Students => "students",
            Register::Pensioners => "pensioners",
            Register::LargeFamily => "large_family",
            Register::Schools => "schools",
            Register::Contacts => "contacts",
        }
    }

    /// Parses a short name.
    pub fn parse(name: &str) -> Option<Register> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Path prefix of the register under the base URL (no leading slash).
    pub fn prefix(self) -> &'static str {
        match self {
            Register::Persons => "srp/v2/osoby/",
            Register::Drivers => "cepik/drivers/v1/licences/",
            Register::Vehicles => "cepik/pojazdy/v1/wlasciciele/",
            Register::Insurance => "ufg/oc/v1/polisy",
            Register::Students => "polon/api/v1/students",
            Register::Pensioners => "zus/legitymacje/v1/",
            Register::LargeFamily => "kdr/api/cards",
            Register::Schools => "sio/v1/legitymacje-szkolne/",
            Register::Contacts => "krr/api/v1/kontakty/",
        }
    }

    /// The register that owns a document type.
    pub fn of(kind: DocumentType) -> Register {
        match kind {
            DocumentType::IdCard => Register::Persons,
            DocumentType::DrivingLicence => Register::Drivers,
            DocumentType::VehicleRegistration | DocumentType::TechnicalInspection => {
                Register::Vehicles
            }
            DocumentType::OcInsurance => Register::Insurance,
            DocumentType::StudentId => Register::Students,
            DocumentType::PensionerId => Register::Pensioners,
            DocumentType::LargeFamilyCard => Register::LargeFamily,
            DocumentType::SchoolId => Register::Schools,
        }
    }
}

/// Decodes JSON strictly; the error names the position and kind, never a value.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    register: &'static str,
) -> Result<T, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| RegistryError::Malformed {
        register,
        // serde's message can quote the offending value (a name, a PESEL),
        // so only the category and position leave this function.
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// Parses an ISO date from a register field.
pub(crate) fn date(
    s: &str,
    field: &'static str,
    register: &'static str,
) -> Result<NaiveDate, RegistryError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| RegistryError::Malformed {
        register,
        reason: format!("field {field} is not a date"),
    })
}

/// A malformed-answer error about a rule rather than syntax.
pub(crate) fn malformed(register: &'static str, reason: &str) -> RegistryError {
    RegistryError::Malformed {
        register,
        reason: reason.to_string(),
    }
}

/// Requires a non-empty text field.
pub(crate) fn text(
    s: &str,
    field: &'static str,
    register: &'static str,
) -> Result<FieldValue, RegistryError> {
    let t = s.trim();
    if t.is_empty() || t.len() > 200 {
        return Err(malformed(
            register,
            &format!("field {field} is empty or too long"),
        ));
    }
    Ok(FieldValue::Text(t.to_string()))
}

/// Whether someone born on `birth` is at least 18 on `today`.
pub fn age_over_18(birth: NaiveDate, today: NaiveDate) -> bool {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age >= 18
}

/// Today's date (UTC) for derived fields and expiry checks.
pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// A base64 PNG portrait, checked to decode and to carry the PNG signature.
pub(crate) fn png_photo(b64: &str, register: &'static str) -> Result<Photo, RegistryError> {
    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| malformed(register, "photo is not base64"))?;
    if !bytes.starts_with(PNG_MAGIC) {
        return Err(malformed(register, "photo is not a PNG"));
    }
    Ok(Photo {
        media_type: "image/png".into(),
        data: b64.to_string(),
    })
}

/// A valid document whose expiry passed is shown as expired whatever the
/// register says, so a stale status flag cannot make an old card look good.
pub(crate) fn status_with_expiry(
    status: DocumentStatus,
    expiry: Option<NaiveDate>,
) -> DocumentStatus {
    match (status, expiry) {
        (DocumentStatus::Valid, Some(e)) if e < today() => DocumentStatus::Expired,
        (s, _) => s,
    }
}

/// Builds a document, checking that every field name belongs to the type.
pub(crate) fn document(
    kind: DocumentType,
    status: DocumentStatus,
    fields: Vec<(&'static str, FieldValue)>,
    photo: Option<Photo>,
    register: &'static str,
) -> Result<Document, RegistryError> {
    let allowed = kind.fields();
    let mut map = BTreeMap::new();
    for (name, value) in fields {
        if !allowed.contains(&name) {
            return Err(malformed(
                register,
                &format!("mapping produced unknown field {name}"),
            ));
        }
        map.insert(name.to_string(), value);
    }
    Ok(Document {
        kind,
        status,
        fields: map,
        photo,
        source: Source {
            register: register.to_string(),
            fetched_at: Utc::now(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_is_counted_to_the_birthday() {
        let b = NaiveDate::from_ymd_opt(2000, 6, 15).unwrap();
        assert!(!age_over_18(
            b,
            NaiveDate::from_ymd_opt(2018, 6, 14).unwrap()
        ));
        assert!(age_over_18(
            b,
            NaiveDate::from_ymd_opt(2018, 6, 15).unwrap()
        ));
    }

    #[test]
    fn register_names_round_trip() {
        for r in Register::ALL {
            assert_eq!(Register::parse(r.name()), Some(r));
        }
    }

    #[test]
    fn decode_errors_never_quote_values() {
        let e = decode::<u32>(br#""Kowalski""#, "persons").unwrap_err();
        assert!(!e.to_string().contains("Kowalski"), "{e}");
    }
}
