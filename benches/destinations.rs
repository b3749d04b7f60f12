//! Destinations benchmark: `cargo bench --bench destinations`.
//!
//! A 20-work-day backlog of 3 projects (2 mapped, 1 unmapped) synced to Clockify and to Toggl Track in
//! one run, against the loopback fakes with their real limits (Clockify 50/s; Toggl one request per
//! second and its hourly quotas). Records, per destination, requests per entry posted (every request
//! counted, the one-time `GET /me` of Toggl's default workspace included; target at most 1.05) and the
//! run time, which for Toggl is set by the one-request-per-second pacing.

#[path = "../tests/e2e/fake_clockify.rs"]
mod fake_clockify;
#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;
#[path = "../tests/e2e/fake_toggl.rs"]
mod fake_toggl;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chrono::{Datelike, Days, NaiveDate, Weekday};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
const PROJECTS: [&str; 3] = ["/w/shop", "/w/api", "/w/misc"];
const DAYS: usize = 20;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-destinations");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    let mut day = NaiveDate::from_ymd_opt(2026, 10, 19).unwrap();
    let mut written = 0;
    while written < DAYS {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            for (index, project) in PROJECTS.iter().enumerate() {
                let dir = root.join("projects").join(project.replace('/', "-"));
                std::fs::create_dir_all(&dir).unwrap();
                let start = day.and_hms_opt(9 + u32::try_from(index).unwrap() * 2, 0, 0).unwrap().and_utc();
                let mut text = String::new();
                for minute in (0..=30 + index * 20).step_by(3) {
                    let at = start + chrono::Duration::minutes(i64::try_from(minute).unwrap());
                    let _ = writeln!(
                        text,
                        r#"{{"type":"user","cwd":"{project}","sessionId":"{day}-{index}","uuid":"{day}-{index}-{minute}","timestamp":"{}"}}"#,
                        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    );
                }
                std::fs::write(dir.join(format!("{day}-{index}.jsonl")), text).unwrap();
            }
            written += 1;
        }
        day = day.checked_add_days(Days::new(1)).unwrap();
    }
    let clockify = fake_clockify::FakeClockify::start();
    let toggl = fake_toggl::FakeToggl::start();
    for (index, id) in ["c-shop", "c-api", "c-other"].iter().enumerate() {
        clockify.add_project(fake_clockify::WORKSPACE_ID, id, id, "Client");
        toggl.add_project(fake_toggl::WORKSPACE_ID, 100 + i64::try_from(index).unwrap(), id, "Client");
    }
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"projects\"]\n\
             [clockify]\nworkspace_id = \"{}\"\nother_project_id = \"c-other\"\nbase_url = \"{}\"\n\
             [clockify.project_mapping]\n\"/w/shop\" = \"c-shop\"\n\"/w/api\" = \"c-api\"\n\
             [toggl]\nbase_url = \"{}\"\nother_project_id = 102\n\
             [toggl.project_mapping]\n\"/w/shop\" = 100\n\"/w/api\" = 101\n",
            fake_clockify::WORKSPACE_ID,
            clockify.base_url(),
            toggl.base_url()
        ),
    )
    .unwrap();
    let run = |to: &str| {
        let started = Instant::now();
        let output = Command::new(BINARY)
            .env_clear()
            .env("HOME", root.join("home"))
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(root.join("tracker.db"))
            .args(["sync", "--to", to, "--now=2026-11-23T12:00:00Z"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        started.elapsed()
    };
    let clockify_time = run("clockify");
    let toggl_time = run("toggl");
    let clockify_entries = clockify.entries().len();
    let toggl_entries = toggl.entries().len();
    let clockify_requests = clockify.requests().len();
    let toggl_requests = toggl.requests().len();
    let toggl_throttled = toggl.requests().iter().filter(|r| r.status == 429 || r.status == 402).count();
    println!("backlog: {DAYS} work days x {} projects", PROJECTS.len());
    println!(
        "clockify: {clockify_requests} requests for {clockify_entries} entries = {:.3} per entry; {:.2} s",
        clockify_requests as f64 / clockify_entries as f64,
        clockify_time.as_secs_f64()
    );
    println!(
        "toggl: {toggl_requests} requests for {toggl_entries} entries = {:.3} per entry (GET /me for the default \
         workspace included); {:.1} s at one request per second; 429/402 met: {toggl_throttled}",
        toggl_requests as f64 / toggl_entries as f64,
        toggl_time.as_secs_f64()
    );
    assert_eq!(clockify_entries, DAYS * PROJECTS.len());
    assert_eq!(toggl_entries, DAYS * PROJECTS.len());
    assert_eq!(toggl_throttled, 0);
}
