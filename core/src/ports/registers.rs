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
    Plate(Plate),
    /// An identity card, by its canonical series and number (check digit right).
    IdCardNumber(IdCardNumber),
    /// A driving licence, by its canonical number.
    LicenceNumber(LicenceNumber),
}

/// Declares a canonical identifier: a string that only its parser makes,
/// so a value of the type is one that was validated once, at the edge.
macro_rules! canonical {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The canonical form, for the register's lookup.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Identifiers never reach logs.
                write!(f, "{}(<redacted>)", stringify!($name))
            }
        }
    };
}

canonical!(
    /// A registration number in canonical form (`WA1234X`).
    Plate
);
canonical!(
    /// An identity card number in canonical form, its check digit right.
    IdCardNumber
);
canonical!(
    /// A driving licence number in canonical form (`01234/19/1465`).
    LicenceNumber
);

impl Plate {
    /// A plate as typed, normalised; `None` for anything not a plate.
    pub fn parse(typed: &str) -> Option<Self> {
        okaz_protocol::plate::normalise(typed).map(Self)
    }
}

impl IdCardNumber {
    /// An identity card number as typed, canonical and its check digit right.
    pub fn parse(typed: &str) -> Result<Self, okaz_protocol::docnumber::DocumentNumberError> {
        okaz_protocol::docnumber::id_card(typed).map(Self)
    }
}

impl LicenceNumber {
    /// A driving licence number as typed, in canonical form.
    pub fn parse(typed: &str) -> Result<Self, okaz_protocol::docnumber::DocumentNumberError> {
        okaz_protocol::docnumber::licence(typed).map(Self)
    }
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
