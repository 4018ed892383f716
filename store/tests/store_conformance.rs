//! One conformance suite of the `Store` trait, run against every store.
//!
//! Each case is a plain `async fn(&Harness)` written against
//! `Arc<dyn Store>` only; the `conformance!` macro instantiates every case
//! once per store (`sqlite::<case>` on a temporary file, `postgres::<case>`
//! on a fresh database), so the stores cannot drift apart unnoticed.
//!
//! PostgreSQL: the admin URL comes from `OKAZ_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each case creates
//! `okaz_t_<uuid>` and drops it when it passes (a failed case leaves its
//! database behind for a look). An unreachable server fails the suite: a
//! skipped store would be a silent hole in the proof.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step must stop the case loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use futures::future::join_all;
use okaz_core::audit::{self, AuditEntry, AuditEvent, Outcome};
use okaz_core::consent::{self, Closed};
use okaz_core::ports::{
    ActivationReservation, AttemptOutcome, AuditFilter, Claimed, Counter, IdempotencyClaim,
    NewActivationCode, NewChallenge, NewOfficer, NewSession, Officer, OfficerChange, Reservation,
    Settled, Store, StoreError,
};
use okaz_core::pseudonym::Pseudonym;
use okaz_core::quota;
use okaz_core::session::TokenHash;
use okaz_policy::LoginThrottle;
use okaz_protocol::{DocumentType, ErrorCode};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Completes a challenge with one record (the helper's challenges are
/// about `ps-citizen`); `false` if it was used first.
async fn complete(s: &dyn Store, id: &str, release: AuditEntry) -> Result<bool, StoreError> {
    let citizen = Pseudonym("ps-citizen".to_string());
    s.complete_challenge(id, vec![release], &citizen)
        .await
        .map(|prefs| prefs.is_some())
}

// ---------------------------------------------------------------- harness

/// A store under test, and what a case needs beside the trait: reopening
/// the same database, and peeking at a column the trait never returns.
struct Harness {
    store: Arc<dyn Store>,
    backend: Backend,
}

enum Backend {
    Sqlite {
        /// Kept so the directory lives as long as the case.
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        admin: String,
        db: String,
        url: String,
    },
}

/// The admin URL with any password hidden, for messages.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

async fn admin_client(admin: &str) -> tokio_postgres::Client {
    let (client, conn) = okaz_store::postgres::tls::connect(admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {} ({e}). The store conformance suite runs \
                 against PostgreSQL too and does not skip it: start PostgreSQL or point \
                 OKAZ_TEST_DATABASE_URL at an admin URL that may CREATE DATABASE.",
                redacted(admin)
            )
        });
    tokio::spawn(conn);
    client
}

impl Harness {
    async fn sqlite() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okaz.db");
        let store = okaz_store::open(&format!("sqlite://{}", path.display()), 4)
            .await
            .unwrap();
        Harness {
            store,
            backend: Backend::Sqlite { _dir: dir, path },
        }
    }

    async fn postgres() -> Harness {
        let admin =
            std::env::var("OKAZ_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let client = admin_client(&admin).await;
        let db = format!("okaz_t_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {db}: {e}"));
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&db);
        let url = url.to_string();
        let store = okaz_store::open(&url, 16).await.unwrap();
        Harness {
            store,
            backend: Backend::Postgres { admin, db, url },
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The same database through a new store (migrations run again).
    async fn reopen(&self) -> Arc<dyn Store> {
        let url = match &self.backend {
            Backend::Sqlite { path, .. } => format!("sqlite://{}", path.display()),
            Backend::Postgres { url, .. } => url.clone(),
        };
        okaz_store::open(&url, 2).await.unwrap()
    }

    /// The sealed subject of a challenge, read behind the trait's back:
    /// `None` for no such challenge, `Some(None)` once it is cleared.
    async fn sealed_subject(&self, id: &str) -> Option<Option<Vec<u8>>> {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut stmt = c
                    .prepare("SELECT sealed_subject FROM challenges WHERE id = ?1")
                    .unwrap();
                let mut rows = stmt.query([id]).unwrap();
                rows.next().unwrap().map(|r| r.get(0).unwrap())
            }
            Backend::Postgres { url, .. } => {
                let c = admin_client(url).await;
                c.query_opt(
                    "SELECT sealed_subject FROM challenges WHERE id::text = $1",
                    &[&id],
                )
                .await
                .unwrap()
                .map(|r| r.get(0))
            }
        }
    }

    /// The code MAC of a challenge, read behind the trait's back; `None`
    /// for no such challenge.
    async fn code_mac(&self, id: &str) -> Option<Vec<u8>> {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut stmt = c
                    .prepare("SELECT code_mac FROM challenges WHERE id = ?1")
                    .unwrap();
                let mut rows = stmt.query([id]).unwrap();
                rows.next().unwrap().map(|r| r.get(0).unwrap())
            }
            Backend::Postgres { url, .. } => {
                let c = admin_client(url).await;
                c.query_opt(
                    "SELECT code_mac FROM challenges WHERE id::text = $1",
                    &[&id],
                )
                .await
                .unwrap()
                .map(|r| r.get(0))
            }
        }
    }

    /// Runs SQL behind the trait's back, as an insider with database
    /// access would.
    async fn sql(&self, stmt: &str) {
        match &self.backend {
            Backend::Sqlite { path, .. } => {
                let c = rusqlite::Connection::open(path).unwrap();
                c.execute_batch(stmt).unwrap();
            }
            Backend::Postgres { url, .. } => {
                admin_client(url).await.batch_execute(stmt).await.unwrap();
            }
        }
    }

    /// Drops the PostgreSQL test database once the case passed.
    async fn finish(self) {
        let Harness { store, backend } = self;
        drop(store);
        if let Backend::Postgres { admin, db, .. } = backend {
            let client = admin_client(&admin).await;
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        /// Every case on the embedded SQLite store.
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let h = super::Harness::sqlite().await;
                    super::$case(&h).await;
                    h.finish().await;
                }
            )+
        }
        /// Every case on PostgreSQL.
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let h = super::Harness::postgres().await;
                    super::$case(&h).await;
                    h.finish().await;
                }
            )+
        }
    };
}

conformance!(
    ping_answers,
    reopening_keeps_data_and_migrates_once,
    officer_insert_lookup_and_duplicate_login,
    login_failures_count_and_lock_at_threshold,
    login_succeeded_refuses_replayed_step_and_stores_session,
    concurrent_logins_with_one_step_succeed_once,
    sessions_lookup_touch_end,
    count_attempt_counts_exceeds_and_locks,
    count_attempt_for_unknown_officer_fails,
    concurrent_count_attempt_never_passes_the_limit,
    two_stores_on_one_database_never_pass_the_limit,
    counters_are_per_officer_and_day,
    wrong_codes_lock_at_threshold,
    unlock_sets_extra_and_clears_lock_and_wrong_codes,
    challenge_reserve_complete_once,
    challenge_refuses_other_officer_session_and_bad_ids,
    challenge_expires_at_its_instant,
    challenge_exhausts_after_max_reservations,
    concurrent_reservations_never_exceed_max_attempts,
    challenge_release_lease_holds_off_a_second_answer_until_it_ends,
    concurrent_completes_release_once,
    record_wrong_code_exhausts_at_max_attempts,
    challenge_cancel,
    unsent_challenge_is_cancelled_and_its_attempt_given_back,
    activations_on_and_off,
    activation_codes_limit_tries_and_single_use,
    login_attempts_count_per_key_and_start_again_after_a_quiet_window,
    concurrent_login_attempts_are_all_counted,
    portal_sessions_signed_out_stay_out,
    concurrent_activation_sends_respect_the_limit,
    audit_round_trips_and_chains_verify_after_many_appends,
    concurrent_appends_to_one_chain_verify,
    audit_search_filters,
    lockouts_by_unit,
    officers_in_unit_by_login,
    change_officer_disable_enable_password_totp,
    certificate_binding_and_login,
    certificates_stay_in_their_unit_and_sessions_keep_theirs,
    tlog_integrates_in_batches_and_proofs_verify,
    tlog_verify_names_a_deleted_chain_tail,
    tlog_verify_names_a_deleted_chain,
    tlog_verify_catches_a_rehashed_rewrite_against_the_cosigned_checkpoint,
    tlog_two_integrators_on_one_database_build_one_tree,
    idempotency_keys_claim_once_replay_and_refuse_another_body,
    concurrent_claims_of_one_key_let_one_through,
    audit_appends_of_a_bundle_chain_and_verify,
    sweep_wipes_expired_seals_then_deletes_what_retention_allows,
    concurrent_sweeps_wipe_and_delete_each_row_once,
    totp_reseal_swaps_only_the_value_it_read,
    notice_outbox_rides_with_its_release_claims_once_retries_and_deletes,
    concurrent_outbox_claims_never_share_a_row,
    notice_prefs_default_on_and_are_kept_with_their_record,
    completing_a_noticed_challenge_reads_the_choices_once,
    disputes_once_per_check_within_the_daily_limit_and_resolved_in_their_unit,
    break_glass_counts_to_its_cap_and_refuses_a_locked_officer,
    concurrent_break_glass_never_passes_the_cap,
    break_glass_is_decided_once_and_a_rejection_locks,
    break_glass_sweep_expires_once_and_locks_the_officer,
);

// ---------------------------------------------------------------- helpers

/// A fixed instant with sub-microsecond digits, so truncation is exercised.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T09:15:00.123456789Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(secs)
}

/// What both stores keep of an instant.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn throttle() -> LoginThrottle {
    LoginThrottle {
        throttle_after: 3,
        throttle_for: Duration::from_secs(30),
        lock_after: 5,
    }
}

fn entry(t: DateTime<Utc>, event: AuditEvent, actor: &str, unit: &str) -> AuditEntry {
    AuditEntry::new(t, event, actor, unit)
}

async fn officer(s: &dyn Store, login: &str, unit: &str) -> Officer {
    s.insert_officer(
        NewOfficer {
            id: uuid::Uuid::new_v4().to_string(),
            login: login.to_string(),
            display_name: format!("Officer {login}"),
            role: "clerk".to_string(),
            unit: unit.to_string(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
            totp_secret: vec![7; 20],
        },
        entry(t0(), AuditEvent::OfficerCreated, "system", unit),
    )
    .await
    .unwrap()
}

fn attempt(o: &Officer, t: DateTime<Utc>) -> AuditEntry {
    entry(t, AuditEvent::AttemptCounted, &o.id, &o.unit).about(
        "ps-citizen",
        DocumentType::IdCard,
        "identity_check",
    )
}

fn session_hash(name: &str) -> TokenHash {
    TokenHash(format!("{name:0>64}"))
}

fn new_session(name: &str, o: &Officer, start: DateTime<Utc>) -> NewSession {
    NewSession {
        token_hash: session_hash(name),
        officer_id: o.id.clone(),
        created_at: start,
        expires_at: start + chrono::Duration::hours(8),
        certificate: None,
    }
}

/// Inserts an awaiting challenge of `o` bound to session `sess`, expiring
/// five minutes after `t0`; its id.
async fn challenge(s: &dyn Store, o: &Officer, sess: &str, max_attempts: u32) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    s.insert_challenge(
        NewChallenge {
            id: id.clone(),
            officer_id: o.id.clone(),
            session_hash: session_hash(sess),
            citizen: Pseudonym("ps-citizen".to_string()),
            document: DocumentType::DrivingLicence,
            purpose: "licence_check".to_string(),
            case_reference: Some("RSD-1/26".to_string()),
            code_mac: vec![1; 32],
            sealed_subject: vec![2; 48],
            created_at: t0(),
            expires_at: at(300),
            max_attempts,
        },
        entry(t0(), AuditEvent::VerificationStarted, &o.id, &o.unit)
            .about("ps-citizen", DocumentType::DrivingLicence, "licence_check")
            .verification(&id),
    )
    .await
    .unwrap();
    id
}

async fn reserve(
    s: &dyn Store,
    id: &str,
    o: &Officer,
    sess: &str,
    t: DateTime<Utc>,
) -> Reservation {
    s.reserve_code_attempt(id, &o.id, &session_hash(sess), t)
        .await
        .unwrap()
}

fn closed(r: &Reservation) -> Option<Closed> {
    match r {
        Reservation::Reserved(_) => None,
        Reservation::Closed(c) => Some(*c),
    }
}

/// Events of one chain, in order.
async fn events(s: &dyn Store, chain: &str) -> Vec<(String, String)> {
    s.audit_chain(chain)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.entry.event.as_str().to_string(),
                r.entry.outcome.as_str().to_string(),
            )
        })
        .collect()
}

fn ev(event: AuditEvent, outcome: &str) -> (String, String) {
    (event.as_str().to_string(), outcome.to_string())
}

async fn assert_chains_verify(s: &dyn Store) -> u64 {
    match okaz_core::trail::verify_store(s).await.unwrap() {
        Ok(n) => n,
        Err(broken) => panic!("audit chain does not verify: {broken}"),
    }
}

// ---------------------------------------------------------------- cases

async fn ping_answers(h: &Harness) {
    h.store.ping().await.unwrap();
}

async fn reopening_keeps_data_and_migrates_once(h: &Harness) {
    let o = officer(&*h.store, "anna", "U1").await;
    let again = h.reopen().await;
    let found = again.officer_by_login("anna").await.unwrap().unwrap();
    assert_eq!(found.id, o.id);
    assert_chains_verify(&*again).await;
}

