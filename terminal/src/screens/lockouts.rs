//! Security officer: the locked accounts of the unit, one selected.

use okaz_protocol::{LockoutView, OfficerView};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{self, Note, T};
use crate::msg::Key;
use crate::profile::Profile;
use crate::widgets::{cell, frame_body, note_lines, para, row_mark, Ctx};

/// The list of lockouts.
#[derive(Debug, Default)]
pub struct LockoutList {
    /// `None` while loading.
    pub items: Option<Vec<LockoutView>>,
    /// Index of the selected row.
    pub selected: usize,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Intent {
    /// Nothing.
    None,
    /// Open the unlock form for this officer.
    Unlock(OfficerView),
    /// Load the list again.
    Refresh,
    /// Back to the query form.
    Back,
}

impl LockoutList {
    /// A list that is being loaded, with an optional note.
    pub fn loading(note: Option<Note>) -> Self {
        LockoutList {
            items: None,
            selected: 0,
            note,
        }
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        let n = self.items.as_ref().map_or(0, Vec::len);
        match key {
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Key::Enter | Key::Char('u') | Key::Char('U') => {
                if let Some(l) = self.items.as_ref().and_then(|v| v.get(self.selected)) {
                    return Intent::Unlock(l.officer.clone());
                }
            }
            Key::Char('r') | Key::Char('R') => return Intent::Refresh,
            Key::Esc => return Intent::Back,
            _ => {}
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeySelect, T::KeyUnlock, T::KeyRefresh, T::KeyBack]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::LockoutsTitle), area, f);
        let mut lines = note_lines(ctx, self.note);
        match &self.items {
            None => lines.push(Line::raw(l.t(T::Loading))),
            Some(v) if v.is_empty() => lines.push(Line::raw(l.t(T::NoLockouts))),
            Some(v) => {
                let desktop = ctx.profile == Profile::Desktop;
                let header = if desktop {
                    format!(
                        "  {}{}{}{}",
                        cell(l.t(T::Officer), 22),
                        cell(l.t(T::LockedAt), 17),
                        cell(l.t(T::Reason), 22),
                        l.t(T::AttemptsToday)
                    )
                } else {
                    format!("  {}", l.t(T::Officer))
                };
                lines.push(Line::from(Span::styled(header, ctx.profile.label())));
                for (i, lo) in v.iter().enumerate() {
                    let (mark, style) = row_mark(ctx, i == self.selected);
                    let row = if desktop {
                        format!(
                            "{mark}{}{}{}{}",
                            cell(&lo.officer.display_name, 22),
                            cell(&ctx.time(lo.locked_at), 17),
                            cell(&i18n::lock_reason(l, &lo.reason), 22),
                            lo.attempts_today
                        )
                    } else {
                        format!("{mark}{} · {}", lo.officer.display_name, lo.attempts_today)
                    };
                    lines.push(Line::from(Span::styled(row, style)));
                    if !desktop && i == self.selected {
                        lines.push(Line::raw(format!("  {}", i18n::lock_reason(l, &lo.reason))));
                    }
                }
            }
        }
        f.render_widget(para(ctx, lines), inner);
    }
}
