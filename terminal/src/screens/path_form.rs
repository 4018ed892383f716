//! A form of one file path: the certificate to bind, the CSV to write. The
//! key handling and the drawing both forms share; each keeps its own
//! fields, title and words.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::Note;
use crate::input::TextField;
use crate::msg::Key;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// What a key on a path form asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum PathIntent {
    /// Nothing beyond editing.
    None,
    /// Use the file at this path.
    Submit(PathBuf),
    /// Back to the list.
    Back,
}

/// Handles a key: Esc goes back, Enter submits a path that is not blank
/// (a blank one asks for it), anything else edits.
pub fn key(path: &mut TextField, note: &mut Option<Note>, key: Key) -> PathIntent {
    match key {
        Key::Esc => PathIntent::Back,
        Key::Enter => {
            let typed = path.value().trim();
            if typed.is_empty() {
                *note = Some(Note::FillAll);
                return PathIntent::None;
            }
            PathIntent::Submit(PathBuf::from(typed))
        }
        other => {
            path.input(other);
            PathIntent::None
        }
    }
}

/// The words of a path form.
pub struct Words<'a> {
    /// The frame's title.
    pub title: &'a str,
    /// What the file is, above the field.
    pub hint: &'static str,
    /// The field's label.
    pub label: &'static str,
}

/// Draws a path form: the hint, the field, the note.
pub fn draw(
    ctx: &Ctx,
    words: Words<'_>,
    path: &TextField,
    note: Option<Note>,
    area: Rect,
    f: &mut Frame,
) {
    let inner = frame_body(ctx, words.title, area, f);
    let mut lines = vec![
        Line::raw(words.hint),
        Line::raw(""),
        form_row(
            ctx,
            words.label,
            path.shown(),
            true,
            words.label.chars().count(),
        ),
        Line::raw(""),
    ];
    lines.extend(note_lines(ctx, note));
    f.render_widget(para(ctx, lines), inner);
}
