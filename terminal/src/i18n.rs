//! Polish and English texts. Every word on screen comes from here, so a
//! translation is checked in one place and the snapshots show both.

use okaz_protocol::docnumber::DocumentNumberError;
use okaz_protocol::{DocumentStatus, DocumentType, ErrorCode, PeselError, SubjectKind};

/// The language of the texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Polski.
    Pl,
    /// English.
    En,
}

impl Lang {
    /// Chooses from a `--lang` flag, then `LC_ALL`, `LC_MESSAGES` and `LANG`
    /// (first non-empty wins, as POSIX says); English when nothing says Polish.
    pub fn choose(
        flag: Option<&str>,
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        let pick = flag
            .into_iter()
            .chain(lc_all)
            .chain(lc_messages)
            .chain(lang)
            .find(|v| !v.is_empty());
        match pick {
            Some(v) if v.to_ascii_lowercase().starts_with("pl") => Lang::Pl,
            _ => Lang::En,
        }
    }

    /// The text `t` in this language.
    pub fn t(self, t: T) -> &'static str {
        let (pl, en) = t.texts();
        self.pick(pl, en)
    }

    /// Picks the Polish or the English one of two texts.
    pub fn pick(self, pl: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Pl => pl,
            Lang::En => en,
        }
    }
}

/// Fixed texts of the screens.
#[allow(missing_docs)] // each variant is named after its English text
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    NotLoggedIn,
    Today,
    Busy,
    LoginTitle,
    Login,
    Password,
    Totp,
    QueryTitle,
    Pesel,
    Document,
    Purpose,
    CaseRef,
    Digits,
    PeselOk,
    AwaitTitle,
    AwaitAsk,
    SentTo,
    ExpiresIn,
    AttemptsLeft,
    Code,
    ResultTitle,
    ClearsIn,
    Source,
    Yes,
    No,
    NoticeTitle,
    WhatNext,
    LockoutsTitle,
    NoLockouts,
    Officer,
    LockedAt,
    Reason,
    AttemptsToday,
    UnlockTitle,
    ExtraAllowance,
    AuditTitle,
    From,
    To,
    When,
    Event,
    Outcome,
    NoRecords,
    Loading,
    KeyNext,
    KeyLogin,
    KeyQuit,
    KeyChoose,
    KeyCheck,
    KeyLockouts,
    KeyAudit,
    KeyLogout,
    KeyConfirm,
    KeyCancel,
    KeyNew,
    KeyContinue,
    KeySelect,
    KeyUnlock,
    KeyRefresh,
    KeyBack,
    KeySearch,
    KeyScroll,
    PinLoginTitle,
    Pin,
    PinHint,
    Plate,
    PlateRule,
    SubjectKind,
    /// How a traffic stop's driver is named (PESEL or licence number).
    DriverBy,
    LockIn,
    Retrying,
    IdCardNo,
    LicenceNo,
    IdCardRule,
    LicenceRule,
    KeyOfficers,
    KeyNewAccount,
    KeyDisable,
    KeyResetPassword,
    KeyResetTotp,
    KeyCertificate,
    KeyExport,
    /// Break-glass list: countersign or reject.
    KeyDecide,
    KeyDisputes,
    KeyDetails,
    KeyResolve,
    /// The officer's break-glass: the key that opens it.
    KeyBreakGlass,
    BreakGlassTitle,
    /// Under a refusal break-glass may override.
    BreakGlassOffer,
    BreakGlassNoCode,
    BreakGlassDailyLimit,
    /// What a break-glass costs the officer.
    BreakGlassWarning,
    Justification,
    /// On a document released by break-glass.
    BreakGlassFlag,
}

