//! Loading a policy directory or a list of sources into one [`PolicySet`].

use std::fmt;
use std::path::Path;

use crate::model::PolicySet;
use crate::parse::parse_file;
use crate::problem::{PolicyErrors, PolicyProblem};
use crate::validate::validate;

impl PolicySet {
    /// Loads every `*.toml` of `dir` (not `Cargo.toml`), all or nothing.
    pub fn load_dir(dir: &Path) -> Result<PolicySet, PolicyErrors> {
        let sources = read_dir(dir)?;
        Self::from_sources(&sources).map_err(|e| name_set_problems(e, dir))
    }

    /// Loads policies from `(file name, text)` pairs, all or nothing.
    pub fn from_sources(sources: &[(String, String)]) -> Result<PolicySet, PolicyErrors> {
        let mut problems = Vec::new();
        let mut files = Vec::new();
        for (i, (name, text)) in sources.iter().enumerate() {
            let mut parsed = parse_file(name, text);
            problems.append(&mut parsed.problems);
            if let Some(raw) = parsed.raw {
                files.push((i, raw));
            }
        }
        validate(sources, files, problems).map_err(PolicyErrors)
    }
}

/// What a policy directory holds, for `check-policy` to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Policy files read.
    pub files: usize,
    /// Roles defined across them.
    pub roles: usize,
    /// Purposes defined across them.
    pub purposes: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "policies OK: {} files, {} roles, {} purposes",
            self.files, self.roles, self.purposes
        )
    }
}

/// Checks a policy directory offline, as the broker would at start-up.
pub fn check_dir(dir: &Path) -> Result<Summary, PolicyErrors> {
    let sources = read_dir(dir)?;
    let set = PolicySet::from_sources(&sources).map_err(|e| name_set_problems(e, dir))?;
    Ok(Summary {
        files: sources.len(),
        roles: set.roles.len(),
        purposes: set.purposes.len(),
    })
}

/// Reads the policy files of `dir`, in name order so problems list stably.
///
/// The `okaz-policy` crate lives in the policy directory itself (policy files
/// beside the code that checks them), so its `Cargo.toml` is skipped; the
/// crate's other files (`src/`, `tests/`) are in subdirectories, which are
/// not read.
fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, PolicyErrors> {
    let set_problem = |message: String| {
        PolicyErrors(vec![PolicyProblem {
            file: dir.display().to_string(),
            line: None,
            key: String::new(),
            message,
        }])
    };
    let entries = std::fs::read_dir(dir).map_err(|e| set_problem(format!("cannot read: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| set_problem(format!("cannot read: {e}")))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name.ends_with(".toml") && name != "Cargo.toml" {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(set_problem("no policy files (*.toml)".into()));
    }
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let name = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((name, text)),
            Err(e) => problems.push(PolicyProblem {
                file: name,
                line: None,
                key: String::new(),
                message: format!("cannot read: {e}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(PolicyErrors(problems))
    }
}

/// Problems of the set as a whole (e.g. no `[global]`) are named after the directory.
fn name_set_problems(mut e: PolicyErrors, dir: &Path) -> PolicyErrors {
    for p in &mut e.0 {
        if p.file.is_empty() {
            p.file = dir.display().to_string();
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn default_policy_loads() {
        let set = PolicySet::load_dir(shipped()).unwrap_or_else(|e| panic!("{e}"));
        for role in ["clerk", "verifier", "police", "security_officer"] {
            assert!(set.role(role).is_some(), "{role}");
        }
        let summary = check_dir(shipped()).unwrap();
        assert_eq!(summary.roles, set.roles.len());
        assert_eq!(summary.purposes, set.purposes.len());
        assert_eq!(summary.files, 1, "only default.toml; Cargo.toml is skipped");
    }

    #[test]
    fn load_dir_reads_every_toml_but_cargo_toml_and_names_paths() {
        let dir = tempfile::tempdir().unwrap();
        let default = std::fs::read_to_string(shipped().join("default.toml")).unwrap();
        std::fs::write(dir.path().join("default.toml"), default).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
        assert_eq!(check_dir(dir.path()).unwrap().files, 1);

        let extra = dir.path().join("extra.toml");
        std::fs::write(&extra, "[roles.clerk]\n").unwrap();
        let errs = check_dir(dir.path()).unwrap_err();
        let text = errs.to_string();
        assert!(
            text.contains(&format!("{}:1: roles.clerk", extra.display())),
            "{text}"
        );
    }

    #[test]
    fn an_empty_or_missing_dir_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let errs = PolicySet::load_dir(dir.path()).unwrap_err();
        assert!(errs.to_string().contains("no policy files"));
        let errs = PolicySet::load_dir(&dir.path().join("nope")).unwrap_err();
        assert!(errs.to_string().contains("cannot read"));
    }
}
