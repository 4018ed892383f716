//! The query form: PESEL with live checksum feedback, document type and
//! purpose chosen only from what the role may use, case reference when the
//! role needs one. An invalid PESEL cannot be submitted.

use okaz_protocol::{pesel, DocumentType, Permissions, Pesel, Subject, VerificationRequest};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use crate::i18n::{self, Note, T};
use crate::input::{Charset, TextField};
use crate::msg::Key;
use crate::screens::cycle;
use crate::widgets::{form_row, frame_body, note_lines, para, Ctx};

/// Which field has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The citizen's PESEL.
    Pesel,
    /// Document type.
    Document,
    /// Purpose.
    Purpose,
    /// Case reference (only when required).
    CaseRef,
}

/// The query form.
#[derive(Debug)]
pub struct QueryForm {
    /// PESEL as typed.
    pub pesel: TextField,
    /// Documents the role may ask for.
    pub documents: Vec<DocumentType>,
    /// Index of the chosen document.
    pub document: usize,
    /// Purposes the role may state.
    pub purposes: Vec<String>,
    /// Index of the chosen purpose.
    pub purpose: usize,
    /// Case reference.
    pub case_ref: TextField,
    /// Whether the role needs a case reference.
    pub case_required: bool,
    /// Whether the officer may open the security officer's screens.
    pub administers: bool,
    /// Focused field.
    pub focus: Focus,
    /// Refusal or notice shown under the form.
    pub note: Option<Note>,
}

/// What a key on this screen asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Start a verification.
    Submit(VerificationRequest),
    /// Open the lockouts list.
    Lockouts,
    /// Open the audit search.
    Audit,
}

impl QueryForm {
    /// An empty form offering what `p` allows.
    pub fn new(p: &Permissions, note: Option<Note>) -> Self {
        let note = match (
            p.documents.is_empty() || p.purposes.is_empty(),
            p.administers,
        ) {
            (false, _) => note,
            (true, true) => note.or(Some(Note::AdminOnly)),
            (true, false) => note.or(Some(Note::NothingPermitted)),
        };
        QueryForm {
            pesel: TextField::new(11, Charset::Digits),
            documents: p.documents.clone(),
            document: 0,
            purposes: p.purposes.clone(),
            purpose: 0,
            case_ref: TextField::new(64, Charset::Any),
            case_required: p.case_reference_required,
            administers: p.administers,
            focus: Focus::Pesel,
            note,
        }
    }

    fn order(&self) -> Vec<Focus> {
        let mut o = vec![Focus::Pesel, Focus::Document, Focus::Purpose];
        if self.case_required {
            o.push(Focus::CaseRef);
        }
        o
    }

    /// Handles a key.
    pub fn key(&mut self, key: Key) -> Intent {
        match key {
            Key::Tab | Key::Down => self.focus = cycle(&self.order(), self.focus, true),
            Key::BackTab | Key::Up => self.focus = cycle(&self.order(), self.focus, false),
            Key::Left | Key::Right => {
                let fwd = key == Key::Right;
                match self.focus {
                    Focus::Document => {
                        self.document = step(self.document, self.documents.len(), fwd)
                    }
                    Focus::Purpose => self.purpose = step(self.purpose, self.purposes.len(), fwd),
                    _ => {}
                }
            }
            Key::F(2) if self.administers => return Intent::Lockouts,
            Key::F(3) if self.administers => return Intent::Audit,
            Key::Enter => return self.submit(),
            other => match self.focus {
                Focus::Pesel => {
                    self.pesel.input(other);
                }
                Focus::CaseRef => {
                    self.case_ref.input(other);
                }
                _ => {}
            },
        }
        Intent::None
    }

    fn submit(&mut self) -> Intent {
        let (Some(document), Some(purpose)) = (
            self.documents.get(self.document).copied(),
            self.purposes.get(self.purpose).cloned(),
        ) else {
            self.note = Some(Note::NothingPermitted);
            return Intent::None;
        };
        if Pesel::parse(self.pesel.value()).is_err() {
            self.note = Some(Note::NeedValidPesel);
            self.focus = Focus::Pesel;
            return Intent::None;
        }
        let case_reference = self.case_ref.value().trim().to_string();
        if self.case_required && case_reference.is_empty() {
            self.note = Some(Note::NeedCaseRef);
            self.focus = Focus::CaseRef;
            return Intent::None;
        }
        self.note = None;
        Intent::Submit(VerificationRequest {
            subject: Subject {
                pesel: Some(self.pesel.value().to_string()),
                plate: None,
            },
            document,
            purpose,
            case_reference: (!case_reference.is_empty()).then_some(case_reference),
        })
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        let mut k = vec![T::KeyNext, T::KeyChoose, T::KeyCheck];
        if self.administers {
            k.extend([T::KeyLockouts, T::KeyAudit]);
        }
        k.push(T::KeyLogout);
        k
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::QueryTitle), area, f);
        let mut labels = vec![l.t(T::Pesel), l.t(T::Document), l.t(T::Purpose)];
        if self.case_required {
            labels.push(l.t(T::CaseRef));
        }
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let mut lines = vec![form_row(
            ctx,
            l.t(T::Pesel),
            self.pesel.shown(),
            self.focus == Focus::Pesel,
            w,
        )];
        lines.push(self.feedback(ctx, w));
        let doc = self
            .documents
            .get(self.document)
            .map(|d| i18n::document(l, *d).to_string())
            .unwrap_or_default();
        lines.push(form_row(
            ctx,
            l.t(T::Document),
            choice(&doc),
            self.focus == Focus::Document,
            w,
        ));
        let purpose = self
            .purposes
            .get(self.purpose)
            .map(|p| i18n::purpose(l, p))
            .unwrap_or_default();
        lines.push(form_row(
            ctx,
            l.t(T::Purpose),
            choice(&purpose),
            self.focus == Focus::Purpose,
            w,
        ));
        if self.case_required {
            lines.push(form_row(
                ctx,
                l.t(T::CaseRef),
                self.case_ref.shown(),
                self.focus == Focus::CaseRef,
                w,
            ));
        }
        lines.push(Line::raw(""));
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }

    fn feedback(&self, ctx: &Ctx, w: usize) -> Line<'static> {
        let l = ctx.lang;
        let typed = self.pesel.value();
        let (text, style) = match pesel::feedback(typed) {
            None => (
                format!("{}/11 {}", typed.chars().count(), l.t(T::Digits)),
                ctx.profile.text(),
            ),
            Some(Ok(())) => (l.t(T::PeselOk).to_string(), ctx.profile.info()),
            Some(Err(e)) => (i18n::pesel_error(l, e).to_string(), ctx.profile.problem()),
        };
        Line::from(vec![
            Span::raw(" ".repeat(w + 3)),
            Span::styled(text, style),
        ])
    }
}

fn step(i: usize, n: usize, forward: bool) -> usize {
    match (n, forward) {
        (0, _) => 0,
        (_, true) => (i + 1) % n,
        (_, false) => (i + n - 1) % n,
    }
}

fn choice(s: &str) -> String {
    format!("‹ {s} ›")
}
