//! Pensioners register (ZUS-like): a flat record in Polish.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, png_photo, status_with_expiry, text};
use crate::error::RegistryError;

const REGISTER: &str = "pensioners";

/// `GET zus/legitymacje/v1/{pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Legitymacja {
    /// Card number.
    pub numer_legitymacji: String,
    /// First given name.
    pub imie: String,
    /// Second given name.
    pub drugie_imie: Option<String>,
    /// Surname.
    pub nazwisko: String,
    /// Pension authority (branch).
    pub organ: String,
    /// Valid until.
    pub wazna_do: String,
    /// State.
    pub stan: StanLegitymacji,
    /// Portrait, base64 PNG.
    pub zdjecie: Option<String>,
}

/// Card state as ZUS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StanLegitymacji {
    /// In force.
    Aktywna,
    /// Past its date.
    Niewazna,
    /// Reported lost (zastrzeżona).
    Zastrzezona,
    /// Invalidated.
    Uniewazniona,
    /// Pension suspended.
    Zawieszona,
}

/// Parses the pensioners register's answer.
pub fn parse_pensioner_id(bytes: &[u8]) -> Result<Document, RegistryError> {
    let l: Legitymacja = decode(bytes, REGISTER)?;
    let expiry = date(&l.wazna_do, "waznaDo", REGISTER)?;
    let status = match l.stan {
        StanLegitymacji::Aktywna => DocumentStatus::Valid,
        StanLegitymacji::Niewazna => DocumentStatus::Expired,
        StanLegitymacji::Zastrzezona => DocumentStatus::ReportedLost,
        StanLegitymacji::Uniewazniona => DocumentStatus::Cancelled,
        StanLegitymacji::Zawieszona => DocumentStatus::Suspended,
    };
    let mut given = l.imie.clone();
    if let Some(d) = l.drugie_imie.as_deref() {
        given.push(' ');
        given.push_str(d);
    }
    let photo = l
        .zdjecie
        .as_deref()
        .map(|p| png_photo(p, REGISTER))
        .transpose()?;
    document(
        DocumentType::PensionerId,
        status_with_expiry(status, Some(expiry)),
        vec![
            ("given_names", text(&given, "imie", REGISTER)?),
            ("surname", text(&l.nazwisko, "nazwisko", REGISTER)?),
            ("pension_authority", text(&l.organ, "organ", REGISTER)?),
            (
                "card_number",
                text(&l.numer_legitymacji, "numerLegitymacji", REGISTER)?,
            ),
            ("expiry_date", FieldValue::date(expiry)),
        ],
        photo,
        REGISTER,
    )
}
