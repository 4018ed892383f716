//! The synthetic population as a pure function of (seed, index). Nothing is
//! generated up front: a PESEL maps back to its index arithmetically, so a
//! population of millions costs no memory and no start-up time.
//!
//! Index layout: `day = (index + day_offset(seed)) mod DAYS` picks the birth
//! date, `slot = index / DAYS` (0..2000) picks sex (low bit) and the PESEL
//! serial (a seed-dependent bijection of `slot / 2` on 0..1000).
//!
//! A vehicle's VIN and its registration number both encode (index, vehicle
//! number), so each maps back to its holder in O(1) ([`vin_owner`],
//! [`vehicle_of_plate`]).

use chrono::{Datelike, NaiveDate};
use okaz_protocol::pesel::Sex;
use okaz_protocol::{DocumentStatus, DocumentType, Pesel};

use okaz_registry::ids;

use crate::names::{self, CITIES, INSURERS, MAKES, STREETS, UNIVERSITIES};
use crate::rng::{mix, Rng};

/// First birth date in the population.
const FIRST_BIRTH: (i32, u32, u32) = (1936, 1, 1);
/// Number of birth dates: 1936-01-01 ..= 2019-12-31.
pub const DAYS: u64 = 30_681;
/// PESELs per birth date: 1000 serials times two sexes.
const SLOTS: u64 = 2000;
/// Largest population the index layout supports.
pub const MAX_POPULATION: u64 = DAYS * SLOTS;
// Every citizen of the largest population needs an identity card and a
// licence number of their own (checked here: numbers.rs knows no population).
const _: () = assert!(crate::numbers::ID_SPACE >= MAX_POPULATION);
const _: () = assert!(crate::numbers::LICENCE_SPACE >= MAX_POPULATION);
/// The date the population's dates are generated around: the first day of
/// the current month (UTC). Valid documents (and inspections, which run on a
/// one-year cycle) must stay valid whenever the sandbox runs, so dates follow
/// the calendar; within a month [`citizen`] is a pure function of (seed, index),
/// and [`citizen_at`] is pure outright.
pub fn reference_date() -> NaiveDate {
    let today = chrono::Utc::now().date_naive();
    today.with_day(1).unwrap_or(today)
}

fn first_birth() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_BIRTH.0, FIRST_BIRTH.1, FIRST_BIRTH.2).unwrap_or(NaiveDate::MIN)
}

fn day_offset(seed: u64) -> u64 {
    mix(seed ^ 0xDA7E) % DAYS
}

fn serial_offset(seed: u64) -> u64 {
    mix(seed ^ 0x5E41) % 1000
}

fn add_days(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(chrono::TimeDelta::days(days))
        .unwrap_or(d)
}

/// A document's record as the registers hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct CardRecord {
    /// Document or card number.
    pub number: String,
    /// Issuing body, school, university or authority.
    pub issuer: String,
    /// Issue date.
    pub issued: NaiveDate,
    /// Expiry date.
    pub expires: NaiveDate,
    /// Status.
    pub status: DocumentStatus,
}

/// A driving licence.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenceRecord {
    /// Number, card data, status.
    pub card: CardRecord,
    /// Categories with the date held since.
    pub categories: Vec<(String, NaiveDate)>,
    /// Restriction codes.
    pub restrictions: Vec<String>,
    /// End of suspension when suspended.
    pub suspended_until: Option<NaiveDate>,
}

/// A periodic inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionRecord {
    /// Date.
    pub date: NaiveDate,
    /// Next due.
    pub next_due: NaiveDate,
    /// Passed?
    pub passed: bool,
    /// Odometer.
    pub odometer_km: i64,
}

/// An OC policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRecord {
    /// Insurer.
    pub insurer: String,
    /// Number.
    pub number: String,
    /// Cover start.
    pub from: NaiveDate,
    /// Cover end.
    pub until: NaiveDate,
    /// Status (valid, expired or cancelled).
    pub status: DocumentStatus,
}

/// A vehicle the citizen holds.
#[derive(Debug, Clone, PartialEq)]
pub struct VehicleRecord {
    /// VIN (encodes the owner's index, see [`vin_owner`]).
    pub vin: String,
    /// Plate.
    pub plate: String,
    /// Make.
    pub make: String,
    /// Model.
    pub model: String,
    /// First registration.
    pub first_registration: NaiveDate,
    /// 0 owner, 1 co-owner, 2 user.
    pub relation: u8,
    /// Registration certificate.
    pub registration: CardRecord,
    /// Inspections, oldest first.
    pub inspections: Vec<InspectionRecord>,
    /// OC policies, oldest first.
    pub policies: Vec<PolicyRecord>,
}

/// Contact register entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRecord {
    /// E.164 phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Reservation against contact.
    pub reserved: bool,
    /// Last update.
    pub updated: NaiveDate,
}

