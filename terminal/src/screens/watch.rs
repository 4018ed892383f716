//! Supervisors and security officers: the unit's break-glass checks (to
//! countersign or reject, with a reason, before the deadline) and the
//! anomaly signals computed from the audit trail. Reached with F5 and F6
//! from the query form of a role that administers.

use okaz_protocol::{BreakGlassDecision, BreakGlassVerdict, BreakGlassView, SignalsView};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{Lang, Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::profile::Profile;
use crate::widgets::{cell, form_row, frame_body, note_lines, para, row_mark, Ctx};

/// The break-glass list, and the decision being written.
#[derive(Debug)]
pub struct BreakGlassList {
    /// `None` while loading.
    pub items: Option<Vec<BreakGlassView>>,
    /// Index of the selected row.
    pub selected: usize,
    /// Refusal or notice.
    pub note: Option<Note>,
    /// The decision being written for the selected row, if any.
    pub deciding: Option<BreakGlassVerdict>,
    /// Its reason (required).
    pub reason: TextField,
    /// The last decision the broker confirmed, shown until the next key.
    pub done: Option<BreakGlassVerdict>,
}

/// What a key on the break-glass list asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing.
    None,
    /// Send this decision.
    Decide(String, BreakGlassDecision),
    /// Load the list again.
    Refresh,
    /// Back to the query form.
    Back,
}

impl BreakGlassList {
    /// A list being loaded.
    pub fn loading(note: Option<Note>) -> Self {
        BreakGlassList {
            items: None,
            selected: 0,
            note,
            deciding: None,
            reason: TextField::new(200, Charset::Any),
            done: None,
        }
    }

    fn selected_item(&self) -> Option<&BreakGlassView> {
        self.items.as_ref().and_then(|v| v.get(self.selected))
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        self.done = None;
        if let Some(verdict) = self.deciding {
            match key {
                Key::Esc => {
                    self.deciding = None;
                    self.reason.clear();
                }
                Key::Enter => {
                    let reason = self.reason.value().trim().to_string();
                    if reason.is_empty() {
                        self.note = Some(Note::NeedReason);
                        return Intent::None;
                    }
                    let Some(id) = self.selected_item().map(|g| g.id.clone()) else {
                        return Intent::None;
                    };
                    self.note = None;
                    return Intent::Decide(
                        id,
                        BreakGlassDecision {
                            decision: verdict,
                            reason,
                        },
                    );
                }
                other => {
                    self.reason.input(other);
                }
            }
            return Intent::None;
        }
        let n = self.items.as_ref().map_or(0, Vec::len);
        match key {
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            // Only a pending row can be decided.
            Key::Char(c @ ('c' | 'C' | 'x' | 'X'))
                if self.selected_item().is_some_and(|g| g.status == "pending") =>
            {
                self.deciding = Some(if c.eq_ignore_ascii_case(&'c') {
                    BreakGlassVerdict::Countersign
                } else {
                    BreakGlassVerdict::Reject
                });
                self.reason.clear();
                self.note = None;
            }
            Key::Char('r') | Key::Char('R') => return Intent::Refresh,
            Key::Esc => return Intent::Back,
            _ => {}
        }
        Intent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        if self.deciding.is_some() {
            vec![T::KeyConfirm, T::KeyCancel]
        } else {
            vec![T::KeySelect, T::KeyDecide, T::KeyRefresh, T::KeyBack]
        }
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let title = l.pick("Dostępy awaryjne", "Break-glass checks");
        let inner = frame_body(ctx, title, area, f);
        let mut lines = note_lines(ctx, self.note);
        if let Some(done) = self.done {
            lines.push(Line::from(Span::styled(
                verdict_done(l, done).to_string(),
                ctx.profile.label(),
            )));
        }
        match &self.items {
            None => lines.push(Line::raw(l.t(T::Loading))),
            Some(v) if v.is_empty() => lines.push(Line::raw(
                l.pick("Brak dostępów awaryjnych.", "No break-glass checks."),
            )),
            Some(v) => {
                let desktop = ctx.profile == Profile::Desktop;
                if desktop {
                    let header = format!(
                        "  {}{}{}{}",
                        cell(l.t(T::Officer), 20),
                        cell(l.pick("Status", "Status"), 14),
                        cell(l.pick("Termin", "Deadline"), 17),
                        l.pick("Co pominięto", "Overrode")
                    );
                    lines.push(Line::from(Span::styled(header, ctx.profile.label())));
                }
                for (i, g) in v.iter().enumerate() {
                    let chosen = i == self.selected;
                    let (mark, style) = row_mark(ctx, chosen);
                    let row = if desktop {
                        format!(
                            "{mark}{}{}{}{}",
                            cell(&g.officer.display_name, 20),
                            cell(status(l, &g.status), 14),
                            cell(&ctx.time(g.deadline), 17),
                            overrode(l, &g.overrides)
                        )
                    } else {
                        format!(
                            "{mark}{} · {}",
                            g.officer.display_name,
                            status(l, &g.status)
                        )
                    };
                    lines.push(Line::from(Span::styled(row, style)));
                    if chosen {
                        // Shown escaped: a justification is the officer's
                        // text, never a terminal control sequence.
                        let why: String = g.justification.escape_debug().collect();
                        lines.push(Line::raw(format!("  {}", why)));
                        if !desktop {
                            lines.push(Line::raw(format!(
                                "  {} {}",
                                l.pick("termin", "due"),
                                ctx.time(g.deadline)
                            )));
                        }
                    }
                }
                if let Some(verdict) = self.deciding {
                    lines.push(Line::raw(""));
                    lines.push(Line::from(Span::styled(
                        verdict_asked(l, verdict).to_string(),
                        ctx.profile.label(),
                    )));
                    lines.push(form_row(
                        ctx,
                        l.t(T::Reason),
                        self.reason.value().to_string(),
                        true,
                        0,
                    ));
                }
            }
        }
        f.render_widget(para(ctx, lines), inner);
    }
}