impl T {
    fn texts(self) -> (&'static str, &'static str) {
        match self {
            T::NotLoggedIn => ("niezalogowany", "not logged in"),
            T::Today => ("sprawdzeń dziś", "checks today"),
            T::Busy => ("Czekam na brokera…", "Waiting for the broker…"),
            T::LoginTitle => ("Logowanie", "Log in"),
            T::Login => ("Login", "Login"),
            T::Password => ("Hasło", "Password"),
            T::Totp => ("Kod TOTP", "TOTP code"),
            T::QueryTitle => ("Sprawdź dokument", "Check a document"),
            T::Pesel => ("PESEL", "PESEL"),
            T::Document => ("Dokument", "Document"),
            T::Purpose => ("Cel", "Purpose"),
            T::CaseRef => ("Sygnatura", "Case ref."),
            T::Digits => ("cyfr", "digits"),
            T::PeselOk => ("✔ suma kontrolna poprawna", "✔ check digit OK"),
            T::AwaitTitle => ("Kod od obywatela", "Citizen's code"),
            T::AwaitAsk => (
                "Poproś obywatela o odczytanie kodu z SMS-a.",
                "Ask the citizen to read out the code from the SMS.",
            ),
            T::SentTo => ("SMS na", "SMS to"),
            T::ExpiresIn => ("Wygasa za", "Expires in"),
            T::AttemptsLeft => ("Próby", "Attempts left"),
            T::Code => ("Kod", "Code"),
            T::ResultTitle => ("Wynik", "Result"),
            T::ClearsIn => ("Zniknie za", "Clears in"),
            T::Source => ("Źródło", "Source"),
            T::Yes => ("tak", "yes"),
            T::No => ("nie", "no"),
            T::NoticeTitle => ("Odmowa", "Refused"),
            T::WhatNext => ("Co dalej", "What next"),
            T::LockoutsTitle => ("Zablokowane konta", "Locked accounts"),
            T::NoLockouts => ("Brak zablokowanych kont.", "No locked accounts."),
            T::Officer => ("Urzędnik", "Officer"),
            T::LockedAt => ("Od", "Since"),
            T::Reason => ("Powód", "Reason"),
            T::AttemptsToday => ("Dziś", "Today"),
            T::UnlockTitle => ("Odblokuj", "Unlock"),
            T::ExtraAllowance => ("Dodatkowy limit", "Extra allowance"),
            T::AuditTitle => ("Audyt", "Audit"),
            T::From => ("Od (RRRR-MM-DD)", "From (YYYY-MM-DD)"),
            T::To => ("Do (RRRR-MM-DD)", "To (YYYY-MM-DD)"),
            T::When => ("Kiedy", "When"),
            T::Event => ("Zdarzenie", "Event"),
            T::Outcome => ("Wynik", "Outcome"),
            T::NoRecords => ("Brak wpisów.", "No records."),
            T::Loading => ("Wczytuję…", "Loading…"),
            T::KeyNext => ("Tab pole", "Tab field"),
            T::KeyLogin => ("Enter zaloguj", "Enter log in"),
            T::KeyQuit => ("F10 wyjdź", "F10 quit"),
            T::KeyChoose => ("←→ wybierz", "←→ choose"),
            T::KeyCheck => ("Enter sprawdź", "Enter check"),
            T::KeyLockouts => ("F2 blokady", "F2 lockouts"),
            T::KeyAudit => ("F3 audyt", "F3 audit"),
            T::KeyLogout => ("F10 wyloguj", "F10 log out"),
            T::KeyConfirm => ("Enter zatwierdź", "Enter confirm"),
            T::KeyCancel => ("Esc anuluj", "Esc cancel"),
            T::KeyNew => ("Enter nowe", "Enter new check"),
            T::KeyContinue => ("Enter dalej", "Enter continue"),
            T::KeySelect => ("↑↓ wybierz", "↑↓ select"),
            T::KeyUnlock => ("U odblokuj", "U unlock"),
            T::KeyRefresh => ("R odśwież", "R refresh"),
            T::KeyBack => ("Esc wróć", "Esc back"),
            T::KeySearch => ("Enter szukaj", "Enter search"),
            T::KeyScroll => ("↑↓ przewiń", "↑↓ scroll"),
            T::KeyDecide => ("C podpisz X odrzuć", "C countersign X reject"),
            T::PinLoginTitle => ("Logowanie terminalem", "Terminal log-in"),
            T::Pin => ("PIN", "PIN"),
            T::PinHint => (
                "Certyfikat terminalu wskazuje funkcjonariusza; wpisz swój PIN.",
                "The terminal's certificate names the officer; type your PIN.",
            ),
            T::Plate => ("Nr rej.", "Plate"),
            T::PlateRule => ("litery i cyfry, do 8", "letters and digits, up to 8"),
            T::SubjectKind => ("Szukaj po", "Look up by"),
            T::DriverBy => ("Kierowca po", "Driver by"),
            T::Retrying => ("Brak połączenia, ponawiam", "No connection, retrying"),
            T::IdCardNo => ("Nr dowodu", "ID card no."),
            T::LicenceNo => ("Nr prawa jazdy", "Licence no."),
            T::IdCardRule => ("3 litery i 6 cyfr", "3 letters, 6 digits"),
            T::LicenceRule => ("NNNNN/NN/NNNN", "NNNNN/NN/NNNN"),
            T::KeyOfficers => ("F4 konta", "F4 accounts"),
            T::KeyNewAccount => ("n nowe konto", "n new account"),
            T::KeyDisable => ("d wyłącz/włącz", "d disable/enable"),
            T::KeyResetPassword => ("p nowe hasło", "p reset password"),
            T::KeyResetTotp => ("t nowy TOTP", "t reset TOTP"),
            T::KeyCertificate => ("c certyfikat", "c certificate"),
            T::KeyExport => ("e eksport blokad", "e export lockouts"),
            T::KeyDisputes => ("F7 zgłoszenia", "F7 disputes"),
            T::KeyDetails => ("Enter szczegóły", "Enter details"),
            T::KeyResolve => ("Enter rozstrzygnij", "Enter resolve"),
            T::KeyBreakGlass => ("B dostęp awaryjny", "B break glass"),
            T::BreakGlassTitle => ("Dostęp awaryjny", "Break glass"),
            T::BreakGlassOffer => (
                "W nagłym wypadku: B — dostęp awaryjny.",
                "In an emergency: B to break glass.",
            ),
            T::BreakGlassNoCode => ("⚠ Bez kodu obywatela", "⚠ Without the citizen's code"),
            T::BreakGlassDailyLimit => ("⚠ Ponad dzienny limit", "⚠ Past the daily limit"),
            T::BreakGlassWarning => (
                "Sprawdzenie zostanie oznaczone, a przełożeni jednostki powiadomieni. \
                 Wymaga kontrasygnaty w czasie z polityki; bez niej konto zostanie zablokowane.",
                "The check is flagged and your unit's supervisors alerted. It needs a \
                 countersign within the policy's hours; unsigned, it locks your account.",
            ),
            T::Justification => ("Uzasadnienie", "Justification"),
            T::BreakGlassFlag => (
                "⚠ AWARYJNY / dostęp awaryjny — czeka na kontrasygnatę",
                "⚠ EMERGENCY / break-glass — awaiting countersign",
            ),
            T::LockIn => (
                "Prób do blokady konta",
                "Attempts left before the account locks",
            ),
        }
    }
}