/// One synthetic citizen with everything every register knows about them.
#[derive(Debug, Clone, PartialEq)]
pub struct Citizen {
    /// Seed of the population.
    pub seed: u64,
    /// Index in the population.
    pub index: u64,
    /// PESEL.
    pub pesel: Pesel,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Given names.
    pub given_names: Vec<String>,
    /// Surname.
    pub surname: String,
    /// Address line and city.
    pub address: String,
    /// Home city (index into the city table).
    pub city: &'static str,
    /// Identity card.
    pub id_card: CardRecord,
    /// Driving licence.
    pub licence: Option<LicenceRecord>,
    /// Vehicles, primary first.
    pub vehicles: Vec<VehicleRecord>,
    /// Contact register entry.
    pub contact: ContactRecord,
    /// Student card.
    pub student: Option<CardRecord>,
    /// Pensioner card.
    pub pensioner: Option<CardRecord>,
    /// Large Family Card.
    pub large_family: Option<CardRecord>,
    /// School pupil card.
    pub school: Option<CardRecord>,
    /// The date the citizen's dates were generated around.
    pub reference: NaiveDate,
}

/// The PESEL of (seed, index) without building the whole citizen.
fn pesel_of(seed: u64, index: u64) -> (Pesel, NaiveDate, Sex) {
    let day = (index % DAYS + day_offset(seed)) % DAYS;
    let slot = (index / DAYS) % SLOTS;
    let sex = if slot % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    // 7 is invertible mod 1000 (7 * 143 = 1001), so this permutes serials.
    let serial = ((slot / 2) * 7 + serial_offset(seed)) % 1000;
    let birth = add_days(first_birth(), day as i64);
    #[allow(
        clippy::expect_used,
        reason = "birth years 1936..=2019 lie inside compose's 1800..=2299"
    )]
    let pesel = Pesel::compose(birth, serial as u16, sex).expect("birth year in range");
    (pesel, birth, sex)
}

/// The index of the citizen with this PESEL, if one exists in a population of `population`.
pub fn index_of(seed: u64, population: u64, pesel: &Pesel) -> Option<u64> {
    let birth = pesel.birth_date()?;
    let day = u64::try_from((birth - first_birth()).num_days()).ok()?;
    if day >= DAYS {
        return None;
    }
    let digits = pesel.expose();
    let serial: u64 = digits.get(6..9)?.parse().ok()?;
    let male = pesel.sex() == Sex::Male;
    let slot_half = ((serial + 1000 - serial_offset(seed)) % 1000) * 143 % 1000;
    let slot = slot_half * 2 + u64::from(male);
    let index = slot * DAYS + (day + DAYS - day_offset(seed)) % DAYS;
    // The sex digit carries the serial's last digit mod 5; checking the full
    // PESEL rejects numbers this population never issued.
    (index < population && pesel_of(seed, index).0 == *pesel).then_some(index)
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A status drawn from (valid, expired, suspended, reported_lost, cancelled) shares.
fn draw_status(r: &mut Rng, shares: [u64; 5]) -> DocumentStatus {
    DocumentStatus::ALL[r.weighted(&shares)]
}

/// Expiry consistent with the status: in the future for all but expired.
fn expiry_for(r: &mut Rng, status: DocumentStatus, base: NaiveDate) -> NaiveDate {
    if status == DocumentStatus::Expired {
        add_days(base, -r.range(400, 2000))
    } else {
        add_days(base, r.range(400, 3000))
    }
}

fn card(
    r: &mut Rng,
    base: NaiveDate,
    number: String,
    issuer: String,
    shares: [u64; 5],
) -> CardRecord {
    let status = draw_status(r, shares);
    let expires = expiry_for(r, status, base);
    let issued = add_days(expires, -r.range(3 * 365, 10 * 365));
    CardRecord {
        number,
        issuer,
        issued,
        expires,
        status,
    }
}

fn letters(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'A' + r.below(26) as u8))
        .collect()
}

/// Characters allowed in a VIN (no I, O, Q): 33 of them.
const VIN_CHARS: &[u8; 33] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
/// VIN positions that carry the owner's index and vehicle number.
const VIN_SLOTS: [usize; 7] = [3, 4, 5, 6, 7, 10, 11];
const VIN_SPACE: u64 = 33u64.pow(7);

fn vin_for(seed: u64, index: u64, vehicle_no: u64, wmi: &str, r: &mut Rng) -> String {
    let mut v = [b'0'; 17];
    for (slot, b) in v.iter_mut().zip(wmi.bytes()) {
        *slot = b;
    }
    let mut n = (index * 4 + vehicle_no + mix(seed) % VIN_SPACE) % VIN_SPACE;
    for pos in VIN_SLOTS.iter().rev() {
        v[*pos] = VIN_CHARS[(n % 33) as usize];
        n /= 33;
    }
    v[9] = VIN_CHARS[10 + r.below(23) as usize]; // model year letter
    for b in v.iter_mut().skip(12) {
        *b = b'0' + r.below(10) as u8;
    }
    ids::vin_with_check(v).unwrap_or_default()
}

