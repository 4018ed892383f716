//! Security officer: the unit's lockouts as CSV, saved to a file the officer
//! names. The only file the terminal writes: it holds officers' accounts,
//! never citizen data, and an existing file is never overwritten.

use std::path::PathBuf;

use ratatui::layout::Rect;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::path_form::{self, PathIntent, Words};
use crate::widgets::Ctx;

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
        match path_form::key(&mut self.path, &mut self.note, key) {
            PathIntent::None => Intent::None,
            PathIntent::Submit(path) => Intent::Submit(path),
            PathIntent::Back => Intent::Back,
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyConfirm, T::KeyBack]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let words = Words {
            title: t(l, A::ExportTitle),
            hint: t(l, A::ExportHint),
            label: t(l, A::ExportPath),
        };
        path_form::draw(ctx, words, &self.path, self.note, area, f);
    }
}
