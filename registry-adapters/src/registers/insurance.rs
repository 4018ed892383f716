//! Insurance register (UFG-like): third-party liability (OC) policies of a
//! vehicle, asked by VIN, in Polish.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, status_with_expiry, text};
use crate::error::RegistryError;

const REGISTER: &str = "insurance";

/// `GET ufg/oc/v1/polisy?vin={vin}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolisyOdpowiedz {
    /// Policies on the vehicle, newest or not.
    pub polisy: Vec<Polisa>,
}

/// One OC policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Polisa {
    /// Insurer.
    pub zaklad: String,
    /// Policy number.
    pub nr_polisy: String,
    /// Plate at the time of the policy.
    pub nr_rejestracyjny: String,
    /// Cover start.
    pub data_od: String,
    /// Cover end.
    pub data_do: String,
    /// State.
    pub stan: StanPolisy,
}

/// Policy state as UFG names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StanPolisy {
    /// In force.
    Aktywna,
    /// Ended by time.
    Wygasla,
    /// Terminated early.
    Rozwiazana,
}

/// Parses UFG's answer into the OC insurance document of the latest policy.
pub fn parse_oc_insurance(bytes: &[u8]) -> Result<Document, RegistryError> {
    let a: PolisyOdpowiedz = decode(bytes, REGISTER)?;
    let mut best = None;
    for p in &a.polisy {
        let from = date(&p.data_od, "dataOd", REGISTER)?;
        let until = date(&p.data_do, "dataDo", REGISTER)?;
        if best.as_ref().is_none_or(|(_, u, _)| until > *u) {
            best = Some((from, until, p));
        }
    }
    let (from, until, p) = best.ok_or(RegistryError::NotFound { register: REGISTER })?;
    let status = match p.stan {
        StanPolisy::Aktywna => DocumentStatus::Valid,
        StanPolisy::Wygasla => DocumentStatus::Expired,
        StanPolisy::Rozwiazana => DocumentStatus::Cancelled,
    };
    document(
        DocumentType::OcInsurance,
        status_with_expiry(status, Some(until)),
        vec![
            (
                "registration_number",
                text(&p.nr_rejestracyjny, "nrRejestracyjny", REGISTER)?,
            ),
            ("insurer", text(&p.zaklad, "zaklad", REGISTER)?),
            ("policy_number", text(&p.nr_polisy, "nrPolisy", REGISTER)?),
            ("valid_from", FieldValue::date(from)),
            ("valid_until", FieldValue::date(until)),
        ],
        None,
        REGISTER,
    )
}
