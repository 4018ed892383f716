//! Large Family Card register: a cards list with a nested holder and image.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, malformed, png_photo, status_with_expiry, text};
use crate::error::RegistryError;

const REGISTER: &str = "large_family";

/// `GET kdr/api/cards?pesel={pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CardsAnswer {
    /// Cards of the person (one per family membership).
    pub cards: Vec<Card>,
}

/// One Large Family Card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Card {
    /// Card number.
    pub card_number: String,
    /// The holder.
    pub holder: Holder,
    /// Expiry date.
    pub expires_on: String,
    /// State.
    pub status: CardStatus,
    /// Portrait.
    pub image: Option<Image>,
}

/// Card holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Holder {
    /// Given names.
    pub given_names: Vec<String>,
    /// Surname.
    pub surname: String,
}

/// Image envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Media type.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Base64 bytes.
    pub data: String,
}

/// Card state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CardStatus {
    /// In force.
    Valid,
    /// Past its date.
    Expired,
    /// Withdrawn.
    Cancelled,
    /// Reported lost.
    Lost,
}

/// Parses the Large Family Card register's answer.
pub fn parse_large_family_card(bytes: &[u8]) -> Result<Document, RegistryError> {
    let a: CardsAnswer = decode(bytes, REGISTER)?;
    let c = a
        .cards
        .first()
        .ok_or(RegistryError::NotFound { register: REGISTER })?;
    let expiry = date(&c.expires_on, "expiresOn", REGISTER)?;
    let status = match c.status {
        CardStatus::Valid => DocumentStatus::Valid,
        CardStatus::Expired => DocumentStatus::Expired,
        CardStatus::Cancelled => DocumentStatus::Cancelled,
        CardStatus::Lost => DocumentStatus::ReportedLost,
    };
    let photo = match &c.image {
        Some(i) if i.media_type == "image/png" => Some(png_photo(&i.data, REGISTER)?),
        Some(_) => return Err(malformed(REGISTER, "image is not image/png")),
        None => None,
    };
    document(
        DocumentType::LargeFamilyCard,
        status_with_expiry(status, Some(expiry)),
        vec![
            (
                "given_names",
                text(&c.holder.given_names.join(" "), "givenNames", REGISTER)?,
            ),
            ("surname", text(&c.holder.surname, "surname", REGISTER)?),
            ("card_number", text(&c.card_number, "cardNumber", REGISTER)?),
            ("expiry_date", FieldValue::date(expiry)),
        ],
        photo,
        REGISTER,
    )
}
