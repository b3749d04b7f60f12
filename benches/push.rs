//! Sessions-mode benchmark: `cargo bench --bench push`.
//!
//! 250 work days x 5 projects whose sessions overlap (each starts an hour after the previous one and
//! lasts 10 to 90 minutes), pushed as the real timeline to the fake Clockify on 127.0.0.1 (its 50
//! requests per second limit in force). Measures, with the release binary:
//! - `push --all --dry-run` over those 250 days (target under 100 ms),
//! - the first push: requests per entry (all requests counted; target at most 1.01), duplicates (zero),
//! - the same push again with nothing new (target: no request),
//! - a push after one more hour of work today (one session went on, another began): requests sent
//!   against segments changed (target: equal).
//!
//! Every figure is printed with its goal; a missed goal says `GOAL MISSED`. The benchmark reports: a
//! missed goal or a failed push does not make it fail.

#[path = "../tests/e2e/fake_clockify.rs"]
mod fake_clockify;
#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;
mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use support::{clockify_and_config, command, run, run_reporting, user_lines, work_days, write_corpus};

/// Monday 2026-11-23: today, after the 250 work days.
const TODAY: &str = "2026-11-23";

/// `--now` at a time of today.
fn at(time: &str) -> String {
    format!("{TODAY}T{time}:00Z")
}

/// One figure, its goal, and `GOAL MISSED` when it misses.
fn figure(label: &str, value: &str, goal: &str, met: bool) {
    println!("{label}: {value} (goal {goal}){}", if met { "" } else { "  GOAL MISSED" });
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-push");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    let days = work_days(250);
    write_corpus(&root, &days);
    // Today so far: an hour of shop work, closed by 10:30.
    let today: NaiveDate = TODAY.parse().unwrap();
    let nine = today.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let shop_today = root.join("projects/-w-shop/today.jsonl");
    std::fs::write(&shop_today, user_lines("/w/shop", "today", nine, 0..=60)).unwrap();

    let (fake, config) =
        clockify_and_config(&root, "mode = \"sessions\"\ndescription = \"{project} ({branch})\"\n");

    run(command(&root, &config, &at("10:30"), &["ingest"]));
    let mut dry_runs: Vec<Duration> = (0..7)
        .map(|_| run_reporting(command(&root, &config, &at("10:30"), &["push", "--all", "--dry-run"])).0)
        .collect();
    dry_runs.sort();
    let dry_run = dry_runs[dry_runs.len() / 2];
    figure(
        &format!("push --all --dry-run over {} days", days.len()),
        &format!(
            "{:.1} ms (median of 7; {:.1} to {:.1} ms)",
            dry_run.as_secs_f64() * 1e3,
            dry_runs[0].as_secs_f64() * 1e3,
            dry_runs[dry_runs.len() - 1].as_secs_f64() * 1e3
        ),
        "< 100 ms",
        dry_run < Duration::from_millis(100),
    );

    let (first, _, first_ok) = run_reporting(command(&root, &config, &at("10:30"), &["push", "--all"]));
    let requests = fake.requests().len();
    let entries = fake.entries();
    let distinct: HashSet<(Option<String>, String)> =
        entries.iter().map(|e| (e.project_id.clone(), e.start.clone())).collect();
    let per_entry = requests as f64 / entries.len().max(1) as f64;
    figure(
        "first push: requests per entry",
        &format!(
            "{requests} requests for {} entries = {per_entry:.3}; {:.1} s{}",
            entries.len(),
            first.as_secs_f64(),
            if first_ok { "" } else { "; the push failed" }
        ),
        "<= 1.01, no faults injected",
        first_ok && per_entry <= 1.01,
    );
    let duplicates = entries.len() - distinct.len();
    figure("first push: duplicates", &duplicates.to_string(), "0", duplicates == 0);

    // Nothing new: the same push again.
    let before = fake.requests().len();
    let (_, _, again_ok) = run_reporting(command(&root, &config, &at("10:30"), &["push"]));
    let again = fake.requests().len() - before;
    figure(
        "push again with nothing new",
        &format!("{again} requests{}", if again_ok { "" } else { "; the push failed" }),
        "0",
        again_ok && again == 0,
    );

    // One more hour: the shop session goes on to 11:00, and an api session runs from 11:05 to 11:25.
    let mut more = user_lines("/w/shop", "today", nine, 62..=120);
    more.push_str(&user_lines("/w/api", "today-api", today.and_hms_opt(11, 5, 0).unwrap().and_utc(), 0..=20));
    std::fs::write(&shop_today, std::fs::read_to_string(&shop_today).unwrap() + &more).unwrap();
    let (_, listing, _) = run_reporting(command(&root, &config, &at("11:45"), &["push", "--dry-run"]));
    let changed = listing.lines().filter(|l| l.starts_with("  2026-")).count();
    let before = fake.requests().len();
    let (_, _, more_ok) = run_reporting(command(&root, &config, &at("11:45"), &["push"]));
    let second = fake.requests().len() - before;
    figure(
        "after one more hour of work today",
        &format!(
            "{changed} segments changed, {second} requests{}",
            if more_ok { "" } else { "; the push failed" }
        ),
        "requests = segments changed",
        more_ok && second == changed,
    );
}
