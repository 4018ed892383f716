//! Parsing one policy file into its raw shape, reporting every schema problem.
//!
//! serde stops at the first error of a document. To report more than one per
//! file, an erroneous line is blanked out (same line count, so later line
//! numbers stay true) and the file is parsed again, until it parses, an error
//! cannot be pinned to a single key line, or the blanking itself breaks the
//! TOML syntax (e.g. a multi-line array), at which point nothing further can
//! be trusted.

use crate::problem::{header_path, key_at_line, line_of, PolicyProblem};
use crate::raw::RawFile;

/// Upper bound on re-parses of one file; a file this broken needs no more detail.
const MAX_SCHEMA_PROBLEMS: usize = 50;

/// The raw file (from the text with bad lines blanked, if any) and its problems.
pub(crate) struct Parsed {
    pub raw: Option<RawFile>,
    pub problems: Vec<PolicyProblem>,
}

/// Parses `text`, named `file` in problems.
pub(crate) fn parse_file(file: &str, text: &str) -> Parsed {
    let mut problems = Vec::new();
    if let Err(e) = toml::from_str::<toml::Table>(text) {
        problems.push(problem(file, text, &e));
        return Parsed {
            raw: None,
            problems,
        };
    }
    let mut current = text.to_owned();
    let mut blanked_keys: Vec<String> = Vec::new();
    for _ in 0..MAX_SCHEMA_PROBLEMS {
        let e = match toml::from_str::<RawFile>(&current) {
            Ok(raw) => {
                return Parsed {
                    raw: Some(raw),
                    problems,
                }
            }
            Err(e) => e,
        };
        let p = problem(file, &current, &e);
        // A key we blanked ourselves is then "missing": already reported.
        let echo = blanked_keys
            .iter()
            .any(|k| e.message() == format!("missing field `{k}`"));
        if !echo {
            problems.push(p);
        }
        let Some(span) = e.span() else { break };
        let line = line_of(&current, span.start);
        let Some(blanked) = blank_line(&current, line) else {
            break;
        };
        if toml::from_str::<toml::Table>(&blanked).is_err() {
            break;
        }
        if let Some(leaf) = key_at_line(&current, line).rsplit('.').next() {
            blanked_keys.push(leaf.to_owned());
        }
        current = blanked;
    }
    Parsed {
        raw: None,
        problems,
    }
}

/// A problem from a TOML error: line and key recovered from its span.
fn problem(file: &str, text: &str, e: &toml::de::Error) -> PolicyProblem {
    let line = e.span().map(|s| line_of(text, s.start));
    PolicyProblem {
        file: file.to_owned(),
        line,
        key: line.map(|l| key_at_line(text, l)).unwrap_or_default(),
        message: e.message().trim().to_owned(),
    }
}

/// `text` with 1-based `line` turned into a comment, unless it is a table
/// header (blanking one would move its keys into the table above).
fn blank_line(text: &str, line: usize) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut found = false;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            if header_path(l).is_some() {
                return None;
            }
            found = true;
            out.push('#');
            out.push_str(&l[l.len().min(1)..].replace(|c: char| c != '\n', " "));
        } else {
            out.push_str(l);
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_is_one_problem_with_a_line() {
        let p = parse_file("a.toml", "[roles.clerk]\ndaily_limit = = 3\n");
        assert!(p.raw.is_none());
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].line, Some(2));
    }

    #[test]
    fn every_unknown_key_of_a_file_is_reported() {
        let text = "[purposes.a]\ndescription = \"x\"\nfoo = 1\nfields = { id_card = [\"photo\"] }\n\n[purposes.b]\nbar = 2\ndescription = \"y\"\nfields = { id_card = [\"photo\"] }\n";
        let p = parse_file("a.toml", text);
        let got: Vec<_> = p
            .problems
            .iter()
            .map(|p| (p.line, p.key.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(Some(3), "purposes.a.foo"), (Some(7), "purposes.b.bar")]
        );
        // Once the unknown keys are blanked the rest is usable for cross-checks.
        assert!(p.raw.is_some());
    }

    #[test]
    fn a_wrong_type_is_not_echoed_as_missing() {
        let text = "[purposes.a]\ndescription = 5\nfields = { id_card = [\"photo\"] }\n";
        let p = parse_file("a.toml", text);
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert_eq!(p.problems[0].key, "purposes.a.description");
        assert_eq!(p.problems[0].line, Some(2));
    }
}
