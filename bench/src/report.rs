//! The report: plain text for people, JSON (`--json`) for tools.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::db::{is_transaction_control, PgbenchResult};
use crate::load::{percentile, Logins, Window};
use crate::procs::CpuUsed;

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Parameters and environment.
    pub setup: Setup,
    /// The main window: full flows against one broker.
    pub main: RunReport,
    /// pgbench on the flow's statements.
    pub pgbench: Option<PgbenchReport>,
    /// Logins queued while flows run (`--logins`).
    pub logins: Option<LoginReport>,
    /// The same flows spread over several brokers (`--replicas`).
    pub replicas: Option<RunReport>,
}

/// Parameters and environment.
#[derive(Debug, Serialize)]
pub struct Setup {
    /// Officers the flows use.
    pub officers: usize,
    /// Flows kept in flight.
    pub in_flight: usize,
    /// Length of each measured window, s.
    pub duration_s: u64,
    /// Warm-up before a window, s.
    pub warmup_s: u64,
    /// Database connections per broker.
    pub broker_pool_size: usize,
    /// Where the broker and sandbox binaries came from.
    pub binaries: String,
    /// CPU cores of this machine.
    pub cores: usize,
    /// PostgreSQL version and settings.
    pub database: String,
}

/// Latency percentiles, ms.
#[derive(Debug, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Percentiles {
    /// Percentiles of the samples.
    pub fn of(mut d: Vec<Duration>) -> Percentiles {
        d.sort();
        let ms = |p| percentile(&d, p).as_secs_f64() * 1000.0;
        Percentiles {
            n: d.len(),
            p50: ms(0.50),
            p95: ms(0.95),
            p99: ms(0.99),
        }
    }
}

/// CPU milliseconds per flow of each party.
#[derive(Debug, Serialize)]
pub struct CpuPerFlow {
    /// Each broker replica.
    pub brokers: Vec<f64>,
    /// All brokers.
    pub broker: f64,
    /// Sandbox (registers, SMS gateway, inboxes).
    pub sandbox: f64,
    /// PostgreSQL, all its processes.
    pub postgres: f64,
    /// The load driver.
    pub driver: f64,
    /// Everything.
    pub total: f64,
}

/// One statement's calls per flow.
#[derive(Debug, Serialize)]
pub struct StatementCalls {
    /// Calls per flow.
    pub per_flow: f64,
    /// Normalised text, as `pg_stat_statements` shows it.
    pub query: String,
}

/// One measured window of flows.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Broker replicas serving.
    pub brokers: usize,
    /// Completed flows.
    pub flows: u64,
    /// Window length, s.
    pub seconds: f64,
    /// Completed flows per second.
    pub flows_per_second: f64,
    /// Failures by step and answer.
    pub errors: BTreeMap<String, u64>,
    /// Latency of `start`, `inbox`, `code` and the whole `flow`, ms.
    pub latency_ms: BTreeMap<String, Percentiles>,
    /// CPU seconds each party used in the window.
    pub cpu_seconds: CpuUsed,
    /// CPU ms per flow.
    pub cpu_ms_per_flow: CpuPerFlow,
    /// Database transactions per flow (`pg_stat_database`).
    pub transactions_per_flow: f64,
    /// Statements per flow (`pg_stat_statements`), where available.
    pub statements_per_flow: Option<f64>,
    /// The same without BEGIN/COMMIT/ROLLBACK.
    pub statements_per_flow_without_transaction_control: Option<f64>,
    /// Each statement's calls per flow, most first.
    pub statements: Vec<StatementCalls>,
}

