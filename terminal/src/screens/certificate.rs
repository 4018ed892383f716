//! Security officer: bind a terminal certificate to one officer. The officer
//! names the certificate's PEM file; the client task reads it and sends only
//! its SHA-256 fingerprint. The broker answers with the PIN, shown once.

use std::path::PathBuf;

use okaz_protocol::OfficerView;
use ratatui::layout::Rect;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::path_form::{self, PathIntent, Words};
use crate::widgets::Ctx;

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
        match path_form::key(&mut self.path, &mut self.note, key) {
            PathIntent::None => Intent::None,
            PathIntent::Submit(path) => Intent::Submit(self.officer.id.clone(), path),
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
        let title = format!("{}: {}", t(l, A::CertificateTitle), self.officer.login);
        let words = Words {
            title: &title,
            hint: t(l, A::CertificateHint),
            label: t(l, A::CertificatePath),
        };
        path_form::draw(ctx, words, &self.path, self.note, area, f);
    }
}
