//! The integrator and the witness client: folds new audit records into the
//! Merkle tree in batches, signs a checkpoint after each batch, and pushes
//! it to the configured witnesses (C2SP tlog-witness), storing their
//! cosignatures. A refused checkpoint raises the alarm (metric, error log,
//! `/readyz`); a witness that is down only grows the backlog.
//!
//! Every replica runs this task; the store's integrator lock (an advisory
//! lock on PostgreSQL, the write lock on SQLite) lets one work at a time.
//!
//! Liveness: at least every `checkpoint_refresh_secs`, even with no new
//! record, the latest checkpoint is signed again and pushed to every
//! witness whose cosignature of it is older than that; the witness cosigns
//! it afresh (C2SP allows the same size again) with a new timestamp. Ed25519
//! signatures are deterministic, so a re-signed checkpoint of the same tree
//! is byte-identical: storage keeps one checkpoint per tree size and one
//! cosignature per size and witness (the latest replaces the one before),
//! so an idle log stores nothing new while its cosignatures stay fresh.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use okaz_core::ports::{Store, StoreError};
use okaz_core::tlog::{self, TreeHead};
use okaz_tlog::note::{Note, Signer, Verifier};

use crate::config::{AuditConfig, ConfigError};

/// Records folded into the tree per transaction.
pub const BATCH: usize = 2000;

/// Why the log's keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    /// The key file could not be read.
    #[error(transparent)]
    Read(#[from] ConfigError),
    /// The key file is readable by group or others.
    #[error("{0}: the log key file must not be readable by group or others (chmod 600)")]
    Permissions(String),
    /// The key or a witness key does not parse.
    #[error("{0}: {1}")]
    Key(String, okaz_tlog::note::NoteError),
    /// The witness client could not be built.
    #[error("witness client: {0}")]
    Transport(String),
    /// The key is not this log's.
    #[error("the log key is named {0} but [audit] origin is {1}")]
    Origin(String, String),
}

/// Reads the log's signing key: refused if missing (a new key would fork
/// the log), readable by others, or named for another origin.
pub fn load_log_key(cfg: &AuditConfig) -> Result<Signer, LogKeyError> {
    let path = cfg.log_key_file.display().to_string();
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(&cfg.log_key_file) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(LogKeyError::Permissions(path));
        }
    }
    let text = crate::config::read_secret(&cfg.log_key_file)?;
    let text = String::from_utf8_lossy(&text);
    let signer = Signer::parse(&text).map_err(|e| LogKeyError::Key(path, e))?;
    if signer.name() != cfg.origin {
        return Err(LogKeyError::Origin(
            signer.name().to_string(),
            cfg.origin.clone(),
        ));
    }
    Ok(signer)
}

/// Creates a new log key file (mode 600); refuses to overwrite one.
pub fn init_log_key(path: &std::path::Path, origin: &str) -> Result<String, std::io::Error> {
    use std::io::Write;
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, seed.as_mut());
    let signer = Signer::from_seed(origin, seed.as_ref())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(signer.encode().as_bytes())?;
    f.write_all(b"\n")?;
    Ok(signer.verifier())
}

/// A witness the broker pushes checkpoints to.
pub struct Witness {
    /// Its `add-checkpoint` URL.
    pub url: String,
    /// Its cosigner key.
    pub key: Verifier,
}

/// What the integrator has seen, for metrics and `/readyz`.
#[derive(Default)]
pub struct TlogStatus {
    /// Set when a witness refused a checkpoint; cleared by nothing but a
    /// restart after an operator looked (a fork is never routine).
    pub alarm: AtomicBool,
    /// Checkpoints witnesses refused.
    pub refusals: AtomicU64,
    /// Witnesses whose latest cosignature is behind the latest checkpoint.
    pub backlog: AtomicU64,
    /// Records integrated by this process.
    pub integrated: AtomicU64,
    /// Tree size last seen.
    pub size: AtomicU64,
    /// When this process last signed a checkpoint (Unix seconds; 0: never).
    pub signed_at: AtomicU64,
}

