//! The state registers, read live: the contact register for the citizen's
//! phone, and the registers that own each document.

use async_trait::async_trait;
use okaz_protocol::{Document, DocumentType, Pesel};

/// A citizen's contact details from the contact register.
#[derive(Clone, Default)]
pub struct Contact {
    /// Mobile number, E.164.
    pub phone: Option<String>,
    /// E-mail or digital-mailbox address, where on record.
    pub email: Option<String>,
    /// The citizen asked not to be contacted this way.
    pub reserved: bool,
}

/// Why a register gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterFailure {
    /// The register holds no such record.
    #[error("no such record in register {0}")]
    NotFound(String),
    /// The register did not answer, answered badly, or its circuit is open.
    #[error("register {register} unavailable: {reason}")]
    Unavailable {
        /// Which register.
        register: String,
        /// Why (never citizen data).
        reason: String,
    },
}

/// What names the subject of a check, once validated.
#[derive(Clone, PartialEq, Eq)]
pub enum Subject {
    /// A person, by PESEL.
    Pesel(Pesel),
    /// A vehicle, by its canonical registration number.
    Plate(String),
    /// An identity card, by its canonical series and number (check digit right).
    IdCardNumber(String),
    /// A driving licence, by its canonical number.
    LicenceNumber(String),
}

impl Subject {
    /// Which kind of subject this is, for policy and logs (never the value).
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::Pesel(_) => "pesel",
            Subject::Plate(_) => "plate",
            Subject::IdCardNumber(_) => "id_card_number",
            Subject::LicenceNumber(_) => "licence_number",
        }
    }
}

impl std::fmt::Debug for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Identifiers never reach logs.
        write!(f, "Subject::{}(<redacted>)", self.kind())
    }
}

/// A document found in its register, and the person it belongs to as the
/// register names them (the owner of a vehicle, where a person).
pub struct Found {
    /// The document, before it is cut to the purpose's fields.
    pub document: Document,
    /// Whose it is, where a person.
    pub owner: Option<Pesel>,
}

/// The state registers, read live.
#[async_trait]
pub trait Registers: Send + Sync {
    /// The citizen's phone, from the contact register.
    async fn contact(&self, pesel: &Pesel) -> Result<Contact, RegisterFailure>;
    /// A document of this kind about the subject, from the register that
    /// owns it. Each subject kind has its own lookup behind this one call.
    async fn document(
        &self,
        subject: &Subject,
        kind: DocumentType,
    ) -> Result<Found, RegisterFailure>;
}