/// Something the officer must be told: a refusal by the broker, a local
/// check that failed, or a plain notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The broker refused with this code (and, for a wrong code, attempts left).
    Refused(ErrorCode, Option<u32>),
    /// The broker could not be reached or the connection dropped.
    Network,
    /// The broker answered with something that is not the API.
    Http(u16),
    /// The terminal locked itself after the idle time.
    IdleLocked,
    /// The officer logged out.
    LoggedOut,
    /// The document was cleared after its display time.
    DocumentCleared,
    /// The security officer unlocked an account.
    Unlocked,
    /// Submit was pressed with an invalid PESEL.
    NeedValidPesel,
    /// Submit was pressed with a malformed plate.
    NeedValidPlate,
    /// A wrong PIN at the certificate login, with the attempts left before the lock.
    WrongPin(Option<u32>),
    /// Submit was pressed without the required case reference.
    NeedCaseRef,
    /// The role may not ask for any document.
    NothingPermitted,
    /// The role checks no documents but administers (security officer).
    AdminOnly,
    /// An unlock without a reason.
    NeedReason,
    /// A date that is not `YYYY-MM-DD`.
    BadDate,
    /// A code shorter than six digits.
    CodeIncomplete,
    /// A form field left empty.
    FillAll,
    /// Submit was pressed with a malformed document number.
    NeedValidNumber,
    /// A file the terminal was to read could not be read.
    FileUnreadable,
    /// The file holds no PEM certificate.
    NotACertificate,
    /// The file to save to exists already (never overwritten).
    FileExists,
    /// The file could not be written.
    FileNotWritten,
    /// The lockouts were saved to the file named.
    Saved,
    /// An account was disabled.
    AccountDisabled,
    /// An account was enabled.
    AccountEnabled,
    /// A dispute was resolved.
    DisputeResolved,
    /// A dispute's resolution without a reason.
    NeedResolution,
    /// A consent-free break-glass role at its daily limit: the check was
    /// not sent (it would lock the account); break-glass is offered.
    AtDailyLimit,
    /// A break-glass without a justification.
    NeedJustification,
}

impl Note {
    /// Whether this is a problem (shown in red) rather than information.
    pub fn is_problem(self) -> bool {
        !matches!(
            self,
            Note::LoggedOut
                | Note::DocumentCleared
                | Note::Unlocked
                | Note::AdminOnly
                | Note::Saved
                | Note::AccountDisabled
                | Note::AccountEnabled
                | Note::DisputeResolved
        )
    }