impl TlogStatus {
    /// Prometheus lines.
    pub fn render(&self) -> String {
        format!(
            "# TYPE okaz_tlog_witness_alarm gauge\nokaz_tlog_witness_alarm {}\n\
             # TYPE okaz_tlog_witness_refusals_total counter\nokaz_tlog_witness_refusals_total {}\n\
             # TYPE okaz_tlog_witness_backlog gauge\nokaz_tlog_witness_backlog {}\n\
             # TYPE okaz_tlog_integrated_total counter\nokaz_tlog_integrated_total {}\n\
             # TYPE okaz_tlog_tree_size gauge\nokaz_tlog_tree_size {}\n\
             # TYPE okaz_tlog_checkpoint_signed_timestamp_seconds gauge\n\
             okaz_tlog_checkpoint_signed_timestamp_seconds {}\n",
            u8::from(self.alarm.load(Ordering::Relaxed)),
            self.refusals.load(Ordering::Relaxed),
            self.backlog.load(Ordering::Relaxed),
            self.integrated.load(Ordering::Relaxed),
            self.size.load(Ordering::Relaxed),
            self.signed_at.load(Ordering::Relaxed),
        )
    }
}

/// The integrator, the log key and the witnesses.
pub struct Transparency {
    store: Arc<dyn Store>,
    signer: Signer,
    origin: String,
    witnesses: Vec<Witness>,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// What it has seen.
    pub status: TlogStatus,
    interval: Duration,
    refresh: u64,
}

/// What an integration pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// The tree after it (none if another integrator held the lock).
    pub head: Option<TreeHead>,
    /// Records added.
    pub added: u64,
}

