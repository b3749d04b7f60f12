//! The one place the `git` binary runs: the commits made in a session's folder over a window, read at
//! ingest for `{commits}` in descriptions (`notes/11-descriptions.md`). A folder in no repository, or a
//! machine without `git`, gives nothing and no warning (`--verbose` says why). What comes back is parsed
//! by the pure `descriptions::parse_git_log`.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::descriptions::{Commit, GIT_LOG_FORMAT, parse_git_log};
use crate::sessions::Millis;

/// How long one `git` call may take before it is stopped (a hung network mount must not hang every
/// command that ingests); its folder then keeps what was stored.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Variables that would point `git` at another repository than the folder's own (set when claude-tracker
/// runs inside a git hook): removed for every call.
const REPOSITORY_VARIABLES: [&str; 7] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
];

/// What one folder's scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The commits committed in the window on the repository's local branches, merges left out, by
    /// this user (`user.email`; every committer when none is set), sorted by time then hash. The
    /// window was read whole: stored commits of the window that are not here are gone (amended,
    /// rebased, reset).
    Found(Vec<Commit>),
    /// Nothing to read: the folder is not here, or no `.git` is in it or above it (no process started).
    NotARepository,
    /// No `git` binary on the `PATH`.
    NoGit,
    /// `git` ran and failed, or took too long: why, for `--verbose`. Stored commits stay as they are.
    Failed(String),
}

/// The commits made in `folder`'s repository with a committer time in `[since, until)` (milliseconds).
pub(crate) fn commits_in(folder: &str, (since, until): (Millis, Millis)) -> Scan {
    if !in_repository(Path::new(folder)) {
        return Scan::NotARepository;
    }
    // Whole seconds, inclusive both ends in git: the window is checked again exactly below.
    let since_arg = format!("--since=@{} +0000", since.div_euclid(1000));
    let until_arg = format!("--until=@{} +0000", until.div_euclid(1000));
    let log = [
        "log",
        "--branches",
        "--no-merges",
        "--no-color",
        "--encoding=UTF-8",
        GIT_LOG_FORMAT,
        since_arg.as_str(),
        until_arg.as_str(),
    ];
    let output = match run(folder, &log) {
        Ok(output) => output,
        Err(scan) => return scan,
    };
    let logged = parse_git_log(&String::from_utf8_lossy(&output));
    if logged.is_empty() {
        return Scan::Found(Vec::new());
    }
    // Only this user's commits: a pull brings others' with their own (earlier) committer times.
    let me = run(folder, &["config", "--get", "user.email"])
        .ok()
        .map(|email| String::from_utf8_lossy(&email).trim().to_string())
        .filter(|email| !email.is_empty());
    Scan::Found(
        logged
            .into_iter()
            .filter(|logged| me.as_ref().is_none_or(|me| logged.email.eq_ignore_ascii_case(me)))
            .map(|logged| logged.commit)
            .filter(|commit| commit.at >= since && commit.at < until)
            .collect(),
    )
}

/// Whether `folder` exists and a `.git` (folder, or file of a worktree) is in it or in a folder above:
/// where `git` would look, without starting it.
fn in_repository(folder: &Path) -> bool {
    folder.is_absolute() && folder.is_dir() && folder.ancestors().any(|dir| dir.join(".git").exists())
}

/// Runs `git -C folder args` with no prompt, no pager, no signature check and no optional locks; its
/// stdout when it succeeds in time.
fn run(folder: &str, args: &[&str]) -> Result<Vec<u8>, Scan> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(folder)
        .args(["--no-pager", "-c", "log.showSignature=false"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for variable in REPOSITORY_VARIABLES {
        command.env_remove(variable);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Scan::NoGit),
        Err(error) => return Err(Scan::Failed(format!("git could not start: {error}"))),
    };
    // Read on a thread so that a full pipe never blocks git while this one waits for the timeout.
    let Some(mut stdout) = child.stdout.take() else {
        return Err(Scan::Failed("git gave no output pipe".into()));
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let read = stdout.read_to_end(&mut bytes).map(|_| bytes);
        let _ = sender.send(read);
    });
    let read = receiver.recv_timeout(TIMEOUT);
    if read.is_err() {
        let _ = child.kill();
    }
    let status = child.wait();
    match (read, status) {
        (Ok(Ok(bytes)), Ok(status)) if status.success() => Ok(bytes),
        (Ok(Ok(_)), Ok(status)) => Err(Scan::Failed(format!("`git {}` failed ({status})", args[0]))),
        (Ok(Err(error)), _) => Err(Scan::Failed(format!("reading `git {}` failed: {error}", args[0]))),
        (Err(_), _) => {
            Err(Scan::Failed(format!("`git {}` took longer than {} s", args[0], TIMEOUT.as_secs())))
        }
        (_, Err(error)) => Err(Scan::Failed(format!("`git {}` failed: {error}", args[0]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_in_no_repository_is_known_without_running_git() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        let plain = plain.to_str().unwrap();
        assert_eq!(commits_in(plain, (0, i64::MAX)), Scan::NotARepository);
        assert_eq!(commits_in("/no/such/folder", (0, i64::MAX)), Scan::NotARepository);
        assert_eq!(commits_in("relative/folder", (0, i64::MAX)), Scan::NotARepository);
        // A `.git` above the folder puts it in that repository (a subfolder, a worktree's `.git` file).
        std::fs::write(dir.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        assert!(in_repository(Path::new(plain)));
    }
}
