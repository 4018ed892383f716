//! Anomaly signals, on demand for a security officer's unit and on a
//! schedule for every unit: the audit records of the policy's window, read
//! once, handed to the pure rules in [`crate::signals`].

use std::collections::HashMap;

use okaz_protocol::{OfficerView, SignalView, SignalsView};

use super::admin::searched;
use super::auth::Authenticated;
use super::{officer_view, Broker};
use crate::error::BrokerError;
use crate::ports::AuditFilter;
use crate::signals::{self, Context, Signal};

/// The most audit records one run reads; a window with more is cut to its
/// newest (and a warning logged), so a run never exhausts the broker.
pub const MAX_SIGNAL_RECORDS: u32 = 500_000;

/// What a run found, before it is shown.
pub struct SignalRun {
    /// The start of the window.
    pub since: chrono::DateTime<chrono::Utc>,
    /// When it ran.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Records looked at.
    pub records: u64,
    /// The signals.
    pub signals: Vec<Signal>,
    /// The officers named, by id.
    pub officers: HashMap<String, OfficerView>,
}

impl Broker {
    /// `GET /v1/admin/signals`: the signals of my unit, computed now; the
    /// look at the audit trail is itself on record.
    pub async fn signals(&self, auth: &Authenticated) -> Result<SignalsView, BrokerError> {
        self.require_admin(auth)?;
        let run = self.run_signals(Some(&auth.officer.unit)).await?;
        let o = &auth.officer;
        let mut record = searched(
            run.at,
            &o.id,
            &o.unit,
            &AuditFilter {
                unit: Some(o.unit.clone()),
                since: Some(run.since),
                limit: MAX_SIGNAL_RECORDS,
                ..AuditFilter::default()
            },
        );
        record.fields = vec!["signals".to_string()];
        self.store.append_audit(record).await?;
        Ok(signals_view(run))
    }

    /// The signals of one unit, or of every unit (`None`, the schedule and
    /// the operator's command line), over the policy's window up to now.
    pub async fn run_signals(&self, unit: Option<&str>) -> Result<SignalRun, BrokerError> {
        let t = &self.policy.signals;
        let now = self.clock.now();
        let since = now - chrono::Duration::days(i64::from(t.window_days));
        let records = self
            .store
            .audit_search(&AuditFilter {
                unit: unit.map(str::to_string),
                since: Some(since),
                limit: MAX_SIGNAL_RECORDS,
                ..AuditFilter::default()
            })
            .await?;
        if records.len() >= MAX_SIGNAL_RECORDS as usize {
            tracing::warn!(
                limit = MAX_SIGNAL_RECORDS,
                "anomaly signals: the window holds more records than one run reads; the oldest were left out"
            );
        }
        // Working hours come from each acting officer's role.
        let mut hours = HashMap::new();
        let mut officers = HashMap::new();
        for r in &records {
            let actor = &r.entry.actor;
            if hours.contains_key(actor) {
                continue;
            }
            let found = match uuid::Uuid::parse_str(actor) {
                Ok(_) => self.store.officer_by_id(actor).await?,
                Err(_) => None,
            };
            let wh = found
                .as_ref()
                .and_then(|o| self.policy.role(&o.role))
                .and_then(|role| role.working_hours);
            if let Some(o) = &found {
                officers.insert(o.id.clone(), officer_view(o));
            }
            hours.insert(actor.clone(), wh);
        }
        let cx = Context {
            time_zone: self.policy.global.time_zone,
            thresholds: t,
            working_hours: &hours,
            now,
        };
        let found = signals::compute(&records, &cx);
        Ok(SignalRun {
            since,
            at: now,
            records: records.len() as u64,
            signals: found,
            officers,
        })
    }
}

/// The API view of a run.
pub fn signals_view(run: SignalRun) -> SignalsView {
    let signals = run
        .signals
        .into_iter()
        .map(|s| SignalView {
            kind: s.kind.as_str().to_string(),
            officer: run
                .officers
                .get(&s.officer)
                .cloned()
                .unwrap_or(OfficerView {
                    id: s.officer.clone(),
                    login: String::new(),
                    display_name: String::new(),
                    role: String::new(),
                    unit: s.unit.clone(),
                }),
            score: s.score,
            evidence: s.evidence,
            citizen: s.citizen,
            day: s.day,
        })
        .collect();
    SignalsView {
        since: run.since,
        computed_at: run.at,
        records: run.records,
        signals,
    }
}
