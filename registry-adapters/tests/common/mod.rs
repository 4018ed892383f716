//! Shared test kit: a sandbox on a free port and a client that trusts it.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
#![allow(dead_code)]

use okaz_registry::{RegisterClient, RegistryConfig, RegistryError};
use okaz_sandbox::{Fault, Faults, Sandbox, SandboxOptions};

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
        // The production defaults, so the tests run what the broker runs.
        ..RegistryConfig::default()
    }
}

/// A client of the sandbox with the default configuration changed by `tune`.
pub fn client_with(sb: &Sandbox, tune: impl FnOnce(&mut RegistryConfig)) -> RegisterClient {
    let mut cfg = config(sb);
    tune(&mut cfg);
    RegisterClient::new(cfg).expect("client builds")
}

/// Makes the sandbox's `service` misbehave as `how` sets its fault.
pub fn fault(sb: &Sandbox, service: &str, how: impl FnOnce(&mut Fault)) {
    let mut f = Fault::default();
    how(&mut f);
    sb.set_fault(service, f);
}

pub fn client(sb: &Sandbox) -> RegisterClient {
    RegisterClient::new(config(sb)).expect("client builds")
}

pub fn pesel(s: &str) -> okaz_protocol::Pesel {
    okaz_protocol::Pesel::parse(s).expect("sandbox PESEL is valid")
}

/// Asserts that `e` says this register does not hold what was asked for.
#[track_caller]
pub fn assert_not_found(e: &RegistryError, register: &str) {
    assert!(
        matches!(e, RegistryError::NotFound { register: r } if *r == register),
        "{e}"
    );
}
