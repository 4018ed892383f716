//! The pure `view`: header (who, unit, quota), the screen, the key hints.
//! Drawing has no side effects and copes with any size, down to nothing.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

use crate::i18n::T;
use crate::model::{Model, Screen};
use crate::profile::Profile;
use crate::widgets::{width, Ctx};

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

/// What the screens need from the model besides their own state.
fn ctx(m: &Model) -> Ctx<'_> {
    Ctx {
        lang: m.lang,
        profile: m.profile,
        now: m.now,
        offset: m.offset,
        permissions: m.permissions(),
        request_id: m.request_id.as_deref(),
    }
}

/// Header, the current screen and the key hints, in `area`.
fn draw_screens(m: &Model, area: Rect, f: &mut Frame) {
    let ctx = ctx(m);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = m.lang.pick("Okno za małe", "Window too small");
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let (head_rows, foot_rows) = match m.profile {
        Profile::Handheld => (2, 2),
        Profile::Desktop => (1, 1),
    };
    let alert = banner_text(m, usize::from(area.width));
    let [head, alert_row, body, foot] = Layout::vertical([
        Constraint::Length(head_rows),
        Constraint::Length(u16::from(alert.is_some())),
        Constraint::Min(1),
        Constraint::Length(foot_rows),
    ])
    .areas(area);
    header(m, head, f);
    if let Some(text) = alert {
        let style = match m.watch().is_some_and(crate::alert::Watch::highlighted) {
            true => m.profile.alert_new(),
            false => m.profile.alert(),
        };
        f.render_widget(Paragraph::new(format!(" {text}")).style(style), alert_row);
    }
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
        Screen::Parts(s) => {
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
        Screen::Officers(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::NewOfficer(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::AccountReason(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Certificate(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Export(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Secret(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::BreakGlass(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Signals(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::Disputes(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::BreakGlassOffer(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
        Screen::BreakGlassForm(s) => {
            s.draw(&ctx, body, f);
            s.keys()
        }
    };
    footer(m, &keys, foot, f);
}

/// The supervisor's banner, when something waits for the unit.
fn banner_text(m: &Model, max: usize) -> Option<String> {
    let w = m.watch()?;
    if !w.shows() {
        return None;
    }
    let counts = crate::i18n_alert::Counts {
        break_glass: w.break_glass().unwrap_or(0),
        disputes: w.disputes.unwrap_or(0),
        stale: w.stale,
    };
    crate::i18n_alert::banner(m.lang, counts, max)
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
    let lines = if let (true, Some(n)) = (m.busy, m.retrying) {
        vec![Line::styled(
            format!("{} ({n})…", m.lang.t(T::Retrying)),
            m.profile.problem(),
        )]
    } else if m.busy {
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
