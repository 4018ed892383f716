//! Vehicles register (CEPIK-like), the police lookup by registration number:
//! one vehicle with its registration certificate, its inspections and the
//! parties the register names for it (owner, co-owners, registered user),
//! natural persons by PESEL. Its own shape, in Polish, as CEPIK answers the
//! police; the documents are mapped through the same rules as the
//! by-PESEL answer ([`super::vehicles`]), so both agree on status and fields.

use okaz_protocol::{Document, Pesel};
use serde::{Deserialize, Serialize};

use super::vehicles::{
    inspection_of, registration_of, Inspection, InspectionResult, Ownership, RegistrationDocument,
    RegistrationState, Vehicle,
};
use super::{date, decode, malformed};
use crate::error::RegistryError;
use crate::ids;

const REGISTER: &str = "vehicles";

/// Path of the lookup under the base URL (no leading slash); the plate goes
/// in the `nr_rej` query parameter.
pub const PLATE_PATH: &str = "cepik/pojazdy/v1/pojazdy";

/// `GET cepik/pojazdy/v1/pojazdy?nr_rej={plate}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PojazdPoNumerze {
    /// The vehicle.
    pub pojazd: Pojazd,
    /// Parties the register names for the vehicle (at least one).
    pub podmioty: Vec<Podmiot>,
}

/// One vehicle as the police see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pojazd {
    /// VIN with its check digit.
    pub vin: String,
    /// Registration number in canonical form (`WA1234X`).
    pub nr_rejestracyjny: String,
    /// Make.
    pub marka: String,
    /// Model.
    pub model: String,
    /// First registration date.
    pub data_pierwszej_rejestracji: String,
    /// The registration certificate.
    pub dowod_rejestracyjny: DowodRejestracyjny,
    /// Periodic technical inspections, any order.
    pub badania_techniczne: Vec<BadanieTechniczne>,
}

/// Registration certificate (dowód rejestracyjny).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DowodRejestracyjny {
    /// Series and number, e.g. `DR/BAT/1234567`.
    pub seria_numer: String,
    /// Issue date.
    pub data_wydania: String,
    /// State.
    pub stan: StanDowodu,
}

/// Registration certificate state as CEPIK names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StanDowodu {
    /// In force.
    Wazny,
    /// A temporary certificate past its date.
    CzasowyWygasly,
    /// Retained by the police.
    Zatrzymany,
    /// Vehicle deregistered.
    Wyrejestrowany,
    /// Reported lost.
    Utracony,
}

/// One periodic technical inspection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BadanieTechniczne {
    /// Date of the inspection.
    pub data_badania: String,
    /// When the next one is due.
    pub termin_kolejnego: String,
    /// Result.
    pub wynik: WynikBadania,
    /// Odometer reading.
    pub stan_licznika_km: i64,
}

/// Inspection outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WynikBadania {
    /// Passed.
    Pozytywny,
    /// Failed.
    Negatywny,
}

/// A party named for the vehicle: a natural person (PESEL) or an
/// organisation (REGON), exactly one of the two.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Podmiot {
    /// Relation to the vehicle.
    pub rola: RolaPodmiotu,
    /// PESEL of a natural person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pesel: Option<String>,
    /// REGON (9 or 14 digits) of an organisation, e.g. a leasing company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regon: Option<String>,
}

impl std::fmt::Debug for Podmiot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PESEL is personal data and a Debug line may end up in a log.
        f.debug_struct("Podmiot")
            .field("rola", &self.rola)
            .field("pesel", &self.pesel.as_ref().map(|_| "<redacted>"))
            .field("regon", &self.regon)
            .finish()
    }
}

/// A party's relation to the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolaPodmiotu {
    /// Sole owner.
    Wlasciciel,
    /// One of several owners.
    Wspolwlasciciel,
    /// Registered user (e.g. leasing).
    Uzytkownik,
}

impl RolaPodmiotu {
    fn ownership(self) -> Ownership {
        match self {
            RolaPodmiotu::Wlasciciel => Ownership::Owner,
            RolaPodmiotu::Wspolwlasciciel => Ownership::CoOwner,
            RolaPodmiotu::Uzytkownik => Ownership::User,
        }
    }
}

