//! The sandbox's HTTPS server: routing to the registers, the test tooling
//! endpoints, the Kannel-compatible SMS gateway and the phones' inboxes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, StatusCode};
use okaz_protocol::Pesel;
use okaz_registry::registers::Register;
use rand::Rng as _;
use tokio::sync::watch;

use crate::directory::{find, Directory};
use crate::faults::{Fault, FaultRequest, Faults};
use crate::inbox::{normalise, Inboxes};
use crate::oidc;
use crate::population::{
    citizen, citizen_of_id_card, citizen_of_licence, citizen_of_plate, index_of, vin_owner, Citizen,
};
use crate::render;
use crate::respond::{json, query_map, reply, text, Resp};
use crate::sync::lock;

/// Username the sandbox's sendsms accepts.
pub const KANNEL_USERNAME: &str = "okaz";
/// Password the sandbox's sendsms accepts.
pub const KANNEL_PASSWORD: &str = "okaz-sandbox";

/// Bytes of an oversized answer: above any sensible client limit.
const OVERSIZED: usize = 3 * 1024 * 1024;

/// Shared server state.
pub(crate) struct State {
    pub seed: u64,
    pub population: u64,
    pub faults: Mutex<Faults>,
    pub inboxes: Mutex<Inboxes>,
    /// E-mail / digital mailbox inboxes, by lower-case address.
    pub mailboxes: Mutex<Inboxes>,
    pub shutdown: watch::Receiver<bool>,
    pub malformed_turn: AtomicU64,
    /// The eID (OpenID Connect) provider.
    pub oidc: oidc::Provider,
}

impl State {
    /// The population this sandbox serves.
    fn directory(&self) -> Directory {
        Directory {
            seed: self.seed,
            population: self.population,
        }
    }
}

/// Resolves once the sandbox is told to stop (or its owner is gone).
pub(crate) async fn stopped(mut rx: watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Entry point of every request.
pub(crate) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let path = req.uri().path().to_string();
    let q = query_map(&req);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let resp = match (req.method().clone(), segs.as_slice()) {
        (Method::GET, ["healthz"]) => text(StatusCode::OK, "ok"),
        (Method::GET, ["_population"]) => population(&state, &q).await,
        (Method::GET, ["_faults"]) => json(StatusCode::OK, &*lock(&state.faults)),
        (Method::POST, ["_faults"]) => post_fault(&state, req).await,
        (Method::DELETE, ["_faults"]) => {
            let mut f = lock(&state.faults);
            match q.get("register") {
                Some(r) => f.set(r, Fault::default()),
                None => *f = Faults::none(),
            }
            text(StatusCode::NO_CONTENT, "")
        }
        (Method::GET, ["cgi-bin", "sendsms"]) => sendsms(&state, &q).await,
        (Method::GET, ["phones", msisdn, "messages"]) => match normalise(msisdn) {
            Some(p) => json(StatusCode::OK, &lock(&state.inboxes).messages(&p)),
            None => text(StatusCode::BAD_REQUEST, "not a phone number"),
        },
        (Method::POST, ["mail", "send"]) => send_mail(&state, req).await,
        (Method::GET, ["mailboxes", address, "messages"]) => {
            match crate::inbox::normalise_address(address) {
                Some(a) => json(StatusCode::OK, &lock(&state.mailboxes).messages(&a)),
                None => text(StatusCode::BAD_REQUEST, "not an address"),
            }
        }
        (_, [".well-known", ..]) | (_, ["oidc", ..]) => {
            oidc::handle(&state.oidc, state.directory(), req, &segs, &q).await
        }
        (Method::GET, _) => match register_route(&path, &q) {
            Some((register, key)) => serve_register(&state, register, key).await,
            None => text(StatusCode::NOT_FOUND, "no such endpoint"),
        },
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    };
    Ok(resp)
}

/// What a register request identifies the subject by.
enum Key {
    Pesel(String),
    Vin(String),
    /// A registration number, as typed (normalised when served).
    Plate(String),
    /// An identity card's series and number, or a licence number, as sent.
    Number(String),
}

