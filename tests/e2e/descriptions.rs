//! Descriptions of what was done (issue 19, item 4): `{commits}` from a real temporary git repository
//! with commits at known times (the session's folder), through `push --dry-run`, `sync --dry-run --json`
//! and both fakes; `{title}` only with `[capture] keep_titles = true`; no `git` run by an ingest that
//! changes no session. Every output is compared whole.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::fake_clockify;
use crate::fake_toggl;
use crate::push::{Fake, Posted, Setup};

/// Monday noon UTC: the morning's work is closed (sessions mode).
const NOON: &str = "--now=2026-11-02T12:00:00Z";
/// Tuesday: Monday is a past work day (workday mode).
const TUESDAY: &str = "--now=2026-11-03T08:00:00Z";

/// Whether a `git` binary runs here; the tests that need one say so and pass when it does not.
fn git_is_here() -> bool {
    let found = Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("git is not installed: the descriptions tests that need a repository are skipped");
    }
    found
}

/// A git repository at `dir`, its own `user.email` set (the identity whose commits count), every git
/// run with `HOME` in the test's folder (no config of the machine's user is read).
struct Repo {
    dir: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn init(dir: PathBuf, home: &Path) -> Repo {
        std::fs::create_dir_all(&dir).unwrap();
        let repo = Repo { dir, home: home.to_path_buf() };
        repo.git(&["init", "-q"], None);
        repo.git(&["config", "user.email", "t@t"], None);
        repo
    }

