//! The key directory (`[secrets] dir`): one file per job and version,
//! written by `okaz-server keys init` and `keys rotate`, read at start.
//!
//! ```text
//! pepper.key                 never rotated
//! challenge.1.key  challenge.2.key …    the highest version seals
//! cookie.1.key …   totp.1.key …   notice_outbox.1.key …
//! ```
//!
//! Each file holds 32 random bytes as 64 hex digits and is created with
//! mode 600 and never overwritten; a file group or others may read is
//! refused at start, naming it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use okaz_core::keyring::{KeyJob, KeyRing, KeyVersion, Keys};
use okaz_core::pseudonym::{SecretError, SecretKey};
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::config::{read_secret, ConfigError, SecretsConfig};

/// Why the key directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// No `[secrets] dir`.
    #[error("[secrets] dir is not set: it names the directory of key files (`okaz-server keys init` writes them)")]
    NoDir,
    /// The first stage's single master key is still configured.
    #[error(
        "[secrets] master_key_file is no longer used: each job now has its own key. Set [secrets] dir, \
         run `okaz-server keys init --from-master {0}` once (it keeps pseudonyms, activations and open \
         challenges valid and encrypts the TOTP secrets), then remove master_key_file"
    )]
    MasterKey(PathBuf),
    /// A file could not be read, or is exposed.
    #[error(transparent)]
    Read(#[from] ConfigError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file does not hold a key.
    #[error("{0}: a key file holds 64 hex digits (32 bytes) or more")]
    Malformed(PathBuf),
    /// A job has no key file.
    #[error("{dir}: no {job} key file ({expected}); `okaz-server keys init` writes them")]
    Missing {
        /// The directory.
        dir: PathBuf,
        /// The job.
        job: &'static str,
        /// The file name looked for.
        expected: String,
    },
    /// `keys init` would overwrite keys.
    #[error("{0}: key files exist already; `keys init` never overwrites them (use `keys rotate`)")]
    Exists(PathBuf),
    /// Key material refused.
    #[error("{path}: {source}")]
    Secret {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: SecretError,
    },
    /// A ring could not be built.
    #[error(transparent)]
    Ring(#[from] okaz_core::keyring::KeyError),
    /// The pepper cannot rotate.
    #[error(
        "the pseudonym pepper cannot be rotated: every citizen's pseudonym is HMAC(pepper, PESEL), \
         so a new pepper would orphan every activation and make the audit trail unsearchable by \
         PESEL; it would need every citizen re-pseudonymised, which the broker cannot do without \
         their PESELs (it never stores them)"
    )]
    PepperRotation,
}

/// Where the key files are and how they are named.
#[derive(Debug, Clone)]
pub struct KeyDir {
    /// The directory.
    pub dir: PathBuf,
    /// A prefix before each name (systemd credentials).
    pub prefix: String,
}

impl KeyDir {
    /// From `[secrets]`, refusing the first stage's master key.
    pub fn from_config(cfg: &SecretsConfig) -> Result<KeyDir, KeyFileError> {
        if let Some(master) = &cfg.master_key_file {
            return Err(KeyFileError::MasterKey(master.clone()));
        }
        let dir = cfg.dir.clone().ok_or(KeyFileError::NoDir)?;
        Ok(KeyDir {
            dir,
            prefix: cfg.file_prefix.clone(),
        })
    }

    /// The file of a job's version (`None` for the pepper).
    pub fn path(&self, job: KeyJob, version: Option<KeyVersion>) -> PathBuf {
        let name = match version {
            None => format!("{}{}.key", self.prefix, job.name()),
            Some(v) => format!("{}{}.{v}.key", self.prefix, job.name()),
        };
        self.dir.join(name)
    }

