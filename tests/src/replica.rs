//! A broker running as its own `okaz-server serve` process on the kit's
//! configuration and database, as a replica would in production.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

use crate::HttpClient;

/// A running broker process; killed when dropped.
pub struct Replica {
    child: Child,
    /// Its base URL (`https://127.0.0.1:PORT`).
    pub url: String,
    /// Its operations listener (`http://127.0.0.1:PORT`).
    pub ops_url: String,
    /// A client trusting its certificate.
    pub http: HttpClient,
    stderr: Option<JoinHandle<String>>,
}

/// Where and how a replica runs.
pub struct ReplicaOptions {
    /// API address (`127.0.0.1:0` for any free port).
    pub listen: String,
    /// Operations address.
    pub ops_listen: String,
    /// Certificate and key files; `None` generates a self-signed one.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `OKAZ_LOG`.
    pub log: String,
    /// Further `OKAZ_…` overrides.
    pub env: Vec<(String, String)>,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        ReplicaOptions {
            listen: "127.0.0.1:0".to_string(),
            ops_listen: "127.0.0.1:0".to_string(),
            tls: None,
            log: "info".to_string(),
            env: Vec::new(),
        }
    }
}

impl Replica {
    /// Logs this officer in at this replica (on the real clock): the token.
    pub async fn login(&self, o: &crate::TestOfficer) -> String {
        self.http.login_now(&self.url, o).await
    }

    /// `POST`s `body` as JSON to `path` at this replica.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> crate::Reply {
        self.http
            .post_json(&format!("{}{path}", self.url), token, body)
            .await
    }

    /// Starts `okaz-server serve --dev-self-signed` with `config`, logging at
    /// `log` level; waits until it listens.
    pub fn spawn(config: &Path, cert: &Path, log: &str) -> Replica {
        Self::spawn_with(
            config,
            cert,
            ReplicaOptions {
                log: log.to_string(),
                ..ReplicaOptions::default()
            },
        )
    }

    /// Starts `okaz-server serve` with `config` and `opts`; `cert` is where
    /// the certificate clients should trust is (or is written, when
    /// self-signed). Waits until it listens.
    pub fn spawn_with(config: &Path, cert: &Path, opts: ReplicaOptions) -> Replica {
        let mut cmd = Command::new(crate::binary("okaz-server"));
        cmd.arg("--config").arg(config).arg("serve");
        match &opts.tls {
            None => {
                cmd.args(["--dev-self-signed", "--write-cert"]).arg(cert);
            }
            Some((c, k)) => {
                cmd.env("OKAZ_SERVER_TLS_CERT", c)
                    .env("OKAZ_SERVER_TLS_KEY", k);
            }
        }
        let mut child = cmd
            .env("OKAZ_SERVER_LISTEN", &opts.listen)
            .env("OKAZ_SERVER_OPS_LISTEN", &opts.ops_listen)
            .env("OKAZ_LOG", &opts.log)
            .envs(opts.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        line.clear();
        out.read_line(&mut line).unwrap();
        let ops_url = line
            .trim()
            .strip_prefix("operations on ")
            .unwrap_or_else(|| panic!("unexpected second line: {line}"))
            .to_string();
        // Drained all along, so a chatty log never blocks the process.
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let http = HttpClient::new(&[&std::fs::read(cert).unwrap()]);
        Replica {
            child,
            url,
            ops_url,
            http,
            stderr: Some(stderr),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        self.child.wait().unwrap()
    }

    /// Everything it logged, once it has exited.
    pub fn logs(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
