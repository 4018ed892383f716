//! Wire types of the okaz broker API: what the terminal, the broker and the
//! registers say to each other. No I/O lives here, so every side can link it.

pub mod api;
pub mod dispute;
pub mod docnumber;
pub mod document;
pub mod error;
pub mod html;
pub mod pesel;
pub mod photo;
pub mod plate;
pub mod transport;
pub mod watch;

pub use api::*;
pub use dispute::{DisputeView, ResolveDispute};
pub use document::{Document, DocumentStatus, DocumentType, FieldValue, Photo, Source};
pub use error::{ErrorCode, Problem};
pub use pesel::{Pesel, PeselError};
pub use watch::{
    BreakGlassDecision, BreakGlassRequest, BreakGlassVerdict, BreakGlassView, SignalView,
    SignalsView,
};
