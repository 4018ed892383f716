//! `update` for the officer's check, single or bundle: the start's answer
//! (a code to wait for, or the document at once), the code's answer, and
//! the screens that show the result.
//!
//! A single check and a bundle start the same way: one SMS code, one
//! waiting screen, one rule for a refusal the form can fix. They differ in
//! what is shown (one document or the parts) and in where a refusal the
//! form cannot fix goes (a single check may be offered break-glass: the
//! dispatcher hands it on, since this flow calls no other).

use chrono::{DateTime, Duration, Utc};
use okaz_protocol::{
    BundleVerification, DocumentType, ErrorCode, Verification, VerificationStatus,
};

use super::common::{
    answer_on, fresh_query, refused_elsewhere, set_quota, show, show_parts, shown, take_quota_of,
    to_login,
};
use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen};
use crate::msg::{Command, Key};
use crate::screens::{
    awaiting::Awaiting,
    notice::{self, Next, Notice},
    parts, result,
};

/// Used when the broker sends no expiry for a challenge (policy default).
const DEFAULT_CHALLENGE_SECONDS: i64 = 300;

/// A single check's start answered. `Err` hands back a refusal the form
/// cannot fix, for the dispatcher to offer break-glass or end the step.
pub fn started(
    m: &mut Model,
    r: Result<Verification, Failure>,
) -> Result<Vec<Command>, Box<Failure>> {
    m.busy = false;
    if !matches!(m.screen, Screen::Query(_)) {
        // An answer for a form that is gone (idle lock, logout): drop it,
        // wiping any document, and withdraw a challenge nobody will answer.
        return Ok(match r {
            Ok(v) if v.status == VerificationStatus::AwaitingCode => {
                vec![Command::Cancel { id: v.id }]
            }
            Ok(v) => {
                drop(shown(m, v));
                Vec::new()
            }
            Err(_) => Vec::new(),
        });
    }
    let v = match r {
        Ok(v) => v,
        Err(f) => return on_form(m, f),
    };
    set_quota(m, &v.quota);
    if v.status == VerificationStatus::Completed {
        return Ok(show(m, v));
    }
    let Screen::Query(form) = &mut m.screen else {
        return Ok(Vec::new());
    };
    // Kept only for a role that may break glass instead.
    let check = form.sent.take();
    let document = form
        .documents
        .get(form.document)
        .copied()
        .unwrap_or(DocumentType::IdCard);
    let mut waiting = waiting(m, v.id, document, v.sent_to, v.expires_at, v.attempts_left);
    waiting.check = check;
    m.screen = Screen::Awaiting(waiting);
    Ok(Vec::new())
}

/// A bundle's start answered: one code for all parts, or every part at once.
pub fn bundle_started(m: &mut Model, r: Result<BundleVerification, Failure>) -> Vec<Command> {
    m.busy = false;
    if !matches!(m.screen, Screen::Query(_)) {
        // An answer for a form that is gone (idle lock, logout): dropped with
        // any document, and a challenge nobody will answer withdrawn, as for
        // a single check.
        return match r {
            Ok(v) if v.status == VerificationStatus::AwaitingCode => {
                vec![Command::Cancel { id: v.id }]
            }
            _ => Vec::new(),
        };
    }
    let v = match r {
        Ok(v) => v,
        Err(f) => return on_form(m, f).unwrap_or_else(|f| refused_elsewhere(m, *f)),
    };
    set_quota(m, &v.quota);
    if v.status == VerificationStatus::Completed {
        return show_parts(m, v.bundle, v.parts, v.display_until);
    }
    let document = v
        .parts
        .first()
        .map(|p| p.kind)
        .unwrap_or(DocumentType::IdCard);
    let mut waiting = waiting(m, v.id, document, v.sent_to, v.expires_at, v.attempts_left);
    waiting.bundle = true;
    m.screen = Screen::Awaiting(waiting);
    Vec::new()
}

/// The waiting screen of a challenge, single or bundle.
fn waiting(
    m: &Model,
    id: String,
    document: DocumentType,
    sent_to: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    attempts_left: Option<u32>,
) -> Awaiting {
    let expires_at = expires_at.unwrap_or(m.now + Duration::seconds(DEFAULT_CHALLENGE_SECONDS));
    Awaiting::new(
        id,
        document,
        sent_to.unwrap_or_default(),
        expires_at,
        attempts_left,
    )
}

/// A start refused: on the form when the officer can fix what was typed,
/// else handed back (boxed: a problem document is large).
fn on_form(m: &mut Model, f: Failure) -> Result<Vec<Command>, Box<Failure>> {
    take_quota_of(m, &f);
    let fixable = matches!(
        f.code(),
        Some(
            ErrorCode::InvalidPesel
                | ErrorCode::InvalidDocumentNumber
                | ErrorCode::InvalidRequest
                | ErrorCode::CaseReferenceRequired
                | ErrorCode::NotPermitted
                | ErrorCode::PayloadTooLarge,
        )
    );
    if !fixable {
        return Err(Box::new(f));
    }
    // The officer can fix the form: keep what was typed.
    if let Screen::Query(form) = &mut m.screen {
        form.note = Some(f.note());
    }
    Ok(Vec::new())
}

/// The code's answer: the document (or a bundle's parts), another try, or
/// the end of the challenge.
pub fn code_checked(m: &mut Model, r: Result<Verification, Failure>) -> Vec<Command> {
    let here = matches!(m.screen, Screen::Awaiting(_));
    let Some(r) = answer_on(m, here, r) else {
        return Vec::new();
    };
    match r {
        Ok(v) => match v.status {
            VerificationStatus::Completed if !v.parts.is_empty() => {
                show_parts(m, v.bundle.unwrap_or_default(), v.parts, v.display_until)
            }
            VerificationStatus::Completed => show(m, v),
            VerificationStatus::AwaitingCode => {
                if let Screen::Awaiting(a) = &mut m.screen {
                    a.attempts_left = v.attempts_left.or(a.attempts_left);
                }
                Vec::new()
            }
        },
        Err(f) => {
            take_quota_of(m, &f);
            let Screen::Awaiting(a) = &mut m.screen else {
                return Vec::new();
            };
            match &f {
                Failure::Problem(p) if p.code == ErrorCode::WrongCode => {
                    a.attempts_left = p.attempts_left.or(a.attempts_left);
                    if a.attempts_left == Some(0) {
                        m.screen = Screen::Notice(Notice {
                            note: Note::Refused(ErrorCode::ChallengeExhausted, None),
                            next: Next::Query,
                        });
                    } else {
                        a.note = Some(f.note());
                    }
                    Vec::new()
                }
                Failure::Network | Failure::Http(_) => {
                    // The challenge may still be good: let the officer retry.
                    a.note = Some(f.note());
                    Vec::new()
                }
                Failure::Problem(_) => refused_elsewhere(m, f),
            }
        }
    }
}

/// A key on the result, the parts or a notice.
pub fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    match &mut m.screen {
        Screen::Result(s) => match s.key(key) {
            result::Intent::New => fresh_query(m, None),
            result::Intent::None => Vec::new(),
        },
        Screen::Parts(s) => match s.key(key) {
            parts::Intent::New => fresh_query(m, None),
            parts::Intent::None => Vec::new(),
        },
        Screen::Notice(s) => match s.key(key) {
            notice::Intent::Continue => match s.next {
                Next::Query => fresh_query(m, None),
                Next::Login => to_login(m, None),
            },
            notice::Intent::None => Vec::new(),
        },
        _ => Vec::new(),
    }
}
