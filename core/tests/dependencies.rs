#![allow(
    clippy::expect_used,
    reason = "a test: a failure to run cargo is a failure"
)]
//! The core must stay free of I/O: no HTTP, no database driver, no TLS, no
//! async runtime. This asks cargo for the crate's whole dependency tree
//! (normal and build dependencies, as the broker links them) and fails if
//! any forbidden crate appears anywhere in it.

use std::process::Command;

/// Crates that do I/O; the server and the adapters own them.
const FORBIDDEN: &[&str] = &[
    "hyper",
    "hyper-util",
    "hyper-rustls",
    "tokio",
    "tokio-postgres",
    "deadpool-postgres",
    "postgres-protocol",
    "rusqlite",
    "libsqlite3-sys",
    "rustls",
    "tokio-rustls",
    "mio",
    "reqwest",
    "okaz-server",
    "okaz-registry",
];

#[test]
fn the_core_depends_on_no_io_crate() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--package",
            "okaz-core",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"okaz-core"),
        "unexpected cargo tree output:\n{tree}"
    );
    let found: Vec<&str> = FORBIDDEN
        .iter()
        .copied()
        .filter(|f| names.contains(f))
        .collect();
    assert!(
        found.is_empty(),
        "okaz-core depends on I/O crates {found:?}; keep I/O in okaz-server and the adapters"
    );
}
