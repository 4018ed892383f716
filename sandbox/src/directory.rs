//! Finding citizens in the population a sandbox serves: the `/_population`
//! listing and the eID provider's picker and sign-in both look people up here.

use okaz_protocol::Pesel;
use serde::Serialize;

use crate::population::{citizen, index_of, Citizen};

/// Indexes `/_population` looks at before giving up on a rare tag.
const SCAN_LIMIT: u64 = 300_000;

/// A subject as `/_population` lists it (synthetic data: PESELs may show).
#[derive(Debug, Serialize)]
pub struct Subject {
    /// Index in the population.
    pub index: u64,
    /// PESEL.
    pub pesel: String,
    /// Given names and surname.
    pub name: String,
    /// Scenario tags.
    pub tags: Vec<String>,
    /// Phone, if on record.
    pub phone: Option<String>,
    /// E-mail / digital mailbox, if on record.
    pub email: Option<String>,
    /// Registration numbers of the citizen's vehicles, primary first (for
    /// the police lookup by plate).
    pub plates: Vec<String>,
    /// Identity card series and number (for the lookup by document number).
    pub id_card_number: String,
    /// Driving licence number, if the citizen holds one.
    pub licence_number: Option<String>,
}

/// Finds up to `limit` citizens with `tag` (any citizen without a tag), from `start`.
pub fn find(
    seed: u64,
    population: u64,
    tag: Option<&str>,
    start: u64,
    limit: usize,
) -> Vec<Subject> {
    let end = population.min(start.saturating_add(SCAN_LIMIT));
    let mut out = Vec::new();
    for i in start..end {
        if out.len() >= limit {
            break;
        }
        let c = citizen(seed, i);
        let tags = c.tags();
        if tag.is_none_or(|t| tags.iter().any(|x| x == t)) {
            out.push(Subject {
                index: i,
                pesel: c.pesel.expose(),
                name: format!("{} {}", c.given_names.join(" "), c.surname),
                tags,
                phone: c.contact.phone.clone(),
                email: c.contact.email.clone(),
                plates: c.vehicles.iter().map(|v| v.plate.clone()).collect(),
                id_card_number: c.id_card.number.clone(),
                licence_number: c.licence.as_ref().map(|l| l.card.number.clone()),
            });
        }
    }
    out
}

/// The population one sandbox serves: its seed and size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Directory {
    /// Seed of the population.
    pub seed: u64,
    /// Number of citizens.
    pub population: u64,
}

impl Directory {
    /// The citizen at `index` (the caller keeps it below `population`).
    pub(crate) fn citizen(self, index: u64) -> Citizen {
        citizen(self.seed, index)
    }

    /// The index of the citizen with `pesel`, if in this population.
    pub(crate) fn index_of(self, pesel: &Pesel) -> Option<u64> {
        index_of(self.seed, self.population, pesel)
    }

    /// [`find`] in this population.
    pub(crate) fn find(self, tag: Option<&str>, start: u64, limit: usize) -> Vec<Subject> {
        find(self.seed, self.population, tag, start, limit)
    }
}
