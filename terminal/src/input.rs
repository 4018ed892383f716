//! One-line text fields whose contents never outlive them.
//!
//! The buffer is allocated once at its maximum length and never grows, so no
//! stale copy of a PESEL, password or code is left behind by a reallocation;
//! it is zeroized on `clear` and on drop.

use zeroize::Zeroize;

use crate::msg::Key;

/// Which characters a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Any printable character.
    Any,
    /// ASCII digits only.
    Digits,
    /// Digits and `-`, for `YYYY-MM-DD`.
    Date,
}

/// A one-line input.
#[derive(Debug)]
pub struct TextField {
    value: String,
    max: usize,
    charset: Charset,
    secret: bool,
}

impl TextField {
    /// The most characters it takes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// An empty field of at most `max` characters.
    pub fn new(max: usize, charset: Charset) -> Self {
        TextField {
            // Room for `max` characters of up to 4 bytes: never reallocates.
            value: String::with_capacity(max * 4),
            max,
            charset,
            secret: false,
        }
    }

    /// The same field, shown masked.
    pub fn secret(mut self) -> Self {
        self.secret = true;
        self
    }

    /// Applies an editing key; `true` when the key was used.
    pub fn input(&mut self, key: Key) -> bool {
        match key {
            Key::Char(c) => {
                let ok = match self.charset {
                    Charset::Any => !c.is_control(),
                    Charset::Digits => c.is_ascii_digit(),
                    Charset::Date => c.is_ascii_digit() || c == '-',
                };
                if ok && self.value.chars().count() < self.max {
                    self.value.push(c);
                }
                true
            }
            Key::Backspace => {
                self.value.pop();
                true
            }
            _ => false,
        }
    }

    /// What was typed.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether nothing was typed.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// What the screen shows: dots for a secret field.
    pub fn shown(&self) -> String {
        if self.secret {
            "•".repeat(self.value.chars().count())
        } else {
            self.value.clone()
        }
    }

    /// Wipes the contents.
    pub fn clear(&mut self) {
        // Zeroize truncates too; the capacity stays for the next input.
        self.value.zeroize();
    }
}

impl Drop for TextField {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_field_refuses_letters_and_stops_at_max() {
        let mut f = TextField::new(3, Charset::Digits);
        for c in "1a2345".chars() {
            f.input(Key::Char(c));
        }
        assert_eq!(f.value(), "123");
        f.input(Key::Backspace);
        assert_eq!(f.value(), "12");
    }

    #[test]
    fn secret_is_masked_and_clear_empties() {
        let mut f = TextField::new(8, Charset::Any).secret();
        f.input(Key::Char('x'));
        f.input(Key::Char('y'));
        assert_eq!(f.shown(), "••");
        f.clear();
        assert!(f.is_empty());
    }
}
