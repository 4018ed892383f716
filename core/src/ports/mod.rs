//! What the core needs from the outside world: storage, registers, SMS,
//! slow password hashing and randomness. The core is written against these
//! traits; the server's stores and adapters implement them, and tests can
//! implement them without any network.

mod hashing;
mod random;
mod registers;
mod sms;
mod store;

pub use hashing::PasswordHashing;
pub use random::{OsRandom, RandomSource, Rng};
pub use registers::*;
pub use sms::*;
pub use store::*;
