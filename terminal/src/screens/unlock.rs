//! Security officer: unlock one account, with a reason (audited) and an
//! optional extra allowance for today.

use okaz_protocol::{OfficerView, UnlockRequest};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::cycle;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// Which field has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Why.
    Reason,
    /// Extra checks allowed today.
    Extra,
}

const ORDER: [Focus; 2] = [Focus::Reason, Focus::Extra];

/// The unlock form.
#[derive(Debug)]
pub struct UnlockForm {
    /// Whose account.
    pub officer: OfficerView,
    /// Reason, required.
    pub reason: TextField,
    /// Extra allowance, digits.
    pub extra: TextField,
    /// Focused field.
    pub focus: Focus,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Unlock this officer.
    Submit(String, UnlockRequest),
    /// Back to the list.
    Back,
}

impl UnlockForm {
    /// An empty form for `officer`.
    pub fn new(officer: OfficerView) -> Self {
        UnlockForm {
            officer,
            reason: TextField::new(200, Charset::Any),
            extra: TextField::new(3, Charset::Digits),
            focus: Focus::Reason,
            note: None,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Tab | Key::Down | Key::BackTab | Key::Up => {
                self.focus = cycle(&ORDER, self.focus, matches!(key, Key::Tab | Key::Down));
            }
            Key::Esc => return Intent::Back,
            Key::Enter => {
                let reason = self.reason.value().trim().to_string();
                if reason.is_empty() {
                    self.note = Some(Note::NeedReason);
                    self.focus = Focus::Reason;
                    return Intent::None;
                }
                let extra_allowance = self.extra.value().parse().unwrap_or(0);
                return Intent::Submit(
                    self.officer.id.clone(),
                    UnlockRequest {
                        reason,
                        extra_allowance,
                    },
                );
            }
            other => {
                match self.focus {
                    Focus::Reason => self.reason.input(other),
                    Focus::Extra => self.extra.input(other),
                };
            }
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyNext, T::KeyConfirm, T::KeyBack]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let title = format!("{}: {}", l.t(T::UnlockTitle), self.officer.display_name);
        let inner = frame_body(ctx, &title, area, f);
        let labels = [l.t(T::Reason), l.t(T::ExtraAllowance)];
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let mut lines = vec![
            Line::raw(format!("{} · {}", self.officer.login, self.officer.unit)),
            Line::raw(""),
            form_row(
                ctx,
                labels[0],
                self.reason.shown(),
                self.focus == Focus::Reason,
                w,
            ),
            form_row(
                ctx,
                labels[1],
                self.extra.shown(),
                self.focus == Focus::Extra,
                w,
            ),
            Line::raw(""),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
