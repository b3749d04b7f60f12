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
mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use support::{clockify_and_config, command, run, user_lines, work_days, write_corpus};

/// Monday 2026-11-23: today, after the 250 work days.
const TODAY: &str = "2026-11-23";

/// `--now` at a time of today.
fn at(time: &str) -> String {
    format!("{TODAY}T{time}:00Z")
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
        .map(|_| run(command(&root, &config, &at("10:30"), &["push", "--all", "--dry-run"])).0)
        .collect();
    dry_runs.sort();
    let dry_run = dry_runs[dry_runs.len() / 2];

    let (first, _) = run(command(&root, &config, &at("10:30"), &["push", "--all"]));
    let requests = fake.requests().len();
    let entries = fake.entries();
    let distinct: HashSet<(Option<String>, String)> =
        entries.iter().map(|e| (e.project_id.clone(), e.start.clone())).collect();

    // One more hour: the shop session goes on to 11:00, and an api session runs from 11:05 to 11:25.
    let mut more = user_lines("/w/shop", "today", nine, 62..=120);
    more.push_str(&user_lines("/w/api", "today-api", today.and_hms_opt(11, 5, 0).unwrap().and_utc(), 0..=20));
    std::fs::write(&shop_today, std::fs::read_to_string(&shop_today).unwrap() + &more).unwrap();
    let (_, listing) = run(command(&root, &config, &at("11:45"), &["push", "--dry-run"]));
    let changed = listing.lines().filter(|l| l.starts_with("  2026-")).count();
    let before = fake.requests().len();
    run(command(&root, &config, &at("11:45"), &["push"]));
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