/// A vehicle document found by registration number, and whom the register
/// names for the vehicle.
#[derive(Clone, PartialEq)]
pub struct PlateAnswer {
    /// The document asked for (registration, inspection or OC insurance).
    pub document: Document,
    /// The natural person the register names with the strongest relation to
    /// the vehicle: the owner, else a co-owner, else the registered user (the
    /// registration's `holder_relation` says which). `None` when only
    /// organisations are named (e.g. a company car).
    pub owner: Option<Pesel>,
}

impl std::fmt::Debug for PlateAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Presence only: who owns a car found by its plate is personal data.
        f.debug_struct("PlateAnswer")
            .field("document", &self.document)
            .field("owner", &self.owner.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A checked answer: the vehicle in the by-PESEL shape (so the same mapping
/// applies) and the owner.
pub(crate) struct Found {
    pub vehicle: Vehicle,
    pub owner: Option<Pesel>,
}

fn regon_valid(s: &str) -> bool {
    matches!(s.len(), 9 | 14) && s.bytes().all(|b| b.is_ascii_digit())
}

/// Decodes and checks the whole answer, whichever document is wanted, so a
/// broken part is never hidden behind a well-formed one.
pub(crate) fn found(bytes: &[u8]) -> Result<Found, RegistryError> {
    let a: PojazdPoNumerze = decode(bytes, REGISTER)?;
    let p = a.pojazd;
    if !ids::vin_valid(&p.vin) {
        return Err(malformed(REGISTER, "VIN fails its check digit"));
    }
    if ids::normalise_plate(&p.nr_rejestracyjny).as_deref() != Some(p.nr_rejestracyjny.as_str()) {
        return Err(malformed(
            REGISTER,
            "nrRejestracyjny is not a canonical registration number",
        ));
    }
    date(
        &p.data_pierwszej_rejestracji,
        "dataPierwszejRejestracji",
        REGISTER,
    )?;
    date(&p.dowod_rejestracyjny.data_wydania, "dataWydania", REGISTER)?;
    for b in &p.badania_techniczne {
        date(&b.data_badania, "dataBadania", REGISTER)?;
        date(&b.termin_kolejnego, "terminKolejnego", REGISTER)?;
        if b.stan_licznika_km < 0 {
            return Err(malformed(REGISTER, "negative odometer reading"));
        }
    }

    if a.podmioty.is_empty() {
        return Err(malformed(REGISTER, "no party named for the vehicle"));
    }
    let owners = a
        .podmioty
        .iter()
        .filter(|x| x.rola == RolaPodmiotu::Wlasciciel)
        .count();
    let co_owners = a
        .podmioty
        .iter()
        .filter(|x| x.rola == RolaPodmiotu::Wspolwlasciciel)
        .count();
    // A sole owner excludes any other owner; co-owners come at least in pairs
    // in reality, but a register may list only those it knows, so one is allowed.
    if owners > 1 || (owners == 1 && co_owners > 0) {
        return Err(malformed(REGISTER, "conflicting ownership"));
    }
    let mut person: Option<(RolaPodmiotu, Pesel)> = None;
    let mut strongest: Option<RolaPodmiotu> = None;
    for x in &a.podmioty {
        match (&x.pesel, &x.regon) {
            (Some(pesel), None) => {
                let pesel =
                    Pesel::parse(pesel).map_err(|_| malformed(REGISTER, "pesel is not valid"))?;
                // The first person of the strongest relation: the register's order.
                if person.as_ref().is_none_or(|(r, _)| x.rola < *r) {
                    person = Some((x.rola, pesel));
                }
            }
            (None, Some(regon)) if regon_valid(regon) => {}
            (None, Some(_)) => return Err(malformed(REGISTER, "regon is not valid")),
            _ => {
                return Err(malformed(
                    REGISTER,
                    "a party needs exactly one of pesel and regon",
                ))
            }
        }
        strongest = Some(strongest.map_or(x.rola, |r| r.min(x.rola)));
    }
    let relation = match (person.as_ref().map(|(r, _)| *r), strongest) {
        (Some(r), _) | (None, Some(r)) => r,
        (None, None) => return Err(malformed(REGISTER, "no party named for the vehicle")),
    };

    let d = p.dowod_rejestracyjny;
    let vehicle = Vehicle {
        vin: p.vin,
        registration_number: p.nr_rejestracyjny,
        make: p.marka,
        model: p.model,
        first_registration_date: p.data_pierwszej_rejestracji,
        ownership: relation.ownership(),
        registration_document: RegistrationDocument {
            series: d.seria_numer,
            issue_date: d.data_wydania,
            state: match d.stan {
                StanDowodu::Wazny => RegistrationState::Valid,
                StanDowodu::CzasowyWygasly => RegistrationState::TemporaryExpired,
                StanDowodu::Zatrzymany => RegistrationState::Retained,
                StanDowodu::Wyrejestrowany => RegistrationState::Cancelled,
                StanDowodu::Utracony => RegistrationState::Lost,
            },
        },
        inspections: p
            .badania_techniczne
            .into_iter()
            .map(|b| Inspection {
                date: b.data_badania,
                next_due: b.termin_kolejnego,
                result: match b.wynik {
                    WynikBadania::Pozytywny => InspectionResult::Positive,
                    WynikBadania::Negatywny => InspectionResult::Negative,
                },
                odometer_km: b.stan_licznika_km,
            })
            .collect(),
    };
    Ok(Found {
        vehicle,
        owner: person.map(|(_, p)| p),
    })
}

/// [`found`], and the answer must be about the plate asked for: a register
/// answering about another vehicle is a broken register, not a result.
pub(crate) fn found_for(bytes: &[u8], plate: &str) -> Result<Found, RegistryError> {
    let f = found(bytes)?;
    if f.vehicle.registration_number != plate {
        return Err(malformed(
            REGISTER,
            "answer is about another registration number",
        ));
    }
    Ok(f)
}

/// The registration certificate from a by-plate answer.
pub(crate) fn registration(f: Found) -> Result<PlateAnswer, RegistryError> {
    Ok(PlateAnswer {
        document: registration_of(&f.vehicle)?,
        owner: f.owner,
    })
}

/// The latest inspection from a by-plate answer (`NotFound` without one).
pub(crate) fn inspection(f: Found) -> Result<PlateAnswer, RegistryError> {
    Ok(PlateAnswer {
        document: inspection_of(&f.vehicle)?,
        owner: f.owner,
    })
}

/// Parses a by-plate answer into the vehicle's registration certificate and owner.
pub fn parse_plate_registration(bytes: &[u8]) -> Result<PlateAnswer, RegistryError> {
    registration(found(bytes)?)
}

/// Parses a by-plate answer into the vehicle's latest inspection and owner.
pub fn parse_plate_inspection(bytes: &[u8]) -> Result<PlateAnswer, RegistryError> {
    inspection(found(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use okaz_protocol::{DocumentType, FieldValue};
    // A dev-dependency that itself links this crate (a second, non-test
    // copy): only JSON and okaz-protocol types may cross from it, never this
    // crate's own types, or they would not match.
    use okaz_sandbox::{citizen, render, Citizen};

    fn sample() -> (serde_json::Value, Citizen) {
        let c = (0..5000)
            .map(|i| citizen(3, i))
            .find(|c| !c.vehicles.is_empty())
            .unwrap();
        let v = serde_json::to_value(render::vehicle_by_plate(&c, 0).unwrap()).unwrap();
        (v, c)
    }

    type Edit = Box<dyn Fn(&mut serde_json::Value)>;

    fn parse(v: &serde_json::Value) -> Result<PlateAnswer, RegistryError> {
        parse_plate_registration(&serde_json::to_vec(v).unwrap())
    }

    #[test]
    fn sandbox_answer_maps_to_the_vehicle_and_its_owner() {
        let (v, c) = sample();
        let a = parse(&v).unwrap();
        assert_eq!(a.document.kind, DocumentType::VehicleRegistration);
        assert_eq!(a.owner.as_ref(), Some(&c.pesel));
        assert_eq!(
            a.document.fields.get("registration_number"),
            Some(&FieldValue::Text(c.vehicles[0].plate.clone()))
        );
        let i = parse_plate_inspection(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(i.document.kind, DocumentType::TechnicalInspection);
    }

    #[test]
    fn debug_hides_the_owner() {
        let (v, c) = sample();
        let a = parse(&v).unwrap();
        let s = format!("{a:?}");
        assert!(!s.contains(&c.pesel.expose()), "{s}");
        assert!(s.contains("<redacted>"), "{s}");
        let p: PojazdPoNumerze = serde_json::from_value(v).unwrap();
        let s = format!("{p:?}");
        assert!(!s.contains(&c.pesel.expose()), "{s}");
    }

    #[test]
    fn strict_checks_refuse_broken_answers() {
        let (v, c) = sample();
        let cases: Vec<(&str, Edit)> = vec![
            ("unknown field", Box::new(|v| v["extra"] = 1.into())),
            (
                "bad VIN",
                Box::new(|v| v["pojazd"]["vin"] = "TMB00000000000000".into()),
            ),
            (
                "lower-case plate",
                Box::new(|v| v["pojazd"]["nrRejestracyjny"] = "wa1234x".into()),
            ),
            (
                "bad PESEL",
                Box::new(|v| v["podmioty"][0]["pesel"] = "12345678901".into()),
            ),
            (
                "no parties",
                Box::new(|v| v["podmioty"] = serde_json::json!([])),
            ),
            (
                "both ids",
                Box::new(|v| v["podmioty"][0]["regon"] = "123456789".into()),
            ),
            (
                "two owners",
                Box::new(|v| {
                    let p = v["podmioty"][0].clone();
                    v["podmioty"].as_array_mut().unwrap().push(p);
                    v["podmioty"][0]["rola"] = "WLASCICIEL".into();
                    v["podmioty"][1]["rola"] = "WLASCICIEL".into();
                }),
            ),
            (
                "bad inspection date",
                Box::new(|v| {
                    v["pojazd"]["badaniaTechniczne"][0]["dataBadania"] = "2024-02-31".into()
                }),
            ),
            (
                "negative odometer",
                Box::new(|v| v["pojazd"]["badaniaTechniczne"][0]["stanLicznikaKm"] = (-1).into()),
            ),
        ];
        for (name, edit) in cases {
            let mut b = v.clone();
            edit(&mut b);
            let e = parse(&b).unwrap_err();
            assert!(
                matches!(
                    e,
                    RegistryError::Malformed {
                        register: "vehicles",
                        ..
                    }
                ),
                "{name}: {e}"
            );
            assert!(!e.to_string().contains(&c.pesel.expose()), "{name}: {e}");
        }
    }

    #[test]
    fn a_company_car_has_no_owner_and_a_person_outranks_it() {
        let (mut v, c) = sample();
        v["podmioty"] = serde_json::json!([{"rola": "WLASCICIEL", "regon": "123456789"}]);
        let a = parse(&v).unwrap();
        assert_eq!(a.owner, None);
        assert_eq!(
            a.document.fields.get("holder_relation"),
            Some(&FieldValue::Text("owner".into()))
        );
        v["podmioty"] = serde_json::json!([
            {"rola": "WLASCICIEL", "regon": "12345678901234"},
            {"rola": "UZYTKOWNIK", "pesel": c.pesel.expose()},
        ]);
        let a = parse(&v).unwrap();
        assert_eq!(a.owner.as_ref(), Some(&c.pesel));
        assert_eq!(
            a.document.fields.get("holder_relation"),
            Some(&FieldValue::Text("user".into()))
        );
    }

    #[test]
    fn an_answer_about_another_plate_is_refused() {
        let (v, _) = sample();
        let b = serde_json::to_vec(&v).unwrap();
        assert!(matches!(
            found_for(&b, "XX12345"),
            Err(RegistryError::Malformed { .. })
        ));
    }
}
