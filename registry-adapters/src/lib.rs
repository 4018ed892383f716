//! Adapters to the state registers and the document model mapping. The
//! synthetic registers they are developed against live in the separate
//! `okaz-sandbox` crate, so the broker never links them.
//!
//! The broker calls [`RegisterClient`]; each register has its own module in
//! [`registers`] (wire shape + mapping into [`okaz_protocol::Document`]); one
//! shared HTTP client ([`http`]) applies timeouts, retries, the size limit and
//! a circuit breaker ([`breaker`]) per register.

pub mod breaker;
pub mod client;
pub mod config;
pub mod eid;
pub mod error;
pub mod http;
pub mod ids;
pub mod mail;
pub mod registers;
pub mod sms;
pub mod trace;

pub use client::{Contact, PlateAnswer, RegisterClient};
pub use config::RegistryConfig;
pub use error::RegistryError;
pub use registers::{
    parse_contact, parse_driving_licence, parse_id_card, parse_large_family_card,
    parse_oc_insurance, parse_pensioner_id, parse_plate_inspection, parse_plate_registration,
    parse_school_id, parse_student_id, parse_technical_inspection, parse_vehicle_registration,
    Register,
};
