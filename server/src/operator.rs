//! What the operator at the broker's command line can do
//! (`okaz-server admin …`): the security officer's actions, for any unit,
//! audited under the actor `operator`. Each returns the text to print.

use okaz_protocol::{Pesel, UnlockRequest};

use okaz_core::audit::StoredRecord;
use okaz_core::broker::Broker;
use okaz_core::error::{BrokerError, Refusal};
use okaz_core::ports::AuditFilter;
use okaz_core::pseudonym::Pseudonym;
use okaz_protocol::ErrorCode;

async fn officer_id(b: &Broker, login: &str) -> Result<String, BrokerError> {
    b.store
        .officer_by_login(login)
        .await?
        .map(|o| o.id)
        .ok_or_else(|| {
            Refusal::new(ErrorCode::NotFound)
                .detail(format!("no officer {login}"))
                .into()
        })
}

/// Lockouts of a unit, as a table or as CSV.
pub async fn lockouts(b: &Broker, unit: &str, csv: bool) -> Result<String, BrokerError> {
    let list = b.lockouts_of(unit).await?;
    if csv {
        return Ok(Broker::lockouts_csv(list));
    }
    let mut out = String::new();
    for l in &list {
        out.push_str(&format!(
            "{}  {:<20} {:<24} {}  today: {}\n",
            l.locked_at.format("%Y-%m-%d %H:%M"),
            l.officer.login,
            l.reason,
            l.officer.id,
            l.attempts_today
        ));
    }
    if list.is_empty() {
        out.push_str("no locked accounts\n");
    }
    Ok(out)
}

/// Unlocks an account.
pub async fn unlock(
    b: &Broker,
    login: &str,
    reason: &str,
    extra: u32,
) -> Result<String, BrokerError> {
    let id = officer_id(b, login).await?;
    b.unlock(
        None,
        &id,
        UnlockRequest {
            reason: reason.to_string(),
            extra_allowance: extra,
        },
    )
    .await?;
    Ok(format!("{login} unlocked ({extra} extra checks today)\n"))
}

/// Disables or enables an account.
pub async fn set_disabled(
    b: &Broker,
    login: &str,
    disabled: bool,
    reason: &str,
) -> Result<String, BrokerError> {
    let id = officer_id(b, login).await?;
    b.set_disabled(None, &id, disabled, reason).await?;
    Ok(format!(
        "{login} {}\n",
        if disabled { "disabled" } else { "enabled" }
    ))
}

/// Resets a password or TOTP secret; prints the new credential once.
pub async fn reset(b: &Broker, login: &str, totp: bool) -> Result<String, BrokerError> {
    let id = officer_id(b, login).await?;
    let r = if totp {
        b.reset_totp(None, &id).await?
    } else {
        b.reset_password(None, &id).await?
    };
    Ok(match (r.initial_password, r.totp_uri) {
        (Some(p), _) => format!("new password for {login}: {p}\n"),
        (_, Some(u)) => format!("new TOTP URI for {login}: {u}\n"),
        _ => String::new(),
    })
}

/// Searches the audit trail; a PESEL is searched through its pseudonym.
pub async fn audit(
    b: &Broker,
    mut filter: AuditFilter,
    officer_login: Option<&str>,
    pesel: Option<&str>,
) -> Result<String, BrokerError> {
    if let Some(login) = officer_login {
        filter.officer = Some(officer_id(b, login).await?);
    }
    if let Some(p) = pesel {
        let p = Pesel::parse(p)
            .map_err(|e| Refusal::new(ErrorCode::InvalidPesel).detail(e.to_string()))?;
        filter.citizen = Some(Pseudonym::of(&b.keys.pepper, &p));
    }
    filter.limit = filter.limit.clamp(1, 10_000);
    let records = b.store.audit_search(&filter).await?;
    // The operator's search is on record like a security officer's, before
    // anything is printed.
    let record = okaz_core::broker::searched(b.clock.now(), "operator", "operator", &filter);
    b.store.append_audit(record).await?;
    Ok(records.iter().map(line).collect())
}

