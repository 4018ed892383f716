//! Prometheus metrics: the answers to an on-call engineer's questions.
//! Which register or the SMS gateway is slow or failing, and how (latency
//! histograms and errors by kind per upstream, breaker state); is the
//! database pool exhausted; how verifications end, per document; are
//! accounts being locked; are logins queueing for the password hasher; do
//! codes reach phones (delivery reports). No label ever carries a person:
//! labels are routes, statuses, register names, documents and error codes.
//!
//! A handful of series, so plain counters under one lock suffice; gauges
//! read at scrape time come from [`Probes`].

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

impl Histogram {
    fn observe(&mut self, took: Duration) {
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.total += 1;
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    verifications: BTreeMap<String, u64>,
    verification_starts: BTreeMap<(String, String), u64>,
    upstream_latency: BTreeMap<String, Histogram>,
    upstream_errors: BTreeMap<(String, String), u64>,
    delivery_reports: BTreeMap<String, u64>,
    break_glass: BTreeMap<(String, String), u64>,
    signals: BTreeMap<String, u64>,
    client_trust_reloads: BTreeMap<&'static str, u64>,
    notices: BTreeMap<(String, String), u64>,
}

/// Gauges read when Prometheus scrapes, from the parts that know them.
#[derive(Default, Clone, Debug)]
pub struct ProbeValues {
    /// Per upstream (register name): 0 closed, 1 half-open, 2 open.
    pub breakers: Vec<(String, u8)>,
    /// Database pool: connections in use.
    pub pool_in_use: Option<u64>,
    /// Database pool: connections idle.
    pub pool_idle: Option<u64>,
    /// Database pool: requests waiting for a connection.
    pub pool_waiting: Option<u64>,
    /// Logins waiting for a password-hashing slot.
    pub login_queue: Option<u64>,
}

/// Reads the scrape-time gauges.
pub trait Probes: Send + Sync {
    /// The current values.
    fn read(&self) -> ProbeValues;
}

/// The broker's metrics. Cheap to clone; clones share the counters.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Inner>>,
    probes: Arc<Mutex<Vec<Arc<dyn Probes>>>>,
    draining: Arc<std::sync::atomic::AtomicBool>,
    /// The API listener's connection counters (`okaz_connections_*`).
    pub connections: Arc<crate::http::connections::ConnectionStats>,
}

/// Every metric family the broker exports, with its type and help text:
/// the one list that `render` writes headers for (so a family is visible
/// before its first sample) and that the dashboard test checks against.
pub const FAMILIES: &[(&str, &str, &str)] = &[
    (
        "okaz_requests_total",
        "counter",
        "HTTP requests answered, by route pattern and status.",
    ),
    (
        "okaz_request_duration_seconds",
        "histogram",
        "Request latency by route pattern.",
    ),
    (
        "okaz_verifications_total",
        "counter",
        "Verification calls (start and code) by outcome.",
    ),
    (
        "okaz_verification_starts_total",
        "counter",
        "Verification starts by document and outcome.",
    ),
    (
        "okaz_lockout_refusals_total",
        "counter",
        "Verifications refused by a lock or the limit.",
    ),
    (
        "okaz_accounts_locked_total",
        "counter",
        "Accounts locked by the daily limit.",
    ),
    (
        "okaz_upstream_request_duration_seconds",
        "histogram",
        "Latency of calls to registers and the SMS gateway.",
    ),
    (
        "okaz_upstream_errors_total",
        "counter",
        "Failed calls to registers and the SMS gateway, by kind.",
    ),
    (
        "okaz_breaker_state",
        "gauge",
        "Circuit breaker per register: 0 closed, 1 half-open, 2 open.",
    ),
    (
        "okaz_db_pool_connections",
        "gauge",
        "Database pool connections by state (in_use, idle).",
    ),
    (
        "okaz_db_pool_waiting",
        "gauge",
        "Requests waiting for a database connection.",
    ),
    (
        "okaz_login_queue_depth",
        "gauge",
        "Logins waiting for a password-hashing slot.",
    ),
    (
        "okaz_sms_delivery_reports_total",
        "counter",
        "SMS delivery reports from the gateway, by status.",
    ),
    (
        "okaz_notices_total",
        "counter",
        "Citizens' notices by channel and outcome (sent, failed, dropped, given_up, unreadable).",
    ),
    (
        "okaz_draining",
        "gauge",
        "1 while this replica drains before stopping.",
    ),
    (
        "okaz_client_trust_reloads_total",
        "counter",
        "Reloads of the units' CA and CRL files (SIGHUP, timer), by result (ok, failed).",
    ),
    (
        "okaz_connections_open",
        "gauge",
        "API connections open (handshaking or serving).",
    ),
    (
        "okaz_connections_refused_total",
        "counter",
        "API connections refused over the cap, by how (503 answered, or closed at once).",
    ),
    (
        "okaz_connections_closed_total",
        "counter",
        "API connections the broker closed, by reason (header_timeout, idle, max_age).",
    ),
    (
        "okaz_break_glass_total",
        "counter",
        "Break-glass checks and their ends, by event (used, countersigned, rejected, expired) and override.",
    ),
    (
        "okaz_anomaly_signals",
        "gauge",
        "Anomaly signals the last scheduled run found, by kind.",
    ),
];

