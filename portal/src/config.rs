//! `[portal]`: the portal's part of the broker's configuration file.

use std::path::PathBuf;

use serde::Deserialize;

/// The citizen portal: where the broker is reached from outside, and the
/// national eID (OpenID Connect provider) it signs citizens in with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalConfig {
    /// The broker's external base URL (`https://okaz.example/`); the eID
    /// callback is `<public_url>citizen/callback`.
    pub public_url: url::Url,
    /// The eID issuer; discovery is read from
    /// `<issuer>/.well-known/openid-configuration`.
    pub oidc_issuer: url::Url,
    /// This relying party's client id at the eID.
    pub client_id: String,
    /// CA to trust for the eID (PEM file); none means the public roots.
    pub ca_file: Option<PathBuf>,
    /// A session ends after this many seconds without a request.
    #[serde(default = "default_portal_idle")]
    pub session_idle_secs: u64,
    /// A session ends this many seconds after sign-in, whatever happens.
    #[serde(default = "default_portal_max")]
    pub session_max_secs: u64,
}

fn default_portal_idle() -> u64 {
    15 * 60
}

fn default_portal_max() -> u64 {
    60 * 60
}
