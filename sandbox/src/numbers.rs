//! Identity card and driving licence numbers that encode their holder's
//! index, so the registers' lookups by document number find the holder in
//! O(1), as [`crate::population::citizen_of_plate`] does for plates, and two
//! citizens never share a number. A seed-keyed permutation keeps
//! neighbouring citizens' numbers unrelated.

use okaz_protocol::docnumber;

use crate::rng::mix;

/// Identity card numbers: three letters and five digits (the check digit
/// follows from them).
pub(crate) const ID_SPACE: u64 = 26 * 26 * 26 * 100_000;
/// Licence numbers: `NNNNN/NN/NNNN`, eleven digits.
pub(crate) const LICENCE_SPACE: u64 = 100_000_000_000;

const _: () = assert!(ID_SPACE <= 1 << 32);
const _: () = assert!(LICENCE_SPACE <= 1 << 40);

/// A 4-round Feistel network over `2 * half_bits` bits keyed by the seed and
/// `tag`: a bijection (`inverse` undoes it).
fn feistel(seed: u64, tag: u64, half_bits: u32, x: u64, inverse: bool) -> u64 {
    let mask = (1u64 << half_bits) - 1;
    let key = |round: u64| mix(seed ^ tag ^ round);
    let (mut l, mut r) = (x >> half_bits, x & mask);
    for i in 0..4u64 {
        if inverse {
            let round = 3 - i;
            let prev_r = l;
            let prev_l = r ^ (mix(key(round) ^ prev_r) & mask);
            (l, r) = (prev_l, prev_r);
        } else {
            let next_r = l ^ (mix(key(i) ^ r) & mask);
            (l, r) = (r, next_r);
        }
    }
    (l << half_bits) | r
}

/// A bijection on `0..space` by cycle-walking the Feistel permutation.
fn scramble(seed: u64, tag: u64, half_bits: u32, space: u64, x: u64, inverse: bool) -> u64 {
    let mut y = feistel(seed, tag, half_bits, x, inverse);
    while y >= space {
        y = feistel(seed, tag, half_bits, y, inverse);
    }
    y
}

const ID_TAG: u64 = 0x1D_CA4D_0000;
const LICENCE_TAG: u64 = 0x11CE_0000_0000;

/// The identity card number of `index`: `AAA` + check digit + five digits.
pub fn id_card_number(seed: u64, index: u64) -> String {
    let n = scramble(seed, ID_TAG, 16, ID_SPACE, index % ID_SPACE, false);
    let (mut l, digits) = (n / 100_000, n % 100_000);
    let mut letters = [b'A'; 3];
    for slot in letters.iter_mut().rev() {
        *slot = b'A' + (l % 26) as u8;
        l /= 26;
    }
    let five = format!("{digits:05}");
    let mut d = [b'0'; 5];
    d.copy_from_slice(five.as_bytes());
    let check = docnumber::id_card_check_digit(&letters, &d).unwrap_or(0);
    let mut s: String = letters.iter().map(|b| char::from(*b)).collect();
    s.push(char::from(b'0' + check));
    s.push_str(&five);
    s
}

/// The index an identity card number (canonical, check digit right) was
/// issued to, before checking the population holds it.
pub fn index_of_id_card(seed: u64, number: &str) -> Option<u64> {
    let number = docnumber::id_card(number).ok()?;
    let b = number.as_bytes();
    let mut l = 0u64;
    for c in b.get(..3)? {
        l = l * 26 + u64::from(c - b'A');
    }
    let digits: u64 = number.get(4..)?.parse().ok()?;
    Some(scramble(
        seed,
        ID_TAG,
        16,
        ID_SPACE,
        l * 100_000 + digits,
        true,
    ))
}

/// The driving licence number `index` would hold.
pub fn licence_number(seed: u64, index: u64) -> String {
    let n = scramble(seed, LICENCE_TAG, 20, LICENCE_SPACE, index, false);
    format!(
        "{:05}/{:02}/{:04}",
        n / 1_000_000,
        n / 10_000 % 100,
        n % 10_000
    )
}

/// The index a licence number was issued to, before checking the
/// population holds it.
pub fn index_of_licence(seed: u64, number: &str) -> Option<u64> {
    let number = docnumber::licence(number).ok()?;
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    Some(scramble(seed, LICENCE_TAG, 20, LICENCE_SPACE, n, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn numbers_map_back_to_their_index(seed in any::<u64>(), index in 0..crate::population::MAX_POPULATION) {
            let id = id_card_number(seed, index);
            prop_assert!(docnumber::id_card(&id).is_ok(), "{}", id);
            prop_assert_eq!(index_of_id_card(seed, &id), Some(index));
            let licence = licence_number(seed, index);
            prop_assert!(docnumber::licence(&licence).is_ok(), "{}", licence);
            prop_assert_eq!(index_of_licence(seed, &licence), Some(index));
        }
    }

    #[test]
    fn neighbours_get_unrelated_numbers() {
        let a = id_card_number(7, 1000);
        let b = id_card_number(7, 1001);
        assert_ne!(a[..3], b[..3], "{a} {b}");
    }

    #[test]
    fn malformed_numbers_map_nowhere() {
        assert_eq!(index_of_id_card(1, "ABA400000"), None);
        assert_eq!(index_of_licence(1, "1/2/3"), None);
    }
}
