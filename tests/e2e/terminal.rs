//! The dashboard in a real pseudo-terminal: the binary started in an 80x24 pty (portable-pty), keys
//! written to it as a person types them, what it writes parsed into a screen (vt100) and compared whole
//! with the snapshots; after `q`, the terminal as the dashboard found it (main screen, cursor shown,
//! cooked mode).
//!
//! The screens are compared with every row padded with blanks to the terminal's width: the snapshot
//! files keep trailing blanks, while a cell the dashboard never wrote to (ratatui writes only the cells
//! that differ from the last frame, and a new screen is blank) is empty in vt100's rows.
//!
//! Also [`Pty`] for other tests that drive a program through a terminal (the zsh completion test).

#![cfg(unix)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize};

use crate::support::{World, repo_file};

/// How long a screen may take to appear (the first one reads the sample transcripts into the database).
const PATIENCE: Duration = Duration::from_secs(20);

/// A program running in a pseudo-terminal, and the screen it has drawn so far.
pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    /// What the program writes, read by a thread that keeps the pty drained (the program never blocks
    /// on a full pty); closed when the program has exited and its side of the pty is closed.
    output: mpsc::Receiver<Vec<u8>>,
    parser: vt100::Parser,
    size: (u16, u16),
}

impl Pty {
    /// Starts `command` (its environment as given, nothing inherited) in a `cols` x `rows` terminal.
    pub fn spawn(command: CommandBuilder, cols: u16, rows: u16) -> Pty {
        let pair = portable_pty::native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("open a pty");
        let child = pair.slave.spawn_command(command).expect("start the program in the pty");
        // Only the program holds the terminal's side now: when it exits, the reader below sees the end.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let (sender, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            // Linux ends the reads with EIO once the program's side is closed.
            while let Ok(read @ 1..) = reader.read(&mut buffer) {
                if sender.send(buffer[..read].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            master: pair.master,
            writer,
            child,
            output,
            parser: vt100::Parser::new(rows, cols, 0),
            size: (cols, rows),
        }
    }

    /// A command with exactly this environment, run in `dir`.
    pub fn command(
        program: &Path,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        dir: &Path,
    ) -> CommandBuilder {
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.env_clear();
        for (key, value) in env {
            command.env(key, value);
        }
        command.cwd(dir);
        command
    }

    /// The screen as text: one line per row, each padded with blanks to the width.
    pub fn screen(&self) -> String {
        let cols = usize::from(self.size.0);
        self.parser.screen().rows(0, self.size.0).map(|row| format!("{row:<cols$}\n")).collect()
    }

    /// Reads what the program wrote until the screen is `expected`, or `PATIENCE` is up, or the
    /// program's side of the terminal closes; returns the screen then (the caller compares it, so that a
    /// wrong screen fails with both in full).
    pub fn wait_for_screen(&mut self, expected: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        while self.screen() != expected {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.read_for(left) {
                break;
            }
        }
        self.screen()
    }

    /// Feeds what arrives within `wait` to the screen; false once the program's side has closed.
    fn read_for(&mut self, wait: Duration) -> bool {
        match self.output.recv_timeout(wait) {
            Ok(bytes) => {
                self.parser.process(&bytes);
                while let Ok(bytes) = self.output.try_recv() {
                    self.parser.process(&bytes);
                }
                true
            }
            Err(mpsc::RecvTimeoutError::Timeout) => true,
            Err(mpsc::RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Types `keys`.
    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("write to the pty");
        self.writer.flush().expect("flush the pty");
    }

    /// Whether the program is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("child status").is_none()
    }

    /// Waits (at most `PATIENCE`) for the program to exit and for the last of what it wrote, and
    /// returns its exit code and the signal that ended it, if one did.
    pub fn wait_for_exit(&mut self) -> (u32, Option<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            assert!(Instant::now() < deadline, "still running after {PATIENCE:?}:\n{}", self.screen());
            std::thread::sleep(Duration::from_millis(20));
        };
        while self.read_for(deadline.saturating_duration_since(Instant::now())) {
            assert!(Instant::now() < deadline, "the pty is still open after the program exited");
        }
        (status.exit_code(), status.signal().map(str::to_string))
    }

    /// The terminal's modes as vt100 saw them set: (alternate screen, cursor hidden).
    fn modes(&self) -> (bool, bool) {
        (self.parser.screen().alternate_screen(), self.parser.screen().hide_cursor())
    }

    /// The terminal's line discipline settings (termios of the pty): input, output, control and local
    /// flags and the control characters.
    fn termios(&self) -> Termios {
        let termios: nix::libc::termios = self.master.get_termios().expect("the pty's termios").into();
        Termios {
            iflag: termios.c_iflag,
            oflag: termios.c_oflag,
            cflag: termios.c_cflag,
            lflag: termios.c_lflag,
            cc: termios.c_cc.to_vec(),
        }
    }
}

impl Drop for Pty {
    /// A test that failed half way leaves no program behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `cols` x `rows` screen, as [`Pty::screen`] gives it, holding `lines` from the top.
pub fn screen_of(lines: &[&str], cols: usize, rows: usize) -> String {
    assert!(lines.len() <= rows && lines.iter().all(|line| line.chars().count() <= cols), "{lines:?}");
    let blank = [""].repeat(rows - lines.len());
    lines.iter().chain(&blank).map(|line| format!("{line:<cols$}\n")).collect()
}

#[derive(Debug, PartialEq, Eq)]
struct Termios {
    iflag: nix::libc::tcflag_t,
    oflag: nix::libc::tcflag_t,
    cflag: nix::libc::tcflag_t,
    lflag: nix::libc::tcflag_t,
    cc: Vec<nix::libc::cc_t>,
}

impl Pty {
    /// The binary started in a `cols` x `rows` terminal with the clean environment of `like` (a world's
    /// `std_cmd` or a setup's command: TZ=UTC, the temp HOME, the fakes' keys among it) plus a terminal
    /// type, run in `dir`.
    pub fn claude_tracker(
        like: &std::process::Command,
        args: &[&str],
        dir: &Path,
        (cols, rows): (u16, u16),
    ) -> Pty {
        let mut env: Vec<(String, std::ffi::OsString)> = like
            .get_envs()
            .filter_map(|(key, value)| Some((key.to_str()?.to_string(), value?.to_os_string())))
            .collect();
        env.push(("TERM".into(), "xterm-256color".into()));
        let env: Vec<(&str, &std::ffi::OsStr)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_os_str())).collect();
        let command = Pty::command(&assert_cmd::cargo::cargo_bin("claude-tracker"), args, &env, dir);
        Pty::spawn(command, cols, rows)
    }
}

