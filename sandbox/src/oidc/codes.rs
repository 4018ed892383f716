//! One-time authorization codes: what each is bound to, expiry and single
//! use. Pure over `now` (seconds since the Unix epoch) so expiry is testable.

use std::collections::HashMap;

use okaz_registry::eid::pkce_challenge;

/// How long a code may wait for its exchange. Short, because the exchange
/// follows the redirect at once; RFC 6749 4.1.2 recommends at most 10 minutes.
pub(crate) const CODE_TTL_SECS: i64 = 60;

/// Codes held at once: a bound on memory whatever a client does.
const MAX_CODES: usize = 10_000;

/// What a code was issued for; the token request must match it.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: String,
    /// The citizen's index in the population (the PESEL is derived again at
    /// exchange time rather than kept here).
    pub citizen: u64,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// Why a code cannot be exchanged. All are `invalid_grant` on the wire; the
/// variants let the description say which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Never issued, already used, or expired (indistinguishable on purpose:
    /// a used code is removed).
    UnknownOrUsed,
    Expired,
    ClientMismatch,
    RedirectMismatch,
    Verifier,
}

impl Refusal {
    pub(crate) fn description(self) -> &'static str {
        match self {
            Refusal::UnknownOrUsed => "authorization code unknown or already used",
            Refusal::Expired => "authorization code expired",
            Refusal::ClientMismatch => "authorization code was issued to another client",
            Refusal::RedirectMismatch => "redirect_uri differs from the authorization request",
            Refusal::Verifier => "code_verifier does not match code_challenge",
        }
    }
}

/// The codes waiting for exchange.
#[derive(Default)]
pub(crate) struct CodeStore {
    codes: HashMap<String, Grant>,
}

impl CodeStore {
    /// Keeps `grant` under `code`; `false` when the store is full of live codes.
    pub(crate) fn insert(&mut self, code: String, grant: Grant, now: i64) -> bool {
        if self.codes.len() >= MAX_CODES {
            self.codes.retain(|_, g| g.expires_at > now);
            if self.codes.len() >= MAX_CODES {
                return false;
            }
        }
        self.codes.insert(code, grant);
        true
    }

    /// Redeems `code`: it is removed whatever the outcome, so a code is
    /// presented at most once (RFC 6749 4.1.2), then every binding is checked.
    pub(crate) fn redeem(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        code_verifier: &str,
        now: i64,
    ) -> Result<Grant, Refusal> {
        let grant = self.codes.remove(code).ok_or(Refusal::UnknownOrUsed)?;
        if grant.expires_at <= now {
            return Err(Refusal::Expired);
        }
        if grant.client_id != client_id {
            return Err(Refusal::ClientMismatch);
        }
        if grant.redirect_uri != redirect_uri {
            return Err(Refusal::RedirectMismatch);
        }
        if pkce_challenge(code_verifier) != grant.code_challenge {
            return Err(Refusal::Verifier);
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn grant(now: i64) -> Grant {
        Grant {
            client_id: "portal".into(),
            redirect_uri: "https://127.0.0.1/cb".into(),
            code_challenge: pkce_challenge(VERIFIER),
            nonce: "n".into(),
            citizen: 3,
            auth_time: now,
            expires_at: now + CODE_TTL_SECS,
        }
    }

    #[test]
    fn a_code_is_single_use_and_expires() {
        let mut s = CodeStore::default();
        assert!(s.insert("c1".into(), grant(100), 100));
        let ok = s.redeem("c1", "portal", "https://127.0.0.1/cb", VERIFIER, 159);
        assert_eq!(ok.unwrap().citizen, 3);
        let again = s.redeem("c1", "portal", "https://127.0.0.1/cb", VERIFIER, 159);
        assert_eq!(again.unwrap_err(), Refusal::UnknownOrUsed);

        assert!(s.insert("c2".into(), grant(100), 100));
        let late = s.redeem("c2", "portal", "https://127.0.0.1/cb", VERIFIER, 160);
        assert_eq!(late.unwrap_err(), Refusal::Expired);
    }

    #[test]
    fn every_binding_is_checked() {
        let cases = [
            (
                "other",
                "https://127.0.0.1/cb",
                VERIFIER,
                Refusal::ClientMismatch,
            ),
            (
                "portal",
                "https://127.0.0.1/cb2",
                VERIFIER,
                Refusal::RedirectMismatch,
            ),
            (
                "portal",
                "https://127.0.0.1/cb",
                &"x".repeat(43),
                Refusal::Verifier,
            ),
        ];
        for (client, redirect, verifier, want) in cases {
            let mut s = CodeStore::default();
            assert!(s.insert("c".into(), grant(0), 0));
            assert_eq!(
                s.redeem("c", client, redirect, verifier, 1).unwrap_err(),
                want
            );
            // A failed attempt burns the code too.
            assert_eq!(
                s.redeem("c", "portal", "https://127.0.0.1/cb", VERIFIER, 1)
                    .unwrap_err(),
                Refusal::UnknownOrUsed
            );
        }
    }
}