async fn officer_insert_lookup_and_duplicate_login(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    assert!(uuid::Uuid::parse_str(&o.id).is_ok(), "ids are UUIDs");
    assert_eq!(
        (
            o.login.as_str(),
            o.display_name.as_str(),
            o.role.as_str(),
            o.unit.as_str()
        ),
        ("anna", "Officer anna", "clerk", "U1")
    );
    assert_eq!(o.totp_secret, vec![7; 20]);
    assert!(!o.disabled && o.locked.is_none() && o.failed_logins == 0);
    assert!(o.last_failed_login.is_none());

    let by_login = s.officer_by_login("anna").await.unwrap().unwrap();
    let by_id = s.officer_by_id(&o.id).await.unwrap().unwrap();
    let by_upper_id = s
        .officer_by_id(&o.id.to_uppercase())
        .await
        .unwrap()
        .unwrap();
    for found in [&by_login, &by_id, &by_upper_id] {
        assert_eq!(found.id, o.id);
        assert_eq!(found.password_hash, o.password_hash);
        assert_eq!(found.totp_secret, o.totp_secret);
    }
    assert!(s.officer_by_login("nobody").await.unwrap().is_none());
    assert!(s.officer_by_id("not-an-id").await.unwrap().is_none());
    assert!(s
        .officer_by_id(&uuid::Uuid::new_v4().to_string())
        .await
        .unwrap()
        .is_none());

    let dup = s
        .insert_officer(
            NewOfficer {
                id: uuid::Uuid::new_v4().to_string(),
                login: "anna".to_string(),
                display_name: "Another Anna".to_string(),
                role: "clerk".to_string(),
                unit: "U2".to_string(),
                password_hash: "x".to_string(),
                totp_secret: vec![1],
            },
            entry(t0(), AuditEvent::OfficerCreated, "system", "U2"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

    // One record of the creation, naming the new officer; the refused
    // duplicate wrote nothing.
    let chain = s.audit_chain("system").await.unwrap();
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].entry.event.as_str(), "officer_created");
    assert_eq!(
        chain[0].entry.subject_officer.as_deref(),
        Some(o.id.as_str())
    );
}

async fn login_failures_count_and_lock_at_threshold(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let p = throttle();
    for n in 1..p.lock_after {
        let f = s
            .login_failed(
                &o.id,
                at(i64::from(n)),
                &p,
                entry(at(i64::from(n)), AuditEvent::LoginFailed, &o.id, &o.unit),
            )
            .await
            .unwrap();
        assert_eq!((f.failures, f.locked), (n, false));
    }
    let now = at(10);
    let f = s
        .login_failed(
            &o.id,
            now,
            &p,
            entry(now, AuditEvent::LoginFailed, &o.id, &o.unit),
        )
        .await
        .unwrap();
    assert_eq!((f.failures, f.locked), (p.lock_after, true));

    let found = s.officer_by_id(&o.id).await.unwrap().unwrap();
    assert_eq!(found.failed_logins, p.lock_after);
    assert_eq!(found.last_failed_login, Some(micros(now)));
    let lock = found.locked.unwrap();
    assert_eq!(lock.reason, "login_failures");
    assert_eq!(lock.at, micros(now));

    // Further failures still count, stay locked, and lock only once.
    let f = s
        .login_failed(
            &o.id,
            at(11),
            &p,
            entry(at(11), AuditEvent::LoginFailed, &o.id, &o.unit),
        )
        .await
        .unwrap();
    assert_eq!((f.failures, f.locked), (p.lock_after + 1, true));
    let ev = events(&*s, &o.id).await;
    assert_eq!(ev.iter().filter(|e| e.0 == "login_failed").count(), 6);
    assert_eq!(
        ev.iter()
            .filter(|e| **e == self::ev(AuditEvent::AccountLocked, "login_failures"))
            .count(),
        1
    );
    assert_eq!(s.lockouts("U1").await.unwrap().len(), 1);

    // An unknown officer is an error, never a silent success.
    let unknown = uuid::Uuid::new_v4().to_string();
    assert!(s
        .login_failed(
            &unknown,
            now,
            &p,
            entry(now, AuditEvent::LoginFailed, &unknown, "U1")
        )
        .await
        .is_err());
    assert_chains_verify(&*s).await;
}

async fn login_succeeded_refuses_replayed_step_and_stores_session(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let p = throttle();
    for n in 1..=2 {
        s.login_failed(
            &o.id,
            at(n),
            &p,
            entry(at(n), AuditEvent::LoginFailed, &o.id, &o.unit),
        )
        .await
        .unwrap();
    }
    let login = |name: &'static str, step: i64| {
        let s = Arc::clone(&s);
        let o = o.clone();
        async move {
            s.login_succeeded(
                &o.id,
                Some(step),
                new_session(name, &o, at(60)),
                entry(at(60), AuditEvent::LoginSucceeded, &o.id, &o.unit),
            )
            .await
            .unwrap()
        }
    };
    assert!(login("s1", 1000).await);
    let found = s.officer_by_id(&o.id).await.unwrap().unwrap();
    assert_eq!(found.failed_logins, 0, "a success resets the failures");
    assert!(found.last_failed_login.is_none());
    let row = s.session(&session_hash("s1")).await.unwrap().unwrap();
    assert_eq!(row.officer_id, o.id);
    assert_eq!(row.expires_at, micros(at(60) + chrono::Duration::hours(8)));
    assert_eq!(row.last_seen, micros(at(60)));

    // The same step again, or an older one: a replay; nothing is stored.
    assert!(!login("s2", 1000).await);
    assert!(!login("s3", 999).await);
    assert!(s.session(&session_hash("s2")).await.unwrap().is_none());
    assert!(s.session(&session_hash("s3")).await.unwrap().is_none());
    // A later step is fine.
    assert!(login("s4", 1001).await);
    assert!(s.session(&session_hash("s4")).await.unwrap().is_some());
    // A login without a step (certificate + PIN) keeps the step record, so
    // it cannot be used to clear the way for a replayed code.
    assert!(s
        .login_succeeded(
            &o.id,
            None,
            new_session("s5", &o, at(61)),
            entry(at(61), AuditEvent::LoginSucceeded, &o.id, &o.unit),
        )
        .await
        .unwrap());
    assert!(!login("s6", 1001).await);
    let ev = events(&*s, &o.id).await;
    assert_eq!(ev.iter().filter(|e| e.0 == "login_succeeded").count(), 3);
    assert_chains_verify(&*s).await;
}

async fn concurrent_logins_with_one_step_succeed_once(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let tasks = (0..20).map(|i| {
        let s = Arc::clone(&s);
        let o = o.clone();
        tokio::spawn(async move {
            s.login_succeeded(
                &o.id,
                Some(4242),
                new_session(&format!("race{i}"), &o, at(1)),
                entry(at(1), AuditEvent::LoginSucceeded, &o.id, &o.unit),
            )
            .await
            .unwrap()
        })
    });
    let won = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1, "one TOTP step logs in exactly once");
}

async fn sessions_lookup_touch_end(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    assert!(s
        .login_succeeded(
            &o.id,
            Some(1),
            new_session("s1", &o, at(0)),
            entry(at(0), AuditEvent::LoginSucceeded, &o.id, &o.unit)
        )
        .await
        .unwrap());
    let hash = session_hash("s1");
    s.touch_session(&hash, at(120)).await.unwrap();
    assert_eq!(
        s.session(&hash).await.unwrap().unwrap().last_seen,
        micros(at(120))
    );
    // Activity never moves back in time (requests may finish out of order).
    s.touch_session(&hash, at(60)).await.unwrap();
    assert_eq!(
        s.session(&hash).await.unwrap().unwrap().last_seen,
        micros(at(120))
    );
    // Touching an unknown session is harmless.
    s.touch_session(&session_hash("nope"), at(60))
        .await
        .unwrap();
    assert!(s.session(&session_hash("nope")).await.unwrap().is_none());

    s.end_session(&hash, entry(at(200), AuditEvent::LoggedOut, &o.id, &o.unit))
        .await
        .unwrap();
    assert!(s.session(&hash).await.unwrap().is_none());
    assert_eq!(
        events(&*s, &o.id).await.last().unwrap(),
        &ev(AuditEvent::LoggedOut, "ok")
    );
}

async fn count_attempt_counts_exceeds_and_locks(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let limit = 3;
    for used in 1..=limit {
        let r = s
            .count_attempt(&o.id, today(), limit, attempt(&o, at(i64::from(used))))
            .await
            .unwrap();
        assert_eq!(
            r,
            AttemptOutcome::Counted {
                used,
                allowance: limit
            }
        );
    }
    let r = s
        .count_attempt(&o.id, today(), limit, attempt(&o, at(10)))
        .await
        .unwrap();
    assert_eq!(
        r,
        AttemptOutcome::Exceeded {
            used: 4,
            allowance: 3
        }
    );
    let lock = s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .unwrap();
    assert_eq!(lock.reason, "daily_limit_exceeded");
    assert_eq!(lock.at, micros(at(10)));

    // Locked: refused without counting.
    let r = s
        .count_attempt(&o.id, today(), limit, attempt(&o, at(11)))
        .await
        .unwrap();
    assert_eq!(r, AttemptOutcome::Locked);
    assert_eq!(s.counter(&o.id, today()).await.unwrap().used, 4);

    assert_eq!(
        events(&*s, &o.id).await,
        vec![
            ev(AuditEvent::AttemptCounted, "ok"),
            ev(AuditEvent::AttemptCounted, "ok"),
            ev(AuditEvent::AttemptCounted, "ok"),
            ev(AuditEvent::AttemptCounted, "daily_limit_exceeded"),
            ev(AuditEvent::AccountLocked, "daily_limit_exceeded"),
            ev(AuditEvent::AttemptCounted, "account_locked"),
        ]
    );
    assert_chains_verify(&*s).await;
}

async fn count_attempt_for_unknown_officer_fails(h: &Harness) {
    let s = h.store();
    let ghost = uuid::Uuid::new_v4().to_string();
    let e = entry(at(0), AuditEvent::AttemptCounted, &ghost, "U1");
    let r = s.count_attempt(&ghost, today(), 5, e.clone()).await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
    let r = s.count_attempt("not-an-id", today(), 5, e).await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        s.counter(&ghost, today()).await.unwrap(),
        Counter::default()
    );
    assert!(
        s.audit_chain(&ghost).await.unwrap().is_empty(),
        "a failed transaction writes no audit"
    );
}

async fn concurrent_count_attempt_never_passes_the_limit(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let tasks = (0..200).map(|i| {
        let s = Arc::clone(&s);
        let o = o.clone();
        tokio::spawn(async move {
            s.count_attempt(&o.id, today(), 50, attempt(&o, at(i)))
                .await
                .unwrap()
        })
    });
    let outcomes: Vec<AttemptOutcome> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let counted = outcomes
        .iter()
        .filter(|o| matches!(o, AttemptOutcome::Counted { .. }))
        .count();
    let exceeded = outcomes
        .iter()
        .filter(|o| matches!(o, AttemptOutcome::Exceeded { .. }))
        .count();
    let locked = outcomes
        .iter()
        .filter(|o| **o == AttemptOutcome::Locked)
        .count();
    assert_eq!(counted, 50, "exactly the limit passes");
    // The attempt past the limit locks the account. Attempts already past
    // the lock check when the lock commits may still be counted as
    // `Exceeded` (PostgreSQL's READ COMMITTED check is a plain read; SQLite's
    // IMMEDIATE transactions serialise them, so there it is exactly one):
    // either way none of them passes, and the rest are refused uncounted.
    assert!(exceeded >= 1, "the first attempt past the limit locks");
    assert_eq!(exceeded + locked, 150, "nothing past the limit passes");
    let mut used: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            AttemptOutcome::Counted { used, .. } => Some(*used),
            _ => None,
        })
        .collect();
    used.sort_unstable();
    assert_eq!(
        used,
        (1..=50).collect::<Vec<_>>(),
        "every count is handed out once"
    );
    let mut over: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            AttemptOutcome::Exceeded { used, allowance } => {
                assert_eq!(*allowance, 50);
                Some(*used)
            }
            _ => None,
        })
        .collect();
    over.sort_unstable();
    let past = u32::try_from(exceeded).unwrap();
    assert_eq!(over, (51..=50 + past).collect::<Vec<_>>());
    assert_eq!(s.counter(&o.id, today()).await.unwrap().used, 50 + past);
    let lock = s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .unwrap();
    assert_eq!(lock.reason, "daily_limit_exceeded");
    let chain = events(&*s, &o.id).await;
    assert_eq!(
        chain.len(),
        201,
        "one record per attempt, and the lock once"
    );
    assert_eq!(
        chain
            .iter()
            .filter(|e| **e == ev(AuditEvent::AccountLocked, "daily_limit_exceeded"))
            .count(),
        1
    );
    assert_chains_verify(&*s).await;
}

/// Two brokers (replicas, or two processes on one SQLite file) share the
/// database: the limit holds across them too.
async fn two_stores_on_one_database_never_pass_the_limit(h: &Harness) {
    let first = h.store();
    let second = h.reopen().await;
    let o = officer(&*first, "anna", "U1").await;
    let tasks = (0..120).map(|i| {
        let s = if i % 2 == 0 {
            Arc::clone(&first)
        } else {
            Arc::clone(&second)
        };
        let o = o.clone();
        tokio::spawn(async move {
            s.count_attempt(&o.id, today(), 30, attempt(&o, at(i)))
                .await
                .unwrap()
        })
    });
    let outcomes: Vec<AttemptOutcome> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let counted = outcomes
        .iter()
        .filter(|o| matches!(o, AttemptOutcome::Counted { .. }))
        .count();
    assert_eq!(counted, 30);
    assert!(second
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .is_some());
    assert_chains_verify(&*second).await;
}

