//! The security officer's account calls: what `update` asks for
//! ([`AdminCall`], inside [`crate::Command::Admin`]) and what comes back
//! ([`AdminAnswer`], inside [`crate::Msg::Admin`]). Files are read and
//! written by the client task, never by `update`.

use std::path::PathBuf;

use okaz_protocol::{AccountView, CredentialReset, DisputeView, NewOfficer, OfficerCreated};
use zeroize::Zeroizing;

use crate::failure::Failure;
use crate::i18n::Note;

/// A credential to hand over (password, TOTP URI, PIN): wiped on drop and
/// never shown by `Debug`, so no log or panic message carries it.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a credential.
    pub fn new(s: String) -> Self {
        Secret(Zeroizing::new(s))
    }

    /// The credential, to draw it.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A call on the accounts of the unit.
#[derive(Debug)]
pub enum AdminCall {
    /// `GET /v1/admin/officers`.
    Accounts,
    /// `POST /v1/admin/officers`.
    Create(NewOfficer),
    /// `POST /v1/admin/officers/{id}/disable` or `/enable`, with a reason.
    SetDisabled {
        /// Officer id.
        officer: String,
        /// Disable (else enable).
        disable: bool,
        /// Why; audited.
        reason: String,
    },
    /// `POST /v1/admin/officers/{id}/reset-password`.
    ResetPassword {
        /// Officer id.
        officer: String,
    },
    /// `POST /v1/admin/officers/{id}/reset-totp`.
    ResetTotp {
        /// Officer id.
        officer: String,
    },
    /// Reads the PEM file, then `POST /v1/admin/officers/{id}/certificate`
    /// with the certificate's SHA-256 fingerprint.
    BindCertificate {
        /// Officer id.
        officer: String,
        /// The terminal's certificate (PEM).
        path: PathBuf,
    },
    /// `GET /v1/admin/lockouts?format=csv`, saved to a new file.
    ExportLockouts {
        /// Where; an existing file is never overwritten.
        path: PathBuf,
    },
    /// `GET /v1/admin/disputes`: the unit's open disputes.
    Disputes,
    /// `POST /v1/admin/disputes/{id}/resolve`, with a reason.
    ResolveDispute {
        /// Dispute id.
        id: String,
        /// Why it is resolved so; audited.
        reason: String,
    },
}

/// Why an account call that touches a file did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminProblem {
    /// The broker refused or could not be reached (boxed: a problem
    /// document is large beside the other kinds).
    Broker(Box<Failure>),
    /// The file to read could not be read.
    FileUnreadable,
    /// The file holds no PEM certificate.
    NotACertificate,
    /// The file to write exists already.
    FileExists,
    /// The file could not be written.
    FileNotWritten,
}

impl AdminProblem {
    /// A broker failure.
    pub fn of(f: Failure) -> Self {
        AdminProblem::Broker(Box::new(f))
    }

    /// What the officer is told.
    pub fn note(&self) -> Note {
        match self {
            AdminProblem::Broker(f) => f.note(),
            AdminProblem::FileUnreadable => Note::FileUnreadable,
            AdminProblem::NotACertificate => Note::NotACertificate,
            AdminProblem::FileExists => Note::FileExists,
            AdminProblem::FileNotWritten => Note::FileNotWritten,
        }
    }

    /// The broker's failure, if it was one.
    pub fn broker(&self) -> Option<&Failure> {
        match self {
            AdminProblem::Broker(f) => Some(f),
            _ => None,
        }
    }
}

/// The answer to an [`AdminCall`].
#[derive(Debug)]
pub enum AdminAnswer {
    /// To [`AdminCall::Accounts`].
    Accounts(Result<Vec<AccountView>, Failure>),
    /// To [`AdminCall::Create`]: the password and TOTP URI, shown once.
    Created(Result<OfficerCreated, Failure>),
    /// To [`AdminCall::SetDisabled`]: whether the account is now disabled.
    DisabledSet(Result<bool, Failure>),
    /// To [`AdminCall::ResetPassword`] and [`AdminCall::ResetTotp`].
    Reset(Result<CredentialReset, Failure>),
    /// To [`AdminCall::BindCertificate`]: the PIN, shown once.
    Bound(Result<Secret, AdminProblem>),
    /// To [`AdminCall::ExportLockouts`].
    Exported(Result<(), AdminProblem>),
    /// To [`AdminCall::Disputes`].
    Disputes(Result<Vec<DisputeView>, Failure>),
    /// To [`AdminCall::ResolveDispute`].
    DisputeResolved(Result<(), Failure>),
}

impl AdminAnswer {
    /// The broker's failure the answer carries, if any.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            AdminAnswer::Accounts(Err(f))
            | AdminAnswer::Created(Err(f))
            | AdminAnswer::DisabledSet(Err(f))
            | AdminAnswer::Reset(Err(f))
            | AdminAnswer::Disputes(Err(f))
            | AdminAnswer::DisputeResolved(Err(f)) => Some(f),
            AdminAnswer::Bound(Err(p)) | AdminAnswer::Exported(Err(p)) => p.broker(),
            _ => None,
        }
    }
}
