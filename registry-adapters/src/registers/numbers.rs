//! Lookups by document number, each in its register's own shape: the
//! persons register (SRP) answers an identity card's series and number with
//! the card's holder, the drivers register (CEPIK) a licence number with the
//! licence's holder. Each answer echoes the number asked and must carry a
//! document of exactly that number, so a register that answers about
//! someone else is a malformed answer, never another person's data.

use okaz_protocol::{Document, Pesel};
use serde::{Deserialize, Serialize};

use super::drivers::{licence_of, DriverAnswer};
use super::persons::{id_card_of, Osoba};
use super::{decode, malformed};
use crate::error::RegistryError;

/// Path (no leading slash) of the persons register's lookup by identity
/// card number; the number goes in the `seriaNumer` query parameter.
pub const ID_CARD_PATH: &str = "srp/v2/dowody";

/// Path (no leading slash) of the drivers register's lookup by licence
/// number; the number goes in the `licenceNumber` query parameter.
pub const LICENCE_PATH: &str = "cepik/drivers/v1/licences";

/// `GET srp/v2/dowody?seriaNumer={number}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DowodPoNumerze {
    /// The number asked, echoed.
    pub seria_numer: String,
    /// The card's holder, with the card.
    pub osoba: Osoba,
}

/// `GET cepik/drivers/v1/licences?licenceNumber={number}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LicenceLookup {
    /// The number asked, echoed.
    pub licence_number: String,
    /// The holder's PESEL (the by-PESEL answer has it in its path).
    pub holder_pesel: String,
    /// The licence record, as the by-PESEL answer gives it.
    pub record: DriverAnswer,
}

/// A document found by its number, and its holder.
pub struct NumberAnswer {
    /// The document.
    pub document: Document,
    /// Its holder.
    pub holder: Pesel,
}

impl std::fmt::Debug for NumberAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whose document it is is personal data.
        f.debug_struct("NumberAnswer")
            .field("document", &self.document)
            .field("holder", &"<redacted>")
            .finish()
    }
}

/// Parses the persons register's answer for identity card `number`
/// (canonical form).
pub fn parse_id_card_by_number(bytes: &[u8], number: &str) -> Result<NumberAnswer, RegistryError> {
    const REGISTER: &str = "persons";
    let a: DowodPoNumerze = decode(bytes, REGISTER)?;
    if a.seria_numer != number || a.osoba.dowod_osobisty.seria_numer != number {
        return Err(malformed(REGISTER, "the answer is about another card"));
    }
    let holder = Pesel::parse(&a.osoba.pesel)
        .map_err(|_| malformed(REGISTER, "the holder's PESEL is not valid"))?;
    Ok(NumberAnswer {
        document: id_card_of(&a.osoba)?,
        holder,
    })
}

/// Parses the drivers register's answer for licence `number` (canonical form).
pub fn parse_licence_by_number(bytes: &[u8], number: &str) -> Result<NumberAnswer, RegistryError> {
    const REGISTER: &str = "drivers";
    let a: LicenceLookup = decode(bytes, REGISTER)?;
    if a.licence_number != number || a.record.licence.licence_number != number {
        return Err(malformed(REGISTER, "the answer is about another licence"));
    }
    let holder = Pesel::parse(&a.holder_pesel)
        .map_err(|_| malformed(REGISTER, "holderPesel is not valid"))?;
    Ok(NumberAnswer {
        document: licence_of(&a.record)?,
        holder,
    })
}