/// The (index, vehicle number) a VIN was issued to, if it has the layout.
pub fn vin_owner(seed: u64, vin: &str) -> Option<(u64, usize)> {
    let b = vin.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut n = 0u64;
    for pos in VIN_SLOTS {
        let ch = *b.get(pos)?;
        let d = VIN_CHARS.iter().position(|c| *c == ch)? as u64;
        n = n * 33 + d;
    }
    let n = (n + VIN_SPACE - mix(seed) % VIN_SPACE) % VIN_SPACE;
    Some((n / 4, (n % 4) as usize))
}

/// Most vehicles a citizen holds (the generator gives 1 to 3).
pub const MAX_VEHICLES: u64 = 3;
/// Letters of a plate's individual part: the letters Polish plates use there
/// (no B, D, I, O, Z, which read as 8, 0, 1, 0, 2), and no Q.
const PLATE_LETTERS: &[u8; 20] = b"ACEFGHJKLMNPRSTUVWXY";
/// Characters after the first of the individual part: digits and those letters.
const PLATE_CHARS: &[u8; 30] = b"0123456789ACEFGHJKLMNPRSTUVWXY";
/// Vehicle numbers one area prefix can carry: the individual part is a digit
/// (as on every Polish plate with a two-letter prefix) and four of [`PLATE_CHARS`].
const PLATE_BLOCK: u64 = 10 * 30 * 30 * 30 * 30;
/// Blocks: the city's two-letter prefix, then the city's prefix plus a third
/// letter A..Z (as a district would have), used only beyond the first block.
const PLATE_BLOCKS: u64 = 1 + 26;
/// Bits of the power-of-two domain the scramble permutes (2^24 >= PLATE_BLOCK).
const PLATE_HALF_BITS: u32 = 12;
const PLATE_HALF_MASK: u64 = (1 << PLATE_HALF_BITS) - 1;

// Every vehicle of the largest population needs its own plate.
const _: () = assert!(PLATE_BLOCK * PLATE_BLOCKS >= MAX_POPULATION * MAX_VEHICLES);
const _: () = assert!(PLATE_BLOCK <= 1 << (2 * PLATE_HALF_BITS));
const _: () = assert!(PLATE_LETTERS.len() == 20);

fn plate_round_key(seed: u64, round: u64) -> u64 {
    mix(seed ^ 0x91A7_E000 ^ round)
}

/// One pass of a 4-round Feistel network over 24 bits keyed by the seed:
/// a bijection on `0..2^24` (`inverse` undoes it).
fn plate_feistel(seed: u64, x: u64, inverse: bool) -> u64 {
    let (mut l, mut r) = (x >> PLATE_HALF_BITS, x & PLATE_HALF_MASK);
    for i in 0..4u64 {
        let round = if inverse { 3 - i } else { i };
        if inverse {
            // (l, r) came from (r', l' ^ F(r')): recover (l', r').
            let prev_r = l;
            let prev_l = r ^ (mix(plate_round_key(seed, round) ^ prev_r) & PLATE_HALF_MASK);
            (l, r) = (prev_l, prev_r);
        } else {
            let next_r = l ^ (mix(plate_round_key(seed, round) ^ r) & PLATE_HALF_MASK);
            (l, r) = (r, next_r);
        }
    }
    (l << PLATE_HALF_BITS) | r
}

/// A seed-dependent bijection on `0..PLATE_BLOCK`, so neighbouring citizens
/// get unrelated plates. Cycle-walking the 24-bit Feistel permutation: a
/// value outside the block is permuted again until it falls inside, which
/// stays a bijection and takes about two rounds on average (the cycle
/// through the start always returns into the block, so it ends).
fn plate_scramble(seed: u64, x: u64, inverse: bool) -> u64 {
    let mut y = plate_feistel(seed, x, inverse);
    while y >= PLATE_BLOCK {
        y = plate_feistel(seed, y, inverse);
    }
    y
}

/// The plate of vehicle `k` of citizen `index`, with the city's prefix.
fn plate_for(seed: u64, index: u64, k: u64, city_prefix: &str) -> String {
    let n = index * MAX_VEHICLES + k;
    let block = n / PLATE_BLOCK;
    let mut code = plate_scramble(seed, n % PLATE_BLOCK, false);
    let mut tail = [b'0'; 5];
    for slot in tail.iter_mut().skip(1).rev() {
        *slot = PLATE_CHARS[(code % 30) as usize];
        code /= 30;
    }
    tail[0] = b'0' + (code % 10) as u8;
    let mut plate = String::with_capacity(8);
    plate.push_str(city_prefix);
    if block > 0 {
        plate.push(char::from(b'A' + ((block - 1) % 26) as u8));
    }
    plate.extend(tail.iter().map(|b| char::from(*b)));
    plate
}

