//! The citizen's portal session lives in a sealed cookie; signing out
//! records the session's id (hashed) in the store, so the old cookie is
//! refused by every replica until it would have expired anyway.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Broker;
use crate::error::BrokerError;

impl Broker {
    /// Ends a portal session everywhere, until `until` (its latest end).
    pub async fn end_portal_session(
        &self,
        sid: &str,
        until: DateTime<Utc>,
    ) -> Result<(), BrokerError> {
        Ok(self
            .store
            .revoke_portal_session(&sid_hash(sid), until)
            .await?)
    }

    /// Whether the portal session was signed out.
    pub async fn portal_session_ended(&self, sid: &str) -> Result<bool, BrokerError> {
        Ok(self.store.portal_session_revoked(&sid_hash(sid)).await?)
    }
}

/// The store never holds a session id that could open a cookie again.
fn sid_hash(sid: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"okaz/portal-session/");
    h.update(sid.as_bytes());
    hex::encode(h.finalize())
}
