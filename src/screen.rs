//! What the two full-screen commands (`dashboard`, `review`) share at the edge: the terminal taken and
//! given back on every exit, keys and signals delivered as one stream of wake-ups, and the `--snapshot`
//! size. The screens themselves are pure (`dashboard`, `review_screen`); this is the terminal.

use std::sync::mpsc;

use anyhow::{Context, Result};
use ratatui::crossterm::event::{self, Event};

/// The terminal in raw mode on the alternate screen, given back when this is dropped: on a normal
/// return, a `?` on an error, and (ratatui's hook) a panic.
pub(crate) struct Screen {
    pub(crate) terminal: ratatui::DefaultTerminal,
}

impl Screen {
    /// Takes over the terminal.
    pub(crate) fn take() -> Result<Screen> {
        Ok(Screen { terminal: ratatui::try_init().context("cannot take over the terminal")? })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Sends every terminal event through `wake` (as `input(event)`) from a thread of its own, and `quit`
/// on SIGTERM, SIGHUP or SIGINT, so that a signal ends the screen as `q` does and the terminal is given
/// back (a kill without it left the alternate screen on and the cursor hidden).
pub(crate) fn forward_keys_and_signals<W: Clone + Send + 'static>(
    wake: &mpsc::Sender<W>,
    input: fn(Event) -> W,
    quit: W,
) -> Result<()> {
    let on_signal = wake.clone();
    ctrlc::set_handler(move || {
        let _ = on_signal.send(quit.clone());
    })
    .context("cannot set the signal handler")?;
    let keys = wake.clone();
    std::thread::spawn(move || {
        while let Ok(event) = event::read() {
            if keys.send(input(event)).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// `--snapshot WIDTHxHEIGHT`.
pub(crate) fn parse_size(text: &str) -> Result<(u16, u16)> {
    let (width, height) = text.split_once('x').context("write the size as WIDTHxHEIGHT, e.g. 80x24")?;
    Ok((width.parse().context("a width in cells")?, height.parse().context("a height in cells")?))
}
