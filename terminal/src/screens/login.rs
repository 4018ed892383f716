//! Login: login, password (masked) and TOTP code; or, on a terminal with a
//! client certificate (police handhelds), only the officer's PIN. Also the
//! locked screen: after idle time or a lock the form comes back with a note
//! saying why.

use okaz_protocol::{LoginRequest, PinLoginRequest};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::cycle;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// Which field has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Login name.
    Login,
    /// Password.
    Password,
    /// TOTP code.
    Totp,
    /// PIN (certificate login).
    Pin,
}

/// Longest PIN accepted by the form.
const PIN_MAX: usize = 12;

const ORDER: [Focus; 3] = [Focus::Login, Focus::Password, Focus::Totp];

/// The login form.
#[derive(Debug)]
pub struct LoginForm {
    /// Login name.
    pub login: TextField,
    /// Password, masked.
    pub password: TextField,
    /// Six-digit TOTP code.
    pub totp: TextField,
    /// The officer's PIN, masked; used instead of the three fields above
    /// when the terminal logs in with its certificate.
    pub pin: TextField,
    /// Whether this is the certificate + PIN form.
    pub certificate: bool,
    /// Focused field.
    pub focus: Focus,
    /// Why the form is shown (locked, logged out, refused).
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Every field is filled: log in.
    Submit,
}

/// A login request of either kind.
#[derive(Debug)]
pub enum Request {
    /// Login, password and TOTP.
    Password(LoginRequest),
    /// Certificate + PIN.
    Pin(PinLoginRequest),
}

impl LoginForm {
    /// An empty form with an optional note.
    pub fn new(note: Option<Note>) -> Self {
        LoginForm {
            login: TextField::new(64, Charset::Any),
            password: TextField::new(128, Charset::Any).secret(),
            totp: TextField::new(8, Charset::Digits),
            pin: TextField::new(PIN_MAX, Charset::Digits).secret(),
            certificate: false,
            focus: Focus::Login,
            note,
        }
    }

    /// The certificate + PIN form of a police terminal.
    pub fn certificate(note: Option<Note>) -> Self {
        LoginForm {
            certificate: true,
            focus: Focus::Pin,
            ..LoginForm::new(note)
        }
    }

    fn order(&self) -> &'static [Focus] {
        if self.certificate {
            &[Focus::Pin]
        } else {
            &ORDER
        }
    }

    /// A form with login and password already typed, waiting for the code
    /// (the demo's accounts, whose passwords are on screen anyway).
    pub fn prefilled(note: Option<Note>, login: &str, password: &str) -> Self {
        let mut form = LoginForm::new(note);
        for c in login.chars() {
            form.login.input(Key::Char(c));
        }
        for c in password.chars() {
            form.password.input(Key::Char(c));
        }
        form.focus = Focus::Totp;
        form
    }

    fn field(&mut self, f: Focus) -> &mut TextField {
        match f {
            Focus::Login => &mut self.login,
            Focus::Password => &mut self.password,
            Focus::Totp => &mut self.totp,
            Focus::Pin => &mut self.pin,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Tab | Key::Down => self.focus = cycle(self.order(), self.focus, true),
            Key::BackTab | Key::Up => self.focus = cycle(self.order(), self.focus, false),
            Key::Enter => {
                // Enter on a filled field moves on to the first empty one,
                // so typing top to bottom needs no Tab.
                let order = self.order();
                match order.iter().copied().find(|f| self.field(*f).is_empty()) {
                    Some(empty) => self.focus = empty,
                    None => return Intent::Submit,
                }
            }
            other => {
                let focus = self.focus;
                self.field(focus).input(other);
            }
        }
        Intent::None
    }

    /// The request to send; the password, code or PIN are wiped from the form.
    pub fn take(&mut self) -> Request {
        if self.certificate {
            let req = PinLoginRequest {
                pin: self.pin.value().to_string(),
            };
            self.pin.clear();
            return Request::Pin(req);
        }
        Request::Password(self.take_request())
    }

    /// The password login request; the password and code are wiped from the form.
    pub fn take_request(&mut self) -> LoginRequest {
        let req = LoginRequest {
            login: self.login.value().trim().to_string(),
            password: self.password.value().to_string(),
            totp: self.totp.value().to_string(),
        };
        self.password.clear();
        self.totp.clear();
        self.focus = Focus::Password;
        req
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyNext, T::KeyLogin, T::KeyQuit]
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        if self.certificate {
            return self.draw_pin(ctx, area, f);
        }
        let inner = frame_body(ctx, l.t(T::LoginTitle), area, f);
        let labels = [l.t(T::Login), l.t(T::Password), l.t(T::Totp)];
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let mut lines = vec![Line::raw("")];
        for (focus, label) in ORDER.into_iter().zip(labels) {
            let value = match focus {
                Focus::Login => self.login.shown(),
                Focus::Password => self.password.shown(),
                Focus::Totp => self.totp.shown(),
                Focus::Pin => self.pin.shown(),
            };
            lines.push(form_row(ctx, label, value, focus == self.focus, w));
        }
        lines.push(Line::raw(""));
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }

    fn draw_pin(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::PinLoginTitle), area, f);
        let label = l.t(T::Pin);
        let w = label.chars().count();
        let mut lines = vec![
            Line::raw(""),
            form_row(ctx, label, self.pin.shown(), true, w),
            Line::raw(""),
            Line::styled(l.t(T::PinHint), ctx.profile.text()),
            Line::raw(""),
        ];
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }
}