fn header(out: &mut String, name: &str) {
    if let Some((_, kind, help)) = FAMILIES.iter().find(|(n, _, _)| *n == name) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
    }
}

fn histogram(out: &mut String, name: &str, label: &str, series: &BTreeMap<String, Histogram>) {
    header(out, name);
    for (value, h) in series {
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{label}=\"{value}\",le=\"{bound}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{label}=\"{value}\",le=\"+Inf\"}} {}",
            h.total
        );
        let _ = writeln!(out, "{name}_sum{{{label}=\"{value}\"}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{label}=\"{value}\"}} {}", h.total);
    }
}

impl Metrics {
    /// Records one answered request.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.requests.entry((route.to_string(), status)).or_default() += 1;
        m.latency
            .entry(route.to_string())
            .or_default()
            .observe(took);
    }

    /// Records a verification call's outcome (`ok` or an error code).
    pub fn verification(&self, outcome: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.verifications.entry(outcome.to_string()).or_default() += 1;
        }
    }

    /// Records a verification start by document type and outcome.
    pub fn verification_start(&self, document: &str, outcome: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.verification_starts
                .entry((document.to_string(), outcome.to_string()))
                .or_default() += 1;
        }
    }

    /// Records one call to a register or the SMS gateway.
    pub fn upstream(&self, upstream: &str, took: Duration, outcome: &str) {
        let Ok(mut m) = self.inner.lock() else { return };
        m.upstream_latency
            .entry(upstream.to_string())
            .or_default()
            .observe(took);
        // A missing record is a healthy answer, not an error of the register.
        if outcome != "ok" && outcome != "not_found" {
            *m.upstream_errors
                .entry((upstream.to_string(), outcome.to_string()))
                .or_default() += 1;
        }
    }

    /// Records an SMS delivery report (`delivered`, `failed`, …).
    pub fn delivery_report(&self, status: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.delivery_reports.entry(status.to_string()).or_default() += 1;
        }
    }

    /// Counts a reload of the client-certificate trust: `ok` or `failed`
    /// (the previous CAs and CRLs stay in use).
    pub fn client_trust_reload(&self, result: &'static str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.client_trust_reloads.entry(result).or_default() += 1;
        }
    }

    /// Counts one notice delivery outcome on a channel (`sms`, `email`, `any`).
    pub fn notice(&self, channel: &str, outcome: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.notices
                .entry((channel.to_string(), outcome.to_string()))
                .or_default() += 1;
        }
    }

    /// Records a break-glass event (`used`, `countersigned`, `rejected`,
    /// `expired`) and, for a use, which refusal it overrode.
    pub fn break_glass(&self, event: &str, overrides: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.break_glass
                .entry((event.to_string(), overrides.to_string()))
                .or_default() += 1;
        }
    }

    /// Sets the signals the last scheduled run found, per kind (every kind
    /// named, zeros included, so an alert sees a signal disappear too).
    pub fn signals(&self, per_kind: &[(&str, u64)]) {
        if let Ok(mut m) = self.inner.lock() {
            for (kind, n) in per_kind {
                m.signals.insert(kind.to_string(), *n);
            }
        }
    }

    /// Adds a source of scrape-time gauges.
    pub fn add_probes(&self, p: Arc<dyn Probes>) {
        if let Ok(mut v) = self.probes.lock() {
            v.push(p);
        }
    }

    /// Marks this replica as draining.
    pub fn set_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let probes: Vec<ProbeValues> = self
            .probes
            .lock()
            .map(|v| v.iter().map(|p| p.read()).collect())
            .unwrap_or_default();
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        header(&mut out, "okaz_requests_total");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "okaz_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        histogram(
            &mut out,
            "okaz_request_duration_seconds",
            "route",
            &m.latency,
        );
        header(&mut out, "okaz_verifications_total");
        for (outcome, n) in &m.verifications {
            let _ = writeln!(out, "okaz_verifications_total{{outcome=\"{outcome}\"}} {n}");
        }
        header(&mut out, "okaz_verification_starts_total");
        for ((document, outcome), n) in &m.verification_starts {
            let _ = writeln!(
                out,
                "okaz_verification_starts_total{{document=\"{document}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let count = |k: &str| m.verifications.get(k).copied().unwrap_or(0);
        header(&mut out, "okaz_lockout_refusals_total");
        let _ = writeln!(
            out,
            "okaz_lockout_refusals_total {}",
            count("daily_limit_exceeded") + count("account_locked")
        );
        header(&mut out, "okaz_accounts_locked_total");
        let _ = writeln!(
            out,
            "okaz_accounts_locked_total {}",
            count("daily_limit_exceeded")
        );
        histogram(
            &mut out,
            "okaz_upstream_request_duration_seconds",
            "upstream",
            &m.upstream_latency,
        );
        header(&mut out, "okaz_upstream_errors_total");
        for ((upstream, kind), n) in &m.upstream_errors {
            let _ = writeln!(
                out,
                "okaz_upstream_errors_total{{upstream=\"{upstream}\",kind=\"{kind}\"}} {n}"
            );
        }
        header(&mut out, "okaz_sms_delivery_reports_total");
        for (status, n) in &m.delivery_reports {
            let _ = writeln!(
                out,
                "okaz_sms_delivery_reports_total{{status=\"{status}\"}} {n}"
            );
        }
        header(&mut out, "okaz_notices_total");
        for ((channel, outcome), n) in &m.notices {
            let _ = writeln!(
                out,
                "okaz_notices_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        header(&mut out, "okaz_breaker_state");
        for p in &probes {
            for (upstream, state) in &p.breakers {
                let _ = writeln!(out, "okaz_breaker_state{{upstream=\"{upstream}\"}} {state}");
            }
        }
        header(&mut out, "okaz_db_pool_connections");
        header(&mut out, "okaz_db_pool_waiting");
        header(&mut out, "okaz_login_queue_depth");
        for p in &probes {
            if let Some(n) = p.pool_in_use {
                let _ = writeln!(out, "okaz_db_pool_connections{{state=\"in_use\"}} {n}");
            }
            if let Some(n) = p.pool_idle {
                let _ = writeln!(out, "okaz_db_pool_connections{{state=\"idle\"}} {n}");
            }
            if let Some(n) = p.pool_waiting {
                let _ = writeln!(out, "okaz_db_pool_waiting {n}");
            }
            if let Some(n) = p.login_queue {
                let _ = writeln!(out, "okaz_login_queue_depth {n}");
            }
        }
        header(&mut out, "okaz_client_trust_reloads_total");
        for (result, n) in &m.client_trust_reloads {
            let _ = writeln!(
                out,
                "okaz_client_trust_reloads_total{{result=\"{result}\"}} {n}"
            );
        }
        header(&mut out, "okaz_break_glass_total");
        for ((event, overrides), n) in &m.break_glass {
            let _ = writeln!(
                out,
                "okaz_break_glass_total{{event=\"{event}\",overrides=\"{overrides}\"}} {n}"
            );
        }
        header(&mut out, "okaz_anomaly_signals");
        for (kind, n) in &m.signals {
            let _ = writeln!(out, "okaz_anomaly_signals{{kind=\"{kind}\"}} {n}");
        }
        header(&mut out, "okaz_draining");
        let draining = self.draining.load(std::sync::atomic::Ordering::SeqCst);
        let _ = writeln!(out, "okaz_draining {}", u8::from(draining));
        for (family, samples) in self.connections.samples() {
            header(&mut out, family);
            out.push_str(&samples);
        }
        out
    }
}

/// Lets the register and SMS clients report their calls.
impl okaz_registry::trace::CallObserver for Metrics {
    fn observe(&self, upstream: &'static str, took: Duration, outcome: &'static str) {
        self.upstream(upstream, took, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.request("POST /v1/sessions", 201, Duration::from_millis(30));
        m.request("POST /v1/sessions", 401, Duration::from_millis(300));
        m.verification("ok");
        m.upstream("persons", Duration::from_millis(20), "unavailable");
        m.upstream("persons", Duration::from_millis(20), "not_found");
        let text = m.render();
        assert!(text.contains("okaz_requests_total{route=\"POST /v1/sessions\",status=\"201\"} 1"));
        assert!(text.contains("le=\"0.05\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("okaz_verifications_total{outcome=\"ok\"} 1"));
        assert!(text
            .contains("okaz_upstream_errors_total{upstream=\"persons\",kind=\"unavailable\"} 1"));
        assert!(!text.contains("kind=\"not_found\""));
        assert!(
            text.contains("okaz_upstream_request_duration_seconds_count{upstream=\"persons\"} 2")
        );
    }

    #[test]
    fn every_family_has_its_header_before_any_sample() {
        let text = Metrics::default().render();
        for (name, kind, _) in FAMILIES {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{name}");
        }
    }
}
