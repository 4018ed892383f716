//! Waiting for the citizen's code: where the SMS went (masked), the time
//! left, the attempts left, and the code entry.

use chrono::{DateTime, Utc};
use okaz_protocol::DocumentType;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{self, Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// Digits in an SMS code.
pub const CODE_LEN: usize = 6;

/// A verification waiting for its code.
#[derive(Debug)]
pub struct Awaiting {
    /// Verification id.
    pub id: String,
    /// Document asked for.
    pub document: DocumentType,
    /// Masked phone the SMS went to.
    pub sent_to: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong codes still allowed, when the broker said.
    pub attempts_left: Option<u32>,
    /// The code as typed.
    pub code: TextField,
    /// Refusal shown under the entry (e.g. a wrong code).
    pub note: Option<Note>,
    /// The code releases a bundle (whose parts screen shows no photo).
    pub bundle: bool,
    /// The check, kept when the officer may break glass instead (the
    /// citizen cannot give the code); `None` otherwise.
    pub check: Option<crate::break_glass::PendingCheck>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Send the code.
    Submit(String),
    /// Give up this verification.
    Cancel,
    /// Give it up and break glass instead.
    BreakGlass,
}

impl Awaiting {
    /// A fresh waiting screen.
    pub fn new(
        id: String,
        document: DocumentType,
        sent_to: String,
        expires_at: DateTime<Utc>,
        attempts_left: Option<u32>,
    ) -> Self {
        Awaiting {
            id,
            document,
            sent_to,
            expires_at,
            attempts_left,
            bundle: false,
            check: None,
            code: TextField::new(CODE_LEN, Charset::Digits),
            note: None,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Esc => Intent::Cancel,
            Key::Char('b' | 'B') if self.check.is_some() => Intent::BreakGlass,
            Key::Enter if self.code.value().len() == CODE_LEN => {
                let code = self.code.value().to_string();
                self.code.clear();
                self.note = None;
                Intent::Submit(code)
            }
            Key::Enter => {
                self.note = Some(Note::CodeIncomplete);
                Intent::None
            }
            other => {
                self.code.input(other);
                Intent::None
            }
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        let mut k = vec![T::KeyConfirm, T::KeyCancel];
        if self.check.is_some() {
            k.push(T::KeyBreakGlass);
        }
        k.push(T::KeyLogout);
        k
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::AwaitTitle), area, f);
        let labels = [
            l.t(T::SentTo),
            l.t(T::ExpiresIn),
            l.t(T::AttemptsLeft),
            l.t(T::Code),
        ];
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let left = (self.expires_at - ctx.now).num_seconds().max(0);
        let countdown = format!("{}:{:02}", left / 60, left % 60);
        let attempts = self
            .attempts_left
            .map(|n| n.to_string())
            .unwrap_or_else(|| "–".into());
        let mut lines = vec![
            Line::from(Span::styled(
                i18n::document(l, self.document).to_string(),
                ctx.profile.label(),
            )),
            Line::raw(l.t(T::AwaitAsk)),
            form_row(ctx, labels[0], self.sent_to.clone(), false, w),
            form_row(ctx, labels[1], countdown, false, w),
            form_row(ctx, labels[2], attempts, false, w),
            form_row(ctx, labels[3], self.code.shown(), true, w),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