/// The (index, vehicle number) a plate's layout encodes, before checking
/// that the citizen exists and holds that vehicle.
fn plate_number(seed: u64, plate: &str) -> Option<(u64, usize)> {
    let b = plate.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if !(2..=3).contains(&letters) || b.len() != letters + 5 {
        return None;
    }
    let block = match letters {
        3 => u64::from(*b.get(2)? - b'A') + 1,
        _ => 0,
    };
    let tail = b.get(letters..)?;
    let first = tail.first()?;
    if !first.is_ascii_digit() {
        return None;
    }
    let mut code = u64::from(first - b'0');
    for ch in tail.get(1..)? {
        let d = PLATE_CHARS.iter().position(|c| c == ch)? as u64;
        code = code * 30 + d;
    }
    let n = block * PLATE_BLOCK + plate_scramble(seed, code, true);
    Some((n / MAX_VEHICLES, (n % MAX_VEHICLES) as usize))
}

/// The citizen holding the vehicle with this canonical plate (see
/// [`okaz_registry::ids::normalise_plate`]) and the vehicle's number among theirs, if
/// this population issued it. The plate is decoded arithmetically, then
/// checked by regenerating the citizen, so a plate of the right shape that
/// was never issued (another city's prefix, a citizen without that vehicle,
/// an index beyond the population) is refused.
pub fn citizen_of_plate(seed: u64, population: u64, plate: &str) -> Option<(Citizen, usize)> {
    let (index, k) = plate_number(seed, plate)?;
    if index >= population {
        return None;
    }
    let c = citizen(seed, index);
    c.vehicles
        .get(k)
        .is_some_and(|v| v.plate == plate)
        .then_some((c, k))
}

/// The (index, vehicle number) of the vehicle with this canonical plate, if
/// this population issued it: the plate counterpart of [`index_of`].
pub fn vehicle_of_plate(seed: u64, population: u64, plate: &str) -> Option<(u64, usize)> {
    citizen_of_plate(seed, population, plate).map(|(c, k)| (c.index, k))
}

/// The citizen holding the identity card with this number, if this
/// population issued it: decoded arithmetically, then checked by
/// regenerating the citizen.
pub fn citizen_of_id_card(seed: u64, population: u64, number: &str) -> Option<Citizen> {
    let index = crate::numbers::index_of_id_card(seed, number)?;
    (index < population)
        .then(|| citizen(seed, index))
        .filter(|c| c.id_card.number == number)
}

/// The citizen holding the driving licence with this number, if this
/// population issued it (a citizen without a licence holds none).
pub fn citizen_of_licence(seed: u64, population: u64, number: &str) -> Option<Citizen> {
    let index = crate::numbers::index_of_licence(seed, number)?;
    (index < population)
        .then(|| citizen(seed, index))
        .filter(|c| c.licence.as_ref().is_some_and(|l| l.card.number == number))
}

/// The phone number of an index: an affine bijection on 400 million numbers,
/// so two citizens never share a phone (and inboxes never mix).
fn phone_for(seed: u64, index: u64) -> String {
    const SPACE: u64 = 400_000_000;
    let n = (index % SPACE * 104_729 + mix(seed) % SPACE) % SPACE;
    format!("+48{}", 500_000_000 + n)
}

/// Shares, in percent, of (valid, expired, suspended, reported_lost, cancelled).
const ID_SHARES: [u64; 5] = [82, 6, 3, 5, 4];
const LICENCE_SHARES: [u64; 5] = [78, 5, 8, 4, 5];
const REGISTRATION_SHARES: [u64; 5] = [82, 4, 5, 4, 5];
const ENTITLEMENT_SHARES: [u64; 5] = [80, 8, 3, 5, 4];
/// Cards whose registers have no suspension.
const CARD_SHARES: [u64; 5] = [80, 8, 0, 6, 6];

/// The citizen at `index` of the population of `seed`, dated around this month.
pub fn citizen(seed: u64, index: u64) -> Citizen {
    citizen_at(seed, index, reference_date())
}

