//! okaz-server: the broker. The rules and flows live in `okaz-core`; `okaz-store`
//! implements its storage traits; `http` serves the API; `adapters` connect the
//! core to the registers and the SMS gateway.

pub mod adapters;
pub mod app;
pub mod background;
pub mod config;
pub mod hashing;
pub mod http;
pub mod keys;
pub mod logging;
pub mod metrics;
pub mod notices;
pub mod operator;
pub mod retention;
pub mod tlog;
pub mod watch;
pub mod wiring;