async fn counters_are_per_officer_and_day(h: &Harness) {
    let s = h.store();
    let a = officer(&*s, "anna", "U1").await;
    let b = officer(&*s, "bart", "U1").await;
    let tomorrow = today().succ_opt().unwrap();
    for _ in 0..3 {
        s.count_attempt(&a.id, today(), 10, attempt(&a, at(1)))
            .await
            .unwrap();
    }
    s.count_attempt(&a.id, tomorrow, 10, attempt(&a, at(86_400)))
        .await
        .unwrap();
    s.count_attempt(&b.id, today(), 10, attempt(&b, at(2)))
        .await
        .unwrap();
    let c = |used| Counter {
        used,
        extra: 0,
        wrong_codes: 0,
    };
    assert_eq!(s.counter(&a.id, today()).await.unwrap(), c(3));
    assert_eq!(s.counter(&a.id, tomorrow).await.unwrap(), c(1));
    assert_eq!(s.counter(&b.id, today()).await.unwrap(), c(1));
    assert_eq!(
        s.counter(&b.id, tomorrow).await.unwrap(),
        Counter::default()
    );
    assert_eq!(
        s.counter("not-an-id", today()).await.unwrap(),
        Counter::default()
    );
    // A new day starts from zero even after a lock-worthy day.
    let r = s
        .count_attempt(&b.id, tomorrow, 1, attempt(&b, at(86_401)))
        .await
        .unwrap();
    assert_eq!(
        r,
        AttemptOutcome::Counted {
            used: 1,
            allowance: 1
        }
    );
}

async fn wrong_codes_lock_at_threshold(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let threshold = 3;
    for n in 1..=threshold {
        let ch = challenge(&*s, &o, "s1", 3).await;
        assert!(matches!(
            reserve(&*s, &ch, &o, "s1", at(1)).await,
            Reservation::Reserved(_)
        ));
        let w = s
            .record_wrong_code(
                &ch,
                &o.id,
                today(),
                threshold,
                entry(at(i64::from(n)), AuditEvent::CodeRejected, &o.id, &o.unit)
                    .refused(ErrorCode::WrongCode),
            )
            .await
            .unwrap();
        assert_eq!(w.wrong_codes_today, n);
        assert_eq!(w.locked, consent::wrong_codes_lock(n, threshold));
    }
    let lock = s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .unwrap();
    assert_eq!(lock.reason, "wrong_codes");
    assert_eq!(lock.at, micros(at(3)));
    assert_eq!(s.counter(&o.id, today()).await.unwrap().wrong_codes, 3);

    // Past the threshold: still locked, the lock recorded once.
    let ch = challenge(&*s, &o, "s1", 3).await;
    let w = s
        .record_wrong_code(
            &ch,
            &o.id,
            today(),
            threshold,
            entry(at(9), AuditEvent::CodeRejected, &o.id, &o.unit),
        )
        .await
        .unwrap();
    assert_eq!((w.wrong_codes_today, w.locked), (4, true));
    let locks = events(&*s, &o.id)
        .await
        .into_iter()
        .filter(|e| e.0 == "account_locked")
        .count();
    assert_eq!(locks, 1);

    // Threshold 0 turns the rule off.
    let b = officer(&*s, "bart", "U1").await;
    for _ in 0..5 {
        let ch = challenge(&*s, &b, "s2", 3).await;
        let w = s
            .record_wrong_code(
                &ch,
                &b.id,
                today(),
                0,
                entry(at(1), AuditEvent::CodeRejected, &b.id, &b.unit),
            )
            .await
            .unwrap();
        assert!(!w.locked);
    }
    assert!(s
        .officer_by_id(&b.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .is_none());
    assert_chains_verify(&*s).await;
}

async fn unlock_sets_extra_and_clears_lock_and_wrong_codes(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let limit = 2;
    for i in 0..3 {
        s.count_attempt(&o.id, today(), limit, attempt(&o, at(i)))
            .await
            .unwrap();
    }
    let ch = challenge(&*s, &o, "s1", 3).await;
    s.record_wrong_code(
        &ch,
        &o.id,
        today(),
        10,
        entry(at(5), AuditEvent::CodeRejected, &o.id, &o.unit),
    )
    .await
    .unwrap();
    s.login_failed(
        &o.id,
        at(6),
        &throttle(),
        entry(at(6), AuditEvent::LoginFailed, &o.id, &o.unit),
    )
    .await
    .unwrap();
    assert!(s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .is_some());
    let before = s.counter(&o.id, today()).await.unwrap();
    assert_eq!((before.used, before.extra, before.wrong_codes), (3, 0, 1));

    let extra = quota::extra_after_unlock(before.used, limit, before.extra, 2);
    let mut e = entry(at(100), AuditEvent::AccountUnlocked, "secoff", "U1");
    e.subject_officer = Some(o.id.clone());
    e.reason = Some("confirmed with the officer".to_string());
    s.unlock(&o.id, today(), extra, e).await.unwrap();

    let after = s.officer_by_id(&o.id).await.unwrap().unwrap();
    assert!(after.locked.is_none());
    assert_eq!(after.failed_logins, 0);
    assert_eq!(
        s.counter(&o.id, today()).await.unwrap(),
        Counter {
            used: 3,
            extra,
            wrong_codes: 0
        }
    );
    assert!(s.lockouts("U1").await.unwrap().is_empty());
    // Exactly the two extra checks pass, then the lock comes back.
    let r1 = s
        .count_attempt(&o.id, today(), limit, attempt(&o, at(101)))
        .await
        .unwrap();
    let r2 = s
        .count_attempt(&o.id, today(), limit, attempt(&o, at(102)))
        .await
        .unwrap();
    let r3 = s
        .count_attempt(&o.id, today(), limit, attempt(&o, at(103)))
        .await
        .unwrap();
    let allowance = quota::allowance(limit, extra);
    assert_eq!(r1, AttemptOutcome::Counted { used: 4, allowance });
    assert_eq!(r2, AttemptOutcome::Counted { used: 5, allowance });
    assert_eq!(r3, AttemptOutcome::Exceeded { used: 6, allowance });

    // Unlocking on a day with no counters yet creates the row.
    let tomorrow = today().succ_opt().unwrap();
    s.unlock(
        &o.id,
        tomorrow,
        7,
        entry(at(200), AuditEvent::AccountUnlocked, "secoff", "U1"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.counter(&o.id, tomorrow).await.unwrap(),
        Counter {
            used: 0,
            extra: 7,
            wrong_codes: 0
        }
    );
    let unlocks = s.audit_chain("secoff").await.unwrap();
    assert_eq!(unlocks.len(), 2);
    assert_eq!(
        unlocks[0].entry.reason.as_deref(),
        Some("confirmed with the officer")
    );
    assert_eq!(
        unlocks[0].entry.subject_officer.as_deref(),
        Some(o.id.as_str())
    );
    assert_chains_verify(&*s).await;
}

async fn challenge_reserve_complete_once(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    assert_eq!(h.sealed_subject(&id).await, Some(Some(vec![2; 48])));

    let Reservation::Reserved(ch) = reserve(&*s, &id, &o, "s1", at(10)).await else {
        panic!("an awaiting challenge takes an attempt");
    };
    assert_eq!(ch.id, id);
    assert_eq!(ch.officer_id, o.id);
    assert_eq!(ch.citizen, Pseudonym("ps-citizen".to_string()));
    assert_eq!(ch.document, DocumentType::DrivingLicence);
    assert_eq!(ch.purpose, "licence_check");
    assert_eq!(ch.case_reference.as_deref(), Some("RSD-1/26"));
    assert_eq!(ch.state, consent::ChallengeState::Awaiting);
    assert_eq!((ch.attempts_used, ch.max_attempts), (1, 3));
    assert_eq!(ch.expires_at, micros(at(300)));
    assert_eq!(ch.code_mac, vec![1; 32]);
    assert_eq!(ch.sealed_subject, Some(vec![2; 48]));

    let release = |t| {
        let mut e = entry(t, AuditEvent::DocumentReleased, &o.id, &o.unit)
            .about("ps-citizen", DocumentType::DrivingLicence, "licence_check")
            .verification(&id);
        e.fields = vec!["categories".to_string(), "photo".to_string()];
        e
    };
    assert!(complete(&*s, &id, release(at(11))).await.unwrap());
    assert!(
        !complete(&*s, &id, release(at(12))).await.unwrap(),
        "released once"
    );
    assert_eq!(
        h.sealed_subject(&id).await,
        Some(None),
        "the sealed PESEL is cleared"
    );
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(13)).await),
        Some(Closed::Used)
    );
    assert!(!s
        .cancel_challenge(
            &id,
            &o.id,
            entry(at(14), AuditEvent::VerificationCancelled, &o.id, &o.unit)
        )
        .await
        .unwrap());
    let released: Vec<_> = s
        .audit_chain(&o.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.entry.event.as_str() == "document_released")
        .collect();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].entry.fields, vec!["categories", "photo"]);
    assert!(!complete(&*s, "not-an-id", release(at(15)))
        .await
        .unwrap_or(false));
    assert_chains_verify(&*s).await;
}

async fn challenge_refuses_other_officer_session_and_bad_ids(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let other = officer(&*s, "bart", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    assert_eq!(
        closed(&reserve(&*s, &id, &other, "s1", at(1)).await),
        Some(Closed::NotFound)
    );
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s2", at(1)).await),
        Some(Closed::NotFound)
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        closed(&reserve(&*s, &unknown, &o, "s1", at(1)).await),
        Some(Closed::NotFound)
    );
    assert_eq!(
        closed(&reserve(&*s, "not-an-id", &o, "s1", at(1)).await),
        Some(Closed::NotFound)
    );
    let bad = s
        .reserve_code_attempt(&id, "not-an-id", &session_hash("s1"), at(1))
        .await
        .unwrap();
    assert_eq!(closed(&bad), Some(Closed::NotFound));
    // None of those took an attempt.
    let Reservation::Reserved(ch) = reserve(&*s, &id, &o, "s1", at(2)).await else {
        panic!("the owner's session takes an attempt");
    };
    assert_eq!(ch.attempts_used, 1);
    // Another officer cannot cancel it either.
    assert!(!s
        .cancel_challenge(
            &id,
            &other.id,
            entry(
                at(3),
                AuditEvent::VerificationCancelled,
                &other.id,
                &other.unit
            )
        )
        .await
        .unwrap());
    // A challenge id is unique.
    let dup = s
        .insert_challenge(
            NewChallenge {
                id: id.clone(),
                officer_id: o.id.clone(),
                session_hash: session_hash("s1"),
                citizen: Pseudonym("ps".to_string()),
                document: DocumentType::IdCard,
                purpose: "p".to_string(),
                case_reference: None,
                code_mac: vec![0; 32],
                sealed_subject: vec![0; 8],
                created_at: t0(),
                expires_at: at(300),
                max_attempts: 3,
            },
            entry(t0(), AuditEvent::VerificationStarted, &o.id, &o.unit),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

async fn challenge_expires_at_its_instant(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    // expires_at = at(300); the store keeps microseconds, so one
    // microsecond before is still open and the instant itself is not.
    let just_before = micros(at(300)) - chrono::Duration::microseconds(1);
    assert!(matches!(
        reserve(&*s, &id, &o, "s1", just_before).await,
        Reservation::Reserved(_)
    ));
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", micros(at(300))).await),
        Some(Closed::Expired)
    );
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(3600)).await),
        Some(Closed::Expired)
    );
    assert_eq!(
        consent::closed_reason(
            consent::ChallengeState::Awaiting,
            micros(at(300)),
            1,
            3,
            micros(at(300))
        ),
        Some(Closed::Expired),
        "the store and the rule agree"
    );
}

async fn challenge_exhausts_after_max_reservations(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 2).await;
    // Each answer's release lease has run out before the next (40 s apart).
    for n in 1..=2 {
        let Reservation::Reserved(ch) = reserve(&*s, &id, &o, "s1", at(n * 40)).await else {
            panic!("attempt {n} of 2 is taken");
        };
        assert_eq!(ch.attempts_used, u32::try_from(n).unwrap());
    }
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(120)).await),
        Some(Closed::Exhausted)
    );
    // Exhausted outranks expired, as `closed_reason` says.
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(3600)).await),
        Some(Closed::Exhausted)
    );
}

async fn concurrent_reservations_never_exceed_max_attempts(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    // Rounds of 10 answers at once, each round after the last one's lease
    // ran out: one answer per round takes the attempt and the lease, the
    // others are told another answer is being handled (or, once the last
    // attempt is taken, that none is left); past the third round the
    // challenge is exhausted.
    for round in 0..4i64 {
        let tasks = (0..10).map(|_| {
            let s = Arc::clone(&s);
            let (o, id) = (o.clone(), id.clone());
            tokio::spawn(async move { reserve(&*s, &id, &o, "s1", at(1 + round * 40)).await })
        });
        let results: Vec<Reservation> = join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        let reserved = results
            .iter()
            .filter(|r| matches!(r, Reservation::Reserved(_)))
            .count();
        // The last attempt's holder leaves no attempt to wait for.
        let expect = match round {
            0 | 1 => (1, Closed::Releasing),
            2 => (1, Closed::Exhausted),
            _ => (0, Closed::Exhausted),
        };
        assert_eq!(reserved, expect.0, "round {round}");
        assert!(
            results.iter().filter_map(closed).all(|c| c == expect.1),
            "round {round}"
        );
    }
}

