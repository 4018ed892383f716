//! The officer's break-glass: the refusal that offers it (B), and the form
//! that asks for the justification, says what it costs, and sends it.
//! Both hold the refused check ([`PendingCheck`]), wiped when left.

use okaz_protocol::{BreakGlassRequest, BreakGlassTerms};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::break_glass::{Overrides, PendingCheck, JUSTIFICATION_MAX};
use crate::i18n::{self, Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::profile::Profile;
use crate::widgets::{frame_body, note_lines, para, width, Ctx};

/// A refusal (or the daily limit reached) that break-glass may override.
#[derive(Debug)]
pub struct Offer {
    /// Why the check was not made.
    pub note: Note,
    /// The check a break-glass would repeat.
    pub check: PendingCheck,
    /// What it would override.
    pub overrides: Overrides,
}

/// What a key on the offer asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum OfferIntent {
    /// Nothing.
    None,
    /// Leave it: a fresh query form.
    Continue,
    /// Open the break-glass form.
    BreakGlass,
}

impl Offer {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> OfferIntent {
        match key {
            Key::Enter | Key::Esc => OfferIntent::Continue,
            Key::Char('b' | 'B') => OfferIntent::BreakGlass,
            _ => OfferIntent::None,
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyContinue, T::KeyBreakGlass, T::KeyLogout]
    }

    /// Draws the screen: the refusal as any other, then the offer.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let inner = frame_body(ctx, ctx.lang.t(T::NoticeTitle), area, f);
        let mut lines = crate::screens::notice::lines(ctx, self.note);
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            ctx.lang.t(T::BreakGlassOffer),
            ctx.profile.label(),
        )));
        f.render_widget(para(ctx, lines), inner);
    }
}

/// The break-glass form.
#[derive(Debug)]
pub struct BreakGlassForm {
    /// The check to repeat.
    pub check: PendingCheck,
    /// What it overrides.
    pub overrides: Overrides,
    /// The policy's terms, said in the warning (the deadline, the day's cap).
    pub terms: Option<BreakGlassTerms>,
    /// Why it cannot wait (required).
    pub justification: TextField,
    /// A refusal shown under the form (kept to be fixed or retried).
    pub note: Option<Note>,
    /// The broker's detail of that refusal (e.g. why the justification
    /// was refused); it names no person.
    pub detail: Option<String>,
}

/// What a key on the form asks for.
#[derive(Debug)]
pub enum FormIntent {
    /// Nothing beyond editing.
    None,
    /// Send the break-glass.
    Send(BreakGlassRequest),
    /// Give it up: nothing is sent.
    Cancel,
}

impl BreakGlassForm {
    /// An empty justification for `check`, within the policy's `terms`
    /// where the broker gave them (else the default policy's length).
    pub fn new(check: PendingCheck, overrides: Overrides, terms: Option<BreakGlassTerms>) -> Self {
        let max = terms
            .and_then(|t| usize::try_from(t.justification_max_chars).ok())
            .unwrap_or(JUSTIFICATION_MAX);
        BreakGlassForm {
            check,
            overrides,
            terms,
            justification: TextField::new(max, Charset::Any),
            note: None,
            detail: None,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> FormIntent {
        match key {
            Key::Esc => FormIntent::Cancel,
            Key::Enter if self.justification.value().trim().is_empty() => {
                self.note = Some(Note::NeedJustification);
                self.detail = None;
                FormIntent::None
            }
            Key::Enter => {
                self.note = None;
                self.detail = None;
                FormIntent::Send(self.check.break_glass(self.justification.value()))
            }
            other => {
                self.justification.input(other);
                FormIntent::None
            }
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyConfirm, T::KeyCancel, T::KeyLogout]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let c = self.check.request();
        let document = i18n::document(l, c.document);
        let title = format!("{} · {document}", l.t(T::BreakGlassTitle));
        let inner = frame_body(ctx, &title, area, f);
        let overrides = match self.overrides {
            Overrides::NoCode => T::BreakGlassNoCode,
            Overrides::DailyLimit => T::BreakGlassDailyLimit,
        };
        let mut lines = Vec::new();
        // A handheld has rows for the warning and the note, not the purpose.
        if ctx.profile == Profile::Desktop {
            lines.push(Line::from(Span::styled(
                format!("{}: {}", l.t(T::Purpose), i18n::purpose(l, &c.purpose)),
                ctx.profile.label(),
            )));
        }
        lines.extend([
            Line::from(Span::styled(l.t(overrides), ctx.profile.problem())),
            Line::raw(match self.terms {
                Some(t) => i18n::break_glass_warning(l, t.deadline_hours, t.per_day),
                None => l.t(T::BreakGlassWarning).to_string(),
            }),
            Line::from(vec![
                Span::raw("▸"),
                Span::styled(
                    format!(
                        "{} {}/{}:",
                        l.t(T::Justification),
                        self.justification.value().chars().count(),
                        self.justification.max()
                    ),
                    ctx.profile.label(),
                ),
            ]),
        ]);
        // Only the end of a long justification: the rows below it stay.
        let rows = match (ctx.profile, self.note) {
            (Profile::Handheld, Some(_)) => 1,
            (Profile::Handheld, None) => 2,
            (Profile::Desktop, _) => 4,
        };
        let room = (usize::from(inner.width) * rows).saturating_sub(2).max(1);
        lines.push(Line::from(Span::styled(
            format!("{}_", tail(self.justification.value(), room)),
            ctx.profile.focused(),
        )));
        match (self.note, &self.detail) {
            // The broker's detail says what to fix, in place of the
            // general hint: rows are few on a handheld.
            (Some(note), Some(d)) => {
                let (msg, _) = note.texts(l);
                lines.push(Line::from(Span::styled(
                    format!("✖ {msg}"),
                    ctx.profile.problem(),
                )));
                lines.push(Line::raw(format!("→ {d}")));
            }
            (note, _) => lines.extend(note_lines(ctx, note)),
        }
        f.render_widget(para(ctx, lines), inner);
    }
}

/// The last `room` characters of `s`, with `…` in front when cut.
fn tail(s: &str, room: usize) -> String {
    let n = width(s);
    if n <= room {
        return s.to_string();
    }
    let kept: String = s.chars().skip(n - room + 1).collect();
    format!("…{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_justification_shows_its_end() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("abcdef", 4), "…def");
    }
}