fn status(l: Lang, s: &str) -> &'static str {
    match s {
        "pending" => l.pick("czeka na podpis", "awaiting sign"),
        "countersigned" => l.pick("podpisany", "countersigned"),
        "rejected" => l.pick("odrzucony", "rejected"),
        "expired" => l.pick("przeterminowany", "expired"),
        _ => "?",
    }
}

fn overrode(l: Lang, s: &str) -> &'static str {
    match s {
        "no_code" => l.pick("bez kodu", "no code"),
        "daily_limit" => l.pick("ponad limit", "past limit"),
        _ => "?",
    }
}

fn verdict_asked(l: Lang, v: BreakGlassVerdict) -> &'static str {
    match v {
        BreakGlassVerdict::Countersign => l.pick("Kontrasygnata — powód:", "Countersign — reason:"),
        BreakGlassVerdict::Reject => l.pick(
            "Odrzucenie (blokuje konto) — powód:",
            "Reject (locks the account) — reason:",
        ),
    }
}

fn verdict_done(l: Lang, v: BreakGlassVerdict) -> &'static str {
    match v {
        BreakGlassVerdict::Countersign => l.pick("✔ Podpisano.", "✔ Countersigned."),
        BreakGlassVerdict::Reject => l.pick(
            "✔ Odrzucono; konto zablokowane.",
            "✔ Rejected; the account is locked.",
        ),
    }
}

/// The anomaly signals of the unit.
#[derive(Debug, Default)]
pub struct SignalList {
    /// `None` while loading.
    pub view: Option<SignalsView>,
    /// Index of the selected signal.
    pub selected: usize,
    /// Refusal or notice.
    pub note: Option<Note>,
}

/// What a key on the signal list asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum SignalIntent {
    /// Nothing.
    None,
    /// Compute again.
    Refresh,
    /// Back to the query form.
    Back,
}

impl SignalList {
    /// Handles a key.
    pub fn key(&mut self, key: Key) -> SignalIntent {
        let n = self.view.as_ref().map_or(0, |v| v.signals.len());
        match key {
            Key::Up => self.selected = self.selected.saturating_sub(1),
            Key::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Key::Char('r') | Key::Char('R') => return SignalIntent::Refresh,
            Key::Esc => return SignalIntent::Back,
            _ => {}
        }
        SignalIntent::None
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        vec![T::KeySelect, T::KeyRefresh, T::KeyBack]
    }

    /// Draws the screen.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.pick("Sygnały nadużyć", "Anomaly signals"), area, f);
        let mut lines = note_lines(ctx, self.note);
        let desktop = ctx.profile == Profile::Desktop;
        match &self.view {
            None => lines.push(Line::raw(l.t(T::Loading))),
            Some(v) => {
                lines.push(Line::from(Span::styled(
                    format!(
                        "{} {} · {} {}",
                        l.pick("od", "since"),
                        ctx.time(v.since),
                        v.records,
                        l.pick("wpisów", "records")
                    ),
                    ctx.profile.label(),
                )));
                if v.signals.is_empty() {
                    lines.push(Line::raw(l.pick("Brak sygnałów.", "No signals.")));
                }
                for (i, s) in v.signals.iter().enumerate() {
                    let chosen = i == self.selected;
                    let (mark, style) = row_mark(ctx, chosen);
                    let row = if desktop {
                        format!(
                            "{mark}{}{}{:>8}  {} {}",
                            cell(kind(l, &s.kind), 24),
                            cell(&s.officer.display_name, 20),
                            format_score(s.score),
                            s.evidence.len(),
                            l.pick("wpisów", "records")
                        )
                    } else {
                        format!("{mark}{} · {}", kind(l, &s.kind), s.officer.display_name)
                    };
                    lines.push(Line::from(Span::styled(row, style)));
                    if chosen {
                        let mut detail = format!(
                            "  {} {} · {} {}",
                            l.pick("wynik", "score"),
                            format_score(s.score),
                            l.pick("dowody", "evidence"),
                            s.evidence
                                .iter()
                                .take(6)
                                .map(i64::to_string)
                                .collect::<Vec<_>>()
                                .join(",")
                        );
                        if s.evidence.len() > 6 {
                            detail.push('…');
                        }
                        lines.push(Line::raw(detail));
                        if let Some(day) = s.day {
                            lines.push(Line::raw(format!("  {} {day}", l.pick("dzień", "day"))));
                        }
                    }
                }
            }
        }
        f.render_widget(para(ctx, lines), inner);
    }
}

fn format_score(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.2}")
    }
}

fn kind(l: Lang, k: &str) -> &'static str {
    match k {
        "off_shift" => l.pick("poza godzinami pracy", "off shift"),
        "repeated_citizen" => l.pick("ta sama osoba wielokrotnie", "same citizen repeatedly"),
        "volume_outlier" => l.pick("nietypowa liczba sprawdzeń", "volume outlier"),
        "failed_challenges" => l.pick("porzucone / błędne kody", "abandoned / wrong codes"),
        "disputed" => l.pick("zakwestionowane", "disputed"),
        _ => "?",
    }
}
