//! Vehicles register (CEPIK-like): the vehicles a person holds, each with its
//! registration certificate and inspection history. Two documents come from
//! this one answer: the registration and the latest technical inspection.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, malformed, text, today};
use crate::error::RegistryError;

const REGISTER: &str = "vehicles";

/// `GET cepik/pojazdy/v1/wlasciciele/{pesel}/pojazdy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VehiclesAnswer {
    /// Vehicles in the register's order (first = primary).
    pub vehicles: Vec<Vehicle>,
}

/// One vehicle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Vehicle {
    /// VIN with its check digit.
    pub vin: String,
    /// Plate, e.g. `WA12345`.
    pub registration_number: String,
    /// Make.
    pub make: String,
    /// Model.
    pub model: String,
    /// First registration date.
    pub first_registration_date: String,
    /// How the person relates to the vehicle.
    pub ownership: Ownership,
    /// The registration certificate.
    pub registration_document: RegistrationDocument,
    /// Inspections, any order.
    pub inspections: Vec<Inspection>,
}

/// Relation of the person to the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Ownership {
    /// Sole owner.
    Owner,
    /// One of several owners.
    CoOwner,
    /// Registered user (e.g. leasing).
    User,
}

/// Registration certificate (dowód rejestracyjny).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegistrationDocument {
    /// Series and number, e.g. `DR/BAT/1234567`.
    pub series: String,
    /// Issue date.
    pub issue_date: String,
    /// State.
    pub state: RegistrationState,
}

/// Registration certificate state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationState {
    /// In force.
    Valid,
    /// A temporary certificate past its date.
    TemporaryExpired,
    /// Retained by the police (zatrzymany).
    Retained,
    /// Vehicle deregistered.
    Cancelled,
    /// Reported lost.
    Lost,
}

/// One periodic technical inspection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Inspection {
    /// Date of the inspection.
    pub date: String,
    /// When the next one is due.
    pub next_due: String,
    /// Result.
    pub result: InspectionResult,
    /// Odometer reading.
    pub odometer_km: i64,
}

/// Inspection outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionResult {
    /// Passed.
    Positive,
    /// Failed: the vehicle may not be driven.
    Negative,
}

fn first(bytes: &[u8]) -> Result<Vehicle, RegistryError> {
    let a: VehiclesAnswer = decode(bytes, REGISTER)?;
    let v = a
        .vehicles
        .into_iter()
        .next()
        .ok_or(RegistryError::NotFound { register: REGISTER })?;
    if !crate::ids::vin_valid(&v.vin) {
        return Err(malformed(REGISTER, "VIN fails its check digit"));
    }
    Ok(v)
}

/// The first vehicle of a vehicles answer, exposed for the insurance lookup.
pub fn first_vehicle(bytes: &[u8]) -> Result<Vehicle, RegistryError> {
    first(bytes)
}

/// Parses the vehicles answer into the first vehicle's registration document.
pub fn parse_vehicle_registration(bytes: &[u8]) -> Result<Document, RegistryError> {
    registration_of(&first(bytes)?)
}

/// Parses the vehicles answer into the first vehicle's latest inspection.
pub fn parse_technical_inspection(bytes: &[u8]) -> Result<Document, RegistryError> {
    inspection_of(&first(bytes)?)
}

/// The registration document of one vehicle (whichever answer it came from;
/// the by-plate lookup maps its own shape into [`Vehicle`] and comes here).
pub(crate) fn registration_of(v: &Vehicle) -> Result<Document, RegistryError> {
    let r = &v.registration_document;
    let first_reg = date(
        &v.first_registration_date,
        "firstRegistrationDate",
        REGISTER,
    )?;
    let issued = date(&r.issue_date, "issueDate", REGISTER)?;
    let status = match r.state {
        RegistrationState::Valid => DocumentStatus::Valid,
        RegistrationState::TemporaryExpired => DocumentStatus::Expired,
        RegistrationState::Retained => DocumentStatus::Suspended,
        RegistrationState::Cancelled => DocumentStatus::Cancelled,
        RegistrationState::Lost => DocumentStatus::ReportedLost,
    };
    let relation = match v.ownership {
        Ownership::Owner => "owner",
        Ownership::CoOwner => "co_owner",
        Ownership::User => "user",
    };
    document(
        DocumentType::VehicleRegistration,
        status,
        vec![
            ("document_number", text(&r.series, "series", REGISTER)?),
            (
                "registration_number",
                text(&v.registration_number, "registrationNumber", REGISTER)?,
            ),
            ("vin", FieldValue::Text(v.vin.clone())),
            ("make", text(&v.make, "make", REGISTER)?),
            ("model", text(&v.model, "model", REGISTER)?),
            ("first_registration", FieldValue::date(first_reg)),
            ("issue_date", FieldValue::date(issued)),
            ("holder_relation", FieldValue::Text(relation.into())),
        ],
        None,
        REGISTER,
    )
}

/// The latest inspection of one vehicle; `NotFound` if it never had one.
pub(crate) fn inspection_of(v: &Vehicle) -> Result<Document, RegistryError> {
    let mut latest = None;
    for i in &v.inspections {
        let d = date(&i.date, "date", REGISTER)?;
        let due = date(&i.next_due, "nextDue", REGISTER)?;
        if i.odometer_km < 0 {
            return Err(malformed(REGISTER, "negative odometer reading"));
        }
        if latest.as_ref().is_none_or(|(ld, _, _)| d > *ld) {
            latest = Some((d, due, i));
        }
    }
    let (d, due, i) = latest.ok_or(RegistryError::NotFound { register: REGISTER })?;
    let status = match i.result {
        // A failed inspection withdraws the vehicle's right to the road.
        InspectionResult::Negative => DocumentStatus::Cancelled,
        InspectionResult::Positive if due < today() => DocumentStatus::Expired,
        InspectionResult::Positive => DocumentStatus::Valid,
    };
    let result = match i.result {
        InspectionResult::Positive => "positive",
        InspectionResult::Negative => "negative",
    };
    document(
        DocumentType::TechnicalInspection,
        status,
        vec![
            (
                "registration_number",
                text(&v.registration_number, "registrationNumber", REGISTER)?,
            ),
            ("vin", FieldValue::Text(v.vin.clone())),
            ("inspection_date", FieldValue::date(d)),
            ("next_inspection_due", FieldValue::date(due)),
            ("result", FieldValue::Text(result.into())),
            ("odometer_km", FieldValue::Number(i.odometer_km)),
        ],
        None,
        REGISTER,
    )
}