fn register_route(path: &str, q: &HashMap<String, String>) -> Option<(Register, Key)> {
    let path = path.trim_start_matches('/');
    // The police lookup by plate lives beside, not under, the owners' path.
    if path == okaz_registry::registers::plates::PLATE_PATH {
        return Some((Register::Vehicles, Key::Plate(q.get("nr_rej")?.clone())));
    }
    // The lookups by document number, beside their registers' by-PESEL paths.
    if path == okaz_registry::registers::numbers::ID_CARD_PATH {
        return Some((Register::Persons, Key::Number(q.get("seriaNumer")?.clone())));
    }
    if path == okaz_registry::registers::numbers::LICENCE_PATH {
        return Some((
            Register::Drivers,
            Key::Number(q.get("licenceNumber")?.clone()),
        ));
    }
    for r in Register::ALL {
        let Some(rest) = path.strip_prefix(r.prefix()) else {
            continue;
        };
        let key = match r {
            Register::Vehicles => Key::Pesel(rest.strip_suffix("/pojazdy")?.to_string()),
            Register::Insurance if rest.is_empty() => Key::Vin(q.get("vin")?.clone()),
            Register::Students | Register::LargeFamily if rest.is_empty() => {
                Key::Pesel(q.get("pesel")?.clone())
            }
            Register::Insurance | Register::Students | Register::LargeFamily => return None,
            _ if !rest.is_empty() && !rest.contains('/') => Key::Pesel(rest.to_string()),
            _ => return None,
        };
        return Some((r, key));
    }
    None
}

/// Applies the register's fault; `Some(response)` replaces the real answer.
async fn apply_fault(state: &State, fault: &Fault) -> Option<Resp> {
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.hang {
        // Holds the request open until the sandbox stops: a register that hangs.
        stopped(state.shutdown.clone()).await;
        return Some(text(StatusCode::SERVICE_UNAVAILABLE, "shutting down"));
    }
    if fault.error_rate > 0.0 && rand::thread_rng().gen::<f64>() < fault.error_rate {
        return Some(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error (injected)",
        ));
    }
    if fault.oversized {
        let mut body = Vec::with_capacity(OVERSIZED + 16);
        body.extend_from_slice(b"{\"padding\":\"");
        body.resize(OVERSIZED, b'x');
        body.extend_from_slice(b"\"}");
        return Some(reply(StatusCode::OK, "application/json", body));
    }
    None
}

/// Breaks a valid answer in one of several ways, rotating so that tests see each.
fn corrupt(state: &State, body: Vec<u8>) -> Vec<u8> {
    match state.malformed_turn.fetch_add(1, Ordering::Relaxed) % 3 {
        0 => body[..body.len() / 2].to_vec(),
        1 => b"{\"unexpected\":true}".to_vec(),
        _ => {
            // Same shape, but every date becomes an impossible one.
            let s = String::from_utf8_lossy(&body).into_owned();
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(pos) = rest.find("\"19").or_else(|| rest.find("\"20")) {
                out.push_str(&rest[..pos]);
                out.push_str("\"2024-02-31");
                rest = rest.get(pos + 11..).unwrap_or("");
            }
            out.push_str(rest);
            if out == s {
                b"[]".to_vec()
            } else {
                out.into_bytes()
            }
        }
    }
}

fn lookup(state: &State, pesel: &str) -> Option<Citizen> {
    let p = Pesel::parse(pesel).ok()?;
    index_of(state.seed, state.population, &p).map(|i| citizen(state.seed, i))
}

async fn serve_register(state: &State, register: Register, key: Key) -> Resp {
    let fault = lock(&state.faults).get(register.name());
    if let Some(r) = apply_fault(state, &fault).await {
        return r;
    }
    let body: Option<Vec<u8>> = match key {
        Key::Vin(vin) => vin_owner(state.seed, &vin)
            .filter(|(i, _)| *i < state.population)
            .map(|(i, k)| (citizen(state.seed, i), k))
            .filter(|(c, k)| c.vehicles.get(*k).is_some_and(|v| v.vin == vin))
            .and_then(|(c, k)| serde_json::to_vec(&render::insurance(&c, k)).ok()),
        // Unknown, never issued and malformed plates alike are 404.
        Key::Plate(p) => okaz_registry::ids::normalise_plate(&p)
            .and_then(|p| citizen_of_plate(state.seed, state.population, &p))
            .and_then(|(c, k)| serde_json::to_vec(&render::vehicle_by_plate(&c, k)?).ok()),
        // Unknown, never issued and malformed numbers alike are 404: exactly
        // the number asked, or nothing.
        Key::Number(n) => match register {
            Register::Persons => citizen_of_id_card(state.seed, state.population, &n)
                .and_then(|c| serde_json::to_vec(&render::id_card_by_number(&c)).ok()),
            Register::Drivers => citizen_of_licence(state.seed, state.population, &n)
                .and_then(|c| serde_json::to_vec(&render::licence_by_number(&c)?).ok()),
            _ => None,
        },
        Key::Pesel(p) => lookup(state, &p).and_then(|c| {
            let v = match register {
                Register::Persons => serde_json::to_vec(&render::persons(&c)),
                Register::Drivers => serde_json::to_vec(&render::drivers(&c)?),
                Register::Vehicles => serde_json::to_vec(&render::vehicles(&c)?),
                Register::Students => serde_json::to_vec(&render::students(&c)),
                Register::Pensioners => serde_json::to_vec(&render::pensioners(&c)?),
                Register::LargeFamily => serde_json::to_vec(&render::large_family(&c)),
                Register::Schools => serde_json::to_vec(&render::schools(&c)?),
                Register::Contacts => serde_json::to_vec(&render::contacts(&c)),
                Register::Insurance => return None,
            };
            v.ok()
        }),
    };
    match body {
        Some(b) if fault.malformed => reply(StatusCode::OK, "application/json", corrupt(state, b)),
        Some(b) => reply(StatusCode::OK, "application/json", b),
        None => json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "not_found", "register": register.name()}),
        ),
    }
}

