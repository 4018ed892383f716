//! Security officer: bind a terminal certificate to one officer. The officer
//! names the certificate's PEM file; the client task reads it and sends only
//! its SHA-256 fingerprint. The broker answers with the PIN, shown once.

use std::path::PathBuf;

use okaz_protocol::OfficerView;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// The certificate form.
#[derive(Debug)]
pub struct CertificateForm {
    /// Whose terminal.
    pub officer: OfficerView,
    /// Path of the PEM file.
    pub path: TextField,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Bind the certificate in this file to this officer (id).
    Submit(String, PathBuf),
    /// Back to the list.
    Back,
}

impl CertificateForm {
    /// An empty form.
    pub fn new(officer: OfficerView) -> Self {
        CertificateForm {
            officer,
            path: TextField::new(255, Charset::Any),
            note: None,
        }
    }

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
                Intent::Submit(self.officer.id.clone(), PathBuf::from(path))
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
        let title = format!("{}: {}", t(l, A::CertificateTitle), self.officer.login);
        let inner = frame_body(ctx, &title, area, f);
        let label = t(l, A::CertificatePath);
        let mut lines = vec![
            Line::raw(t(l, A::CertificateHint)),
            Line::raw(""),
            form_row(ctx, label, self.path.shown(), true, label.chars().count()),
            Line::raw(""),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
