//! The load: officers logging in with real TOTP codes, and full flows (start
//! a check, read the code from the citizen's inbox at the sandbox, give it).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use okaz_protocol::{
    CodeRequest, DocumentType, LoginRequest, SessionCreated, Subject, Verification,
    VerificationRequest,
};
use serde::Deserialize;
use totp_rs::TOTP;

use crate::client::Client;

/// TOTP step length, as the broker uses (RFC 6238 default).
const STEP_SECONDS: u64 = 30;

/// Where the load goes.
pub struct Target {
    /// HTTPS client trusting the brokers' and the sandbox's certificates.
    pub client: Client,
    /// Broker base URLs (`https://127.0.0.1:PORT`), one per replica.
    pub brokers: Vec<String>,
    /// The sandbox base URL (ends with `/`).
    pub sandbox: String,
}

/// An officer's credentials, as the admin API handed them out.
pub struct Officer {
    /// Login.
    pub login: String,
    /// Password.
    pub password: String,
    /// The authenticator, from the `otpauth://` URI.
    pub totp: TOTP,
    /// The last TOTP step used (the broker never accepts a step twice).
    pub last_step: u64,
}

impl Officer {
    /// Credentials from a login, a password and an `otpauth://` URI.
    pub fn new(login: String, password: String, totp_uri: &str) -> Result<Officer> {
        let totp = TOTP::from_url(totp_uri).map_err(|e| anyhow!("TOTP URI of {login}: {e:?}"))?;
        Ok(Officer {
            login,
            password,
            totp,
            last_step: 0,
        })
    }

    /// The earliest step the broker accepts now that this officer has not
    /// used yet (steps must rise). The broker allows one step of drift either
    /// way, judged when the request arrives, so three steps are usable: the
    /// previous one only while a few seconds of the current step remain.
    /// `None` when all are used.
    fn usable_step(&self) -> Option<u64> {
        let unix = unix_now();
        let now = unix / STEP_SECONDS;
        let previous = (unix % STEP_SECONDS + 3 < STEP_SECONDS && now > 0).then(|| now - 1);
        previous
            .into_iter()
            .chain([now, now + 1])
            .find(|s| *s > self.last_step)
    }

