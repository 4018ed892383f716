//! `okaz-server admin`: the security officer's actions for any unit,
//! audited as `operator` (the texts come from [`okaz_server::operator`]).

use anyhow::Result;
use clap::Subcommand;
use okaz_core::ports::AuditFilter;
use okaz_server::config::Config;
use okaz_server::{operator, wiring};

#[derive(Subcommand)]
pub(super) enum AdminAction {
    /// Anomaly signals over the policy's window (one unit, or all).
    Signals {
        #[arg(long)]
        unit: Option<String>,
    },
    /// Break-glass checks of a unit (pending first).
    BreakGlass {
        #[arg(long)]
        unit: String,
    },
    /// Countersign a pending break-glass check, with a reason.
    Countersign {
        #[arg(long)]
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Reject a pending break-glass check, with a reason (locks the officer).
    RejectBreakGlass {
        #[arg(long)]
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// Locked accounts of a unit.
    Lockouts {
        #[arg(long)]
        unit: String,
        /// CSV for the unit's records.
        #[arg(long)]
        csv: bool,
    },
    /// Unlock an account, with a reason and extra checks for today.
    Unlock {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
        #[arg(long, default_value_t = 0)]
        extra: u32,
    },
    /// Disable an account (its sessions end).
    Disable {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
    },
    /// Enable an account again.
    Enable {
        #[arg(long)]
        login: String,
        #[arg(long)]
        reason: String,
    },
    /// Give an officer a new password (printed once).
    ResetPassword {
        #[arg(long)]
        login: String,
    },
    /// Give an officer a new TOTP secret (URI printed once).
    ResetTotp {
        #[arg(long)]
        login: String,
    },
    /// Search the audit trail.
    Audit {
        #[arg(long)]
        unit: Option<String>,
        /// Officer login.
        #[arg(long)]
        officer: Option<String>,
        /// Citizen's PESEL (searched through the pseudonym, never stored).
        #[arg(long)]
        pesel: Option<String>,
        /// From (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Until (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Citizens' disputes of a unit's checks.
    Disputes {
        #[command(subcommand)]
        action: DisputeAction,
    },
}

#[derive(Subcommand)]
pub(super) enum DisputeAction {
    /// List a unit's disputes (open ones unless `--all`), with each check's records.
    List {
        #[arg(long)]
        unit: String,
        #[arg(long)]
        all: bool,
    },
    /// Resolve an open dispute of a unit, with a reason.
    Resolve {
        #[arg(long)]
        unit: String,
        /// The dispute's id.
        id: String,
        #[arg(long)]
        reason: String,
    },
}

impl AdminAction {
    pub(super) async fn run(self, cfg: &Config) -> Result<()> {
        let b = wiring::broker(cfg).await?;
        let out = match self {
            Self::Lockouts { unit, csv } => operator::lockouts(&b, &unit, csv).await,
            Self::Signals { unit } => operator::signals(&b, unit.as_deref()).await,
            Self::BreakGlass { unit } => operator::break_glass(&b, &unit).await,
            Self::Countersign { id, reason } => {
                operator::decide_break_glass(&b, &id, true, &reason).await
            }
            Self::RejectBreakGlass { id, reason } => {
                operator::decide_break_glass(&b, &id, false, &reason).await
            }
            Self::Unlock {
                login,
                reason,
                extra,
            } => operator::unlock(&b, &login, &reason, extra).await,
            Self::Disable { login, reason } => {
                operator::set_disabled(&b, &login, true, &reason).await
            }
            Self::Enable { login, reason } => {
                operator::set_disabled(&b, &login, false, &reason).await
            }
            Self::ResetPassword { login } => operator::reset(&b, &login, false).await,
            Self::ResetTotp { login } => operator::reset(&b, &login, true).await,
            Self::Audit {
                unit,
                officer,
                pesel,
                since,
                until,
                limit,
            } => {
                let filter = AuditFilter {
                    unit,
                    since,
                    until,
                    limit,
                    ..AuditFilter::default()
                };
                operator::audit(&b, filter, officer.as_deref(), pesel.as_deref()).await
            }
            Self::Disputes {
                action: DisputeAction::List { unit, all },
            } => operator::disputes(&b, &unit, !all).await,
            Self::Disputes {
                action: DisputeAction::Resolve { unit, id, reason },
            } => operator::resolve_dispute(&b, &unit, &id, &reason).await,
        };
        print!("{}", out.map_err(super::refusal)?);
        Ok(())
    }
}
