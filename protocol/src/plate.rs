//! Vehicle registration numbers (plates), as typed and in canonical form.

use crate::document::DocumentType;

/// Documents a plate can name: those of the vehicle, never of a person.
pub const DOCUMENTS: [DocumentType; 3] = [
    DocumentType::VehicleRegistration,
    DocumentType::TechnicalInspection,
    DocumentType::OcInsurance,
];

/// Longest registration number accepted (Polish plates have 7 or 8 characters;
/// shorter ones exist for custom and historic plates).
pub const MAX_LEN: usize = 8;

/// A registration number as typed (`wa 1234x`) in its canonical form
/// (`WA1234X`): spaces removed, ASCII letters upper-cased, then 1 to
/// [`MAX_LEN`] of `A-Z0-9`. `None` for anything else, so nothing of
/// another shape ever reaches a register.
pub fn normalise(input: &str) -> Option<String> {
    // Bounded before any work: the input may come straight from a request.
    if input.len() > 64 {
        return None;
    }
    let plate: String = input
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let shaped = (1..=MAX_LEN).contains(&plate.len())
        && plate
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    shaped.then_some(plate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_are_canonicalised_or_refused() {
        assert_eq!(normalise(" wa 1234x "), Some("WA1234X".to_string()));
        assert_eq!(normalise("WA-1234"), None);
        assert_eq!(normalise(""), None);
        assert_eq!(normalise("ABCDEFGHJ"), None);
        assert_eq!(normalise("WĄ1234"), None);
    }
}
