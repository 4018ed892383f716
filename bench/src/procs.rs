//! The processes under test and their CPU time, read from `/proc`.
//!
//! The driver spawns the release `okaz-sandbox` and `okaz-server serve`
//! binaries itself (rather than `scripts/bench` starting them) because it
//! writes their configuration (a raised daily limit, the sandbox's CA and
//! port), needs their pids for the CPU accounting, and starts the second
//! broker replica only for the replica run. PostgreSQL is started by the
//! script, which knows how to run it as the `postgres` user.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use anyhow::{bail, Context, Result};

/// A spawned service; killed when dropped.
pub struct Service {
    /// What it is, for messages.
    pub name: String,
    /// Its base URL, as it printed it.
    pub url: String,
    /// Where its log goes.
    pub log: PathBuf,
    child: Child,
    // Kept open so that a later write to stdout cannot fail with EPIPE.
    _stdout: BufReader<ChildStdout>,
}

impl Service {
    /// Spawns `cmd` with stderr to `log` and waits for its first stdout line;
    /// `url` turns that line into the base URL.
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        log: &Path,
        url: impl Fn(&str) -> Option<String>,
    ) -> Result<Service> {
        let err = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let Some(out) = child.stdout.take() else {
            bail!("{name}: no stdout");
        };
        let mut out = BufReader::new(out);
        let mut line = String::new();
        out.read_line(&mut line)?;
        let Some(base) = url(line.trim()) else {
            let _ = child.kill();
            let _ = child.wait();
            let logged = std::fs::read_to_string(log).unwrap_or_default();
            bail!("{name} did not start (first line {line:?}); its log:\n{logged}");
        };
        Ok(Service {
            name: name.to_string(),
            url: base,
            log: log.to_path_buf(),
            child,
            _stdout: out,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if it has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let logged = std::fs::read_to_string(&self.log).unwrap_or_default();
            bail!("{} exited ({status}); its log:\n{logged}", self.name);
        }
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU clock ticks of one process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stat {
    /// Parent process id.
    pub ppid: u32,
    /// User plus system time.
    pub own: u64,
    /// User plus system time of reaped children.
    pub children: u64,
}

/// Reads `/proc/<pid>/stat` (`self` for this process).
pub fn stat(pid: &str) -> Result<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_stat(&text).with_context(|| format!("/proc/{pid}/stat: {text}"))
}

fn parse_stat(text: &str) -> Option<Stat> {
    // The command name is in parentheses and may hold spaces: fields are
    // counted from the last ')' (field 3, the state, comes first).
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        ppid: u32::try_from(n(1)?).ok()?,
        own: n(11)? + n(12)?,
        children: n(13)? + n(14)?,
    })
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux in practice).
pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// CPU ticks of the PostgreSQL server: the postmaster (with its reaped
/// children, so a backend that exits mid-window still counts) plus every
/// live process whose parent is the postmaster (backends and background
/// workers).
pub fn postgres_ticks(postmaster: u32) -> Result<u64> {
    let pm = stat(&postmaster.to_string())?;
    let mut total = pm.own + pm.children;
    for entry in std::fs::read_dir("/proc")? {
        let name = entry?.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // A process may end between listing and reading: skip it.
        if let Ok(s) = stat(pid) {
            if s.ppid == postmaster {
                total += s.own;
            }
        }
    }
    Ok(total)
}

/// CPU ticks of each measured party at one instant.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    /// Each broker replica by pid.
    pub brokers: HashMap<u32, u64>,
    /// The sandbox.
    pub sandbox: u64,
    /// PostgreSQL, all processes.
    pub postgres: u64,
    /// This driver (its own threads only).
    pub driver: u64,
    /// This driver's reaped children (pgbench).
    pub driver_children: u64,
}

/// The pids to watch.
#[derive(Debug, Clone)]
pub struct Watched {
    /// Broker replicas.
    pub brokers: Vec<u32>,
    /// Sandbox.
    pub sandbox: u32,
    /// PostgreSQL postmaster.
    pub postmaster: u32,
}

impl Watched {
    /// Reads everyone's ticks now.
    pub fn snapshot(&self) -> Result<CpuSnapshot> {
        let me = stat("self")?;
        let mut brokers = HashMap::new();
        for pid in &self.brokers {
            brokers.insert(*pid, stat(&pid.to_string())?.own);
        }
        Ok(CpuSnapshot {
            brokers,
            sandbox: stat(&self.sandbox.to_string())?.own,
            postgres: postgres_ticks(self.postmaster)?,
            driver: me.own,
            driver_children: me.children,
        })
    }
}

/// Seconds of CPU each party used between two snapshots.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CpuUsed {
    /// Each broker replica, in the order watched.
    pub brokers: Vec<f64>,
    /// Sandbox.
    pub sandbox: f64,
    /// PostgreSQL.
    pub postgres: f64,
    /// Driver.
    pub driver: f64,
    /// Driver's reaped children (pgbench).
    pub driver_children: f64,
}

impl CpuUsed {
    /// The difference `after - before` in seconds.
    pub fn between(w: &Watched, before: &CpuSnapshot, after: &CpuSnapshot) -> CpuUsed {
        let hz = ticks_per_second();
        let s = |a: u64, b: u64| a.saturating_sub(b) as f64 / hz;
        CpuUsed {
            brokers: w
                .brokers
                .iter()
                .map(|p| {
                    s(
                        after.brokers.get(p).copied().unwrap_or(0),
                        before.brokers.get(p).copied().unwrap_or(0),
                    )
                })
                .collect(),
            sandbox: s(after.sandbox, before.sandbox),
            postgres: s(after.postgres, before.postgres),
            driver: s(after.driver, before.driver),
            driver_children: s(after.driver_children, before.driver_children),
        }
    }

    /// All brokers together.
    pub fn broker_total(&self) -> f64 {
        self.brokers.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line =
            "4242 (post gres: x) S 17 4242 4242 0 -1 4194560 900 0 0 0 250 50 7 3 20 0 1 0 100 0 0";
        let s = parse_stat(line).unwrap_or_default();
        assert_eq!(s.ppid, 17);
        assert_eq!(s.own, 300);
        assert_eq!(s.children, 10);
    }
}
