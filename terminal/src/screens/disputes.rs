//! Security officer: the unit's open disputes (a citizen's "I did not agree
//! to this" about a check), one opened with the check's audit records, and
//! its resolution with a required reason (audited by the broker). The
//! citizen's comment is untrusted text: it is shown escaped, so control
//! and direction-changing characters cannot rewrite the screen.

use okaz_protocol::{AuditRecordView, DisputeView};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{self, Note, T};
use crate::i18n_disputes::{t, D};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::profile::Profile;
use crate::widgets::{cell, form_row, frame_body, note_lines, para, row_mark, Ctx};

/// Longest reason the broker takes.
const MAX_REASON: usize = 500;

/// What part of the screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The list of open disputes.
    List,
    /// The selected dispute with its check's records.
    Detail,
    /// The reason form for resolving the selected dispute.
    Resolve,
}

/// The disputes screen.
#[derive(Debug)]
pub struct DisputeList {
    /// `None` while loading.
    pub items: Option<Vec<DisputeView>>,
    /// Index of the selected dispute.
    pub selected: usize,
    /// What is shown.
    pub mode: Mode,
    /// The resolution's reason (in [`Mode::Resolve`]).
    pub reason: TextField,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing beyond moving or editing.
    None,
    /// Resolve this dispute (id) with this reason.
    Resolve(String, String),
    /// Load the list again.
    Refresh,
    /// Back to the query form.
    Back,
}

impl DisputeList {
    /// A list that is being loaded, with an optional note.
    pub fn loading(note: Option<Note>) -> Self {
        DisputeList {
            items: None,
            selected: 0,
            mode: Mode::List,
            reason: TextField::new(MAX_REASON, Charset::Any),
            note,
        }
    }

    /// The selected dispute.
    pub fn current(&self) -> Option<&DisputeView> {
        self.items.as_ref().and_then(|v| v.get(self.selected))
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match self.mode {
            Mode::List => {
                let n = self.items.as_ref().map_or(0, Vec::len);
                match key {
                    Key::Up => self.selected = self.selected.saturating_sub(1),
                    Key::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
                    Key::Enter if self.current().is_some() => {
                        self.note = None;
                        self.mode = Mode::Detail;
                    }
                    Key::Char('r' | 'R') => return Intent::Refresh,
                    Key::Esc => return Intent::Back,
                    _ => {}
                }
                Intent::None
            }
            Mode::Detail => {
                match key {
                    Key::Enter => {
                        self.note = None;
                        self.reason = TextField::new(MAX_REASON, Charset::Any);
                        self.mode = Mode::Resolve;
                    }
                    Key::Esc => self.mode = Mode::List,
                    _ => {}
                }
                Intent::None
            }
            Mode::Resolve => match key {
                Key::Esc => {
                    self.mode = Mode::Detail;
                    Intent::None
                }
                Key::Enter => {
                    let reason = self.reason.value().trim().to_string();
                    if reason.is_empty() {
                        self.note = Some(Note::NeedResolution);
                        return Intent::None;
                    }
                    match self.current() {
                        Some(d) => Intent::Resolve(d.id.clone(), reason),
                        None => Intent::None,
                    }
                }
                other => {
                    self.reason.input(other);
                    Intent::None
                }
            },
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        match self.mode {
            Mode::List if self.items.as_ref().is_some_and(|v| !v.is_empty()) => {
                vec![T::KeySelect, T::KeyDetails, T::KeyRefresh, T::KeyBack]
            }
            Mode::List => vec![T::KeyRefresh, T::KeyBack],
            Mode::Detail => vec![T::KeyResolve, T::KeyBack],
            Mode::Resolve => vec![T::KeyConfirm, T::KeyBack],
        }
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        match (self.mode, self.current()) {
            (Mode::Detail, Some(d)) => {
                let inner = frame_body(ctx, t(l, D::Title), area, f);
                let mut lines = note_lines(ctx, self.note);
                lines.extend(detail(ctx, d));
                f.render_widget(para(ctx, lines), inner);
            }
            (Mode::Resolve, Some(d)) => {
                let inner = frame_body(ctx, t(l, D::ResolveTitle), area, f);
                let label = t(l, D::Reason);
                let mut lines = summary(ctx, d, false);
                lines.push(form_row(
                    ctx,
                    label,
                    self.reason.shown(),
                    true,
                    label.chars().count(),
                ));
                lines.push(Line::raw(t(l, D::ResolveHint)));
                lines.push(Line::raw(""));
                lines.extend(note_lines(ctx, self.note));
                f.render_widget(para(ctx, lines), inner);
            }
            _ => {
                let inner = frame_body(ctx, t(l, D::Title), area, f);
                let mut lines = note_lines(ctx, self.note);
                lines.extend(self.list(ctx));
                f.render_widget(para(ctx, lines), inner);
            }
        }
    }

    fn list(&self, ctx: &Ctx) -> Vec<Line<'static>> {
        let l = ctx.lang;
        let v = match &self.items {
            None => return vec![Line::raw(l.t(T::Loading))],
            Some(v) if v.is_empty() => return vec![Line::raw(t(l, D::NoDisputes))],
            Some(v) => v,
        };
        let desktop = ctx.profile == Profile::Desktop;
        let mut lines = Vec::new();
        if desktop {
            lines.push(Line::from(Span::styled(
                format!(
                    "  {}{}{}{}",
                    cell(t(l, D::Opened), 18),
                    cell(t(l, D::Officer), 16),
                    cell(t(l, D::Document), 20),
                    t(l, D::Comment)
                ),
                ctx.profile.label(),
            )));
        }
        for (i, d) in v.iter().enumerate() {
            let on = i == self.selected;
            let (mark, style) = row_mark(ctx, on);
            let document = check(&d.records)
                .0
                .map_or_else(|| "-".to_string(), |x| i18n::document(l, x).to_string());
            let row = if desktop {
                format!(
                    "{mark}{}{}{}{}",
                    cell(&ctx.time(d.opened_at), 18),
                    cell(&d.officer, 16),
                    cell(&document, 20),
                    // Cut to the row; the whole comment is in the detail.
                    cell(&escape(&d.comment), 20).trim_end()
                )
            } else {
                format!("{mark}{} · {}", ctx.time(d.opened_at), d.officer)
            };
            lines.push(Line::from(Span::styled(row, style)));
            if !desktop && on {
                lines.push(Line::raw(format!("  {document}")));
            }
        }
        lines
    }
}