    /// The message and, where there is one, what to do next.
    pub fn texts(self, lang: Lang) -> (String, Option<&'static str>) {
        let l = |pl, en| lang.pick(pl, en);
        match self {
            Note::Refused(code, attempts) => {
                let (msg, hint) = refusal(lang, code);
                let msg = match (code, attempts) {
                    (ErrorCode::WrongCode, Some(n)) => {
                        format!("{msg} {}: {n}.", lang.t(T::AttemptsLeft))
                    }
                    (ErrorCode::InvalidCredentials, Some(n)) => {
                        format!("{msg} {}: {n}.", lang.t(T::LockIn))
                    }
                    _ => msg.to_string(),
                };
                (msg, Some(hint))
            }
            Note::Network => (
                l(
                    "Brak połączenia z brokerem.",
                    "No connection to the broker.",
                )
                .into(),
                Some(l(
                    "Sprawdź sieć i spróbuj ponownie.",
                    "Check the network and try again.",
                )),
            ),
            Note::Http(status) => (
                format!(
                    "{} (HTTP {status}).",
                    l(
                        "Nieoczekiwana odpowiedź brokera",
                        "Unexpected answer from the broker"
                    )
                ),
                Some(l(
                    "Spróbuj ponownie; jeśli się powtarza, zgłoś to.",
                    "Try again; if it persists, report it.",
                )),
            ),
            Note::IdleLocked => (
                l(
                    "Terminal zablokowany po bezczynności.",
                    "Terminal locked after inactivity.",
                )
                .into(),
                Some(l("Zaloguj się ponownie.", "Log in again.")),
            ),
            Note::LoggedOut => (l("Wylogowano.", "Logged out.").into(), None),
            Note::DocumentCleared => (
                l(
                    "Czas wyświetlania minął: dokument usunięto.",
                    "Display time over: the document was cleared.",
                )
                .into(),
                None,
            ),
            Note::Unlocked => (l("Konto odblokowane.", "Account unlocked.").into(), None),
            Note::NeedValidPlate => (
                l(
                    "Wpisz poprawny numer rejestracyjny.",
                    "Enter a valid registration number.",
                )
                .into(),
                Some(l(
                    "Tylko litery i cyfry, najwyżej 8.",
                    "Letters and digits only, at most 8.",
                )),
            ),
            Note::WrongPin(attempts) => (
                match attempts {
                    Some(n) => format!(
                        "{} {}: {n}.",
                        l("Błędny PIN.", "Wrong PIN."),
                        lang.t(T::LockIn)
                    ),
                    None => l("Błędny PIN.", "Wrong PIN.").into(),
                },
                Some(l(
                    "Po ostatniej próbie konto zostanie zablokowane.",
                    "After the last attempt the account is locked.",
                )),
            ),
            Note::NeedValidPesel => (
                l("Wpisz poprawny PESEL.", "Enter a valid PESEL.").into(),
                None,
            ),
            Note::NeedCaseRef => (
                l("Podaj sygnaturę sprawy.", "Enter the case reference.").into(),
                None,
            ),
            Note::NothingPermitted => (
                l(
                    "Twoja rola nie może sprawdzać dokumentów.",
                    "Your role may not check documents.",
                )
                .into(),
                Some(l("Zapytaj administratora.", "Ask your security officer.")),
            ),
            Note::AdminOnly => (
                l(
                    "Twoja rola nie sprawdza dokumentów.",
                    "Your role checks no documents.",
                )
                .into(),
                Some(l("F2 blokady, F3 audyt.", "F2 lockouts, F3 audit.")),
            ),
            Note::NeedReason => (
                l(
                    "Podaj powód odblokowania.",
                    "Give the reason for unlocking.",
                )
                .into(),
                None,
            ),
            Note::BadDate => (
                l(
                    "Data ma postać RRRR-MM-DD.",
                    "A date looks like YYYY-MM-DD.",
                )
                .into(),
                None,
            ),
            Note::CodeIncomplete => (l("Kod ma 6 cyfr.", "The code has 6 digits.").into(), None),
            Note::FillAll => (
                l("Wypełnij wszystkie pola.", "Fill in every field.").into(),
                None,
            ),
            Note::NeedValidNumber => (
                l(
                    "Wpisz poprawny numer dokumentu.",
                    "Enter a valid document number.",
                )
                .into(),
                Some(l("Sprawdź, czy nie ma literówki.", "Check it for a typo.")),
            ),
            Note::FileUnreadable => (
                l("Nie można odczytać pliku.", "The file cannot be read.").into(),
                Some(l("Sprawdź ścieżkę.", "Check the path.")),
            ),
            Note::NotACertificate => (
                l(
                    "W pliku nie ma certyfikatu PEM.",
                    "The file holds no PEM certificate.",
                )
                .into(),
                None,
            ),
            Note::FileExists => (
                l("Plik już istnieje.", "The file exists already.").into(),
                Some(l("Podaj nową nazwę.", "Name a new file.")),
            ),
            Note::FileNotWritten => (
                l("Nie można zapisać pliku.", "The file cannot be written.").into(),
                Some(l("Sprawdź katalog.", "Check the directory.")),
            ),
            Note::Saved => (l("Zapisano.", "Saved.").into(), None),
            Note::AccountDisabled => (l("Konto wyłączone.", "Account disabled.").into(), None),
            Note::AccountEnabled => (l("Konto włączone.", "Account enabled.").into(), None),
            Note::DisputeResolved => (
                l("Zgłoszenie rozstrzygnięte.", "Dispute resolved.").into(),
                None,
            ),
            Note::NeedResolution => (
                l(
                    "Podaj powód rozstrzygnięcia.",
                    "Give the resolution's reason.",
                )
                .into(),
                None,
            ),
            Note::AtDailyLimit => (
                l(
                    "Dzienny limit osiągnięty: kolejne sprawdzenie zablokuje konto.",
                    "Daily limit reached: another check would lock your account.",
                )
                .into(),
                Some(l(
                    "Nic nie wysłano. Zadzwoń do administratora bezpieczeństwa.",
                    "Nothing was sent. Call your security officer.",
                )),
            ),
            Note::NeedJustification => (
                l("Podaj uzasadnienie.", "Give the justification.").into(),
                None,
            ),
        }
    }
}

