//! A released document: its status in a large band with colour and words,
//! its fields with translated labels, and the photo. It is held only here,
//! and wiped when this screen is left for any reason.

use chrono::{DateTime, Utc};
use okaz_protocol::{Document, DocumentStatus, FieldValue, PhotoFit};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use zeroize::Zeroize;

use crate::i18n::{self, Lang, T};
use crate::msg::Key;
use crate::photo::Pixels;
use crate::profile::Profile;
use crate::widgets::{frame_body, para, Ctx};

/// Columns the photo takes on a handheld.
const HANDHELD_PHOTO_COLUMNS: u16 = 10;
/// Most columns the photo takes on a desktop.
const DESKTOP_PHOTO_COLUMNS: u16 = 24;

/// The largest photo this screen draws on `profile`, in pixels: a column
/// per pixel across and two pixels per row (half blocks), the rows the
/// screen leaves it at its size (40x16 handheld, 80x24 desktop). The
/// terminal asks the broker for no bigger photo than this.
pub fn photo_fit(profile: Profile) -> PhotoFit {
    match profile {
        Profile::Handheld => PhotoFit {
            width: HANDHELD_PHOTO_COLUMNS,
            height: 2 * 10,
        },
        Profile::Desktop => PhotoFit {
            width: DESKTOP_PHOTO_COLUMNS,
            height: 2 * 18,
        },
    }
}

/// The document on display.
pub struct Shown {
    document: Document,
    photo: Option<Pixels>,
    /// When it must disappear.
    pub until: DateTime<Utc>,
    /// Released by break-glass: flagged on screen until countersigned.
    pub break_glass: bool,
}

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shown")
            .field("document", &self.document)
            .field("until", &self.until)
            .field("break_glass", &self.break_glass)
            .finish_non_exhaustive()
    }
}

impl Drop for Shown {
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

impl Shown {
    /// Takes the document; the photo is decoded once, here, not per frame.
    pub fn new(mut document: Document, until: DateTime<Utc>) -> Self {
        let photo = document
            .photo
            .as_ref()
            .and_then(|p| Pixels::from_base64_png(&p.data));
        // The decoded pixels are all the screen needs of the photo.
        if let Some(p) = document.photo.as_mut() {
            p.zeroize();
        }
        document.photo = None;
        Shown {
            document,
            photo,
            until,
            break_glass: false,
        }
    }

    /// The same document, flagged as released by break-glass.
    pub fn flagged(mut self) -> Self {
        self.break_glass = true;
        self
    }

    /// Wipes the fields and the photo; done on drop, whatever the reason
    /// for leaving the screen.
    pub fn wipe(&mut self) {
        self.document.zeroize();
        self.photo = None;
    }

    /// Number of fields held.
    pub fn field_count(&self) -> usize {
        self.document.fields.len()
    }

    /// The document's status.
    pub fn status(&self) -> DocumentStatus {
        self.document.status
    }

    /// Whether a photo is shown.
    pub fn has_photo(&self) -> bool {
        self.photo.is_some()
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Enter | Key::Esc | Key::Char('n') | Key::Char('N') => Intent::New,
            _ => Intent::None,
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyNew, T::KeyLogout]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, i18n::document(l, self.document.kind), area, f);
        let flag = l.t(T::BreakGlassFlag);
        // The flag's rows: none unless flagged, else as many as it wraps to.
        let flag_rows = match (self.break_glass, inner.width) {
            (false, _) | (_, 0) => 0,
            (true, w) => u16::try_from(crate::widgets::width(flag).div_ceil(usize::from(w)))
                .unwrap_or(u16::MAX),
        };
        let [band, flag_area, info, rest] = Layout::vertical([
            Constraint::Length(ctx.profile.status_rows()),
            Constraint::Length(flag_rows),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        status_band(l, self.document.status, band, f);
        if self.break_glass {
            // White on magenta: no status band uses it, so the flag never
            // reads as the document's status.
            let style = Style::new()
                .fg(Color::White)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD);
            f.render_widget(
                Paragraph::new(flag)
                    .style(style)
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                flag_area,
            );
        }
        let left = (self.until - ctx.now).num_seconds().max(0);
        let mut info_text = format!("{} {left} s", l.t(T::ClearsIn));
        if ctx.profile == Profile::Desktop {
            info_text.push_str(&format!(
                " · {}: {} {}",
                l.t(T::Source),
                self.document.source.register,
                ctx.time(self.document.source.fetched_at)
            ));
        }
        f.render_widget(para(ctx, vec![Line::raw(info_text)]), info);
        let photo_w = match (&self.photo, ctx.profile) {
            (None, _) => 0,
            (Some(_), Profile::Handheld) => HANDHELD_PHOTO_COLUMNS,
            (Some(_), Profile::Desktop) => (rest.width / 3).min(DESKTOP_PHOTO_COLUMNS),
        };
        let [fields, gap, photo] = Layout::horizontal([
            Constraint::Min(0),
            Constraint::Length(u16::from(photo_w > 0)),
            Constraint::Length(photo_w),
        ])
        .areas(rest);
        let _ = gap;
        f.render_widget(para(ctx, self.field_lines(ctx)), fields);
        if let Some(p) = &self.photo {
            p.render(photo, f.buffer_mut());
        }
    }

