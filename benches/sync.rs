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
mod support;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use support::{clockify_and_config, command, run, work_days, write_corpus};

/// Monday 2026-11-23: after the 250 work days.
const NOW: &str = "2026-11-23T12:00:00Z";

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-sync");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("home")).unwrap();
    let days = work_days(250);
    write_corpus(&root, &days);
    let (fake, config) = clockify_and_config(&root, "");

    run(command(&root, &config, NOW, &["ingest"]));
    let mut dry_runs: Vec<Duration> =
        (0..7).map(|_| run(command(&root, &config, NOW, &["sync", "--dry-run"])).0).collect();
    dry_runs.sort();
    let dry_run = dry_runs[dry_runs.len() / 2];
    let output = command(&root, &config, NOW, &["sync", "--dry-run", "--json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let planned_days = plan.as_array().unwrap().iter().filter(|d| d["status"] == "planned").count();

    let (sync, _) = run(command(&root, &config, NOW, &["sync"]));
    let requests = fake.requests();
    let entries = fake.entries();
    let distinct: HashSet<(Option<String>, String)> =
        entries.iter().map(|e| (e.project_id.clone(), e.start.clone())).collect();
    let throttled = requests.iter().filter(|r| r.status == 429).count();
    let before_second = requests.len();
    run(command(&root, &config, NOW, &["sync"]));
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
