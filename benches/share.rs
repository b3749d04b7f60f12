//! Many-machines benchmark: `cargo bench --bench share`.
//!
//! The release binary on generated data:
//! - **Export and import of 10,000 sessions**: a portable file of 10,000 sessions (each a working hour:
//!   a line about every 20 s, 90 distinct messages, two models) is imported into an empty database,
//!   imported again (nothing new), and exported back (`export --format jsonl`): the time of each and the
//!   file's size.
//! - **An ingest with a shared folder whose files have not changed**: a database with 300 sessions of its
//!   own transcripts and five other machines' files (2,000 sessions each) already read; `ingest` with
//!   `[share] dir` against `ingest` without it, alternating, 31 runs each: the difference of the medians
//!   (goal: under 5 ms).
//!
//! Every figure is printed with its goal; a missed goal says `GOAL MISSED`. It never fails on a figure.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
const RUNS: usize = 31;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    export_and_import(dir.path());
    unchanged_share_folder(dir.path());
}

/// The binary with a clean environment in `dir`.
fn command(dir: &Path, config: &Path, db: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", dir.join("home"))
        .env("TZ", "UTC")
        .env("CLAUDE_CONFIG_DIR", dir.join("claude"))
        .env("CLAUDE_TRACKER_SECRETS_FILE", dir.join("secrets.json"))
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .arg("--now=2026-11-20T17:00:00Z");
    command
}

fn run(mut command: Command, args: &[&str]) -> (Duration, Vec<u8>) {
    let started = Instant::now();
    let output = command.args(args).output().unwrap();
    let took = started.elapsed();
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    (took, output.stdout)
}

/// A portable file of `count` sessions of machine `machine` (the format of `src/portable.rs`).
fn portable_file(machine: &str, count: usize, first_day_ms: i64) -> String {
    let mut body = String::new();
    for i in 0..count {
        let start = first_day_ms + i64::try_from(i).unwrap() * 3_600_000 / 3;
        let mut activity = vec![start];
        activity.extend((1..180).map(|k| 17_000 + (k * 7_919) % 9_000));
        let person: Vec<i64> = std::iter::once(start).chain((1..20).map(|_| 180_000)).collect();
        let mut messages = String::new();
        for m in 0..90 {
            let _ = write!(
                messages,
                "{}[\"{:016x}\",{},{},{},{},{}]",
                if m == 0 { "" } else { "," },
                (u64::try_from(i).unwrap() << 20) + m,
                start + i64::try_from(m).unwrap() * 40_000,
                1200 + m,
                300 + m,
                2_000,
                40_000 + m
            );
        }
        let join = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let _ = writeln!(
            body,
            r#"{{"id":"{machine}-{i:06}","machine":"{machine}","machine_id":"id-{machine}","project":"/home/dev/code/p{}","project_at":{start},"project_from_sidechain":false,"branch":"main","models":["claude-opus-4-5","claude-sonnet-4-5"],"activity":[{}],"person":[{}],"away":[],"places":[{{"at":{start},"cwd":"/home/dev/code/p{}"}}],"who_unknown":false,"messages":[{messages}],"tags":[]}}"#,
            i % 12,
            join(&activity),
            join(&person),
            i % 12
        );
    }
    let checksum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
    format!(
        "{{\"format\":\"claude-tracker-sessions\",\"version\":1,\"machine\":{{\"id\":\"id-{machine}\",\"name\":\"{machine}\"}},\"written_at\":\"2026-11-20T16:00:00Z\"}}\n{body}{{\"end\":{{\"sessions\":{count},\"xxh3\":\"{checksum:016x}\"}}}}\n"
    )
}