async fn challenge_release_lease_holds_off_a_second_answer_until_it_ends(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    let failed = |n: i64| {
        entry(at(n), AuditEvent::ReleaseFailed, &o.id, &o.unit)
            .refused(ErrorCode::RegistryUnavailable)
            .verification(&id)
    };
    let attempts = |r: Reservation| match r {
        Reservation::Reserved(ch) => ch.attempts_used,
        Reservation::Closed(c) => panic!("closed: {c:?}"),
    };
    // An answer holds the challenge: a second one at once is refused
    // without taking an attempt.
    assert_eq!(attempts(reserve(&*s, &id, &o, "s1", at(1)).await), 1);
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(2)).await),
        Some(Closed::Releasing)
    );
    // The register failed: reopened, the attempt given back, on record.
    assert!(s.reopen_challenge(&id, vec![failed(3)]).await.unwrap());
    assert_eq!(h.sealed_subject(&id).await, Some(Some(vec![2; 48])));
    assert_eq!(attempts(reserve(&*s, &id, &o, "s1", at(4)).await), 1);
    // A wrong code ends the lease too (and keeps its attempt).
    s.record_wrong_code(
        &id,
        &o.id,
        today(),
        10,
        entry(at(5), AuditEvent::CodeRejected, &o.id, &o.unit)
            .refused(ErrorCode::WrongCode)
            .verification(&id),
    )
    .await
    .unwrap();
    assert_eq!(attempts(reserve(&*s, &id, &o, "s1", at(6)).await), 2);
    // A broker that crashed holding the lease: it runs out on its own.
    let until = consent::lease_until(at(6));
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", until - chrono::Duration::seconds(1)).await),
        Some(Closed::Releasing)
    );
    assert_eq!(attempts(reserve(&*s, &id, &o, "s1", until).await), 3);
    // Released: nothing reopens it, a second answer finds it used.
    assert!(complete(
        &*s,
        &id,
        entry(at(40), AuditEvent::DocumentReleased, &o.id, &o.unit).verification(&id)
    )
    .await
    .unwrap());
    assert!(!s.reopen_challenge(&id, vec![failed(41)]).await.unwrap());
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(42)).await),
        Some(Closed::Used)
    );
    let events = events(&*s, &o.id).await;
    assert_eq!(
        events
            .iter()
            .filter(|e| e.0 == AuditEvent::ReleaseFailed.as_str())
            .count(),
        2,
        "every register failure is on record: {events:?}"
    );
    assert_chains_verify(&*s).await;
}

async fn concurrent_completes_release_once(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    let tasks = (0..20).map(|_| {
        let s = Arc::clone(&s);
        let (o, id) = (o.clone(), id.clone());
        tokio::spawn(async move {
            complete(
                &*s,
                &id,
                entry(at(1), AuditEvent::DocumentReleased, &o.id, &o.unit).verification(&id),
            )
            .await
            .unwrap()
        })
    });
    let won = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    let released = events(&*s, &o.id)
        .await
        .into_iter()
        .filter(|e| e.0 == "document_released")
        .count();
    assert_eq!(released, 1, "only the winner's release is audited");
}

async fn record_wrong_code_exhausts_at_max_attempts(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    let wrong = |n: i64| {
        entry(at(n), AuditEvent::CodeRejected, &o.id, &o.unit)
            .refused(ErrorCode::WrongCode)
            .verification(&id)
    };
    for n in 1..=2 {
        assert!(matches!(
            reserve(&*s, &id, &o, "s1", at(n)).await,
            Reservation::Reserved(_)
        ));
        s.record_wrong_code(&id, &o.id, today(), 10, wrong(n))
            .await
            .unwrap();
        assert_eq!(
            h.sealed_subject(&id).await,
            Some(Some(vec![2; 48])),
            "not the last attempt yet"
        );
    }
    assert!(matches!(
        reserve(&*s, &id, &o, "s1", at(3)).await,
        Reservation::Reserved(_)
    ));
    let w = s
        .record_wrong_code(&id, &o.id, today(), 10, wrong(3))
        .await
        .unwrap();
    assert_eq!((w.wrong_codes_today, w.locked), (3, false));
    assert_eq!(
        h.sealed_subject(&id).await,
        Some(None),
        "exhausted: the sealed PESEL is cleared"
    );
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(4)).await),
        Some(Closed::Exhausted)
    );
    assert!(
        !complete(&*s, &id, wrong(5)).await.unwrap(),
        "an exhausted challenge releases nothing"
    );
    assert_eq!(
        events(&*s, &o.id)
            .await
            .into_iter()
            .filter(|e| e.0 == "code_rejected")
            .count(),
        3
    );
}

async fn challenge_cancel(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await;
    let cancel = |t| entry(t, AuditEvent::VerificationCancelled, &o.id, &o.unit).verification(&id);
    assert!(s.cancel_challenge(&id, &o.id, cancel(at(1))).await.unwrap());
    assert!(
        !s.cancel_challenge(&id, &o.id, cancel(at(2))).await.unwrap(),
        "cancelled once"
    );
    assert_eq!(h.sealed_subject(&id).await, Some(None));
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(3)).await),
        Some(Closed::NotFound)
    );
    assert!(!complete(&*s, &id, cancel(at(4))).await.unwrap());
    assert!(!s
        .cancel_challenge("not-an-id", &o.id, cancel(at(5)))
        .await
        .unwrap());
    assert_eq!(
        events(&*s, &o.id)
            .await
            .into_iter()
            .filter(|e| e.0 == "verification_cancelled")
            .count(),
        1
    );
}

async fn unsent_challenge_is_cancelled_and_its_attempt_given_back(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    for used in 1..=2 {
        s.count_attempt(&o.id, today(), 5, attempt(&o, at(used)))
            .await
            .unwrap();
    }
    let id = challenge(&*s, &o, "s1", 3).await;
    let cancel = |t| {
        entry(t, AuditEvent::VerificationCancelled, &o.id, &o.unit)
            .verification(&id)
            .refused(ErrorCode::SmsUnavailable)
    };
    assert!(s
        .cancel_unsent_challenge(&id, &o.id, today(), cancel(at(3)))
        .await
        .unwrap());
    assert_eq!(s.counter(&o.id, today()).await.unwrap().used, 1);
    assert_eq!(h.sealed_subject(&id).await, Some(None));
    // Once only: a second call neither cancels nor gives back.
    assert!(!s
        .cancel_unsent_challenge(&id, &o.id, today(), cancel(at(4)))
        .await
        .unwrap());
    assert_eq!(s.counter(&o.id, today()).await.unwrap().used, 1);
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(5)).await),
        Some(Closed::NotFound)
    );
    assert_chains_verify(&*s).await;
}

fn activation_code(id: &str, citizen: &str, created: i64) -> NewActivationCode {
    NewActivationCode {
        id: id.to_string(),
        citizen: Pseudonym(citizen.to_string()),
        code_mac: vec![9; 32],
        created_at: at(created),
        expires_at: at(created + 300),
        max_attempts: 2,
    }
}

async fn activation_codes_limit_tries_and_single_use(h: &Harness) {
    let s = h.store();
    let citizen = Pseudonym("ps-code".to_string());
    // Three codes in the window; the fourth is refused and not stored.
    for (i, id) in ["a1", "a2", "a3"].iter().enumerate() {
        let t = i64::try_from(i).unwrap();
        assert!(s
            .insert_activation_code(activation_code(id, "ps-code", t), &[(at(-1), 3)])
            .await
            .unwrap());
    }
    assert!(!s
        .insert_activation_code(activation_code("a4", "ps-code", 10), &[(at(-1), 3)])
        .await
        .unwrap());
    assert!(matches!(
        s.reserve_activation_attempt("a4", &citizen, at(11))
            .await
            .unwrap(),
        ActivationReservation::Closed(_)
    ));
    // A second, longer window holds even when the short one is clear.
    assert!(!s
        .insert_activation_code(
            activation_code("a5", "ps-code", 100),
            &[(at(50), 3), (at(-1_000), 3)]
        )
        .await
        .unwrap());
    // Outside the window the limit starts afresh.
    assert!(s
        .insert_activation_code(activation_code("a5", "ps-code", 100), &[(at(50), 3)])
        .await
        .unwrap());
    // Another citizen cannot use the code; tries are counted and end it.
    let other = Pseudonym("ps-other".to_string());
    assert!(matches!(
        s.reserve_activation_attempt("a1", &other, at(5))
            .await
            .unwrap(),
        ActivationReservation::Closed(_)
    ));
    for n in 1..=2u32 {
        match s
            .reserve_activation_attempt("a1", &citizen, at(5))
            .await
            .unwrap()
        {
            ActivationReservation::Reserved {
                code_mac,
                attempts_used,
                max_attempts,
            } => {
                assert_eq!((code_mac, attempts_used, max_attempts), (vec![9; 32], n, 2));
            }
            ActivationReservation::Closed(c) => panic!("closed early: {c:?}"),
        }
    }
    assert!(matches!(
        s.reserve_activation_attempt("a1", &citizen, at(5))
            .await
            .unwrap(),
        ActivationReservation::Closed(_)
    ));
    // Expired codes take no answer.
    assert!(matches!(
        s.reserve_activation_attempt("a2", &citizen, at(301))
            .await
            .unwrap(),
        ActivationReservation::Closed(_)
    ));
    // The right code activates once; a second use finds it used.
    let rec = || {
        let mut e = entry(at(6), AuditEvent::CitizenActivated, "citizen", "portal");
        e.citizen = Some(citizen.as_str().to_string());
        e
    };
    assert!(!s.complete_activation("a3", &other, rec()).await.unwrap());
    assert!(!s.is_activated(&citizen).await.unwrap());
    assert!(s.complete_activation("a3", &citizen, rec()).await.unwrap());
    assert!(s.is_activated(&citizen).await.unwrap());
    assert!(!s.complete_activation("a3", &citizen, rec()).await.unwrap());
    assert!(matches!(
        s.reserve_activation_attempt("a3", &citizen, at(7))
            .await
            .unwrap(),
        ActivationReservation::Closed(_)
    ));
    assert_eq!(s.audit_chain("citizen").await.unwrap().len(), 1);
}

async fn concurrent_activation_sends_respect_the_limit(h: &Harness) {
    let s = h.store();
    let stored = join_all((0..12).map(|i| {
        let s = Arc::clone(&s);
        async move {
            s.insert_activation_code(
                activation_code(&format!("c{i}"), "ps-many", 1),
                &[(at(0), 3)],
            )
            .await
            .unwrap()
        }
    }))
    .await;
    assert_eq!(stored.iter().filter(|b| **b).count(), 3);
}

async fn login_attempts_count_per_key_and_start_again_after_a_quiet_window(h: &Harness) {
    let s = h.store();
    let keys = vec!["k-name".to_string(), "k-addr".to_string()];
    assert_eq!(
        s.note_attempts(&keys, at(0), at(-60)).await.unwrap(),
        vec![1, 1]
    );
    assert_eq!(
        s.note_attempts(&keys, at(10), at(-50)).await.unwrap(),
        vec![2, 2]
    );
    assert_eq!(
        s.note_attempts(&keys[..1], at(20), at(-40)).await.unwrap(),
        vec![3]
    );
    assert_eq!(s.attempts("k-name", at(-40)).await.unwrap(), 3);
    assert_eq!(s.attempts("k-addr", at(-40)).await.unwrap(), 2);
    assert_eq!(s.attempts("k-other", at(-40)).await.unwrap(), 0);
    // A key quiet for the whole window starts again from one.
    assert_eq!(s.attempts("k-addr", at(15)).await.unwrap(), 0);
    assert_eq!(
        s.note_attempts(&keys[1..], at(100), at(40)).await.unwrap(),
        vec![1]
    );
    s.clear_attempts(&keys).await.unwrap();
    assert_eq!(s.attempts("k-name", at(-1000)).await.unwrap(), 0);
    assert_eq!(s.attempts("k-addr", at(-1000)).await.unwrap(), 0);
}

async fn concurrent_login_attempts_are_all_counted(h: &Harness) {
    let s = h.store();
    let counts = join_all((0..30).map(|_| {
        let s = Arc::clone(&s);
        async move {
            s.note_attempts(&["k-burst".to_string()], at(0), at(-60))
                .await
                .unwrap()[0]
        }
    }))
    .await;
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=30).collect::<Vec<u32>>(),
        "every attempt counted once"
    );
}

async fn portal_sessions_signed_out_stay_out(h: &Harness) {
    let s = h.store();
    assert!(!s.portal_session_revoked("sid-1").await.unwrap());
    s.revoke_portal_session("sid-1", at(3600)).await.unwrap();
    // Revoking twice is not an error.
    s.revoke_portal_session("sid-1", at(3600)).await.unwrap();
    assert!(s.portal_session_revoked("sid-1").await.unwrap());
    assert!(!s.portal_session_revoked("sid-2").await.unwrap());
}

async fn activations_on_and_off(h: &Harness) {
    let s = h.store();
    let citizen = Pseudonym("ps-activation".to_string());
    let rec = |t, event| {
        let mut e = entry(t, event, "citizen", "portal");
        e.citizen = Some(citizen.as_str().to_string());
        e
    };
    assert!(!s.is_activated(&citizen).await.unwrap());
    s.set_activation(&citizen, true, rec(at(1), AuditEvent::CitizenActivated))
        .await
        .unwrap();
    assert!(s.is_activated(&citizen).await.unwrap());
    // Activating twice is not an error.
    s.set_activation(&citizen, true, rec(at(2), AuditEvent::CitizenActivated))
        .await
        .unwrap();
    assert!(s.is_activated(&citizen).await.unwrap());
    assert!(!s
        .is_activated(&Pseudonym("ps-other".to_string()))
        .await
        .unwrap());
    s.set_activation(&citizen, false, rec(at(3), AuditEvent::CitizenDeactivated))
        .await
        .unwrap();
    assert!(!s.is_activated(&citizen).await.unwrap());
    s.set_activation(&citizen, false, rec(at(4), AuditEvent::CitizenDeactivated))
        .await
        .unwrap();
    assert_eq!(s.audit_chain("citizen").await.unwrap().len(), 4);
}

