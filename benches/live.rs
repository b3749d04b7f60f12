//! Live-timer benchmark: `cargo bench --bench live`.
//!
//! The release binary's `watch` against the fake Toggl Track on 127.0.0.1, with the clock in a file this
//! program moves (`$CLAUDE_TRACKER_CLOCK_FILE`), so a simulated day takes about a minute:
//!
//! - **A simulated working day** (2026-11-02, 09:00-17:30 UTC): a line every 2 minutes, nine stretches
//!   on four projects (one of 12 minutes), five glances of 25 seconds at another project, a lunch gap
//!   (12:16-13:20), new sessions after lunch. Toggl Free's 30 requests an hour per class are counted on
//!   the simulated clock by a proxy in front of the fake (`benches/support/toggl_quota.rs`; its
//!   `X-Toggl-Quota-Resets-In` is scaled to the run's pace, as the client counts it on the real clock).
//!   From 11:00 another client of the account (a phone app) spends requests so that the workspace quota
//!   left falls from 30 to 3 by 11:40, stays at most 3 until 13:00 and is spent (0) from 12:20 to 12:40;
//!   a request over the quota is answered 402. Run twice: (1) one long-running `watch` following the
//!   appended lines (each step waits for the pass that saw it and for what that pass sent); (2) `watch
//!   --once` once a simulated minute, each a new process, as a cron job or a hook would run it.
//!   Measured per run: requests per entry, 402 answers, entries rewritten after they were stopped (a
//!   later request changed their start, stop or project, or deleted them), whether the entries are the
//!   stretches as worked, how long after a stretch began its timer started and which project the timer
//!   showed while the work went on, what a `push` after the day would still send, and whether a timer
//!   was left running past the last activity + idle threshold (15 minutes) + 1 minute. Requests go
//!   unpaced here (`$CLAUDE_TRACKER_TOGGL_INTERVAL_MS=0`, the fake's bucket off): pacing changes when a
//!   request goes, not which. `BENCH_LIVE_LOG=1` prints every request with its simulated time.
//! - **Latency** from an appended line to the running entry on the fake, with Toggl's real pacing (the
//!   fake's one request per second, the client's own 1 s interval): a new session's first line, and the
//!   first line after an idle gap in a session that exists.
//! - **Idle CPU** of a watcher on the system clock with nothing to do, measured while the rest runs, and
//!   memory (VmRSS) of the day's watcher. Linux only (/proc).
//!
//! Every figure is printed with its goal; a missed goal says `GOAL MISSED`. The benchmark never fails
//! on a figure: it reports.

#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;
#[path = "../tests/e2e/fake_toggl.rs"]
mod fake_toggl;
#[path = "support/toggl_quota.rs"]
mod toggl_quota;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use fake_toggl::{FakeToggl, WORKSPACE_ID};
use toggl_quota::QuotaProxy;

const BINARY: &str = env!("CARGO_BIN_EXE_claude-tracker");
const DAY: &str = "2026-11-02";
/// The idle threshold (the default, 15 minutes).
const IDLE: TimeDelta = TimeDelta::minutes(15);
/// Toggl Free: requests an hour, per class.
const FREE_QUOTA: i64 = 30;
const PROJECTS: [(&str, i64); 4] = [("/w/shop", 100), ("/w/api", 200), ("/w/infra", 300), ("/w/docs", 400)];

fn at(time: &str) -> DateTime<Utc> {
    let time = if time.len() == 5 { format!("{time}:00") } else { time.to_string() };
    format!("{DAY}T{time}Z").parse().unwrap()
}

fn hm(t: DateTime<Utc>) -> String {
    let text = t.format("%H:%M:%S").to_string();
    text.strip_suffix(":00").map_or_else(|| text.clone(), str::to_string)
}

// ---------------------------------------------------------------------------------------------------
// The day

#[derive(Clone, Debug)]
struct Line {
    at: DateTime<Utc>,
    session: &'static str,
    cwd: &'static str,
}

