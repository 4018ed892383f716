//! The SMS gateway (Kannel's `sendsms` in production).

use async_trait::async_trait;

/// Why an SMS was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sms gateway: {0}")]
pub struct SmsFailure(pub String);

/// The SMS gateway.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Sends `text` to `phone`; `reference` (a challenge id) comes back in
    /// the gateway's delivery report, so delivery is recorded per challenge.
    async fn send(
        &self,
        phone: &str,
        text: &str,
        reference: Option<&str>,
    ) -> Result<(), SmsFailure>;
}
