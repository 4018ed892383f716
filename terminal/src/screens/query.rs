//! The query form: what names the subject (PESEL with live checksum
//! feedback, or a plate checked against the plate rules, as the role
//! allows), document type and purpose chosen only from the combinations the
//! role may ask, case reference when the role needs one. The role's bundles
//! (e.g. a traffic stop) follow the documents in the same picker; a bundle
//! asks for the PESEL and/or the plate it needs. An invalid PESEL or plate
//! cannot be submitted. Where the role may look documents up by number, the
//! identity card's series and number (check digit checked as typed) or the
//! licence number can name the subject instead; it names that document only.
//! A traffic stop whose driver may be named by licence number (the bundle
//! says so, from the policy) offers "driver by: PESEL / licence number".

use okaz_protocol::{
    docnumber, pesel, plate, BundleChoice, BundleRequest, Choice, DocumentType, Permissions, Pesel,
    Subject, SubjectKind, VerificationRequest,
};
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
    /// What names the subject (only when the role has a choice).
    Kind,
    /// The citizen's PESEL.
    Pesel,
    /// The vehicle's plate.
    Plate,
    /// Document type (or bundle).
    Document,
    /// Purpose (single documents only: a bundle's parts have their own).
    Purpose,
    /// Case reference (only when required).
    CaseRef,
    /// A document number (identity card or licence, as the kind says).
    Number,
    /// How a bundle's driver is named (PESEL or licence number), where the
    /// bundle offers both.
    Driver,
}

/// The query form.
#[derive(Debug)]
pub struct QueryForm {
    /// Ways the role may name the subject.
    pub kinds: Vec<SubjectKind>,
    /// The chosen way.
    pub kind: SubjectKind,
    /// PESEL as typed.
    pub pesel: TextField,
    /// Plate as typed.
    pub plate: TextField,
    /// Document number as typed (identity card or licence).
    pub number: TextField,
    /// Every document the role may ask for, with the purposes covering it.
    pub choices: Vec<Choice>,
    /// Documents offered for the chosen subject kind.
    pub documents: Vec<DocumentType>,
    /// Bundles of the role; offered after the documents.
    pub bundles: Vec<BundleChoice>,
    /// Index into documents, then bundles.
    pub document: usize,
    /// Purposes offered for the chosen document.
    pub purposes: Vec<String>,
    /// Index of the chosen purpose.
    pub purpose: usize,
    /// Case reference.
    pub case_ref: TextField,
    /// Whether the role needs a case reference.
    pub case_required: bool,
    /// Whether the officer may open the security officer's screens.
    pub administers: bool,
    /// Whether a bundle's driver is named by licence number (only where the
    /// chosen bundle offers it) rather than by PESEL.
    pub driver_by_licence: bool,
    /// Focused field.
    pub focus: Focus,
    /// Refusal or notice shown under the form.
    pub note: Option<Note>,
    /// The check last sent, kept (only for a role that may break glass)
    /// so that a refusal can offer to repeat it by break-glass.
    pub sent: Option<crate::break_glass::PendingCheck>,
}

