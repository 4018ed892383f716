//! Policy files of okaz: types, loading and validation.
//!
//! The broker loads every `*.toml` of its policy directory into one
//! [`PolicySet`] at start-up, all or nothing: a set with any problem is
//! refused as a whole, with every problem listed ([`PolicyErrors`]). At run
//! time [`PolicySet::authorize`] answers whether a role may ask for a document
//! for a purpose, resolving role and purpose into one [`ResolvedCheck`].

mod authorize;
mod bundle;
mod load;
mod model;
mod parse;
mod problem;
mod raw;
mod validate;
mod watch;

pub use authorize::{
    validate_case_reference, Denial, ResolvedBundle, ResolvedCheck, CASE_REFERENCE_MAX_LEN,
};
pub use bundle::{Bundle, BundlePart, PartSubject};
pub use load::{check_dir, Summary};
pub use model::{
    AuthMethod, ConsentMode, Global, LoginThrottle, PolicySet, Purpose, Retention, Role,
};
pub use problem::{PolicyErrors, PolicyProblem};
pub use watch::{BreakGlass, Signals, WorkingHours};
