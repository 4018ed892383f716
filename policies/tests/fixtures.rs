//! Runs every request fixture of `tests/allow` and `tests/deny` against the
//! policy directory the broker ships with.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: an unreadable fixture is a failed test"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use okaz_policy::PolicySet;
use okaz_protocol::document::DocumentType;
use serde::Deserialize;

/// One request, and what the policy must answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    role: String,
    document: String,
    purpose: String,
    case_reference: Option<String>,
    /// Allow only: the exact fields released, where the fixture pins them.
    fields: Option<BTreeSet<String>>,
    /// Allow only: the consent mode (`sms` | `none`).
    consent: Option<String>,
    /// Deny only: the API code (`Denial::code`).
    expect: Option<String>,
    /// Deny only: the precise reason (`Denial::reason`), so a fixture cannot
    /// pass for the wrong reason.
    reason: Option<String>,
}

fn fixtures(kind: &str) -> Vec<(PathBuf, Fixture)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(kind);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let f: Fixture =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, f)
        })
        .collect()
}

#[test]
fn allow_and_deny_fixtures_hold_for_the_shipped_policies() {
    let set = PolicySet::load_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("shipped policies refused:\n{e}"));
    let mut failures = Vec::new();

    let allow = fixtures("allow");
    assert!(allow.len() >= 6, "too few allow fixtures");
    for (path, f) in &allow {
        assert!(
            f.expect.is_none() && f.reason.is_none(),
            "{}: allow fixture with expect",
            path.display()
        );
        let doc = DocumentType::parse(&f.document).unwrap();
        match set.authorize(&f.role, doc, &f.purpose, f.case_reference.as_deref()) {
            Err(d) => failures.push(format!("{}: denied ({})", path.display(), d.reason())),
            Ok(check) => {
                if let Some(fields) = &f.fields {
                    if check.fields != fields {
                        failures.push(format!("{}: released {:?}", path.display(), check.fields));
                    }
                }
                if let Some(consent) = &f.consent {
                    if check.consent.as_str() != consent {
                        failures.push(format!("{}: consent {:?}", path.display(), check.consent));
                    }
                }
            }
        }
    }

    let deny = fixtures("deny");
    assert!(deny.len() >= 6, "too few deny fixtures");
    for (path, f) in &deny {
        let expect = f
            .expect
            .as_deref()
            .unwrap_or_else(|| panic!("{}: deny fixture without expect", path.display()));
        let doc = DocumentType::parse(&f.document).unwrap();
        match set.authorize(&f.role, doc, &f.purpose, f.case_reference.as_deref()) {
            Ok(_) => failures.push(format!("{}: allowed", path.display())),
            Err(d) => {
                if d.code().as_str() != expect {
                    failures.push(format!(
                        "{}: code {} not {expect}",
                        path.display(),
                        d.code()
                    ));
                }
                if let Some(reason) = &f.reason {
                    if d.reason() != reason {
                        failures.push(format!(
                            "{}: reason {} not {reason}",
                            path.display(),
                            d.reason()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixture failures:\n{}",
        failures.join("\n")
    );
}
