//! The event loop: draw, wait for a key, an answer or a tick, update, hand
//! the commands to the client. Generic over the ratatui backend so tests can
//! run it on `TestBackend`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::model::Model;
use crate::msg::{Command, Key, Msg};
use crate::update::update;
use crate::view::view;

/// How often time is passed to `update` (countdowns, display and idle timers).
pub const TICK: Duration = Duration::from_millis(250);

/// Runs until a [`Command::Quit`] or until every message source is gone.
/// Commands other than quitting go to `commands`; a closed client channel
/// is not an error (its answers simply never come).
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    model: &mut Model,
    msgs: &mut UnboundedReceiver<Msg>,
    commands: &UnboundedSender<Command>,
    clock: impl Fn() -> DateTime<Utc>,
) -> std::io::Result<()> {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        terminal.draw(|f| view(model, f))?;
        let msg = tokio::select! {
            m = msgs.recv() => match m {
                Some(m) => m,
                None => return Ok(()),
            },
            _ = ticks.tick() => Msg::Tick(clock()),
        };
        for cmd in update(model, msg) {
            match cmd {
                Command::Quit => return Ok(()),
                Command::Bell => ring(),
                other => {
                    let _ = commands.send(other);
                }
            }
        }
    }
}

/// Rings the terminal bell (BEL moves no cursor, so the screen stays as
/// drawn); a terminal that cannot ring simply stays silent.
fn ring() {
    use std::io::Write as _;
    let mut out = std::io::stdout();
    let _ = out.write_all(b"\x07").and_then(|()| out.flush());
}

/// Reads terminal events on a thread of its own (crossterm's reader blocks)
/// and forwards keys; a resize becomes a tick so the screen is redrawn at once.
pub fn spawn_key_reader(tx: UnboundedSender<Msg>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || loop {
        if tx.is_closed() {
            return;
        }
        match crossterm::event::poll(Duration::from_millis(200)) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(_) => return,
        }
        let msg = match crossterm::event::read() {
            Ok(Event::Key(k)) => match key_from(k) {
                Some(key) => Msg::Key(key),
                None => continue,
            },
            Ok(Event::Resize(..)) => Msg::Tick(Utc::now()),
            Ok(_) => continue,
            Err(_) => return,
        };
        if tx.send(msg).is_err() {
            return;
        }
    })
}

/// Maps a crossterm key event to a [`Key`]; releases and unknown keys are `None`.
pub fn key_from(k: KeyEvent) -> Option<Key> {
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    Some(match k.code {
        KeyCode::Char('c') | KeyCode::Char('C') if ctrl => Key::Interrupt,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Esc => Key::Esc,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::profile::Profile;
    use ratatui::backend::TestBackend;

    #[test]
    fn keys_map_and_ctrl_c_interrupts() {
        let k = |code, m| key_from(KeyEvent::new(code, m));
        assert_eq!(
            k(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Key::Interrupt)
        );
        assert_eq!(k(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
        assert_eq!(k(KeyCode::F(2), KeyModifiers::NONE), Some(Key::F(2)));
        assert_eq!(
            k(KeyCode::Char('7'), KeyModifiers::NONE),
            Some(Key::Char('7'))
        );
    }

    /// Longest a loop may take to quit: far above a draw and one update,
    /// far below a hang.
    const QUIT_WITHIN: Duration = Duration::from_secs(5);

    /// The text of a backend's screen, one line per row.
    fn screen_text(term: &Terminal<TestBackend>) -> String {
        let buf = term.backend().buffer();
        let area = buf.area;
        (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn loop_draws_and_quits_on_f10_and_survives_tiny_sizes() {
        for (w, h) in [(80, 24), (40, 16), (3, 2), (1, 1)] {
            let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
            let now = Utc::now();
            let mut model = Model::new(Lang::En, Profile::Desktop, now);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let (ctx, mut crx) = tokio::sync::mpsc::unbounded_channel();
            // F10 on the login form quits; the tick behind it must still be
            // queued afterwards: the loop stopped at F10, not at an empty
            // channel (tx stays alive, so the channel never closes).
            tx.send(Msg::Key(Key::F(10))).unwrap();
            tx.send(Msg::Tick(now)).unwrap();
            let ran = tokio::time::timeout(
                QUIT_WITHIN,
                run(&mut term, &mut model, &mut rx, &ctx, move || now),
            )
            .await;
            let Ok(ran) = ran else {
                panic!("{w}x{h}: the loop did not quit on F10 within {QUIT_WITHIN:?}");
            };
            assert!(ran.is_ok(), "{w}x{h}: {ran:?}");
            assert!(
                matches!(rx.try_recv(), Ok(Msg::Tick(_))),
                "{w}x{h}: the loop read past F10"
            );
            assert!(crx.try_recv().is_err(), "{w}x{h}: quitting sent a command");
            let text = screen_text(&term);
            assert_eq!(text.lines().count(), usize::from(h), "{w}x{h}");
            if w >= 40 {
                // Large enough for the login form: the frame was drawn.
                assert!(text.contains("Log in"), "{w}x{h}: nothing drawn:\n{text}");
            }
            drop(tx);
        }
    }
}
