//! Ingest benchmark: `cargo bench --bench ingest`.
//!
//! Writes a corpus of about 300 MB in about 1,000 transcript files with realistic line sizes (large tool
//! results included), then measures, with the release binary:
//! - a first ingest into an empty database (MB/s),
//! - a re-run with nothing changed (ms),
//! - ccusage 20.0.24 (`daily --json --offline`) on the same corpus, side by side, as a ratio,
//!
//! and checks the results: per project, active seconds and token totals equal what the generator wrote,
//! and the token totals equal ccusage's. ccusage is installed by `benches/install-ccusage.sh`; without it
//! the ccusage rows are skipped with a note.
//!
//! Environment: `BENCH_MB` (default 300), `BENCH_FILES` (default 1000), `BENCH_RUNS` (default 5),
//! `CCUSAGE_BIN` (default `target/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const IDLE_MS: i64 = 15 * 60_000;
const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Figures {
    active_ms: i64,
    input: u64,
    output: u64,
    cache_creation: u64,
    cache_read: u64,
}

/// What the generator knows the corpus holds, per project.
type Expected = BTreeMap<String, Figures>;

struct Generator {
    rng: fastrand::Rng,
    counter: u64,
}

impl Generator {
    fn id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:016x}{:08x}", self.rng.u64(..), self.counter)
    }

    fn uuid(&mut self) -> String {
        self.counter += 1;
        let a = self.rng.u64(..);
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            a >> 32,
            a & 0xffff,
            self.counter & 0xfff,
            (a >> 16) & 0xfff,
            self.counter
        )
    }

    /// Filler text of about `len` bytes, with the escapes real transcripts carry.
    fn text(&mut self, len: usize) -> String {
        const WORDS: [&str; 12] = [
            "fn ",
            "let ",
            "cart",
            "total",
            "\\n",
            "\\\"quoted\\\"",
            "  ",
            "impl",
            "{ ",
            "} ",
            "=> ",
            "test_",
        ];
        let mut text = String::with_capacity(len + 16);
        while text.len() < len {
            text.push_str(WORDS[self.rng.usize(..WORDS.len())]);
        }
        text
    }

    /// Size of a tool result: mostly small, sometimes large, now and then huge.
    fn tool_result_len(&mut self) -> usize {
        match self.rng.u32(..100) {
            0..75 => self.rng.usize(200..4_000),
            75..97 => self.rng.usize(4_000..30_000),
            _ => self.rng.usize(30_000..150_000),
        }
    }
}

fn timestamp(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

struct SessionWriter<'a> {
    generator: &'a mut Generator,
    session: String,
    cwd: String,
    sidechain: bool,
    at: i64,
    activity: Vec<i64>,
    usage: Figures,
    out: String,
}

