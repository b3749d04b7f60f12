//! The first hour of a new user (issue 17, "Say where the data is"): a report whose range is empty says
//! where the recorded sessions are and what to run to see them; with nothing recorded, where transcripts
//! are looked for; a tag filter that matches nothing names the tag; `ingest` and `status` warn about a
//! transcripts folder that is missing, empty or unreadable and about a transcript that cannot be read;
//! the example config, copied as it is, keeps `$CLAUDE_CONFIG_DIR`.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Output;

use crate::support::{Transcript, World, repo_file};

/// A session of `minutes` minutes from `start` (`YYYY-MM-DDTHH:MM`), a prompt every 5 minutes at
/// millisecond timestamps, as Claude Code writes them.
fn session(world: &World, id: &str, cwd: &str, start: &str, minutes: i64) {
    let start: chrono::DateTime<chrono::Utc> = format!("{start}:00.250Z").parse().unwrap();
    let mut transcript = Transcript::new(id, cwd);
    for minute in (0..=minutes).step_by(5) {
        let at = start + chrono::Duration::minutes(minute) + chrono::Duration::milliseconds(minute * 7);
        transcript = transcript.user(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    }
    world.write(&format!("{}/{id}.jsonl", cwd.replace('/', "-")), transcript.text());
}

/// Two sessions in September, long before the pinned "now" (2026-11-07): every default range is empty.
fn september() -> World {
    let world = World::new();
    session(&world, "a", "/w/shop", "2026-09-01T09:00", 30);
    session(&world, "b", "/w/blog", "2026-09-20T14:00", 20);
    world
}

/// stdout, stderr and the exit code of one run.
fn run(world: &World, args: &[&str]) -> (String, String, Option<i32>) {
    outcome(world.cmd().args(args).output().unwrap())
}

fn outcome(output: Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

/// `ingest`'s summary with its timing (the one figure that varies) written `N`.
fn without_timing(text: &str) -> String {
    let Some((before, after)) = text.split_once(" ms;") else { return text.to_string() };
    let start = before.rfind(' ').map_or(0, |i| i + 1);
    format!("{} N ms;{after}", &before[..start - 1])
}

const NO_ACTIVITY: &str = "no Claude Code activity in this range";

#[test]
fn an_empty_range_says_where_the_recorded_sessions_are_and_what_to_run() {
    let world = september();
    let hint = "recorded sessions run from 2026-09-01 to 2026-09-20: try `claude-tracker report --since 2026-09-01 \
                --until 2026-09-20";
    let cases: [(&[&str], String); 5] = [
        (&["report"], format!("Claude Code time on 2026-11-07 (UTC)\n\n{NO_ACTIVITY}\n{hint}`\n")),
        (
            &["report", "week"],
            format!("Claude Code time from 2026-11-01 to 2026-11-07 (UTC)\n\n{NO_ACTIVITY}\n{hint}`\n"),
        ),
        (
            &["report", "month"],
            format!("Claude Code time from 2026-10-09 to 2026-11-07 (UTC)\n\n{NO_ACTIVITY}\n{hint}`\n"),
        ),
        (
            &["report", "--by", "day", "--since", "2026-10-01", "--until", "2026-10-31"],
            format!(
                "Claude Code time from 2026-10-01 to 2026-10-31 (UTC)\n\n{NO_ACTIVITY}\n{hint} --by day`\n"
            ),
        ),
        (
            &["report", "--by", "tag", "--since", "2026-09-21"],
            format!(
                "Claude Code time from 2026-09-21 to 2026-11-07 (UTC)\n\n{NO_ACTIVITY}\n{hint} --by tag`\n"
            ),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(run(&world, args), (expected, String::new(), Some(0)), "{args:?}");
    }
    // What the hint says to run shows the sessions.
    let (stdout, _, _) = run(&world, &["report", "--since", "2026-09-01", "--until", "2026-09-20"]);
    assert!(stdout.contains("shop") && stdout.contains("blog"), "{stdout}");
    // JSON stays as it was: an empty report, no hint.
    let json = world.report("2026-11-01", "2026-11-07", &[]);
    assert_eq!(json["projects"], serde_json::json!([]));
}

#[test]
fn with_nothing_recorded_the_report_says_where_transcripts_are_looked_for() {
    let world = World::new();
    assert_eq!(
        run(&world, &["report", "week"]),
        (
            format!(
                "Claude Code time from 2026-11-01 to 2026-11-07 (UTC)\n\n{NO_ACTIVITY}\nno session is recorded yet: \
                 transcripts are looked for in {}; if Claude Code keeps them elsewhere, set `[capture] projects_dirs` \
                 in the config or $CLAUDE_CONFIG_DIR (the folder that holds `projects`); `claude-tracker status` \
                 shows what is found\n",
                world.projects().display()
            ),
            String::new(),
            Some(0)
        )
    );
}

#[test]
fn a_tag_that_matches_nothing_is_named() {
    let world = september();
    world.ok(&["tag", "a", "acme"]);
    world.ok(&["tag", "b", "blog", "home"]);
    assert_eq!(
        run(&world, &["report", "--tag", "nonexistent", "--since", "2026-09-01", "--until", "2026-09-30"]),
        (
            "Claude Code time from 2026-09-01 to 2026-09-30 (UTC)\n\nno session has tag `nonexistent`: the tags \
             there are `acme`, `blog`, `home` (`claude-tracker report --by tag` shows their time)\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
    assert_eq!(
        run(&world, &["report", "week", "--tag", "acme"]),
        (
            "Claude Code time from 2026-11-01 to 2026-11-07 (UTC)\n\nno session in this range has tag `acme`\n\
             sessions with tag `acme` are all on 2026-09-01: try `claude-tracker report --since 2026-09-01 --until \
             2026-09-01 --tag acme`\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
}

/// The warning about the folder `$CLAUDE_CONFIG_DIR` points to.
fn env_warning(projects: &Path, problem: &str) -> String {
    let config_dir = projects.parent().unwrap().display();
    format!(
        "the transcripts folder {} {problem}$CLAUDE_CONFIG_DIR is `{config_dir}`: set it to the folder Claude Code \
         uses (the one holding `projects`), or unset it to read ~/.claude/projects and ~/.config/claude/projects",
        projects.display()
    )
}

/// `status` on a database without sessions and no transcript found, with these warnings.
fn status_text(world: &World, projects: &Path, last_ingest: &str, warnings: &[String]) -> String {
    let mut text = format!(
        "transcripts: 0 files in {} (oldest changed -); Claude Code deletes them after 30 days unchanged\n\
         database: {} ({} KB, 0 sessions); last ingest {last_ingest}\n\
         no destination configured (config.example.toml shows [clockify] and [toggl])\nwarnings:\n",
        projects.display(),
        world.db().display(),
        std::fs::metadata(world.db()).unwrap().len().div_ceil(1024),
    );
    for warning in warnings {
        text.push_str(&format!("  - {warning}\n"));
    }
    text.push_str("(UTC time zone)\n");
    text
}

#[test]
fn a_missing_transcripts_folder_is_warned_about_by_ingest_and_status() {
    let world = World::new();
    let nope = world.dir.path().join("nope");
    let projects = nope.join("projects");
    let warning = env_warning(&projects, "does not exist: ");
    let (stdout, stderr, code) =
        outcome(world.cmd().env("CLAUDE_CONFIG_DIR", &nope).arg("ingest").output().unwrap());
    assert_eq!(
        (without_timing(&stdout), stderr, code),
        (
            "read 0 of 0 transcript files (0.0 MB) in N ms; 0 sessions updated, 0 in the database\n"
                .to_string(),
            format!("claude-tracker: warning: {warning}\n"),
            Some(0)
        )
    );
    let output = world.cmd().env("CLAUDE_CONFIG_DIR", &nope).arg("status").output().unwrap();
    let expected = status_text(&world, &projects, "2026-11-07 12:00", &[warning]);
    assert_eq!(outcome(output), (expected, String::new(), Some(0)));
}

#[test]
fn a_missing_folder_set_in_the_config_names_the_key_and_the_file() {
    let world = World::new();
    let config = world.config("[capture]\nprojects_dirs = [\"elsewhere\"]\n");
    let warning = format!(
        "the transcripts folder {} does not exist: fix `[capture] projects_dirs` in {}, or remove it to read \
         $CLAUDE_CONFIG_DIR/projects (else ~/.claude/projects and ~/.config/claude/projects)",
        world.dir.path().join("elsewhere").display(),
        config.display()
    );
    let (_, stderr, code) = run(&world, &["--config", config.to_str().unwrap(), "ingest"]);
    assert_eq!((stderr, code), (format!("claude-tracker: warning: {warning}\n"), Some(0)));
}

#[test]
fn an_empty_transcripts_folder_is_warned_about_and_status_never_says_no_warnings() {
    let world = World::new();
    let warning = env_warning(
        &world.projects(),
        "holds no transcript (no .jsonl file): if Claude Code has not run on this machine yet, use it first; else ",
    );
    let (stdout, stderr, code) = run(&world, &["status"]);
    let expected = status_text(&world, &world.projects(), "never", std::slice::from_ref(&warning));
    assert_eq!((stdout, stderr, code), (expected, String::new(), Some(0)));
    let (_, stderr, _) = run(&world, &["ingest"]);
    assert_eq!(stderr, format!("claude-tracker: warning: {warning}\n"));
}

#[test]
fn the_example_config_copied_as_it_is_keeps_claude_config_dir() {
    let world = september();
    let config = world.config(&std::fs::read_to_string(repo_file("config.example.toml")).unwrap());
    let (stdout, stderr, code) = run(&world, &["--config", config.to_str().unwrap(), "ingest"]);
    assert_eq!(
        (without_timing(&stdout), stderr, code),
        (
            "read 2 of 2 transcript files (0.0 MB) in N ms; 2 sessions updated, 2 in the database\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
}

/// The user the runs go as when the tests run as root (file modes do not stop root).
const NOBODY: u32 = 65_534;

/// True when this process reads files whatever their mode says (root, or the capability to override).
fn privileged() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::File::open(&probe).is_ok()
}

fn give_to_nobody(path: &Path) {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            give_to_nobody(&entry.unwrap().path());
        }
    }
}

#[test]
fn an_unreadable_transcript_or_folder_is_warned_about_by_ingest_and_status_with_what_to_run() {
    let world = september();
    let locked = world.write(
        "-w-locked/c.jsonl",
        Transcript::new("c", "/w/locked").user("2026-09-03T10:00:00.125Z").text(),
    );
    let locked = locked.parent().unwrap().to_path_buf();
    let closed = world.projects().join("-w-blog/b.jsonl");
    let as_nobody = privileged();
    if as_nobody {
        give_to_nobody(world.dir.path());
    }
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let go = |args: &[&str]| {
        let mut command = world.std_cmd();
        command.args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        if as_nobody {
            command.uid(NOBODY).gid(NOBODY);
        }
        outcome(command.output().unwrap())
    };
    let denied = "Permission denied (os error 13)";
    let warnings = [
        format!(
            "cannot read the folder {0} ({denied}): the transcripts in it are left out; run `chmod u+rx {0}` (or \
             run claude-tracker as the user who owns it)",
            locked.display()
        ),
        format!(
            "cannot read the transcript {0} ({denied}): its sessions are left out; run `chmod u+r {0}` (or run \
             claude-tracker as the user who owns it)",
            closed.display()
        ),
    ];
    let (stdout, stderr, code) = go(&["ingest"]);
    assert_eq!(
        (without_timing(&stdout), stderr, code),
        (
            "read 1 of 2 transcript files (0.0 MB) in N ms; 1 sessions updated, 1 in the database\n"
                .to_string(),
            warnings.iter().map(|w| format!("claude-tracker: warning: {w}\n")).collect::<String>(),
            Some(0)
        )
    );
    let (stdout, stderr, code) = go(&["status"]);
    // Open again, so the temporary world can be removed.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let oldest = [world.projects().join("-w-shop/a.jsonl"), closed]
        .iter()
        .map(|file| std::fs::metadata(file).unwrap().modified().unwrap())
        .min()
        .map(chrono::DateTime::<chrono::Utc>::from)
        .unwrap();
    let mut expected = format!(
        "transcripts: 2 files in {} (oldest changed {}); Claude Code deletes them after 30 days unchanged\n\
         database: {} ({} KB, 1 sessions); last ingest 2026-11-07 12:00\n\
         no destination configured (config.example.toml shows [clockify] and [toggl])\nwarnings:\n",
        world.projects().display(),
        oldest.format("%Y-%m-%d %H:%M"),
        world.db().display(),
        std::fs::metadata(world.db()).unwrap().len().div_ceil(1024),
    );
    for warning in &warnings {
        expected.push_str(&format!("  - {warning}\n"));
    }
    expected.push_str("(UTC time zone)\n");
    assert_eq!((stdout, stderr, code), (expected, String::new(), Some(0)));
}

/// `--verbose` lists the lines earlier runs passed over too: the message that points to it is true on
/// every run, not only on the one that first read them.
#[test]
fn verbose_lists_lines_skipped_by_an_earlier_run() {
    let world = World::new();
    let transcript =
        Transcript::new("s", "/w/app").user("2026-11-02T09:00:00.417Z").user("2026-11-02T09:05:00.903Z");
    let text = transcript.text().replacen('\n', "\n{\"type\":\"user\",\"timestamp\":\n", 1);
    let path = world.write("-w-app/s.jsonl", &text);
    let first = run(&world, &["report", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        first.1,
        "claude-tracker: skipped 1 unreadable transcript line(s) in 1 file(s); `--verbose` lists them\n"
    );
    let later = run(&world, &["--verbose", "report", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        later.1,
        format!(
            "claude-tracker: skipped {}:2: malformed JSON (EOF while parsing a value at line 1 column 27)\n",
            path.display()
        )
    );
    assert_eq!(later.2, Some(0));
}
