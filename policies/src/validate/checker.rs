//! The problems found while checking policy files, each named by file, line and key.

use std::ops::Range;

use toml::Spanned;

use crate::problem::{header_path, span_line, PolicyProblem};

/// The source texts and the problems found so far.
pub(super) struct Checker<'a> {
    pub(super) sources: &'a [(String, String)],
    pub(super) problems: Vec<PolicyProblem>,
}

impl Checker<'_> {
    /// Records one problem at `span` of `file` (no span: the file as a whole).
    pub(super) fn report(
        &mut self,
        file: usize,
        span: Option<Range<usize>>,
        key: String,
        message: String,
    ) {
        let (name, text) = match self.sources.get(file) {
            Some((n, t)) => (n.clone(), t.as_str()),
            None => (String::new(), ""),
        };
        self.problems.push(PolicyProblem {
            file: name,
            line: span_line(text, span),
            key,
            message,
        });
    }

    /// The name of `file`, empty for none.
    pub(super) fn name(&self, file: usize) -> &str {
        self.sources.get(file).map(|s| s.0.as_str()).unwrap_or("")
    }

    /// The line of `[header]` in a file, for tables serde gives no span for.
    pub(super) fn header_span(&self, file: usize, header: &str) -> Option<Range<usize>> {
        let text = self.sources.get(file)?.1.as_str();
        let mut offset = 0;
        for l in text.split_inclusive('\n') {
            if header_path(l).as_deref() == Some(header) {
                return Some(offset..offset);
            }
            offset += l.len();
        }
        None
    }
}

/// Reads an optional value within bounds, reporting one outside them.
pub(super) fn bounded<T: Copy + PartialOrd + std::fmt::Display>(
    c: &mut Checker<'_>,
    file: usize,
    key: &str,
    value: &Option<Spanned<T>>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> T {
    match value {
        None => default,
        Some(v) => {
            let x = *v.get_ref();
            if range.contains(&x) {
                x
            } else {
                let message = format!("{x} is outside {}..={}", range.start(), range.end());
                c.report(file, Some(v.span()), key.to_string(), message);
                default
            }
        }
    }
}
