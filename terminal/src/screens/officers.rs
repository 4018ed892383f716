//! Security officer: the accounts of the unit, one selected, with what can
//! be done to it (disable/enable, reset password or TOTP, bind a terminal
//! certificate) and the way to a new account and the lockouts export. A
//! credential reset asks for confirmation first: the old one stops working.

use okaz_protocol::{AccountView, OfficerView};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::msg::Key;
use crate::profile::Profile;
use crate::widgets::{cell, frame_body, note_lines, para, row_mark, Ctx};

/// A credential reset awaiting confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// A new password.
    Password,
    /// A new TOTP secret.
    Totp,
}

/// The list of accounts.
#[derive(Debug, Default)]
pub struct OfficerList {
    /// `None` while loading.
    pub items: Option<Vec<AccountView>>,
    /// Index of the selected row.
    pub selected: usize,
    /// A reset the officer must confirm with Enter.
    pub confirm: Option<Reset>,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing.
    None,
    /// Open the new-account form.
    New,
    /// Open the disable (`true`) or enable form for this officer.
    SetDisabled(OfficerView, bool),
    /// Reset (confirmed) this officer's credential.
    Reset(OfficerView, Reset),
    /// Open the certificate form for this officer.
    Certificate(OfficerView),
    /// Open the lockouts export.
    Export,
    /// Load the list again.
    Refresh,
    /// Back to the query form.
    Back,
}

impl OfficerList {
    /// A list that is being loaded, with an optional note.
    pub fn loading(note: Option<Note>) -> Self {
        OfficerList {
            note,
            ..OfficerList::default()
        }
    }

    fn current(&self) -> Option<&AccountView> {
        self.items.as_ref().and_then(|v| v.get(self.selected))
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        if let Some(reset) = self.confirm {
            // Only a deliberate Enter resets; anything else cancels.
            self.confirm = None;
            return match (key, self.current()) {
                (Key::Enter, Some(a)) => Intent::Reset(a.officer.clone(), reset),
                _ => Intent::None,
            };
        }
        let n = self.items.as_ref().map_or(0, Vec::len);
        match key {
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Key::Char('n' | 'N') => return Intent::New,
            Key::Char('e' | 'E') => return Intent::Export,
            Key::Char('r' | 'R') => return Intent::Refresh,
            Key::Esc => return Intent::Back,
            Key::Char(c) => {
                let Some(a) = self.current() else {
                    return Intent::None;
                };
                let officer = a.officer.clone();
                match c.to_ascii_lowercase() {
                    'd' => return Intent::SetDisabled(officer, !a.disabled),
                    'c' => return Intent::Certificate(officer),
                    'p' => {
                        self.note = None;
                        self.confirm = Some(Reset::Password);
                    }
                    't' => {
                        self.note = None;
                        self.confirm = Some(Reset::Totp);
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        if self.confirm.is_some() {
            return vec![T::KeyConfirm, T::KeyBack];
        }
        vec![
            T::KeySelect,
            T::KeyNewAccount,
            T::KeyDisable,
            T::KeyResetPassword,
            T::KeyResetTotp,
            T::KeyCertificate,
            T::KeyExport,
            T::KeyRefresh,
            T::KeyBack,
        ]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, t(l, A::OfficersTitle), area, f);
        let mut lines = note_lines(ctx, self.note);
        if let (Some(reset), Some(a)) = (self.confirm, self.current()) {
            let what = match reset {
                Reset::Password => A::ConfirmResetPassword,
                Reset::Totp => A::ConfirmResetTotp,
            };
            lines.push(Line::styled(
                format!("{} {}?", t(l, what), a.officer.login),
                ctx.profile.problem(),
            ));
            lines.push(Line::raw(t(l, A::ConfirmHint)));
            lines.push(Line::raw(""));
        }
        match &self.items {
            None => lines.push(Line::raw(l.t(T::Loading))),
            Some(v) if v.is_empty() => lines.push(Line::raw(t(l, A::NoOfficers))),
            Some(v) => {
                let desktop = ctx.profile == Profile::Desktop;
                let header = if desktop {
                    format!(
                        "  {}{}{}{}",
                        cell(t(l, A::Login), 16),
                        cell(t(l, A::Name), 24),
                        cell(t(l, A::Role), 18),
                        t(l, A::State)
                    )
                } else {
                    format!("  {} · {}", t(l, A::Login), t(l, A::State))
                };
                lines.push(Line::from(Span::styled(header, ctx.profile.label())));
                for (i, a) in v.iter().enumerate() {
                    let on = i == self.selected;
                    let (mark, style) = row_mark(ctx, on);
                    let state = state(ctx, a);
                    let row = if desktop {
                        format!(
                            "{mark}{}{}{}{state}",
                            cell(&a.officer.login, 16),
                            cell(&a.officer.display_name, 24),
                            cell(&a.officer.role, 18),
                        )
                    } else {
                        format!("{mark}{} · {state}", a.officer.login)
                    };
                    lines.push(Line::from(Span::styled(row, style)));
                    if !desktop && on {
                        lines.push(Line::raw(format!(
                            "  {} · {}",
                            a.officer.display_name, a.officer.role
                        )));
                    }
                }
            }
        }
        f.render_widget(para(ctx, lines), inner);
    }
}

fn state(ctx: &Ctx, a: &AccountView) -> &'static str {
    let l = ctx.lang;
    match (a.disabled, a.locked_at.is_some()) {
        (true, _) => t(l, A::Disabled),
        (false, true) => t(l, A::Locked),
        (false, false) => t(l, A::Active),
    }
}