impl SessionWriter<'_> {
    fn common(&mut self, uuid: &str) -> String {
        format!(
            r#""parentUuid":"{uuid}","isSidechain":{},"userType":"external","cwd":"{}","sessionId":"{}","version":"2.0.31","gitBranch":"main""#,
            self.sidechain, self.cwd, self.session
        )
    }

    fn advance(&mut self) {
        let step = if self.generator.rng.u32(..40) == 0 {
            self.generator.rng.i64(16 * 60_000..90 * 60_000) // an idle gap
        } else {
            self.generator.rng.i64(1_000..180_000)
        };
        self.at += step;
        if !self.sidechain {
            self.activity.push(self.at);
        }
    }

    fn user_prompt(&mut self) {
        self.advance();
        let uuid = self.generator.uuid();
        let common = self.common(&uuid);
        let len = self.generator.rng.usize(100..2_000);
        let text = self.generator.text(len);
        let _ = writeln!(
            self.out,
            r#"{{{common},"type":"user","message":{{"role":"user","content":"{text}"}},"uuid":"{uuid}","timestamp":"{}"}}"#,
            timestamp(self.at)
        );
    }

    /// A tool's answer, shaped like Claude Code's: a file read (its text twice: in the message and in
    /// `toolUseResult`), an edit (a structured patch: many short strings), or a shell command's output.
    fn tool_result(&mut self, tool_id: &str) {
        self.advance();
        let uuid = self.generator.uuid();
        let common = self.common(&uuid);
        let len = self.generator.tool_result_len();
        let (content, result) = match self.generator.rng.u32(..3) {
            0 => {
                let text = self.generator.text(len);
                let result = format!(
                    r#"{{"type":"text","file":{{"filePath":"/home/dev/src/cart.rs","content":"{text}","numLines":120,"startLine":1,"totalLines":120}}}}"#
                );
                (text, result)
            }
            1 => {
                let mut lines = Vec::new();
                let mut size = 0;
                while size < len {
                    let line_len = self.generator.rng.usize(10..80);
                    let prefix = [" ", "-", "+"][self.generator.rng.usize(..3)];
                    let line = format!(r#""{prefix}{}""#, self.generator.text(line_len));
                    size += line.len() + 1;
                    lines.push(line);
                }
                let result = format!(
                    r#"{{"filePath":"/home/dev/src/cart.rs","oldString":"a","newString":"b","structuredPatch":[{{"oldStart":10,"oldLines":4,"newStart":10,"newLines":5,"lines":[{}]}}],"userModified":false,"replaceAll":false}}"#,
                    lines.join(",")
                );
                ("The file has been updated.".to_string(), result)
            }
            _ => {
                let text = self.generator.text(len);
                let result =
                    format!(r#"{{"stdout":"{text}","stderr":"","interrupted":false,"isImage":false}}"#);
                (text, result)
            }
        };
        let _ = writeln!(
            self.out,
            r#"{{{common},"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}","type":"tool_result","content":"{content}"}}]}},"uuid":"{uuid}","timestamp":"{}","toolUseResult":{result}}}"#,
            timestamp(self.at)
        );
    }

    /// One assistant message, written on one or more lines as Claude Code streams content blocks.
    fn assistant(&mut self) -> Option<String> {
        self.advance();
        let rng = &mut self.generator.rng;
        let (input, output) = (rng.u64(1..60), rng.u64(10..2_000));
        let (cache_creation, cache_read) = (rng.u64(0..20_000), rng.u64(5_000..150_000));
        let thinks = rng.u32(..3) == 0;
        let blocks = if thinks || rng.u32(..5) == 0 { 2 } else { 1 };
        let uses_tool = rng.bool();
        let message_id = self.generator.id("msg_01");
        let request_id = self.generator.id("req_011");
        let tool_id = self.generator.id("toolu_01");
        for block in 0..blocks {
            let uuid = self.generator.uuid();
            let common = self.common(&uuid);
            let content = if block == 0 && thinks {
                let len = self.generator.rng.usize(300..4_000);
                let thinking = self.generator.text(len);
                let signature = self.generator.id("Eq").repeat(12);
                format!(r#"{{"type":"thinking","thinking":"{thinking}","signature":"{signature}"}}"#)
            } else if uses_tool && block + 1 == blocks {
                format!(
                    r#"{{"type":"tool_use","id":"{tool_id}","name":"Read","input":{{"file_path":"/home/dev/src/cart.rs"}}}}"#
                )
            } else {
                let len = self.generator.rng.usize(200..3_000);
                format!(r#"{{"type":"text","text":"{}"}}"#, self.generator.text(len))
            };
            let _ = writeln!(
                self.out,
                r#"{{{common},"message":{{"model":"claude-sonnet-4-5-20250929","id":"{message_id}","type":"message","role":"assistant","content":[{content}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{cache_creation},"cache_read_input_tokens":{cache_read},"cache_creation":{{"ephemeral_5m_input_tokens":{cache_creation},"ephemeral_1h_input_tokens":0}},"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"{request_id}","type":"assistant","uuid":"{uuid}","timestamp":"{}"}}"#,
                timestamp(self.at)
            );
        }
        self.usage.input += input;
        self.usage.output += output;
        self.usage.cache_creation += cache_creation;
        self.usage.cache_read += cache_read;
        uses_tool.then_some(tool_id)
    }

    fn write_until(&mut self, bytes: usize) {
        if self.generator.rng.bool() {
            let uuid = self.generator.uuid();
            let _ = writeln!(
                self.out,
                r#"{{"type":"summary","summary":"Refactor the cart","leafUuid":"{uuid}"}}"#
            );
        }
        while self.out.len() < bytes {
            self.user_prompt();
            for _ in 0..self.generator.rng.usize(1..6) {
                match self.assistant() {
                    Some(tool_id) => self.tool_result(&tool_id),
                    None => break,
                }
            }
        }
    }
}

fn active_ms(activity: &mut [i64]) -> i64 {
    activity.sort_unstable();
    activity.windows(2).map(|w| w[1] - w[0]).filter(|gap| *gap < IDLE_MS).sum()
}

/// Writes the corpus under `root/projects` and returns what it holds.
fn generate(root: &Path, total_bytes: usize, files: usize) -> Expected {
    let mut generator = Generator { rng: fastrand::Rng::with_seed(0x5eed), counter: 0 };
    let mut expected = Expected::new();
    let projects = 25;
    let main_files = files * 4 / 5;
    let side_files = files - main_files;
    // Sessions overshoot their target by a tool result or so; aim a little lower.
    let per_file = total_bytes * 3 / (main_files * 3 + side_files) * 9 / 10;
    let start = chrono::DateTime::parse_from_rfc3339("2026-09-01T07:00:00Z").unwrap().timestamp_millis();
    let mut written = 0;
    for index in 0..main_files {
        let cwd = format!("/home/dev/code/project-{:02}", index % projects);
        let dir = root.join("projects").join(cwd.replace('/', "-"));
        std::fs::create_dir_all(&dir).unwrap();
        let session = generator.uuid();
        let day = i64::try_from(index % 60).unwrap();
        let at = start + day * 86_400_000 + generator.rng.i64(0..8 * 3_600_000);
        let size = generator.rng.usize(per_file / 4..per_file * 7 / 4);
        let mut writer = SessionWriter {
            generator: &mut generator,
            session: session.clone(),
            cwd: cwd.clone(),
            sidechain: false,
            at,
            activity: Vec::new(),
            usage: Figures::default(),
            out: String::new(),
        };
        writer.write_until(size);
        let mut figures = Figures { active_ms: active_ms(&mut writer.activity), ..writer.usage };
        let mut out = std::mem::take(&mut writer.out);
        // One in four sessions gets a sub-agent transcript, in either layout.
        if index < side_files {
            let mut side = SessionWriter {
                generator: &mut generator,
                session: session.clone(),
                cwd: cwd.clone(),
                sidechain: true,
                at: at + 60_000,
                activity: Vec::new(),
                usage: Figures::default(),
                out: String::new(),
            };
            side.write_until(size / 3);
            let agent = format!("agent-{:08x}", side.generator.rng.u32(..));
            let path = if index % 2 == 0 {
                dir.join(format!("{agent}.jsonl"))
            } else {
                dir.join(&session).join("subagents").join(format!("{agent}.jsonl"))
            };
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            written += side.out.len();
            std::fs::write(path, &side.out).unwrap();
            let side_usage = side.usage;
            figures.input += side_usage.input;
            figures.output += side_usage.output;
            figures.cache_creation += side_usage.cache_creation;
            figures.cache_read += side_usage.cache_read;
        }
        written += out.len();
        std::fs::write(dir.join(format!("{session}.jsonl")), &mut out).unwrap();
        let entry = expected.entry(cwd).or_default();
        entry.active_ms += figures.active_ms;
        entry.input += figures.input;
        entry.output += figures.output;
        entry.cache_creation += figures.cache_creation;
        entry.cache_read += figures.cache_read;
    }
    eprintln!("generated {:.0} MB in {files} files", written as f64 / 1e6);
    expected
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn corpus_bytes(root: &Path) -> u64 {
    walk(root).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn run(command: &mut Command) -> (Duration, String) {
    let started = Instant::now();
    let output = command.output().expect("run");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    (elapsed, String::from_utf8(output.stdout).unwrap())
}

fn tracker(root: &Path, db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("HOME", root.join("home"))
        .env("CLAUDE_CONFIG_DIR", root)
        .env("TZ", "UTC")
        .arg("--db")
        .arg(db)
        .arg("--config")
        .arg(root.join("none.toml"))
        .args(args);
    command
}

fn ccusage_bin() -> Option<PathBuf> {
    let path = std::env::var_os("CCUSAGE_BIN").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/ccusage/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage")
    });
    path.is_file().then_some(path)
}

fn main() {
    let target_mb = env_number("BENCH_MB", 300);
    let files = env_number("BENCH_FILES", 1000);
    let runs = env_number("BENCH_RUNS", 5);
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-ingest");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("home")).unwrap();
    let expected = generate(&work, target_mb * 1_000_000, files);
    let bytes = corpus_bytes(&work.join("projects"));
    let mb = bytes as f64 / 1e6;

    let mut first = Vec::new();
    let db = work.join("tracker.db");
    for _ in 0..runs {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        first.push(run(&mut tracker(&work, &db, &["ingest"])).0);
    }
    let first = median(first);
    let unchanged = median((0..runs * 2).map(|_| run(&mut tracker(&work, &db, &["ingest"])).0).collect());

    let (_, json) = run(&mut tracker(
        &work,
        &db,
        &["report", "--json", "--since", "2000-01-01", "--until", "2099-12-31"],
    ));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    check_against_generator(&report, &expected);

    let mut lines = vec![
        format!("corpus: {mb:.0} MB in {} files", walk(&work.join("projects")).len()),
        format!(
            "claude-tracker first ingest: {:.0} ms = {:.0} MB/s",
            first.as_secs_f64() * 1e3,
            mb / first.as_secs_f64()
        ),
        format!("claude-tracker unchanged re-run: {:.1} ms", unchanged.as_secs_f64() * 1e3),
    ];
    match ccusage_bin() {
        Some(ccusage) => {
            let mut samples = Vec::new();
            let mut ccusage_json = String::new();
            for _ in 0..runs {
                let mut command = Command::new(&ccusage);
                command
                    .env_clear()
                    .env("HOME", work.join("home"))
                    .env("TZ", "UTC")
                    .env("CLAUDE_CONFIG_DIR", &work)
                    .args(["daily", "--json", "--offline"]);
                let (elapsed, out) = run(&mut command);
                samples.push(elapsed);
                ccusage_json = out;
            }
            let theirs = median(samples);
            let totals: serde_json::Value = serde_json::from_str(&ccusage_json).unwrap();
            let totals = &totals["totals"];
            let ours = &report["total"];
            for (mine, their) in [
                ("input_tokens", "inputTokens"),
                ("output_tokens", "outputTokens"),
                ("cache_creation_input_tokens", "cacheCreationTokens"),
                ("cache_read_input_tokens", "cacheReadTokens"),
            ] {
                assert_eq!(ours[mine], totals[their], "{mine} differs from ccusage's {their}");
            }
            lines.push(format!(
                "ccusage 20.0.24 daily --json --offline: {:.0} ms = {:.0} MB/s",
                theirs.as_secs_f64() * 1e3,
                mb / theirs.as_secs_f64()
            ));
            lines.push(format!(
                "first-ingest speed ratio (claude-tracker / ccusage): {:.2}x",
                theirs.as_secs_f64() / first.as_secs_f64()
            ));
            lines.push("token totals: equal to ccusage's (input, output, cache creation, cache read)".into());
        }
        None => lines.push(
            "ccusage not installed: run `benches/install-ccusage.sh` for the side-by-side figure".into(),
        ),
    }
    lines.push(format!(
        "active time and tokens per project: equal to the generator's ({} projects)",
        expected.len()
    ));
    for line in &lines {
        println!("{line}");
    }
}

fn check_against_generator(report: &serde_json::Value, expected: &Expected) {
    let projects = report["projects"].as_array().unwrap();
    assert_eq!(projects.len(), expected.len(), "project count");
    for project in projects {
        let path = project["project"].as_str().unwrap();
        let want = expected[path];
        let active = project["active_seconds"].as_i64().unwrap();
        let sessions = project["sessions"].as_i64().unwrap();
        let exact_seconds = want.active_ms as f64 / 1000.0;
        assert!(
            (active as f64 - exact_seconds).abs() <= sessions as f64,
            "{path}: active {active} s, generator {exact_seconds} s"
        );
        assert_eq!(project["input_tokens"], want.input, "{path}");
        assert_eq!(project["output_tokens"], want.output, "{path}");
        assert_eq!(project["cache_creation_input_tokens"], want.cache_creation, "{path}");
        assert_eq!(project["cache_read_input_tokens"], want.cache_read, "{path}");
    }
}
