//! Small embedded lists of Polish names and places.

/// Female given names.
pub const FEMALE: &[&str] = &[
    "Anna",
    "Maria",
    "Katarzyna",
    "Małgorzata",
    "Agnieszka",
    "Barbara",
    "Ewa",
    "Krystyna",
    "Elżbieta",
    "Zofia",
    "Joanna",
    "Magdalena",
    "Monika",
    "Aleksandra",
    "Natalia",
    "Julia",
    "Zuzanna",
    "Hanna",
    "Maja",
    "Alicja",
    "Wiktoria",
    "Danuta",
    "Teresa",
    "Beata",
];

/// Male given names.
pub const MALE: &[&str] = &[
    "Piotr",
    "Krzysztof",
    "Andrzej",
    "Tomasz",
    "Paweł",
    "Jan",
    "Michał",
    "Marcin",
    "Stanisław",
    "Jakub",
    "Adam",
    "Marek",
    "Łukasz",
    "Grzegorz",
    "Mateusz",
    "Wojciech",
    "Mariusz",
    "Dariusz",
    "Antoni",
    "Szymon",
    "Filip",
    "Kacper",
    "Zbigniew",
    "Jerzy",
];

/// Surnames in their masculine form.
pub const SURNAMES: &[&str] = &[
    "Nowak",
    "Kowalski",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamiński",
    "Lewandowski",
    "Zieliński",
    "Szymański",
    "Woźniak",
    "Dąbrowski",
    "Kozłowski",
    "Jankowski",
    "Mazur",
    "Kwiatkowski",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Nowakowski",
    "Pawłowski",
    "Michalski",
    "Król",
    "Wieczorek",
    "Jabłoński",
    "Wróbel",
    "Nowicki",
    "Majewski",
    "Olszewski",
    "Stępień",
    "Malinowski",
    "Jaworski",
    "Adamczyk",
    "Dudek",
    "Nowacki",
    "Zając",
    "Sikora",
];

/// The feminine form of a surname (`-ski` → `-ska`, `-cki` → `-cka`).
pub fn feminine(surname: &str) -> String {
    match surname.strip_suffix('i') {
        Some(stem) if stem.ends_with("sk") || stem.ends_with("ck") || stem.ends_with("dzk") => {
            format!("{stem}a")
        }
        _ => surname.to_string(),
    }
}

/// A city: name, postcode prefix, plate prefix.
pub struct City {
    /// Name.
    pub name: &'static str,
    /// First two postcode digits.
    pub postcode: &'static str,
    /// Plate prefix.
    pub plate: &'static str,
}

/// Cities used for addresses, plates and authorities.
pub const CITIES: &[City] = &[
    City {
        name: "Warszawa",
        postcode: "00",
        plate: "WA",
    },
    City {
        name: "Kraków",
        postcode: "31",
        plate: "KR",
    },
    City {
        name: "Łódź",
        postcode: "90",
        plate: "EL",
    },
    City {
        name: "Wrocław",
        postcode: "50",
        plate: "DW",
    },
    City {
        name: "Poznań",
        postcode: "60",
        plate: "PO",
    },
    City {
        name: "Gdańsk",
        postcode: "80",
        plate: "GD",
    },
    City {
        name: "Szczecin",
        postcode: "70",
        plate: "ZS",
    },
    City {
        name: "Lublin",
        postcode: "20",
        plate: "LU",
    },
    City {
        name: "Białystok",
        postcode: "15",
        plate: "BI",
    },
    City {
        name: "Rzeszów",
        postcode: "35",
        plate: "RZ",
    },
];

/// Street names.
pub const STREETS: &[&str] = &[
    "Marszałkowska",
    "Długa",
    "Kościuszki",
    "Mickiewicza",
    "Słowackiego",
    "Polna",
    "Leśna",
    "Lipowa",
    "Ogrodowa",
    "Kwiatowa",
    "Szkolna",
    "Krótka",
];

/// (WMI, make, models)
pub const MAKES: &[(&str, &str, &[&str])] = &[
    ("TMB", "Skoda", &["Octavia", "Fabia", "Superb"]),
    ("WVW", "Volkswagen", &["Golf", "Passat", "Polo"]),
    ("VF1", "Renault", &["Clio", "Megane"]),
    ("WF0", "Ford", &["Focus", "Fiesta", "Mondeo"]),
    ("JTD", "Toyota", &["Yaris", "Corolla", "Auris"]),
    ("ZFA", "Fiat", &["Panda", "Tipo", "500"]),
    ("W0L", "Opel", &["Astra", "Corsa"]),
    ("KMH", "Hyundai", &["i30", "Tucson"]),
];

/// OC insurers.
pub const INSURERS: &[&str] = &[
    "PZU SA",
    "TUiR Warta SA",
    "STU Ergo Hestia SA",
    "TUiR Allianz Polska SA",
    "Generali TU SA",
    "Link4 TU SA",
];

/// Universities.
pub const UNIVERSITIES: &[&str] = &[
    "Uniwersytet Warszawski",
    "Uniwersytet Jagielloński",
    "Politechnika Warszawska",
    "Uniwersytet Wrocławski",
    "Politechnika Gdańska",
    "Uniwersytet im. Adama Mickiewicza w Poznaniu",
];

/// Folds Polish letters to ASCII, lower case, for e-mail addresses.
pub fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                'ą' | 'Ą' => 'a',
                'ć' | 'Ć' => 'c',
                'ę' | 'Ę' => 'e',
                'ł' | 'Ł' => 'l',
                'ń' | 'Ń' => 'n',
                'ó' | 'Ó' => 'o',
                'ś' | 'Ś' => 's',
                'ź' | 'Ź' | 'ż' | 'Ż' => 'z',
                c => c.to_ascii_lowercase(),
            };
            c.is_ascii_alphanumeric().then_some(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feminine_forms() {
        assert_eq!(feminine("Kowalski"), "Kowalska");
        assert_eq!(feminine("Nowacki"), "Nowacka");
        assert_eq!(feminine("Nowak"), "Nowak");
        assert_eq!(ascii_lower("Łukasz Wiśniewski"), "lukaszwisniewski");
    }
}
