//! Delivering citizens' notices (see `okaz_core::notice`): the `[notices]`
//! configuration and its key file, the in-memory queue that sends consent
//! checks' notices at once, and the outbox worker (one on every replica)
//! that sends police checks' notices once due.
//!
//! Chosen design: a consent check's notice goes through a bounded
//! in-process queue only (the PESEL is in memory at release; nothing about
//! it is written, and the release's own transaction reads the citizen's
//! channel choices, so the check costs no extra transaction). It is retried
//! with backoff in memory; a replica that dies with notices queued loses
//! them, which the metric and the history page (where every check is)
//! soften. A police check's notice must outlive replicas for a day, so it
//! waits sealed in the outbox, inserted in the release's transaction and
//! deleted once sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Semaphore};

use crate::config::{ConfigError, NoticesConfig};
use crate::metrics::Metrics;
use okaz_core::broker::Broker;
use okaz_core::notice::{self, Notice, NoticeKey, NoticePrefs, NoticeQueue, Notices};
use okaz_core::ports::{
    OsRandom, RandomSource, RegisterFailure, Registers, SmsGateway, Store, StoreError,
};
use okaz_core::pseudonym::{Pseudonym, SecretKey};
use okaz_portal::i18n::{self, Lang};
use okaz_registry::mail::{MailConfig, MailGateway};

/// Why notices could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NoticesError {
    /// A file it names is unreadable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The mail client could not be built.
    #[error("mail client: {0}")]
    Mail(String),
}

/// The notice key: the key set's `notice_outbox` ring (its own key file,
/// not the pepper, not the challenge key; see `okaz-server keys init`).
/// Losing it loses the notices waiting in the outbox and invalidates
/// links already sent (disputes stay possible from the history page).
pub fn notice_key(broker: &Broker) -> NoticeKey {
    NoticeKey::new(broker.keys.notice_outbox.clone())
}

/// Delivers one notice on the channels the contact register and the
/// citizen's choices give.
pub struct Delivery {
    registers: Arc<dyn Registers>,
    sms: Arc<dyn SmsGateway>,
    mail: Option<MailGateway>,
    /// The portal's public URL, where dispute links point.
    link_base: Option<url::Url>,
    key: NoticeKey,
    pepper: SecretKey,
    store: Arc<dyn Store>,
    random: Arc<dyn RandomSource>,
    metrics: Metrics,
}

impl Delivery {
    /// The delivery of notices for this broker.
    pub fn new(
        cfg: &NoticesConfig,
        broker: &Broker,
        key: NoticeKey,
        link_base: Option<url::Url>,
        metrics: &Metrics,
    ) -> Result<Delivery, NoticesError> {
        let mail = match &cfg.mail_url {
            None => None,
            Some(url) => {
                let ca_pem = cfg
                    .mail_ca_file
                    .as_deref()
                    .map(|p| {
                        std::fs::read(p).map_err(|source| ConfigError::Read {
                            path: p.to_path_buf(),
                            source,
                        })
                    })
                    .transpose()?;
                Some(
                    MailGateway::new(MailConfig {
                        url: url.clone(),
                        ca_pem,
                        timeout: Duration::from_secs(5),
                    })
                    .map_err(|e| NoticesError::Mail(e.to_string()))?,
                )
            }
        };
        Ok(Delivery {
            registers: broker.registers.clone(),
            sms: broker.sms.clone(),
            mail,
            link_base,
            key,
            pepper: broker.keys.pepper.clone(),
            store: broker.store.clone(),
            random: Arc::new(OsRandom),
            metrics: metrics.clone(),
        })
    }

    /// The dispute link of a check.
    pub fn link(&self, verification: &str) -> String {
        self.on_portal(notice::dispute_path(&self.key, verification))
    }

    /// The citizen's history page.
    pub fn history_link(&self) -> String {
        self.on_portal("citizen/history".to_string())
    }

    /// A path below the portal's public URL (the bare path without one).
    fn on_portal(&self, path: String) -> String {
        match self.link_base.as_ref().and_then(|b| b.join(&path).ok()) {
            Some(u) => u.to_string(),
            None => path,
        }
    }

