//! Bundles: several documents asked for as one check (e.g. a traffic stop:
//! the driver's licence and the vehicle's registration, inspection and
//! insurance). A bundle is counted once and audited once; each part is
//! still authorised, and cut to its purpose's fields, as a check of its own.

use okaz_protocol::document::DocumentType;
use serde::Deserialize;

/// Most parts a bundle may have: every document type once.
pub const MAX_PARTS: usize = 9;

/// What names a part's subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartSubject {
    /// The person checked, by PESEL.
    Person,
    /// The vehicle, by its plate (vehicle documents only).
    Vehicle,
}

/// One document of a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePart {
    /// The document.
    pub document: DocumentType,
    /// The purpose whose fields it releases.
    pub purpose: String,
    /// Whose document it is.
    pub subject: PartSubject,
}

/// A named set of documents checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Shown to officers.
    pub description: String,
    /// The documents, in the order shown.
    pub parts: Vec<BundlePart>,
}

impl Bundle {
    /// Whether any part is named by a plate.
    pub fn needs_plate(&self) -> bool {
        self.parts.iter().any(|p| p.subject == PartSubject::Vehicle)
    }

    /// Whether any part is named by a PESEL.
    pub fn needs_pesel(&self) -> bool {
        self.parts.iter().any(|p| p.subject == PartSubject::Person)
    }
}
