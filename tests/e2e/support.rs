//! A small world for end-to-end runs: a temporary home, transcripts written into it, and the real binary
//! run with a clean environment (no real home, no real Claude Code folder, no API keys).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// "Now" for every run that does not pass its own `--now`: a Saturday after the weeks the tests write.
pub const PINNED_NOW: &str = "2026-11-07T12:00:00Z";

/// A temporary home with a Claude Code `projects` folder and a database path.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let world = World { dir: tempfile::tempdir().expect("temp dir") };
        std::fs::create_dir_all(world.projects()).unwrap();
        world
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// `$CLAUDE_CONFIG_DIR/projects`.
    pub fn projects(&self) -> PathBuf {
        self.dir.path().join("claude/projects")
    }

    /// The secrets file every run uses instead of the OS keychain.
    pub fn secrets_file(&self) -> PathBuf {
        self.dir.path().join("secrets.json")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("tracker.db")
    }

    /// Writes a transcript below `projects/`, creating folders.
    pub fn write(&self, relative: &str, content: &str) -> PathBuf {
        let path = self.projects().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Writes a transcript, or appends to it when it exists (the session goes on).
    pub fn write_or_append(&self, relative: &str, content: &str) {
        if self.projects().join(relative).exists() {
            self.append(relative, content);
        } else {
            self.write(relative, content);
        }
    }

    /// Appends to a transcript.
    pub fn append(&self, relative: &str, content: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(self.projects().join(relative)).unwrap();
        file.write_all(content.as_bytes()).unwrap();
    }

    /// A session of `minutes` active minutes in `cwd` from `start` (RFC 3339): a user line every 5 minutes.
    pub fn session(&self, id: &str, cwd: &str, start: &str, minutes: i64) {
        let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
        let mut transcript = Transcript::new(id, cwd);
        for minute in (0..=minutes).step_by(5) {
            let at = start + chrono::Duration::minutes(minute);
            transcript = transcript.user(&at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        self.write(&format!("{}/{id}.jsonl", cwd.replace('/', "-")), transcript.text());
    }

    /// Writes a config file and returns its path.
    pub fn config(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary with a clean environment: temp HOME and XDG dirs, transcripts from this world, the
    /// database in the temp dir, time pinned.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// The same clean environment for a process the test starts in the background (and may kill).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("claude-tracker"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env("TZ", "UTC")
            .env("CLAUDE_CONFIG_DIR", self.dir.path().join("claude"))
            .env("CLAUDE_TRACKER_DB", self.db())
            .env("CLAUDE_TRACKER_CONFIG", self.dir.path().join("no-config.toml"))
            // Never the real keychain, never the real clock (a test's own `--now` overrides this one).
            .env("CLAUDE_TRACKER_SECRETS_FILE", self.secrets_file())
            .env("CLAUDE_TRACKER_NOW", PINNED_NOW)
            // This machine's name, as a machine's host name would give it (the same on every test host).
            .env("CLAUDE_TRACKER_MACHINE", "dev")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    }

    /// Runs the binary to success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.cmd().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// `report --json` over a range, parsed.
    pub fn report(&self, since: &str, until: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["report", "--json", "--since", since, "--until", until];
        args.extend_from_slice(extra);
        serde_json::from_str(&self.ok(&args)).unwrap()
    }
}

/// Prompts of session `id` in `cwd` every 4 minutes from `from` to `to` (`HH:MM`, UTC, on `day`), each
/// stamped with milliseconds that vary as Claude Code's do.
pub fn prompts(id: &str, cwd: &str, day: &str, (from, to): (&str, &str)) -> Transcript {
    let at = |hm: &str| -> chrono::DateTime<chrono::Utc> { format!("{day}T{hm}:00Z").parse().unwrap() };
    let (mut t, end) = (at(from), at(to));
    let mut lines = Transcript::new(id, cwd);
    let mut i = 0i64;
    while t <= end {
        let stamp = t + chrono::Duration::milliseconds(173 + 97 * (i % 5));
        lines = lines.user(&stamp.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        t += chrono::Duration::minutes(4);
        i += 1;
    }
    lines
}

/// Builds transcript lines in Claude Code's format.
pub struct Transcript {
    pub session: String,
    pub cwd: String,
    text: String,
    counter: u32,
}

impl Transcript {
    pub fn new(session: &str, cwd: &str) -> Transcript {
        Transcript { session: session.into(), cwd: cwd.into(), text: String::new(), counter: 0 }
    }

    fn next_uuid(&mut self) -> String {
        self.counter += 1;
        format!("{}-{:04}", self.session, self.counter)
    }

    /// A user prompt at `at` (RFC 3339).
    pub fn user(mut self, at: &str) -> Self {
        let uuid = self.next_uuid();
        let _ = writeln!(
            self.text,
            r#"{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"{}","sessionId":"{}","version":"2.0.31","gitBranch":"main","type":"user","message":{{"role":"user","content":"private prompt text"}},"uuid":"{uuid}","timestamp":"{at}"}}"#,
            self.cwd, self.session
        );
        self
    }

    /// An assistant answer with its own message id.
    pub fn assistant(self, at: &str, input: u64, output: u64, cache_creation: u64, cache_read: u64) -> Self {
        let id = format!("msg_{}_{}", self.session, self.counter + 1);
        self.assistant_msg(at, &id, [input, output, cache_creation, cache_read], "claude-sonnet-4-5")
    }

    /// An assistant line with a chosen message id (and request id derived from it) and model.
    pub fn assistant_msg(mut self, at: &str, id: &str, usage: [u64; 4], model: &str) -> Self {
        let uuid = self.next_uuid();
        let [input, output, cache_creation, cache_read] = usage;
        let _ = writeln!(
            self.text,
            r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"{}","sessionId":"{}","version":"2.0.31","gitBranch":"main","message":{{"model":"{model}","id":"{id}","type":"message","role":"assistant","content":[{{"type":"text","text":"private answer"}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{cache_creation},"cache_read_input_tokens":{cache_read},"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"req_{id}","type":"assistant","uuid":"{uuid}","timestamp":"{at}"}}"#,
            self.cwd, self.session
        );
        self
    }

    /// A raw line, as is.
    pub fn raw(mut self, line: &str) -> Self {
        self.text.push_str(line);
        self.text.push('\n');
        self
    }

    /// Every line marked as a side-chain (sub-agent) line.
    pub fn marked_sidechain(mut self) -> Self {
        self.text = self.text.replace(r#""isSidechain":false"#, r#""isSidechain":true"#);
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The numbers of one project in a parsed `report --json`.
pub fn project<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["project"] == path)
        .unwrap_or_else(|| panic!("no project {path} in {report}"))
}

/// Path of the repository's shipped example files.
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The session ids of a portable sessions file (`export --format jsonl`, a shared folder's file), in
/// file order.
pub fn portable_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|value| value.get("id").and_then(|id| id.as_str()).map(str::to_string))
        .collect()
}