/// The citizen at `index` of the population of `seed`, with dates around `base`: a pure function.
pub fn citizen_at(seed: u64, index: u64, base: NaiveDate) -> Citizen {
    let (pesel, birth, sex) = pesel_of(seed, index);
    let mut r = Rng::new(seed, index, 1);
    let age = age_on(birth, base);
    let (first_names, surname) = match sex {
        Sex::Male => (
            names::MALE,
            r.pick(names::SURNAMES)
                .copied()
                .unwrap_or("Nowak")
                .to_string(),
        ),
        Sex::Female => (
            names::FEMALE,
            names::feminine(r.pick(names::SURNAMES).copied().unwrap_or("Nowak")),
        ),
    };
    let mut given_names = vec![r.pick(first_names).copied().unwrap_or("Jan").to_string()];
    if r.chance(30) {
        let second = r.pick(first_names).copied().unwrap_or("Maria").to_string();
        if second != given_names[0] {
            given_names.push(second);
        }
    }
    let city = r.pick(CITIES).unwrap_or(&CITIES[0]);
    let address = format!(
        "ul. {} {}/{}, {}-{:03} {}",
        r.pick(STREETS).copied().unwrap_or("Polna"),
        r.range(1, 120),
        r.range(1, 60),
        city.postcode,
        r.below(1000),
        city.name
    );
    // The draws the number once came from are kept, so every field after it
    // stays as it was; the number itself encodes the index (see `numbers`).
    let _ = (letters(&mut r, 3), r.below(100_000));
    let id_number = crate::numbers::id_card_number(seed, index);
    let id_card = card(
        &mut r,
        base,
        id_number,
        format!("Prezydent Miasta {}", city.name),
        ID_SHARES,
    );

    let adult = age >= 18;
    let licence = (adult && r.chance(70)).then(|| {
        let mut l = licence_for(&mut r, birth, base);
        l.card.number = crate::numbers::licence_number(seed, index);
        l
    });
    let vehicles = if licence.is_some() && r.chance(60) {
        let count = if r.chance(15) { r.range(2, 3) } else { 1 } as u64;
        (0..count.min(MAX_VEHICLES))
            .map(|k| vehicle_for(seed, index, k, city.plate, &mut r, base))
            .collect()
    } else {
        Vec::new()
    };
    let no_phone = r.chance(8);
    let reserved = r.chance(5);
    let email = r.chance(60).then(|| {
        format!(
            "{}.{}{}@poczta.example.pl",
            names::ascii_lower(&given_names[0]),
            names::ascii_lower(&surname),
            index % 1000
        )
    });
    let contact = ContactRecord {
        phone: (!no_phone).then(|| phone_for(seed, index)),
        email,
        reserved,
        updated: add_days(base, -r.range(1, 1500)),
    };
    let student = ((19..=26).contains(&age) && r.chance(50)).then(|| {
        let number = format!("{}", 100_000 + r.below(900_000));
        let university = r
            .pick(UNIVERSITIES)
            .copied()
            .unwrap_or("Uniwersytet Warszawski");
        card(&mut r, base, number, university.to_string(), CARD_SHARES)
    });
    let pensioner = (age >= 62 && r.chance(80)).then(|| {
        let number = format!("ZUS/{}/{:07}", city.postcode, r.below(10_000_000));
        card(
            &mut r,
            base,
            number,
            format!("ZUS Oddział w {}", city.name),
            ENTITLEMENT_SHARES,
        )
    });
    let large_family = ((25..=60).contains(&age) && r.chance(12)).then(|| {
        let number = format!("KDR{:09}", r.below(1_000_000_000));
        card(
            &mut r,
            base,
            number,
            "Ministerstwo Rodziny".to_string(),
            CARD_SHARES,
        )
    });
    let school = ((7..=18).contains(&age) && r.chance(90)).then(|| {
        let kind = if age < 15 {
            "Szkoła Podstawowa"
        } else {
            "Liceum Ogólnokształcące"
        };
        let number = format!("{}/{}", r.range(1, 999), base.year() - 1);
        let school = format!("{} nr {} w {}", kind, r.range(1, 60), city.name);
        card(&mut r, base, number, school, CARD_SHARES)
    });
    Citizen {
        seed,
        index,
        pesel,
        sex,
        birth_date: birth,
        given_names,
        surname,
        address,
        city: city.name,
        id_card,
        licence,
        vehicles,
        contact,
        student,
        pensioner,
        large_family,
        school,
        reference: base,
    }
}

fn licence_for(r: &mut Rng, birth: NaiveDate, base: NaiveDate) -> LicenceRecord {
    let number = format!(
        "{:05}/{:02}/{:04}",
        r.below(100_000),
        r.below(100),
        r.below(10_000)
    );
    let mut c = card(r, base, number, "Starosta".to_string(), LICENCE_SHARES);
    let first = add_days(birth, r.range(18 * 365, 30 * 365)).min(c.issued);
    let mut categories = vec![("B".to_string(), first)];
    if r.chance(20) {
        categories.insert(0, ("AM".to_string(), first));
        categories.push(("A".to_string(), first));
    }
    if r.chance(10) {
        categories.push(("C".to_string(), first));
        categories.push(("CE".to_string(), first));
    }
    let restrictions = if r.chance(25) {
        vec!["01.06".to_string()]
    } else {
        Vec::new()
    };
    c.issued = c.issued.max(first);
    let suspended_until =
        (c.status == DocumentStatus::Suspended).then(|| add_days(base, r.range(400, 900)));
    LicenceRecord {
        card: c,
        categories,
        restrictions,
        suspended_until,
    }
}