fn line(r: &StoredRecord) -> String {
    let e = &r.entry;
    format!(
        "{} {:<22} {:<24} unit={} actor={} doc={} purpose={} citizen={} fields={}\n",
        e.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        e.event,
        e.outcome,
        e.unit,
        e.actor,
        e.document.as_deref().unwrap_or("-"),
        e.purpose.as_deref().unwrap_or("-"),
        e.citizen
            .as_deref()
            .map(|c| &c[..c.len().min(12)])
            .unwrap_or("-"),
        e.fields.join("+"),
    )
}

/// A unit's disputes, one block each: the dispute, then the check's records.
pub async fn disputes(b: &Broker, unit: &str, open_only: bool) -> Result<String, BrokerError> {
    let list = b.disputes_of(unit, open_only).await?;
    let mut out = String::new();
    for d in &list {
        out.push_str(&format!(
            "{}  {}  {:<8} check {}  officer {}\n  comment: {:?}\n",
            d.opened_at.format("%Y-%m-%d %H:%M"),
            d.id,
            d.status,
            d.verification,
            d.officer,
            d.comment
        ));
        if let Some(r) = &d.resolution {
            out.push_str(&format!("  resolution: {r:?}\n"));
        }
        for r in &d.records {
            out.push_str(&format!(
                "    {}  {:<24} {:<16} {}\n",
                r.at.format("%Y-%m-%d %H:%M:%S"),
                r.event,
                r.outcome,
                r.fields.join(",")
            ));
        }
    }
    if list.is_empty() {
        out.push_str("no disputes\n");
    }
    Ok(out)
}

/// Resolves a dispute of a unit as the operator.
pub async fn resolve_dispute(
    b: &Broker,
    unit: &str,
    id: &str,
    reason: &str,
) -> Result<String, BrokerError> {
    b.resolve_as("operator", unit, id, reason).await?;
    Ok(format!("dispute {id} resolved\n"))
}

/// Anomaly signals of a unit (or every unit), one line each.
pub async fn signals(b: &Broker, unit: Option<&str>) -> Result<String, BrokerError> {
    let view = okaz_core::broker::signals_view(b.run_signals(unit).await?);
    let mut out = format!(
        "{} records since {}\n",
        view.records,
        view.since.format("%Y-%m-%d %H:%M")
    );
    for s in &view.signals {
        out.push_str(&format!(
            "{:<18} {:<20} {} score {:>8.2}  evidence {}{}{}\n",
            s.kind,
            s.officer.login,
            s.officer.id,
            s.score,
            s.evidence.len(),
            s.day.map(|d| format!("  day {d}")).unwrap_or_default(),
            s.citizen
                .as_deref()
                .map(|c| format!("  citizen {c}"))
                .unwrap_or_default(),
        ));
    }
    if view.signals.is_empty() {
        out.push_str("no signals\n");
    }
    Ok(out)
}

/// Break-glass checks of a unit, one line each.
pub async fn break_glass(b: &Broker, unit: &str) -> Result<String, BrokerError> {
    let list = b.break_glass_of(unit).await?;
    let mut out = String::new();
    for g in &list {
        out.push_str(&format!(
            "{}  {:<14} {:<20} {:<12} due {}  {}  {}\n",
            g.created_at.format("%Y-%m-%d %H:%M"),
            g.status,
            g.officer.login,
            g.overrides,
            g.deadline.format("%Y-%m-%d %H:%M"),
            g.id,
            g.justification.escape_debug(),
        ));
    }
    if list.is_empty() {
        out.push_str("no break-glass checks\n");
    }
    Ok(out)
}

/// Countersigns or rejects a break-glass check.
pub async fn decide_break_glass(
    b: &Broker,
    id: &str,
    countersign: bool,
    reason: &str,
) -> Result<String, BrokerError> {
    let decision = if countersign {
        okaz_protocol::BreakGlassVerdict::Countersign
    } else {
        okaz_protocol::BreakGlassVerdict::Reject
    };
    let v = b
        .decide_break_glass(
            None,
            id,
            okaz_protocol::BreakGlassDecision {
                decision,
                reason: reason.to_string(),
            },
        )
        .await?;
    Ok(format!("break-glass {} {}\n", v.id, v.status))
}
