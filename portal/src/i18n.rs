//! Polish and English texts of the portal. The language is chosen by
//! `?lang=`, then the language cookie, then `Accept-Language`, and is Polish
//! when nothing says otherwise (the service is Polish).

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Polski.
    Pl,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag (`pl`, `en`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Pl => "pl",
            Lang::En => "en",
        }
    }

    /// From a tag such as `en` or `en-GB`; `None` for languages not spoken.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "pl" => Some(Lang::Pl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best match in an `Accept-Language` header, by quality.
    pub fn from_accept(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Lang {
        match self {
            Lang::Pl => Lang::En,
            Lang::En => Lang::Pl,
        }
    }

    /// The texts of this language.
    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Pl => &PL,
            Lang::En => &EN,
        }
    }
}

/// Every fixed text of the portal, in one language.
#[derive(Debug)]
pub struct Texts {
    /// Name of the switch link to the other language, in that language.
    pub switch_to: &'static str,
    /// Service name.
    pub service: &'static str,
    /// Skip link.
    pub skip: &'static str,
    /// Signed-out home heading.
    pub welcome: &'static str,
    /// Signed-out home explanation.
    pub intro: &'static str,
    /// Sign-in button.
    pub sign_in: &'static str,
    /// Sign-out button.
    pub sign_out: &'static str,
    /// Signed-in heading.
    pub your_service: &'static str,
    /// Greeting before the name.
    pub signed_in_as: &'static str,
    /// Service is active.
    pub active: &'static str,
    /// Service is not active.
    pub inactive: &'static str,
    /// What activation means.
    pub active_help: &'static str,
    /// What being inactive means.
    pub inactive_help: &'static str,
    /// Activate button/link.
    pub activate: &'static str,
    /// Deactivate button.
    pub deactivate: &'static str,
    /// History link and heading.
    pub history: &'static str,
    /// Activation heading.
    pub activation: &'static str,
    /// Before the masked phone.
    pub phone_on_record: &'static str,
    /// Send code button.
    pub send_code: &'static str,
    /// After sending.
    pub code_sent: &'static str,
    /// Code field label.
    pub code_label: &'static str,
    /// Hint under the code field.
    pub code_hint: &'static str,
    /// Confirm button.
    pub confirm: &'static str,
    /// Wrong code.
    pub wrong_code: &'static str,
    /// Before the number of attempts left.
    pub attempts_left: &'static str,
    /// The code expired or ran out of attempts.
    pub code_over: &'static str,
    /// Send a new code.
    pub send_again: &'static str,
    /// No phone heading.
    pub no_phone_title: &'static str,
    /// No phone: what to do.
    pub no_phone_help: &'static str,
    /// Contact reserved: what to do.
    pub reserved_help: &'static str,
    /// A register or the SMS gateway is down.
    pub unavailable: &'static str,
    /// Too many activation codes asked for lately.
    pub too_many_codes: &'static str,
    /// Back to the start page.
    pub back: &'static str,
    /// Activated confirmation.
    pub done_activated: &'static str,
    /// Deactivated confirmation.
    pub done_deactivated: &'static str,
    /// Signed out confirmation.
    pub done_signed_out: &'static str,
    /// History explanation.
    pub history_help: &'static str,
    /// History, nothing yet.
    pub history_empty: &'static str,
    /// Column: when.
    pub col_when: &'static str,
    /// Column: document.
    pub col_document: &'static str,
    /// Column: purpose.
    pub col_purpose: &'static str,
    /// Column: who (unit).
    pub col_unit: &'static str,
    /// Column: outcome.
    pub col_outcome: &'static str,
    /// Newer page.
    pub newer: &'static str,
    /// Older page.
    pub older: &'static str,
    /// Page label before the number.
    pub page: &'static str,
    /// Error page heading.
    pub error_title: &'static str,
    /// Session ended.
    pub session_over: &'static str,
    /// Sign-in failed.
    pub sign_in_failed: &'static str,
    /// A form without a valid CSRF token.
    pub form_refused: &'static str,
    /// No such page.
    pub not_found: &'static str,
    /// The portal is not configured.
    pub not_configured: &'static str,
    /// Something went wrong on our side.
    pub internal: &'static str,
    /// Outcome: document shown.
    pub out_released: &'static str,
    /// Link to download a release's signed receipt and proof.
    pub receipt: &'static str,
    /// Label of a release's leaf index in the audit log.
    pub leaf: &'static str,
    /// Outcome: code sent, not (yet) confirmed.
    pub out_code_sent: &'static str,
    /// Outcome: wrong code typed.
    pub out_wrong_code: &'static str,
    /// Outcome: cancelled.
    pub out_cancelled: &'static str,
    /// Outcome: refused (reason follows).
    pub out_refused: &'static str,
    /// Outcome: register failed.
    pub out_failed: &'static str,
    /// Without consent (police).
    pub operational_note: &'static str,
}

