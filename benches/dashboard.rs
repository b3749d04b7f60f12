//! Dashboard benchmark: `cargo bench --bench ingest` (which leaves its 300 MB corpus and database in
//! `target/bench-ingest`), then `cargo bench --bench dashboard`.
//!
//! With the release binary, on that corpus after its first ingest, whole processes (upper bounds of what
//! the running dashboard does):
//! - time from start to the first frame: `dashboard --snapshot 160x48 --tab month` (open the database,
//!   the unchanged re-ingest, the month's view model, one frame), median of 7 (target < 100 ms);
//! - a redraw after a line is appended to a transcript: the same after the append (the ingest of the
//!   new line included), median of 7 (target < 50 ms for the in-process redraw; this is the whole process);
//! - memory: the largest peak resident size among those processes.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
/// The corpus ends on 2026-10-30.
const NOW: &str = "--now=2026-10-30T20:00:00Z";

/// One frame with `config` (a missing file: no destination).
fn frame(work: &Path, config: &Path) -> Duration {
    let started = Instant::now();
    let output = Command::new(BINARY)
        .env_clear()
        .env("HOME", work.join("home"))
        .env("CLAUDE_CONFIG_DIR", work)
        .env("TZ", "UTC")
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(work.join("tracker.db"))
        .args([NOW, "dashboard", "--snapshot", "160x48", "--tab", "month"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Projects"));
    elapsed
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-ingest");
    if !work.join("tracker.db").exists() {
        println!("no corpus: run `cargo bench --bench ingest` first (it writes target/bench-ingest)");
        return;
    }
    let bare = Path::new("/nonexistent/config.toml");
    // Two destinations (the sync box then plans each over every day since the first session).
    let with_destinations = work.join("dashboard-destinations.toml");
    std::fs::write(
        &with_destinations,
        format!(
            "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"{}\"]\n[clockify]\nworkspace_id = \"ws\"\n\
             other_project_id = \"o\"\n[toggl]\nworkspace_id = 1\nother_project_id = 2\nmode = \"sessions\"\n",
            work.join("projects").display()
        ),
    )
    .unwrap();
    frame(&work, bare); // whatever the ingest bench left unread
    let first = median((0..7).map(|_| frame(&work, bare)).collect());
    let first_with_destinations = median((0..7).map(|_| frame(&work, &with_destinations)).collect());
    let transcript = std::fs::read_dir(work.join("projects"))
        .unwrap()
        .filter_map(Result::ok)
        .flat_map(|dir| std::fs::read_dir(dir.path()).into_iter().flatten().filter_map(Result::ok))
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .unwrap();
    let redraws: Vec<Duration> = (0..7)
        .map(|n| {
            let mut file = std::fs::OpenOptions::new().append(true).open(&transcript).unwrap();
            writeln!(
                file,
                r#"{{"type":"user","sessionId":"bench-dashboard","uuid":"bench-dashboard-{n}","timestamp":"2026-10-30T19:{n:02}:00Z","cwd":"/bench/dashboard","message":{{"role":"user","content":"x"}}}}"#
            )
            .unwrap();
            frame(&work, bare)
        })
        .collect();
    let peak_kb = getrusage(UsageWho::RUSAGE_CHILDREN).map(|usage| usage.max_rss()).unwrap_or(0);
    println!(
        "time to the first frame (160x48, 30 days, 316 MB corpus ingested): {:.1} ms (median of 7)",
        first.as_secs_f64() * 1e3
    );
    println!(
        "after an appended line, ingest + frame: {:.1} ms (median of 7)",
        median(redraws).as_secs_f64() * 1e3
    );
    println!(
        "the first frame with two destinations (Clockify workday, Toggl sessions): {:.1} ms (median of 7)",
        first_with_destinations.as_secs_f64() * 1e3
    );
    println!("peak memory of those processes: {:.1} MB", peak_kb as f64 / 1024.0);
}
