//! Shared test kit: a sandbox on a free port and a client that trusts it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use std::time::Duration;

use okaz_registry::{RegisterClient, RegistryConfig};
use okaz_sandbox::{Faults, Sandbox, SandboxOptions};

pub const SEED: u64 = 7;
pub const POPULATION: u64 = 200_000;

pub async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        population: POPULATION,
        seed: SEED,
        faults: Faults::none(),
    })
    .await
    .expect("sandbox starts")
}

pub fn config(sb: &Sandbox) -> RegistryConfig {
    RegistryConfig {
        base_url: sb.base_url(),
        ca_pem: Some(sb.ca_pem.clone().into_bytes()),
        connect_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(5),
        retries: 2,
        breaker_failures: 5,
        breaker_cooldown: Duration::from_secs(30),
        max_response_bytes: 2 * 1024 * 1024,
    }
}

pub fn client(sb: &Sandbox) -> RegisterClient {
    RegisterClient::new(config(sb)).expect("client builds")
}

pub fn pesel(s: &str) -> okaz_protocol::Pesel {
    okaz_protocol::Pesel::parse(s).expect("sandbox PESEL is valid")
}