/// Polish.
pub static PL: Texts = Texts {
    switch_to: "English",
    service: "okaz: moje dokumenty",
    skip: "Przejdź do treści",
    welcome: "Sprawdzanie dokumentów na żądanie",
    intro: "Tu włączysz lub wyłączysz usługę, dzięki której urzędnik, policjant lub \
        weryfikator może za Twoją zgodą (kod SMS) sprawdzić Twój dokument w rejestrze \
        państwowym, i zobaczysz każde takie sprawdzenie.",
    sign_in: "Zaloguj się przez węzeł krajowy (eID)",
    sign_out: "Wyloguj się",
    your_service: "Twoja usługa",
    signed_in_as: "Zalogowano jako",
    active: "Usługa jest włączona.",
    inactive: "Usługa jest wyłączona.",
    active_help: "Urzędnik może poprosić o Twój dokument; zawsze dostaniesz kod SMS.",
    inactive_help: "Nikt nie może sprawdzić Twoich dokumentów w tej usłudze.",
    activate: "Włącz usługę",
    deactivate: "Wyłącz usługę",
    history: "Kto sprawdzał moje dokumenty",
    activation: "Włączenie usługi",
    phone_on_record: "Numer telefonu w rejestrze kontaktowym:",
    send_code: "Wyślij kod SMS",
    code_sent: "Wysłaliśmy kod SMS na numer",
    code_label: "Kod z SMS (6 cyfr)",
    code_hint: "Kod jest ważny 5 minut. Masz 3 próby.",
    confirm: "Potwierdź i włącz",
    wrong_code: "To nie jest właściwy kod.",
    attempts_left: "Pozostało prób:",
    code_over: "Ten kod wygasł lub wykorzystano wszystkie próby.",
    send_again: "Wyślij nowy kod",
    no_phone_title: "Brak numeru telefonu",
    no_phone_help: "W rejestrze kontaktowym nie ma Twojego numeru telefonu, więc nie możemy \
        wysłać kodu. Dodaj numer w rejestrze danych kontaktowych (w urzędzie gminy lub \
        przez konto na gov.pl), a potem wróć tutaj.",
    reserved_help: "Zastrzegłeś kontakt przez telefon w rejestrze danych kontaktowych, więc \
        nie możemy wysłać kodu. Aby włączyć usługę, zmień to ustawienie w rejestrze \
        (w urzędzie gminy lub przez konto na gov.pl).",
    unavailable: "Rejestr lub bramka SMS chwilowo nie odpowiada. Spróbuj za kilka minut.",
    too_many_codes: "Wysłaliśmy już kilka kodów. Użyj ostatniego lub poproś o nowy za kwadrans.",
    back: "Wróć do strony głównej",
    done_activated: "Usługa została włączona.",
    done_deactivated: "Usługa została wyłączona.",
    done_signed_out: "Wylogowano.",
    history_help: "Każde sprawdzenie Twoich dokumentów, od najnowszego. Sprawdzenia \
        policyjne pojawiają się z opóźnieniem określonym w przepisach.",
    history_empty: "Nikt jeszcze nie sprawdzał Twoich dokumentów.",
    col_when: "Kiedy",
    col_document: "Dokument",
    col_purpose: "Cel",
    col_unit: "Kto (jednostka)",
    col_outcome: "Wynik",
    newer: "Nowsze",
    older: "Starsze",
    page: "Strona",
    error_title: "Nie udało się",
    session_over: "Sesja wygasła. Zaloguj się ponownie.",
    sign_in_failed: "Logowanie nie powiodło się. Spróbuj ponownie.",
    form_refused:
        "Formularz został odrzucony (brak lub zły token). Odśwież stronę i spróbuj ponownie.",
    not_found: "Nie ma takiej strony.",
    not_configured: "Portal obywatela nie jest skonfigurowany na tym serwerze.",
    internal: "Wystąpił błąd po naszej stronie. Spróbuj ponownie później.",
    out_released: "Dokument pokazany",
    receipt: "pokwitowanie (JSON)",
    leaf: "wpis w dzienniku nr",
    out_code_sent: "Wysłano kod, bez potwierdzenia",
    out_wrong_code: "Podano zły kod",
    out_cancelled: "Anulowano",
    out_refused: "Odmowa",
    out_failed: "Rejestr nie odpowiedział",
    operational_note: "bez zgody (czynności policyjne)",
};

