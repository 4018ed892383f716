//! Students register (POL-on-like): snake_case results list.

use okaz_protocol::{Document, DocumentStatus, DocumentType, FieldValue};
use serde::{Deserialize, Serialize};

use super::{date, decode, document, png_photo, status_with_expiry, text};
use crate::error::RegistryError;

const REGISTER: &str = "students";

/// `GET polon/api/v1/students?pesel={pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentsAnswer {
    /// Matching student records (at most one in practice).
    pub results: Vec<Student>,
}

/// One student record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Student {
    /// Album number.
    pub student_number: String,
    /// University name.
    pub university: String,
    /// Given names.
    pub first_name: String,
    /// Surname.
    pub last_name: String,
    /// The electronic student card.
    pub card: StudentCard,
    /// Portrait, base64 PNG.
    pub photo_png_b64: Option<String>,
}

/// The student card.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudentCard {
    /// Valid until.
    pub valid_until: String,
    /// State.
    pub state: StudentCardState,
}

/// Student card state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StudentCardState {
    /// In force.
    Active,
    /// Not renewed this semester.
    Expired,
    /// Studies ended or card withdrawn.
    Cancelled,
    /// Reported lost.
    Lost,
}

/// Parses the students register's answer.
pub fn parse_student_id(bytes: &[u8]) -> Result<Document, RegistryError> {
    let a: StudentsAnswer = decode(bytes, REGISTER)?;
    let s = a
        .results
        .first()
        .ok_or(RegistryError::NotFound { register: REGISTER })?;
    let expiry = date(&s.card.valid_until, "valid_until", REGISTER)?;
    let status = match s.card.state {
        StudentCardState::Active => DocumentStatus::Valid,
        StudentCardState::Expired => DocumentStatus::Expired,
        StudentCardState::Cancelled => DocumentStatus::Cancelled,
        StudentCardState::Lost => DocumentStatus::ReportedLost,
    };
    let photo = s
        .photo_png_b64
        .as_deref()
        .map(|p| png_photo(p, REGISTER))
        .transpose()?;
    document(
        DocumentType::StudentId,
        status_with_expiry(status, Some(expiry)),
        vec![
            ("given_names", text(&s.first_name, "first_name", REGISTER)?),
            ("surname", text(&s.last_name, "last_name", REGISTER)?),
            ("university", text(&s.university, "university", REGISTER)?),
            (
                "student_number",
                text(&s.student_number, "student_number", REGISTER)?,
            ),
            ("expiry_date", FieldValue::date(expiry)),
        ],
        photo,
        REGISTER,
    )
}
