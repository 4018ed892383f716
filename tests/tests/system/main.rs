//! The whole-system tests, one module per story, linked into one test binary
//! (each of them links the whole system, so one binary links it once).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step must stop the test loudly, with its message"
)]

mod admin;
mod audit;
mod bad_input;
mod break_glass;
mod bundles;
mod certificates;
mod challenge;
mod deploy;
mod document_numbers;
mod faults;
mod flow;
mod idempotency;
mod insiders;
mod kannel;
mod keys;
mod mtls;
mod notices;
mod openapi_answers;
mod operations;
mod police;
mod portal;
mod privacy;
mod quota;
mod request_id;
mod restore;
mod retention;
mod rolling;
mod round_trips;
mod sessions;
mod transparency;
mod transport;
mod tui_admin;
mod tui_alert;
mod tui_break_glass;
mod tui_e2e;
mod tui_police;
mod tui_reconnect;