/// What a key on this screen asks for.
#[derive(Debug)]
pub enum Intent {
    /// Nothing beyond editing.
    None,
    /// Start a verification.
    Submit(VerificationRequest),
    /// Run a bundle.
    SubmitBundle(BundleRequest),
    /// Open the lockouts list.
    Lockouts,
    /// Open the audit search.
    Audit,
    /// Open the accounts of the unit.
    Officers,
    /// Open the break-glass list (F5).
    BreakGlass,
    /// Open the anomaly signals (F6).
    Signals,
    /// Open the citizens' disputes of the unit's checks.
    Disputes,
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
        let choices = p
            .offered_documents()
            .into_iter()
            .map(|document| Choice {
                document,
                purposes: p.purposes_for(document),
            })
            .collect();
        let kinds = p.subject_kinds();
        let mut form = QueryForm {
            kind: kinds.first().copied().unwrap_or(SubjectKind::Pesel),
            kinds,
            pesel: TextField::new(11, Charset::Digits),
            // Room for spaces typed between the groups of a plate.
            plate: TextField::new(plate::MAX_LEN + 3, Charset::Any),
            // `01234/19/1465` with room for spaces typed around the slashes.
            number: TextField::new(24, Charset::Any),
            choices,
            documents: Vec::new(),
            bundles: p.bundles.clone(),
            document: 0,
            purposes: Vec::new(),
            purpose: 0,
            case_ref: TextField::new(64, Charset::Any),
            case_required: p.case_reference_required,
            administers: p.administers,
            driver_by_licence: false,
            focus: Focus::Pesel,
            note,
            sent: None,
        };
        form.refresh_documents();
        form.focus = form.subject_focus();
        form
    }

    /// The bundle chosen in the document picker, if one is.
    pub fn bundle(&self) -> Option<&BundleChoice> {
        self.document
            .checked_sub(self.documents.len())
            .and_then(|i| self.bundles.get(i))
    }

    fn picks(&self) -> usize {
        self.documents.len() + self.bundles.len()
    }

    fn subject_focus(&self) -> Focus {
        match self.kind {
            SubjectKind::Pesel => Focus::Pesel,
            SubjectKind::Plate => Focus::Plate,
            SubjectKind::IdCardNumber | SubjectKind::LicenceNumber => Focus::Number,
        }
    }

    /// What the number field holds: a bundle's driver is named by licence
    /// number; a single check's subject by its chosen kind.
    fn number_kind(&self) -> SubjectKind {
        match self.bundle() {
            Some(_) => SubjectKind::LicenceNumber,
            None => self.kind,
        }
    }

    /// Whether the chosen bundle's driver is named by licence number.
    fn bundle_by_licence(&self) -> bool {
        self.driver_by_licence && self.bundle().is_some_and(|b| b.person_by_licence)
    }

    /// The typed document number in canonical form, or why it is refused.
    fn valid_number(&self) -> Result<String, docnumber::DocumentNumberError> {
        match self.number_kind() {
            SubjectKind::LicenceNumber => docnumber::licence(self.number.value()),
            _ => docnumber::id_card(self.number.value()),
        }
    }

    /// Offers the documents the chosen subject kind can name, keeping the
    /// chosen one where it is still offered.
    fn refresh_documents(&mut self) {
        let current = self.documents.get(self.document).copied();
        self.documents = self
            .choices
            .iter()
            .map(|c| c.document)
            .filter(|d| names(self.kind, *d))
            .collect();
        self.document = current
            .and_then(|c| self.documents.iter().position(|d| *d == c))
            .unwrap_or(0);
        self.refresh_purposes();
    }

    /// Offers the purposes that cover the chosen document.
    fn refresh_purposes(&mut self) {
        let current = self.purposes.get(self.purpose).cloned();
        let document = self.documents.get(self.document).copied();
        self.purposes = self
            .choices
            .iter()
            .find(|c| Some(c.document) == document)
            .map(|c| c.purposes.clone())
            .unwrap_or_default();
        self.purpose = current
            .and_then(|c| self.purposes.iter().position(|p| *p == c))
            .unwrap_or(0);
    }

    fn order(&self) -> Vec<Focus> {
        let mut o = Vec::new();
        match self.bundle() {
            Some(b) => {
                if b.needs_pesel {
                    if b.person_by_licence {
                        o.push(Focus::Driver);
                    }
                    o.push(if self.bundle_by_licence() {
                        Focus::Number
                    } else {
                        Focus::Pesel
                    });
                }
                if b.needs_plate {
                    o.push(Focus::Plate);
                }
                o.push(Focus::Document);
            }
            None => {
                if self.kinds.len() > 1 {
                    o.push(Focus::Kind);
                }
                o.extend([self.subject_focus(), Focus::Document, Focus::Purpose]);
            }
        }
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
                    Focus::Kind => {
                        let i = self.kinds.iter().position(|k| *k == self.kind).unwrap_or(0);
                        let i = step(i, self.kinds.len(), fwd);
                        self.kind = self.kinds.get(i).copied().unwrap_or(SubjectKind::Pesel);
                        self.refresh_documents();
                    }
                    Focus::Document => {
                        self.document = step(self.document, self.picks(), fwd);
                        self.refresh_purposes();
                    }
                    Focus::Purpose => self.purpose = step(self.purpose, self.purposes.len(), fwd),
                    Focus::Driver => self.driver_by_licence = !self.driver_by_licence,
                    _ => {}
                }
            }
            Key::F(2) if self.administers => return Intent::Lockouts,
            Key::F(3) if self.administers => return Intent::Audit,
            Key::F(4) if self.administers => return Intent::Officers,
            Key::F(5) if self.administers => return Intent::BreakGlass,
            Key::F(6) if self.administers => return Intent::Signals,
            Key::F(7) if self.administers => return Intent::Disputes,
            Key::Enter => return self.submit(),
            other => match self.focus {
                Focus::Pesel => {
                    self.pesel.input(other);
                }
                Focus::Plate => {
                    self.plate.input(other);
                }
                Focus::CaseRef => {
                    self.case_ref.input(other);
                }
                Focus::Number => {
                    self.number.input(other);
                }
                _ => {}
            },
        }
        Intent::None
    }

    fn refuse(&mut self, note: Note, focus: Focus) -> Intent {
        self.note = Some(note);
        self.focus = focus;
        Intent::None
    }

    fn valid_pesel(&self) -> Option<String> {
        Pesel::parse(self.pesel.value())
            .ok()
            .map(|_| self.pesel.value().to_string())
    }

    fn submit(&mut self) -> Intent {
        if let Some(b) = self.bundle().cloned() {
            return self.submit_bundle(&b);
        }
        let (Some(document), Some(purpose)) = (
            self.documents.get(self.document).copied(),
            self.purposes.get(self.purpose).cloned(),
        ) else {
            self.note = Some(Note::NothingPermitted);
            return Intent::None;
        };
        let subject = match self.kind {
            SubjectKind::Pesel => match self.valid_pesel() {
                Some(p) => Subject {
                    pesel: Some(p),
                    ..Subject::default()
                },
                None => return self.refuse(Note::NeedValidPesel, Focus::Pesel),
            },
            SubjectKind::Plate => match plate::normalise(self.plate.value()) {
                Some(p) => Subject {
                    plate: Some(p),
                    ..Subject::default()
                },
                None => return self.refuse(Note::NeedValidPlate, Focus::Plate),
            },
            SubjectKind::IdCardNumber => match self.valid_number() {
                Ok(n) => Subject {
                    id_card_number: Some(n),
                    ..Subject::default()
                },
                Err(_) => return self.refuse(Note::NeedValidNumber, Focus::Number),
            },
            SubjectKind::LicenceNumber => match self.valid_number() {
                Ok(n) => Subject {
                    licence_number: Some(n),
                    ..Subject::default()
                },
                Err(_) => return self.refuse(Note::NeedValidNumber, Focus::Number),
            },
        };
        let Some(case_reference) = self.case_reference() else {
            return self.refuse(Note::NeedCaseRef, Focus::CaseRef);
        };
        self.note = None;
        Intent::Submit(VerificationRequest {
            subject,
            document,
            purpose,
            case_reference,
            photo: None,
        })
    }

    fn submit_bundle(&mut self, b: &BundleChoice) -> Intent {
        let by_licence = b.needs_pesel && self.bundle_by_licence();
        let licence_number = match (by_licence, self.valid_number()) {
            (true, Err(_)) => return self.refuse(Note::NeedValidNumber, Focus::Number),
            (true, Ok(n)) => Some(n),
            (false, _) => None,
        };
        let pesel = match (b.needs_pesel && !by_licence, self.valid_pesel()) {
            (true, None) => return self.refuse(Note::NeedValidPesel, Focus::Pesel),
            (true, Some(p)) => Some(p),
            (false, _) => None,
        };
        let plate = match (b.needs_plate, plate::normalise(self.plate.value())) {
            (true, None) => return self.refuse(Note::NeedValidPlate, Focus::Plate),
            (true, Some(p)) => Some(p),
            (false, _) => None,
        };
        let Some(case_reference) = self.case_reference() else {
            return self.refuse(Note::NeedCaseRef, Focus::CaseRef);
        };
        self.note = None;
        Intent::SubmitBundle(BundleRequest {
            bundle: b.name.clone(),
            subject: Subject {
                pesel,
                plate,
                licence_number,
                ..Subject::default()
            },
            case_reference,
            photo: None,
        })
    }

    /// The case reference to send: `None` when a required one is missing.
    fn case_reference(&self) -> Option<Option<String>> {
        let c = self.case_ref.value().trim().to_string();
        match (c.is_empty(), self.case_required) {
            (true, true) => None,
            (true, false) => Some(None),
            (false, _) => Some(Some(c)),
        }
    }

    /// Key hints.
    pub fn keys(&self) -> Vec<T> {
        let mut k = vec![T::KeyNext, T::KeyChoose, T::KeyCheck];
        if self.administers {
            // F7 (disputes) is not hinted: in Polish the hints would push
            // F10 (log out) off the 80-column footer.
            k.extend([T::KeyLockouts, T::KeyAudit, T::KeyOfficers]);
        }
        k.push(T::KeyLogout);
        k
    }

    /// Draws the form.
    pub fn draw(&self, ctx: &Ctx, area: Rect, f: &mut Frame) {
        let l = ctx.lang;
        let inner = frame_body(ctx, l.t(T::QueryTitle), area, f);
        let order = self.order();
        let labels: Vec<&str> = order.iter().map(|f| self.label(ctx, *f)).collect();
        let w = labels.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let mut lines = Vec::new();
        for focus in order {
            let label = self.label(ctx, focus);
            let on = self.focus == focus;
            match focus {
                Focus::Kind => lines.push(form_row(
                    ctx,
                    label,
                    choice(i18n::subject_kind(l, self.kind)),
                    on,
                    w,
                )),
                Focus::Driver => {
                    let by = if self.driver_by_licence {
                        SubjectKind::LicenceNumber
                    } else {
                        SubjectKind::Pesel
                    };
                    lines.push(form_row(
                        ctx,
                        label,
                        choice(i18n::subject_kind(l, by)),
                        on,
                        w,
                    ));
                }
                Focus::Pesel => {
                    lines.push(form_row(ctx, label, self.pesel.shown(), on, w));
                    lines.push(self.feedback(ctx, w));
                }
                Focus::Plate => {
                    lines.push(form_row(ctx, label, self.plate.shown(), on, w));
                    lines.push(self.plate_feedback(ctx, w));
                }
                Focus::Document => {
                    let doc = match self.bundle() {
                        Some(b) => format!("{} ({})", i18n::bundle(l, &b.name), b.documents.len()),
                        None => self
                            .documents
                            .get(self.document)
                            .map(|d| i18n::document(l, *d).to_string())
                            .unwrap_or_default(),
                    };
                    lines.push(form_row(ctx, label, choice(&doc), on, w));
                }
                Focus::Purpose => {
                    let purpose = self
                        .purposes
                        .get(self.purpose)
                        .map(|p| i18n::purpose(l, p))
                        .unwrap_or_default();
                    lines.push(form_row(ctx, label, choice(&purpose), on, w));
                }
                Focus::CaseRef => lines.push(form_row(ctx, label, self.case_ref.shown(), on, w)),
                Focus::Number => {
                    lines.push(form_row(ctx, label, self.number.shown(), on, w));
                    lines.push(self.number_feedback(ctx, w));
                }
            }
        }
        lines.push(Line::raw(""));
        lines.extend(note_lines(ctx, self.note));
        f.render_widget(para(ctx, lines), inner);
    }

    fn label(&self, ctx: &Ctx, focus: Focus) -> &'static str {
        let l = ctx.lang;
        match focus {
            Focus::Kind => l.t(T::SubjectKind),
            Focus::Pesel => l.t(T::Pesel),
            Focus::Plate => l.t(T::Plate),
            Focus::Document => l.t(T::Document),
            Focus::Purpose => l.t(T::Purpose),
            Focus::CaseRef => l.t(T::CaseRef),
            Focus::Driver => l.t(T::DriverBy),
            Focus::Number if self.number_kind() == SubjectKind::LicenceNumber => l.t(T::LicenceNo),
            Focus::Number => l.t(T::IdCardNo),
        }
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

    fn plate_feedback(&self, ctx: &Ctx, w: usize) -> Line<'static> {
        let l = ctx.lang;
        let typed = self.plate.value();
        let (text, style) = match plate::normalise(typed) {
            _ if typed.trim().is_empty() => (l.t(T::PlateRule).to_string(), ctx.profile.text()),
            Some(p) => (format!("✔ {p}"), ctx.profile.info()),
            None => (l.t(T::PlateRule).to_string(), ctx.profile.problem()),
        };
        Line::from(vec![
            Span::raw(" ".repeat(w + 3)),
            Span::styled(text, style),
        ])
    }
}

impl QueryForm {
    fn number_feedback(&self, ctx: &Ctx, w: usize) -> Line<'static> {
        let l = ctx.lang;
        let rule = match self.number_kind() {
            SubjectKind::LicenceNumber => T::LicenceRule,
            _ => T::IdCardRule,
        };
        let (text, style) = match self.valid_number() {
            _ if self.number.value().trim().is_empty() => {
                (l.t(rule).to_string(), ctx.profile.text())
            }
            Ok(n) => (format!("✔ {n}"), ctx.profile.info()),
            Err(e) => (i18n::number_error(l, e).to_string(), ctx.profile.problem()),
        };
        Line::from(vec![
            Span::raw(" ".repeat(w + 3)),
            Span::styled(text, style),
        ])
    }
}

/// Whether a subject of `kind` can name a document of type `d`.
fn names(kind: SubjectKind, d: DocumentType) -> bool {
    match kind {
        SubjectKind::Pesel => true,
        SubjectKind::Plate => plate::DOCUMENTS.contains(&d),
        SubjectKind::IdCardNumber => docnumber::ID_CARD_DOCUMENTS.contains(&d),
        SubjectKind::LicenceNumber => docnumber::LICENCE_DOCUMENTS.contains(&d),
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