/// The document and purpose of the check, from its audit records.
fn check(records: &[AuditRecordView]) -> (Option<okaz_protocol::DocumentType>, Option<&str>) {
    let document = records.iter().find_map(|r| r.document);
    let purpose = records.iter().find_map(|r| r.purpose.as_deref());
    (document, purpose)
}

/// What was checked, by whom and when, and what the citizen said; `full`
/// adds the unit, purpose and when the dispute was opened (the detail view).
fn summary(ctx: &Ctx, d: &DisputeView, full: bool) -> Vec<Line<'static>> {
    let l = ctx.lang;
    let (document, purpose) = check(&d.records);
    let row = |label: D, value: String| {
        Line::from(vec![
            Span::styled(format!("{}: ", t(l, label)), ctx.profile.label()),
            Span::raw(value),
        ])
    };
    // The check's time is its first record's; a dispute without records
    // (none of the unit's own) still shows when it was opened.
    let when = d.records.first().map_or(d.opened_at, |r| r.at);
    let mut lines = Vec::new();
    // Handheld: the unit is the officer's own, already in the header.
    if full && ctx.profile == Profile::Desktop {
        lines.push(row(D::Unit, d.unit.clone()));
    }
    lines.push(row(D::Officer, d.officer.clone()));
    lines.push(row(
        D::Document,
        document.map_or_else(|| "-".into(), |x| i18n::document(l, x).to_string()),
    ));
    if full {
        lines.push(row(
            D::Purpose,
            purpose.map_or_else(|| "-".into(), |p| i18n::purpose(l, p)),
        ));
    }
    lines.push(row(D::Checked, ctx.time(when)));
    if full {
        lines.push(row(D::Opened, ctx.time(d.opened_at)));
    }
    lines.push(row(D::Comment, escape(&d.comment)));
    lines
}

fn detail(ctx: &Ctx, d: &DisputeView) -> Vec<Line<'static>> {
    let l = ctx.lang;
    let mut lines = summary(ctx, d, true);
    lines.push(Line::styled(
        format!("{}:", t(l, D::Records)),
        ctx.profile.label(),
    ));
    if d.records.is_empty() {
        lines.push(Line::raw(format!("  {}", t(l, D::NoRecords))));
    }
    let desktop = ctx.profile == Profile::Desktop;
    for r in &d.records {
        let at = ctx.time(r.at);
        // Handheld: the time of day only, so a record fits one line.
        let at = if desktop {
            at
        } else {
            at.get(11..).unwrap_or(&at).to_string()
        };
        let line = if desktop {
            format!(
                "  {at} {} {} · {}",
                cell(&r.event, 22),
                r.outcome,
                r.officer
            )
        } else {
            format!("  {at} {}", r.event)
        };
        lines.push(Line::raw(line));
    }
    lines
}

/// Untrusted text made safe to draw: control characters and the invisible
/// ones that change text direction or hide text are shown as `\u{..}`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let invisible = matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
        );
        if c.is_control() || invisible {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_direction_characters_are_escaped() {
        assert_eq!(
            escape("ok\u{1b}[2J\n\u{202E}x"),
            "ok\\u{1b}[2J\\u{a}\\u{202e}x"
        );
        assert_eq!(escape("Nie zgadzam się"), "Nie zgadzam się");
    }
}
