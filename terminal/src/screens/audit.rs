//! Security officer: audit search by officer, PESEL and date range. The
//! broker turns the PESEL into the pseudonym; records never hold it.

use chrono::NaiveDate;
use okaz_protocol::{pesel, AuditRecordView};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{self, Note, T};
use crate::input::{Charset, TextField};
use crate::msg::{AuditQuery, Key};
use crate::profile::Profile;
use crate::screens::cycle;
use crate::widgets::{cell, form_row, frame_body, note_lines, para, Ctx};

/// Most records asked for at once.
pub const AUDIT_LIMIT: u32 = 100;

/// Which field has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Officer id.
    Officer,
    /// Citizen's PESEL.
    Pesel,
    /// First day.
    Since,
    /// Last day.
    Until,
}

const ORDER: [Focus; 4] = [Focus::Officer, Focus::Pesel, Focus::Since, Focus::Until];

/// The audit search.
#[derive(Debug)]
pub struct AuditSearch {
    /// Officer id filter.
    pub officer: TextField,
    /// PESEL filter.
    pub pesel: TextField,
    /// From (`YYYY-MM-DD`).
    pub since: TextField,
    /// To (`YYYY-MM-DD`).
    pub until: TextField,
    /// Focused field.
    pub focus: Focus,
    /// The last results; `None` before the first search.
    pub results: Option<Vec<AuditRecordView>>,
    /// First result row shown.
    pub scroll: usize,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Search.
    Search(AuditQuery),
    /// Back to the query form.
    Back,
}

impl Default for AuditSearch {
    fn default() -> Self {
        AuditSearch {
            officer: TextField::new(64, Charset::Any),
            pesel: TextField::new(11, Charset::Digits),
            since: TextField::new(10, Charset::Date),
            until: TextField::new(10, Charset::Date),
            focus: Focus::Officer,
            results: None,
            scroll: 0,
            note: None,
        }
    }
}

impl AuditSearch {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Tab => self.focus = cycle(&ORDER, self.focus, true),
            Key::BackTab => self.focus = cycle(&ORDER, self.focus, false),
            Key::Up => self.scroll = self.scroll.saturating_sub(1),
            Key::Down => {
                let n = self.results.as_ref().map_or(0, Vec::len);
                self.scroll = (self.scroll + 1).min(n.saturating_sub(1));
            }
            Key::Esc => return Intent::Back,
            Key::Enter => return self.search(),
            other => {
                match self.focus {
                    Focus::Officer => self.officer.input(other),
                    Focus::Pesel => self.pesel.input(other),
                    Focus::Since => self.since.input(other),
                    Focus::Until => self.until.input(other),
                };
            }
        }
        Intent::None
    }

    fn search(&mut self) -> Intent {
        if !self.pesel.is_empty() && pesel::feedback(self.pesel.value()) != Some(Ok(())) {
            self.note = Some(Note::NeedValidPesel);
            self.focus = Focus::Pesel;
            return Intent::None;
        }
        let (Ok(since), Ok(until)) = (date(&self.since), date(&self.until)) else {
            self.note = Some(Note::BadDate);
            return Intent::None;
        };
        self.note = None;
        let text = |f: &TextField| (!f.is_empty()).then(|| f.value().trim().to_string());
        Intent::Search(AuditQuery {
            officer: text(&self.officer),
            pesel: text(&self.pesel),
            since,
            until,
            limit: AUDIT_LIMIT,
        })
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeyNext, T::KeySearch, T::KeyScroll, T::KeyBack]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::AuditTitle), area, f);
        let labels = [l.t(T::Officer), l.t(T::Pesel), l.t(T::From), l.t(T::To)];
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let fields = [&self.officer, &self.pesel, &self.since, &self.until];
        let mut lines: Vec<Line> = ORDER
            .iter()
            .zip(labels)
            .zip(fields)
            .map(|((focus, label), field)| {
                form_row(ctx, label, field.shown(), *focus == self.focus, w)
            })
            .collect();
        lines.extend(note_lines(ctx, self.note));
        match &self.results {
            None => {}
            Some(v) if v.is_empty() => lines.push(Line::raw(l.t(T::NoRecords))),
            Some(v) => {
                let desktop = ctx.profile == Profile::Desktop;
                let head = if desktop {
                    format!(
                        "{}{}{}{}{}",
                        cell(l.t(T::When), 17),
                        cell(l.t(T::Officer), 12),
                        cell(l.t(T::Event), 22),
                        cell(l.t(T::Document), 14),
                        l.t(T::Outcome)
                    )
                } else {
                    format!("{}{}", cell(l.t(T::When), 12), l.t(T::Event))
                };
                lines.push(Line::from(Span::styled(head, ctx.profile.label())));
                for r in v.iter().skip(self.scroll) {
                    let when = ctx.time(r.at);
                    let doc = r.document.map(|d| i18n::document(l, d)).unwrap_or("");
                    lines.push(Line::raw(if desktop {
                        format!(
                            "{}{}{}{}{}",
                            cell(&when, 17),
                            cell(&r.officer, 12),
                            cell(&r.event, 22),
                            cell(doc, 14),
                            r.outcome
                        )
                    } else {
                        format!("{}{}", cell(when.get(5..).unwrap_or(&when), 12), r.event)
                    }));
                }
            }
        }
        f.render_widget(para(ctx, lines), inner);
    }
}

fn date(f: &TextField) -> Result<Option<NaiveDate>, chrono::ParseError> {
    if f.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(f.value().trim(), "%Y-%m-%d").map(Some)
}