/// English.
pub static EN: Texts = Texts {
    switch_to: "Polski",
    service: "okaz: my documents",
    skip: "Skip to content",
    welcome: "Document checks on demand",
    intro: "Here you switch on or off the service that lets an official, a police \
        officer or a verifier check your document in the state register with your \
        consent (an SMS code), and you see every such check.",
    sign_in: "Sign in with the national eID",
    sign_out: "Sign out",
    your_service: "Your service",
    signed_in_as: "Signed in as",
    active: "The service is on.",
    inactive: "The service is off.",
    active_help: "An official may ask for your document; you always get an SMS code.",
    inactive_help: "Nobody can check your documents through this service.",
    activate: "Switch the service on",
    deactivate: "Switch the service off",
    history: "Who checked my documents",
    activation: "Switching the service on",
    phone_on_record: "Phone number in the contact register:",
    send_code: "Send an SMS code",
    code_sent: "We sent an SMS code to",
    code_label: "Code from the SMS (6 digits)",
    code_hint: "The code is valid for 5 minutes. You have 3 tries.",
    confirm: "Confirm and switch on",
    wrong_code: "That is not the right code.",
    attempts_left: "Tries left:",
    code_over: "This code has expired or all tries are used.",
    send_again: "Send a new code",
    no_phone_title: "No phone number",
    no_phone_help: "The contact register holds no phone number of yours, so we cannot send \
        a code. Add your number to the contact register (at your municipal office or \
        through your gov.pl account), then come back here.",
    reserved_help: "You reserved your phone against contact in the contact register, so we \
        cannot send a code. To switch the service on, change that setting in the register \
        (at your municipal office or through your gov.pl account).",
    unavailable: "A register or the SMS gateway is not answering. Try again in a few minutes.",
    too_many_codes: "We have sent several codes already. Use the last one, or ask for a new one in a quarter of an hour.",
    back: "Back to the start page",
    done_activated: "The service is now on.",
    done_deactivated: "The service is now off.",
    done_signed_out: "You are signed out.",
    history_help: "Every check of your documents, newest first. Police checks appear after \
        the delay the rules set.",
    history_empty: "Nobody has checked your documents yet.",
    col_when: "When",
    col_document: "Document",
    col_purpose: "Purpose",
    col_unit: "Who (unit)",
    col_outcome: "Outcome",
    newer: "Newer",
    older: "Older",
    page: "Page",
    error_title: "Something went wrong",
    session_over: "Your session has ended. Please sign in again.",
    sign_in_failed: "Signing in failed. Please try again.",
    form_refused: "The form was refused (missing or wrong token). Reload the page and try again.",
    not_found: "There is no such page.",
    not_configured: "The citizen portal is not configured on this server.",
    internal: "Something failed on our side. Please try again later.",
    out_released: "Document shown",
    receipt: "receipt (JSON)",
    leaf: "audit log leaf",
    out_code_sent: "Code sent, not confirmed",
    out_wrong_code: "Wrong code given",
    out_cancelled: "Cancelled",
    out_refused: "Refused",
    out_failed: "Register did not answer",
    operational_note: "without consent (police work)",
};