/// The sample's dashboard on its last day, at 80x24.
fn sample_dashboard(world: &World) -> Pty {
    let config = repo_file("examples/sample/config.toml");
    let args = ["--config", config.to_str().unwrap(), "--now=2026-11-20T17:00:00Z", "dashboard"];
    Pty::claude_tracker(&world.std_cmd(), &args, world.dir.path(), (80, 24))
}

/// The "driven through a pseudo-terminal": the screens the `--snapshot` tests check are the ones
/// a person sees (the first frame, Tab to the next tab, `?` and Esc for the help, which leaves the
/// dashboard running), and after `q` it exits 0 with the terminal as it found it: main screen, cursor
/// shown, the line discipline back in cooked mode (ICANON, ECHO) with every flag as before.
#[test]
fn the_dashboard_in_a_terminal_takes_keys_and_gives_the_terminal_back() {
    let world = World::new();
    let mut pty = sample_dashboard(&world);
    let cooked = pty.termios();
    let both = nix::libc::ICANON | nix::libc::ECHO;
    assert_eq!(cooked.lflag & both, both, "a new pty starts in cooked mode");

    let today = include_str!("snapshots/sample-today-80x24.txt");
    assert_eq!(pty.wait_for_screen(today), today, "the first frame: the Today tab");
    assert_eq!(pty.modes(), (true, true), "on the alternate screen, cursor hidden");
    assert_eq!(pty.termios().lflag & both, 0, "raw mode while it runs: no line editing, no echo");

    pty.send("\t");
    let week = include_str!("snapshots/sample-week-80x24.txt");
    assert_eq!(pty.wait_for_screen(week), week, "Tab: the next tab, 7 days");

    pty.send("?");
    let help = include_str!("snapshots/pty-week-help-80x24.txt");
    assert_eq!(pty.wait_for_screen(help), help, "?: the help over the tab");

    pty.send("\x1b");
    assert_eq!(pty.wait_for_screen(week), week, "Esc: the help closed");
    assert!(pty.running(), "Esc closed the help without quitting");

    pty.send("q");
    assert_eq!(pty.wait_for_exit(), (0, None), "q: exit status 0");
    assert_eq!(pty.modes(), (false, false), "back on the main screen, cursor shown");
    assert_eq!(pty.screen(), screen_of(&[], 80, 24), "nothing written on the main screen");
    assert_eq!(pty.termios(), cooked, "the line discipline as it was: cooked, echoing");
}

/// A dashboard ended by a signal (a closed terminal window, `kill`, a logout) gives the terminal back as
/// `q` does: it left it on the alternate screen with the cursor hidden before.
#[test]
fn a_dashboard_ended_by_sigterm_gives_the_terminal_back() {
    let world = World::new();
    let mut pty = sample_dashboard(&world);
    let cooked = pty.termios();
    let today = include_str!("snapshots/sample-today-80x24.txt");
    assert_eq!(pty.wait_for_screen(today), today, "the first frame");
    let pid = pty.child.process_id().expect("the dashboard's pid");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(pty.wait_for_exit(), (0, None), "SIGTERM: it leaves as `q` does");
    assert_eq!(pty.modes(), (false, false), "back on the main screen, cursor shown");
    assert_eq!(pty.termios(), cooked, "the line discipline as it was");
}
