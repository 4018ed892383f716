//! The security officer's account calls. The only file reads and writes of
//! the terminal besides its TLS files live here, in the client task: the
//! terminal certificate to bind (read, and only its fingerprint sent) and
//! the lockouts CSV (written to a new file the officer named; it holds
//! officers' accounts, never citizen data).

use std::io::Write as _;
use std::path::Path;

use http::Method;
use okaz_protocol::{
    AccountView, BindCertificateRequest, CredentialReset, DisputeView, OfficerCreated,
    ReasonRequest, ResolveDispute,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{json, problem, segment, wipe, Client};
use crate::failure::Failure;
use crate::msg_admin::{AdminAnswer, AdminCall, AdminProblem, Secret};

/// Largest certificate file read.
const MAX_CERT_FILE: u64 = 64 * 1024;

/// The broker's answer to a binding: the PIN, shown once.
#[derive(Deserialize)]
struct PinIssued {
    pin: String,
}

/// The answer to disabling or enabling.
#[derive(Deserialize)]
struct DisabledAnswer {
    disabled: bool,
}

impl Client {
    /// Performs one account call.
    pub(super) async fn admin(&self, call: AdminCall) -> AdminAnswer {
        match call {
            AdminCall::Accounts => AdminAnswer::Accounts(
                self.call_retrying::<Vec<AccountView>>(
                    Method::GET,
                    "/v1/admin/officers",
                    None,
                    None,
                )
                .await,
            ),
            AdminCall::Create(new) => AdminAnswer::Created(
                self.call::<OfficerCreated>(Method::POST, "/v1/admin/officers", json(&new))
                    .await,
            ),
            AdminCall::SetDisabled {
                officer,
                disable,
                reason,
            } => {
                let verb = if disable { "disable" } else { "enable" };
                let path = format!("/v1/admin/officers/{}/{verb}", segment(&officer));
                let r: Result<DisabledAnswer, Failure> = self
                    .call(Method::POST, &path, json(&ReasonRequest { reason }))
                    .await;
                AdminAnswer::DisabledSet(r.map(|a| a.disabled))
            }
            AdminCall::ResetPassword { officer } => {
                let path = format!("/v1/admin/officers/{}/reset-password", segment(&officer));
                AdminAnswer::Reset(
                    self.call::<CredentialReset>(Method::POST, &path, None)
                        .await,
                )
            }
            AdminCall::ResetTotp { officer } => {
                let path = format!("/v1/admin/officers/{}/reset-totp", segment(&officer));
                AdminAnswer::Reset(
                    self.call::<CredentialReset>(Method::POST, &path, None)
                        .await,
                )
            }
            AdminCall::BindCertificate { officer, path } => {
                AdminAnswer::Bound(self.bind(&officer, &path).await)
            }
            AdminCall::ExportLockouts { path } => AdminAnswer::Exported(self.export(&path).await),
            AdminCall::Disputes => AdminAnswer::Disputes(
                self.call_retrying::<Vec<DisputeView>>(
                    Method::GET,
                    "/v1/admin/disputes",
                    None,
                    None,
                )
                .await,
            ),
            AdminCall::ResolveDispute { id, reason } => {
                let path = format!("/v1/admin/disputes/{}/resolve", segment(&id));
                let r: Result<serde_json::Value, Failure> = self
                    .call(Method::POST, &path, json(&ResolveDispute { reason }))
                    .await;
                AdminAnswer::DisputeResolved(r.map(|_| ()))
            }
        }
    }

    async fn bind(&self, officer: &str, path: &Path) -> Result<Secret, AdminProblem> {
        let fingerprint = fingerprint(path)?;
        let url = format!("/v1/admin/officers/{}/certificate", segment(officer));
        let r: Result<PinIssued, Failure> = self
            .call(
                Method::POST,
                &url,
                json(&BindCertificateRequest { fingerprint }),
            )
            .await;
        r.map(|p| Secret::new(p.pin)).map_err(AdminProblem::of)
    }

    async fn export(&self, path: &Path) -> Result<(), AdminProblem> {
        // Refused before asking: an existing file is never overwritten.
        if path.exists() {
            return Err(AdminProblem::FileExists);
        }
        let (status, bytes) = self
            .send(Method::GET, "/v1/admin/lockouts?format=csv", None, None)
            .await
            .map_err(AdminProblem::of)?;
        if !status.is_success() {
            let p = problem(status, &bytes);
            wipe(bytes);
            return Err(AdminProblem::of(p));
        }
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => AdminProblem::FileExists,
                _ => AdminProblem::FileNotWritten,
            })
            .and_then(|mut f| {
                f.write_all(&bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|_| AdminProblem::FileNotWritten)
            });
        wipe(bytes);
        written
    }
}

/// SHA-256 of the first certificate's DER in a PEM file, as 64 hex digits.
fn fingerprint(path: &Path) -> Result<String, AdminProblem> {
    let meta = std::fs::metadata(path).map_err(|_| AdminProblem::FileUnreadable)?;
    if !meta.is_file() || meta.len() > MAX_CERT_FILE {
        return Err(AdminProblem::FileUnreadable);
    }
    let pem = std::fs::read(path).map_err(|_| AdminProblem::FileUnreadable)?;
    let der = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .and_then(Result::ok)
        .ok_or(AdminProblem::NotACertificate)?;
    Ok(hex::encode(Sha256::digest(der.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_certificate_is_said_so() {
        let dir = std::env::temp_dir().join(format!("okaz-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("not.pem");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(fingerprint(&f), Err(AdminProblem::NotACertificate));
        assert_eq!(
            fingerprint(&dir.join("missing.pem")),
            Err(AdminProblem::FileUnreadable)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