impl Transparency {
    /// Builds the integrator from `[audit]`; fails if the key is missing.
    pub fn new(cfg: &AuditConfig, store: Arc<dyn Store>) -> Result<Transparency, LogKeyError> {
        let signer = load_log_key(cfg)?;
        let witnesses = cfg
            .witnesses
            .iter()
            .map(|w| {
                Ok(Witness {
                    url: w.url.clone(),
                    key: Verifier::parse(&w.key).map_err(|e| LogKeyError::Key(w.url.clone(), e))?,
                })
            })
            .collect::<Result<Vec<_>, LogKeyError>>()?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(3)));
        // Witnesses over https (public roots) or plain http: what a witness
        // signs is checked with its key, so the transport adds privacy only.
        let http = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| LogKeyError::Transport(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Transparency {
            store,
            signer,
            origin: cfg.origin.clone(),
            witnesses,
            http: Client::builder(TokioExecutor::new()).build(http),
            status: TlogStatus::default(),
            interval: Duration::from_millis(cfg.checkpoint_interval_ms.max(50)),
            refresh: cfg.checkpoint_refresh_secs.max(1),
        })
    }

    /// The log's public key (signed-note verifier format).
    pub fn verifier(&self) -> String {
        self.signer.verifier()
    }

    /// The log key, for receipts.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Integrates every pending record, signs a checkpoint if the tree
    /// grew (or signs the latest again once `checkpoint_refresh_secs` have
    /// passed), and pushes the latest checkpoint to every witness behind it
    /// or whose cosignature of it is that old.
    pub async fn run_once(&self) -> Result<Pass, StoreError> {
        let mut head = None;
        let mut added = 0u64;
        loop {
            match self.store.integrate(BATCH).await? {
                None => break,
                Some((h, n)) => {
                    head = Some(h);
                    added += n as u64;
                    if n < BATCH {
                        break;
                    }
                }
            }
        }
        self.status.integrated.fetch_add(added, Ordering::Relaxed);
        let now = unix_now();
        let latest = self.store.checkpoints(1).await?;
        let latest_size = latest.first().map(|c| c.size);
        if let Some(h) = head {
            self.status.size.store(h.size, Ordering::Relaxed);
            if h.size > 0 && latest_size != Some(h.size) {
                let note = tlog::sign_checkpoint(&self.signer, &self.origin, h);
                self.store.save_checkpoint(h.size, &note.render()).await?;
                self.status.signed_at.store(now, Ordering::Relaxed);
            }
        }
        if let Some(size) = latest_size.filter(|_| self.due(&self.status.signed_at, now)) {
            self.resign(size, head, latest.first()).await?;
            self.status.signed_at.store(now, Ordering::Relaxed);
        }
        self.push_all(now).await?;
        Ok(Pass { head, added })
    }

    /// Whether `checkpoint_refresh_secs` have passed since `at` (Unix seconds).
    fn due(&self, at: &AtomicU64, now: u64) -> bool {
        now.saturating_sub(at.load(Ordering::Relaxed)) >= self.refresh
    }

    /// Signs the latest checkpoint again, from the stored tree. The same
    /// tree gives the same bytes (Ed25519 is deterministic), so nothing new
    /// is stored; a different note for the same size would mean the stored
    /// tree changed under the log, which is logged loudly.
    async fn resign(
        &self,
        size: u64,
        head: Option<TreeHead>,
        stored: Option<&tlog::StoredCheckpoint>,
    ) -> Result<(), StoreError> {
        let root = match head.filter(|h| h.size == size) {
            Some(h) => h.root,
            None => match tlog::stored_root(self.store.as_ref(), size).await {
                Ok(r) => r,
                Err(tlog::TrailError::Store(e)) => return Err(e),
                Err(e) => return Err(StoreError::Corrupt(format!("audit tree: {e}"))),
            },
        };
        let note = tlog::sign_checkpoint(&self.signer, &self.origin, TreeHead { size, root });
        if stored.is_some_and(|c| c.note != note.render()) {
            tracing::error!(
                size,
                "ALARM: the stored tree no longer matches the checkpoint signed for its size"
            );
            self.status.alarm.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Pushes the latest checkpoint to each witness that has not cosigned
    /// it, or whose cosignature of it is `checkpoint_refresh_secs` old.
    async fn push_all(&self, now: u64) -> Result<(), StoreError> {
        let cps = self.store.checkpoints(1000).await?;
        let Some(latest) = cps.first() else {
            return Ok(());
        };
        let mut behind = 0u64;
        for w in &self.witnesses {
            if let Some(at) = cosigned_at(latest, w) {
                if now.saturating_sub(at) < self.refresh {
                    continue;
                }
            }
            let old = cps
                .iter()
                .find(|c| c.cosignatures.iter().any(|(n, _)| n == &w.key.name))
                .map_or(0, |c| c.size);
            match self.push(w, old, latest).await {
                Ok(()) => {}
                Err(PushError::Unreachable(why)) => {
                    behind += 1;
                    tracing::warn!(witness = %w.url, %why, "witness unreachable; checkpoint queued");
                }
                Err(PushError::Refused(status, why)) => {
                    behind += 1;
                    self.status.alarm.store(true, Ordering::Relaxed);
                    self.status.refusals.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(
                        witness = %w.url,
                        size = latest.size,
                        status,
                        %why,
                        "ALARM: a witness refused the audit log's checkpoint (rollback or fork?)"
                    );
                }
                Err(PushError::Store(e)) => return Err(e),
            }
        }
        self.status.backlog.store(behind, Ordering::Relaxed);
        Ok(())
    }

    async fn push(
        &self,
        w: &Witness,
        mut old: u64,
        cp: &tlog::StoredCheckpoint,
    ) -> Result<(), PushError> {
        // One retry: a 409 tells us the size the witness holds.
        for _ in 0..2 {
            let proof = tlog::consistency(self.store.as_ref(), old, cp.size)
                .await
                .map_err(|e| match e {
                    tlog::TrailError::Store(s) => PushError::Store(s),
                    other => PushError::Refused(0, other.to_string()),
                })?;
            let mut body = format!("old {old}\n");
            for p in &proof {
                body.push_str(&B64.encode(p));
                body.push('\n');
            }
            body.push('\n');
            body.push_str(&cp.note);
            let req = http::Request::post(&w.url)
                .header("content-type", "text/plain")
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| PushError::Unreachable(e.to_string()))?;
            let resp = tokio::time::timeout(Duration::from_secs(5), self.http.request(req))
                .await
                .map_err(|_| PushError::Unreachable("timed out".into()))?
                .map_err(|e| PushError::Unreachable(e.to_string()))?;
            let status = resp.status().as_u16();
            let bytes = tokio::time::timeout(Duration::from_secs(5), resp.into_body().collect())
                .await
                .map_err(|_| PushError::Unreachable("timed out".into()))?
                .map_err(|e| PushError::Unreachable(e.to_string()))?
                .to_bytes();
            let text = String::from_utf8_lossy(&bytes).to_string();
            match status {
                200 => {
                    let note = Note::parse(&format!("{}\n{}", note_text(&cp.note)?, text))
                        .map_err(|e| PushError::Refused(200, e.to_string()))?;
                    w.key
                        .verify(&note)
                        .map_err(|e| PushError::Refused(200, e.to_string()))?;
                    for (name, sig) in note.signatures.iter().filter(|(n, _)| n == &w.key.name) {
                        self.store
                            .save_cosignature(cp.size, name, sig)
                            .await
                            .map_err(PushError::Store)?;
                    }
                    return Ok(());
                }
                409 => match text.trim().parse::<u64>() {
                    Ok(theirs) if theirs <= cp.size && theirs != old => old = theirs,
                    _ => return Err(PushError::Refused(409, text)),
                },
                500..=599 => return Err(PushError::Unreachable(format!("{status}: {text}"))),
                _ => return Err(PushError::Refused(status, text)),
            }
        }
        Err(PushError::Refused(409, "size conflict persists".into()))
    }

    /// Runs passes every interval until the process ends.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.run_once().await {
                    tracing::warn!(error = %e, "audit log integration failed; retrying");
                }
                tokio::time::sleep(self.interval).await;
            }
        })
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When witness `w` cosigned `cp` (its cosignature's timestamp), if it did.
fn cosigned_at(cp: &tlog::StoredCheckpoint, w: &Witness) -> Option<u64> {
    let (name, sig) = cp.cosignatures.iter().find(|(n, _)| n == &w.key.name)?;
    let mut note = Note::parse(&cp.note).ok()?;
    note.signatures = vec![(name.clone(), sig.clone())];
    w.key.verify(&note).ok()
}

fn note_text(note: &str) -> Result<String, PushError> {
    Note::parse(note)
        .map(|n| n.text)
        .map_err(|e| PushError::Refused(0, e.to_string()))
}

enum PushError {
    Unreachable(String),
    Refused(u16, String),
    Store(StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &std::path::Path) -> AuditConfig {
        AuditConfig {
            log_key_file: dir.join("log.key"),
            origin: "okaz.test/audit".into(),
            checkpoint_interval_ms: 1000,
            checkpoint_refresh_secs: 60,
            witnesses: Vec::new(),
        }
    }

    #[test]
    fn a_missing_open_or_foreign_log_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path());
        // Missing: refused, never silently created.
        assert!(matches!(load_log_key(&c), Err(LogKeyError::Read(_))));
        assert!(!c.log_key_file.exists());
        let public = init_log_key(&c.log_key_file, &c.origin).unwrap();
        assert_eq!(load_log_key(&c).unwrap().verifier(), public);
        // Never overwritten.
        assert!(init_log_key(&c.log_key_file, &c.origin).is_err());
        // Another origin's key.
        let mut other = c.clone();
        other.origin = "elsewhere/audit".into();
        assert!(matches!(load_log_key(&other), Err(LogKeyError::Origin(..))));
        // Readable by others.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&c.log_key_file, std::fs::Permissions::from_mode(0o644))
                .unwrap();
            assert!(matches!(load_log_key(&c), Err(LogKeyError::Permissions(_))));
        }
    }
}
