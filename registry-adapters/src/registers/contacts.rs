//! Contact and reservation register (KRR-like): phone, e-mail and whether
//! the citizen reserved against contact by public bodies.

use serde::{Deserialize, Serialize};

use super::{date, decode, malformed};
use crate::client::Contact;
use crate::error::RegistryError;

const REGISTER: &str = "contacts";

/// `GET krr/api/v1/kontakty/{pesel}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Kontakt {
    /// Mobile phone in E.164, if on record.
    pub telefon: Option<String>,
    /// E-mail, if on record.
    pub email: Option<String>,
    /// The citizen reserved against electronic contact.
    pub zastrzezenie: bool,
    /// Last update of the record.
    pub data_aktualizacji: String,
}

/// Whether `s` is an E.164 number: `+`, then 8 to 15 digits, no leading zero.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// Parses the contact register's answer.
pub fn parse_contact(bytes: &[u8]) -> Result<Contact, RegistryError> {
    let k: Kontakt = decode(bytes, REGISTER)?;
    date(&k.data_aktualizacji, "dataAktualizacji", REGISTER)?;
    if let Some(p) = k.telefon.as_deref() {
        if !is_e164(p) {
            return Err(malformed(REGISTER, "telefon is not E.164"));
        }
    }
    if let Some(e) = k.email.as_deref() {
        let ok = e.len() <= 254
            && e.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
        if !ok {
            return Err(malformed(REGISTER, "email is not an address"));
        }
    }
    Ok(Contact {
        phone: k.telefon,
        email: k.email,
        reserved: k.zastrzezenie,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_is_checked() {
        assert!(is_e164("+48601234567"));
        assert!(!is_e164("48601234567"));
        assert!(!is_e164("+48 601"));
        assert!(!is_e164("+0123456789"));
    }
}
