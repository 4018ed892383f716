//! The background watch every replica runs: the break-glass sweeper (a
//! pending break-glass past its deadline locks its officer) and the
//! scheduled anomaly-signal run. Both are safe on many replicas at once:
//! the sweep's every transition is one conditional update, and the signal
//! run only reads.

use std::time::Duration;

use okaz_core::broker::Broker;
use okaz_core::signals::SignalKind;

use crate::metrics::Metrics;

/// How often the sweeper looks for overdue break-glass checks: the lock
/// comes at most this long after the deadline.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// One sweep: expires and locks; counts each expiry in the metrics.
pub async fn sweep_once(broker: &Broker, metrics: &Metrics) {
    match broker.sweep_break_glass().await {
        Ok(expired) => {
            for r in expired {
                metrics.break_glass("expired", r.overrides.as_str());
            }
        }
        Err(e) => tracing::warn!(error = %e, "break-glass sweep failed; retrying next round"),
    }
}

/// One scheduled signal run over every unit: the count per kind goes to
/// the metrics, each signal to the log (officer id, kind, score; never a
/// citizen's pseudonym).
pub async fn signals_once(broker: &Broker, metrics: &Metrics) {
    match broker.run_signals(None).await {
        Ok(run) => {
            let per_kind: Vec<(&str, u64)> = SignalKind::ALL
                .iter()
                .map(|k| {
                    let n = run.signals.iter().filter(|s| s.kind == *k).count() as u64;
                    (k.as_str(), n)
                })
                .collect();
            metrics.signals(&per_kind);
            for s in &run.signals {
                tracing::warn!(
                    kind = s.kind.as_str(),
                    officer = %s.officer,
                    unit = %s.unit,
                    score = s.score,
                    evidence = s.evidence.len(),
                    "anomaly signal"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "anomaly signal run failed; retrying next round"),
    }
}

/// Runs both on their schedules until aborted.
pub fn spawn(broker: Broker, metrics: Metrics) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut signals = tokio::time::interval(broker.policy.signals.interval);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        signals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = sweep.tick() => sweep_once(&broker, &metrics).await,
                _ = signals.tick() => signals_once(&broker, &metrics).await,
            }
        }
    })
}
