//! Polish and English texts of the supervisor's banner ("2 break-glass
//! awaiting countersign · F5"), in three lengths: the longest that fits the
//! row is used, so a 40-column handheld gets a short form of the same words.

use crate::i18n::Lang;
use crate::widgets::width;

/// What the banner counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Break-glass checks awaiting countersign.
    pub break_glass: usize,
    /// Open disputes.
    pub disputes: usize,
    /// The last poll failed: these are the last known counts.
    pub stale: bool,
}

/// Polish plural forms: 1 → `one`, 2–4 (not 12–14) → `few`, else `many`.
fn plural(n: usize, one: &'static str, few: &'static str, many: &'static str) -> &'static str {
    let (d, dd) = (n % 10, n % 100);
    if n == 1 {
        one
    } else if (2..=4).contains(&d) && !(12..=14).contains(&dd) {
        few
    } else {
        many
    }
}

fn long(lang: Lang, c: Counts) -> String {
    let mut parts = Vec::new();
    let n = c.break_glass;
    if n > 0 {
        parts.push(match lang {
            Lang::Pl => format!(
                "⚠ {n} {} na podpis · F5",
                plural(
                    n,
                    "dostęp awaryjny czeka",
                    "dostępy awaryjne czekają",
                    "dostępów awaryjnych czeka"
                )
            ),
            Lang::En => format!("⚠ {n} break-glass awaiting countersign · F5"),
        });
    }
    let d = c.disputes;
    if d > 0 {
        parts.push(match lang {
            Lang::Pl => format!(
                "{d} {} · F7",
                plural(
                    d,
                    "otwarte zgłoszenie",
                    "otwarte zgłoszenia",
                    "otwartych zgłoszeń"
                )
            ),
            Lang::En => format!(
                "{d} open {} · F7",
                if d == 1 { "dispute" } else { "disputes" }
            ),
        });
    }
    let mut s = parts.join(" │ ");
    if c.stale {
        s.push_str(lang.pick(" (nieaktualne)", " (not current)"));
    }
    s
}

fn short(lang: Lang, c: Counts, labels: bool) -> String {
    // Stale counts are marked with "?" where there is no room for words.
    let mark = if c.stale { "?" } else { "" };
    let mut parts = Vec::new();
    if c.break_glass > 0 {
        let label = if labels {
            lang.pick("Awaryjne: ", "Break-glass: ")
        } else {
            ""
        };
        parts.push(format!("⚠ {label}{}{mark} · F5", c.break_glass));
    }
    if c.disputes > 0 {
        let label = if labels {
            lang.pick("Zgłoszenia: ", "Disputes: ")
        } else {
            ""
        };
        parts.push(format!("{label}{}{mark} · F7", c.disputes));
    }
    parts.join("  ")
}

/// The banner's text for a row of `max` columns (after a leading space),
/// or `None` when nothing waits.
pub fn banner(lang: Lang, c: Counts, max: usize) -> Option<String> {
    if c.break_glass == 0 && c.disputes == 0 {
        return None;
    }
    let room = max.saturating_sub(1);
    let candidates = [long(lang, c), short(lang, c, true), short(lang, c, false)];
    let fits = candidates.iter().find(|s| width(s) <= room);
    Some(match fits {
        Some(s) => s.clone(),
        None => candidates[2].chars().take(room).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_plurals_and_the_handheld_form_fits() {
        let c = |b, d| Counts {
            break_glass: b,
            disputes: d,
            stale: false,
        };
        let pl = |n| long(Lang::Pl, c(n, 0));
        assert!(pl(1).contains("1 dostęp awaryjny czeka"));
        assert!(pl(3).contains("3 dostępy awaryjne czekają"));
        assert!(pl(12).contains("12 dostępów awaryjnych czeka"));
        assert!(pl(22).contains("22 dostępy"));
        assert_eq!(banner(Lang::En, c(0, 0), 80), None);
        for lang in [Lang::Pl, Lang::En] {
            for (b, d) in [(2, 1), (12, 34), (1, 0), (0, 5)] {
                let s = banner(lang, c(b, d), 40).unwrap();
                assert!(width(&s) <= 39, "{s}");
                assert!(s.contains("F5") || b == 0, "{s}");
                assert!(s.contains("F7") || d == 0, "{s}");
            }
        }
        assert_eq!(
            banner(Lang::En, c(2, 1), 80).unwrap(),
            "⚠ 2 break-glass awaiting countersign · F5 │ 1 open dispute · F7"
        );
    }
}
