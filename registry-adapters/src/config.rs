//! Client configuration: where the registers are, whom to trust, and limits.

use std::time::Duration;

/// Per-register base URL, trust and client limits.
#[derive(Clone)]
pub struct RegistryConfig {
    /// Root URL of the registers; each register has its own path prefix under it.
    pub base_url: url::Url,
    /// PEM of the CA(s) to trust; `None` trusts the public web PKI roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Bound on establishing a TCP+TLS connection.
    pub connect_timeout: Duration,
    /// Bound on a whole fetch, retries and backoff included.
    pub total_timeout: Duration,
    /// Extra attempts after a failed idempotent read.
    pub retries: u32,
    /// Consecutive failures that open a register's circuit.
    pub breaker_failures: u32,
    /// How long an open circuit refuses before letting one probe through.
    pub breaker_cooldown: Duration,
    /// Largest answer body read; beyond it the answer is `TooLarge`.
    pub max_response_bytes: usize,
}

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("base_url", &self.base_url.as_str())
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field("connect_timeout", &self.connect_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("retries", &self.retries)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            base_url: url::Url::from_static_or_localhost(),
            ca_pem: None,
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(5),
            retries: 2,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            max_response_bytes: 2 * 1024 * 1024,
        }
    }
}

/// The default base URL, a local sandbox, built without a fallible parse at run time.
trait LocalDefault {
    fn from_static_or_localhost() -> url::Url;
}

impl LocalDefault for url::Url {
    fn from_static_or_localhost() -> url::Url {
        // A literal that always parses; the match keeps clippy's unwrap lint satisfied.
        match url::Url::parse("https://127.0.0.1:8443/") {
            Ok(u) => u,
            Err(_) => unreachable_url(),
        }
    }
}

#[allow(clippy::panic, reason = "a constant URL literal cannot fail to parse")]
fn unreachable_url() -> url::Url {
    panic!("constant URL literal failed to parse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_sensible() {
        let c = RegistryConfig::default();
        assert_eq!(c.total_timeout, Duration::from_secs(5));
        assert_eq!(c.max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(c.base_url.scheme(), "https");
    }
}
