//! `update` for the officer's break-glass: where it is offered, the form,
//! and its answer. The dispatcher ([`crate::update`]) calls these.
//!
//! ```text
//!  Query ─Enter─▶ (consent-free role at its limit: nothing sent) ─▶ Offer
//!    │                                                              │
//!    └─Started(not_activated, no_contact, sms_unavailable) ─▶ Offer ─B─▶ Form
//!  Awaiting ─B─▶ (challenge withdrawn) ─────────────────────────────────▶ Form
//!  Offer ─Enter/Esc─▶ Query        Form ─Esc─▶ Query (nothing sent)
//!  Form ─Enter─▶ (POST /v1/break-glass) ─BrokeGlass─▶ Result (flagged)
//!                                         refusal ──▶ Form (fixable) / Notice
//! ```

use okaz_protocol::{ErrorCode, Verification, VerificationRequest};

use super::common::{answer_on, fresh_query, refused_elsewhere, shown, take_quota_of};
use crate::break_glass::{self as rules, Overrides, PendingCheck};
use crate::failure::Failure;
use crate::i18n::Note;
use crate::model::{Model, Screen};
use crate::msg::{Command, Key};
use crate::screens::break_glass::{BreakGlassForm, FormIntent, Offer, OfferIntent};
use crate::screens::login::LoginForm;
use crate::screens::notice::{Next, Notice};

/// A check submitted on the query form. Sent as usual, a copy kept where a
/// refusal may offer break-glass; but for a consent-free break-glass role
/// at its daily limit it is not sent (the broker would refuse it and lock
/// the account): break-glass is offered instead.
pub fn submit(m: &mut Model, req: VerificationRequest) -> Vec<Command> {
    let p = m.permissions();
    let at_limit = match (p, m.session.as_ref()) {
        (Some(p), Some(s)) => rules::at_limit(p, &s.quota),
        _ => false,
    };
    if at_limit {
        m.screen = Screen::BreakGlassOffer(Offer {
            note: Note::AtDailyLimit,
            check: PendingCheck::new(req),
            overrides: Overrides::DailyLimit,
        });
        return Vec::new();
    }
    if p.and_then(rules::overrides) == Some(Overrides::NoCode) {
        if let Screen::Query(form) = &mut m.screen {
            form.sent = Some(PendingCheck::new(req.clone()));
        }
    }
    m.busy = true;
    vec![Command::Start(req)]
}

/// A start refused where the query form was: offered break-glass when the
/// refusal says no code can be had and the role may, else as any refusal.
pub fn refused(m: &mut Model, f: Failure) -> Vec<Command> {
    let offer = match (m.permissions(), f.code()) {
        (Some(p), Some(code)) => rules::overridable(p, code),
        _ => false,
    };
    let check = match &mut m.screen {
        Screen::Query(form) if offer => form.sent.take(),
        _ => None,
    };
    match check {
        Some(check) => {
            m.screen = Screen::BreakGlassOffer(Offer {
                note: f.note(),
                check,
                overrides: Overrides::NoCode,
            });
            Vec::new()
        }
        None => refused_elsewhere(m, f),
    }
}

/// Break glass while waiting for a code the citizen cannot give: the
/// challenge is withdrawn and the form opened.
pub fn instead_of_code(m: &mut Model) -> Vec<Command> {
    let Screen::Awaiting(a) = &mut m.screen else {
        return Vec::new();
    };
    let Some(check) = a.check.take() else {
        return Vec::new();
    };
    let id = a.id.clone();
    let terms = terms(m);
    m.screen = Screen::BreakGlassForm(BreakGlassForm::new(check, Overrides::NoCode, terms));
    vec![Command::Cancel { id }]
}

/// A key on the offer or the form.
pub fn on_key(m: &mut Model, key: Key) -> Vec<Command> {
    match &mut m.screen {
        Screen::BreakGlassOffer(s) => match s.key(key) {
            OfferIntent::Continue => fresh_query(m, None),
            OfferIntent::BreakGlass => {
                let terms = terms(m);
                let gone = std::mem::replace(&mut m.screen, Screen::Login(LoginForm::new(None)));
                if let Screen::BreakGlassOffer(Offer {
                    check, overrides, ..
                }) = gone
                {
                    m.screen = Screen::BreakGlassForm(BreakGlassForm::new(check, overrides, terms));
                }
                Vec::new()
            }
            OfferIntent::None => Vec::new(),
        },
        Screen::BreakGlassForm(s) => match s.key(key) {
            FormIntent::Send(req) => {
                m.busy = true;
                vec![Command::BreakGlass(req)]
            }
            FormIntent::Cancel => fresh_query(m, None),
            FormIntent::None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The broker's answer to a break-glass: the document, flagged; or the
/// refusal, on the form when the officer can fix it or try again.
pub fn answered(m: &mut Model, r: Result<Verification, Failure>) -> Vec<Command> {
    let here = matches!(m.screen, Screen::BreakGlassForm(_));
    let Some(r) = answer_on(m, here, r) else {
        return Vec::new();
    };
    match r {
        Ok(v) => {
            m.screen = match shown(m, v) {
                Some(s) => Screen::Result(s.flagged()),
                None => Screen::Notice(Notice {
                    note: Note::Refused(ErrorCode::Internal, None),
                    next: Next::Query,
                }),
            };
            Vec::new()
        }
        Err(f) => {
            take_quota_of(m, &f);
            let fixable = matches!(
                f.code(),
                Some(ErrorCode::InvalidRequest | ErrorCode::PayloadTooLarge)
            ) || matches!(f, Failure::Network | Failure::Http(_));
            match &mut m.screen {
                Screen::BreakGlassForm(form) if fixable => {
                    form.note = Some(f.note());
                    form.detail = match &f {
                        Failure::Problem(p) => p.detail.clone(),
                        _ => None,
                    };
                    Vec::new()
                }
                _ => refused_elsewhere(m, f),
            }
        }
    }
}

/// The policy's break-glass terms, as the broker gave them at login.
fn terms(m: &Model) -> Option<okaz_protocol::BreakGlassTerms> {
    m.permissions().and_then(|p| p.break_glass_terms)
}