    /// The versions of each rotatable job found in the directory.
    fn versions(&self) -> Result<BTreeMap<KeyJob, Vec<KeyVersion>>, KeyFileError> {
        let mut found: BTreeMap<KeyJob, Vec<KeyVersion>> = BTreeMap::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|source| ConfigError::Read {
            path: self.dir.clone(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(rest) = name.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            let Some(stem) = rest.strip_suffix(".key") else {
                continue;
            };
            let Some((job, v)) = stem.rsplit_once('.') else {
                continue;
            };
            let (Some(job), Ok(v)) = (
                KeyJob::ALL
                    .into_iter()
                    .find(|j| j.rotates() && j.name() == job),
                v.parse::<KeyVersion>(),
            ) else {
                continue;
            };
            if v > 0 {
                found.entry(job).or_default().push(v);
            }
        }
        for v in found.values_mut() {
            v.sort_unstable();
        }
        Ok(found)
    }

    fn read_key(&self, path: &Path) -> Result<SecretKey, KeyFileError> {
        let text = Zeroizing::new(read_secret(path)?);
        let text = std::str::from_utf8(&text).map_err(|_| KeyFileError::Malformed(path.into()))?;
        let bytes = Zeroizing::new(
            hex::decode(text.trim()).map_err(|_| KeyFileError::Malformed(path.into()))?,
        );
        if bytes.len() < 32 {
            return Err(KeyFileError::Malformed(path.into()));
        }
        SecretKey::new(bytes.to_vec()).map_err(|source| KeyFileError::Secret {
            path: path.into(),
            source,
        })
    }

    /// Loads every job's key (every version of those that rotate).
    pub fn load(&self) -> Result<Keys, KeyFileError> {
        let pepper_path = self.path(KeyJob::Pepper, None);
        if !pepper_path.exists() {
            return Err(self.missing(KeyJob::Pepper, "pepper.key"));
        }
        let pepper = self.read_key(&pepper_path)?;
        let versions = self.versions()?;
        let ring = |job: KeyJob| -> Result<KeyRing, KeyFileError> {
            let vs = versions.get(&job).cloned().unwrap_or_default();
            if vs.is_empty() {
                return Err(self.missing(job, &format!("{}.1.key", job.name())));
            }
            let keys = vs
                .into_iter()
                .map(|v| Ok((v, self.read_key(&self.path(job, Some(v)))?)))
                .collect::<Result<Vec<_>, KeyFileError>>()?;
            Ok(KeyRing::new(job.name(), keys)?)
        };
        Ok(Keys {
            pepper,
            challenge: ring(KeyJob::Challenge)?,
            cookie: ring(KeyJob::Cookie)?,
            totp: ring(KeyJob::Totp)?,
            notice_outbox: ring(KeyJob::NoticeOutbox)?,
        })
    }

    fn missing(&self, job: KeyJob, expected: &str) -> KeyFileError {
        KeyFileError::Missing {
            dir: self.dir.clone(),
            job: job.name(),
            expected: format!("{}{expected}", self.prefix),
        }
    }

    /// Writes the first version of every key (the pepper, challenge and
    /// cookie keys from the first stage's master secret when given, so
    /// what existed stays valid). Refuses if any key file exists.
    pub fn init(&self, master: Option<&SecretKey>) -> Result<Vec<PathBuf>, KeyFileError> {
        create_private_dir(&self.dir)?;
        let pepper = self.path(KeyJob::Pepper, None);
        if pepper.exists() {
            return Err(KeyFileError::Exists(pepper));
        }
        if let Some(job) = self.versions()?.keys().next() {
            return Err(KeyFileError::Exists(self.path(*job, Some(1))));
        }
        let legacy = master.map(Keys::legacy_material);
        let mut written = Vec::new();
        for job in KeyJob::ALL {
            let material = match (&legacy, job) {
                (Some(l), KeyJob::Pepper) => Zeroizing::new(l.pepper.to_vec()),
                (Some(l), KeyJob::Challenge) => Zeroizing::new(l.challenge.to_vec()),
                (Some(l), KeyJob::Cookie) => Zeroizing::new(l.cookie.to_vec()),
                _ => fresh(),
            };
            let path = self.path(job, job.rotates().then_some(1));
            write_new_private(&path, &material)?;
            written.push(path);
        }
        Ok(written)
    }

    /// Adds the next version of every rotatable key (or of `only`); the
    /// pepper is refused. Old versions stay: they open what they sealed.
    pub fn rotate(&self, only: Option<KeyJob>) -> Result<Vec<PathBuf>, KeyFileError> {
        if only == Some(KeyJob::Pepper) {
            return Err(KeyFileError::PepperRotation);
        }
        // Everything must load first: never add a version beside a broken set.
        self.load()?;
        let versions = self.versions()?;
        let mut written = Vec::new();
        for job in KeyJob::ALL.into_iter().filter(|j| j.rotates()) {
            if only.is_some_and(|o| o != job) {
                continue;
            }
            let next = versions
                .get(&job)
                .and_then(|v| v.last())
                .copied()
                .unwrap_or(0)
                + 1;
            let path = self.path(job, Some(next));
            write_new_private(&path, &fresh())?;
            written.push(path);
        }
        Ok(written)
    }
}

fn fresh() -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(vec![0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

fn create_private_dir(dir: &Path) -> Result<(), KeyFileError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| KeyFileError::Write {
        path: dir.into(),
        source,
    })
}

/// Creates a file with mode 600 holding the key as hex; never overwrites.
pub fn write_new_private(path: &Path, material: &[u8]) -> Result<(), KeyFileError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let err = |source| KeyFileError::Write {
        path: path.into(),
        source,
    };
    let mut f = options.open(path).map_err(err)?;
    let text = Zeroizing::new(format!("{}\n", hex::encode(material)));
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, KeyDir) {
        let t = tempfile::tempdir().unwrap();
        let k = KeyDir {
            dir: t.path().join("keys"),
            prefix: String::new(),
        };
        (t, k)
    }

    #[test]
    fn init_writes_private_files_once_and_rotate_adds_versions() {
        let (_t, k) = dir();
        let written = k.init(None).unwrap();
        assert_eq!(written.len(), 5);
        #[cfg(unix)]
        for p in &written {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        assert!(matches!(k.init(None), Err(KeyFileError::Exists(_))));
        let keys = k.load().unwrap();
        assert_eq!(keys.challenge.versions(), vec![1]);
        let mac = keys.challenge.mac(&[b"x"]);
        k.rotate(None).unwrap();
        let rotated = k.load().unwrap();
        for ring in [
            &rotated.challenge,
            &rotated.cookie,
            &rotated.totp,
            &rotated.notice_outbox,
        ] {
            assert_eq!(ring.versions(), vec![1, 2]);
        }
        assert!(rotated.challenge.verify(&[b"x"], &mac));
        assert_eq!(
            rotated.pepper.mac(&[b"p"]),
            keys.pepper.mac(&[b"p"]),
            "the pepper never changes"
        );
        assert!(matches!(
            k.rotate(Some(KeyJob::Pepper)),
            Err(KeyFileError::PepperRotation)
        ));
        k.rotate(Some(KeyJob::Totp)).unwrap();
        let again = k.load().unwrap();
        assert_eq!(again.totp.versions(), vec![1, 2, 3]);
        assert_eq!(again.challenge.versions(), vec![1, 2]);
    }

    #[cfg(unix)]
    #[test]
    fn an_exposed_key_file_is_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let (_t, k) = dir();
        k.init(None).unwrap();
        let cookie = k.path(KeyJob::Cookie, Some(1));
        std::fs::set_permissions(&cookie, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = k.load().unwrap_err().to_string();
        assert!(err.contains(&cookie.display().to_string()), "{err}");
        assert!(err.contains("group or others"), "{err}");
    }

    #[test]
    fn the_master_key_is_refused_with_the_way_out_and_from_master_keeps_pseudonyms() {
        let (t, k) = dir();
        let cfg = SecretsConfig {
            dir: Some(k.dir.clone()),
            file_prefix: String::new(),
            master_key_file: Some(t.path().join("master.key")),
        };
        let err = KeyDir::from_config(&cfg).unwrap_err().to_string();
        assert!(err.contains("keys init --from-master"), "{err}");
        let master = SecretKey::new(vec![5; 32]).unwrap();
        k.init(Some(&master)).unwrap();
        let keys = k.load().unwrap();
        let old_pepper = master.derive("okaz/pepper").unwrap();
        let pesel = okaz_protocol::Pesel::parse("44051401359").unwrap();
        assert_eq!(
            okaz_core::pseudonym::Pseudonym::of(&keys.pepper, &pesel),
            okaz_core::pseudonym::Pseudonym::of(&old_pepper, &pesel)
        );
        // A code MAC made by the first stage (bare, under the derived key) still matches.
        let old_challenge = master.derive("okaz/challenge").unwrap();
        let bare = old_challenge.mac(&[b"challenge-code", b"c1", b"123456"]);
        assert!(okaz_core::consent::code_matches(
            &keys.challenge,
            "c1",
            "123456",
            &bare
        ));
        // The TOTP key is new, not derived from the master.
        assert_ne!(keys.totp.current().1.mac(&[b"t"]), master.mac(&[b"t"]));
    }

    #[test]
    fn a_systemd_prefix_is_honoured() {
        let t = tempfile::tempdir().unwrap();
        let k = KeyDir {
            dir: t.path().to_path_buf(),
            prefix: "okaz-keys_".into(),
        };
        k.init(None).unwrap();
        assert!(t.path().join("okaz-keys_pepper.key").exists());
        assert!(t.path().join("okaz-keys_challenge.1.key").exists());
        k.load().unwrap();
    }
}