async fn audit_round_trips_and_chains_verify_after_many_appends(h: &Harness) {
    let s = h.store();
    let mut written = Vec::new();
    for i in 0..150i64 {
        let actor = ["o-a", "o-b", "o-c"][usize::try_from(i % 3).unwrap()];
        let mut e = entry(at(i), AuditEvent::DocumentReleased, actor, "U1")
            .about(
                &format!("ps-{}", i % 7),
                DocumentType::OcInsurance,
                "insurance_check",
            )
            .verification(&format!("v-{i}"))
            .outcome(Outcome::Ok);
        e.fields = (0..(i % 4)).map(|f| format!("field_{f}")).collect();
        e.case_reference = (i % 5 == 0).then(|| format!("case/{i}"));
        e.reason = (i % 11 == 0).then(|| "zażółć gęślą jaźń".to_string());
        s.append_audit(e.clone()).await.unwrap();
        written.push(e);
    }
    assert_eq!(assert_chains_verify(&*s).await, 150);
    let mut chains = s.audit_chains().await.unwrap();
    chains.sort();
    assert_eq!(chains, vec!["o-a", "o-b", "o-c"]);

    let a = s.audit_chain("o-a").await.unwrap();
    assert_eq!(a.len(), 50);
    assert_eq!(
        a.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=50).collect::<Vec<_>>()
    );
    assert_eq!(a[0].prev_hash, audit::GENESIS);
    let expected: Vec<&AuditEntry> = written.iter().filter(|e| e.actor == "o-a").collect();
    for (r, e) in a.iter().zip(expected) {
        assert_eq!(&r.entry, e, "a record reads back exactly as written");
        assert_eq!(r.entry.at.timestamp_subsec_nanos() % 1000, 0);
    }
    // Tampering is not possible through the trait, but the rule still
    // catches a record read back and changed.
    let mut tampered = a.clone();
    tampered[10].entry.outcome = Outcome::Refused(ErrorCode::DailyLimitExceeded);
    assert_eq!(audit::verify_chain("o-a", &tampered).unwrap_err().seq, 11);
}

async fn concurrent_appends_to_one_chain_verify(h: &Harness) {
    let s = h.store();
    let tasks = (0..100).map(|i| {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            s.append_audit(entry(at(i), AuditEvent::AttemptCounted, "o-busy", "U1"))
                .await
                .unwrap();
        })
    });
    for r in join_all(tasks).await {
        r.unwrap();
    }
    let chain = s.audit_chain("o-busy").await.unwrap();
    assert_eq!(chain.len(), 100);
    assert_eq!(
        chain.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<_>>()
    );
    assert_eq!(assert_chains_verify(&*s).await, 100);
}

