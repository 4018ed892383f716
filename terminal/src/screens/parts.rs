//! A bundle's result (e.g. a traffic stop): one line per part with its own
//! status band (valid, expired…, or not found / register unavailable), and
//! the fields of the part chosen with ↑↓. Held only here and wiped when the
//! screen is left for any reason. Photos are not kept: a list of parts has
//! no room to show one, so none is held.

use chrono::{DateTime, Utc};
use okaz_protocol::{Document, DocumentStatus, DocumentType, PartResult, PartStatus};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use zeroize::Zeroize;

use crate::i18n::{self, Lang, T};
use crate::msg::Key;
use crate::profile::Profile;
use crate::screens::result::value;
use crate::widgets::{frame_body, para, Ctx};

/// One part as held for display.
struct Part {
    kind: DocumentType,
    status: PartStatus,
    document: Option<Document>,
}

/// The parts of a bundle on display.
pub struct PartsShown {
    /// The bundle's policy name.
    pub bundle: String,
    parts: Vec<Part>,
    /// Index of the part whose fields are shown.
    pub selected: usize,
    /// When it must disappear.
    pub until: DateTime<Utc>,
}

impl std::fmt::Debug for PartsShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartsShown")
            .field("bundle", &self.bundle)
            .field("parts", &self.parts.len())
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

impl Drop for PartsShown {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing.
    None,
    /// Clear it and start a new check.
    New,
}

impl PartsShown {
    /// Takes the parts; photos are dropped at once (see the module doc).
    pub fn new(bundle: String, parts: Vec<PartResult>, until: DateTime<Utc>) -> Self {
        let parts = parts
            .into_iter()
            .map(|mut p| {
                if let Some(d) = p.document.as_mut() {
                    if let Some(photo) = d.photo.as_mut() {
                        photo.zeroize();
                    }
                    d.photo = None;
                }
                Part {
                    kind: p.kind,
                    status: p.status,
                    document: p.document.take(),
                }
            })
            .collect();
        PartsShown {
            bundle,
            parts,
            selected: 0,
            until,
        }
    }

    /// Wipes every part's fields.
    pub fn wipe(&mut self) {
        for p in &mut self.parts {
            if let Some(d) = p.document.as_mut() {
                d.zeroize();
            }
            p.document = None;
        }
    }

    /// The parts' kinds and statuses, in order (for tests).
    pub fn statuses(&self) -> Vec<(DocumentType, PartStatus)> {
        self.parts.iter().map(|p| (p.kind, p.status)).collect()
    }

    /// Fields held across all parts.
    pub fn field_count(&self) -> usize {
        self.parts
            .iter()
            .filter_map(|p| p.document.as_ref())
            .map(|d| d.fields.len())
            .sum()
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        let n = self.parts.len().max(1);
        match key {
            Key::Down | Key::Tab => self.selected = (self.selected + 1) % n,
            Key::Up | Key::BackTab => self.selected = (self.selected + n - 1) % n,
            Key::Enter | Key::Esc | Key::Char('n') | Key::Char('N') => return Intent::New,
            _ => {}
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeySelect, T::KeyNew, T::KeyLogout]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, &i18n::bundle(l, &self.bundle), area, f);
        let rows = u16::try_from(self.parts.len()).unwrap_or(u16::MAX);
        let [bands, info, rest] = Layout::vertical([
            Constraint::Length(rows),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        let lines = self
            .parts
            .iter()
            .enumerate()
            .map(|(i, p)| band_line(l, p, i == self.selected, usize::from(bands.width)))
            .collect();
        f.render_widget(para(ctx, lines), bands);
        let left = (self.until - ctx.now).num_seconds().max(0);
        f.render_widget(
            para(
                ctx,
                vec![Line::raw(format!("{} {left} s", l.t(T::ClearsIn)))],
            ),
            info,
        );
        f.render_widget(para(ctx, self.field_lines(ctx)), rest);
    }

    fn field_lines(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let l = ctx.lang;
        let Some(part) = self.parts.get(self.selected) else {
            return Vec::new();
        };
        let Some(doc) = &part.document else {
            return vec![Line::styled(
                part_status(l, part).to_string(),
                ctx.profile.problem(),
            )];
        };
        let known = doc.kind.fields();
        let labels: Vec<(String, String)> = known
            .iter()
            .filter_map(|k| doc.fields.get(*k).map(|v| (i18n::field(l, k), value(l, v))))
            .collect();
        let w = match ctx.profile {
            Profile::Handheld => 0,
            Profile::Desktop => labels
                .iter()
                .map(|(s, _)| s.chars().count())
                .max()
                .unwrap_or(0),
        };
        labels
            .into_iter()
            .map(|(label, v)| {
                let pad = " ".repeat(w.saturating_sub(label.chars().count()));
                Line::from(vec![
                    Span::styled(format!("{label}{pad}: "), ctx.profile.label()),
                    Span::raw(v),
                ])
            })
            .collect()
    }
}

fn part_status(l: Lang, p: &Part) -> &'static str {
    match (p.status, &p.document) {
        (PartStatus::Released, Some(d)) => i18n::status(l, d.status),
        (PartStatus::NotFound, _) => l.pick("✖ NIE ZNALEZIONO", "✖ NOT FOUND"),
        (PartStatus::Unavailable, _) => l.pick("? REJESTR NIEDOSTĘPNY", "? REGISTER DOWN"),
        (PartStatus::Pending, _) => l.pick("… CZEKA", "… PENDING"),
        (PartStatus::Released, None) => l.pick("? BRAK DANYCH", "? NO DATA"),
    }
}

/// One line per part: the document's name, then its status in a coloured band.
fn band_line(l: Lang, p: &Part, selected: bool, width: usize) -> Line<'static> {
    let (fg, bg) = match (p.status, p.document.as_ref().map(|d| d.status)) {
        (PartStatus::Released, Some(DocumentStatus::Valid)) => (Color::Black, Color::Green),
        (PartStatus::Released, Some(DocumentStatus::Expired)) => (Color::Black, Color::Yellow),
        (PartStatus::Unavailable | PartStatus::Pending, _) => (Color::Black, Color::Gray),
        _ => (Color::White, Color::Red),
    };
    let marker = if selected { "▶ " } else { "  " };
    let name = i18n::document(l, p.kind);
    let status = part_status(l, p);
    let used = 2 + name.chars().count() + 1 + status.chars().count();
    let pad = " ".repeat(width.saturating_sub(used).max(1));
    let mut name_style = Style::new();
    if selected {
        name_style = name_style.add_modifier(Modifier::BOLD);
    }
    Line::from(vec![
        Span::styled(format!("{marker}{name}"), name_style),
        Span::raw(pad),
        Span::styled(
            format!(" {status}"),
            Style::new().fg(fg).bg(bg).add_modifier(Modifier::BOLD),
        ),
    ])
}
