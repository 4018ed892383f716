//! Security officer: the unit's lockouts as CSV, saved to a file the officer
//! names. The only file the terminal writes: it holds officers' accounts,
//! never citizen data, and an existing file is never overwritten.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// The export form.
#[derive(Debug)]
pub struct ExportForm {
    /// Where to save.
    pub path: TextField,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Save the lockouts to this new file.
    Submit(PathBuf),
    /// Back to the list.
    Back,
}

impl Default for ExportForm {
    fn default() -> Self {
        ExportForm {
            path: TextField::new(255, Charset::Any),
            note: None,
        }
    }
}

impl ExportForm {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Esc => Intent::Back,
            Key::Enter => {
                let path = self.path.value().trim();
                if path.is_empty() {
                    self.note = Some(Note::FillAll);
                    return Intent::None;
                }
                Intent::Submit(PathBuf::from(path))
            }
            other => {
                self.path.input(other);
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
        let inner = frame_body(ctx, t(l, A::ExportTitle), area, f);
        let label = t(l, A::ExportPath);
        let mut lines = vec![
            Line::raw(t(l, A::ExportHint)),
            Line::raw(""),
            form_row(ctx, label, self.path.shown(), true, label.chars().count()),
            Line::raw(""),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
