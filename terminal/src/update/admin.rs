//! `update` for the security officer's account screens: the only place their
//! state changes. The dispatcher ([`crate::update`]) hands
//! every account screen's key and answer here.
//!
//! ```text
//!  Query ─F4─▶ Officers ─n─▶ NewOfficer ─Created─▶ Secret (password, TOTP URI)
//!                │  ▲ ─d─▶ AccountReason ─DisabledSet─┘
//!                │  │ ─p/t, Enter─▶ (reset) ─Reset─▶ Secret
//!                │  │ ─c─▶ Certificate ─Bound─▶ Secret (PIN)
//!                │  └─ ─e─▶ Export ─Exported─▶ Officers ("saved")
//!                └─Esc─▶ Query                 Secret ─Enter─▶ Officers
//!
//!  Query ─F7─▶ Disputes (list) ─Enter─▶ detail ─Enter─▶ reason
//!                ▲                        ◀─Esc─        ─Enter─▶ (resolve)
//!                └──────── DisputeResolved ("resolved", reloaded) ◀─┘
//! ```

use okaz_protocol::ErrorCode;

use super::common::{fresh_query, refused_elsewhere};
use crate::i18n::Note;
use crate::i18n_admin::A;
use crate::model::{Model, Screen};
use crate::msg::{Command, Key};
use crate::msg_admin::{AdminAnswer, AdminCall, AdminProblem, Secret};
use crate::screens::{
    account_reason::{self, ReasonForm},
    certificate::{self, CertificateForm},
    disputes::{self, DisputeList},
    export::{self, ExportForm},
    officer_new::{self, NewOfficerForm},
    officers::{self, OfficerList, Reset},
    secret::{self, SecretShown},
};

/// Opens the accounts list (loading), with an optional note.
pub fn open(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    m.screen = Screen::Officers(OfficerList::loading(note));
    m.busy = true;
    vec![Command::Admin(AdminCall::Accounts)]
}

/// Opens the disputes list (loading), with an optional note.
pub fn open_disputes(m: &mut Model, note: Option<Note>) -> Vec<Command> {
    m.screen = Screen::Disputes(DisputeList::loading(note));
    m.busy = true;
    vec![Command::Admin(AdminCall::Disputes)]
}

fn call(m: &mut Model, c: AdminCall) -> Vec<Command> {
    m.busy = true;
    vec![Command::Admin(c)]
}

