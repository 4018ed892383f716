//! Randomness as a dependency: codes, tokens and ids come from a
//! [`RandomSource`], so tests can make them predictable and production uses
//! the operating system's CSPRNG.

use rand::{CryptoRng, RngCore};

/// Where random bytes come from. Implementations must be cryptographically
/// secure: codes, session tokens and challenge ids are drawn from it.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, dest: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(dest);
    }
}

/// A `rand` generator over a [`RandomSource`], for the rules that take one.
pub struct Rng<'a>(pub &'a dyn RandomSource);

impl RngCore for Rng<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

// The source promises cryptographic quality (see the trait's contract).
impl CryptoRng for Rng<'_> {}

impl<'a> Rng<'a> {
    /// A fresh UUID (version 4) from the source.
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.fill_bytes(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }
}