/// What a refusal means to a clerk, and what to do next.
pub fn refusal(lang: Lang, code: ErrorCode) -> (&'static str, &'static str) {
    use ErrorCode as E;
    let (pl, en) = match code {
        E::InvalidRequest => (
            (
                "Broker nie zrozumiał zapytania.",
                "Sprawdź pola i spróbuj ponownie.",
            ),
            (
                "The broker did not understand the request.",
                "Check the fields and try again.",
            ),
        ),
        E::InvalidPesel => (
            ("PESEL jest niepoprawny.", "Sprawdź, czy nie ma literówki."),
            ("The PESEL is not valid.", "Check it for a typo."),
        ),
        E::PayloadTooLarge => (
            ("Zapytanie jest za duże.", "Skróć wpisany tekst."),
            ("The request is too large.", "Shorten what you typed."),
        ),
        E::InvalidCredentials => (
            (
                "Błędny login, hasło lub kod.",
                "Sprawdź dane i wpisz nowy kod TOTP.",
            ),
            (
                "Login, password or code is wrong.",
                "Check them and type a fresh TOTP code.",
            ),
        ),
        E::LoginThrottled => (
            (
                "Za dużo nieudanych logowań.",
                "Odczekaj chwilę i spróbuj ponownie.",
            ),
            ("Too many failed logins.", "Wait a moment and try again."),
        ),
        E::AccountLocked => (
            (
                "Twoje konto jest zablokowane.",
                "Zadzwoń do administratora bezpieczeństwa.",
            ),
            ("Your account is locked.", "Call your security officer."),
        ),
        E::SessionExpired => (
            ("Sesja wygasła.", "Zaloguj się ponownie."),
            ("Your session has ended.", "Log in again."),
        ),
        E::NotPermitted => (
            (
                "Twoja rola nie może wykonać tego sprawdzenia w tym celu.",
                "Wybierz inny dokument lub cel.",
            ),
            (
                "Your role may not make this check for this purpose.",
                "Choose another document or purpose.",
            ),
        ),
        E::CaseReferenceRequired => (
            (
                "To sprawdzenie wymaga sygnatury sprawy.",
                "Wpisz sygnaturę i spróbuj ponownie.",
            ),
            (
                "This check needs a case reference.",
                "Enter the case reference and try again.",
            ),
        ),
        E::NotActivated => (
            (
                "Obywatel nie włączył usługi.",
                "Może ją włączyć w portalu obywatela; poproś o dokument fizyczny.",
            ),
            (
                "The citizen has not activated the service.",
                "They can on the citizen portal; ask for the physical document.",
            ),
        ),
        E::NoContact => (
            (
                "Brak telefonu obywatela w rejestrze kontaktowym.",
                "Poproś o dokument fizyczny.",
            ),
            (
                "No phone on record for this citizen.",
                "Ask for the physical document.",
            ),
        ),
        E::DocumentNotFound => (
            (
                "Rejestr nie ma takiego dokumentu tej osoby.",
                "Sprawdź rodzaj dokumentu i PESEL.",
            ),
            (
                "The register holds no such document for this citizen.",
                "Check the document type and PESEL.",
            ),
        ),
        E::DailyLimitExceeded => (
            (
                "Dzienny limit wyczerpany: konto zablokowane.",
                "Zadzwoń do administratora bezpieczeństwa.",
            ),
            (
                "Daily limit reached: your account is locked.",
                "Call your security officer.",
            ),
        ),
        E::RegistryUnavailable => (
            ("Rejestr nie odpowiada.", "Spróbuj ponownie za kilka minut."),
            (
                "The register is not answering.",
                "Try again in a few minutes.",
            ),
        ),
        E::SmsUnavailable => (
            (
                "Nie udało się wysłać SMS-a.",
                "Spróbuj ponownie za kilka minut.",
            ),
            ("The SMS could not be sent.", "Try again in a few minutes."),
        ),
        E::WrongCode => (
            ("Błędny kod.", "Poproś o ponowne odczytanie kodu."),
            ("Wrong code.", "Ask the citizen to read it out again."),
        ),
        E::ChallengeExpired => (
            ("Kod wygasł.", "Rozpocznij sprawdzenie od nowa."),
            ("The code has expired.", "Start the check again."),
        ),
        E::ChallengeExhausted => (
            ("Za dużo błędnych kodów.", "Rozpocznij sprawdzenie od nowa."),
            ("Too many wrong codes.", "Start the check again."),
        ),
        E::ChallengeUsed => (
            (
                "Ten kod został już użyty.",
                "Rozpocznij sprawdzenie od nowa.",
            ),
            ("This code was already used.", "Start the check again."),
        ),
        E::ChallengeReleasing => (
            (
                "Ten kod jest już sprawdzany.",
                "Poczekaj na dokument; nie wysyłaj kodu ponownie.",
            ),
            (
                "This code is being checked already.",
                "Wait for the document; do not send the code again.",
            ),
        ),
        E::NotFound => (
            (
                "Nie ma takiego sprawdzenia.",
                "Rozpocznij sprawdzenie od nowa.",
            ),
            ("No such check.", "Start the check again."),
        ),
        E::NotLocked => (
            (
                "To konto nie jest zablokowane.",
                "Nie trzeba go odblokowywać.",
            ),
            ("This account is not locked.", "There is nothing to unlock."),
        ),
        E::ServiceUnavailable => (
            (
                "Usługa chwilowo niedostępna.",
                "Spróbuj ponownie za kilka minut.",
            ),
            (
                "The service is temporarily unavailable.",
                "Try again in a few minutes.",
            ),
        ),
        E::Internal => (
            (
                "Błąd po stronie brokera (zapisany).",
                "Spróbuj ponownie; jeśli się powtarza, zgłoś to.",
            ),
            (
                "Something went wrong in the broker; it was logged.",
                "Try again; if it persists, report it.",
            ),
        ),
        E::InvalidDocumentNumber => (
            (
                "Numer dokumentu jest niepoprawny.",
                "Sprawdź, czy nie ma literówki; nic nie policzono.",
            ),
            (
                "The document number is not valid.",
                "Check it for a typo; nothing was counted.",
            ),
        ),
        E::BreakGlassLimitReached => (
            (
                "Limit dostępów awaryjnych na dziś wyczerpany.",
                "Zadzwoń do przełożonego.",
            ),
            (
                "No more emergency overrides today.",
                "Call your supervisor.",
            ),
        ),
    };
    match lang {
        Lang::Pl => pl,
        Lang::En => en,
    }
}

