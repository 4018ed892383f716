//! Polish and English texts of the security officer's disputes screen (a
//! citizen's "I did not agree to this" about a check). Their own module
//! beside `i18n`, so this screen's words are checked in one place.

use crate::i18n::Lang;

/// Fixed texts of the disputes screen.
#[allow(missing_docs)] // each variant is named after its English text
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum D {
    Title,
    NoDisputes,
    Opened,
    Unit,
    Officer,
    Document,
    Purpose,
    Comment,
    Records,
    NoRecords,
    ResolveTitle,
    Reason,
    ResolveHint,
    Checked,
}

impl D {
    fn texts(self) -> (&'static str, &'static str) {
        match self {
            D::Title => ("Zgłoszenia obywateli", "Citizens' disputes"),
            D::NoDisputes => ("Brak otwartych zgłoszeń.", "No open disputes."),
            D::Opened => ("Zgłoszono", "Opened"),
            D::Unit => ("Jednostka", "Unit"),
            D::Officer => ("Funkcjonariusz", "Officer"),
            D::Document => ("Dokument", "Document"),
            D::Purpose => ("Cel", "Purpose"),
            D::Comment => ("Komentarz", "Comment"),
            D::Records => ("Zapisy audytu", "Audit records"),
            D::NoRecords => ("Brak zapisów.", "No records."),
            D::ResolveTitle => ("Rozstrzygnij", "Resolve"),
            D::Reason => ("Powód", "Reason"),
            D::Checked => ("Sprawdzono", "Checked"),
            D::ResolveHint => ("Powód trafia do audytu.", "The reason is audited."),
        }
    }
}

/// The text `d` in `lang`.
pub fn t(lang: Lang, d: D) -> &'static str {
    let (pl, en) = d.texts();
    lang.pick(pl, en)
}
