//! okaz-server: the broker. `core` holds the rules and flows; `store`
//! implements persistence; `http` serves the API; `adapters` connect the
//! core to the registers and the SMS gateway.

pub mod adapters;
pub mod config;
pub mod core;
pub mod http;
pub mod operator;
pub mod portal;
pub mod store;
pub mod wiring;
