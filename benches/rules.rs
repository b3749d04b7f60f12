//! Rules benchmark: `cargo bench --bench rules`.
//!
//! Classifies and tags 100,000 synthetic sessions against 50 rules (globs on folders, some on branches and
//! models), the work every run does after a rules change. Target: under 50 ms. Prints the median of 7.

use std::time::{Duration, Instant};

use claude_tracker::bench_api::RulesBench;

fn main() {
    let bench = RulesBench::new(100_000, 50);
    let mut times: Vec<Duration> = Vec::new();
    let mut tags = 0;
    for _ in 0..7 {
        let started = Instant::now();
        tags = bench.run();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "classify and tag 100000 sessions against 50 rules: {:.1} ms (median of 7; {tags} tags given)",
        times[3].as_secs_f64() * 1000.0
    );
}
