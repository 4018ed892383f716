//! Runs the terminal on the real tty: raw mode and the alternate screen,
//! restored on every way out (return, error, panic); the API client task,
//! the key reader and the event loop. The `okaz-terminal` binary and the
//! `okaz demo` launcher share it.

use std::io::stdout;
use std::time::Duration;

use chrono::{Local, Offset, Utc};
use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use tokio::sync::mpsc::UnboundedSender;

use crate::client::{self, Client};
use crate::model::Model;
use crate::msg::Msg;

/// How long a queued logout may take on the way out.
const LOGOUT_GRACE: Duration = Duration::from_secs(3);

/// Puts the terminal back as it was when dropped.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), LeaveAlternateScreen, Show);
}

/// Takes over the tty and runs until the officer quits. `feeds` gets a
/// sender of messages before the loop starts, for sources besides keys and
/// the broker (the demo's phone inbox and codes, a signal that quits);
/// whatever it spawns must stop on its own once sending fails.
pub async fn run(
    api: Client,
    mut model: Model,
    feeds: impl FnOnce(UnboundedSender<Msg>),
) -> anyhow::Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    enable_raw_mode()?;
    let _restore = Restore;
    execute!(stdout(), EnterAlternateScreen, Hide)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
    terminal.clear()?;

    let (msg_tx, mut msg_rx) = tokio::sync::mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let client_task = client::spawn(api, cmd_rx, msg_tx.clone());
    feeds(msg_tx.clone());
    let _keys = crate::app::spawn_key_reader(msg_tx);

    model.offset = Local::now().offset().fix();
    let result = crate::app::run(&mut terminal, &mut model, &mut msg_rx, &cmd_tx, Utc::now).await;
    // Whatever the model held is wiped before the screen is given back.
    drop(model);
    drop(cmd_tx);
    // Let a queued logout reach the broker, but never hang on the way out.
    let _ = tokio::time::timeout(LOGOUT_GRACE, client_task).await;
    // Closing the channel makes every feed and the key reader stop.
    msg_rx.close();
    result?;
    Ok(())
}