impl RunReport {
    /// Builds the report of a window from its measurements.
    pub fn new(
        brokers: usize,
        w: &Window,
        cpu: CpuUsed,
        transactions: i64,
        statements: Option<Vec<(String, i64)>>,
    ) -> RunReport {
        let flows = w.flows.max(1) as f64;
        let ms = |s: f64| s * 1000.0 / flows;
        let broker = cpu.broker_total();
        let cpu_ms_per_flow = CpuPerFlow {
            brokers: cpu.brokers.iter().map(|s| ms(*s)).collect(),
            broker: ms(broker),
            sandbox: ms(cpu.sandbox),
            postgres: ms(cpu.postgres),
            driver: ms(cpu.driver),
            total: ms(broker + cpu.sandbox + cpu.postgres + cpu.driver),
        };
        let l = &w.latencies;
        let latency_ms = [
            ("start", &l.start),
            ("inbox", &l.inbox),
            ("code", &l.code),
            ("flow", &l.flow),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Percentiles::of(v.clone())))
        .collect();
        let (mut total, mut work, mut per) = (None, None, Vec::new());
        if let Some(s) = statements {
            let sum = |f: &dyn Fn(&str) -> bool| {
                s.iter().filter(|(q, _)| f(q)).map(|(_, c)| *c).sum::<i64>() as f64 / flows
            };
            total = Some(sum(&|_| true));
            work = Some(sum(&|q| !is_transaction_control(q)));
            per = s
                .into_iter()
                .map(|(query, calls)| StatementCalls {
                    per_flow: calls as f64 / flows,
                    query,
                })
                .collect();
        }
        RunReport {
            brokers,
            flows: w.flows,
            seconds: w.elapsed.as_secs_f64(),
            flows_per_second: w.rate(),
            errors: w.errors.clone(),
            latency_ms,
            cpu_seconds: cpu,
            cpu_ms_per_flow,
            transactions_per_flow: transactions as f64 / flows,
            statements_per_flow: total,
            statements_per_flow_without_transaction_control: work,
            statements: per,
        }
    }
}

/// pgbench on `bench/flow.pgbench.sql`.
#[derive(Debug, Serialize)]
pub struct PgbenchReport {
    /// The script.
    pub script: String,
    /// Clients (as many as the driver's flows in flight).
    pub clients: usize,
    /// Run length, s.
    pub seconds: u64,
    /// pgbench's query mode (`-M`).
    pub mode: String,
    /// What pgbench reported.
    pub result: PgbenchResult,
    /// Flows/s of the main window ÷ pgbench's script runs/s.
    pub ratio: f64,
    /// Database transactions per script run.
    pub transactions_per_run: f64,
    /// Statements per script run, where available.
    pub statements_per_run: Option<f64>,
    /// PostgreSQL CPU ms per script run.
    pub postgres_cpu_ms_per_run: f64,
    /// pgbench's own CPU ms per script run.
    pub pgbench_cpu_ms_per_run: f64,
}

/// Logins queued while flows run.
#[derive(Debug, Serialize)]
pub struct LoginReport {
    /// Logins kept queued at once.
    pub concurrency: usize,
    /// Officers taking turns to log in.
    pub officers: usize,
    /// Successful logins.
    pub logins: u64,
    /// Window, s.
    pub seconds: f64,
    /// Successful logins per second.
    pub logins_per_second: f64,
    /// Login latency, ms.
    pub latency_ms: Percentiles,
    /// Failures by answer.
    pub errors: BTreeMap<String, u64>,
    /// Seconds login tasks waited for an officer with an unused TOTP step.
    pub starved_s: f64,
    /// The flows that ran meanwhile.
    pub flows: RunReport,
}

impl LoginReport {
    /// Builds the report of a login window.
    pub fn new(concurrency: usize, officers: usize, l: Logins, flows: RunReport) -> LoginReport {
        LoginReport {
            concurrency,
            officers,
            logins: l.ok,
            seconds: l.elapsed.as_secs_f64(),
            logins_per_second: l.rate(),
            latency_ms: Percentiles::of(l.latencies),
            errors: l.errors,
            starved_s: l.starved.as_secs_f64(),
            flows,
        }
    }
}

