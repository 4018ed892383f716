//! Renders a citizen into each register's own wire shape (the same types the
//! adapters parse, so the two sides cannot drift apart).

use base64::Engine as _;
use chrono::NaiveDate;
use okaz_protocol::pesel::Sex;
use okaz_protocol::DocumentStatus;

use okaz_registry::registers::{
    contacts, drivers, insurance, large_family, numbers, pensioners, persons, plates, schools,
    students, vehicles,
};

use crate::photo::portrait_png;
use crate::population::{CardRecord, Citizen};

fn d(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn photo_b64(c: &Citizen) -> Option<String> {
    portrait_png(c.seed, c.index).map(|p| base64::engine::general_purpose::STANDARD.encode(p))
}

/// `srp/v2/osoby/{pesel}`.
pub fn persons(c: &Citizen) -> persons::Osoba {
    use persons::StatusDowodu as S;
    let status = match c.id_card.status {
        DocumentStatus::Valid => S::Wazny,
        DocumentStatus::Expired => S::Wygasly,
        DocumentStatus::Suspended => S::Zawieszony,
        DocumentStatus::ReportedLost => S::Utracony,
        DocumentStatus::Cancelled => S::Uniewazniony,
    };
    persons::Osoba {
        pesel: c.pesel.expose(),
        imiona: c.given_names.clone(),
        nazwisko: c.surname.clone(),
        data_urodzenia: d(c.birth_date),
        plec: match c.sex {
            Sex::Male => "M".into(),
            Sex::Female => "K".into(),
        },
        obywatelstwo: "POL".into(),
        dowod_osobisty: persons::DowodOsobisty {
            seria_numer: c.id_card.number.clone(),
            data_wydania: d(c.id_card.issued),
            data_waznosci: d(c.id_card.expires),
            organ_wydajacy: c.id_card.issuer.clone(),
            status,
        },
        zdjecie: photo_b64(c),
    }
}

/// `cepik/drivers/v1/licences/{pesel}`; `None` without a licence (404).
pub fn drivers(c: &Citizen) -> Option<drivers::DriverAnswer> {
    use drivers::LicenceState as S;
    let l = c.licence.as_ref()?;
    let state = match l.card.status {
        DocumentStatus::Valid => S::Issued,
        DocumentStatus::Expired => S::Expired,
        DocumentStatus::Suspended => S::Suspended,
        DocumentStatus::ReportedLost => S::Lost,
        DocumentStatus::Cancelled => S::Revoked,
    };
    Some(drivers::DriverAnswer {
        driver: drivers::Driver {
            first_name: c.given_names.first().cloned().unwrap_or_default(),
            second_name: c.given_names.get(1).cloned(),
            last_name: c.surname.clone(),
            birth_date: d(c.birth_date),
        },
        licence: drivers::Licence {
            licence_number: l.card.number.clone(),
            issue_date: d(l.card.issued),
            expiry_date: d(l.card.expires),
            categories: l
                .categories
                .iter()
                .map(|(cat, from)| drivers::Category {
                    category: cat.clone(),
                    valid_from: d(*from),
                })
                .collect(),
            restrictions: l.restrictions.clone(),
            state,
            suspended_until: l.suspended_until.map(d),
        },
        photo: photo_b64(c).map(|content| drivers::DriverPhoto {
            mime: "image/png".into(),
            content,
        }),
    })
}

/// `cepik/pojazdy/v1/wlasciciele/{pesel}/pojazdy`; `None` without vehicles (404).
pub fn vehicles(c: &Citizen) -> Option<vehicles::VehiclesAnswer> {
    use vehicles::{InspectionResult, Ownership, RegistrationState as S};
    if c.vehicles.is_empty() {
        return None;
    }
    let list = c
        .vehicles
        .iter()
        .map(|v| vehicles::Vehicle {
            vin: v.vin.clone(),
            registration_number: v.plate.clone(),
            make: v.make.clone(),
            model: v.model.clone(),
            first_registration_date: d(v.first_registration),
            ownership: match v.relation {
                0 => Ownership::Owner,
                1 => Ownership::CoOwner,
                _ => Ownership::User,
            },
            registration_document: vehicles::RegistrationDocument {
                series: v.registration.number.clone(),
                issue_date: d(v.registration.issued),
                state: match v.registration.status {
                    DocumentStatus::Valid => S::Valid,
                    DocumentStatus::Expired => S::TemporaryExpired,
                    DocumentStatus::Suspended => S::Retained,
                    DocumentStatus::ReportedLost => S::Lost,
                    DocumentStatus::Cancelled => S::Cancelled,
                },
            },
            inspections: v
                .inspections
                .iter()
                .map(|i| vehicles::Inspection {
                    date: d(i.date),
                    next_due: d(i.next_due),
                    result: if i.passed {
                        InspectionResult::Positive
                    } else {
                        InspectionResult::Negative
                    },
                    odometer_km: i.odometer_km,
                })
                .collect(),
        })
        .collect();
    Some(vehicles::VehiclesAnswer { vehicles: list })
}

/// `cepik/pojazdy/v1/pojazdy?nr_rej=`: vehicle `k` of the citizen as CEPIK
/// gives it to the police, naming the citizen by PESEL; `None` without it (404).
pub fn vehicle_by_plate(c: &Citizen, k: usize) -> Option<plates::PojazdPoNumerze> {
    use plates::{RolaPodmiotu as R, StanDowodu as S, WynikBadania as W};
    let v = c.vehicles.get(k)?;
    Some(plates::PojazdPoNumerze {
        pojazd: plates::Pojazd {
            vin: v.vin.clone(),
            nr_rejestracyjny: v.plate.clone(),
            marka: v.make.clone(),
            model: v.model.clone(),
            data_pierwszej_rejestracji: d(v.first_registration),
            dowod_rejestracyjny: plates::DowodRejestracyjny {
                seria_numer: v.registration.number.clone(),
                data_wydania: d(v.registration.issued),
                stan: match v.registration.status {
                    DocumentStatus::Valid => S::Wazny,
                    DocumentStatus::Expired => S::CzasowyWygasly,
                    DocumentStatus::Suspended => S::Zatrzymany,
                    DocumentStatus::ReportedLost => S::Utracony,
                    DocumentStatus::Cancelled => S::Wyrejestrowany,
                },
            },
            badania_techniczne: v
                .inspections
                .iter()
                .map(|i| plates::BadanieTechniczne {
                    data_badania: d(i.date),
                    termin_kolejnego: d(i.next_due),
                    wynik: if i.passed { W::Pozytywny } else { W::Negatywny },
                    stan_licznika_km: i.odometer_km,
                })
                .collect(),
        },
        podmioty: vec![plates::Podmiot {
            rola: match v.relation {
                0 => R::Wlasciciel,
                1 => R::Wspolwlasciciel,
                _ => R::Uzytkownik,
            },
            pesel: Some(c.pesel.expose()),
            regon: None,
        }],
    })
}

/// `ufg/oc/v1/polisy?vin=`: the policies of vehicle `k` of the citizen.
pub fn insurance(c: &Citizen, k: usize) -> insurance::PolisyOdpowiedz {
    use insurance::StanPolisy as S;
    let polisy = c
        .vehicles
        .get(k)
        .map(|v| {
            v.policies
                .iter()
                .map(|p| insurance::Polisa {
                    zaklad: p.insurer.clone(),
                    nr_polisy: p.number.clone(),
                    nr_rejestracyjny: v.plate.clone(),
                    data_od: d(p.from),
                    data_do: d(p.until),
                    stan: match p.status {
                        DocumentStatus::Valid => S::Aktywna,
                        DocumentStatus::Expired => S::Wygasla,
                        _ => S::Rozwiazana,
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    insurance::PolisyOdpowiedz { polisy }
}

/// `polon/api/v1/students?pesel=`: an empty list for non-students, as POL-on answers.
pub fn students(c: &Citizen) -> students::StudentsAnswer {
    use students::StudentCardState as S;
    let results = c
        .student
        .iter()
        .map(|s: &CardRecord| students::Student {
            student_number: s.number.clone(),
            university: s.issuer.clone(),
            first_name: c.given_names.join(" "),
            last_name: c.surname.clone(),
            card: students::StudentCard {
                valid_until: d(s.expires),
                state: match s.status {
                    DocumentStatus::Valid => S::Active,
                    DocumentStatus::Expired => S::Expired,
                    DocumentStatus::ReportedLost => S::Lost,
                    // Universities do not suspend cards; a suspension is shown as cancelled.
                    DocumentStatus::Cancelled | DocumentStatus::Suspended => S::Cancelled,
                },
            },
            photo_png_b64: photo_b64(c),
        })
        .collect();
    students::StudentsAnswer { results }
}

/// `zus/legitymacje/v1/{pesel}`; `None` for non-pensioners (404).
pub fn pensioners(c: &Citizen) -> Option<pensioners::Legitymacja> {
    use pensioners::StanLegitymacji as S;
    let p = c.pensioner.as_ref()?;
    Some(pensioners::Legitymacja {
        numer_legitymacji: p.number.clone(),
        imie: c.given_names.first().cloned().unwrap_or_default(),
        drugie_imie: c.given_names.get(1).cloned(),
        nazwisko: c.surname.clone(),
        organ: p.issuer.clone(),
        wazna_do: d(p.expires),
        stan: match p.status {
            DocumentStatus::Valid => S::Aktywna,
            DocumentStatus::Expired => S::Niewazna,
            DocumentStatus::Suspended => S::Zawieszona,
            DocumentStatus::ReportedLost => S::Zastrzezona,
            DocumentStatus::Cancelled => S::Uniewazniona,
        },
        zdjecie: photo_b64(c),
    })
}

/// `kdr/api/cards?pesel=`: an empty list for those without a card.
pub fn large_family(c: &Citizen) -> large_family::CardsAnswer {
    use large_family::CardStatus as S;
    let cards = c
        .large_family
        .iter()
        .map(|k| large_family::Card {
            card_number: k.number.clone(),
            holder: large_family::Holder {
                given_names: c.given_names.clone(),
                surname: c.surname.clone(),
            },
            expires_on: d(k.expires),
            status: match k.status {
                DocumentStatus::Valid => S::Valid,
                DocumentStatus::Expired => S::Expired,
                DocumentStatus::ReportedLost => S::Lost,
                DocumentStatus::Cancelled | DocumentStatus::Suspended => S::Cancelled,
            },
            image: photo_b64(c).map(|data| large_family::Image {
                media_type: "image/png".into(),
                data,
            }),
        })
        .collect();
    large_family::CardsAnswer { cards }
}

/// `sio/v1/legitymacje-szkolne/{pesel}`; `None` for non-pupils (404).
pub fn schools(c: &Citizen) -> Option<schools::LegitymacjaSzkolna> {
    use schools::StanLegitymacjiSzkolnej as S;
    let s = c.school.as_ref()?;
    Some(schools::LegitymacjaSzkolna {
        numer: s.number.clone(),
        szkola: schools::Szkola {
            nazwa: s.issuer.clone(),
            rspo: 10_000 + (c.index % 90_000) as u32,
        },
        uczen: schools::Uczen {
            imiona: c.given_names.join(" "),
            nazwisko: c.surname.clone(),
        },
        wazna_do: d(s.expires),
        stan: match s.status {
            DocumentStatus::Valid => S::Wazna,
            DocumentStatus::Expired => S::Niewazna,
            DocumentStatus::ReportedLost => S::Utracona,
            DocumentStatus::Cancelled | DocumentStatus::Suspended => S::Anulowana,
        },
        fotografia: photo_b64(c),
    })
}

/// `krr/api/v1/kontakty/{pesel}`.
pub fn contacts(c: &Citizen) -> contacts::Kontakt {
    contacts::Kontakt {
        telefon: c.contact.phone.clone(),
        email: c.contact.email.clone(),
        zastrzezenie: c.contact.reserved,
        data_aktualizacji: d(c.contact.updated),
    }
}

/// `srp/v2/dowody?seriaNumer={number}`: the card's holder, with the card.
pub fn id_card_by_number(c: &Citizen) -> numbers::DowodPoNumerze {
    numbers::DowodPoNumerze {
        seria_numer: c.id_card.number.clone(),
        osoba: persons(c),
    }
}

/// `cepik/drivers/v1/licences?licenceNumber={number}`; `None` without a licence.
pub fn licence_by_number(c: &Citizen) -> Option<numbers::LicenceLookup> {
    let record = drivers(c)?;
    Some(numbers::LicenceLookup {
        licence_number: record.licence.licence_number.clone(),
        holder_pesel: c.pesel.expose(),
        record,
    })
}