/// Why a typed PESEL is not valid, in words.
pub fn pesel_error(lang: Lang, e: PeselError) -> &'static str {
    match e {
        PeselError::Length => lang.pick("✖ PESEL ma 11 cyfr", "✖ a PESEL has 11 digits"),
        PeselError::NotDigits => lang.pick("✖ tylko cyfry", "✖ digits only"),
        PeselError::BirthDate => lang.pick("✖ nie ma takiej daty", "✖ no such birth date"),
        PeselError::CheckDigit => lang.pick("✖ zła cyfra kontrolna", "✖ check digit wrong"),
    }
}

/// What names a subject, in words.
pub fn subject_kind(lang: Lang, k: SubjectKind) -> &'static str {
    match k {
        SubjectKind::Pesel => lang.pick("PESEL", "PESEL"),
        SubjectKind::Plate => lang.pick("nr rejestracyjny", "plate"),
        SubjectKind::IdCardNumber => lang.pick("nr dowodu osobistego", "ID card number"),
        SubjectKind::LicenceNumber => lang.pick("nr prawa jazdy", "licence number"),
    }
}

/// Why a typed document number is not valid, in words.
pub fn number_error(lang: Lang, e: DocumentNumberError) -> &'static str {
    match e {
        DocumentNumberError::IdCardShape => {
            lang.pick("✖ 3 litery i 6 cyfr", "✖ 3 letters, 6 digits")
        }
        DocumentNumberError::IdCardCheckDigit => {
            lang.pick("✖ zła cyfra kontrolna", "✖ check digit wrong")
        }
        DocumentNumberError::LicenceShape => lang.pick("✖ NNNNN/NN/NNNN", "✖ NNNNN/NN/NNNN"),
    }
}