    /// Sends the notice on every wanted channel not yet done, marking each
    /// done in `n` as it succeeds; `true` once nothing is left to send (a
    /// citizen without contact, or reserved against it, has nothing to
    /// receive). A failure is counted and left for the caller to retry.
    pub async fn deliver(&self, n: &mut Notice, prefs: NoticePrefs) -> bool {
        let contact = match self.registers.contact(&n.pesel).await {
            Ok(c) if !c.reserved => c,
            Ok(_) | Err(RegisterFailure::NotFound(_)) => return true,
            Err(RegisterFailure::Unavailable { .. }) => {
                self.metrics.notice("any", "failed");
                return false;
            }
        };
        let words = notice::Words {
            purpose: (
                i18n::purpose(Lang::Pl, &n.purpose),
                i18n::purpose(Lang::En, &n.purpose),
            ),
            refusal: n
                .refused
                .as_deref()
                .map(|code| (i18n::refusal(Lang::Pl, code), i18n::refusal(Lang::En, code))),
        };
        // A refused check has no release to dispute: its notice points to
        // the history page.
        let link = match n.refused {
            Some(_) => self.history_link(),
            None => self.link(&n.verification),
        };
        let text = notice::text(n, &words, &link);
        if !prefs.sms || contact.phone.is_none() {
            n.sms_sent = true;
        }
        if let (false, Some(phone)) = (n.sms_sent, contact.phone.as_deref()) {
            match self.sms.send(phone, &text, None).await {
                Ok(()) => {
                    n.sms_sent = true;
                    self.metrics.notice("sms", "sent");
                }
                Err(e) => {
                    tracing::warn!(error = %e, verification = %n.verification, "notice SMS not sent");
                    self.metrics.notice("sms", "failed");
                }
            }
        }
        if !prefs.email || contact.email.is_none() || self.mail.is_none() {
            n.email_sent = true;
        }
        if let (false, Some(to), Some(mail)) =
            (n.email_sent, contact.email.as_deref(), self.mail.as_ref())
        {
            match mail.send(to, &notice::subject(n), &text).await {
                Ok(()) => {
                    n.email_sent = true;
                    self.metrics.notice("email", "sent");
                }
                Err(e) => {
                    tracing::warn!(error = %e, verification = %n.verification, "notice e-mail not sent");
                    self.metrics.notice("email", "failed");
                }
            }
        }
        n.sms_sent && n.email_sent
    }

    /// One pass of the outbox worker at `now`: claims due rows, delivers
    /// each, deletes the sent ones and puts the failed ones back with
    /// backoff.
    pub async fn run_outbox_once(&self, now: DateTime<Utc>) -> Result<OutboxPass, StoreError> {
        let lease = now + chrono::Duration::minutes(5);
        let rows = self.store.claim_due_notices(now, lease, 100).await?;
        let mut pass = OutboxPass::default();
        for row in rows {
            let Some(mut n) = self.key.open(&row.id, &row.sealed) else {
                // Sealed under another key or damaged: it can never be
                // sent, and must not be retried for ever.
                tracing::error!(row = %row.id, "an outbox notice does not open; deleted");
                self.metrics.notice("any", "unreadable");
                self.store.delete_notice(&row.id).await?;
                pass.unreadable += 1;
                continue;
            };
            let prefs = self
                .store
                .notice_prefs(&Pseudonym::of(&self.pepper, &n.pesel))
                .await?;
            if self.deliver(&mut n, prefs).await {
                self.store.delete_notice(&row.id).await?;
                pass.sent += 1;
                continue;
            }
            let attempts = row.attempts.saturating_add(1);
            let next =
                now + chrono::Duration::from_std(notice::backoff(attempts)).unwrap_or_default();
            let mut nonce = [0u8; 12];
            self.random.fill(&mut nonce);
            // Re-sealed so the channels already done are not sent twice.
            let sealed = self.key.seal(&row.id, &n, nonce).unwrap_or(row.sealed);
            self.store
                .retry_notice(&row.id, attempts, next, sealed)
                .await?;
            pass.retried += 1;
        }
        Ok(pass)
    }
}

