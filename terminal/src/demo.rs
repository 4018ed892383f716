//! The demo panel: in `okaz demo` one person plays the official and the
//! citizen, so beside the official's screens the terminal shows what the
//! citizen's phone received, who can log in (with their live TOTP codes),
//! and sample citizens to check.
//!
//! Only a launcher that knows it runs a throw-away demo creates a panel;
//! the terminal an official uses never has one. Like everything else the
//! panel changes only in `update` ([`crate::Msg::Inbox`],
//! [`crate::Msg::DemoCodes`]); `draw` is pure.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use zeroize::Zeroizing;

use crate::i18n::Lang;
use crate::profile::Profile;
use crate::widgets::cell;

/// From this width the panel stands beside the screens; below it a strip
/// under them shows the newest SMS and the first officer's code.
pub const SIDE_MIN_WIDTH: u16 = 100;
/// Below this height there is no room for the strip either.
const STRIP_MIN_HEIGHT: u16 = 20;
/// Rows of the bottom strip (a border line and two lines of text).
const STRIP_ROWS: u16 = 3;

/// A demo account, as the panel lists it.
#[derive(Debug, Clone)]
pub struct DemoOfficer {
    /// Login name.
    pub login: String,
    /// Password, shown because the account only lives as long as the demo.
    pub password: Zeroizing<String>,
    /// Current TOTP code (with whatever the launcher appends, e.g. the
    /// seconds left), replaced by [`crate::Msg::DemoCodes`].
    pub code: String,
}

/// The demo's side panel.
#[derive(Debug, Clone, Default)]
pub struct DemoPanel {
    /// Accounts to log in with; the first is prefilled in the login form.
    pub officers: Vec<DemoOfficer>,
    /// Sample citizens, one line each (PESEL and what makes them useful).
    pub citizens: Vec<String>,
    /// The sample citizens' SMS, newest first.
    pub inbox: Vec<String>,
    /// The police terminal's PIN (`demo.police`), when the demo provisioned
    /// a terminal certificate.
    pub pin: Option<Zeroizing<String>>,
    /// Sample vehicles' plates, for the police lookups by plate.
    pub plates: Vec<String>,
}

impl DemoPanel {
    /// Replaces the officers' codes, in the order of [`DemoPanel::officers`].
    pub fn set_codes(&mut self, codes: Vec<String>) {
        for (o, c) in self.officers.iter_mut().zip(codes) {
            o.code = c;
        }
    }

    /// Login and password to prefill in the login form.
    pub fn prefill(&self) -> Option<(&str, &str)> {
        self.officers
            .first()
            .map(|o| (o.login.as_str(), o.password.as_str()))
    }
}

/// Splits the screen between the official's screens and the panel; the
/// second area is where the panel goes (empty when there is no room).
pub fn split(area: Rect) -> (Rect, Rect, bool) {
    if area.width >= SIDE_MIN_WIDTH {
        // The screens keep at least 64 columns; the panel gets 36 to 50.
        let w = area.width.saturating_sub(70).clamp(36, 50);
        let [main, side] =
            Layout::horizontal([Constraint::Min(0), Constraint::Length(w)]).areas(area);
        (main, side, true)
    } else if area.height >= STRIP_MIN_HEIGHT {
        let [main, strip] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(STRIP_ROWS)]).areas(area);
        (main, strip, false)
    } else {
        (area, Rect::default(), false)
    }
}

/// Draws the panel beside the screens (`side`) or as a strip under them.
pub fn draw(p: &DemoPanel, lang: Lang, profile: Profile, area: Rect, side: bool, f: &mut Frame) {
    if area.area() == 0 {
        return;
    }
    if side {
        draw_side(p, lang, profile, area, f);
    } else {
        draw_strip(p, lang, profile, area, f);
    }
}

fn heading(text: &str, profile: Profile) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), profile.label()))
}

