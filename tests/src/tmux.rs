//! Drives a program in a detached tmux session of fixed size, as a user at
//! a real terminal would: type, press keys, read the screen.
//!
//! Each session runs on a socket of its own (`tmux -L okaz-<uuid>`) with no
//! user configuration, and its server is killed when the guard is dropped,
//! so a failing test leaves nothing running.

use std::process::Command;
use std::time::{Duration, Instant};

/// Where tmux is installed on the test machines.
pub const TMUX: &str = "/usr/bin/tmux";
/// How often the screen is read while waiting.
const POLL: Duration = Duration::from_millis(100);

/// A tmux server with one session running a shell.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `sh` in a `cols`x`rows` session with a plain `$ ` prompt and
    /// UTF-8 enabled; commands are then typed into it.
    pub fn start(cols: u16, rows: u16) -> Tmux {
        let socket = format!("okaz-{}", uuid::Uuid::new_v4().simple());
        let t = Tmux { socket };
        let ok = Command::new(TMUX)
            .args([
                "-u",
                "-L",
                &t.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
            ])
            .args([
                "-s",
                "okaz",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .args(["env", "PS1=$ ", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "sh"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "tmux did not start (is {TMUX} installed?)");
        // The session must not shrink to an attached client's size.
        let _ = t.tmux(&["set-option", "-t", "okaz", "window-size", "manual"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new(TMUX)
            .args(["-u", "-L", &self.socket])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux {args:?}: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "okaz", "-l", text]);
    }

    /// Presses keys by tmux name: `Enter`, `Tab`, `F10`, `C-c`.
    pub fn press(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "okaz"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types a command line into the shell and presses Enter.
    pub fn run(&self, line: &str) {
        self.type_text(line);
        self.press(&["Enter"]);
    }

    /// The visible screen, one line per row.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "okaz"])
    }

    /// Polls the screen until `ready` accepts it, for at most `limit`;
    /// fails the test with `what` and the last screen otherwise.
    pub fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let until = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < until,
                "waited {limit:?} for {what}; the screen shows:\n{screen}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the screen contains `text`.
    pub fn wait_for_text(&self, text: &str, limit: Duration) -> String {
        self.wait_for(&format!("{text:?}"), limit, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(TMUX)
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The six-digit word that follows `marker` on the screen, e.g. the code
/// after `kod ` in an SMS, or after an account's password in the demo panel.
pub fn six_digits_after(screen: &str, marker: &str) -> Option<String> {
    screen.match_indices(marker).find_map(|(i, _)| {
        let rest = &screen[i + marker.len()..];
        let word: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (word.len() == 6).then_some(word)
    })
}
