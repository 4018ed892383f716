//! A refusal that ends what the officer was doing: what happened, in words,
//! and what to do next. Enter goes on to the next sensible screen.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::msg::Key;
use crate::widgets::{frame_body, para, Ctx};

/// Where Enter leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A fresh query form.
    Query,
    /// Log out and back to the login form (e.g. the account is locked).
    Login,
}

/// The notice screen.
#[derive(Debug)]
pub struct Notice {
    /// What to say.
    pub note: Note,
    /// Where Enter leads.
    pub next: Next,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing.
    None,
    /// Go on to `next`.
    Continue,
}

impl Notice {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Enter | Key::Esc => Intent::Continue,
            _ => Intent::None,
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyContinue, T::KeyLogout]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let inner = frame_body(ctx, ctx.lang.t(T::NoticeTitle), area, f);
        f.render_widget(para(ctx, lines(ctx, self.note)), inner);
    }
}

/// What a refusal screen says: the refusal, what to do next, and the
/// request id to quote (shared with the break-glass offer).
pub fn lines(ctx: &Ctx, note: Note) -> Vec<Line<'static>> {
    let l = ctx.lang;
    let (msg, hint) = note.texts(l);
    let mut lines = vec![
        Line::raw(""),
        Line::from(Span::styled(format!("✖ {msg}"), ctx.profile.problem())),
        Line::raw(""),
    ];
    if let Some(h) = hint {
        lines.push(Line::from(Span::styled(
            format!("{}:", l.t(T::WhatNext)),
            ctx.profile.label(),
        )));
        lines.push(Line::raw(format!("→ {h}")));
    }
    if let Some(reference) = crate::widgets::reference_line(ctx, note) {
        lines.push(Line::raw(""));
        lines.push(reference);
    }
    lines
}