    fn git(&self, args: &[&str], date: Option<&str>) {
        let mut command = Command::new("git");
        command
            .current_dir(&self.dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"])
            .args(args);
        if let Some(date) = date {
            command.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// A commit of ours with `subject`, authored and committed at `date` (RFC 3339).
    fn commit(&self, date: &str, subject: &str) {
        self.git(&["commit", "-q", "--allow-empty", "-m", subject], Some(date));
    }

    /// A commit by someone else (another committer email): brought in by a pull, not made here.
    fn commit_by_someone_else(&self, date: &str, subject: &str) {
        let args = ["-c", "user.email=o@o", "commit", "-q", "--allow-empty", "-m", subject];
        self.git(&args, Some(date));
    }

    fn path(&self) -> &str {
        self.dir.to_str().unwrap()
    }
}

/// User lines of session `id` in `cwd` every 4 minutes from `from` to `to` (`HH:MM` on Monday), stamped
/// with milliseconds, `extra` lines after them.
fn work(setup: &Setup, id: &str, cwd: &str, (from, to): (&str, &str), extra: &[String]) {
    let mut lines = crate::support::prompts(id, cwd, "2026-11-02", (from, to));
    for line in extra {
        lines = lines.raw(line);
    }
    let folder = cwd.trim_start_matches('/').replace('/', "-");
    setup.world.write(&format!("{folder}/{id}.jsonl"), lines.text());
}

/// The config: the repository mapped to the shop project, a plain folder to the tracker project, the
/// service in `mode` with `description`, and `capture` lines.
fn configure(setup: &Setup, (shop, tracker): (&str, &str), (mode, description): (&str, &str), capture: &str) {
    let service = match &setup.fake {
        Fake::Toggl(toggl) => format!(
            "[toggl]\nbase_url = \"{}\"\nworkspace_id = {}\nother_project_id = 900\nmode = \"{mode}\"\n\
             description = \"{description}\"\n[toggl.project_mapping]\n\"{shop}\" = 100\n\"{tracker}\" = 200\n",
            toggl.base_url(),
            fake_toggl::WORKSPACE_ID
        ),
        Fake::Clockify(clockify) => format!(
            "[clockify]\nworkspace_id = \"{}\"\nother_project_id = \"p-other\"\nbase_url = \"{}\"\n\
             mode = \"{mode}\"\ndescription = \"{description}\"\n[clockify.project_mapping]\n\"{shop}\" = \
             \"p-shop\"\n\"{tracker}\" = \"p-tracker\"\n",
            fake_clockify::WORKSPACE_ID,
            clockify.base_url()
        ),
    };
    setup.world.config(&format!("timezone = \"UTC\"\n[capture]\n{capture}\n{service}"));
}

/// Monday in the repository: commits before, during and after the morning's session, one by someone
/// else during it, one the next day.
fn monday_commits(repo: &Repo) {
    repo.commit("2026-11-02T08:30:00Z", "Set up the cart");
    repo.commit("2026-11-02T09:10:00Z", "Add the cart");
    repo.commit_by_someone_else("2026-11-02T09:20:00Z", "Colleague's change");
    repo.commit("2026-11-02T09:40:00Z", "Fix totals\n\nWith a body that is never read.");
    repo.commit("2026-11-02T10:30:00Z", "Rename checkout");
    repo.commit("2026-11-03T09:00:00Z", "Next day");
}

/// The repository and a plain folder (no repository) in the world, with Monday's commits.
fn folders(setup: &Setup) -> (Repo, PathBuf) {
    let repo = Repo::init(setup.world.dir.path().join("code/shop"), &setup.world.home());
    monday_commits(&repo);
    let plain = setup.world.dir.path().join("code/tracker");
    std::fs::create_dir_all(&plain).unwrap();
    (repo, plain)
}

fn text(output: &std::process::Output) -> (String, String) {
    (String::from_utf8(output.stdout.clone()).unwrap(), String::from_utf8(output.stderr.clone()).unwrap())
}

/// Sessions mode: an entry names the subjects of this user's commits made in its session's folder while
/// its work ran, oldest first (not those before or after it, not a colleague's); the session in a
/// folder outside any repository names none, with no warning. The dry run shows exactly what the fake
/// then holds, and a second push sends nothing.
#[test]
fn commits_made_while_the_work_ran_describe_a_sessions_entry() {
    if !git_is_here() {
        return;
    }
    for setup in Setup::bare("sessions") {
        let (repo, plain) = folders(&setup);
        let tracker = plain.to_str().unwrap();
        configure(&setup, (repo.path(), tracker), ("sessions", "{project}: {commits}"), "");
        work(&setup, "shop", repo.path(), ("09:00", "10:00"), &[]);
        work(&setup, "trk", tracker, ("10:20", "10:40"), &[]);
        let output = setup.run(&["push", "--dry-run", NOON]);
        let (shop_id, tracker_id) = (setup.project("shop"), setup.project("tracker"));
        assert_eq!(
            text(&output),
            (
                format!(
                    "Would push 2 entries to {} (2 new, 0 to update, 0 to delete; 0 unchanged, 0 still open):\n\n\
                     \x20 2026-11-02 Mon 09:00-10:00   1:00  {} -> {shop_id}  \"shop: Add the cart; Fix totals\"\n\
                     \x20 2026-11-02 Mon 10:20-10:40   0:20  {tracker} -> {tracker_id}  \"tracker\"\n\
                     \n(UTC time zone) Run without --dry-run to push.\n",
                    setup.name(),
                    repo.path()
                ),
                String::new()
            )
        );
        setup.ok(&["push", NOON]);
        let posted: Vec<Posted> = vec![
            setup.entry("shop", "09:00", "10:00", "shop: Add the cart; Fix totals"),
            setup.entry("tracker", "10:20", "10:40", "tracker"),
        ];
        assert_eq!(setup.posted(), posted, "{}", setup.name());
        setup.ok(&["push", NOON]);
        assert_eq!(setup.writes(), (2, 0, 0), "{}: nothing new to send", setup.name());
    }
}

/// Workday mode: an entry's times are a slot of the work day, so it names the commits made that local
/// day in its sessions' folders (the one before its session and the one after it too, not the next
/// day's, not a colleague's); `{branch}` is the day's longest session's.
#[test]
fn commits_of_the_day_describe_a_workday_entry() {
    if !git_is_here() {
        return;
    }
    for setup in Setup::bare("workday") {
        let (repo, plain) = folders(&setup);
        let tracker = plain.to_str().unwrap();
        configure(&setup, (repo.path(), tracker), ("workday", "{project} ({branch}): {commits}"), "");
        work(&setup, "shop", repo.path(), ("09:00", "10:00"), &[]);
        let output = setup.run(&["sync", "--dry-run", "--json", "--since", "2026-11-02", TUESDAY]);
        let (stdout, stderr) = text(&output);
        assert_eq!(stderr, "");
        let key = match setup.fake {
            Fake::Toggl(_) => "toggl",
            Fake::Clockify(_) => "clockify",
        };
        assert_eq!(
            serde_json::from_str::<Value>(&stdout).unwrap(),
            json!([{
                "date": "2026-11-02",
                "destination": key,
                "status": "planned",
                "entries": [{
                    "project_id": setup.project("shop"),
                    "start": "2026-11-02T09:00:00Z",
                    "end": "2026-11-02T17:00:00Z",
                    "seconds": 28800,
                    "description": "shop (main): Set up the cart; Add the cart; Fix totals; Rename checkout"
                }]
            }]),
            "{}",
            setup.name()
        );
        setup.ok(&["sync", TUESDAY]);
        assert_eq!(
            setup.posted(),
            vec![setup.entry(
                "shop",
                "09:00",
                "17:00",
                "shop (main): Set up the cart; Add the cart; Fix totals; Rename checkout"
            )],
            "{}",
            setup.name()
        );
    }
}

/// Claude Code's title lines: an `ai-title`, then the user's `/rename` (which wins), and an older
/// `summary` of the conversation (its leaf is the session's last line).
fn title_lines(session: &str) -> Vec<String> {
    vec![
        format!(r#"{{"type":"ai-title","aiTitle":"Cart checkout","sessionId":"{session}"}}"#),
        format!(r#"{{"type":"custom-title","customTitle":"Checkout rework","sessionId":"{session}"}}"#),
        format!(r#"{{"type":"summary","summary":"Summary of the cart","leafUuid":"{session}-0016"}}"#),
    ]
}

/// The titles stored in the database, as (session, kind, title).
fn stored_titles(setup: &Setup) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(setup.world.db()).unwrap();
    let mut statement =
        conn.prepare("SELECT session_id, kind, title FROM session_titles ORDER BY session_id, kind").unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// `{title}` is empty (and nothing of a title is stored) until `keep_titles = true`; then the session's
/// own title shows, the user's `/rename` over Claude Code's; turned off again, every stored title is
/// forgotten and the description goes back (the posted entry is updated).
#[test]
fn a_title_is_read_and_sent_only_with_keep_titles() {
    for setup in Setup::bare("sessions") {
        let folders = ("/w/shop", "/w/tracker");
        let template = ("sessions", "{project} [{title}]");
        configure(&setup, folders, template, "");
        work(&setup, "shop", "/w/shop", ("09:00", "10:00"), &title_lines("shop"));
        let listing = |setup: &Setup, description: &str, update: bool| {
            let (new, updates, state) = if update { (0, 1, "  (update)") } else { (1, 0, "") };
            format!(
                "Would push 1 entries to {} ({new} new, {updates} to update, 0 to delete; 0 unchanged, 0 still \
                 open):\n\n\x20 2026-11-02 Mon 09:00-10:00   1:00  /w/shop -> {}  \"{description}\"{state}\n\n\
                 (UTC time zone) Run without --dry-run to push.\n",
                setup.name(),
                setup.project("shop")
            )
        };
        assert_eq!(setup.ok(&["push", "--dry-run", NOON]), listing(&setup, "shop", false));
        assert_eq!(stored_titles(&setup), Vec::new(), "off: no title is kept");

        configure(&setup, folders, template, "keep_titles = true");
        assert_eq!(setup.ok(&["push", "--dry-run", NOON]), listing(&setup, "shop [Checkout rework]", false));
        let kept = |kind: &str, title: &str| ("shop".to_string(), kind.to_string(), title.to_string());
        assert_eq!(
            stored_titles(&setup),
            vec![
                kept("ai", "Cart checkout"),
                kept("custom", "Checkout rework"),
                kept("summary", "Summary of the cart")
            ]
        );
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), vec![setup.entry("shop", "09:00", "10:00", "shop [Checkout rework]")]);

        configure(&setup, folders, template, "keep_titles = false");
        assert_eq!(setup.ok(&["push", "--dry-run", NOON]), listing(&setup, "shop", true));
        assert_eq!(stored_titles(&setup), Vec::new(), "turned off: every title is forgotten");
    }
}

/// A `git` on the `PATH` that writes each call to a log before running the real one.
fn logging_git(setup: &Setup) -> (PathBuf, PathBuf) {
    let bin = setup.world.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = setup.world.dir.path().join("git.log");
    let real = String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    let script = bin.join("git");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$*\" >> '{}'\nexec '{real}' \"$@\"\n", log.display()))
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

/// The calls logged so far, each as its folder and subcommand (`-C <folder> --no-pager -c <setting>
/// <subcommand> ...`); none when git never ran.
fn git_calls(log: &Path) -> Vec<String> {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    log.lines()
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            format!("{} {}", words[1], words[5])
        })
        .collect()
}

/// `git` runs only for the folders of sessions an ingest changed, and never for a folder in no
/// repository: a second ingest with nothing new runs none; a line appended to the session runs one scan
/// again; the commits are stored once.
#[test]
fn an_ingest_that_changes_no_session_runs_no_git() {
    if !git_is_here() {
        return;
    }
    let [setup, _] = Setup::bare("sessions");
    let (repo, plain) = folders(&setup);
    let tracker = plain.to_str().unwrap();
    configure(&setup, (repo.path(), tracker), ("sessions", "{commits}"), "");
    work(&setup, "shop", repo.path(), ("09:00", "10:00"), &[]);
    work(&setup, "trk", tracker, ("10:20", "10:40"), &[]);
    let (bin, log) = logging_git(&setup);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let ingest = |setup: &Setup| {
        let output = setup.command().env("PATH", &path).args(["ingest", NOON]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    ingest(&setup);
    let (log_call, email) = (format!("{} log", repo.path()), format!("{} config", repo.path()));
    assert_eq!(
        git_calls(&log),
        vec![log_call, email],
        "the repository's log and user.email; the plain folder none"
    );
    ingest(&setup);
    assert_eq!(git_calls(&log).len(), 2, "nothing changed: no git");
    work(&setup, "shop", repo.path(), ("09:00", "10:04"), &[]);
    ingest(&setup);
    assert_eq!(git_calls(&log).len(), 4, "the session changed: its folder is read again");
    let conn = rusqlite::Connection::open(setup.world.db()).unwrap();
    let stored: i64 = conn.query_row("SELECT COUNT(*) FROM git_commits", [], |r| r.get(0)).unwrap();
    // Monday's four own commits (the window ends with Monday), once each though read twice.
    assert_eq!(stored, 4);
}

/// No `git` on the `PATH`: the session in the repository is described without commits, nothing is said
/// (no warning), and `--verbose` says why.
#[test]
fn without_git_commits_stay_empty_and_verbose_says_why() {
    if !git_is_here() {
        return;
    }
    let [setup, _] = Setup::bare("sessions");
    let (repo, plain) = folders(&setup);
    configure(&setup, (repo.path(), plain.to_str().unwrap()), ("sessions", "{project}: {commits}"), "");
    work(&setup, "shop", repo.path(), ("09:00", "10:00"), &[]);
    let no_git = setup.world.dir.path().join("no-git");
    std::fs::create_dir_all(&no_git).unwrap();
    let output = setup
        .command()
        .env("PATH", &no_git)
        .args(["--verbose", "push", "--dry-run", NOON])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        text(&output),
        (
            format!(
                "Would push 1 entries to {} (1 new, 0 to update, 0 to delete; 0 unchanged, 0 still open):\n\n\
                 \x20 2026-11-02 Mon 09:00-10:00   1:00  {} -> {}  \"shop\"\n\
                 \n(UTC time zone) Run without --dry-run to push.\n",
                setup.name(),
                repo.path(),
                setup.project("shop")
            ),
            "claude-tracker: no `git` on the PATH: `{commits}` stays empty\n".to_string()
        )
    );
}
