//! Problems found in policy files, each naming file, line and key.

use std::fmt;
use std::ops::Range;

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyProblem {
    /// The file as named to the loader (empty when the set as a whole is at fault).
    pub file: String,
    /// 1-based line, where one can be named.
    pub line: Option<usize>,
    /// Dotted key, e.g. `roles.clerk.documents`.
    pub key: String,
    /// What is wrong, for a human.
    pub message: String,
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file:line: key: message`, the shape editors and CI logs link to.
        if !self.file.is_empty() {
            f.write_str(&self.file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        }
        if !self.key.is_empty() {
            write!(f, "{}: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem of a refused policy set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyProblem>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// The 1-based line holding byte `offset` of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The line of a span's start, if there is a span.
pub(crate) fn span_line(text: &str, span: Option<Range<usize>>) -> Option<usize> {
    span.map(|s| line_of(text, s.start))
}

/// The table path of a header line (`[a.b]` or `[[a.b]]`), if it is one.
pub(crate) fn header_path(line: &str) -> Option<String> {
    let t = line.trim_start();
    if !t.starts_with('[') {
        return None;
    }
    let inner = t.trim_start_matches('[');
    let end = inner.find(']')?;
    Some(
        inner[..end]
            .split('.')
            .map(|part| part.trim().trim_matches('"'))
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The dotted key at a 1-based line: the enclosing table plus the key set on
/// that line (or on the nearest line above it, for multi-line values).
///
/// TOML errors carry only a byte span; this recovers the key the way a reader
/// of the file would, from the nearest header and assignment above the span.
pub(crate) fn key_at_line(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().take(line).collect();
    let mut leaf: Option<String> = None;
    for l in lines.iter().rev() {
        if let Some(path) = header_path(l) {
            return match leaf {
                Some(k) if !path.is_empty() => format!("{path}.{k}"),
                Some(k) => k,
                None => path,
            };
        }
        if leaf.is_none() {
            let code = l.split('#').next().unwrap_or("");
            if let Some((k, _)) = code.split_once('=') {
                leaf = Some(
                    k.split('.')
                        .map(|part| part.trim().trim_matches('"'))
                        .collect::<Vec<_>>()
                        .join("."),
                );
            }
        }
    }
    leaf.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_key() {
        let p = PolicyProblem {
            file: "policies/extra.toml".into(),
            line: Some(12),
            key: "roles.clerk.documents".into(),
            message: "unknown document \"passport\"".into(),
        };
        assert_eq!(
            p.to_string(),
            "policies/extra.toml:12: roles.clerk.documents: unknown document \"passport\""
        );
        let errs = PolicyErrors(vec![p.clone(), p]);
        assert_eq!(errs.to_string().lines().count(), 2);
    }

    #[test]
    fn key_at_line_follows_headers_and_multiline_values() {
        let text =
            "top = 1\n[roles.clerk]\ndocuments = [\n  \"x\",\n]\n[global.login]\nlock_after = 3\n";
        assert_eq!(key_at_line(text, 1), "top");
        assert_eq!(key_at_line(text, 2), "roles.clerk");
        assert_eq!(key_at_line(text, 4), "roles.clerk.documents");
        assert_eq!(key_at_line(text, 7), "global.login.lock_after");
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 8), 2);
    }
}
