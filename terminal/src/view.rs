//! The pure `view`: header (who, unit, quota), the screen, the key hints.
//! Drawing has no side effects and copes with any size, down to nothing.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::i18n::{Note, T};
use crate::model::{Ctx, Model, Screen};
use crate::profile::Profile;

/// Below this the screens cannot be laid out; a short message is shown.
const MIN_WIDTH: u16 = 24;
const MIN_HEIGHT: u16 = 8;

/// Draws the whole model.
pub fn view(m: &Model, f: &mut Frame) {
    let full = f.area();
    f.render_widget(Block::new().style(m.profile.text()), full);
    let area = match &m.demo {
        Some(panel) => {
            let (main, panel_area, side) = crate::demo::split(full);
            crate::demo::draw(panel, m.lang, m.profile, panel_area, side, f);
            main
        }
        None => full,
    };
    draw_screens(m, area, f);
}

/// Header, the current screen and the key hints, in `area`.
fn draw_screens(m: &Model, area: Rect, f: &mut Frame) {
    let ctx = m.ctx();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = m.lang.pick("Okno za małe", "Window too small");
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let (head_rows, foot_rows) = match m.profile {
        Profile::Handheld => (2, 2),
        Profile::Desktop => (1, 1),
    };
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(head_rows),
        Constraint::Min(1),
        Constraint::Length(foot_rows),
    ])
    .areas(area);
    header(m, head, f);
    let keys = match &m.screen {
        Screen::Login(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Query(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Awaiting(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Result(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Notice(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Lockouts(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Unlock(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Audit(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
    };
    footer(m, &keys, foot, f);
}

fn header(m: &Model, area: Rect, f: &mut Frame) {
    let style = m.profile.header();
    let lines: Vec<Line> = match (&m.session, m.profile) {
        (None, _) => vec![Line::from(format!(" okaz · {}", m.lang.t(T::NotLoggedIn)))],
        (Some(s), Profile::Desktop) => {
            let left = format!(" {} · {}", s.officer.display_name, s.officer.unit);
            let right = format!("{} {}/{} ", m.lang.t(T::Today), s.quota.used, s.quota.limit);
            let gap = usize::from(area.width).saturating_sub(width(&left) + width(&right));
            vec![Line::from(format!(
                "{left}{}{right}",
                " ".repeat(gap.max(1))
            ))]
        }
        (Some(s), Profile::Handheld) => vec![
            Line::from(format!(" {}", s.officer.display_name)),
            Line::from(format!(
                " {} · {} {}/{}",
                s.officer.unit,
                m.lang.t(T::Today),
                s.quota.used,
                s.quota.limit
            )),
        ],
    };
    f.render_widget(Paragraph::new(lines).style(style), area);
}

fn footer(m: &Model, keys: &[T], area: Rect, f: &mut Frame) {
    let lines = if m.busy {
        vec![Line::raw(m.lang.t(T::Busy))]
    } else {
        let texts: Vec<&str> = keys.iter().map(|k| m.lang.t(*k)).collect();
        pack(&texts, usize::from(area.width))
            .into_iter()
            .map(Line::raw)
            .collect()
    };
    f.render_widget(
        Paragraph::new(lines)
            .style(m.profile.keys())
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// Packs key hints into lines of `width`, never splitting one hint.
pub fn pack(items: &[&str], max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if width(line) + 2 + width(item) <= max => {
                line.push_str("  ");
                line.push_str(item);
            }
            _ => lines.push((*item).to_string()),
        }
    }
    lines
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
    lines
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hints_are_never_split() {
        assert_eq!(
            pack(&["Tab field", "Enter check", "F10 log out"], 24),
            vec!["Tab field  Enter check", "F10 log out"]
        );
        assert_eq!(pack(&["a very long hint"], 4), vec!["a very long hint"]);
    }
}
