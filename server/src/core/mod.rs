//! The domain core: rules and flows, over ports. No HTTP, no SQL.

pub mod audit;
pub mod broker;
pub mod clock;
pub mod consent;
pub mod credentials;
pub mod error;
pub mod login;
pub mod ports;
pub mod pseudonym;
pub mod quota;
pub mod seal;
pub mod session;