/// What one outbox pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxPass {
    /// Rows sent and deleted.
    pub sent: u32,
    /// Rows that failed and wait for their next try.
    pub retried: u32,
    /// Rows that did not open and were deleted.
    pub unreadable: u32,
}

/// The in-memory queue of consent checks' notices.
struct MemoryQueue {
    tx: mpsc::Sender<(Notice, NoticePrefs)>,
    metrics: Metrics,
}

impl NoticeQueue for MemoryQueue {
    fn push(&self, notice: Notice, prefs: NoticePrefs) {
        if self.tx.try_send((notice, prefs)).is_err() {
            tracing::warn!("notice queue full; a notice was dropped");
            self.metrics.notice("any", "dropped");
        }
    }
}

/// How many notices from memory are delivered at once.
const CONCURRENT: usize = 16;

/// Delivers queued notices, each retried with backoff (1 s doubling, at
/// most a minute) up to `attempts` tries.
async fn memory_worker(
    mut rx: mpsc::Receiver<(Notice, NoticePrefs)>,
    delivery: Arc<Delivery>,
    attempts: u32,
) {
    let slots = Arc::new(Semaphore::new(CONCURRENT));
    while let Some((mut n, prefs)) = rx.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let delivery = delivery.clone();
        tokio::spawn(async move {
            let _permit = permit;
            for attempt in 0..attempts.max(1) {
                if delivery.deliver(&mut n, prefs).await {
                    return;
                }
                let wait = Duration::from_secs(1u64 << attempt.min(6)).min(Duration::from_secs(60));
                tokio::time::sleep(wait).await;
            }
            tracing::warn!(verification = %n.verification, "notice given up");
            delivery.metrics.notice("any", "given_up");
        });
    }
}

/// Gives the broker its notices when `[notices]` is configured, and starts
/// the worker of its in-memory queue; the outbox worker is separate
/// ([`outbox_worker`]), so the test kit can run it on demand.
pub fn attach(
    cfg: Option<&NoticesConfig>,
    broker: &mut Broker,
    link_base: Option<url::Url>,
    metrics: &Metrics,
) -> Result<(), NoticesError> {
    let Some(cfg) = cfg else {
        tracing::warn!("no [notices] section: citizens are not noticed of checks");
        return Ok(());
    };
    let key = notice_key(broker);
    let delivery = Arc::new(Delivery::new(cfg, broker, key.clone(), link_base, metrics)?);
    let (tx, rx) = mpsc::channel(cfg.queue.max(1));
    tokio::spawn(memory_worker(rx, delivery, cfg.attempts));
    broker.notices = Some(Notices {
        key,
        queue: Arc::new(MemoryQueue {
            tx,
            metrics: metrics.clone(),
        }),
    });
    Ok(())
}

/// The outbox's delivery for this broker, `None` without `[notices]`.
pub fn outbox(
    cfg: Option<&NoticesConfig>,
    broker: &Broker,
    link_base: Option<url::Url>,
    metrics: &Metrics,
) -> Result<Option<Arc<Delivery>>, NoticesError> {
    let Some(cfg) = cfg else {
        return Ok(None);
    };
    let key = notice_key(broker);
    Ok(Some(Arc::new(Delivery::new(
        cfg, broker, key, link_base, metrics,
    )?)))
}

/// Runs the outbox worker every `interval` on this replica (rows are
/// claimed with `SKIP LOCKED` and a lease, so replicas share the work).
pub fn outbox_worker(
    delivery: Arc<Delivery>,
    clock: Arc<dyn okaz_core::clock::Clock>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match delivery.run_outbox_once(clock.now()).await {
                Ok(p) if p.sent + p.retried > 0 => {
                    tracing::info!(sent = p.sent, retried = p.retried, "notice outbox pass");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "notice outbox pass failed; retrying"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
