//! okaz-core: the domain rules and flows, over ports. No HTTP, no SQL, no
//! TLS, no async runtime: the crates that do I/O implement the traits in
//! [`ports`], and a test in this crate fails if one of them ever becomes a
//! dependency.
//!
//! Reading order for a newcomer: [`quota`], [`consent`] and [`session`]
//! (the rules, each a small state machine taking `now`), [`audit`] (what is
//! recorded), [`ports`] (what the core asks of the world), then
//! [`broker`] (the officer's and the citizen's flows, in domain terms).

pub mod audit;
pub mod break_glass;
pub mod broker;
pub mod clock;
pub mod consent;
pub mod credentials;
pub mod error;
pub mod keyring;
pub mod login;
pub mod notice;
pub mod ports;
pub mod pseudonym;
pub mod quota;
pub mod receipt;
pub mod retention;
pub mod seal;
pub mod session;
pub mod signals;
pub mod tlog;
pub mod trail;
