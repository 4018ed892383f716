//! Security officer: a new account of the unit (login, name, role, unit).
//! The broker answers with the first password and the TOTP URI, shown once
//! on the next screen; the policy decides which roles this officer may create.

use okaz_protocol::NewOfficer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::i18n_admin::{t, A};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::cycle;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// Which field has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Login name.
    Login,
    /// Name shown on screens.
    Name,
    /// Policy role.
    Role,
    /// Unit.
    Unit,
}

const ORDER: [Focus; 4] = [Focus::Login, Focus::Name, Focus::Role, Focus::Unit];

/// The new-account form.
#[derive(Debug)]
pub struct NewOfficerForm {
    /// Login name.
    pub login: TextField,
    /// Display name.
    pub name: TextField,
    /// Role.
    pub role: TextField,
    /// Unit, prefilled with the security officer's own.
    pub unit: TextField,
    /// Focused field.
    pub focus: Focus,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Create this account.
    Submit(NewOfficer),
    /// Back to the list.
    Back,
}

impl NewOfficerForm {
    /// An empty form, the unit prefilled.
    pub fn new(unit: &str) -> Self {
        let mut u = TextField::new(64, Charset::Any);
        for c in unit.chars() {
            u.input(Key::Char(c));
        }
        NewOfficerForm {
            login: TextField::new(64, Charset::Any),
            name: TextField::new(100, Charset::Any),
            role: TextField::new(64, Charset::Any),
            unit: u,
            focus: Focus::Login,
            note: None,
        }
    }

    fn field(&mut self, f: Focus) -> &mut TextField {
        match f {
            Focus::Login => &mut self.login,
            Focus::Name => &mut self.name,
            Focus::Role => &mut self.role,
            Focus::Unit => &mut self.unit,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Tab | Key::Down | Key::BackTab | Key::Up => {
                self.focus = cycle(&ORDER, self.focus, matches!(key, Key::Tab | Key::Down));
            }
            Key::Esc => return Intent::Back,
            Key::Enter => {
                let values: Vec<String> = ORDER
                    .iter()
                    .map(|f| self.field(*f).value().trim().to_string())
                    .collect();
                if let Some(i) = values.iter().position(String::is_empty) {
                    self.note = Some(Note::FillAll);
                    self.focus = ORDER.get(i).copied().unwrap_or(Focus::Login);
                    return Intent::None;
                }
                let [login, display_name, role, unit] =
                    <[String; 4]>::try_from(values).unwrap_or_else(|_| Default::default());
                self.note = None;
                return Intent::Submit(NewOfficer {
                    login,
                    display_name,
                    role,
                    unit,
                });
            }
            other => {
                let f = self.focus;
                self.field(f).input(other);
            }
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyNext, T::KeyConfirm, T::KeyBack]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, t(l, A::NewOfficerTitle), area, f);
        let labels = [t(l, A::Login), t(l, A::Name), t(l, A::Role), t(l, A::Unit)];
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let fields = [&self.login, &self.name, &self.role, &self.unit];
        let mut lines: Vec<Line<'static>> = ORDER
            .iter()
            .zip(labels)
            .zip(fields)
            .map(|((focus, label), field)| {
                form_row(ctx, label, field.shown(), self.focus == *focus, w)
            })
            .collect();
        lines.push(Line::raw(""));
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