/// A bundle's name in words; unknown names are shown as they are.
pub fn bundle(lang: Lang, name: &str) -> String {
    let (pl, en) = match name {
        "traffic_stop" => ("Kontrola drogowa", "Traffic stop"),
        "large_family_discount" => ("Ulga: Karta Dużej Rodziny", "Large Family discount"),
        "pensioner_discount" => ("Ulga emerycka", "Pensioner discount"),
        other => return other.replace('_', " "),
    };
    lang.pick(pl, en).to_string()
}

/// A document type in words.
pub fn document(lang: Lang, d: DocumentType) -> &'static str {
    use DocumentType as D;
    match d {
        D::IdCard => lang.pick("Dowód osobisty", "Identity card"),
        D::DrivingLicence => lang.pick("Prawo jazdy", "Driving licence"),
        D::VehicleRegistration => lang.pick("Dowód rejestracyjny", "Vehicle registration"),
        D::TechnicalInspection => lang.pick("Badanie techniczne", "Technical inspection"),
        D::OcInsurance => lang.pick("Polisa OC", "OC insurance"),
        D::StudentId => lang.pick("Legitymacja studencka", "Student ID"),
        D::PensionerId => lang.pick("Legitymacja emeryta", "Pensioner ID"),
        D::LargeFamilyCard => lang.pick("Karta Dużej Rodziny", "Large Family Card"),
        D::SchoolId => lang.pick("Legitymacja szkolna", "School ID"),
    }
}

/// A document status in words with a symbol, so it reads without colour.
pub fn status(lang: Lang, s: DocumentStatus) -> &'static str {
    use DocumentStatus as S;
    match s {
        S::Valid => lang.pick("✔ WAŻNY", "✔ VALID"),
        S::Expired => lang.pick("✖ WYGASŁY", "✖ EXPIRED"),
        S::Suspended => lang.pick("✖ ZAWIESZONY", "✖ SUSPENDED"),
        S::ReportedLost => lang.pick("✖ ZGŁOSZONY JAKO UTRACONY", "✖ REPORTED LOST"),
        S::Cancelled => lang.pick("✖ UNIEWAŻNIONY", "✖ CANCELLED"),
    }
}

/// The label of a document field; unknown names are shown as they are.
pub fn field(lang: Lang, name: &str) -> String {
    let (pl, en) = match name {
        "document_number" => ("Numer dokumentu", "Document number"),
        "given_names" => ("Imiona", "Given names"),
        "surname" => ("Nazwisko", "Surname"),
        "birth_date" => ("Data urodzenia", "Birth date"),
        "age_over_18" => ("Pełnoletni", "Over 18"),
        "sex" => ("Płeć", "Sex"),
        "citizenship" => ("Obywatelstwo", "Citizenship"),
        "issue_date" => ("Data wydania", "Issued"),
        "expiry_date" => ("Ważny do", "Valid until"),
        "issuing_authority" => ("Organ wydający", "Issued by"),
        "categories" => ("Kategorie", "Categories"),
        "restrictions" => ("Ograniczenia", "Restrictions"),
        "suspended_until" => ("Zawieszone do", "Suspended until"),
        "registration_number" => ("Nr rejestracyjny", "Plate"),
        "vin" => ("VIN", "VIN"),
        "make" => ("Marka", "Make"),
        "model" => ("Model", "Model"),
        "first_registration" => ("Pierwsza rejestracja", "First registered"),
        "holder_relation" => ("Posiadacz", "Holder"),
        "inspection_date" => ("Data badania", "Inspected"),
        "next_inspection_due" => ("Następne badanie", "Next inspection"),
        "result" => ("Wynik", "Result"),
        "odometer_km" => ("Przebieg km", "Odometer km"),
        "insurer" => ("Ubezpieczyciel", "Insurer"),
        "policy_number" => ("Numer polisy", "Policy number"),
        "valid_from" => ("Ważna od", "Valid from"),
        "valid_until" => ("Ważna do", "Valid until"),
        "university" => ("Uczelnia", "University"),
        "student_number" => ("Nr albumu", "Student number"),
        "pension_authority" => ("Organ emerytalny", "Pension authority"),
        "card_number" => ("Numer karty", "Card number"),
        "school" => ("Szkoła", "School"),
        "photo" => ("Zdjęcie", "Photo"),
        other => return other.replace('_', " "),
    };
    lang.pick(pl, en).to_string()
}