fn export_and_import(dir: &Path) {
    let file = dir.join("devbox.jsonl");
    std::fs::write(&file, portable_file("devbox", 10_000, 1_761_984_000_000)).unwrap();
    let config = dir.join("plain.toml");
    std::fs::write(&config, "timezone = \"UTC\"\n").unwrap();
    let db = dir.join("import.db");
    let file_arg = file.to_str().unwrap();
    let (first, _) = run(command(dir, &config, &db), &["import", file_arg]);
    let (again, _) = run(command(dir, &config, &db), &["import", file_arg]);
    let (export, bytes) = run(command(dir, &config, &db), &["export", "--format", "jsonl"]);
    println!("export and import of 10,000 sessions (release binary, one run each):");
    println!("  import into an empty database: {:.0} ms", first.as_secs_f64() * 1e3);
    println!("  the same file again (0 added):  {:.0} ms", again.as_secs_f64() * 1e3);
    println!(
        "  export --format jsonl:          {:.0} ms, {:.1} MB ({} bytes a session)",
        export.as_secs_f64() * 1e3,
        bytes.len() as f64 / 1e6,
        bytes.len() / 10_000
    );
    println!(
        "  database after import:          {:.1} MB",
        std::fs::metadata(&db).unwrap().len() as f64 / 1e6
    );
}

/// Transcripts of `count` sessions below `projects`.
fn transcripts(projects: &Path, count: usize) {
    for i in 0..count {
        let folder = projects.join(format!("-w-p{}", i % 10));
        std::fs::create_dir_all(&folder).unwrap();
        let mut text = String::new();
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-02T09:00:00.417Z").unwrap().to_utc()
            + chrono::Duration::hours(i64::try_from(i).unwrap());
        for k in 0..40 {
            let at = (start + chrono::Duration::seconds(k * 45))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let _ = writeln!(
                text,
                r#"{{"type":"user","isSidechain":false,"cwd":"/w/p{}","sessionId":"s{i}","gitBranch":"main","message":{{"role":"user","content":"x"}},"uuid":"u{i}-{k}","timestamp":"{at}"}}"#,
                i % 10
            );
        }
        std::fs::write(folder.join(format!("s{i}.jsonl")), text).unwrap();
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn unchanged_share_folder(dir: &Path) {
    let root = dir.join("ingest");
    transcripts(&root.join("claude/projects"), 300);
    let shared = root.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    for (n, machine) in ["desk", "devbox", "mini", "work", "old"].iter().enumerate() {
        let first = 1_760_000_000_000 + i64::try_from(n).unwrap() * 86_400_000 * 30;
        std::fs::write(shared.join(format!("{machine}.jsonl")), portable_file(machine, 2_000, first))
            .unwrap();
    }
    let without = root.join("without.toml");
    std::fs::write(&without, "timezone = \"UTC\"\n").unwrap();
    let with = root.join("with.toml");
    std::fs::write(
        &with,
        format!("timezone = \"UTC\"\n[share]\ndir = \"{}\"\nmachine = \"laptop\"\n", shared.display()),
    )
    .unwrap();
    let ingest = |config: &PathBuf, db: &PathBuf| {
        let mut command = command(&root, config, db);
        command.env("CLAUDE_CONFIG_DIR", root.join("claude"));
        run(command, &["ingest"]).0
    };
    let (db_without, db_with) = (root.join("without.db"), root.join("with.db"));
    // First runs: everything read (the share folder's 10,000 sessions merged once).
    let first_with = ingest(&with, &db_with);
    ingest(&without, &db_without);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        a.push(ingest(&without, &db_without));
        b.push(ingest(&with, &db_with));
    }
    let (a, b) = (median(a), median(b));
    let extra_ms = (b.as_secs_f64() - a.as_secs_f64()) * 1e3;
    println!("ingest with nothing new, 300 sessions of its own (release binary, {RUNS} runs each, medians):");
    println!("  without [share]:                              {:.1} ms", a.as_secs_f64() * 1e3);
    println!("  with [share], 5 machines' files unchanged:    {:.1} ms", b.as_secs_f64() * 1e3);
    println!(
        "  difference: {extra_ms:.1} ms (goal: under 5 ms){}",
        if extra_ms < 5.0 { "" } else { "  GOAL MISSED" }
    );
    println!(
        "  (the first run with [share], merging the 5 files' 10,000 sessions: {:.0} ms)",
        first_with.as_secs_f64() * 1e3
    );
}