fn draw_side(p: &DemoPanel, lang: Lang, profile: Profile, area: Rect, f: &mut Frame) {
    let block = Block::new()
        .borders(Borders::ALL)
        .title(lang.pick(
            " Demo: jesteś też obywatelem ",
            " Demo: you are the citizen too ",
        ))
        .title_style(profile.label());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = usize::from(inner.width);
    let mut top = vec![heading(
        lang.pick(
            "Konta (login · hasło · kod)",
            "Accounts (login · password · code)",
        ),
        profile,
    )];
    for o in &p.officers {
        top.push(Line::raw(format!(
            "{} {} {}",
            cell(&o.login, 13),
            cell(&o.password, 9),
            o.code
        )));
    }
    top.push(heading(
        lang.pick("Obywatele (PESEL)", "Sample citizens (PESEL)"),
        profile,
    ));
    top.extend(p.citizens.iter().map(|c| Line::raw(cell(c, w))));
    if let Some(pin) = &p.pin {
        top.push(heading(
            lang.pick("Terminal policji: PIN", "Police terminal: PIN"),
            profile,
        ));
        top.push(Line::raw(format!("demo.police · {}", pin.as_str())));
    }
    if !p.plates.is_empty() {
        top.push(heading(
            lang.pick("Pojazdy (nr rej.)", "Sample plates"),
            profile,
        ));
        top.push(Line::raw(cell(&p.plates.join(" "), w)));
    }
    let top_rows = u16::try_from(top.len()).unwrap_or(u16::MAX);
    let [top_area, phone_area] =
        Layout::vertical([Constraint::Length(top_rows), Constraint::Min(0)]).areas(inner);
    f.render_widget(Paragraph::new(top).style(profile.text()), top_area);
    let mut phone = vec![heading(
        lang.pick("Telefon obywatela: SMS", "Citizen's phone: SMS"),
        profile,
    )];
    if p.inbox.is_empty() {
        phone.push(Line::raw(lang.pick("(brak wiadomości)", "(no messages)")));
    }
    for m in &p.inbox {
        phone.push(Line::raw(format!("✉ {m}")));
    }
    f.render_widget(
        Paragraph::new(phone)
            .style(profile.text())
            .wrap(Wrap { trim: true }),
        phone_area,
    );
}

fn draw_strip(p: &DemoPanel, lang: Lang, profile: Profile, area: Rect, f: &mut Frame) {
    let block = Block::new()
        .borders(Borders::TOP)
        .title(lang.pick(" Demo ", " Demo "))
        .title_style(profile.label());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let account = match (&p.pin, p.officers.first()) {
        // On a police terminal the certificate names the officer: the PIN is all.
        (Some(pin), _) => format!(
            "PIN {} · {}",
            pin.as_str(),
            p.plates.first().map(String::as_str).unwrap_or_default()
        ),
        (None, Some(o)) => format!("{} / {} · {}", o.login, o.password.as_str(), o.code),
        (None, None) => String::new(),
    };
    let sms = p.inbox.first().map_or_else(
        || lang.pick("(brak SMS)", "(no SMS)").to_string(),
        |m| format!("✉ {m}"),
    );
    f.render_widget(
        Paragraph::new(vec![Line::raw(account), Line::raw(sms)]).style(profile.text()),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_screens_get_a_side_panel_and_small_ones_a_strip() {
        let (main, side, is_side) = split(Rect::new(0, 0, 100, 30));
        assert!(is_side);
        assert_eq!((main.width, side.width), (64, 36));
        let (main, strip, is_side) = split(Rect::new(0, 0, 80, 24));
        assert!(!is_side);
        assert_eq!((main.height, strip.height), (21, 3));
        let (main, none, _) = split(Rect::new(0, 0, 40, 16));
        assert_eq!((main.height, none.area()), (16, 0));
    }

    #[test]
    fn codes_replace_in_order_and_extra_ones_are_ignored() {
        let mut p = DemoPanel {
            officers: vec![DemoOfficer {
                login: "a".into(),
                password: Zeroizing::new("p".into()),
                code: String::new(),
            }],
            ..DemoPanel::default()
        };
        p.set_codes(vec!["111111".into(), "222222".into()]);
        assert_eq!(p.officers[0].code, "111111");
        assert_eq!(p.prefill(), Some(("a", "p")));
    }
}