/// A stretch as worked: (first line, last line, folder, session).
const STRETCHES: [(&str, &str, &str, &str); 9] = [
    ("09:00", "10:18", "/w/shop", "shop-am"),
    ("10:20", "11:28", "/w/api", "api-am"),
    ("11:30", "11:48", "/w/infra", "infra"),
    // 12 minutes while the quota is low: longer than the configured minimum, shorter than a scarce
    // quota's switch minimum.
    ("11:50", "12:02", "/w/docs", "docs"),
    ("12:04", "12:16", "/w/infra", "infra"),
    ("13:20", "14:38", "/w/shop", "shop-pm"),
    ("14:40", "15:34", "/w/docs", "docs"),
    ("15:36", "16:38", "/w/api", "api-pm"),
    ("16:40", "17:30", "/w/shop", "shop-pm"),
];

/// Glances of 25 seconds at another project: (first line, folder, session).
const GLANCES: [(&str, &str, &str); 5] = [
    ("09:41:10", "/w/api", "api-am"),
    ("10:55:05", "/w/shop", "shop-am"),
    ("13:58:10", "/w/api", "api-am"),
    ("15:10:20", "/w/infra", "infra"),
    ("17:05:10", "/w/docs", "docs"),
];

/// Until when the simulated day runs (after the last line's idle threshold and a minute).
fn day_end() -> DateTime<Utc> {
    at("17:50")
}

fn day_lines() -> Vec<Line> {
    let mut lines = Vec::new();
    for (from, to, cwd, session) in STRETCHES {
        let mut t = at(from);
        while t <= at(to) {
            lines.push(Line { at: t, session, cwd });
            t += TimeDelta::minutes(2);
        }
    }
    for (first, cwd, session) in GLANCES {
        for offset in [0, 25] {
            lines.push(Line { at: at(first) + TimeDelta::seconds(offset), session, cwd });
        }
    }
    lines.sort_by_key(|l| l.at);
    lines
}

/// The workspace requests left that another client of the account spends down to at `t`, if any:
/// from 30 at 11:00 to 3 at 11:40, 3 until 12:20, none from 12:20 to 12:40 (spent), 3 until 13:00.
fn elsewhere_target(t: DateTime<Utc>) -> Option<i64> {
    let minutes = (t - at("11:00")).num_seconds() as f64 / 60.0;
    if minutes < 0.0 || t > at("13:00") {
        None
    } else if minutes <= 40.0 {
        Some((30.0 - 27.0 * minutes / 40.0).round() as i64)
    } else if (at("12:20")..at("12:40")).contains(&t) {
        Some(0)
    } else {
        Some(3)
    }
}

/// When a timer still running at `t` is late: the last line by `t`, plus the idle threshold, plus a
/// minute.
fn deadline(lines: &[Line], t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lines.iter().filter(|l| l.at <= t).map(|l| l.at).max().map(|last| last + IDLE + TimeDelta::minutes(1))
}

// ---------------------------------------------------------------------------------------------------
// A world: folders, config, the binary

struct World {
    root: PathBuf,
    config: PathBuf,
    clock: PathBuf,
    /// A read-only connection to the watcher's database, once it exists.
    db: std::cell::RefCell<Option<rusqlite::Connection>>,
}