    /// Logs in at `broker` with the TOTP code of the next usable step.
    pub async fn login(&mut self, client: &Client, broker: &str) -> Result<String> {
        let step = self
            .usable_step()
            .with_context(|| format!("{}: both usable TOTP steps are spent", self.login))?;
        self.last_step = step;
        let body = LoginRequest {
            login: self.login.clone(),
            password: self.password.clone(),
            totp: self.totp.generate(step * STEP_SECONDS),
        };
        let created: SessionCreated = client
            .post_json(&format!("{broker}/v1/sessions"), None, &body, 201)
            .await?;
        Ok(created.token)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A synthetic citizen who has activated the service.
#[derive(Clone, Debug, Deserialize)]
pub struct Citizen {
    /// PESEL.
    pub pesel: String,
    /// Phone number (the sandbox inbox's key).
    pub phone: String,
}

/// One flow in flight at a time: an officer's session, a citizen, a broker.
#[derive(Clone)]
pub struct Worker {
    /// Bearer token.
    pub token: String,
    /// The citizen checked, again and again (each worker has its own, so
    /// the newest SMS in that inbox is always this worker's code).
    pub citizen: Citizen,
    /// Index into [`Target::brokers`].
    pub broker: usize,
}

/// Latencies of one window.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    /// `POST /v1/verifications` (count, challenge, SMS).
    pub start: Vec<Duration>,
    /// Reading the inbox at the sandbox (the citizen's side).
    pub inbox: Vec<Duration>,
    /// `POST /v1/verifications/{id}/code` (check code, fetch, release).
    pub code: Vec<Duration>,
    /// The whole flow.
    pub flow: Vec<Duration>,
}

impl Latencies {
    fn extend(&mut self, o: Latencies) {
        self.start.extend(o.start);
        self.inbox.extend(o.inbox);
        self.code.extend(o.code);
        self.flow.extend(o.flow);
    }
}

/// What one window of flows did.
#[derive(Debug, Default, Clone)]
pub struct Window {
    /// Completed flows.
    pub flows: u64,
    /// From the first start to the last worker's end.
    pub elapsed: Duration,
    /// Latencies of completed steps.
    pub latencies: Latencies,
    /// Failures by step and answer.
    pub errors: BTreeMap<String, u64>,
}

impl Window {
    /// Completed flows per second.
    pub fn rate(&self) -> f64 {
        self.flows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

#[derive(Deserialize)]
struct Message {
    text: String,
}

/// The six-digit code in an SMS text.
fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .map(str::to_string)
}

enum Failure {
    /// Worth trying again.
    Retry(String),
    /// The worker cannot go on (e.g. its officer is locked).
    Stop(String),
}

async fn one_flow(t: &Target, w: &Worker, lat: &mut Latencies) -> Result<(), Failure> {
    let broker = t.brokers.get(w.broker).map(String::as_str).unwrap_or("");
    let io = |step: &str, e: anyhow::Error| Failure::Retry(format!("{step}: {e:#}"));
    let began = Instant::now();
    let body = VerificationRequest {
        subject: Subject {
            pesel: Some(w.citizen.pesel.clone()),
            ..Default::default()
        },
        document: DocumentType::IdCard,
        purpose: "identity_confirmation".into(),
        case_reference: None,
        photo: None,
    };
    let body = serde_json::to_vec(&body).map_err(|e| io("start", e.into()))?;
    let r = t
        .client
        .send(
            http::Method::POST,
            &format!("{broker}/v1/verifications"),
            Some(&w.token),
            Some(body),
        )
        .await
        .map_err(|e| io("start", e))?;
    if r.status != 201 {
        let what = format!("start: {}", r.problem());
        return Err(if r.status == 423 || r.status == 401 {
            Failure::Stop(what)
        } else {
            Failure::Retry(what)
        });
    }
    let started: Verification =
        serde_json::from_slice(&r.body).map_err(|e| io("start", e.into()))?;
    let t1 = Instant::now();
    lat.start.push(t1 - began);

    let inbox: Vec<Message> = t
        .client
        .get_json(&format!("{}phones/{}/messages", t.sandbox, w.citizen.phone))
        .await
        .map_err(|e| io("inbox", e))?;
    let code = inbox
        .last()
        .and_then(|m| code_in(&m.text))
        .ok_or_else(|| Failure::Retry("inbox: no code".into()))?;
    let t2 = Instant::now();
    lat.inbox.push(t2 - t1);

    let body =
        serde_json::to_vec(&CodeRequest { code, photo: None }).map_err(|e| io("code", e.into()))?;
    let r = t
        .client
        .send(
            http::Method::POST,
            &format!("{broker}/v1/verifications/{}/code", started.id),
            Some(&w.token),
            Some(body),
        )
        .await
        .map_err(|e| io("code", e))?;
    if r.status != 200 {
        return Err(Failure::Retry(format!("code: {}", r.problem())));
    }
    let t3 = Instant::now();
    lat.code.push(t3 - t2);
    lat.flow.push(t3 - began);
    Ok(())
}

/// Keeps one flow in flight per worker until `duration` has passed; each
/// worker finishes the flow it is in, so every flow counted is whole.
pub async fn run_flows(t: Arc<Target>, workers: &[Worker], duration: Duration) -> Window {
    let began = Instant::now();
    let deadline = began + duration;
    let tasks: Vec<_> = workers
        .iter()
        .cloned()
        .map(|w| {
            let t = t.clone();
            tokio::spawn(async move {
                let mut lat = Latencies::default();
                let mut errors: BTreeMap<String, u64> = BTreeMap::new();
                let mut flows = 0u64;
                while Instant::now() < deadline {
                    match one_flow(&t, &w, &mut lat).await {
                        Ok(()) => flows += 1,
                        Err(Failure::Retry(e)) => {
                            *errors.entry(e).or_default() += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(Failure::Stop(e)) => {
                            *errors.entry(format!("{e} (worker stopped)")).or_default() += 1;
                            break;
                        }
                    }
                }
                (flows, lat, errors)
            })
        })
        .collect();
    let mut window = Window::default();
    for task in tasks {
        match task.await {
            Ok((flows, lat, errors)) => {
                window.flows += flows;
                window.latencies.extend(lat);
                for (k, v) in errors {
                    *window.errors.entry(k).or_default() += v;
                }
            }
            Err(e) => *window.errors.entry(format!("worker: {e}")).or_default() += 1,
        }
    }
    window.elapsed = began.elapsed();
    window
}

/// What a stream of logins did.
#[derive(Debug, Default, Clone)]
pub struct Logins {
    /// Successful logins.
    pub ok: u64,
    /// From the first login to the last one's answer.
    pub elapsed: Duration,
    /// Latency of successful logins.
    pub latencies: Vec<Duration>,
    /// Failures by answer.
    pub errors: BTreeMap<String, u64>,
    /// Time login tasks waited for an officer with an unused TOTP step
    /// (when not zero, the pool of officers, not the broker, set the pace).
    pub starved: Duration,
}

impl Logins {
    /// Successful logins per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes an officer who has a usable TOTP step from the pool, rotating it.
fn take_ready(pool: &Mutex<VecDeque<Officer>>) -> Option<Officer> {
    let mut q = lock(pool);
    for _ in 0..q.len() {
        let o = q.pop_front()?;
        if o.usable_step().is_some() {
            return Some(o);
        }
        q.push_back(o);
    }
    None
}

/// `concurrency` login loops for `duration`, each taking the next officer
/// from `pool` with a TOTP step still unused, spread over the brokers.
pub async fn run_logins(
    t: Arc<Target>,
    pool: Arc<Mutex<VecDeque<Officer>>>,
    concurrency: usize,
    duration: Duration,
) -> Logins {
    let began = Instant::now();
    let deadline = began + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|i| {
            let (t, pool) = (t.clone(), pool.clone());
            tokio::spawn(async move {
                let mut out = Logins::default();
                let broker = t.brokers[i % t.brokers.len()].clone();
                while Instant::now() < deadline {
                    let Some(mut o) = take_ready(&pool) else {
                        let pause = Duration::from_millis(200);
                        tokio::time::sleep(pause).await;
                        out.starved += pause;
                        continue;
                    };
                    let t0 = Instant::now();
                    match o.login(&t.client, &broker).await {
                        Ok(_) => {
                            out.ok += 1;
                            out.latencies.push(t0.elapsed());
                        }
                        Err(e) => *out.errors.entry(format!("{e:#}")).or_default() += 1,
                    }
                    lock(&pool).push_back(o);
                }
                out
            })
        })
        .collect();
    let mut all = Logins::default();
    for task in tasks {
        match task.await {
            Ok(o) => {
                all.ok += o.ok;
                all.latencies.extend(o.latencies);
                all.starved += o.starved;
                for (k, v) in o.errors {
                    *all.errors.entry(k).or_default() += v;
                }
            }
            Err(e) => *all.errors.entry(format!("login task: {e}")).or_default() += 1,
        }
    }
    all.elapsed = began.elapsed();
    all
}

/// Percentile `p` (0..=1) of durations, nearest rank; zero when empty.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&d, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&d[..1], 0.95), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn the_code_is_found_in_the_sms() {
        assert_eq!(
            code_in("okaz: 123456 is your code for USC-1 (id_card). Do not share it.").as_deref(),
            Some("123456")
        );
    }
}
