//! Officers' TOTP secrets at rest: sealed under the TOTP key before they
//! are stored, opened only at login (after the password was right), and
//! re-sealed under the newest key version by `keys rotate`.

use zeroize::Zeroizing;

use super::Broker;
use crate::error::BrokerError;
use crate::keyring::{self, KeyVersion, Keys};
use crate::ports::{Officer, RandomSource, TotpSecretStore};

/// What re-sealing the TOTP secrets did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resealed {
    /// Secrets now under the newest version that were under an older one.
    pub resealed: u32,
    /// Secrets already under the newest version.
    pub current: u32,
    /// Secrets stored in clear (before encryption at rest) now sealed.
    pub from_clear: u32,
}

impl Broker {
    /// Seals a TOTP secret for the officer with this id.
    pub fn seal_totp(&self, officer_id: &str, secret: &[u8]) -> Result<Vec<u8>, BrokerError> {
        keyring::seal_totp(&self.keys.totp, &*self.random, officer_id, secret)
            .map_err(|e| BrokerError::Internal(e.to_string()))
    }

    /// The officer's TOTP secret in clear, for checking a code; a secret
    /// that does not open (a key version this replica lacks, tampering, a
    /// row copied to another officer) fails closed.
    pub(crate) fn totp_secret(&self, officer: &Officer) -> Result<Zeroizing<Vec<u8>>, BrokerError> {
        keyring::open_totp(&self.keys.totp, &officer.id, &officer.totp_secret).map_err(|e| {
            tracing::error!(officer = %officer.id, error = %e, "TOTP secret does not open");
            BrokerError::Internal(format!("TOTP secret of officer {}: {e}", officer.id))
        })
    }

    /// Re-seals every officer's TOTP secret under the newest TOTP key
    /// version (see [`reseal_totp_secrets`]).
    pub async fn reseal_totp_secrets(&self, clear_before: bool) -> Result<Resealed, BrokerError> {
        reseal_totp_secrets(&self.keys, &*self.random, &*self.store, clear_before).await
    }
}

/// Re-seals every officer's TOTP secret under the newest version of the
/// TOTP key. With `clear_before` set, secrets that do not open are taken as
/// stored in clear by a server from before encryption at rest (only `keys
/// init --from-master` says so); otherwise they are an error, never
/// silently rewritten.
pub async fn reseal_totp_secrets<S: TotpSecretStore + ?Sized>(
    keys: &Keys,
    random: &dyn RandomSource,
    store: &S,
    clear_before: bool,
) -> Result<Resealed, BrokerError> {
    let (newest, _) = keys.totp.current();
    let mut done = Resealed::default();
    for (id, stored) in store.sealed_totp_secrets().await? {
        let (secret, version): (Zeroizing<Vec<u8>>, Option<KeyVersion>) =
            match keyring::open_totp(&keys.totp, &id, &stored) {
                Ok(s) => (s, keyring::totp_version(&stored)),
                Err(_) if clear_before => (Zeroizing::new(stored.clone()), None),
                Err(e) => {
                    return Err(BrokerError::Internal(format!(
                        "TOTP secret of officer {id}: {e}"
                    )))
                }
            };
        if version == Some(newest) {
            done.current += 1;
            continue;
        }
        let sealed = keyring::seal_totp(&keys.totp, random, &id, &secret)
            .map_err(|e| BrokerError::Internal(e.to_string()))?;
        // Compare-and-swap: a reset meanwhile wins, and is already sealed.
        if store.reseal_totp(&id, &stored, &sealed).await? {
            match version {
                Some(_) => done.resealed += 1,
                None => done.from_clear += 1,
            }
        }
    }
    Ok(done)
}
