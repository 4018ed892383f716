//! Check digits of the document numbers the registers give: Polish identity
//! card numbers and VINs. Used by the adapters to validate answers and by the
//! sandbox to generate valid numbers.

/// Value of a character in the identity card scheme: digits 0-9, A=10..Z=35.
fn id_char_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

const ID_WEIGHTS: [u32; 8] = [7, 3, 1, 7, 3, 1, 7, 3];

/// The check digit (position 4) of an identity card number from its three
/// letters and the five digits after the check digit.
pub fn id_card_check_digit(letters: &[u8; 3], digits: &[u8; 5]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in letters.iter().chain(digits.iter()).zip(ID_WEIGHTS) {
        sum += id_char_value(*c)? * w;
    }
    Some((sum % 10) as u8)
}

/// Builds `AAA` + check digit + five digits.
pub fn id_card_number(letters: [u8; 3], number: u32) -> Option<String> {
    if !letters.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let five = format!("{:05}", number % 100_000);
    let mut digits = [0u8; 5];
    digits.copy_from_slice(five.as_bytes());
    let check = id_card_check_digit(&letters, &digits)?;
    let mut s = String::with_capacity(9);
    s.extend(letters.iter().map(|b| char::from(*b)));
    s.push(char::from(b'0' + check));
    s.push_str(&five);
    Some(s)
}

/// Whether `s` is `AAA999999` with a correct check digit in position 4.
pub fn id_card_number_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 9
        || !b[..3].iter().all(u8::is_ascii_uppercase)
        || !b[3..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let letters = [b[0], b[1], b[2]];
    let digits = [b[4], b[5], b[6], b[7], b[8]];
    id_card_check_digit(&letters, &digits) == Some(b[3] - b'0')
}

/// Value of a VIN character under ISO 3779 transliteration; I, O, Q are not allowed.
fn vin_value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None,
    })
}

const VIN_WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// The check character (position 9) of a 17-character VIN.
pub fn vin_check_char(vin: &[u8]) -> Option<u8> {
    if vin.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in vin.iter().zip(VIN_WEIGHTS) {
        sum += vin_value(*c)? * w;
    }
    Some(match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    })
}

/// Whether `s` is a 17-character VIN whose position 9 is its check digit.
pub fn vin_valid(s: &str) -> bool {
    let b = s.as_bytes();
    vin_check_char(b).is_some_and(|c| b[8] == c)
}

/// Sets position 9 of a 17-character VIN to its check character.
pub fn vin_with_check(mut vin: [u8; 17]) -> Option<String> {
    vin[8] = b'0';
    vin[8] = vin_check_char(&vin)?;
    String::from_utf8(vin.to_vec()).ok()
}

/// Plates are validated where they are typed (terminal, broker) by the same
/// rule as here, so the rule lives in the wire-types crate.
pub use okaz_protocol::plate::{normalise as normalise_plate, MAX_LEN as PLATE_MAX_LEN};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_id_card_example_validates() {
        // ABA300000 is the example commonly used to explain the scheme.
        assert!(id_card_number_valid("ABA300000"));
        assert!(!id_card_number_valid("ABA400000"));
        assert_eq!(id_card_number(*b"ABA", 0).as_deref(), Some("ABA300000"));
    }

    #[test]
    fn published_vin_example_validates() {
        // The worked example in the North American check-digit description.
        assert!(vin_valid("1M8GDM9AXKP042788"));
        assert!(!vin_valid("1M8GDM9A1KP042788"));
        assert!(!vin_valid("1M8GDM9AXKP04278"));
    }

    #[test]
    fn plates_are_normalised_or_refused() {
        assert_eq!(normalise_plate("wa 1234x").as_deref(), Some("WA1234X"));
        assert_eq!(normalise_plate(" KR12345 ").as_deref(), Some("KR12345"));
        assert_eq!(normalise_plate("A").as_deref(), Some("A"));
        assert_eq!(normalise_plate("WPI12345").as_deref(), Some("WPI12345"));
        for bad in [
            "",
            "   ",
            "WPI123456",
            "WA-1234",
            "WA\t1234",
            "ŁD12345",
            "wa_1234",
            "WA1234\n",
        ] {
            assert_eq!(normalise_plate(bad), None, "{bad:?}");
        }
        assert_eq!(normalise_plate(&" ".repeat(100)), None);
    }
}
