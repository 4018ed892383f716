//! The common document model: what every register's answer is mapped into,
//! and what the broker cuts down to the fields a purpose allows.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

/// The kinds of document okaz can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    /// Identity card (dowód osobisty), from the persons register.
    IdCard,
    /// Driving licence, from the drivers register.
    DrivingLicence,
    /// Vehicle registration certificate, from the vehicles register.
    VehicleRegistration,
    /// Periodic technical inspection of a vehicle.
    TechnicalInspection,
    /// Compulsory third-party liability (OC) insurance of a vehicle.
    OcInsurance,
    /// University student card.
    StudentId,
    /// Pensioner's card.
    PensionerId,
    /// Large Family Card (Karta Dużej Rodziny).
    LargeFamilyCard,
    /// School pupil's card.
    SchoolId,
}

/// Field name that releases the portrait photo rather than a text field.
pub const PHOTO_FIELD: &str = "photo";

impl DocumentType {
    /// Every document type, in a stable order.
    pub const ALL: [DocumentType; 9] = [
        DocumentType::IdCard,
        DocumentType::DrivingLicence,
        DocumentType::VehicleRegistration,
        DocumentType::TechnicalInspection,
        DocumentType::OcInsurance,
        DocumentType::StudentId,
        DocumentType::PensionerId,
        DocumentType::LargeFamilyCard,
        DocumentType::SchoolId,
    ];

    /// The wire name, as in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentType::IdCard => "id_card",
            DocumentType::DrivingLicence => "driving_licence",
            DocumentType::VehicleRegistration => "vehicle_registration",
            DocumentType::TechnicalInspection => "technical_inspection",
            DocumentType::OcInsurance => "oc_insurance",
            DocumentType::StudentId => "student_id",
            DocumentType::PensionerId => "pensioner_id",
            DocumentType::LargeFamilyCard => "large_family_card",
            DocumentType::SchoolId => "school_id",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Every field a register may give for this document; a purpose can only
    /// release fields from this list (the policy checker enforces it).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            DocumentType::IdCard => &[
                "document_number",
                "given_names",
                "surname",
                "birth_date",
                "age_over_18",
                "sex",
                "citizenship",
                "issue_date",
                "expiry_date",
                "issuing_authority",
                PHOTO_FIELD,
            ],
            DocumentType::DrivingLicence => &[
                "document_number",
                "given_names",
                "surname",
                "birth_date",
                "age_over_18",
                "categories",
                "issue_date",
                "expiry_date",
                "restrictions",
                "suspended_until",
                PHOTO_FIELD,
            ],
            DocumentType::VehicleRegistration => &[
                "document_number",
                "registration_number",
                "vin",
                "make",
                "model",
                "first_registration",
                "issue_date",
                "holder_relation",
            ],
            DocumentType::TechnicalInspection => &[
                "registration_number",
                "vin",
                "inspection_date",
                "next_inspection_due",
                "result",
                "odometer_km",
            ],
            DocumentType::OcInsurance => &[
                "registration_number",
                "insurer",
                "policy_number",
                "valid_from",
                "valid_until",
            ],
            DocumentType::StudentId => &[
                "given_names",
                "surname",
                "university",
                "student_number",
                "expiry_date",
                PHOTO_FIELD,
            ],
            DocumentType::PensionerId => &[
                "given_names",
                "surname",
                "pension_authority",
                "card_number",
                "expiry_date",
                PHOTO_FIELD,
            ],
            DocumentType::LargeFamilyCard => &[
                "given_names",
                "surname",
                "card_number",
                "expiry_date",
                PHOTO_FIELD,
            ],
            DocumentType::SchoolId => &[
                "given_names",
                "surname",
                "school",
                "card_number",
                "expiry_date",
                PHOTO_FIELD,
            ],
        }
    }
}

impl std::fmt::Display for DocumentType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a document may be relied on today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// In force.
    Valid,
    /// Past its expiry date.
    Expired,
    /// Temporarily withdrawn (e.g. a suspended licence).
    Suspended,
    /// Reported lost or stolen by its holder.
    ReportedLost,
    /// Cancelled by the issuer.
    Cancelled,
}