    fn field_lines(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let l = ctx.lang;
        let known = self.document.kind.fields();
        // The register's order of fields, then anything unexpected.
        let mut names: Vec<&String> = known
            .iter()
            .filter_map(|k| self.document.fields.get_key_value(*k).map(|(k, _)| k))
            .collect();
        names.extend(
            self.document
                .fields
                .keys()
                .filter(|k| !known.contains(&k.as_str())),
        );
        let labels: Vec<String> = names.iter().map(|n| i18n::field(l, n)).collect();
        let w = match ctx.profile {
            Profile::Handheld => 0,
            Profile::Desktop => labels.iter().map(|s| s.chars().count()).max().unwrap_or(0),
        };
        names
            .iter()
            .zip(labels)
            .filter_map(|(n, label)| {
                let v = self.document.fields.get(*n)?;
                let pad = " ".repeat(w.saturating_sub(label.chars().count()));
                Some(Line::from(vec![
                    Span::styled(format!("{label}{pad}: "), ctx.profile.label()),
                    Span::raw(value(l, v)),
                ]))
            })
            .collect()
    }
}

/// A field value in words.
pub fn value(l: Lang, v: &FieldValue) -> String {
    match v {
        FieldValue::Flag(true) => l.t(T::Yes).to_string(),
        FieldValue::Flag(false) => l.t(T::No).to_string(),
        FieldValue::Number(n) => n.to_string(),
        FieldValue::List(items) => items.join(", "),
        FieldValue::Text(s) => s.clone(),
    }
}

fn status_band(l: Lang, s: DocumentStatus, area: Rect, f: &mut Frame) {
    let (fg, bg) = match s {
        DocumentStatus::Valid => (Color::Black, Color::Green),
        DocumentStatus::Expired => (Color::Black, Color::Yellow),
        _ => (Color::White, Color::Red),
    };
    let style = Style::new().fg(fg).bg(bg).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::raw(""); usize::from(area.height)];
    let mid = lines.len() / 2;
    let text = i18n::status(l, s);
    // Letter-spaced capitals read as larger type where they fit.
    let spaced: String = text
        .chars()
        .map(|c| {
            if c == ' ' {
                "  ".to_string()
            } else {
                format!("{c} ")
            }
        })
        .collect();
    let text = if spaced.chars().count() <= usize::from(area.width) {
        spaced.trim_end().to_string()
    } else {
        text.to_string()
    };
    if let Some(line) = lines.get_mut(mid) {
        *line = Line::raw(text);
    }
    f.render_widget(
        Paragraph::new(lines)
            .style(style)
            .alignment(Alignment::Center),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_protocol::{DocumentType, Photo, Source};

    #[test]
    fn wipe_zeroizes_fields_and_photo() {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("surname".to_string(), FieldValue::Text("Nowak".into()));
        let doc = Document {
            kind: DocumentType::IdCard,
            status: DocumentStatus::Valid,
            fields,
            photo: Some(Photo {
                media_type: "image/png".into(),
                data: crate::photo::sample_png_base64(4, 4),
            }),
            source: Source {
                register: "persons".into(),
                fetched_at: Utc::now(),
            },
        };
        let mut s = Shown::new(doc, Utc::now());
        assert!(s.has_photo());
        assert_eq!(s.field_count(), 1);
        s.wipe();
        assert_eq!(s.field_count(), 0);
        assert!(!s.has_photo());
    }
}
