//! Sessions-mode benchmark: `cargo bench --bench push`.
//!
//! 250 work days x 5 projects whose sessions overlap (each starts an hour after the previous one and
//! lasts 10 to 90 minutes), pushed as the real timeline to the fake Clockify on 127.0.0.1 (its 50
//! requests per second limit in force). Measures, with the release binary:
//! - `push --all --dry-run` over those 250 days (target under 100 ms),
//! - the first push: requests per entry (all requests counted; target at most 1.01), duplicates (zero),
//! - a push after one more hour of work today (one session went on, another began): requests sent
//!   against segments changed (target: equal).

#[path = "../tests/e2e/fake_clockify.rs"]
mod fake_clockify;
#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
const PROJECTS: [&str; 5] = ["/w/shop", "/w/api", "/w/infra", "/w/docs", "/w/misc"];
/// Monday 2026-11-23: today, after the 250 work days.
const TODAY: &str = "2026-11-23";

fn work_days(count: usize) -> Vec<NaiveDate> {
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

/// User lines every 2 minutes from `start` for `minutes`.
fn lines(project: &str, session: &str, start: DateTime<Utc>, minutes: usize, first_minute: usize) -> String {
    let mut text = String::new();
    for minute in (first_minute..=minutes).step_by(2) {
        let at = start + chrono::Duration::minutes(i64::try_from(minute).unwrap());
        let _ = writeln!(
            text,
            r#"{{"type":"user","cwd":"{project}","sessionId":"{session}","uuid":"{session}-{minute}","timestamp":"{}","message":{{"role":"user","content":"x"}}}}"#,
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    text
}

fn write_transcripts(root: &Path, days: &[NaiveDate]) {
    for (project_index, project) in PROJECTS.iter().enumerate() {
        let dir = root.join("projects").join(project.replace('/', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        for (day_index, day) in days.iter().enumerate() {
            let minutes = 10 + ((day_index * 7 + project_index * 13) % 81);
            let start = day.and_hms_opt(8 + u32::try_from(project_index).unwrap(), 0, 0).unwrap().and_utc();
            let session = format!("{project_index}-{day_index}");
            std::fs::write(dir.join(format!("{session}.jsonl")), lines(project, &session, start, minutes, 0))
                .unwrap();
        }
    }
}

fn command(root: &Path, config: &Path, now: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", root.join("home"))
        .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(root.join("tracker.db"))
        .arg(format!("--now={TODAY}T{now}:00Z"))
        .args(args);
    command
}

fn run(mut command: Command) -> (Duration, String) {
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    (elapsed, String::from_utf8(output.stdout).unwrap())
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-push");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    let days = work_days(250);
    write_transcripts(&root, &days);
    // Today so far: an hour of shop work, closed by 10:30.
    let today: NaiveDate = TODAY.parse().unwrap();
    let nine = today.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let shop_today = root.join("projects/-w-shop/today.jsonl");
    std::fs::write(&shop_today, lines("/w/shop", "today", nine, 60, 0)).unwrap();

    let fake = fake_clockify::FakeClockify::start();
    let mut mapping = String::new();
    for (index, project) in PROJECTS.iter().take(4).enumerate() {
        fake.add_project(fake_clockify::WORKSPACE_ID, &format!("p-{index}"), project, "Client");
        let _ = writeln!(mapping, "\"{project}\" = \"p-{index}\"");
    }
    fake.add_project(fake_clockify::WORKSPACE_ID, "p-other", "Other", "Client");
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"projects\"]\n[clockify]\nworkspace_id = \"{}\"\n\
             other_project_id = \"p-other\"\nbase_url = \"{}\"\nmode = \"sessions\"\n\
             description = \"{{project}} ({{branch}})\"\n[clockify.project_mapping]\n{mapping}",
            fake_clockify::WORKSPACE_ID,
            fake.base_url()
        ),
    )
    .unwrap();

    run(command(&root, &config, "10:30", &["ingest"]));
    let mut dry_runs: Vec<Duration> =
        (0..7).map(|_| run(command(&root, &config, "10:30", &["push", "--all", "--dry-run"])).0).collect();
    dry_runs.sort();
    let dry_run = dry_runs[dry_runs.len() / 2];

    let (first, _) = run(command(&root, &config, "10:30", &["push", "--all"]));
    let requests = fake.requests().len();
    let entries = fake.entries();
    let distinct: HashSet<(Option<String>, String)> =
        entries.iter().map(|e| (e.project_id.clone(), e.start.clone())).collect();

    // One more hour: the shop session goes on to 11:00, and an api session runs from 11:05 to 11:25.
    let mut more = lines("/w/shop", "today", nine, 120, 62);
    more.push_str(&lines("/w/api", "today-api", today.and_hms_opt(11, 5, 0).unwrap().and_utc(), 20, 0));
    std::fs::write(&shop_today, std::fs::read_to_string(&shop_today).unwrap() + &more).unwrap();
    let (_, listing) = run(command(&root, &config, "11:45", &["push", "--dry-run"]));
    let changed = listing.lines().filter(|l| l.starts_with("  2026-")).count();
    let before = fake.requests().len();
    run(command(&root, &config, "11:45", &["push"]));
    let second = fake.requests().len() - before;

    println!(
        "push --all --dry-run over {} days: {:.1} ms (median of 7)",
        days.len(),
        dry_run.as_secs_f64() * 1e3
    );
    println!(
        "first push: {requests} requests for {} entries = {:.3} requests per entry; {:.1} s; duplicates: {}",
        entries.len(),
        requests as f64 / entries.len() as f64,
        first.as_secs_f64(),
        entries.len() - distinct.len()
    );
    println!("after one more hour of work today: {changed} segments changed, {second} requests");
    assert_eq!(entries.len(), distinct.len());
    assert_eq!(second, changed);
}