fn vehicle_for(
    seed: u64,
    index: u64,
    k: u64,
    plate_prefix: &str,
    r: &mut Rng,
    base: NaiveDate,
) -> VehicleRecord {
    let (wmi, make, models) = MAKES[r.below(MAKES.len() as u64) as usize];
    let model = models[r.below(models.len() as u64) as usize];
    let vin = vin_for(seed, index, k, wmi, r);
    let first_registration = add_days(base, -r.range(30, 20 * 365));
    let plate = plate_for(seed, index, k, plate_prefix);
    // The plate used to be drawn here; the draw stays so that the rest of the
    // citizen (statuses, inspections, policies) is what it was.
    let _ = r.below(100_000);
    let reg_status = draw_status(r, REGISTRATION_SHARES);
    let registration = CardRecord {
        number: format!("DR/{}/{:07}", letters(r, 3), r.below(10_000_000)),
        issuer: "Starosta".to_string(),
        issued: first_registration.max(add_days(base, -r.range(30, 8 * 365))),
        expires: add_days(base, 3650),
        status: reg_status,
    };
    // Latest inspection: 80% passed and current, 12% overdue, 8% failed.
    let count = r.range(1, 3);
    let mut inspections = Vec::new();
    let mut odo = r.range(5_000, 40_000);
    let outcome = r.weighted(&[80, 12, 8]);
    let last = if outcome == 1 {
        add_days(base, -r.range(400, 800))
    } else {
        add_days(base, -r.range(10, 300))
    };
    for i in (0..count).rev() {
        let date = add_days(last, -365 * i);
        odo += r.range(8_000, 25_000);
        let is_last = i == 0;
        inspections.push(InspectionRecord {
            date,
            next_due: add_days(date, 365),
            passed: !(is_last && outcome == 2),
            odometer_km: odo,
        });
    }
    let policy_outcome = r.weighted(&[80, 12, 8]);
    let mut policies = Vec::new();
    let insurer = r.pick(INSURERS).copied().unwrap_or("PZU SA");
    let until = match policy_outcome {
        1 => add_days(base, -r.range(30, 400)),
        _ => add_days(base, r.range(400, 700)),
    };
    policies.push(PolicyRecord {
        insurer: insurer.to_string(),
        number: format!(
            "{}{:09}",
            insurer.chars().take(2).collect::<String>().to_uppercase(),
            r.below(1_000_000_000)
        ),
        from: add_days(until, -365),
        until,
        status: [
            DocumentStatus::Valid,
            DocumentStatus::Expired,
            DocumentStatus::Cancelled,
        ][policy_outcome.min(2)],
    });
    VehicleRecord {
        vin,
        plate,
        make: make.to_string(),
        model: model.to_string(),
        first_registration,
        relation: [0u8, 0, 0, 1, 2][r.below(5) as usize],
        registration,
        inspections,
        policies,
    }
}

impl Citizen {
    /// Status of each document the citizen holds, as the adapters will map it.
    pub fn document_statuses(&self) -> Vec<(DocumentType, DocumentStatus)> {
        let mut out = vec![(DocumentType::IdCard, self.id_card.status)];
        if let Some(l) = &self.licence {
            out.push((DocumentType::DrivingLicence, l.card.status));
        }
        if let Some(v) = self.vehicles.first() {
            out.push((DocumentType::VehicleRegistration, v.registration.status));
            if let Some(i) = v.inspections.last() {
                let s = if !i.passed {
                    DocumentStatus::Cancelled
                } else if i.next_due < self.reference {
                    DocumentStatus::Expired
                } else {
                    DocumentStatus::Valid
                };
                out.push((DocumentType::TechnicalInspection, s));
            }
            if let Some(p) = v.policies.iter().max_by_key(|p| p.until) {
                out.push((DocumentType::OcInsurance, p.status));
            }
        }
        for (kind, c) in [
            (DocumentType::StudentId, &self.student),
            (DocumentType::PensionerId, &self.pensioner),
            (DocumentType::LargeFamilyCard, &self.large_family),
            (DocumentType::SchoolId, &self.school),
        ] {
            if let Some(c) = c {
                out.push((kind, c.status));
            }
        }
        out
    }

