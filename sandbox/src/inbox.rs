//! The phones' inboxes of the sandbox SMS gateway, bounded in memory.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

/// Messages kept per phone.
const PER_PHONE: usize = 50;
/// Phones kept; the phone that first received a message is forgotten first.
const PHONES: usize = 100_000;

/// One received SMS.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Message {
    /// When the gateway accepted it (RFC 3339).
    pub received_at: String,
    /// The text.
    pub text: String,
}

/// All inboxes.
#[derive(Debug, Default)]
pub struct Inboxes {
    by_phone: HashMap<String, VecDeque<Message>>,
    order: VecDeque<String>,
}

/// `+48601234567`, `0048601234567` and `48601234567` are the same phone.
pub fn normalise(msisdn: &str) -> Option<String> {
    let s = msisdn.trim();
    let s = s
        .strip_prefix('+')
        .or_else(|| s.strip_prefix("00"))
        .unwrap_or(s);
    ((8..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.to_string())
}

/// An e-mail address as a mailbox key: trimmed, lower-case, one `@`.
pub fn normalise_address(address: &str) -> Option<String> {
    let a = address.trim().to_ascii_lowercase();
    let (local, domain) = a.split_once('@')?;
    let ok = !local.is_empty() && domain.contains('.') && !domain.contains('@') && a.len() <= 254;
    ok.then_some(a)
}

impl Inboxes {
    /// Stores a message for a normalised number.
    pub fn deliver(&mut self, phone: String, text: String, at: String) {
        if !self.by_phone.contains_key(&phone) {
            if self.order.len() >= PHONES {
                if let Some(old) = self.order.pop_front() {
                    self.by_phone.remove(&old);
                }
            }
            self.order.push_back(phone.clone());
        }
        let inbox = self.by_phone.entry(phone).or_default();
        if inbox.len() >= PER_PHONE {
            inbox.pop_front();
        }
        inbox.push_back(Message {
            received_at: at,
            text,
        });
    }

    /// Messages of a normalised number, oldest first.
    pub fn messages(&self, phone: &str) -> Vec<Message> {
        self.by_phone
            .get(phone)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_bounded_and_numbers_normalise() {
        let mut i = Inboxes::default();
        for n in 0..60 {
            i.deliver("48601234567".into(), format!("m{n}"), "t".into());
        }
        let m = i.messages(&normalise("+48601234567").unwrap());
        assert_eq!(m.len(), PER_PHONE);
        assert_eq!(m[0].text, "m10");
        assert_eq!(normalise("0048601234567").as_deref(), Some("48601234567"));
        assert_eq!(normalise("abc"), None);
    }
}
