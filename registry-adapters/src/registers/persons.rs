//! Persons register (SRP-like): a person and their identity card, with the
//! register's Polish field names.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{
    age_over_18, date, decode, document, malformed, png_photo, status_with_expiry, text, today,
};
use crate::error::RegistryError;

const REGISTER: &str = "persons";

/// `GET srp/v2/osoby/{pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Osoba {
    /// The PESEL, echoed.
    pub pesel: String,
    /// Given names in order.
    pub imiona: Vec<String>,
    /// Surname.
    pub nazwisko: String,
    /// Birth date, `YYYY-MM-DD`.
    pub data_urodzenia: String,
    /// `M` or `K`.
    pub plec: String,
    /// ISO 3166 alpha-3 code, e.g. `POL`.
    pub obywatelstwo: String,
    /// The current identity card.
    pub dowod_osobisty: DowodOsobisty,
    /// Portrait, base64 PNG.
    pub zdjecie: Option<String>,
}

/// An identity card record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DowodOsobisty {
    /// Series and number, `AAA999999`.
    pub seria_numer: String,
    /// Issue date.
    pub data_wydania: String,
    /// Expiry date.
    pub data_waznosci: String,
    /// Issuing authority.
    pub organ_wydajacy: String,
    /// Card status in the register's vocabulary.
    pub status: StatusDowodu,
}

/// Identity card status as the register names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusDowodu {
    /// In force.
    #[serde(rename = "WAZNY")]
    Wazny,
    /// Past its date.
    #[serde(rename = "WYGASLY")]
    Wygasly,
    /// Reported lost or stolen.
    #[serde(rename = "ZGLOSZONY_JAKO_UTRACONY")]
    Utracony,
    /// Invalidated by the authority.
    #[serde(rename = "UNIEWAZNIONY")]
    Uniewazniony,
    /// Suspended (e.g. during a change of data).
    #[serde(rename = "ZAWIESZONY")]
    Zawieszony,
}

impl StatusDowodu {
    fn status(self) -> DocumentStatus {
        match self {
            StatusDowodu::Wazny => DocumentStatus::Valid,
            StatusDowodu::Wygasly => DocumentStatus::Expired,
            StatusDowodu::Utracony => DocumentStatus::ReportedLost,
            StatusDowodu::Uniewazniony => DocumentStatus::Cancelled,
            StatusDowodu::Zawieszony => DocumentStatus::Suspended,
        }
    }
}

/// Parses the persons register's answer into an identity card document.
pub fn parse_id_card(bytes: &[u8]) -> Result<Document, RegistryError> {
    let o: Osoba = decode(bytes, REGISTER)?;
    id_card_of(&o)
}

/// Maps a decoded person record into an identity card document.
pub(crate) fn id_card_of(o: &Osoba) -> Result<Document, RegistryError> {
    let birth = date(&o.data_urodzenia, "dataUrodzenia", REGISTER)?;
    let d = &o.dowod_osobisty;
    let issued = date(&d.data_wydania, "dataWydania", REGISTER)?;
    let expiry = date(&d.data_waznosci, "dataWaznosci", REGISTER)?;
    if !crate::ids::id_card_number_valid(&d.seria_numer) {
        return Err(malformed(
            REGISTER,
            "identity card number fails its check digit",
        ));
    }
    if o.imiona.is_empty() {
        return Err(malformed(REGISTER, "no given names"));
    }
    let sex = match o.plec.as_str() {
        "M" => "male",
        "K" => "female",
        _ => return Err(malformed(REGISTER, "unknown value of plec")),
    };
    let photo = o
        .zdjecie
        .as_deref()
        .map(|p| png_photo(p, REGISTER))
        .transpose()?;
    document(
        DocumentType::IdCard,
        status_with_expiry(d.status.status(), Some(expiry)),
        vec![
            ("document_number", FieldValue::Text(d.seria_numer.clone())),
            (
                "given_names",
                text(&o.imiona.join(" "), "imiona", REGISTER)?,
            ),
            ("surname", text(&o.nazwisko, "nazwisko", REGISTER)?),
            ("birth_date", FieldValue::date(birth)),
            ("age_over_18", FieldValue::Flag(age_over_18(birth, today()))),
            ("sex", FieldValue::Text(sex.into())),
            (
                "citizenship",
                text(&o.obywatelstwo, "obywatelstwo", REGISTER)?,
            ),
            ("issue_date", FieldValue::date(issued)),
            ("expiry_date", FieldValue::date(expiry)),
            (
                "issuing_authority",
                text(&d.organ_wydajacy, "organWydajacy", REGISTER)?,
            ),
        ],
        photo,
        REGISTER,
    )
}
