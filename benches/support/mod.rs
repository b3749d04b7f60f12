//! What the `sync` and `push` benchmarks share: the corpus (250 work days x 5 projects, one session per
//! project per day, each starting an hour after the previous project's, 10 to 90 active minutes, a user
//! line every 2 minutes), and the release binary run against the fake Clockify, timed.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

pub const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
pub const PROJECTS: [&str; 5] = ["/w/shop", "/w/api", "/w/infra", "/w/docs", "/w/misc"];

/// `count` weekdays from Monday 2025-12-01.
pub fn work_days(count: usize) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    while days.len() < count {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            days.push(day);
        }
        day = day.checked_add_days(Days::new(1)).unwrap();
    }
    days
}

/// User lines of one session, every 2 minutes of `minutes` after `start`.
pub fn user_lines(
    project: &str,
    session: &str,
    start: DateTime<Utc>,
    minutes: RangeInclusive<usize>,
) -> String {
    let mut text = String::new();
    for minute in minutes.step_by(2) {
        let at = start + chrono::Duration::minutes(i64::try_from(minute).unwrap());
        let _ = writeln!(
            text,
            r#"{{"type":"user","cwd":"{project}","sessionId":"{session}","uuid":"{session}-{minute}","timestamp":"{}","message":{{"role":"user","content":"x"}}}}"#,
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    text
}

/// Writes the corpus under `root/projects`.
pub fn write_corpus(root: &Path, days: &[NaiveDate]) {
    for (project_index, project) in PROJECTS.iter().enumerate() {
        let dir = root.join("projects").join(project.replace('/', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        for (day_index, day) in days.iter().enumerate() {
            let minutes = 10 + ((day_index * 7 + project_index * 13) % 81);
            let start = day.and_hms_opt(8 + u32::try_from(project_index).unwrap(), 0, 0).unwrap().and_utc();
            let session = format!("{project_index}-{day_index}");
            std::fs::write(
                dir.join(format!("{session}.jsonl")),
                user_lines(project, &session, start, 0..=minutes),
            )
            .unwrap();
        }
    }
}

/// The binary with a clean environment, the fake Clockify's key, this config and a database in `root`.
pub fn command(root: &Path, config: &Path, now: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", root.join("home"))
        .env("CLOCKIFY_API_KEY", crate::fake_clockify::API_KEY)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(root.join("tracker.db"))
        .arg(format!("--now={now}"))
        .args(args);
    command
}

/// Runs to success: how long it took, and its stdout.
pub fn run(mut command: Command) -> (Duration, String) {
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (elapsed, String::from_utf8(output.stdout).unwrap())
}

/// Runs and reports: how long it took, its stdout, and whether it succeeded (a failure's stderr is
/// printed, not raised: a benchmark reports).
#[allow(dead_code)] // `push` uses it, `sync` does not.
pub fn run_reporting(mut command: Command) -> (Duration, String, bool) {
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    if !output.status.success() {
        eprintln!("command failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    (elapsed, String::from_utf8_lossy(&output.stdout).into_owned(), output.status.success())
}

/// The fake Clockify with the first four projects mapped (the fifth goes to Other), and a config for it
/// in `root` with `clockify_extra` lines in `[clockify]`.
pub fn clockify_and_config(
    root: &Path,
    clockify_extra: &str,
) -> (crate::fake_clockify::FakeClockify, PathBuf) {
    use crate::fake_clockify::{FakeClockify, WORKSPACE_ID};
    let fake = FakeClockify::start();
    let mut mapping = String::new();
    for (index, project) in PROJECTS.iter().take(4).enumerate() {
        fake.add_project(WORKSPACE_ID, &format!("p-{index}"), project, "Client");
        let _ = writeln!(mapping, "\"{project}\" = \"p-{index}\"");
    }
    fake.add_project(WORKSPACE_ID, "p-other", "Other", "Client");
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"projects\"]\n[clockify]\nworkspace_id = \"{WORKSPACE_ID}\"\n\
             other_project_id = \"p-other\"\nbase_url = \"{}\"\n{clockify_extra}[clockify.project_mapping]\n{mapping}",
            fake.base_url()
        ),
    )
    .unwrap();
    (fake, config)
}
