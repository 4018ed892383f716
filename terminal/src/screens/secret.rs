//! Security officer: a new credential to hand over (the first password and
//! TOTP URI of a new account, a reset password or TOTP, a terminal's PIN),
//! shown this once. Leaving the screen drops and wipes it; the terminal
//! never writes it anywhere.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::T;
use crate::i18n_admin::{t, A};
use crate::msg::Key;
use crate::msg_admin::Secret;
use crate::widgets::{frame_body, para, Ctx};

/// A credential on screen.
#[derive(Debug)]
pub struct SecretShown {
    /// Whose (login).
    pub login: String,
    /// Each credential with what it is.
    pub items: Vec<(A, Secret)>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing.
    None,
    /// Done: back to the list (the credential is wiped).
    Done,
}

impl SecretShown {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Enter | Key::Esc => Intent::Done,
            _ => Intent::None,
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyConfirm]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let title = format!("{}: {}", t(l, A::SecretTitle), self.login);
        let inner = frame_body(ctx, &title, area, f);
        let mut lines = vec![
            Line::styled(t(l, A::SecretOnce), ctx.profile.problem()),
            Line::raw(""),
        ];
        for (what, value) in &self.items {
            lines.push(Line::from(vec![
                Span::styled(format!("{}: ", t(l, *what)), ctx.profile.label()),
                Span::styled(value.expose().to_string(), ctx.profile.focused()),
            ]));
        }
        f.render_widget(para(ctx, lines), inner);
    }
}