async fn population(state: &Arc<State>, q: &HashMap<String, String>) -> Resp {
    let tag = q.get("tag").cloned();
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .min(1000);
    let start = q
        .get("start")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    let (seed, pop) = (state.seed, state.population);
    // Scanning for a rare tag is CPU work; keep it off the reactor threads.
    match tokio::task::spawn_blocking(move || find(seed, pop, tag.as_deref(), start, limit)).await {
        Ok(list) => json(StatusCode::OK, &list),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "scan failed"),
    }
}

async fn post_fault(state: &State, req: Request<Incoming>) -> Resp {
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let fr: FaultRequest = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(_) => {
            return text(
                StatusCode::BAD_REQUEST,
                "expected {register, latency_ms, error_rate, hang, malformed, oversized}",
            )
        }
    };
    if !Faults::known_target(&fr.register) {
        return text(StatusCode::BAD_REQUEST, "unknown register");
    }
    if !(0.0..=1.0).contains(&fr.fault.error_rate) {
        return text(StatusCode::BAD_REQUEST, "error_rate must be within 0..=1");
    }
    tracing::info!(register = %fr.register, "fault set");
    let mut f = lock(&state.faults);
    f.set(&fr.register, fr.fault);
    json(StatusCode::OK, &*f)
}

/// One message to a mailbox (`POST /mail/send`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MailRequest {
    to: String,
    subject: String,
    text: String,
}

/// The sandbox's e-mail / digital mailbox delivery endpoint: the same
/// `mail` fault as a register can make it slow or failing. The inbox keeps
/// the subject, a blank line, and the text.
async fn send_mail(state: &State, req: Request<Incoming>) -> Resp {
    let fault = lock(&state.faults).get("mail");
    if let Some(r) = apply_fault(state, &fault).await {
        return r;
    }
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "body too large"),
    };
    let Ok(m) = serde_json::from_slice::<MailRequest>(&body) else {
        return text(StatusCode::BAD_REQUEST, "expected {to, subject, text}");
    };
    let Some(to) = crate::inbox::normalise_address(&m.to) else {
        return text(StatusCode::BAD_REQUEST, "not an address");
    };
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    lock(&state.mailboxes).deliver(to, format!("{}\n\n{}", m.subject, m.text), at);
    text(StatusCode::ACCEPTED, "accepted")
}

async fn sendsms(state: &State, q: &HashMap<String, String>) -> Resp {
    let fault = lock(&state.faults).get("sms");
    if fault.latency_ms > 0 || fault.hang {
        if let Some(r) = apply_fault(
            state,
            &Fault {
                malformed: false,
                oversized: false,
                error_rate: 0.0,
                ..fault.clone()
            },
        )
        .await
        {
            return r;
        }
    }
    let user_ok = q.get("username").map(String::as_str) == Some(KANNEL_USERNAME);
    let pass_ok = q.get("password").map(String::as_str) == Some(KANNEL_PASSWORD);
    if !(user_ok && pass_ok) {
        return text(StatusCode::FORBIDDEN, "Authorization failed for sendsms");
    }
    let (Some(to), Some(body)) = (q.get("to"), q.get("text")) else {
        return text(StatusCode::BAD_REQUEST, "Missing receiver number, rejected");
    };
    if fault.error_rate > 0.0 && rand::thread_rng().gen::<f64>() < fault.error_rate {
        return text(StatusCode::SERVICE_UNAVAILABLE, "Sending failed.");
    }
    let Some(phone) = normalise(to) else {
        return text(StatusCode::BAD_REQUEST, "Invalid receiver number, rejected");
    };
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    lock(&state.inboxes).deliver(phone, body.clone(), at);
    tracing::debug!("sms accepted");
    text(StatusCode::ACCEPTED, "0: Accepted for delivery")
}