impl DocumentStatus {
    /// Every status, in a stable order.
    pub const ALL: [DocumentStatus; 5] = [
        DocumentStatus::Valid,
        DocumentStatus::Expired,
        DocumentStatus::Suspended,
        DocumentStatus::ReportedLost,
        DocumentStatus::Cancelled,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Valid => "valid",
            DocumentStatus::Expired => "expired",
            DocumentStatus::Suspended => "suspended",
            DocumentStatus::ReportedLost => "reported_lost",
            DocumentStatus::Cancelled => "cancelled",
        }
    }
}

/// One field's value. Dates stay dates so a terminal can format them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Zeroize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Yes/no, e.g. `age_over_18`.
    Flag(bool),
    /// A whole number, e.g. an odometer reading.
    Number(i64),
    /// A list, e.g. licence categories.
    List(Vec<String>),
    /// Text, including ISO dates (`YYYY-MM-DD`).
    Text(String),
}

impl FieldValue {
    /// A date field.
    pub fn date(d: NaiveDate) -> Self {
        FieldValue::Text(d.format("%Y-%m-%d").to_string())
    }
}

/// A portrait photo.
#[derive(Clone, PartialEq, Serialize, Deserialize, Zeroize)]
pub struct Photo {
    /// e.g. `image/png`.
    pub media_type: String,
    /// Base64 of the image bytes.
    pub data: String,
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Photo({}, {} bytes b64)",
            self.media_type,
            self.data.len()
        )
    }
}

/// Where and when a document was fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The register's name, e.g. `persons`.
    pub register: String,
    /// When the broker received it.
    pub fetched_at: DateTime<Utc>,
}

/// A document as fetched live from its register.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Which kind of document.
    #[serde(rename = "type")]
    pub kind: DocumentType,
    /// Its validity today.
    pub status: DocumentStatus,
    /// Field name to value; only names from [`DocumentType::fields`].
    pub fields: BTreeMap<String, FieldValue>,
    /// The holder's portrait, where the document has one and the purpose allows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<Photo>,
    /// The register and time of fetching.
    pub source: Source,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The field names, never their values: a Debug line may reach a log.
        f.debug_struct("Document")
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .field("photo", &self.photo.is_some())
            .finish()
    }
}

impl Document {
    /// Keeps only the named fields (and the photo only if `photo` is named).
    /// Returns the names actually released, for the audit record.
    pub fn restrict<'a>(&mut self, allowed: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let allowed: std::collections::BTreeSet<&str> = allowed.into_iter().collect();
        self.fields.retain(|k, v| {
            let keep = allowed.contains(k.as_str());
            if !keep {
                v.zeroize();
            }
            keep
        });
        if !allowed.contains(PHOTO_FIELD) {
            if let Some(mut p) = self.photo.take() {
                p.zeroize();
            }
        }
        let mut released: Vec<String> = self.fields.keys().cloned().collect();
        if self.photo.is_some() {
            released.push(PHOTO_FIELD.to_string());
        }
        released
    }
}

impl Zeroize for Document {
    fn zeroize(&mut self) {
        for v in self.fields.values_mut() {
            v.zeroize();
        }
        self.fields.clear();
        if let Some(p) = self.photo.as_mut() {
            p.zeroize();
        }
        self.photo = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut fields = BTreeMap::new();
        fields.insert("given_names".into(), FieldValue::Text("Anna".into()));
        fields.insert("birth_date".into(), FieldValue::Text("1990-01-02".into()));
        fields.insert("age_over_18".into(), FieldValue::Flag(true));
        Document {
            kind: DocumentType::IdCard,
            status: DocumentStatus::Valid,
            fields,
            photo: Some(Photo {
                media_type: "image/png".into(),
                data: "AAAA".into(),
            }),
            source: Source {
                register: "persons".into(),
                fetched_at: Utc::now(),
            },
        }
    }

    #[test]
    fn restrict_keeps_only_allowed_fields_and_reports_them() {
        let mut d = sample();
        let released = d.restrict(["age_over_18", "photo"]);
        assert_eq!(
            released,
            vec!["age_over_18".to_string(), "photo".to_string()]
        );
        assert!(!d.fields.contains_key("birth_date"));
        assert!(d.photo.is_some());
        let released = d.restrict(["given_names"]);
        assert!(released.is_empty());
        assert!(d.photo.is_none());
    }

    #[test]
    fn wire_names_round_trip_for_every_type() {
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        for s in DocumentStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn debug_shows_no_values() {
        let d = sample();
        assert!(!format!("{d:?}").contains("Anna"));
    }
}