/// A key on one of the account screens.
pub fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    match &mut m.screen {
        Screen::Officers(s) => match s.key(key) {
            officers::Intent::New => {
                let unit = m
                    .session
                    .as_ref()
                    .map(|s| s.officer.unit.clone())
                    .unwrap_or_default();
                m.screen = Screen::NewOfficer(NewOfficerForm::new(&unit));
                Vec::new()
            }
            officers::Intent::SetDisabled(officer, disable) => {
                m.screen = Screen::AccountReason(ReasonForm::new(officer, disable));
                Vec::new()
            }
            officers::Intent::Reset(officer, Reset::Password) => call(
                m,
                AdminCall::ResetPassword {
                    officer: officer.id,
                },
            ),
            officers::Intent::Reset(officer, Reset::Totp) => call(
                m,
                AdminCall::ResetTotp {
                    officer: officer.id,
                },
            ),
            officers::Intent::Certificate(officer) => {
                m.screen = Screen::Certificate(CertificateForm::new(officer));
                Vec::new()
            }
            officers::Intent::Export => {
                m.screen = Screen::Export(ExportForm::default());
                Vec::new()
            }
            officers::Intent::Refresh => open(m, None),
            officers::Intent::Back => fresh_query(m, None),
            officers::Intent::None => Vec::new(),
        },
        Screen::NewOfficer(s) => match s.key(key) {
            officer_new::Intent::Submit(new) => call(m, AdminCall::Create(new)),
            officer_new::Intent::Back => open(m, None),
            officer_new::Intent::None => Vec::new(),
        },
        Screen::AccountReason(s) => match s.key(key) {
            account_reason::Intent::Submit(officer, disable, reason) => call(
                m,
                AdminCall::SetDisabled {
                    officer,
                    disable,
                    reason,
                },
            ),
            account_reason::Intent::Back => open(m, None),
            account_reason::Intent::None => Vec::new(),
        },
        Screen::Certificate(s) => match s.key(key) {
            certificate::Intent::Submit(officer, path) => {
                call(m, AdminCall::BindCertificate { officer, path })
            }
            certificate::Intent::Back => open(m, None),
            certificate::Intent::None => Vec::new(),
        },
        Screen::Export(s) => match s.key(key) {
            export::Intent::Submit(path) => call(m, AdminCall::ExportLockouts { path }),
            export::Intent::Back => open(m, None),
            export::Intent::None => Vec::new(),
        },
        Screen::Secret(s) => match s.key(key) {
            // Leaving drops the screen, and with it the credential (wiped).
            secret::Intent::Done => open(m, None),
            secret::Intent::None => Vec::new(),
        },
        Screen::Disputes(s) => match s.key(key) {
            disputes::Intent::Resolve(id, reason) => {
                call(m, AdminCall::ResolveDispute { id, reason })
            }
            disputes::Intent::Refresh => open_disputes(m, None),
            disputes::Intent::Back => fresh_query(m, None),
            disputes::Intent::None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// An answer to an account call.
pub fn answer(m: &mut Model, a: AdminAnswer) -> Vec<Command> {
    m.busy = false;
    match a {
        AdminAnswer::Accounts(r) => match r {
            Ok(v) => {
                if let Screen::Officers(s) = &mut m.screen {
                    s.selected = s.selected.min(v.len().saturating_sub(1));
                    s.items = Some(v);
                }
                Vec::new()
            }
            Err(f) => refused(m, AdminProblem::of(f)),
        },
        AdminAnswer::Created(r) => match r {
            Ok(c) if matches!(m.screen, Screen::NewOfficer(_)) => {
                let items = vec![
                    (A::InitialPassword, Secret::new(c.initial_password)),
                    (A::TotpUri, Secret::new(c.totp_uri)),
                ];
                m.screen = Screen::Secret(SecretShown {
                    login: c.officer.login,
                    items,
                });
                Vec::new()
            }
            // A credential for a screen that is gone is dropped unseen.
            Ok(_) => Vec::new(),
            Err(f) => refused(m, AdminProblem::of(f)),
        },
        AdminAnswer::DisabledSet(r) => match r {
            Ok(disabled) => {
                let note = if disabled {
                    Note::AccountDisabled
                } else {
                    Note::AccountEnabled
                };
                open(m, Some(note))
            }
            Err(f) => refused(m, AdminProblem::of(f)),
        },
        AdminAnswer::Reset(r) => match r {
            Ok(c) => {
                let Screen::Officers(s) = &m.screen else {
                    return Vec::new();
                };
                let login = s
                    .items
                    .as_ref()
                    .and_then(|v| v.get(s.selected))
                    .map(|a| a.officer.login.clone())
                    .unwrap_or_default();
                let mut items = Vec::new();
                if let Some(p) = c.initial_password.clone() {
                    items.push((A::InitialPassword, Secret::new(p)));
                }
                if let Some(u) = c.totp_uri.clone() {
                    items.push((A::TotpUri, Secret::new(u)));
                }
                m.screen = Screen::Secret(SecretShown { login, items });
                Vec::new()
            }
            Err(f) => refused(m, AdminProblem::of(f)),
        },
        AdminAnswer::Bound(r) => match r {
            Ok(pin) => {
                let Screen::Certificate(s) = &m.screen else {
                    return Vec::new();
                };
                let login = s.officer.login.clone();
                m.screen = Screen::Secret(SecretShown {
                    login,
                    items: vec![(A::Pin, pin)],
                });
                Vec::new()
            }
            Err(p) => refused(m, p),
        },
        AdminAnswer::Exported(r) => match r {
            Ok(()) => open(m, Some(Note::Saved)),
            Err(p) => refused(m, p),
        },
        AdminAnswer::Disputes(r) => match r {
            Ok(v) => {
                if let Screen::Disputes(s) = &mut m.screen {
                    s.selected = s.selected.min(v.len().saturating_sub(1));
                    s.items = Some(v);
                }
                Vec::new()
            }
            Err(f) => refused(m, AdminProblem::of(f)),
        },
        // Resolved: back to the list, loaded again (another security
        // officer may have resolved others meanwhile).
        AdminAnswer::DisputeResolved(r) => match r {
            Ok(()) if matches!(m.screen, Screen::Disputes(_)) => {
                open_disputes(m, Some(Note::DisputeResolved))
            }
            Ok(()) => Vec::new(),
            Err(f) => refused(m, AdminProblem::of(f)),
        },
    }
}

/// A refusal: the session or account is gone (to the login form or a
/// notice, as everywhere), or the screen keeps what was typed and says why.
fn refused(m: &mut Model, p: AdminProblem) -> Vec<Command> {
    if let AdminProblem::Broker(f) = &p {
        let ends = matches!(
            f.code(),
            Some(
                ErrorCode::SessionExpired
                    | ErrorCode::AccountLocked
                    | ErrorCode::DailyLimitExceeded
            )
        );
        if ends {
            return refused_elsewhere(m, (**f).clone());
        }
    }
    let note = Some(p.note());
    match &mut m.screen {
        Screen::Officers(s) => s.note = note,
        Screen::NewOfficer(s) => s.note = note,
        Screen::AccountReason(s) => s.note = note,
        Screen::Certificate(s) => s.note = note,
        Screen::Export(s) => s.note = note,
        Screen::Disputes(s) => s.note = note,
        _ => {
            if let AdminProblem::Broker(f) = p {
                return refused_elsewhere(m, *f);
            }
        }
    }
    Vec::new()
}
