//! PESEL, the Polish national identification number: `YYMMDDZZZXQ`, where the
//! month also encodes the century, `X` the sex and `Q` a check digit.
//!
//! A PESEL is personal data. [`Pesel`] never prints itself: its `Debug` is
//! redacted and it has no `Display`, so it cannot slip into a log line by
//! accident. Code that must show it calls [`Pesel::expose`] on purpose.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

const WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];

/// Why a string is not a PESEL; the message tells a clerk what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeselError {
    /// Not exactly eleven characters.
    #[error("a PESEL has 11 digits")]
    Length,
    /// Something other than a digit.
    #[error("a PESEL has digits only")]
    NotDigits,
    /// The first six digits are not a calendar date.
    #[error("the birth date in this PESEL does not exist")]
    BirthDate,
    /// The last digit does not match the others: usually a typo.
    #[error("the check digit does not match: check for a typo")]
    CheckDigit,
}

/// Biological sex as encoded in the tenth digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Odd tenth digit.
    Male,
    /// Even tenth digit.
    Female,
}

/// A PESEL whose length, date and check digit are valid.
#[derive(Clone, PartialEq, Eq, Hash, Zeroize)]
pub struct Pesel([u8; 11]);

impl std::fmt::Debug for Pesel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pesel(<redacted>)")
    }
}

impl Pesel {
    /// Parses and validates a PESEL typed by a person (surrounding spaces allowed).
    pub fn parse(input: &str) -> Result<Self, PeselError> {
        let s = input.trim();
        if s.chars().count() != 11 {
            return Err(PeselError::Length);
        }
        let mut digits = [0u8; 11];
        for (slot, c) in digits.iter_mut().zip(s.chars()) {
            *slot = c.to_digit(10).ok_or(PeselError::NotDigits)? as u8;
        }
        let pesel = Pesel(digits);
        pesel.birth_date().ok_or(PeselError::BirthDate)?;
        if check_digit(&digits) != digits[10] {
            return Err(PeselError::CheckDigit);
        }
        Ok(pesel)
    }

    /// Builds the PESEL of someone born on `birth_date` with the given serial
    /// number (0..=999) and sex; `None` outside the years 1800..=2299.
    pub fn compose(birth_date: NaiveDate, serial: u16, sex: Sex) -> Option<Self> {
        let year = birth_date.year();
        let century_offset = match year {
            1800..=1899 => 80,
            1900..=1999 => 0,
            2000..=2099 => 20,
            2100..=2199 => 40,
            2200..=2299 => 60,
            _ => return None,
        };
        let yy = (year % 100) as u32;
        let mm = birth_date.month() + century_offset;
        let dd = birth_date.day();
        let serial = u32::from(serial % 1000);
        let sex_digit = match sex {
            Sex::Male => 1 + 2 * (serial % 5),
            Sex::Female => 2 * (serial % 5),
        };
        let mut d = [0u8; 11];
        let parts = [yy / 10, yy % 10, mm / 10, mm % 10, dd / 10, dd % 10];
        for (i, v) in parts.iter().enumerate() {
            d[i] = *v as u8;
        }
        d[6] = (serial / 100) as u8;
        d[7] = (serial / 10 % 10) as u8;
        d[8] = (serial % 10) as u8;
        d[9] = sex_digit as u8;
        d[10] = check_digit(&d);
        Some(Pesel(d))
    }

    /// The eleven digits, for the few places that must send them on: the
    /// register request and the pseudonym. Never log the result.
    pub fn expose(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    /// The birth date encoded in the first six digits, if it is a real date.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        let d = &self.0;
        let yy = i32::from(d[0] * 10 + d[1]);
        let mm_raw = u32::from(d[2] * 10 + d[3]);
        let dd = u32::from(d[4] * 10 + d[5]);
        let (century, month) = match mm_raw {
            1..=12 => (1900, mm_raw),
            21..=32 => (2000, mm_raw - 20),
            41..=52 => (2100, mm_raw - 40),
            61..=72 => (2200, mm_raw - 60),
            81..=92 => (1800, mm_raw - 80),
            _ => return None,
        };
        NaiveDate::from_ymd_opt(century + yy, month, dd)
    }

    /// The sex encoded in the tenth digit.
    pub fn sex(&self) -> Sex {
        if self.0[9] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

/// The check digit of the first ten digits.
pub fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Live feedback while a PESEL is being typed: `None` while it is still
/// incomplete but plausible, `Some(result)` once it can be judged.
pub fn feedback(partial: &str) -> Option<Result<(), PeselError>> {
    let s = partial.trim();
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return Some(Err(PeselError::NotDigits));
    }
    match s.len() {
        n if n < 11 => None,
        11 => Some(Pesel::parse(s).map(|_| ())),
        _ => Some(Err(PeselError::Length)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_pesels_parse() {
        // Published examples with correct check digits.
        for p in ["44051401359", "02070803628", "90090515836"] {
            assert!(Pesel::parse(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn each_kind_of_error_is_named() {
        assert_eq!(Pesel::parse("4405140135"), Err(PeselError::Length));
        assert_eq!(Pesel::parse("4405140135a"), Err(PeselError::NotDigits));
        assert_eq!(Pesel::parse("44053201359"), Err(PeselError::BirthDate));
        assert_eq!(Pesel::parse("44051401358"), Err(PeselError::CheckDigit));
    }

    #[test]
    fn century_is_read_from_the_month() {
        let p = Pesel::parse("02270803624").map(|p| p.birth_date());
        assert_eq!(p, Ok(NaiveDate::from_ymd_opt(2002, 7, 8)));
    }

    #[test]
    fn debug_never_shows_the_digits() {
        let p = Pesel::parse("44051401359").unwrap();
        assert!(!format!("{p:?}").contains("4405"));
    }

    #[test]
    fn feedback_waits_for_eleven_digits() {
        assert_eq!(feedback("4405"), None);
        assert_eq!(feedback("44x"), Some(Err(PeselError::NotDigits)));
        assert_eq!(feedback("44051401359"), Some(Ok(())));
        assert_eq!(feedback("44051401358"), Some(Err(PeselError::CheckDigit)));
    }

    proptest! {
        #[test]
        fn composed_pesels_validate_and_round_trip(
            days in 0i64..(400 * 365), serial in 0u16..1000, male in any::<bool>()
        ) {
            let base = NaiveDate::from_ymd_opt(1850, 1, 1).unwrap();
            let date = base + chrono::Duration::days(days);
            let sex = if male { Sex::Male } else { Sex::Female };
            let p = Pesel::compose(date, serial, sex).unwrap();
            let parsed = Pesel::parse(&p.expose()).unwrap();
            prop_assert_eq!(parsed.birth_date(), Some(date));
            prop_assert_eq!(parsed.sex(), sex);
        }

        #[test]
        fn a_single_changed_digit_is_caught(idx in 0usize..11, delta in 1u8..10) {
            let p = Pesel::parse("44051401359").unwrap().expose();
            let mut b = p.into_bytes();
            b[idx] = b'0' + (b[idx] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            prop_assert!(Pesel::parse(&s).is_err());
        }
    }
}