/// The name of a document type.
pub fn document(lang: Lang, doc: &str) -> String {
    let (pl, en) = match doc {
        "id_card" => ("Dowód osobisty", "Identity card"),
        "driving_licence" => ("Prawo jazdy", "Driving licence"),
        "vehicle_registration" => ("Dowód rejestracyjny", "Vehicle registration"),
        "technical_inspection" => ("Badanie techniczne", "Technical inspection"),
        "oc_insurance" => ("Polisa OC", "Third-party insurance"),
        "student_id" => ("Legitymacja studencka", "Student card"),
        "pensioner_id" => ("Legitymacja emeryta-rencisty", "Pensioner card"),
        "large_family_card" => ("Karta Dużej Rodziny", "Large Family Card"),
        "school_id" => ("Legitymacja szkolna", "School card"),
        other => return other.replace('_', " "),
    };
    match lang {
        Lang::Pl => pl.to_string(),
        Lang::En => en.to_string(),
    }
}

/// The name of a purpose.
pub fn purpose(lang: Lang, p: &str) -> String {
    let (pl, en) = match p {
        "identity_confirmation" => ("Potwierdzenie tożsamości", "Identity confirmation"),
        "age_check" => ("Potwierdzenie pełnoletności", "Age check"),
        "licence_check" => ("Sprawdzenie uprawnień", "Licence check"),
        "vehicle_check" => ("Sprawdzenie pojazdu", "Vehicle check"),
        "entitlement_check" => ("Sprawdzenie uprawnienia do ulgi", "Entitlement check"),
        "operational_check" => ("Kontrola policyjna", "Police check"),
        // Bundles: a notice names the bundle where a check's purpose stands.
        "traffic_stop" => ("Kontrola drogowa", "Traffic stop"),
        "large_family_discount" => ("Zniżka z Kartą Dużej Rodziny", "Large Family Card discount"),
        "pensioner_discount" => ("Zniżka dla emeryta lub rencisty", "Pensioner discount"),
        other => return other.replace('_', " "),
    };
    match lang {
        Lang::Pl => pl.to_string(),
        Lang::En => en.to_string(),
    }
}

/// The reason for a refusal, from its stable code.
pub fn refusal(lang: Lang, code: &str) -> String {
    let (pl, en) = match code {
        "not_activated" => ("usługa wyłączona", "service off"),
        "no_contact" => ("brak telefonu", "no phone"),
        "not_permitted" => ("brak uprawnień", "not permitted"),
        "daily_limit_exceeded" => ("limit dzienny", "daily limit"),
        "sms_unavailable" => ("SMS niedostępny", "SMS unavailable"),
        "registry_unavailable" => ("rejestr niedostępny", "register unavailable"),
        "document_not_found" => ("brak dokumentu", "no such document"),
        other => return other.replace('_', " "),
    };
    match lang {
        Lang::Pl => pl.to_string(),
        Lang::En => en.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_spoken() {
        assert_eq!(Lang::from_accept("en-GB,en;q=0.9,pl;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept("de, pl;q=0.5, en;q=0.4"), Some(Lang::Pl));
        assert_eq!(Lang::from_accept("de, fr"), None);
        assert_eq!(Lang::from_accept("en;q=0, pl;q=0.1"), Some(Lang::Pl));
    }

    #[test]
    fn every_document_and_purpose_has_both_names() {
        for d in [
            "id_card",
            "driving_licence",
            "vehicle_registration",
            "technical_inspection",
            "oc_insurance",
            "student_id",
            "pensioner_id",
            "large_family_card",
            "school_id",
        ] {
            assert_ne!(document(Lang::Pl, d), document(Lang::En, d), "{d}");
        }
        assert_eq!(purpose(Lang::En, "age_check"), "Age check");
        assert_eq!(purpose(Lang::En, "new_purpose"), "new purpose");
    }
}
