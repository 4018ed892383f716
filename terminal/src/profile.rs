//! Display profiles: a police handheld (40x16, high contrast, one key per
//! action, large status) or a desk terminal (80x24 and larger).

use ratatui::style::{Color, Modifier, Style};

/// Which kind of device the terminal runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Small screen, high contrast, few words.
    Handheld,
    /// Desk terminal.
    Desktop,
}

impl Profile {
    /// Parses `handheld` or `desktop`.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "handheld" => Some(Profile::Handheld),
            "desktop" => Some(Profile::Desktop),
            _ => None,
        }
    }

    /// Plain text.
    pub fn text(self) -> Style {
        match self {
            Profile::Handheld => Style::new().fg(Color::White).bg(Color::Black),
            Profile::Desktop => Style::new(),
        }
    }

    /// Field labels.
    pub fn label(self) -> Style {
        match self {
            Profile::Handheld => self.text().add_modifier(Modifier::BOLD),
            Profile::Desktop => Style::new().fg(Color::Cyan),
        }
    }

    /// The field that has the focus.
    pub fn focused(self) -> Style {
        match self {
            Profile::Handheld => Style::new().fg(Color::Black).bg(Color::White),
            Profile::Desktop => Style::new().fg(Color::Black).bg(Color::Cyan),
        }
    }

    /// The header bar (who is logged in, quota).
    pub fn header(self) -> Style {
        match self {
            Profile::Handheld => Style::new()
                .fg(Color::Black)
                .bg(Color::White)
                .add_modifier(Modifier::BOLD),
            Profile::Desktop => Style::new().fg(Color::White).bg(Color::Blue),
        }
    }

    /// The key hints.
    pub fn keys(self) -> Style {
        match self {
            Profile::Handheld => Style::new()
                .fg(Color::Yellow)
                .bg(Color::Black)
                .add_modifier(Modifier::BOLD),
            Profile::Desktop => Style::new().fg(Color::Yellow),
        }
    }

    /// A problem message.
    pub fn problem(self) -> Style {
        Style::new()
            .fg(Color::LightRed)
            .add_modifier(Modifier::BOLD)
    }

    /// The supervisor's banner: something waits for the unit.
    pub fn alert(self) -> Style {
        Style::new()
            .fg(Color::Yellow)
            .bg(Color::Black)
            .add_modifier(Modifier::BOLD)
    }

    /// The banner when a break-glass arrived that F5 has not shown yet.
    pub fn alert_new(self) -> Style {
        Style::new()
            .fg(Color::Black)
            .bg(Color::LightRed)
            .add_modifier(Modifier::BOLD)
    }

    /// An informational message.
    pub fn info(self) -> Style {
        Style::new().fg(Color::LightGreen)
    }

    /// How many rows the large status band takes.
    pub fn status_rows(self) -> u16 {
        match self {
            Profile::Handheld => 3,
            Profile::Desktop => 3,
        }
    }
}