async fn audit_search_filters(h: &Harness) {
    let s = h.store();
    // 12 records: units U1/U2 alternate, actors o1..o3, citizens c0/c1.
    for i in 0..12i64 {
        let unit = if i % 2 == 0 { "U1" } else { "U2" };
        let actor = format!("o{}", i % 3 + 1);
        let e = entry(at(i * 60), AuditEvent::DocumentReleased, &actor, unit).about(
            &format!("c{}", i % 2),
            DocumentType::IdCard,
            "identity_check",
        );
        s.append_audit(e).await.unwrap();
    }
    // Two records at the same instant: the later-written one comes first.
    s.append_audit(
        entry(at(10_000), AuditEvent::LoggedOut, "o9", "U3").outcome(Outcome::InvalidPin),
    )
    .await
    .unwrap();
    s.append_audit(
        entry(at(10_000), AuditEvent::LoggedOut, "o9", "U3").outcome(Outcome::TotpReplayed),
    )
    .await
    .unwrap();

    let find = |f: AuditFilter| {
        let s = Arc::clone(&s);
        async move { s.audit_search(&f).await.unwrap() }
    };
    let all = find(AuditFilter {
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(all.len(), 14);
    assert!(
        all.windows(2)
            .all(|w| (w[0].entry.at, w[0].id) > (w[1].entry.at, w[1].id)),
        "newest first"
    );
    assert_eq!(all[0].entry.outcome, Outcome::TotpReplayed);
    assert_eq!(all[1].entry.outcome, Outcome::InvalidPin);

    let u1 = find(AuditFilter {
        unit: Some("U1".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(u1.len(), 6);
    assert!(u1.iter().all(|r| r.entry.unit == "U1"));

    let o2 = find(AuditFilter {
        officer: Some("o2".into()),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(o2.len(), 4);
    assert!(o2.iter().all(|r| r.entry.actor == "o2"));

    let c1 = find(AuditFilter {
        citizen: Some(Pseudonym("c1".into())),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(c1.len(), 6);
    assert!(c1.iter().all(|r| r.entry.citizen.as_deref() == Some("c1")));

    // since is inclusive, until exclusive.
    let window = find(AuditFilter {
        since: Some(at(120)),
        until: Some(at(300)),
        limit: 100,
        ..Default::default()
    })
    .await;
    assert_eq!(
        window.iter().map(|r| r.entry.at).collect::<Vec<_>>(),
        vec![micros(at(240)), micros(at(180)), micros(at(120))]
    );

    let combined = find(AuditFilter {
        unit: Some("U1".into()),
        officer: Some("o1".into()),
        citizen: Some(Pseudonym("c0".into())),
        since: Some(at(0)),
        until: Some(at(720)),
        limit: 100,
    })
    .await;
    // i in {0, 6}: even (U1, c0) and i % 3 == 0 (o1).
    assert_eq!(
        combined.iter().map(|r| r.entry.at).collect::<Vec<_>>(),
        vec![micros(at(360)), micros(at(0))]
    );

    let limited = find(AuditFilter {
        unit: Some("U2".into()),
        limit: 2,
        ..Default::default()
    })
    .await;
    assert_eq!(
        limited.iter().map(|r| r.entry.at).collect::<Vec<_>>(),
        vec![micros(at(660)), micros(at(540))]
    );
    // A zero limit still answers with one record rather than none.
    assert_eq!(find(AuditFilter::default()).await.len(), 1);
    assert!(find(AuditFilter {
        unit: Some("nowhere".into()),
        limit: 10,
        ..Default::default()
    })
    .await
    .is_empty());
}

async fn lockouts_by_unit(h: &Harness) {
    let s = h.store();
    let a = officer(&*s, "anna", "U1").await;
    let b = officer(&*s, "bart", "U1").await;
    let c = officer(&*s, "cleo", "U2").await;
    let _free = officer(&*s, "dora", "U1").await;
    // b locks first (login failures), then a (daily limit); c in another unit.
    for n in 1..=5 {
        s.login_failed(
            &b.id,
            at(n),
            &throttle(),
            entry(at(n), AuditEvent::LoginFailed, &b.id, &b.unit),
        )
        .await
        .unwrap();
    }
    for i in 0..2 {
        s.count_attempt(&a.id, today(), 1, attempt(&a, at(100 + i)))
            .await
            .unwrap();
    }
    for i in 0..2 {
        s.count_attempt(&c.id, today(), 1, attempt(&c, at(100 + i)))
            .await
            .unwrap();
    }
    let u1 = s.lockouts("U1").await.unwrap();
    assert_eq!(
        u1.iter().map(|o| o.login.as_str()).collect::<Vec<_>>(),
        vec!["bart", "anna"],
        "oldest lock first"
    );
    assert_eq!(u1[0].locked.as_ref().unwrap().reason, "login_failures");
    assert_eq!(
        u1[1].locked.as_ref().unwrap().reason,
        "daily_limit_exceeded"
    );
    let u2 = s.lockouts("U2").await.unwrap();
    assert_eq!(u2.len(), 1);
    assert_eq!(u2[0].id, c.id);
    assert!(s.lockouts("U3").await.unwrap().is_empty());

    s.unlock(
        &b.id,
        today(),
        0,
        entry(at(200), AuditEvent::AccountUnlocked, "secoff", "U1"),
    )
    .await
    .unwrap();
    let u1 = s.lockouts("U1").await.unwrap();
    assert_eq!(
        u1.iter().map(|o| o.login.as_str()).collect::<Vec<_>>(),
        vec!["anna"]
    );
}

async fn officers_in_unit_by_login(h: &Harness) {
    let s = h.store();
    for (login, unit) in [
        ("cleo", "U1"),
        ("anna", "U1"),
        ("bart", "U2"),
        ("bea", "U1"),
    ] {
        officer(&*s, login, unit).await;
    }
    let u1 = s.officers_in_unit("U1").await.unwrap();
    assert_eq!(
        u1.iter().map(|o| o.login.as_str()).collect::<Vec<_>>(),
        vec!["anna", "bea", "cleo"]
    );
    assert_eq!(s.officers_in_unit("U2").await.unwrap().len(), 1);
    assert!(s.officers_in_unit("U9").await.unwrap().is_empty());
}

async fn change_officer_disable_enable_password_totp(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let rec = |t, event| {
        let mut e = entry(t, event, "secoff", "U1");
        e.subject_officer = Some(o.id.clone());
        e
    };
    let login = |name: &'static str, step: i64| {
        let s = Arc::clone(&s);
        let o = o.clone();
        async move {
            s.login_succeeded(
                &o.id,
                Some(step),
                new_session(name, &o, at(0)),
                entry(at(0), AuditEvent::LoginSucceeded, &o.id, &o.unit),
            )
            .await
            .unwrap()
        }
    };

    // Disable: the flag is set and every session ends.
    assert!(login("s1", 10).await);
    assert!(s
        .change_officer(
            &o.id,
            OfficerChange::Disable,
            rec(at(1), AuditEvent::OfficerDisabled)
        )
        .await
        .unwrap());
    assert!(s.officer_by_id(&o.id).await.unwrap().unwrap().disabled);
    assert!(s.session(&session_hash("s1")).await.unwrap().is_none());
    assert!(s
        .change_officer(
            &o.id,
            OfficerChange::Enable,
            rec(at(2), AuditEvent::OfficerEnabled)
        )
        .await
        .unwrap());
    assert!(!s.officer_by_id(&o.id).await.unwrap().unwrap().disabled);

    // New password: failures reset, sessions end.
    assert!(login("s2", 11).await);
    s.login_failed(
        &o.id,
        at(3),
        &throttle(),
        entry(at(3), AuditEvent::LoginFailed, &o.id, &o.unit),
    )
    .await
    .unwrap();
    assert!(s
        .change_officer(
            &o.id,
            OfficerChange::Password("new-hash".into()),
            rec(at(4), AuditEvent::PasswordReset)
        )
        .await
        .unwrap());
    let after = s.officer_by_id(&o.id).await.unwrap().unwrap();
    assert_eq!(
        (after.password_hash.as_str(), after.failed_logins),
        ("new-hash", 0)
    );
    assert!(s.session(&session_hash("s2")).await.unwrap().is_none());

    // New TOTP secret: the used-step record starts afresh, sessions end.
    assert!(login("s3", 12).await);
    assert!(
        !login("s4", 5).await,
        "an old step is a replay before the reset"
    );
    assert!(s
        .change_officer(
            &o.id,
            OfficerChange::Totp(vec![9; 20]),
            rec(at(5), AuditEvent::TotpReset)
        )
        .await
        .unwrap());
    assert_eq!(
        s.officer_by_id(&o.id).await.unwrap().unwrap().totp_secret,
        vec![9; 20]
    );
    assert!(s.session(&session_hash("s3")).await.unwrap().is_none());
    assert!(login("s5", 5).await, "the new secret's steps start afresh");

    // No such officer: false, and nothing audited.
    let ghost = uuid::Uuid::new_v4().to_string();
    assert!(!s
        .change_officer(
            &ghost,
            OfficerChange::Disable,
            rec(at(6), AuditEvent::OfficerDisabled)
        )
        .await
        .unwrap());
    assert!(!s
        .change_officer(
            "not-an-id",
            OfficerChange::Enable,
            rec(at(6), AuditEvent::OfficerEnabled)
        )
        .await
        .unwrap());
    assert_eq!(
        events(&*s, "secoff")
            .await
            .iter()
            .map(|e| e.0.as_str())
            .collect::<Vec<_>>(),
        vec![
            "officer_disabled",
            "officer_enabled",
            "password_reset",
            "totp_reset"
        ]
    );
    assert_chains_verify(&*s).await;
}

async fn certificate_binding_and_login(h: &Harness) {
    let s = h.store();
    let a = officer(&*s, "anna", "U1").await;
    let b = officer(&*s, "bart", "U1").await;
    let fp = "ab".repeat(32);
    assert!(s.certificate_binding(&fp).await.unwrap().is_none());
    s.bind_certificate(
        &a.id,
        &fp,
        "pin-a",
        entry(at(1), AuditEvent::CertificateBound, "secoff", "U1"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.certificate_binding(&fp).await.unwrap(),
        Some((a.id.clone(), "pin-a".to_string()))
    );
    // Binding the same terminal again moves it to the new officer.
    s.bind_certificate(
        &b.id,
        &fp,
        "pin-b",
        entry(at(2), AuditEvent::CertificateBound, "secoff", "U1"),
    )
    .await
    .unwrap();
    assert_eq!(
        s.certificate_binding(&fp).await.unwrap(),
        Some((b.id.clone(), "pin-b".to_string()))
    );
    let ghost = uuid::Uuid::new_v4().to_string();
    assert!(s
        .bind_certificate(
            &ghost,
            &"cd".repeat(32),
            "pin",
            entry(at(3), AuditEvent::CertificateBound, "secoff", "U1")
        )
        .await
        .is_err());

    s.login_failed(
        &b.id,
        at(4),
        &throttle(),
        entry(at(4), AuditEvent::LoginFailed, &b.id, &b.unit),
    )
    .await
    .unwrap();
    assert!(s
        .login_succeeded(
            &b.id,
            None,
            new_session("cert", &b, at(5)),
            entry(at(5), AuditEvent::LoginSucceeded, &b.id, &b.unit),
        )
        .await
        .unwrap());
    let found = s.officer_by_id(&b.id).await.unwrap().unwrap();
    assert_eq!(found.failed_logins, 0);
    assert!(found.last_failed_login.is_none());
    assert_eq!(
        s.session(&session_hash("cert"))
            .await
            .unwrap()
            .unwrap()
            .officer_id,
        b.id
    );
    assert_eq!(
        events(&*s, "secoff").await.len(),
        2,
        "the refused binding wrote no audit"
    );
    assert_chains_verify(&*s).await;
}

async fn certificates_stay_in_their_unit_and_sessions_keep_theirs(h: &Harness) {
    let s = h.store();
    let a = officer(&*s, "anna", "U1").await;
    let b = officer(&*s, "bart", "U1").await;
    let z = officer(&*s, "zoe", "U2").await;
    let fp = "ef".repeat(32);
    async fn bind(
        s: &dyn Store,
        o: &Officer,
        fp: &str,
        pin: &str,
        t: i64,
    ) -> Result<(), StoreError> {
        s.bind_certificate(
            &o.id,
            fp,
            pin,
            entry(at(t), AuditEvent::CertificateBound, "secoff", &o.unit),
        )
        .await
    }
    bind(&*s, &a, &fp, "pin-a", 1).await.unwrap();
    // Another unit cannot take the terminal over; nothing is written.
    assert!(matches!(
        bind(&*s, &z, &fp, "pin-z", 2).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        s.certificate_binding(&fp).await.unwrap(),
        Some((a.id.clone(), "pin-a".to_string()))
    );
    assert_eq!(events(&*s, "secoff").await.len(), 1);
    // Within the unit it moves.
    bind(&*s, &b, &fp, "pin-b", 3).await.unwrap();
    assert_eq!(
        s.certificate_binding(&fp).await.unwrap().map(|b| b.0),
        Some(b.id.clone())
    );
    // Two units binding one new terminal at once: exactly one wins.
    let fresh = "0f".repeat(32);
    let race = join_all([&a, &z].map(|o| {
        s.bind_certificate(
            &o.id,
            &fresh,
            "pin",
            entry(at(4), AuditEvent::CertificateBound, "secoff", &o.unit),
        )
    }))
    .await;
    assert_eq!(race.iter().filter(|r| r.is_ok()).count(), 1, "{race:?}");

    // A session keeps the certificate it was opened with, and the one
    // statement of a request's authentication returns it.
    let mut bound = new_session("bound", &b, at(5));
    bound.certificate = Some(fp.clone());
    assert!(s
        .login_succeeded(
            &b.id,
            None,
            bound,
            entry(at(5), AuditEvent::LoginSucceeded, &b.id, &b.unit),
        )
        .await
        .unwrap());
    let q = |name: &str| okaz_core::ports::SessionLookup {
        token: session_hash(name),
        day: today(),
        citizen: None,
    };
    let view = s.lookup_session(&q("bound")).await.unwrap().unwrap();
    assert_eq!(view.session.certificate.as_deref(), Some(fp.as_str()));
    let row = s.session(&session_hash("bound")).await.unwrap().unwrap();
    assert_eq!(row.certificate.as_deref(), Some(fp.as_str()));
    assert!(s
        .login_succeeded(
            &a.id,
            Some(1),
            new_session("plain", &a, at(6)),
            entry(at(6), AuditEvent::LoginSucceeded, &a.id, &a.unit),
        )
        .await
        .unwrap());
    let view = s.lookup_session(&q("plain")).await.unwrap().unwrap();
    assert!(view.session.certificate.is_none());
    assert_chains_verify(&*s).await;
}

/// `sqlite::memory:` opens a private in-memory store with its schema.
#[tokio::test]
async fn sqlite_memory_url_opens_a_migrated_store() {
    let s = okaz_store::open("sqlite::memory:", 4).await.unwrap();
    let o = officer(&*s, "anna", "U1").await;
    assert_eq!(s.officer_by_login("anna").await.unwrap().unwrap().id, o.id);
    assert!(matches!(
        okaz_store::open("mysql://x", 1).await,
        Err(StoreError::Unavailable(_))
    ));
}

// ---------------------------------------------------------------- transparency log

fn log_key() -> okaz_tlog::note::Signer {
    okaz_tlog::note::Signer::from_seed("okaz.test/audit", &[7; 32]).unwrap()
}

fn witness_key() -> okaz_tlog::note::Signer {
    okaz_tlog::note::Signer::from_seed("witness.test", &[8; 32]).unwrap()
}

/// Appends `n` records over three chains.
async fn fill(s: &dyn Store, from: i64, n: i64) {
    for i in from..from + n {
        let actor = ["o-a", "o-b", "o-c"][usize::try_from(i % 3).unwrap()];
        s.append_audit(
            entry(at(i), AuditEvent::DocumentReleased, actor, "U1")
                .about("ps", DocumentType::IdCard, "age_check")
                .verification(&format!("v-{i}")),
        )
        .await
        .unwrap();
    }
}

/// Integrates everything, signs a checkpoint and has the test witness
/// cosign it; returns the tree head.
async fn checkpoint(s: &dyn Store) -> okaz_core::tlog::TreeHead {
    let (head, _) = s.integrate(10_000).await.unwrap().unwrap();
    let note = okaz_core::tlog::sign_checkpoint(&log_key(), "okaz.test/audit", head);
    s.save_checkpoint(head.size, &note.render()).await.unwrap();
    let w = witness_key();
    s.save_cosignature(head.size, w.name(), &w.cosign(&note.text, 1_800_000_000))
        .await
        .unwrap();
    head
}

async fn verify_log(
    s: &dyn Store,
) -> Result<okaz_core::tlog::VerifyReport, okaz_core::tlog::TrailError> {
    let log = okaz_tlog::note::Verifier::parse(&log_key().verifier()).unwrap();
    let w = okaz_tlog::note::Verifier::parse(&witness_key().cosigner_verifier()).unwrap();
    let trust = okaz_core::tlog::Trust {
        log: &log,
        origin: "okaz.test/audit",
        witnesses: std::slice::from_ref(&w),
        outside: None,
    };
    okaz_core::tlog::verify(s, s, &trust).await
}

async fn tlog_integrates_in_batches_and_proofs_verify(h: &Harness) {
    use okaz_tlog::merkle;
    let s = h.store();
    fill(&*s, 0, 250).await;
    let mut sizes = Vec::new();
    loop {
        let (head, added) = s.integrate(64).await.unwrap().unwrap();
        if added == 0 {
            break;
        }
        sizes.push(head);
    }
    assert_eq!(
        sizes.iter().map(|h| h.size).collect::<Vec<_>>(),
        vec![64, 128, 192, 250]
    );
    // The root matches a recomputation from the records, in leaf order.
    let leaves: Vec<merkle::Hash> = s
        .leaves()
        .await
        .unwrap()
        .iter()
        .map(|(_, r)| audit::leaf_hash(&r.entry))
        .collect();
    assert_eq!(leaves.len(), 250);
    let full: std::collections::HashMap<_, _> = merkle::append(0, &leaves, &Default::default())
        .unwrap()
        .into_iter()
        .collect();
    for h in &sizes {
        assert_eq!(merkle::root(h.size, &full).unwrap(), h.root);
    }
    // Every batch's tree is consistent with the next, and proofs verify.
    for w in sizes.windows(2) {
        let p = okaz_core::tlog::consistency(&*s, w[0].size, w[1].size)
            .await
            .unwrap();
        merkle::verify_consistency(w[0].size, w[1].size, &p, &w[0].root, &w[1].root).unwrap();
    }
    for leaf in [0u64, 63, 64, 200, 249] {
        let p = okaz_core::tlog::inclusion(&*s, leaf, 250).await.unwrap();
        merkle::verify_inclusion(leaf, 250, &leaves[leaf as usize], &p, &sizes[3].root).unwrap();
    }
    // Out of range requests are refused.
    assert!(okaz_core::tlog::inclusion(&*s, 250, 250).await.is_err());
    assert!(okaz_core::tlog::consistency(&*s, 10, 251).await.is_err());
    // Records are in the tree in id order, each once.
    let ids: Vec<i64> = s
        .leaves()
        .await
        .unwrap()
        .iter()
        .map(|(_, r)| r.id)
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    checkpoint(&*s).await;
    let r = verify_log(&*s).await.unwrap();
    assert_eq!((r.records, r.leaves, r.cosigned), (250, 250, Some(250)));
}

async fn tlog_verify_names_a_deleted_chain_tail(h: &Harness) {
    let s = h.store();
    fill(&*s, 0, 30).await;
    checkpoint(&*s).await;
    verify_log(&*s).await.unwrap();
    h.sql("DELETE FROM audit_log WHERE chain = 'o-a' AND seq > 3")
        .await;
    let e = verify_log(&*s).await.unwrap_err().to_string();
    assert!(
        e.contains("audit chain o-a") && e.contains("records 4..=10 are missing"),
        "{e}"
    );
}

async fn tlog_verify_names_a_deleted_chain(h: &Harness) {
    let s = h.store();
    fill(&*s, 0, 30).await;
    checkpoint(&*s).await;
    h.sql("DELETE FROM audit_log WHERE chain = 'o-b'").await;
    let e = verify_log(&*s).await.unwrap_err().to_string();
    assert!(
        e.contains("audit chain o-b") && e.contains("records 1..=10 are missing"),
        "{e}"
    );
    // Deleting the head too leaves the tree's leaves without records.
    h.sql("DELETE FROM audit_chain_heads WHERE chain = 'o-b'")
        .await;
    let e = verify_log(&*s).await.unwrap_err().to_string();
    assert!(e.contains("leaf 1: its record is missing"), "{e}");
}

async fn tlog_verify_catches_a_rehashed_rewrite_against_the_cosigned_checkpoint(h: &Harness) {
    let s = h.store();
    fill(&*s, 0, 30).await;
    let before = checkpoint(&*s).await;
    assert_eq!(verify_log(&*s).await.unwrap().cosigned, Some(30));
    // The insider changes one record's outcome, rehashes its chain from
    // there (records and head), and rebuilds the whole tree from the
    // rewritten records.
    let chain = s.audit_chain("o-a").await.unwrap();
    let mut prev = chain[1].prev_hash.clone();
    let mut stmts = vec![format!(
        "UPDATE audit_log SET outcome = 'not_permitted' WHERE id = {}",
        chain[1].id
    )];
    for (i, r) in chain.iter().enumerate().skip(1) {
        let mut e = r.entry.clone();
        if i == 1 {
            e.outcome = Outcome::Refused(ErrorCode::NotPermitted);
        }
        let hash = audit::link_hash(&prev, r.seq, &e);
        stmts.push(format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE id = {}",
            r.id
        ));
        prev = hash;
    }
    stmts.push(format!(
        "UPDATE audit_chain_heads SET hash = '{prev}' WHERE chain = 'o-a'"
    ));
    stmts.push("DELETE FROM audit_tree".into());
    stmts.push("UPDATE audit_log SET leaf = NULL".into());
    stmts.push("UPDATE audit_tree_size SET size = 0".into());
    h.sql(&stmts.join(";\n")).await;
    let (after, _) = s.integrate(10_000).await.unwrap().unwrap();
    assert_eq!(after.size, before.size);
    assert_ne!(after.root, before.root);
    let e = verify_log(&*s).await.unwrap_err().to_string();
    assert!(
        e.contains("checkpoint of size 30") && e.contains("rewritten"),
        "{e}"
    );
}

async fn tlog_two_integrators_on_one_database_build_one_tree(h: &Harness) {
    let a = h.store();
    let b = h.reopen().await;
    let writers = [Arc::clone(&a), Arc::clone(&b)].map(|s| {
        tokio::spawn(async move {
            for k in 0..4 {
                fill(&*s, k * 50, 50).await;
                let _ = s.integrate(37).await.unwrap();
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    while a.integrate(1000).await.unwrap().is_none_or(|(_, n)| n > 0) {}
    assert_eq!(a.tree_size().await.unwrap(), 400);
    checkpoint(&*a).await;
    let r = verify_log(&*b).await.unwrap();
    assert_eq!((r.records, r.leaves), (400, 400));
}

// ---------------------------------------------------------------- idempotency

fn claim(session: &str, key: &str, body: &[u8]) -> IdempotencyClaim {
    IdempotencyClaim {
        session: session_hash(session),
        key: key.to_string(),
        fingerprint: body.to_vec(),
        at: t0(),
    }
}

async fn idempotency_keys_claim_once_replay_and_refuse_another_body(h: &Harness) {
    let s = &*h.store;
    let c = claim("s1", "k1", b"body-a");
    assert_eq!(s.claim_idempotency(&c).await.unwrap(), Claimed::New);
    assert_eq!(s.claim_idempotency(&c).await.unwrap(), Claimed::InFlight);
    let awaiting = Settled::Awaiting {
        verification: "v-1".into(),
        expires_at: micros(at(300)),
    };
    s.settle_idempotency(&c.session, "k1", &awaiting)
        .await
        .unwrap();
    assert_eq!(
        s.claim_idempotency(&c).await.unwrap(),
        Claimed::Replay(awaiting)
    );
    assert_eq!(
        s.claim_idempotency(&claim("s1", "k1", b"body-b"))
            .await
            .unwrap(),
        Claimed::Mismatch
    );
    // Keys are per session; a released key runs again.
    assert_eq!(
        s.claim_idempotency(&claim("s2", "k1", b"body-b"))
            .await
            .unwrap(),
        Claimed::New
    );
    let refused = Settled::Refused(ErrorCode::NotActivated);
    let c3 = claim("s1", "k3", b"x");
    assert_eq!(s.claim_idempotency(&c3).await.unwrap(), Claimed::New);
    s.settle_idempotency(&c3.session, "k3", &refused)
        .await
        .unwrap();
    assert_eq!(
        s.claim_idempotency(&c3).await.unwrap(),
        Claimed::Replay(refused)
    );
    let c4 = claim("s1", "k4", b"x");
    assert_eq!(s.claim_idempotency(&c4).await.unwrap(), Claimed::New);
    s.release_idempotency(&c4.session, "k4").await.unwrap();
    assert_eq!(s.claim_idempotency(&c4).await.unwrap(), Claimed::New);
    let done = Settled::Completed {
        verification: "v-4".into(),
    };
    s.settle_idempotency(&c4.session, "k4", &done)
        .await
        .unwrap();
    assert_eq!(
        s.claim_idempotency(&c4).await.unwrap(),
        Claimed::Replay(done)
    );
}

async fn concurrent_claims_of_one_key_let_one_through(h: &Harness) {
    let c = claim("s1", "race", b"same");
    let claims = join_all((0..8).map(|_| {
        let store = h.store.clone();
        let c = c.clone();
        async move { store.claim_idempotency(&c).await.unwrap() }
    }))
    .await;
    let new = claims.iter().filter(|c| **c == Claimed::New).count();
    assert_eq!(new, 1, "{claims:?}");
    assert!(claims
        .iter()
        .all(|c| matches!(c, Claimed::New | Claimed::InFlight)));
}

async fn audit_appends_of_a_bundle_chain_and_verify(h: &Harness) {
    let s = &*h.store;
    let o = officer(s, "patrol", "KMP").await;
    let parts: Vec<AuditEntry> = (0..4)
        .map(|i| {
            let mut e = entry(at(i), AuditEvent::DocumentReleased, &o.id, "KMP");
            e.verification = Some("b-1".into());
            e
        })
        .collect();
    s.append_audits(parts, &[]).await.unwrap();
    let chain = s.audit_chain(&o.id).await.unwrap();
    assert_eq!(
        chain
            .iter()
            .filter(|r| r.entry.verification.as_deref() == Some("b-1"))
            .count(),
        4
    );
    assert_chains_verify(s).await;
}

// ---------------------------------------------------------------- retention

/// Cut-offs far in the past: nothing is due.
fn nothing_due() -> okaz_core::retention::Due {
    okaz_core::retention::Due {
        wipe_expired_before: at(-86_400),
        delete_challenges_created_before: at(-86_400),
        delete_sessions_expired_before: at(-86_400),
        delete_counters_before_day: NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
    }
}

async fn sweep_wipes_expired_seals_then_deletes_what_retention_allows(h: &Harness) {
    use okaz_core::retention::Due;
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let id = challenge(&*s, &o, "s1", 3).await; // created t0, expires at(300)
    assert!(s
        .login_succeeded(
            &o.id,
            Some(1),
            new_session("s1", &o, at(0)),
            entry(at(0), AuditEvent::LoginSucceeded, &o.id, &o.unit)
        )
        .await
        .unwrap()); // expires at(8h)
    let yesterday = today().pred_opt().unwrap();
    for day in [yesterday, today()] {
        s.count_attempt(&o.id, day, 10, attempt(&o, at(1)))
            .await
            .unwrap();
    }
    let audit_before = s.audit_chain(&o.id).await.unwrap().len();
    assert_eq!(
        s.sweep(&nothing_due(), 100).await.unwrap(),
        Default::default()
    );

    // At the expiry instant itself the seal is not yet due (strictly before).
    let at_expiry = Due {
        wipe_expired_before: micros(at(300)),
        ..nothing_due()
    };
    assert_eq!(s.sweep(&at_expiry, 100).await.unwrap().seals_wiped, 0);
    assert!(matches!(h.sealed_subject(&id).await, Some(Some(_))));
    assert_eq!(h.code_mac(&id).await.unwrap(), vec![1; 32]);

    // After the grace: seal and code MAC gone, the row (binding, state) kept.
    let after_grace = Due {
        wipe_expired_before: at(360),
        ..nothing_due()
    };
    assert_eq!(s.sweep(&after_grace, 100).await.unwrap().seals_wiped, 1);
    assert_eq!(h.sealed_subject(&id).await, Some(None));
    assert_eq!(h.code_mac(&id).await.unwrap(), Vec::<u8>::new());
    // Idempotent: a second pass finds nothing more.
    assert_eq!(
        s.sweep(&after_grace, 100).await.unwrap(),
        Default::default()
    );
    // A wiped challenge can no longer be answered: it is expired, and its
    // MAC matches no code.
    assert_eq!(
        closed(&reserve(&*s, &id, &o, "s1", at(400)).await),
        Some(Closed::Expired)
    );

    // Sessions go once expired + retention, counters by day, challenges by age.
    let later = Due {
        wipe_expired_before: at(360),
        delete_challenges_created_before: at(1),
        delete_sessions_expired_before: at(8 * 3600 + 1),
        delete_counters_before_day: today(),
    };
    let swept = s.sweep(&later, 100).await.unwrap();
    assert_eq!(
        (
            swept.challenges_deleted,
            swept.sessions_deleted,
            swept.counters_deleted
        ),
        (1, 1, 1),
        "{swept:?}"
    );
    assert_eq!(
        h.sealed_subject(&id).await,
        None,
        "the challenge row is deleted"
    );
    assert!(s.session(&session_hash("s1")).await.unwrap().is_none());
    assert_eq!(s.counter(&o.id, yesterday).await.unwrap().used, 0);
    assert_eq!(
        s.counter(&o.id, today()).await.unwrap().used,
        1,
        "today's counter stays"
    );
    // Nothing in the audit trail is deleted.
    assert_eq!(s.audit_chain(&o.id).await.unwrap().len(), audit_before);
    assert_eq!(s.sweep(&later, 100).await.unwrap(), Default::default());
}

async fn concurrent_sweeps_wipe_and_delete_each_row_once(h: &Harness) {
    use okaz_core::retention::Due;
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(challenge(&*s, &o, &format!("s{i}"), 3).await);
    }
    let due = Due {
        wipe_expired_before: at(360),
        ..nothing_due()
    };
    // Eight replicas sweep at once in batches of 3, each until a batch is short.
    let tasks = (0..8).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let mut wiped = 0;
            loop {
                let b = s.sweep(&due, 3).await.unwrap();
                wiped += b.seals_wiped;
                if !b.full(3) {
                    return wiped;
                }
            }
        })
    });
    let total: u64 = join_all(tasks).await.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(total, 25, "each seal wiped exactly once");
    for id in &ids {
        assert_eq!(h.sealed_subject(id).await, Some(None));
    }
    let delete = Due {
        delete_challenges_created_before: at(1),
        ..due
    };
    let tasks = (0..8).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            let mut deleted = 0;
            loop {
                let b = s.sweep(&delete, 4).await.unwrap();
                deleted += b.challenges_deleted;
                if !b.full(4) {
                    return deleted;
                }
            }
        })
    });
    let total: u64 = join_all(tasks).await.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(total, 25, "each challenge deleted exactly once");
}

async fn totp_reseal_swaps_only_the_value_it_read(h: &Harness) {
    let s = h.store();
    let o = officer(&*s, "anna", "U1").await;
    let other = officer(&*s, "bart", "U1").await;
    let all = s.sealed_totp_secrets().await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.contains(&(o.id.clone(), vec![7; 20])));
    // Not what is stored (a reset came in between): nothing changes.
    assert!(!s.reseal_totp(&o.id, &[8; 20], &[9; 40]).await.unwrap());
    assert!(s.reseal_totp(&o.id, &[7; 20], &[9; 40]).await.unwrap());
    assert_eq!(
        s.officer_by_id(&o.id).await.unwrap().unwrap().totp_secret,
        vec![9; 40]
    );
    assert_eq!(
        s.officer_by_id(&other.id)
            .await
            .unwrap()
            .unwrap()
            .totp_secret,
        vec![7; 20]
    );
    assert!(!s.reseal_totp("not-an-id", &[7; 20], &[1]).await.unwrap());
}

// ---------------------------------------------------------------- notices and disputes

fn outbox_notice(id: &str, due: DateTime<Utc>) -> okaz_core::ports::OutboxNotice {
    okaz_core::ports::OutboxNotice {
        id: id.to_string(),
        sealed: vec![1, 2, 3, 4],
        due_at: due,
        attempts: 0,
    }
}

fn nid(n: u8) -> String {
    format!("00000000-0000-4000-8000-0000000000{n:02}")
}

async fn notice_outbox_rides_with_its_release_claims_once_retries_and_deletes(h: &Harness) {
    let s = &*h.store;
    let o = officer(s, "patrol", "KMP").await;
    // A bundle's two parts and one notice naming both, in one transaction.
    let released = entry(at(0), AuditEvent::DocumentReleased, &o.id, "KMP");
    let part = entry(at(0), AuditEvent::DocumentReleased, &o.id, "KMP");
    s.append_audits(vec![released, part], &[outbox_notice(&nid(1), at(100))])
        .await
        .unwrap();
    let chain = s.audit_chain(&o.id).await.unwrap();
    let released = |c: &[okaz_core::audit::StoredRecord]| {
        c.iter()
            .filter(|r| r.entry.event == AuditEvent::DocumentReleased)
            .count()
    };
    assert_eq!(released(&chain), 2, "every part's record is written");
    assert_eq!(s.outbox_len().await.unwrap(), 1);
    // A notice whose id is not one writes nothing at all, records included.
    let stray = entry(at(1), AuditEvent::DocumentReleased, &o.id, "KMP");
    assert!(s
        .append_audits(vec![stray], &[outbox_notice("not-an-id", at(100))])
        .await
        .is_err());
    assert_eq!(released(&s.audit_chain(&o.id).await.unwrap()), 2);
    // Not due yet: nothing to claim.
    assert!(s
        .claim_due_notices(at(99), at(400), 10)
        .await
        .unwrap()
        .is_empty());
    let claimed = s.claim_due_notices(at(100), at(400), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, nid(1));
    assert_eq!(claimed[0].sealed, vec![1, 2, 3, 4]);
    assert_eq!(claimed[0].due_at, micros(at(100)));
    // Leased: a second worker gets nothing until the lease ends.
    assert!(s
        .claim_due_notices(at(200), at(500), 10)
        .await
        .unwrap()
        .is_empty());
    // A failure puts it back, re-sealed, due later.
    s.retry_notice(&nid(1), 1, at(300), vec![9, 9])
        .await
        .unwrap();
    assert!(s
        .claim_due_notices(at(299), at(600), 10)
        .await
        .unwrap()
        .is_empty());
    let again = s.claim_due_notices(at(300), at(600), 10).await.unwrap();
    assert_eq!(
        (again[0].attempts, again[0].sealed.clone()),
        (1, vec![9, 9])
    );
    // An expired lease lets another worker take it over.
    let taken = s.claim_due_notices(at(600), at(900), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    s.delete_notice(&nid(1)).await.unwrap();
    assert_eq!(s.outbox_len().await.unwrap(), 0);
    assert!(s
        .claim_due_notices(at(10_000), at(20_000), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn concurrent_outbox_claims_never_share_a_row(h: &Harness) {
    let s = &*h.store;
    let o = officer(s, "patrol", "KMP").await;
    for n in 0..20 {
        let released = entry(at(i64::from(n)), AuditEvent::DocumentReleased, &o.id, "KMP");
        s.append_audits(vec![released], &[outbox_notice(&nid(n), at(0))])
            .await
            .unwrap();
    }
    let claims = join_all((0..6).map(|_| {
        let store = h.store.clone();
        async move { store.claim_due_notices(at(10), at(1000), 5).await.unwrap() }
    }))
    .await;
    let mut ids: Vec<String> = claims.iter().flatten().map(|c| c.id.clone()).collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a row was claimed twice: {claims:?}");
    assert_eq!(total, 20, "every due row is claimed by someone");
}

async fn notice_prefs_default_on_and_are_kept_with_their_record(h: &Harness) {
    use okaz_core::notice::NoticePrefs;
    let s = &*h.store;
    let anna = Pseudonym("ps-anna".into());
    assert_eq!(s.notice_prefs(&anna).await.unwrap(), NoticePrefs::default());
    let off = NoticePrefs {
        sms: false,
        email: true,
    };
    let mut record = entry(
        at(1),
        AuditEvent::NoticePrefsChanged,
        audit::CITIZEN_ACTOR,
        "portal",
    );
    record.citizen = Some(anna.0.clone());
    s.set_notice_prefs(&anna, off, at(1), record.clone())
        .await
        .unwrap();
    assert_eq!(s.notice_prefs(&anna).await.unwrap(), off);
    let on = NoticePrefs::default();
    s.set_notice_prefs(&anna, on, at(2), record).await.unwrap();
    assert_eq!(s.notice_prefs(&anna).await.unwrap(), on);
    assert_eq!(
        s.notice_prefs(&Pseudonym("ps-bob".into())).await.unwrap(),
        NoticePrefs::default()
    );
    let chain = s.audit_chain(audit::CITIZEN_ACTOR).await.unwrap();
    assert_eq!(
        chain
            .iter()
            .filter(|r| r.entry.event == AuditEvent::NoticePrefsChanged)
            .count(),
        2
    );
}

async fn completing_a_noticed_challenge_reads_the_choices_once(h: &Harness) {
    use okaz_core::notice::NoticePrefs;
    let s = &*h.store;
    let o = officer(s, "anna", "U1").await;
    let citizen = Pseudonym("ps-citizen".into());
    let off = NoticePrefs {
        sms: false,
        email: false,
    };
    let mut record = entry(
        at(0),
        AuditEvent::NoticePrefsChanged,
        audit::CITIZEN_ACTOR,
        "portal",
    );
    record.citizen = Some(citizen.0.clone());
    s.set_notice_prefs(&citizen, off, at(0), record)
        .await
        .unwrap();
    // The helper's challenge is about `ps-citizen`.
    let id = challenge(s, &o, "s1", 3).await;
    // A bundle's two parts complete the challenge together.
    let released = entry(at(5), AuditEvent::DocumentReleased, &o.id, "U1");
    let parts = vec![released.clone(), released.clone()];
    let first = s
        .complete_challenge(&id, parts.clone(), &citizen)
        .await
        .unwrap();
    assert_eq!(first, Some(off), "the choices come with the release");
    assert_eq!(h.sealed_subject(&id).await, Some(None), "the seal is wiped");
    let count = |c: Vec<okaz_core::audit::StoredRecord>| {
        c.iter()
            .filter(|r| r.entry.event == AuditEvent::DocumentReleased)
            .count()
    };
    assert_eq!(count(s.audit_chain(&o.id).await.unwrap()), 2);
    let second = s.complete_challenge(&id, parts, &citizen).await.unwrap();
    assert_eq!(second, None, "used once only");
    assert_eq!(
        count(s.audit_chain(&o.id).await.unwrap()),
        2,
        "a second use writes nothing"
    );
}

async fn disputes_once_per_check_within_the_daily_limit_and_resolved_in_their_unit(h: &Harness) {
    use okaz_core::ports::{DisputeOpened, NewDispute, Resolution};
    let s = &*h.store;
    let anna = Pseudonym("ps-anna".into());
    let dispute = |n: u8, verification: &str, t: DateTime<Utc>| NewDispute {
        id: nid(n),
        verification: verification.to_string(),
        citizen: anna.clone(),
        unit: "U1".into(),
        officer_id: "officer-1".into(),
        comment: "not me".into(),
        opened_at: t,
    };
    let record = |t| {
        let mut e = entry(t, AuditEvent::DisputeOpened, audit::CITIZEN_ACTOR, "U1");
        e.citizen = Some(anna.0.clone());
        e
    };
    assert_eq!(
        s.open_dispute(dispute(1, "v1", at(10)), at(0), 2, record(at(10)))
            .await
            .unwrap(),
        DisputeOpened::Opened
    );
    assert_eq!(
        s.open_dispute(dispute(2, "v1", at(11)), at(0), 2, record(at(11)))
            .await
            .unwrap(),
        DisputeOpened::AlreadyDisputed
    );
    assert_eq!(
        s.open_dispute(dispute(3, "v2", at(12)), at(0), 2, record(at(12)))
            .await
            .unwrap(),
        DisputeOpened::Opened
    );
    assert_eq!(
        s.open_dispute(dispute(4, "v3", at(13)), at(0), 2, record(at(13)))
            .await
            .unwrap(),
        DisputeOpened::LimitReached,
        "two a day"
    );
    // The next day counts afresh.
    assert_eq!(
        s.open_dispute(
            dispute(5, "v3", at(90_000)),
            at(86_400),
            2,
            record(at(90_000))
        )
        .await
        .unwrap(),
        DisputeOpened::Opened
    );
    let mine = s.citizen_disputes(&anna).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|d| d.verification.as_str())
            .collect::<Vec<_>>(),
        vec!["v3", "v2", "v1"],
        "newest first"
    );
    assert_eq!(s.unit_disputes("U1", true).await.unwrap().len(), 3);
    assert!(s.unit_disputes("U2", false).await.unwrap().is_empty());
    let resolution = Resolution {
        at: at(100),
        by: "security-1".into(),
        reason: "checked with the officer".into(),
    };
    let done = entry(at(100), AuditEvent::DisputeResolved, "security-1", "U1");
    assert!(
        !s.resolve_dispute(&nid(1), "U2", resolution.clone(), done.clone())
            .await
            .unwrap(),
        "another unit cannot resolve it"
    );
    assert!(s
        .resolve_dispute(&nid(1), "U1", resolution.clone(), done.clone())
        .await
        .unwrap());
    assert!(
        !s.resolve_dispute(&nid(1), "U1", resolution.clone(), done.clone())
            .await
            .unwrap(),
        "once"
    );
    assert!(!s
        .resolve_dispute("not-an-id", "U1", resolution.clone(), done)
        .await
        .unwrap());
    let open = s.unit_disputes("U1", true).await.unwrap();
    assert_eq!(open.len(), 2);
    let all = s.unit_disputes("U1", false).await.unwrap();
    let resolved = all.iter().find(|d| d.id == nid(1)).unwrap();
    assert_eq!(
        resolved.resolved,
        Some(Resolution {
            at: micros(at(100)),
            ..resolution
        })
    );
    let records = s.audit_chain(audit::CITIZEN_ACTOR).await.unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.entry.event == AuditEvent::DisputeOpened)
            .count(),
        3,
        "only opened disputes are on record"
    );
    assert!(s
        .audit_chain("security-1")
        .await
        .unwrap()
        .iter()
        .any(|r| r.entry.event == AuditEvent::DisputeResolved));
}

// ---------------------------------------------------------------- break-glass

fn new_break_glass(o: &Officer, created: i64) -> okaz_core::ports::NewBreakGlass {
    okaz_core::ports::NewBreakGlass {
        id: uuid::Uuid::new_v4().to_string(),
        officer_id: o.id.clone(),
        unit: o.unit.clone(),
        overrides: okaz_core::break_glass::Override::NoCode,
        justification: "unconscious person, road accident".to_string(),
        document: "id_card".to_string(),
        purpose: "identity_confirmation".to_string(),
        case_reference: None,
        created_at: at(created),
        deadline: at(created + 3600),
    }
}

fn used_entry(o: &Officer, bg: &okaz_core::ports::NewBreakGlass) -> (AuditEntry, AuditEntry) {
    let base = entry(
        bg.created_at,
        AuditEvent::VerificationRefused,
        &o.id,
        &o.unit,
    )
    .about("ps-citizen", DocumentType::IdCard, "identity_confirmation")
    .verification(&bg.id);
    let mut used = base
        .clone()
        .as_event(AuditEvent::BreakGlassUsed)
        .outcome(Outcome::NoCode);
    used.reason = Some(bg.justification.clone());
    (used, base.refused(ErrorCode::BreakGlassLimitReached))
}

async fn start_bg(
    s: &dyn Store,
    o: &Officer,
    bg: okaz_core::ports::NewBreakGlass,
    cap: u32,
) -> okaz_core::ports::BreakGlassStart {
    let (used, refused) = used_entry(o, &bg);
    s.start_break_glass(bg, today(), cap, used, refused)
        .await
        .unwrap()
}

async fn break_glass_counts_to_its_cap_and_refuses_a_locked_officer(h: &Harness) {
    use okaz_core::ports::BreakGlassStart;
    let s = h.store();
    let o = officer(&*s, "medic", "PRM-1").await;
    let first = new_break_glass(&o, 0);
    let first_id = first.id.clone();
    assert_eq!(
        start_bg(&*s, &o, first, 2).await,
        BreakGlassStart::Started { used: 1 }
    );
    assert_eq!(
        start_bg(&*s, &o, new_break_glass(&o, 1), 2).await,
        BreakGlassStart::Started { used: 2 }
    );
    let refused = new_break_glass(&o, 2);
    let refused_id = refused.id.clone();
    assert_eq!(
        start_bg(&*s, &o, refused, 2).await,
        BreakGlassStart::CapReached
    );
    assert_eq!(s.break_glass_used(&o.id, today()).await.unwrap(), 2);
    assert!(
        s.break_glass(&refused_id).await.unwrap().is_none(),
        "a refused break-glass leaves no record to countersign"
    );
    let stored = s.break_glass(&first_id).await.unwrap().unwrap();
    assert_eq!(stored.status, okaz_core::break_glass::Status::Pending);
    assert_eq!(stored.justification, "unconscious person, road accident");
    assert_eq!(stored.created_at, micros(at(0)));
    assert_eq!(stored.deadline, micros(at(3600)));
    assert_eq!(stored.officer_id, o.id);
    // The counter is per day.
    let tomorrow = today().succ_opt().unwrap();
    assert_eq!(s.break_glass_used(&o.id, tomorrow).await.unwrap(), 0);

    // A locked officer may not break glass (lock by the daily limit).
    let other = officer(&*s, "medic2", "PRM-1").await;
    s.count_attempt(&other.id, today(), 0, attempt(&other, at(5)))
        .await
        .unwrap();
    assert_eq!(
        start_bg(&*s, &other, new_break_glass(&other, 6), 2).await,
        BreakGlassStart::Locked
    );
    assert_eq!(s.break_glass_used(&other.id, today()).await.unwrap(), 0);
    assert_eq!(
        events(&*s, &o.id).await,
        vec![
            ev(AuditEvent::BreakGlassUsed, "no_code"),
            ev(AuditEvent::BreakGlassUsed, "no_code"),
            ev(AuditEvent::VerificationRefused, "break_glass_limit_reached"),
        ]
    );
    let listed = s.break_glass_of_unit("PRM-1", at(-10)).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].created_at >= listed[1].created_at, "newest first");
    assert!(s
        .break_glass_of_unit("OTHER", at(-10))
        .await
        .unwrap()
        .is_empty());
    assert_chains_verify(&*s).await;
}

async fn concurrent_break_glass_never_passes_the_cap(h: &Harness) {
    use okaz_core::ports::BreakGlassStart;
    let s = h.store();
    let o = officer(&*s, "medic", "PRM-1").await;
    let tasks = (0..24).map(|i| {
        let s = Arc::clone(&s);
        let o = o.clone();
        tokio::spawn(async move { start_bg(&*s, &o, new_break_glass(&o, i), 3).await })
    });
    let outcomes: Vec<BreakGlassStart> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let started = outcomes
        .iter()
        .filter(|o| matches!(o, BreakGlassStart::Started { .. }))
        .count();
    assert_eq!(started, 3, "{outcomes:?}");
    assert_eq!(s.break_glass_used(&o.id, today()).await.unwrap(), 3);
    assert_eq!(
        s.break_glass_of_unit("PRM-1", at(-10)).await.unwrap().len(),
        3
    );
    assert_chains_verify(&*s).await;
}

async fn break_glass_is_decided_once_and_a_rejection_locks(h: &Harness) {
    use okaz_core::break_glass::{Decision, Status};
    let s = h.store();
    let o = officer(&*s, "medic", "PRM-1").await;
    let boss = officer(&*s, "boss", "PRM-1").await;
    let signed = new_break_glass(&o, 0);
    let signed_id = signed.id.clone();
    start_bg(&*s, &o, signed, 5).await;
    let decision = |event, id: &str, t| {
        let mut e = AuditEntry::on_officer(at(t), event, &boss.id, "PRM-1", &o.id).verification(id);
        e.reason = Some("confirmed with the dispatcher".into());
        e
    };
    let a = decision(AuditEvent::BreakGlassCountersigned, &signed_id, 100);
    let b = a.clone();
    let (first, second) = futures::join!(
        s.decide_break_glass(
            &signed_id,
            Decision::Countersign,
            &boss.id,
            "ok",
            at(100),
            a
        ),
        s.decide_break_glass(
            &signed_id,
            Decision::Countersign,
            &boss.id,
            "ok",
            at(100),
            b
        ),
    );
    assert!(
        first.unwrap() ^ second.unwrap(),
        "two supervisors at once: exactly one decision"
    );
    let got = s.break_glass(&signed_id).await.unwrap().unwrap();
    assert_eq!(got.status, Status::Countersigned);
    assert_eq!(got.decided_by.as_deref(), Some(boss.id.as_str()));
    assert_eq!(got.decided_at, Some(micros(at(100))));
    assert!(s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .is_none());

    // Too late: the deadline has passed (the sweeper's turn, not the supervisor's).
    let late = new_break_glass(&o, 10);
    let late_id = late.id.clone();
    start_bg(&*s, &o, late, 5).await;
    let e = decision(AuditEvent::BreakGlassCountersigned, &late_id, 3610);
    assert!(!s
        .decide_break_glass(&late_id, Decision::Countersign, &boss.id, "ok", at(3610), e)
        .await
        .unwrap());
    assert_eq!(
        s.break_glass(&late_id).await.unwrap().unwrap().status,
        Status::Pending
    );

    // A rejection locks the officer, in the same transaction.
    let rejected = new_break_glass(&o, 20);
    let rejected_id = rejected.id.clone();
    start_bg(&*s, &o, rejected, 5).await;
    let e = decision(AuditEvent::BreakGlassRejected, &rejected_id, 200);
    assert!(s
        .decide_break_glass(
            &rejected_id,
            Decision::Reject,
            &boss.id,
            "no emergency",
            at(200),
            e
        )
        .await
        .unwrap());
    let lock = s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .unwrap();
    assert_eq!(lock.reason, "break_glass_rejected");
    assert_eq!(
        events(&*s, &boss.id).await,
        vec![
            ev(AuditEvent::BreakGlassCountersigned, "ok"),
            ev(AuditEvent::BreakGlassRejected, "ok"),
            ev(AuditEvent::AccountLocked, "break_glass_rejected"),
        ]
    );
    assert!(!s
        .decide_break_glass(
            "not-an-id",
            Decision::Reject,
            &boss.id,
            "x",
            at(1),
            entry(at(1), AuditEvent::BreakGlassRejected, &boss.id, "PRM-1")
        )
        .await
        .unwrap());
    assert_chains_verify(&*s).await;
}

async fn break_glass_sweep_expires_once_and_locks_the_officer(h: &Harness) {
    use okaz_core::break_glass::Status;
    let s = h.store();
    let o = officer(&*s, "medic", "PRM-1").await;
    let bg = new_break_glass(&o, 0);
    let id = bg.id.clone();
    start_bg(&*s, &o, bg, 5).await;
    assert!(s.overdue_break_glass(at(3599)).await.unwrap().is_empty());
    let overdue = s.overdue_break_glass(at(3600)).await.unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].id, id);
    let expiry = || {
        entry(at(3600), AuditEvent::BreakGlassExpired, "system", "PRM-1")
            .verification(&id)
            .outcome(Outcome::BreakGlassUnsigned)
    };
    // Not yet due: nothing happens.
    assert!(!s.expire_break_glass(&id, at(3599), expiry()).await.unwrap());
    // Sweepers of several replicas at once: one expiry, one lock.
    let tasks = (0..6).map(|_| {
        let s = Arc::clone(&s);
        let id = id.clone();
        let e = expiry();
        tokio::spawn(async move { s.expire_break_glass(&id, at(3600), e).await.unwrap() })
    });
    let won: Vec<bool> = join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
    let got = s.break_glass(&id).await.unwrap().unwrap();
    assert_eq!(got.status, Status::Expired);
    let lock = s
        .officer_by_id(&o.id)
        .await
        .unwrap()
        .unwrap()
        .locked
        .unwrap();
    assert_eq!(lock.reason, "break_glass_unsigned");
    assert!(s.overdue_break_glass(at(9999)).await.unwrap().is_empty());
    assert_eq!(
        events(&*s, "system")
            .await
            .into_iter()
            .filter(|(e, _)| e.starts_with("break_glass") || e == "account_locked")
            .collect::<Vec<_>>(),
        vec![
            ev(AuditEvent::BreakGlassExpired, "break_glass_unsigned"),
            ev(AuditEvent::AccountLocked, "break_glass_unsigned"),
        ]
    );
    assert_chains_verify(&*s).await;
}
