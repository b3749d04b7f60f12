//! Live-timer benchmark: `cargo bench --bench live`.
//!
//! The release binary's `watch` against the fake Toggl Track on 127.0.0.1 (its real pacing of one
//! request per second, quota headers included), with the clock in a file this program moves:
//! - a simulated hour of typical work (two projects, a switch every 15 to 20 minutes, a 40-second look
//!   at the other project, a line every 30 seconds): the requests it costs;
//! - latency from an appended line to the running entry on the service, 10 times (target < 2 s);
//! - memory (VmRSS) at the start and the end of the hour, and the CPU an idle watcher on the system
//!   clock uses over 20 seconds (target: near zero). Linux only (/proc).

#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;
#[path = "../tests/e2e/fake_toggl.rs"]
mod fake_toggl;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");

fn line(session: &str, cwd: &str, at: DateTime<Utc>, n: usize) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        r#"{{"type":"user","cwd":"{cwd}","sessionId":"{session}","uuid":"{session}-{n}","timestamp":"{}","message":{{"role":"user","content":"x"}}}}"#,
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    text
}

fn append(root: &Path, session: &str, cwd: &str, at: DateTime<Utc>, n: usize) {
    use std::io::Write;
    let path = root.join("projects").join(cwd.replace('/', "-")).join(format!("{session}.jsonl"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    file.write_all(line(session, cwd, at, n).as_bytes()).unwrap();
}

fn spawn(root: &Path, config: &Path, clock: Option<&Path>) -> Child {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", root.join("home"))
        .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(root.join("tracker.db"))
        .arg("watch")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(clock) = clock {
        command.env("CLAUDE_TRACKER_CLOCK_FILE", clock);
    }
    command.spawn().unwrap()
}

/// (utime + stime in clock ticks, VmRSS in kB) of a process.
fn usage(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks, rss)
}

fn running(fake: &fake_toggl::FakeToggl) -> usize {
    fake.entries().iter().filter(|e| e.stop.is_empty()).count()
}

fn wait_until(mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "timed out");
        std::thread::sleep(Duration::from_millis(5));
    }
    started.elapsed()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-live");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    std::fs::create_dir_all(root.join("projects")).unwrap();
    let fake = fake_toggl::FakeToggl::start();
    for (id, name) in [(100, "Shop"), (200, "Api"), (900, "Other")] {
        fake.add_project(fake_toggl::WORKSPACE_ID, id, name, "Client");
    }
    let config = root.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"projects\"]\n[toggl]\nbase_url = \"{}\"\n\
             workspace_id = {}\nother_project_id = 900\nmode = \"live\"\n\
             [toggl.project_mapping]\n\"/w/shop\" = 100\n\"/w/api\" = 200\n",
            fake.base_url(),
            fake_toggl::WORKSPACE_ID
        ),
    )
    .unwrap();
    let clock = root.join("clock");
    let start: DateTime<Utc> = "2026-11-02T09:00:00Z".parse().unwrap();
    std::fs::write(&clock, start.to_rfc3339()).unwrap();
    let mut watcher = spawn(&root, &config, Some(&clock));
    std::thread::sleep(Duration::from_millis(500));
    let (_, rss_start) = usage(watcher.id());

    // The hour: (from minute, to minute, project, session); a line every 30 s while a project is worked
    // on, and a 30-second look at the shop in the middle of the api work (two lines).
    let plan: [(u32, u32, &str, &str); 3] =
        [(0, 20, "/w/shop", "a"), (22, 37, "/w/api", "b"), (38, 55, "/w/shop", "c")];
    let mut n = 0;
    for half_minute in 0..=(60 * 2) {
        let now = start + chrono::Duration::seconds(i64::from(half_minute) * 30);
        std::fs::write(&clock, now.to_rfc3339()).unwrap();
        let minute = half_minute / 2;
        for (from, to, cwd, session) in plan {
            if (from..=to).contains(&minute) {
                n += 1;
                append(&root, session, cwd, now, n);
            }
        }
        if matches!(half_minute, 60 | 61) {
            n += 1;
            append(&root, "look", "/w/shop", now, n);
        }
        std::thread::sleep(Duration::from_millis(80));
    }
    // Let the last stretch close.
    std::fs::write(&clock, (start + chrono::Duration::minutes(80)).to_rfc3339()).unwrap();
    wait_until(|| running(&fake) == 0);
    let hour_requests = fake.requests().iter().filter(|r| r.path.contains("time_entries")).count();
    let entries = fake.entries().len();
    let (_, rss_end) = usage(watcher.id());

    // Latency: a new stretch after an idle gap; from its second line to the running entry.
    let mut latencies = Vec::new();
    for trial in 0..10 {
        let at = start + chrono::Duration::minutes(120 + 60 * trial);
        std::fs::write(&clock, (at + chrono::Duration::seconds(31)).to_rfc3339()).unwrap();
        append(&root, "latency", "/w/shop", at, 10_000 + 2 * trial as usize);
        std::thread::sleep(Duration::from_millis(300));
        append(&root, "latency", "/w/shop", at + chrono::Duration::seconds(30), 10_001 + 2 * trial as usize);
        latencies.push(wait_until(|| running(&fake) == 1));
        std::fs::write(&clock, (at + chrono::Duration::minutes(20)).to_rfc3339()).unwrap();
        wait_until(|| running(&fake) == 0);
    }
    let _ = watcher.kill();
    let _ = watcher.wait();

    // Idle CPU: a watcher on the system clock with nothing happening.
    let mut idle = spawn(&root, &config, None);
    std::thread::sleep(Duration::from_secs(2));
    let (before, _) = usage(idle.id());
    std::thread::sleep(Duration::from_secs(20));
    let (after, rss_idle) = usage(idle.id());
    let _ = idle.kill();
    let _ = idle.wait();

    latencies.sort();
    let ticks_per_second = 100.0;
    println!(
        "a simulated hour of work (2 projects, 3 stretches, one 30-second look elsewhere): {entries} entries, \
         {hour_requests} requests"
    );
    println!(
        "latency from an appended line to the running entry: median {:.0} ms, max {:.0} ms (10 trials)",
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3
    );
    println!(
        "memory (VmRSS): {rss_start} kB at the start of the hour, {rss_end} kB at its end, {rss_idle} kB idle"
    );
    println!(
        "idle CPU over 20 s on the system clock: {:.2} s ({:.3}%)",
        (after - before) as f64 / ticks_per_second,
        (after - before) as f64 / ticks_per_second / 20.0 * 100.0
    );
}
