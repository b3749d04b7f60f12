//! Sync benchmark: `cargo bench --bench sync`.
//!
//! 250 work days x 5 projects (4 mapped, 1 unmapped: Other) posted to the fake Clockify on 127.0.0.1
//! (its documented 50 requests per second limit in force). Measures, with the release binary:
//! - a `sync --dry-run` over those 250 days (target under 100 ms),
//! - the real sync: requests per entry posted (all requests counted; target at most 1.01), requests per
//!   second reached against the 50/s limit, 429s met, duplicates (target zero),
//! - a second sync (target: no request at all).

#[path = "../tests/e2e/fake_clockify.rs"]
mod fake_clockify;
#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{Datelike, Days, NaiveDate, Weekday};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
const PROJECTS: [&str; 5] = ["/w/shop", "/w/api", "/w/infra", "/w/docs", "/w/misc"];
const NOW: &str = "--now=2026-11-23T12:00:00Z";

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

/// One session per project per day, of 10 to 90 active minutes, a user line every 2 minutes.
fn write_transcripts(root: &Path, days: &[NaiveDate]) {
    for (project_index, project) in PROJECTS.iter().enumerate() {
        let dir = root.join("projects").join(project.replace('/', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        for (day_index, day) in days.iter().enumerate() {
            let minutes = 10 + ((day_index * 7 + project_index * 13) % 81);
            let start = day.and_hms_opt(8 + u32::try_from(project_index).unwrap(), 0, 0).unwrap().and_utc();
            let session = format!("{project_index}-{day_index}");
            let mut text = String::new();
            for minute in (0..=minutes).step_by(2) {
                let at = start + chrono::Duration::minutes(i64::try_from(minute).unwrap());
                let _ = writeln!(
                    text,
                    r#"{{"type":"user","cwd":"{project}","sessionId":"{session}","uuid":"{session}-{minute}","timestamp":"{}","message":{{"role":"user","content":"x"}}}}"#,
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
            std::fs::write(dir.join(format!("{session}.jsonl")), text).unwrap();
        }
    }
}

fn command(root: &Path, config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", root.join("home"))
        .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(root.join("tracker.db"))
        .arg(NOW)
        .args(args);
    command
}

fn run(mut command: Command) -> Duration {
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    elapsed
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-sync");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    let days = work_days(250);
    write_transcripts(&root, &days);
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
             other_project_id = \"p-other\"\nbase_url = \"{}\"\n[clockify.project_mapping]\n{mapping}",
            fake_clockify::WORKSPACE_ID,
            fake.base_url()
        ),
    )
    .unwrap();

    run(command(&root, &config, &["ingest"]));
    let mut dry_runs: Vec<Duration> =
        (0..7).map(|_| run(command(&root, &config, &["sync", "--dry-run"]))).collect();
    dry_runs.sort();
    let dry_run = dry_runs[dry_runs.len() / 2];
    let output = command(&root, &config, &["sync", "--dry-run", "--json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let planned_days = plan.as_array().unwrap().iter().filter(|d| d["status"] == "planned").count();

    let sync = run(command(&root, &config, &["sync"]));
    let requests = fake.requests();
    let entries = fake.entries();
    let distinct: HashSet<(Option<String>, String)> =
        entries.iter().map(|e| (e.project_id.clone(), e.start.clone())).collect();
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    let before_second = requests.len();
    run(command(&root, &config, &["sync"]));
    let second_run_requests = fake.requests().len() - before_second;

    let per_entry = requests.len() as f64 / entries.len() as f64;
    println!("days planned: {planned_days} work days, {} entries posted", entries.len());
    println!("sync --dry-run over {} days: {:.1} ms (median of 7)", days.len(), dry_run.as_secs_f64() * 1e3);
    println!(
        "sync: {} requests for {} entries = {per_entry:.3} requests per entry; {:.1} s, {:.1} requests/s \
         (limit 50/s); 429s: {throttled}",
        requests.len(),
        entries.len(),
        sync.as_secs_f64(),
        requests.len() as f64 / sync.as_secs_f64()
    );
    println!("duplicates: {}", entries.len() - distinct.len());
    println!("second sync: {second_run_requests} requests");
    assert_eq!(entries.len(), 250 * 5);
    assert_eq!(entries.len(), distinct.len());
    assert_eq!(second_run_requests, 0);
}
