//! A broker running as its own `okaz-server serve` process on the kit's
//! configuration and database, as a replica would in production.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;

use crate::HttpClient;

/// A running broker process; killed when dropped.
pub struct Replica {
    child: Child,
    /// Its base URL (`https://127.0.0.1:PORT`).
    pub url: String,
    /// A client trusting its self-signed certificate.
    pub http: HttpClient,
    stderr: Option<JoinHandle<String>>,
}

impl Replica {
    /// Starts `okaz-server serve --dev-self-signed` with `config`, logging at
    /// `log` level; waits until it listens.
    pub fn spawn(config: &Path, cert: &Path, log: &str) -> Replica {
        let mut child = Command::new(crate::binary("okaz-server"))
            .arg("--config")
            .arg(config)
            .args(["serve", "--dev-self-signed", "--write-cert"])
            .arg(cert)
            .env("OKAZ_SERVER_LISTEN", "127.0.0.1:0")
            .env("OKAZ_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
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
            http,
            stderr: Some(stderr),
        }
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