fn errors_line(e: &BTreeMap<String, u64>) -> String {
    if e.is_empty() {
        return "none".into();
    }
    e.iter()
        .map(|(k, v)| format!("{v} × {k}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn latency_row(out: &mut String, name: &str, p: Option<&Percentiles>) {
    if let Some(p) = p {
        let _ = writeln!(
            out,
            "  {name:<14}{:>9.1}{:>9.1}{:>9.1}",
            p.p50, p.p95, p.p99
        );
    }
}

fn run_text(out: &mut String, r: &RunReport) {
    let _ = writeln!(
        out,
        "flows           {} in {:.1} s = {:.1} flows/s   errors: {}",
        r.flows,
        r.seconds,
        r.flows_per_second,
        errors_line(&r.errors)
    );
    let _ = writeln!(out, "latency (ms)          p50      p95      p99");
    latency_row(out, "start", r.latency_ms.get("start"));
    latency_row(out, "code", r.latency_ms.get("code"));
    latency_row(out, "inbox (citizen)", r.latency_ms.get("inbox"));
    latency_row(out, "whole flow", r.latency_ms.get("flow"));
    let s = r.seconds.max(1e-9);
    let c = &r.cpu_seconds;
    let m = &r.cpu_ms_per_flow;
    let _ = writeln!(out, "CPU per flow          ms/flow  cores busy");
    let mut row = |name: &str, ms: f64, secs: f64| {
        let _ = writeln!(out, "  {name:<18}{ms:>9.2}{:>10.2}", secs / s);
    };
    if c.brokers.len() > 1 {
        for (i, (ms, secs)) in m.brokers.iter().zip(&c.brokers).enumerate() {
            row(&format!("broker {}", i + 1), *ms, *secs);
        }
    }
    row("broker", m.broker, c.broker_total());
    row("sandbox", m.sandbox, c.sandbox);
    row("PostgreSQL", m.postgres, c.postgres);
    row("driver", m.driver, c.driver);
    row(
        "total",
        m.total,
        c.broker_total() + c.sandbox + c.postgres + c.driver,
    );
    let _ = writeln!(out, "database per flow");
    let _ = writeln!(
        out,
        "  transactions  {:>7.2}   (pg_stat_database xact_commit + xact_rollback, implicit ones included)",
        r.transactions_per_flow
    );
    match (
        r.statements_per_flow,
        r.statements_per_flow_without_transaction_control,
    ) {
        (Some(all), Some(work)) => {
            let _ = writeln!(
                out,
                "  statements    {all:>7.2}   (pg_stat_statements calls; {work:.2} without BEGIN/COMMIT)"
            );
            let _ = writeln!(out, "  calls/flow  statement");
            for s in r.statements.iter().filter(|s| s.per_flow >= 0.005).take(30) {
                let q: String = s.query.chars().take(110).collect();
                let more = if s.query.chars().count() > 110 {
                    "…"
                } else {
                    ""
                };
                let _ = writeln!(out, "  {:>9.2}   {q}{more}", s.per_flow);
            }
        }
        _ => {
            let _ = writeln!(
                out,
                "  statements        n/a   (pg_stat_statements is not loaded)"
            );
        }
    }
}

fn compare(now: &Percentiles, base: Option<&Percentiles>) -> String {
    match base {
        Some(b) => format!("{:.1} ms (flows alone: {:.1})", now.p95, b.p95),
        None => format!("{:.1} ms", now.p95),
    }
}

impl Report {
    /// The plain-text report.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let s = &self.setup;
        let _ = writeln!(
            out,
            "okaz benchmark (release build): {} officers, {} flows in flight, {} s windows after {} s warm-up",
            s.officers, s.in_flight, s.duration_s, s.warmup_s
        );
        let _ = writeln!(
            out,
            "machine: {} cores; {}; broker database pool {}; binaries in {}",
            s.cores, s.database, s.broker_pool_size, s.binaries
        );
        let _ = writeln!(
            out,
            "a flow: POST /v1/verifications, read the SMS at the sandbox inbox, POST /v1/verifications/{{id}}/code"
        );
        let _ = writeln!(out, "\n== Flows, 1 broker");
        run_text(&mut out, &self.main);

        if let Some(p) = &self.pgbench {
            let _ = writeln!(
                out,
                "\n== pgbench: {}, {} clients, {} s, -M {}",
                p.script, p.clients, p.seconds, p.mode
            );
            let r = &p.result;
            let _ = writeln!(
                out,
                "script runs/s  {:>9.1}   (one run = one flow's statements; {} runs, {} failed, {:.1} ms mean)",
                r.runs_per_second, r.runs, r.failed, r.latency_ms
            );
            let stmts = p
                .statements_per_run
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "n/a".into());
            let _ = writeln!(
                out,
                "per run         {:.2} transactions, {stmts} statements, PostgreSQL CPU {:.2} ms, pgbench CPU {:.2} ms",
                p.transactions_per_run, p.postgres_cpu_ms_per_run, p.pgbench_cpu_ms_per_run
            );
            let flow_stmts = self
                .main
                .statements_per_flow
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "n/a".into());
            let _ = writeln!(
                out,
                "per okaz flow   {:.2} transactions, {flow_stmts} statements, PostgreSQL CPU {:.2} ms",
                self.main.transactions_per_flow, self.main.cpu_ms_per_flow.postgres
            );
            let _ = writeln!(
                out,
                "okaz ÷ pgbench  {:.3}   ({:.1} flows/s ÷ {:.1} script runs/s)",
                p.ratio, self.main.flows_per_second, r.runs_per_second
            );
        }

        if let Some(l) = &self.logins {
            let _ = writeln!(
                out,
                "\n== Logins (argon2id + TOTP) queued while flows run: {} logins at a time, {} officers taking turns",
                l.concurrency, l.officers
            );
            let _ = writeln!(
                out,
                "logins          {} in {:.1} s = {:.1} logins/s   errors: {}",
                l.logins,
                l.seconds,
                l.logins_per_second,
                errors_line(&l.errors)
            );
            let _ = writeln!(
                out,
                "login latency   p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms (mostly queueing for a hashing slot)",
                l.latency_ms.p50, l.latency_ms.p95, l.latency_ms.p99
            );
            if l.starved_s > 0.0 {
                let _ = writeln!(
                    out,
                    "note            login tasks waited {:.1} s for an officer with an unused TOTP step: logins/s is a lower bound (raise --login-officers)",
                    l.starved_s
                );
            }
            let share = 100.0 * l.flows.flows_per_second / self.main.flows_per_second.max(1e-9);
            let _ = writeln!(
                out,
                "flows meanwhile {:.1} flows/s ({share:.0}% of the flows-only window)",
                l.flows.flows_per_second
            );
            if let (Some(st), Some(co)) = (
                l.flows.latency_ms.get("start"),
                l.flows.latency_ms.get("code"),
            ) {
                let _ = writeln!(
                    out,
                    "  start p95     {}",
                    compare(st, self.main.latency_ms.get("start"))
                );
                let _ = writeln!(
                    out,
                    "  code p95      {}",
                    compare(co, self.main.latency_ms.get("code"))
                );
            }
            let c = &l.flows.cpu_seconds;
            let secs = l.flows.seconds.max(1e-9);
            let _ = writeln!(
                out,
                "  cores busy    broker {:.2}, sandbox {:.2}, PostgreSQL {:.2}, driver {:.2}",
                c.broker_total() / secs,
                c.sandbox / secs,
                c.postgres / secs,
                c.driver / secs
            );
            let _ = writeln!(out, "  flow errors   {}", errors_line(&l.flows.errors));
        }

        if let Some(r) = &self.replicas {
            let _ = writeln!(out, "\n== Flows, {} brokers on one database", r.brokers);
            run_text(&mut out, r);
            let _ = writeln!(
                out,
                "1 vs {} brokers  {:.1} → {:.1} flows/s (×{:.2})",
                r.brokers,
                self.main.flows_per_second,
                r.flows_per_second,
                r.flows_per_second / self.main.flows_per_second.max(1e-9)
            );
        }
        out
    }
}
