//! Prometheus metrics: requests, verifications by outcome, lockouts, latency.
//! A handful of series, so plain atomics and one lock suffice.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    verifications: BTreeMap<String, u64>,
}

/// The broker's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Records one answered request.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.requests.entry((route.to_string(), status)).or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        let secs = took.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.total += 1;
    }

    /// Records a verification call's outcome (`ok` or an error code).
    pub fn verification(&self, outcome: &str) {
        if let Ok(mut m) = self.inner.lock() {
            *m.verifications.entry(outcome.to_string()).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let _ = writeln!(out, "# HELP okaz_requests_total HTTP requests answered.");
        let _ = writeln!(out, "# TYPE okaz_requests_total counter");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "okaz_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP okaz_verifications_total Verification calls by outcome."
        );
        let _ = writeln!(out, "# TYPE okaz_verifications_total counter");
        for (outcome, n) in &m.verifications {
            let _ = writeln!(out, "okaz_verifications_total{{outcome=\"{outcome}\"}} {n}");
        }
        let locks = ["daily_limit_exceeded", "account_locked"]
            .iter()
            .filter_map(|k| m.verifications.get(*k))
            .sum::<u64>();
        let _ = writeln!(
            out,
            "# HELP okaz_lockout_refusals_total Verifications refused by a lock."
        );
        let _ = writeln!(out, "# TYPE okaz_lockout_refusals_total counter");
        let _ = writeln!(out, "okaz_lockout_refusals_total {locks}");
        let _ = writeln!(out, "# HELP okaz_request_duration_seconds Request latency.");
        let _ = writeln!(out, "# TYPE okaz_request_duration_seconds histogram");
        for (route, h) in &m.latency {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "okaz_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "okaz_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(
                out,
                "okaz_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "okaz_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.total
            );
        }
        out
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
        let text = m.render();
        assert!(text.contains("okaz_requests_total{route=\"POST /v1/sessions\",status=\"201\"} 1"));
        assert!(text.contains("le=\"0.05\"} 1"));
        assert!(text.contains("le=\"0.5\"} 2"));
        assert!(text.contains("okaz_verifications_total{outcome=\"ok\"} 1"));
    }
}
