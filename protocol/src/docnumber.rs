//! Document numbers that name a subject: the Polish identity card's series
//! and number (with its check digit) and the driving licence number, as
//! typed and in canonical form. Shared by the terminal (live validation),
//! the broker (refusal before anything is counted) and the registers.

use crate::document::DocumentType;

/// Longest input looked at: anything longer is refused unread.
const MAX_INPUT: usize = 64;

/// Weights of the identity card check digit, over the three letters and the
/// five digits after the check digit.
const ID_WEIGHTS: [u32; 8] = [7, 3, 1, 7, 3, 1, 7, 3];

/// Why a typed document number is refused, in words a terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentNumberError {
    /// Not three letters followed by six digits.
    #[error("an identity card number is three letters and six digits, e.g. ABA300000")]
    IdCardShape,
    /// The fourth character is not the check digit of the others.
    #[error("the identity card number fails its check digit: check it for a typo")]
    IdCardCheckDigit,
    /// Not `NNNNN/NN/NNNN`.
    #[error(
        "a driving licence number is five digits, two digits and four digits, e.g. 01234/19/1465"
    )]
    LicenceShape,
}

/// Value of a character in the identity card scheme: digits 0-9, A=10..Z=35.
fn id_char_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The check digit (position 4) of an identity card number from its three
/// letters and the five digits after the check digit.
pub fn id_card_check_digit(letters: &[u8; 3], digits: &[u8; 5]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in letters.iter().chain(digits.iter()).zip(ID_WEIGHTS) {
        sum += id_char_value(*c)? * w;
    }
    Some((sum % 10) as u8)
}

/// An identity card number as typed (`aba 300000`) in canonical form
/// (`ABA300000`): spaces removed, letters upper-cased, then three letters,
/// the check digit and five digits, the check digit right.
pub fn id_card(input: &str) -> Result<String, DocumentNumberError> {
    if input.len() > MAX_INPUT {
        return Err(DocumentNumberError::IdCardShape);
    }
    let s: String = input
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = s.as_bytes();
    if b.len() != 9
        || !b[..3].iter().all(u8::is_ascii_uppercase)
        || !b[3..].iter().all(u8::is_ascii_digit)
    {
        return Err(DocumentNumberError::IdCardShape);
    }
    let letters = [b[0], b[1], b[2]];
    let digits = [b[4], b[5], b[6], b[7], b[8]];
    if id_card_check_digit(&letters, &digits) != Some(b[3] - b'0') {
        return Err(DocumentNumberError::IdCardCheckDigit);
    }
    Ok(s)
}

/// A driving licence number as typed (`01234 / 19 / 1465`) in canonical
/// form (`01234/19/1465`): spaces removed, then five, two and four digits
/// separated by slashes, as the drivers register issues them.
pub fn licence(input: &str) -> Result<String, DocumentNumberError> {
    if input.len() > MAX_INPUT {
        return Err(DocumentNumberError::LicenceShape);
    }
    let s: String = input.chars().filter(|c| *c != ' ').collect();
    let groups: Vec<&str> = s.split('/').collect();
    let shaped = groups.len() == 3
        && groups
            .iter()
            .zip([5, 2, 4])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_digit()));
    if shaped {
        Ok(s)
    } else {
        Err(DocumentNumberError::LicenceShape)
    }
}

/// The one document an identity card number names.
pub const ID_CARD_DOCUMENTS: [DocumentType; 1] = [DocumentType::IdCard];

/// The one document a driving licence number names.
pub const LICENCE_DOCUMENTS: [DocumentType; 1] = [DocumentType::DrivingLicence];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_id_card_example_validates_and_typos_do_not() {
        assert_eq!(id_card("ABA300000"), Ok("ABA300000".to_string()));
        assert_eq!(id_card(" aba 300000 "), Ok("ABA300000".to_string()));
        assert_eq!(
            id_card("ABA400000"),
            Err(DocumentNumberError::IdCardCheckDigit)
        );
        assert_eq!(id_card("ABA30000"), Err(DocumentNumberError::IdCardShape));
        assert_eq!(id_card("AB1300000"), Err(DocumentNumberError::IdCardShape));
        assert_eq!(id_card("ĄBA300000"), Err(DocumentNumberError::IdCardShape));
        assert_eq!(id_card(""), Err(DocumentNumberError::IdCardShape));
    }

    #[test]
    fn every_single_digit_typo_of_a_valid_number_is_caught() {
        // The check digit's weights (7, 3, 1) are prime to 10, so changing any
        // one digit changes the sum mod 10.
        let good = "ABA300000";
        for pos in 3..9 {
            for d in b'0'..=b'9' {
                let mut b = good.as_bytes().to_vec();
                if b[pos] == d {
                    continue;
                }
                b[pos] = d;
                let typo = String::from_utf8(b).unwrap();
                assert!(id_card(&typo).is_err(), "{typo}");
            }
        }
    }

    #[test]
    fn licence_numbers_have_their_three_groups() {
        assert_eq!(licence("01234/19/1465"), Ok("01234/19/1465".to_string()));
        assert_eq!(
            licence("01234 / 19 / 1465"),
            Ok("01234/19/1465".to_string())
        );
        for bad in [
            "0123/19/1465",
            "01234-19-1465",
            "01234/19/146a",
            "01234/19",
            "",
        ] {
            assert_eq!(
                licence(bad),
                Err(DocumentNumberError::LicenceShape),
                "{bad}"
            );
        }
    }
}