impl World {
    fn new(name: &str, base_url: &str) -> World {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-live").join(name);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home")).unwrap();
        let mut mapping = String::new();
        for (cwd, id) in PROJECTS {
            std::fs::create_dir_all(root.join("projects").join(cwd.replace('/', "-"))).unwrap();
            let _ = writeln!(mapping, "\"{cwd}\" = {id}");
        }
        let config = root.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "timezone = \"UTC\"\n[capture]\nprojects_dirs = [\"projects\"]\n[toggl]\nbase_url = \"{base_url}\"\n\
                 workspace_id = {WORKSPACE_ID}\nother_project_id = 900\nmode = \"live\"\n\
                 [toggl.project_mapping]\n{mapping}"
            ),
        )
        .unwrap();
        World { clock: root.join("clock"), root, config, db: std::cell::RefCell::new(None) }
    }

    fn append(&self, line: &Line, n: usize) {
        use std::io::Write;
        let path = self
            .root
            .join("projects")
            .join(line.cwd.replace('/', "-"))
            .join(format!("{}.jsonl", line.session));
        let text = format!(
            "{{\"type\":\"user\",\"cwd\":\"{}\",\"sessionId\":\"{}\",\"uuid\":\"{}-{n}\",\"timestamp\":\"{}\",\
             \"message\":{{\"role\":\"user\",\"content\":\"x\"}}}}\n",
            line.cwd,
            line.session,
            line.session,
            line.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn set_clock(&self, now: DateTime<Utc>) {
        // Written whole and renamed: a pass never reads half an instant.
        let temporary = self.clock.with_extension("new");
        std::fs::write(&temporary, now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap();
        std::fs::rename(&temporary, &self.clock).unwrap();
    }

    /// The binary with a clean environment; the clock file unless `system_clock`; unpaced when `fast`.
    fn command(&self, system_clock: bool, fast: bool) -> Command {
        let mut command = Command::new(BINARY);
        command
            .env_clear()
            .env("HOME", self.root.join("home"))
            .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
            .arg("--config")
            .arg(&self.config)
            .arg("--db")
            .arg(self.root.join("tracker.db"));
        if !system_clock {
            command.env("CLAUDE_TRACKER_CLOCK_FILE", &self.clock);
        }
        if fast {
            command.env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0");
        }
        command
    }

    fn spawn_watch(&self, system_clock: bool, fast: bool) -> Child {
        let log = std::fs::File::create(self.root.join("watch.out")).unwrap();
        self.command(system_clock, fast)
            .arg("watch")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// Runs `query` on the watcher's database (read only; opened on first use).
    fn query<T>(&self, query: &str) -> Option<T>
    where
        T: rusqlite::types::FromSql,
    {
        let mut db = self.db.borrow_mut();
        if db.is_none() {
            let path = self.root.join("tracker.db");
            if !path.exists() {
                return None;
            }
            let opened =
                rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .ok()?;
            opened.busy_timeout(Duration::from_secs(5)).ok()?;
            *db = Some(opened);
        }
        db.as_ref()?.query_row(query, [], |r| r.get(0)).ok()
    }

    /// The `now` of the watcher's last pass (written once it has ingested).
    fn last_pass(&self) -> Option<DateTime<Utc>> {
        let value: String = self.query("SELECT value FROM meta WHERE key = 'watch.last_pass'")?;
        DateTime::parse_from_rfc3339(&value).ok().map(|t| t.with_timezone(&Utc))
    }

    /// Waits until the watcher has been quiet for 60 ms: no request answered, nothing committed.
    fn wait_quiet(&self, proxy: &QuotaProxy) {
        let probe = || (proxy.answered(), self.query::<i64>("PRAGMA data_version"));
        let mut last = probe();
        let mut quiet = 0;
        while quiet < 3 {
            std::thread::sleep(Duration::from_millis(20));
            let now = probe();
            quiet = if now == last { quiet + 1 } else { 0 };
            last = now;
        }
    }

    /// Waits for a pass that read the clock at `now` or later; false after 20 s.
    fn wait_for_pass(&self, now: DateTime<Utc>) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if self.last_pass().is_some_and(|t| t >= now) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// `push --dry-run` at `now`: how many entries it would still send.
    fn push_would_send(&self, now: DateTime<Utc>) -> Option<usize> {
        let output = self
            .command(true, true)
            .arg(format!("--now={}", now.to_rfc3339()))
            .args(["push", "--dry-run"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text.lines().find(|l| l.starts_with("Would push "))?;
        line.split_whitespace().nth(2)?.parse().ok()
    }
}

fn fake_with_projects(paced: bool) -> Arc<FakeToggl> {
    let fake = FakeToggl::start();
    for (cwd, id) in PROJECTS {
        fake.add_project(WORKSPACE_ID, id, cwd.trim_start_matches("/w/"), "Client");
    }
    fake.add_project(WORKSPACE_ID, 900, "Other", "Client");
    if !paced {
        // The proxy keeps the quota, on the simulated clock; the fake's own, on the real one, is out of reach.
        fake.set_quota(1_000_000, 1_000_000);
        fake.set_min_interval_ms(0);
    }
    Arc::new(fake)
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

/// One figure, its goal, and `GOAL MISSED` when it misses.
fn figure(label: &str, value: &str, goal: &str, met: bool) {
    println!("{label}: {value} (goal {goal}){}", if met { "" } else { "  GOAL MISSED" });
}

// ---------------------------------------------------------------------------------------------------
// One simulated day

/// What a run of the day leaves to report.
struct DayRun {
    name: &'static str,
    wall: Duration,
    /// (simulated instant, minutes late) of every check that found a timer running too long.
    late: Vec<(DateTime<Utc>, i64)>,
    /// By simulated instant: the workspace quota the account has left, and what the last workspace
    /// answer to the tracker said.
    seen: Vec<(DateTime<Utc>, i64, Option<i64>)>,
    push_after: Option<usize>,
    /// By simulated instant, after the passes up to it: the project of the running timer, if one runs.
    timer: Vec<(DateTime<Utc>, Option<i64>)>,
    notes: Vec<String>,
}

/// The project of the running entry on the fake.
fn running_project(fake: &FakeToggl) -> Option<i64> {
    fake.entries().into_iter().find(|e| e.stop.is_empty()).map(|e| e.project_id.unwrap_or(0))
}

/// Checks, after the passes up to `t` are done, that no timer that began by `t` runs past its deadline.
fn check_running(fake: &FakeToggl, lines: &[Line], t: DateTime<Utc>, late: &mut Vec<(DateTime<Utc>, i64)>) {
    let Some(deadline) = deadline(lines, t) else { return };
    if t <= deadline {
        return;
    }
    let running =
        fake.entries().into_iter().filter(|e| e.stop.is_empty()).any(|e| {
            DateTime::parse_from_rfc3339(&e.start).is_ok_and(|start| start.with_timezone(&Utc) <= t)
        });
    if running {
        late.push((t, (t - deadline).num_minutes() + 1));
    }
}

/// The long-running watcher: one step per line time, plus steps through the gaps (every minute for 20
/// minutes, then every 5, at each threshold and a minute after it); each step waits for the pass that
/// saw it and for what that pass sent.
fn run_watch(fake: &FakeToggl, proxy: &QuotaProxy, world: &World, lines: &[Line]) -> (DayRun, (u64, u64)) {
    let mut steps: BTreeSet<DateTime<Utc>> = lines.iter().map(|l| l.at).collect();
    let times: Vec<DateTime<Utc>> = steps.iter().copied().collect();
    for (i, last) in times.iter().enumerate() {
        let next = times.get(i + 1).copied().unwrap_or(day_end());
        // The real watcher scans at least once a minute: every minute of a gap for the first 20, then
        // every 5.
        let mut t = *last + TimeDelta::minutes(1);
        while t < next && next - *last > TimeDelta::minutes(2) {
            steps.insert(t);
            t += if t - *last < TimeDelta::minutes(20) {
                TimeDelta::minutes(1)
            } else {
                TimeDelta::minutes(5)
            };
        }
        for t in [*last + IDLE, *last + IDLE + TimeDelta::seconds(61)] {
            if t < next {
                steps.insert(t);
            }
        }
    }
    steps.insert(day_end());
    let started = Instant::now();
    let first = at("08:59");
    world.set_clock(first);
    proxy.set_clock(first);
    let mut watcher = world.spawn_watch(false, true);
    let mut notes = Vec::new();
    if !world.wait_for_pass(first) {
        notes.push("the watcher made no first pass in 20 s".to_string());
    }
    let rss_start = usage(watcher.id()).1;
    let mut late = Vec::new();
    let mut seen = Vec::new();
    let mut timer = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    let mut appended = 0;
    let mut stalls = 0;
    for t in steps {
        proxy.set_clock(t);
        if let Some(target) = elsewhere_target(t) {
            proxy.spend_elsewhere_to(target);
        }
        world.set_clock(t);
        for line in lines.iter().filter(|l| l.at <= t && previous.is_none_or(|p| l.at > p)) {
            appended += 1;
            world.append(line, appended);
        }
        // A pass that read the clock after the lines were written.
        let marker = t + TimeDelta::milliseconds(1);
        world.set_clock(marker);
        if !world.wait_for_pass(marker) {
            stalls += 1;
        }
        // And has done what it does: the next step's clock is not the one its requests are counted at.
        world.wait_quiet(proxy);
        check_running(fake, lines, t, &mut late);
        timer.push((t, running_project(fake)));
        seen.push((t, proxy.remaining(), proxy.log().iter().rev().find(|r| !r.me).map(|r| r.remaining)));
        previous = Some(t);
    }
    // The last pass's requests: done when the log stops growing.
    let mut count = proxy.log().len();
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        let now = proxy.log().len();
        if now == count {
            break;
        }
        count = now;
    }
    check_running(fake, lines, day_end(), &mut late);
    if stalls > 0 {
        notes.push(format!("{stalls} steps had no pass of their own within 20 s"));
    }
    let rss_end = usage(watcher.id()).1;
    let _ = watcher.kill();
    let _ = watcher.wait();
    let wall = started.elapsed();
    let push_after = world.push_would_send(day_end() + TimeDelta::minutes(10));
    let run = DayRun { name: "watch", wall, late, seen, push_after, timer, notes };
    (run, (rss_start, rss_end))
}

/// `watch --once` at every simulated minute, a new process each time.
fn run_once(fake: &FakeToggl, proxy: &QuotaProxy, world: &World, lines: &[Line]) -> DayRun {
    let started = Instant::now();
    let mut late = Vec::new();
    let mut seen = Vec::new();
    let mut timer = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    let mut appended = 0;
    let (mut processes, mut failed, mut quota_said) = (0, 0, 0);
    let mut t = at("09:00");
    while t <= day_end() {
        proxy.set_clock(t);
        if let Some(target) = elsewhere_target(t) {
            proxy.spend_elsewhere_to(target);
        }
        for line in lines.iter().filter(|l| l.at <= t && previous.is_none_or(|p| l.at > p)) {
            appended += 1;
            world.append(line, appended);
        }
        world.set_clock(t);
        let output = world.command(false, true).args(["watch", "--once"]).output().unwrap();
        processes += 1;
        if !output.status.success() {
            failed += 1;
            let text = String::from_utf8_lossy(&output.stderr).to_lowercase();
            if text.contains("quota") {
                quota_said += 1;
            }
        }
        check_running(fake, lines, t, &mut late);
        timer.push((t, running_project(fake)));
        seen.push((t, proxy.remaining(), proxy.log().iter().rev().find(|r| !r.me).map(|r| r.remaining)));
        previous = Some(t);
        t += TimeDelta::minutes(1);
    }
    let wall = started.elapsed();
    let push_after = world.push_would_send(day_end() + TimeDelta::minutes(10));
    let notes = vec![format!(
        "{processes} processes, {failed} exited non-zero ({quota_said} of them naming the quota), {:.0} ms each",
        wall.as_secs_f64() * 1e3 / f64::from(processes)
    )];
    DayRun { name: "watch --once", wall, late, seen, push_after, timer, notes }
}

/// The most requests of `log` in any simulated hour ending at one of them.
fn busiest_hour(log: &[toggl_quota::Logged], me: bool) -> usize {
    let times: Vec<DateTime<Utc>> = log.iter().filter(|r| r.me == me && r.counted).map(|r| r.at).collect();
    times
        .iter()
        .map(|end| times.iter().filter(|t| **t <= *end && *end - **t < TimeDelta::hours(1)).count())
        .max()
        .unwrap_or(0)
}

/// "2 min", "45 s".
fn minutes(d: TimeDelta) -> String {
    if d.num_seconds() % 60 == 0 {
        format!("{} min", d.num_minutes())
    } else {
        format!("{} s", d.num_seconds())
    }
}

fn entry_text(e: &fake_toggl::Entry) -> String {
    let time = |s: &str| {
        DateTime::parse_from_rfc3339(s).map_or_else(|_| "now".to_string(), |t| hm(t.with_timezone(&Utc)))
    };
    let project = PROJECTS
        .iter()
        .find(|(_, id)| Some(*id) == e.project_id)
        .map_or("other", |(cwd, _)| cwd.trim_start_matches("/w/"));
    format!("{}-{} {project}", time(&e.start), time(&e.stop))
}

fn report(run: &DayRun, fake: &FakeToggl, proxy: &QuotaProxy) {
    let label = |what: &str| format!("live {}: {what}", run.name);
    let log = proxy.log();
    let entries = fake.entries();
    let count = |wanted: &dyn Fn(&toggl_quota::Logged) -> bool| log.iter().filter(|r| wanted(r)).count();
    let requests = log.len();
    let per_entry = requests as f64 / entries.len().max(1) as f64;
    let quota_402 = count(&|r| r.status == 402);
    println!(
        "live {}: simulated {DAY} 09:00-{} in {:.1} s ({:.0} simulated seconds per real second)",
        run.name,
        hm(day_end()),
        run.wall.as_secs_f64(),
        proxy.pace()
    );
    figure(
        &label("requests per entry"),
        &format!("{requests} requests for {} entries = {per_entry:.2}", entries.len()),
        "<= 3: a look at the running timer, a start, a stop",
        per_entry <= 3.0,
    );
    println!(
        "live {}: requests by kind: {} looks (GET current), {} POST, {} PUT, {} DELETE, {} PATCH, {} other GET; \
         {} answered 402, {} answered 429",
        run.name,
        count(&|r| r.method == "GET" && r.path.ends_with("/current")),
        count(&|r| r.method == "POST"),
        count(&|r| r.method == "PUT"),
        count(&|r| r.method == "DELETE"),
        count(&|r| r.method == "PATCH"),
        count(&|r| r.method == "GET" && !r.path.ends_with("/current")),
        quota_402,
        count(&|r| r.status == 429)
    );
    let sample = |time: &str| {
        run.seen.iter().rfind(|(t, _, _)| *t <= at(time)).map_or_else(
            || "-".to_string(),
            |(_, actual, answered)| {
                format!("{time} {actual}/{}", answered.map_or_else(|| "-".to_string(), |a| a.to_string()))
            },
        )
    };
    let times = ["10:59", "11:20", "11:41", "12:21", "12:41", "13:30", "14:00", "14:30", "15:00"];
    println!(
        "live {}: workspace quota left (the account's / the last answer to the tracker): {}; another client \
         spent {} requests from 11:00 to 13:00",
        run.name,
        times.iter().map(|t| sample(t)).collect::<Vec<_>>().join(", "),
        proxy.spent_elsewhere()
    );
    let (workspace_hour, me_hour) = (busiest_hour(&log, false), busiest_hour(&log, true));
    figure(
        &label("the tracker's own requests in its busiest simulated hour"),
        &format!("{workspace_hour} workspace, {me_hour} /me"),
        &format!("<= {FREE_QUOTA} each, Toggl Free"),
        workspace_hour as i64 <= FREE_QUOTA && me_hour as i64 <= FREE_QUOTA,
    );
    let mut spent_at: Vec<String> = log.iter().filter(|r| r.status == 402).map(|r| hm(r.at)).collect();
    spent_at.dedup();
    let shown: Vec<String> = spent_at.iter().take(12).cloned().collect();
    figure(
        &label("402 answers (quota spent)"),
        &if quota_402 == 0 {
            "0".to_string()
        } else {
            format!(
                "{quota_402}, at {}{}",
                shown.join(", "),
                if spent_at.len() > shown.len() { ", ..." } else { "" }
            )
        },
        "0",
        quota_402 == 0,
    );
    let rewrites = proxy.rewrites();
    let rewritten: BTreeSet<i64> = rewrites.iter().map(|r| r.before.id).collect();
    figure(
        &label("entries rewritten after they were stopped"),
        &format!("{} ({} requests)", rewritten.len(), rewrites.len()),
        "0",
        rewritten.is_empty(),
    );
    for rewrite in rewrites.iter().take(10) {
        println!(
            "    at {} {} {} -> {}",
            hm(rewrite.at),
            rewrite.method,
            entry_text(&rewrite.before),
            rewrite.after.as_ref().map_or_else(|| "deleted".to_string(), entry_text)
        );
    }
    if rewrites.len() > 10 {
        println!("    ... {} more", rewrites.len() - 10);
    }
    let worked: Vec<String> = STRETCHES
        .iter()
        .map(|(from, to, cwd, _)| {
            format!("{}-{} {}", hm(at(from)), hm(at(to)), cwd.trim_start_matches("/w/"))
        })
        .collect();
    let held: Vec<String> = entries.iter().map(entry_text).collect();
    let matching = worked.iter().filter(|w| held.contains(w)).count();
    figure(
        &label("entries as worked (one per stretch, glances absorbed)"),
        &format!("{matching} of {} stretches, {} entries in all", worked.len(), held.len()),
        &format!("{0} of {0}, {0} in all", worked.len()),
        matching == worked.len() && held.len() == worked.len(),
    );
    if matching != worked.len() || held.len() != worked.len() {
        println!("    held: {}", held.join(" | "));
    }
    // When each stretch's entry appeared: started (a running timer) how long after its first line, or
    // posted whole once the stretch was over.
    let delays: Vec<String> = STRETCHES
        .iter()
        .map(|(from, to, cwd, _)| {
            let name = format!("{} {}", hm(at(from)), cwd.trim_start_matches("/w/"));
            let id = entries
                .iter()
                .find(|e| {
                    entry_text(e)
                        == format!("{}-{} {}", hm(at(from)), hm(at(to)), cwd.trim_start_matches("/w/"))
                })
                .map(|e| e.id);
            let created = log.iter().find(|r| r.created.is_some_and(|(c, _)| Some(c) == id));
            match created.and_then(|r| r.created.map(|(_, running)| (r.at, running))) {
                Some((when, true)) => format!("{name} +{}", minutes(when - at(from))),
                Some((when, false)) => format!("{name} no timer (posted whole at {})", hm(when)),
                None => format!("{name} ?"),
            }
        })
        .collect();
    println!("live {}: timer started after the stretch's first line: {}", run.name, delays.join(", "));
    // Each sampled interval of work: was the timer running, and on the stretch's project?
    let (mut none, mut other, mut worked_seconds) = (0, 0, 0);
    for pair in run.timer.windows(2) {
        let ((t, project), (next, _)) = (pair[0], pair[1]);
        let Some((_, _, cwd, _)) = STRETCHES.iter().find(|(from, to, _, _)| at(from) <= t && t < at(to))
        else {
            continue;
        };
        let wanted = PROJECTS.iter().find(|(c, _)| c == cwd).map(|(_, id)| *id);
        let seconds = (next - t).num_seconds();
        worked_seconds += seconds;
        match project {
            None => none += seconds,
            Some(p) if Some(p) != wanted => other += seconds,
            Some(_) => {}
        }
    }
    println!(
        "live {}: of {} minutes worked, the timer ran on the stretch's project for {}, on another project \
         for {}, not at all for {}",
        run.name,
        worked_seconds / 60,
        (worked_seconds - none - other) / 60,
        other / 60,
        none / 60
    );
    figure(
        &label("entries a `push --dry-run` after the day would still send"),
        &run.push_after.map_or_else(|| "no answer".to_string(), |n| n.to_string()),
        "0",
        run.push_after == Some(0),
    );
    let worst = run.late.iter().map(|(_, m)| *m).max();
    figure(
        &label("timer left running past last activity + idle threshold + 1 minute"),
        &match worst {
            None => "none".to_string(),
            Some(worst) => format!(
                "{} checks, from {}, up to {worst} minutes late",
                run.late.len(),
                run.late.first().map(|(t, _)| hm(*t)).unwrap_or_default()
            ),
        },
        "none",
        worst.is_none(),
    );
    for note in &run.notes {
        println!("live {}: {note}", run.name);
    }
    // `BENCH_LIVE_LOG=1`: every request, with the simulated instant.
    if std::env::var_os("BENCH_LIVE_LOG").is_some() {
        for r in &log {
            println!(
                "    {} {} {} -> {} (left {}{})",
                hm(r.at),
                r.method,
                r.path,
                r.status,
                r.remaining,
                if r.me { ", /me" } else { "" }
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Latency

/// A watcher with Toggl's pacing: from an appended line to the running entry, for a new session's first
/// line and for the first line after an idle gap in a session that exists; `trials` of each.
fn latency(trials: usize) -> (Vec<Duration>, Vec<Duration>, Vec<String>) {
    let fake = fake_with_projects(true);
    let world = World::new("latency", &fake.base_url());
    let base: DateTime<Utc> = "2026-11-03T08:00:00Z".parse().unwrap();
    let mut n = 0;
    let mut line = |world: &World, at: DateTime<Utc>, session: &'static str, cwd: &'static str| {
        n += 1;
        world.append(&Line { at, session, cwd }, n);
    };
    line(&world, base - TimeDelta::hours(2), "resumed", "/w/shop");
    world.set_clock(base);
    let mut watcher = world.spawn_watch(false, false);
    let mut notes = Vec::new();
    world.wait_for_pass(base);
    let running = || fake.entries().iter().filter(|e| e.stop.is_empty()).count();
    let wait_until = |done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > Duration::from_secs(30) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Some(started.elapsed())
    };
    let (mut new_session, mut resumed) = (Vec::new(), Vec::new());
    const NEW: [&str; 8] = ["new-0", "new-1", "new-2", "new-3", "new-4", "new-5", "new-6", "new-7"];
    for trial in 0..2 * trials {
        let when = base + TimeDelta::hours(1 + trial as i64);
        world.set_clock(when + TimeDelta::seconds(1));
        // The pass at the new clock has run (nothing to do) and the client's one-per-second pacing has
        // let the last request go by: the line's own pass is what is timed.
        std::thread::sleep(Duration::from_millis(1200));
        let started = Instant::now();
        if trial % 2 == 0 {
            line(&world, when, NEW[(trial / 2) % NEW.len()], "/w/api");
        } else {
            line(&world, when, "resumed", "/w/shop");
        }
        match wait_until(&|| running() == 1) {
            Some(_) if trial % 2 == 0 => new_session.push(started.elapsed()),
            Some(_) => resumed.push(started.elapsed()),
            None => notes.push(format!("trial {trial}: no running entry within 30 s")),
        }
        world.set_clock(when + TimeDelta::minutes(20));
        if wait_until(&|| running() == 0).is_none() {
            notes.push(format!("trial {trial}: the timer was not stopped within 30 s"));
        }
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    (new_session, resumed, notes)
}

fn latency_figure(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let Some(max) = times.last().copied() else {
        figure(&format!("live latency, {what}"), "no trial succeeded", "< 2 s", false);
        return;
    };
    let median = times[times.len() / 2];
    figure(
        &format!("live latency, {what}"),
        &format!(
            "median {:.0} ms, max {:.0} ms ({} trials)",
            median.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            times.len()
        ),
        "< 2 s",
        max < Duration::from_secs(2),
    );
}

fn main() {
    let lines = day_lines();

    // Idle: a watcher on the system clock with nothing to do, measured while the rest runs.
    let idle_fake = fake_with_projects(true);
    let idle_world = World::new("idle", &idle_fake.base_url());
    idle_world.append(&Line { at: at("09:00") - TimeDelta::days(1), session: "old", cwd: "/w/shop" }, 0);
    let mut idle = idle_world.spawn_watch(true, false);
    std::thread::sleep(Duration::from_secs(2));
    let (idle_before, _) = usage(idle.id());
    let idle_started = Instant::now();

    // The day, with one long-running watcher.
    let fake = fake_with_projects(false);
    let proxy = QuotaProxy::start(fake.clone(), FREE_QUOTA, at("08:59"));
    let world = World::new("watch", &proxy.base_url());
    let (watched, (rss_start, rss_end)) = run_watch(&fake, &proxy, &world, &lines);
    report(&watched, &fake, &proxy);
    println!(
        "live watch: memory (VmRSS) {rss_start} kB after the first pass, {rss_end} kB at the end of the day"
    );

    // The day again, with `watch --once` every minute.
    let fake = fake_with_projects(false);
    let proxy = QuotaProxy::start(fake.clone(), FREE_QUOTA, at("08:59"));
    let world = World::new("once", &proxy.base_url());
    let once = run_once(&fake, &proxy, &world, &lines);
    report(&once, &fake, &proxy);

    let (idle_after, rss_idle) = usage(idle.id());
    let idle_seconds = idle_started.elapsed().as_secs_f64();
    let _ = idle.kill();
    let _ = idle.wait();
    let cpu = (idle_after - idle_before) as f64 / 100.0;
    figure(
        "live idle CPU (a watcher on the system clock, nothing to do)",
        &format!(
            "{cpu:.2} s over {idle_seconds:.0} s = {:.3}% of a core; VmRSS {rss_idle} kB",
            cpu / idle_seconds * 100.0
        ),
        "~0: under 0.5%",
        cpu / idle_seconds * 100.0 < 0.5,
    );

    let (new_session, resumed, notes) = latency(4);
    latency_figure("a new session's first line -> running entry on the fake", new_session);
    latency_figure("first line after an idle gap -> running entry on the fake", resumed);
    for note in notes {
        println!("live latency: {note}");
    }
}
