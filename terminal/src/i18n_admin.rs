//! Polish and English texts of the security officer's account screens
//! (officers list, new officer, disable/enable, credential resets, terminal
//! certificates, the lockouts export). Their own module beside `i18n`, so
//! these screens' words are checked in one place; key hints stay in `i18n::T`.

use crate::i18n::Lang;

/// Fixed texts of the account screens.
#[allow(missing_docs)] // each variant is named after its English text
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A {
    OfficersTitle,
    NoOfficers,
    Login,
    Name,
    Role,
    Unit,
    State,
    Active,
    Disabled,
    Locked,
    NewOfficerTitle,
    DisableTitle,
    EnableTitle,
    Reason,
    ConfirmResetPassword,
    ConfirmResetTotp,
    ConfirmHint,
    CertificateTitle,
    CertificatePath,
    CertificateHint,
    ExportTitle,
    ExportPath,
    ExportHint,
    SecretTitle,
    SecretOnce,
    InitialPassword,
    TotpUri,
    Pin,
}

impl A {
    fn texts(self) -> (&'static str, &'static str) {
        match self {
            A::OfficersTitle => ("Konta jednostki", "Accounts of the unit"),
            A::NoOfficers => ("Brak kont.", "No accounts."),
            A::Login => ("Login", "Login"),
            A::Name => ("Imię i nazwisko", "Name"),
            A::Role => ("Rola", "Role"),
            A::Unit => ("Jednostka", "Unit"),
            A::State => ("Stan", "State"),
            A::Active => ("aktywne", "active"),
            A::Disabled => ("wyłączone", "disabled"),
            A::Locked => ("zablokowane", "locked"),
            A::NewOfficerTitle => ("Nowe konto", "New account"),
            A::DisableTitle => ("Wyłącz konto", "Disable account"),
            A::EnableTitle => ("Włącz konto", "Enable account"),
            A::Reason => ("Powód", "Reason"),
            A::ConfirmResetPassword => ("Nadać nowe hasło dla", "Reset the password of"),
            A::ConfirmResetTotp => ("Nadać nowy klucz TOTP dla", "Reset the TOTP key of"),
            A::ConfirmHint => (
                "Enter: tak · Esc: nie. Stare przestaje działać od razu.",
                "Enter: yes · Esc: no. The old one stops working at once.",
            ),
            A::CertificateTitle => ("Certyfikat terminalu", "Terminal certificate"),
            A::CertificatePath => ("Plik PEM", "PEM file"),
            A::CertificateHint => (
                "Certyfikat terminalu tego funkcjonariusza; PIN pokaże się raz.",
                "This officer's terminal certificate; the PIN is shown once.",
            ),
            A::ExportTitle => ("Eksport blokad (CSV)", "Export lockouts (CSV)"),
            A::ExportPath => ("Zapisz do", "Save to"),
            A::ExportHint => (
                "Plik nie może istnieć; zawiera konta urzędników, nie dane obywateli.",
                "The file must not exist; it holds officers' accounts, no citizen data.",
            ),
            A::SecretTitle => ("Do przekazania", "To hand over"),
            A::SecretOnce => (
                "Pokazane tylko raz: przekaż osobiście, nie zapisuj.",
                "Shown this once: hand over in person, do not write down.",
            ),
            A::InitialPassword => ("Hasło", "Password"),
            A::TotpUri => ("TOTP", "TOTP"),
            A::Pin => ("PIN", "PIN"),
        }
    }
}

/// The text `a` in `lang`.
pub fn t(lang: Lang, a: A) -> &'static str {
    let (pl, en) = a.texts();
    lang.pick(pl, en)
}