    /// Scenario tags for `/_population`.
    pub fn tags(&self) -> Vec<String> {
        let mut t: Vec<String> = Vec::new();
        let id = match self.id_card.status {
            DocumentStatus::Valid => "valid_id",
            DocumentStatus::Expired => "expired_id",
            DocumentStatus::Suspended => "suspended_id",
            DocumentStatus::ReportedLost => "lost_id",
            DocumentStatus::Cancelled => "cancelled_id",
        };
        t.push(id.into());
        t.push(
            if age_on(self.birth_date, self.reference) >= 18 {
                "adult"
            } else {
                "minor"
            }
            .into(),
        );
        match &self.licence {
            None => t.push("no_licence".into()),
            Some(l) => {
                t.push("licence".into());
                if l.card.status == DocumentStatus::Suspended {
                    t.push("suspended_licence".into());
                }
            }
        }
        match self.vehicles.len() {
            0 => t.push("no_vehicle".into()),
            1 => t.push("vehicle".into()),
            _ => {
                t.push("vehicle".into());
                t.push("several_vehicles".into());
            }
        }
        if self.contact.phone.is_none() {
            t.push("no_phone".into());
        }
        if self.contact.reserved {
            t.push("reserved_contact".into());
        }
        if self.contact.phone.is_some() && !self.contact.reserved {
            t.push("contactable".into());
        }
        if self.contact.email.is_some() && !self.contact.reserved {
            t.push("email".into());
        }
        for (flag, name) in [
            (self.student.is_some(), "student"),
            (self.pensioner.is_some(), "pensioner"),
            (self.large_family.is_some(), "large_family"),
            (self.school.is_some(), "school"),
        ] {
            if flag {
                t.push(name.into());
            }
        }
        for (kind, status) in self.document_statuses() {
            t.push(format!("{}:{}", kind.as_str(), status.as_str()));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_constants_agree() {
        assert_eq!((add_days(first_birth(), DAYS as i64 - 1)).year(), 2019);
        assert_eq!(add_days(first_birth(), DAYS as i64).year(), 2020);
    }

    #[test]
    fn every_status_occurs_for_id_cards_and_licences() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..5000 {
            let c = citizen(7, i);
            seen.insert(c.id_card.status.as_str());
            if let Some(l) = c.licence {
                seen.insert(l.card.status.as_str());
            }
        }
        assert_eq!(seen.len(), 5, "{seen:?}");
    }

    proptest! {
        #[test]
        fn generated_numbers_validate(seed in any::<u64>(), index in 0..MAX_POPULATION) {
            let c = citizen(seed, index);
            prop_assert!(Pesel::parse(&c.pesel.expose()).is_ok());
            prop_assert!(ids::id_card_number_valid(&c.id_card.number), "{}", c.id_card.number);
            for (k, v) in c.vehicles.iter().enumerate() {
                prop_assert!(ids::vin_valid(&v.vin), "{}", v.vin);
                prop_assert_eq!(vin_owner(seed, &v.vin), Some((index, k)));
            }
            if let Some(p) = &c.contact.phone {
                prop_assert!(okaz_registry::registers::contacts::is_e164(p));
            }
        }

        #[test]
        fn same_seed_same_citizen(seed in any::<u64>(), index in 0..MAX_POPULATION) {
            let base = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
            prop_assert_eq!(citizen_at(seed, index, base), citizen_at(seed, index, base));
        }

        #[test]
        fn pesel_maps_back_to_its_index(seed in any::<u64>(), index in 0..MAX_POPULATION) {
            let c = citizen(seed, index);
            prop_assert_eq!(index_of(seed, MAX_POPULATION, &c.pesel), Some(index));
            prop_assert_eq!(index_of(seed, index, &c.pesel), None);
        }

        #[test]
        fn every_plate_maps_back_to_its_vehicle(seed in any::<u64>(), index in 0..MAX_POPULATION) {
            let c = citizen(seed, index);
            for (k, v) in c.vehicles.iter().enumerate() {
                prop_assert_eq!(ids::normalise_plate(&v.plate), Some(v.plate.clone()));
                prop_assert!(v.plate.len() == 7 || v.plate.len() == 8, "{}", v.plate);
                prop_assert_eq!(vehicle_of_plate(seed, MAX_POPULATION, &v.plate), Some((index, k)));
                // Not issued in a population that ends before this citizen.
                prop_assert_eq!(vehicle_of_plate(seed, index, &v.plate), None);
            }
        }

        #[test]
        fn plate_codes_map_back_even_without_the_vehicle(
            seed in any::<u64>(), index in 0..MAX_POPULATION, k in 0..MAX_VEHICLES
        ) {
            let p = plate_for(seed, index, k, "GD");
            prop_assert_eq!(plate_number(seed, &p), Some((index, k as usize)));
        }

        #[test]
        fn plates_never_collide_across_indexes(
            seed in any::<u64>(),
            a in 0..MAX_POPULATION, b in 0..MAX_POPULATION,
            ka in 0..MAX_VEHICLES, kb in 0..MAX_VEHICLES,
        ) {
            prop_assume!(a != b);
            // Same prefix: the individual part alone must tell them apart.
            prop_assert_ne!(plate_for(seed, a, ka, "WA"), plate_for(seed, b, kb, "WA"));
            // And neighbours, where a weak scramble would fail first.
            let n = a.min(MAX_POPULATION - 2);
            prop_assert_ne!(plate_for(seed, n, ka, "WA"), plate_for(seed, n + 1, ka, "WA"));
        }

        #[test]
        fn random_strings_are_refused_not_a_panic(
            seed in any::<u64>(),
            s in "\\PC{0,12}|[A-Z]{2,3}[0-9][0-9A-Z]{4}",
        ) {
            // A random string of plate shape may, very rarely, be an issued
            // plate: then it must name the vehicle that carries it.
            if let Some((i, k)) = vehicle_of_plate(seed, MAX_POPULATION, &s) {
                prop_assert_eq!(&citizen(seed, i).vehicles[k].plate, &s);
            }
        }

        #[test]
        fn different_indexes_never_share_a_pesel(
            seed in any::<u64>(), a in 0..MAX_POPULATION, b in 0..MAX_POPULATION
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(pesel_of(seed, a).0, pesel_of(seed, b).0);
            prop_assert_ne!(phone_for(seed, a), phone_for(seed, b));
        }
    }

    #[test]
    fn plate_scramble_is_a_bijection_on_a_prefix_of_the_block() {
        let mut seen = std::collections::HashSet::with_capacity(300_000);
        for x in 0..300_000 {
            let y = plate_scramble(5, x, false);
            assert!(y < PLATE_BLOCK);
            assert_eq!(plate_scramble(5, y, true), x);
            assert!(seen.insert(y), "collision at {x}");
        }
    }

    #[test]
    fn neighbouring_citizens_get_unrelated_plates() {
        let a = plate_for(9, 1000, 0, "WA");
        let b = plate_for(9, 1001, 0, "WA");
        let common = a.bytes().zip(b.bytes()).filter(|(x, y)| x == y).count();
        // The prefix only (plus chance): not the same plate counted up by one.
        assert!(common < 5, "{a} {b}");
    }

    #[test]
    fn plates_look_polish_and_use_three_letters_only_beyond_the_first_block() {
        let small = plate_for(1, 1_000_000, 2, "KR");
        assert_eq!(small.len(), 7, "{small}");
        assert!(small.starts_with("KR") && small.as_bytes()[2].is_ascii_digit());
        let big = plate_for(1, MAX_POPULATION - 1, 2, "KR");
        assert_eq!(big.len(), 8, "{big}");
        assert!(big.as_bytes()[2].is_ascii_uppercase() && big.as_bytes()[3].is_ascii_digit());
        for p in [&small, &big] {
            assert_eq!(ids::normalise_plate(p).as_deref(), Some(p.as_str()));
            let tail = &p.as_bytes()[p.len() - 5..];
            assert!(tail.iter().all(|c| PLATE_CHARS.contains(c)), "{p}");
        }
    }

    #[test]
    fn plates_never_issued_are_refused() {
        let (c, k) = (0..5000)
            .map(|i| citizen(11, i))
            .find_map(|c| (!c.vehicles.is_empty()).then_some((c, 0usize)))
            .unwrap();
        let plate = &c.vehicles[k].plate;
        assert_eq!(
            vehicle_of_plate(11, MAX_POPULATION, plate),
            Some((c.index, k))
        );
        // Another city's prefix on the same code.
        let other = names::CITIES
            .iter()
            .find(|city| !plate.starts_with(city.plate))
            .unwrap();
        let moved = format!("{}{}", other.plate, &plate[2..]);
        assert_eq!(vehicle_of_plate(11, MAX_POPULATION, &moved), None);
        // The code of a vehicle number the citizen does not hold.
        let absent = plate_for(11, c.index, c.vehicles.len() as u64, &plate[..2]);
        assert_eq!(vehicle_of_plate(11, MAX_POPULATION, &absent), None);
        // A citizen without vehicles.
        let walker = (0..5000)
            .map(|i| citizen(11, i))
            .find(|c| c.vehicles.is_empty())
            .unwrap();
        let city = names::CITIES
            .iter()
            .find(|x| x.name == walker.city)
            .unwrap();
        let p = plate_for(11, walker.index, 0, city.plate);
        assert_eq!(vehicle_of_plate(11, MAX_POPULATION, &p), None);
        for junk in [
            "", "WA", "WA1234", "WA123456", "WAB1234X", "WAA12B45", "12345WA", "WA 1234X",
        ] {
            assert_eq!(vehicle_of_plate(11, MAX_POPULATION, junk), None, "{junk}");
        }
    }

    #[test]
    fn a_million_consecutive_indexes_have_distinct_pesels() {
        // The bijection argument, checked exhaustively on the demo size.
        let mut seen = std::collections::HashSet::with_capacity(1_000_000);
        for i in 0..1_000_000 {
            assert!(seen.insert(pesel_of(42, i).0.expose()), "collision at {i}");
        }
    }
}