/// Why an account was locked, in words; unknown reasons are shown as they are.
pub fn lock_reason(lang: Lang, reason: &str) -> String {
    let (pl, en) = match reason {
        "daily_limit_exceeded" => ("limit dzienny", "daily limit"),
        "wrong_codes" | "wrong_code" => ("błędne kody", "wrong codes"),
        "login_failures" | "invalid_credentials" => ("nieudane logowania", "failed logins"),
        "manual" => ("ręcznie", "by hand"),
        "break_glass_unsigned" => ("awaryjny bez podpisu", "break-glass unsigned"),
        "break_glass_rejected" => ("awaryjny odrzucony", "break-glass rejected"),
        other => return other.replace('_', " "),
    };
    lang.pick(pl, en).to_string()
}

/// The name of a purpose; purposes come from the policy, so unknown ones are
/// shown as their policy name.
pub fn purpose(lang: Lang, name: &str) -> String {
    let (pl, en) = match name {
        "identity_confirmation" | "identity_check" => {
            ("Potwierdzenie tożsamości", "Identity check")
        }
        "licence_check" => ("Uprawnienia kierowcy", "Licence check"),
        "vehicle_check" => ("Kontrola pojazdu", "Vehicle check"),
        "age_check" => ("Weryfikacja wieku", "Age check"),
        "administrative" | "administrative_procedure" => ("Sprawa urzędowa", "Administrative case"),
        "operational" | "operational_check" => ("Czynności służbowe", "Operational check"),
        "traffic_control" => ("Kontrola drogowa", "Traffic control"),
        "entitlement_check" => ("Uprawnienie do ulgi", "Entitlement check"),
        "vehicle_rental" | "car_rental" => ("Wynajem pojazdu", "Vehicle rental"),
        other => return other.replace('_', " "),
    };
    lang.pick(pl, en).to_string()
}

/// The break-glass warning with the policy's terms: the hours a supervisor
/// has to countersign, and the day's cap.
pub fn break_glass_warning(lang: Lang, deadline_hours: u32, per_day: u32) -> String {
    match lang {
        Lang::Pl => format!(
            "Sprawdzenie zostanie oznaczone, a przełożeni jednostki powiadomieni. \
             Wymaga kontrasygnaty w ciągu {deadline_hours} h; bez niej konto zostanie \
             zablokowane. Najwyżej {per_day} dziennie."
        ),
        Lang::En => format!(
            "The check is flagged and your unit's supervisors alerted. It needs a \
             countersign within {deadline_hours} h; unsigned, it locks your account. \
             At most {per_day} a day."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins_then_locale() {
        assert_eq!(
            Lang::choose(Some("en"), Some("pl_PL.UTF-8"), None, None),
            Lang::En
        );
        assert_eq!(
            Lang::choose(None, Some(""), None, Some("pl_PL.UTF-8")),
            Lang::Pl
        );
        assert_eq!(Lang::choose(None, None, None, None), Lang::En);
        assert_eq!(Lang::choose(Some("pl"), None, None, None), Lang::Pl);
    }

    #[test]
    fn every_refusal_has_words_and_a_hint_in_both_languages() {
        for code in crate::msg::ALL_CODES {
            for lang in [Lang::Pl, Lang::En] {
                let (m, h) = refusal(lang, code);
                assert!(!m.is_empty() && !h.is_empty(), "{code}");
            }
            assert_ne!(refusal(Lang::Pl, code), refusal(Lang::En, code), "{code}");
        }
    }

    #[test]
    fn every_field_of_every_document_has_a_label() {
        for d in DocumentType::ALL {
            for f in d.fields() {
                assert_ne!(field(Lang::Pl, f), f.replace('_', " "), "{f}");
            }
        }
    }
}
