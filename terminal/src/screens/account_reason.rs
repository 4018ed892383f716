//! Security officer: disable or enable one account, with a reason (required
//! and audited). A disabled account cannot log in until enabled again.

use okaz_protocol::OfficerView;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// The disable/enable form.
#[derive(Debug)]
pub struct ReasonForm {
    /// Whose account.
    pub officer: OfficerView,
    /// Disable (else enable).
    pub disable: bool,
    /// Why.
    pub reason: TextField,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Disable or enable (officer id, disable, reason).
    Submit(String, bool, String),
    /// Back to the list.
    Back,
}

impl ReasonForm {
    /// An empty form.
    pub fn new(officer: OfficerView, disable: bool) -> Self {
        ReasonForm {
            officer,
            disable,
            reason: TextField::new(200, Charset::Any),
            note: None,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Esc => Intent::Back,
            Key::Enter => {
                let reason = self.reason.value().trim().to_string();
                if reason.is_empty() {
                    self.note = Some(Note::NeedReason);
                    return Intent::None;
                }
                Intent::Submit(self.officer.id.clone(), self.disable, reason)
            }
            other => {
                self.reason.input(other);
                Intent::None
            }
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyConfirm, T::KeyBack]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let what = if self.disable {
            A::DisableTitle
        } else {
            A::EnableTitle
        };
        let title = format!("{}: {}", t(l, what), self.officer.login);
        let inner = frame_body(ctx, &title, area, f);
        let label = t(l, A::Reason);
        let mut lines = vec![
            Line::raw(format!(
                "{} · {}",
                self.officer.display_name, self.officer.unit
            )),
            Line::raw(""),
            form_row(ctx, label, self.reason.shown(), true, label.chars().count()),
            Line::raw(""),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
