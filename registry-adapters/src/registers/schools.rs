//! Schools register (SIO-like): a pupil's card nested with school and pupil.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, png_photo, status_with_expiry, text};
use crate::error::RegistryError;

const REGISTER: &str = "schools";

/// `GET sio/v1/legitymacje-szkolne/{pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LegitymacjaSzkolna {
    /// Card number.
    pub numer: String,
    /// The school.
    pub szkola: Szkola,
    /// The pupil.
    pub uczen: Uczen,
    /// Valid until.
    pub wazna_do: String,
    /// State.
    pub stan: StanLegitymacjiSzkolnej,
    /// Portrait, base64 PNG.
    pub fotografia: Option<String>,
}

/// A school.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Szkola {
    /// Name.
    pub nazwa: String,
    /// RSPO identifier.
    pub rspo: u32,
}

/// A pupil.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Uczen {
    /// Given names.
    pub imiona: String,
    /// Surname.
    pub nazwisko: String,
}

/// Card state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StanLegitymacjiSzkolnej {
    /// In force.
    Wazna,
    /// Past its date.
    Niewazna,
    /// Reported lost.
    Utracona,
    /// Invalidated (pupil left the school).
    Anulowana,
}

/// Parses the schools register's answer.
pub fn parse_school_id(bytes: &[u8]) -> Result<Document, RegistryError> {
    let l: LegitymacjaSzkolna = decode(bytes, REGISTER)?;
    let expiry = date(&l.wazna_do, "waznaDo", REGISTER)?;
    let status = match l.stan {
        StanLegitymacjiSzkolnej::Wazna => DocumentStatus::Valid,
        StanLegitymacjiSzkolnej::Niewazna => DocumentStatus::Expired,
        StanLegitymacjiSzkolnej::Utracona => DocumentStatus::ReportedLost,
        StanLegitymacjiSzkolnej::Anulowana => DocumentStatus::Cancelled,
    };
    let photo = l
        .fotografia
        .as_deref()
        .map(|p| png_photo(p, REGISTER))
        .transpose()?;
    document(
        DocumentType::SchoolId,
        status_with_expiry(status, Some(expiry)),
        vec![
            ("given_names", text(&l.uczen.imiona, "imiona", REGISTER)?),
            ("surname", text(&l.uczen.nazwisko, "nazwisko", REGISTER)?),
            ("school", text(&l.szkola.nazwa, "nazwa", REGISTER)?),
            ("card_number", text(&l.numer, "numer", REGISTER)?),
            ("expiry_date", FieldValue::date(expiry)),
        ],
        photo,
        REGISTER,
    )
}
