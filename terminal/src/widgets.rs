//! Drawing helpers shared by the screens, the demo panel and the view, and
//! the read-only context they draw with. Its own module so that the
//! dependencies run one way: `view` composes the screens, the screens draw
//! with these helpers, and none of them reaches back into `view` or `model`.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use okaz_protocol::Permissions;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::i18n::{Lang, Note};
use crate::profile::Profile;

/// Read-only context for drawing.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Language.
    pub lang: Lang,
    /// Profile.
    pub profile: Profile,
    /// Time of the last tick (for countdowns).
    pub now: DateTime<Utc>,
    /// Offset for showing times.
    pub offset: FixedOffset,
    /// The role's permissions.
    pub permissions: Option<&'a Permissions>,
    /// The broker's request id of the refusal on screen, if any.
    pub request_id: Option<&'a str>,
}

impl Ctx<'_> {
    /// A time as the officer reads it.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        self.offset
            .from_utc_datetime(&t.naive_utc())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// Display width of a string, counted in characters (all texts here are
/// one cell per character).
pub fn width(s: &str) -> usize {
    s.chars().count()
}

/// Frames a screen: a bordered block on a desktop, a bold title line on a
/// handheld (where every row counts). Returns the inner area.
pub fn frame_body(ctx: &Ctx, title: &str, area: Rect, f: &mut Frame) -> Rect {
    match ctx.profile {
        Profile::Desktop => {
            let block = Block::new()
                .borders(Borders::ALL)
                .title(format!(" {title} "))
                .title_style(ctx.profile.label());
            let inner = block.inner(area);
            f.render_widget(block, area);
            inner
        }
        Profile::Handheld => {
            let [t, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
            f.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    title.to_string(),
                    ctx.profile.label(),
                ))),
                t,
            );
            rest
        }
    }
}

/// One form row: a label padded to `label_w`, then the value, highlighted
/// with a cursor when focused.
pub fn form_row(
    ctx: &Ctx,
    label: &str,
    value: String,
    focused: bool,
    label_w: usize,
) -> Line<'static> {
    let pad = label_w.saturating_sub(width(label));
    let marker = if focused { "▸" } else { " " };
    let value_style = if focused {
        ctx.profile.focused()
    } else {
        ctx.profile.text()
    };
    let shown = if focused { format!("{value}_") } else { value };
    Line::from(vec![
        Span::raw(marker),
        Span::styled(format!("{label}{}: ", " ".repeat(pad)), ctx.profile.label()),
        Span::styled(shown, value_style),
    ])
}

/// The lines of a note: the message, then the hint.
pub fn note_lines(ctx: &Ctx, note: Option<Note>) -> Vec<Line<'static>> {
    let Some(note) = note else {
        return Vec::new();
    };
    let (msg, hint) = note.texts(ctx.lang);
    let style = if note.is_problem() {
        ctx.profile.problem()
    } else {
        ctx.profile.info()
    };
    let mark = match note {
        _ if note.is_problem() => "✖ ",
        Note::AdminOnly => "ℹ ",
        _ => "✔ ",
    };
    let mut lines = vec![Line::from(Span::styled(format!("{mark}{msg}"), style))];
    if let Some(h) = hint {
        lines.push(Line::from(Span::styled(
            format!("→ {h}"),
            ctx.profile.text(),
        )));
    }
    if let Some(line) = reference_line(ctx, note) {
        lines.push(line);
    }
    lines
}

/// The request id of a refusal, for the officer to quote to support.
pub fn reference_line(ctx: &Ctx, note: Note) -> Option<Line<'static>> {
    match (note, ctx.request_id) {
        (Note::Refused(..), Some(id)) => Some(Line::from(Span::styled(
            format!("{}: {id}", ctx.lang.pick("Nr zgłoszenia", "Reference")),
            ctx.profile.text(),
        ))),
        _ => None,
    }
}

/// A paragraph that wraps, in the profile's text style.
pub fn para(ctx: &Ctx, lines: Vec<Line<'static>>) -> Paragraph<'static> {
    Paragraph::new(lines)
        .style(ctx.profile.text())
        .wrap(Wrap { trim: false })
}

/// Left-aligns a cell in a column of `w` characters, cutting what is longer.
pub fn cell(s: &str, w: usize) -> String {
    let mut out: String = s.chars().take(w).collect();
    let n = width(&out);
    out.push_str(&" ".repeat(w.saturating_sub(n)));
    out
}

/// The mark and style of a list row: `▸` and the focused style for the
/// chosen row, blanks and plain text for the others.
pub fn row_mark(ctx: &Ctx, chosen: bool) -> (&'static str, ratatui::style::Style) {
    if chosen {
        ("▸ ", ctx.profile.focused())
    } else {
        ("  ", ctx.profile.text())
    }
}
