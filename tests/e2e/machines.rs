//! Many machines, one timesheet (issue 18): machines simulated as worlds of their own (HOME, database,
//! transcripts) sharing a temp folder (`[share] dir`), one of them posting (`post_from`) to the fake
//! Clockify; and `export --format jsonl` / `import` between databases, with the faults a synced folder
//! or a pipe brings (a file cut short, damaged, from a newer version).

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::fake_clockify::{self, FakeClockify};
use crate::support::{Transcript, World};

/// Saturday 2026-11-07, noon UTC: the week of Monday 2026-11-02 is over.
const NOW: &str = "--now=2026-11-07T12:00:00Z";
const WS: &str = fake_clockify::WORKSPACE_ID;

/// A session's lines: a prompt every 4 minutes from `start` (UTC `HH:MM` on `day`) for `minutes`, each
/// with an answer, stamped with milliseconds as Claude Code writes them.
fn transcript(id: &str, cwd: &str, day: &str, start: &str, minutes: i64) -> String {
    let start: chrono::DateTime<chrono::Utc> = format!("{day}T{start}:00Z").parse().unwrap();
    let mut lines = Transcript::new(id, cwd);
    for (i, minute) in (0..=minutes).step_by(4).enumerate() {
        let at = start
            + chrono::Duration::minutes(minute)
            + chrono::Duration::milliseconds(137 + 211 * (i as i64 % 4));
        let answer = at + chrono::Duration::milliseconds(5_431);
        let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        lines = lines.user(&stamp(at)).assistant(&stamp(answer), 120, 40 + i as u64, 0, 900);
    }
    lines.text().to_string()
}

/// One simulated machine.
struct Machine {
    name: &'static str,
    world: World,
}

impl Machine {
    fn new(name: &'static str, shared: &Path, poster: &str, fake: &FakeClockify) -> Machine {
        Machine::in_mode(name, shared, poster, fake, "workday")
    }

    fn in_mode(name: &'static str, shared: &Path, poster: &str, fake: &FakeClockify, mode: &str) -> Machine {
        let world = World::new();
        world.config(&format!(
            "timezone = \"UTC\"\n[share]\ndir = \"{}\"\nmachine = \"{name}\"\n\
             [clockify]\nworkspace_id = \"{WS}\"\nother_project_id = \"p-other\"\npost_from = \"{poster}\"\n\
             mode = \"{mode}\"\n\
             project_mapping = {{ \"/w/shop\" = \"p-shop\", \"/w/tracker\" = \"p-tracker\" }}\n\
             base_url = \"{}\"\n",
            shared.display(),
            fake.base_url()
        ));
        Machine { name, world }
    }

    fn work(&self, id: &str, cwd: &str, day: &str, start: &str, minutes: i64) {
        self.world.write(
            &format!("{}/{id}.jsonl", cwd.replace('/', "-")),
            &transcript(id, cwd, day, start, minutes),
        );
    }

    fn run(&self, args: &[&str]) -> Output {
        self.world
            .cmd()
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .env("CLAUDE_TRACKER_BACKOFF_MS", "5")
            .arg("--config")
            .arg(self.world.dir.path().join("config.toml"))
            .arg(NOW)
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{} {args:?}: {}", self.name, text(&output));
        String::from_utf8(output.stdout).unwrap()
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn outcome(output: &Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

fn fake() -> FakeClockify {
    let fake = FakeClockify::start();
    for (id, name) in [("p-shop", "Shop"), ("p-tracker", "Tracker"), ("p-other", "Other")] {
        fake.add_project(WS, id, name, "Client");
    }
    fake
}

/// (project, start, end) of what the fake holds, sorted.
fn held(fake: &FakeClockify) -> Vec<(String, String, String)> {
    let mut entries: Vec<_> =
        fake.entries().into_iter().map(|e| (e.project_id.unwrap_or_default(), e.start, e.end)).collect();
    entries.sort();
    entries
}

/// What one machine that had every transcript itself would post: the plan (`sync --dry-run --json`) of
/// the union of the machines' sessions, from a world of its own with no share folder.
fn plan_of_union(machines: &[&Machine], fake: &FakeClockify) -> Vec<(String, String, String)> {
    let union = World::new();
    union.config(&format!(
        "timezone = \"UTC\"\n[clockify]\nworkspace_id = \"{WS}\"\nother_project_id = \"p-other\"\n\
         project_mapping = {{ \"/w/shop\" = \"p-shop\", \"/w/tracker\" = \"p-tracker\" }}\nbase_url = \"{}\"\n",
        fake.base_url()
    ));
    for machine in machines {
        copy_tree(&machine.world.projects(), &union.projects());
    }
    let config = union.dir.path().join("config.toml");
    let json = union.ok(&["--config", config.to_str().unwrap(), NOW, "sync", "--dry-run", "--json"]);
    let days: Value = serde_json::from_str(&json).unwrap();
    let seconds = |at: &Value| at.as_str().unwrap().to_string();
    let mut entries: Vec<(String, String, String)> = days
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|day| day["entries"].as_array().unwrap().clone())
        .map(|e| (e["project_id"].as_str().unwrap().to_string(), seconds(&e["start"]), seconds(&e["end"])))
        .collect();
    entries.sort();
    entries
}

/// Copies every transcript below `from` into `to` (a file both hold is the same file: it is kept once).
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Requests that wrote to the fake (POST, PUT, PATCH, DELETE).
fn writes(fake: &FakeClockify) -> usize {
    fake.requests().iter().filter(|r| r.method != "GET").count()
}

/// A session to write: id, folder, day, start (`HH:MM`), minutes.
type Work = (&'static str, &'static str, &'static str, &'static str, i64);

/// Each machine's work of the week: overlapping days, different projects; the poster is the first.
fn week(machines: &[Machine]) {
    let plan: [&[Work]; 3] = [
        &[
            ("lap-mon", "/w/shop", "2026-11-02", "09:00", 120),
            ("lap-tue", "/w/tracker", "2026-11-03", "13:00", 60),
        ],
        &[
            ("desk-mon", "/w/tracker", "2026-11-02", "14:00", 60),
            ("desk-wed", "/w/misc", "2026-11-04", "09:00", 92),
        ],
        &[
            ("box-tue", "/w/shop", "2026-11-03", "09:00", 180),
            ("box-thu", "/w/tracker", "2026-11-05", "10:00", 60),
        ],
    ];
    for (machine, sessions) in machines.iter().zip(plan) {
        for (id, cwd, day, start, minutes) in sessions {
            machine.work(id, cwd, day, start, *minutes);
        }
    }
}

/// The promise: with `n` machines sharing a folder and one posting, the timesheet is the plan of the
/// union of their sessions (exact: every entry, none twice), after the first round, after every machine
/// runs twice more, and after a transcript shows up on two machines (a synced `~/.claude`). The machines
/// that do not post send nothing, and say which one does.
fn one_timesheet_for(names: &[&'static str]) {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let machines: Vec<Machine> =
        names.iter().map(|name| Machine::new(name, shared.path(), names[0], &fake)).collect();
    week(&machines);
    for machine in &machines {
        machine.ok(&["ingest"]);
    }
    let poster = &machines[0];
    for other in &machines[1..] {
        let before = fake.requests().len();
        let output = other.run(&["sync"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        let stdout = String::from_utf8(output.stdout).unwrap();
        let first = stdout.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            format!(
                "Clockify: posted from `{}` (`post_from`), not from this machine (`{}`): planned here, nothing \
                 sent; `{}` posts it with every machine's sessions",
                poster.name, other.name, poster.name
            )
        );
        assert_eq!(fake.requests().len(), before, "{}: no request at all", other.name);
    }
    poster.ok(&["sync"]);
    let all: Vec<&Machine> = machines.iter().collect();
    let expected = plan_of_union(&all, &fake);
    assert_eq!(held(&fake), expected, "the timesheet is the plan of the union");
    assert_eq!(expected.len(), fake.entries().len());

    // Twice more on every machine, the poster last each round: nothing new, nothing sent again.
    let sent = writes(&fake);
    for _ in 0..2 {
        for machine in machines.iter().rev() {
            machine.ok(&["ingest"]);
            machine.ok(&["sync"]);
        }
    }
    assert_eq!(held(&fake), expected);
    assert_eq!(writes(&fake), sent, "no request wrote anything");

    // Friday's session is in a `~/.claude` the poster and the second machine both sync: the poster has
    // its first half (the sync lags), the other all of it.
    let whole = transcript("both-fri", "/w/shop", "2026-11-06", "10:00", 100);
    let half: String = whole.lines().take(whole.lines().count() / 2).map(|l| format!("{l}\n")).collect();
    poster.world.write("-w-shop/both-fri.jsonl", &half);
    // And the poster's own half hour on the tracker: Friday's split shows whether shop counted whole.
    poster.work("lap-fri", "/w/tracker", "2026-11-06", "15:00", 32);
    machines[1].world.write("-w-shop/both-fri.jsonl", &whole);
    for machine in machines.iter().rev() {
        machine.ok(&["ingest"]);
    }
    poster.ok(&["sync"]);
    // The union: every transcript once, Friday's whole (the second machine's copy laid over the half).
    let mut order: Vec<&Machine> = machines.iter().filter(|m| m.name != machines[1].name).collect();
    order.push(&machines[1]);
    let expected_all = plan_of_union(&order, &fake);
    assert_eq!(held(&fake), expected_all, "Friday once, whole, as if one machine had all of it");
}

#[test]
fn two_machines_one_timesheet() {
    one_timesheet_for(&["laptop", "desk"]);
}

#[test]
fn three_machines_one_timesheet() {
    one_timesheet_for(&["laptop", "desk", "devbox"]);
}

/// `status` on the poster: the shared folder, each other machine's file with when it was written and
/// read; on another machine the destination says who posts.
#[test]
fn status_shows_each_machines_file_and_who_posts() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let laptop = Machine::new("laptop", shared.path(), "laptop", &fake);
    let desk = Machine::new("desk", shared.path(), "laptop", &fake);
    desk.work("desk-mon", "/w/tracker", "2026-11-02", "14:00", 60);
    desk.ok(&["ingest"]);
    laptop.ok(&["ingest"]);
    let status = laptop.ok(&["status"]);
    let lines: Vec<&str> = status.lines().collect();
    let share_line = lines.iter().position(|l| l.starts_with("shared folder: ")).unwrap();
    let id = lines[share_line].rsplit("id ").next().unwrap().trim_end_matches(')').to_string();
    assert_eq!(id.len(), 8);
    assert_eq!(
        lines[share_line..share_line + 2].to_vec(),
        vec![
            format!("shared folder: {} (this machine: laptop, id {id})", shared.path().display()),
            format!(
                "  desk: {} written 2026-11-07 12:00 (0:00 ago), read 2026-11-07 12:00",
                shared.path().join("desk.jsonl").display()
            ),
        ]
    );
    let desk_status = desk.ok(&["status"]);
    assert!(
        desk_status
            .lines()
            .any(|l| l == "Clockify (workday mode): last sync never; 1 day(s) waiting; posted from `laptop`, not from this machine"),
        "{desk_status}"
    );
}

/// What a database holds, as bytes: the file once the process that wrote it has exited (SQLite folds
/// its log back in when the last connection closes).
fn checksum(path: &Path) -> u64 {
    xxhash_rust::xxh3::xxh3_64(&std::fs::read(path).unwrap())
}

fn sample_export(world: &World) -> String {
    let config = world.config("timezone = \"UTC\"\n[share]\nmachine = \"devbox\"\n");
    world.write("-w-shop/s1.jsonl", &transcript("s1", "/w/shop", "2026-11-02", "09:00", 60));
    world.write("-w-tracker/s2.jsonl", &transcript("s2", "/w/tracker", "2026-11-03", "10:00", 30));
    world.ok(&["--config", config.to_str().unwrap(), "export", "--format", "jsonl"])
}

fn import(world: &World, file: &Path) -> Output {
    let config = world.dir.path().join("empty.toml");
    std::fs::write(&config, "timezone = \"UTC\"\n").unwrap();
    world.cmd().args(["--config", config.to_str().unwrap(), "import"]).arg(file).output().unwrap()
}

/// Importing a file twice adds nothing the second time, and the sessions count once: the report equals
/// the exporting machine's.
#[test]
fn importing_twice_adds_nothing_and_reports_what_it_added() {
    let devbox = World::new();
    let file = devbox.dir.path().join("devbox.jsonl");
    let exported = sample_export(&devbox);
    std::fs::write(&file, &exported).unwrap();
    let written_at =
        exported.lines().next().unwrap().split("\"written_at\":\"").nth(1).unwrap().trim_end_matches("\"}");
    let laptop = World::new();
    let name = file.display().to_string();
    assert_eq!(
        outcome(&import(&laptop, &file)),
        (
            format!(
                "imported {name} (written by devbox at {written_at}): 2 sessions added, 0 extended, 0 already known\n"
            ),
            String::new(),
            Some(0)
        )
    );
    let first = checksum(&laptop.db());
    assert_eq!(
        outcome(&import(&laptop, &file)),
        (
            format!(
                "imported {name} (written by devbox at {written_at}): 0 sessions added, 0 extended, 2 already known\n"
            ),
            String::new(),
            Some(0)
        )
    );
    assert_eq!(checksum(&laptop.db()), first, "a second import writes nothing");
    let report = |world: &World| world.report("2026-11-02", "2026-11-03", &[]);
    let mut theirs = report(&devbox);
    let mut ours = report(&laptop);
    for report in [&mut theirs, &mut ours] {
        report.as_object_mut().unwrap().remove("since");
    }
    assert_eq!(ours["projects"], theirs["projects"], "the same figures, counted once");
}

/// A file cut short, damaged after it was written, or of a newer version is refused whole with what to
/// do, and the database is byte for byte as it was.
#[test]
fn a_truncated_corrupted_or_newer_file_is_refused_and_the_store_is_unchanged() {
    let devbox = World::new();
    let exported = sample_export(&devbox);
    let laptop = World::new();
    let good = laptop.dir.path().join("good.jsonl");
    std::fs::write(&good, &exported).unwrap();
    assert_eq!(import(&laptop, &good).status.code(), Some(0));
    let before = checksum(&laptop.db());

    let cut = laptop.dir.path().join("cut.jsonl");
    std::fs::write(&cut, &exported[..exported.len() - 30]).unwrap();
    let damaged = laptop.dir.path().join("damaged.jsonl");
    let line = exported.lines().nth(1).unwrap();
    let flipped = line.replacen("\"activity\":[", "\"activity\":[1", 1);
    std::fs::write(&damaged, exported.replacen(line, &flipped, 1)).unwrap();
    let newer = laptop.dir.path().join("newer.jsonl");
    std::fs::write(&newer, exported.replacen("\"version\":1", "\"version\":2", 1)).unwrap();
    let cases = [
        (
            &cut,
            "it ends at line 4 without its closing line: it was cut short (still being written or synced?); nothing of it was merged: export it again",
        ),
        (
            &damaged,
            "its closing line does not match what comes before it (checksum): it was altered or damaged after it was written; nothing of it was merged: export it again",
        ),
        (
            &newer,
            "it is version 2 of the sessions file and this claude-tracker reads up to version 1: upgrade claude-tracker on this machine",
        ),
    ];
    for (file, why) in cases {
        assert_eq!(
            outcome(&import(&laptop, file)),
            (String::new(), format!("claude-tracker: error: {}: {why}\n", file.display()), Some(1))
        );
        assert_eq!(checksum(&laptop.db()), before, "{}: the database is untouched", file.display());
    }
}

/// A session line that does not read is refused with its file and line; the others are imported, and
/// the run exits 1 so a script notices.
#[test]
fn a_malformed_session_line_is_refused_with_file_and_line_and_the_rest_imported() {
    let devbox = World::new();
    let exported = sample_export(&devbox);
    let lines: Vec<&str> = exported.lines().collect();
    let bad = lines[1].replacen("\"id\":\"s1\"", "\"id\":\"\"", 1);
    let body = format!("{bad}\n{}\n", lines[2]);
    let checksum = xxhash_rust::xxh3::xxh3_64(body.as_bytes());
    let file_text =
        format!("{}\n{body}{{\"end\":{{\"sessions\":2,\"xxh3\":\"{checksum:016x}\"}}}}\n", lines[0]);
    let laptop = World::new();
    let file = laptop.dir.path().join("hand-made.jsonl");
    std::fs::write(&file, file_text).unwrap();
    let output = import(&laptop, &file);
    let name = file.display().to_string();
    let (stdout, stderr, code) = outcome(&output);
    assert_eq!(
        (
            stdout.split(" (written").next().unwrap().to_string(),
            stdout.split("): ").nth(1).unwrap().to_string()
        ),
        (format!("imported {name}"), "1 sessions added, 0 extended, 0 already known\n".to_string())
    );
    assert_eq!(
        (stderr, code),
        (
            format!(
                "claude-tracker: {name}:2: `id` is empty; this session was not imported\n\
                 claude-tracker: error: 1 line(s) of {name} were refused (listed above); the other sessions were imported\n"
            ),
            Some(1)
        )
    );
}

/// The README's remote machine: `ssh devbox claude-tracker export --format jsonl | claude-tracker import
/// -`, here with the two processes joined by a pipe.
#[test]
fn export_piped_into_import_merges_a_remote_machine() {
    let devbox = World::new();
    let config = devbox.config("timezone = \"UTC\"\n[share]\nmachine = \"devbox\"\n");
    devbox.write("-w-shop/s1.jsonl", &transcript("s1", "/w/shop", "2026-11-02", "09:00", 60));
    let mut export = devbox
        .std_cmd()
        .args(["--config", config.to_str().unwrap(), "export", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let laptop = World::new();
    let empty = laptop.config("timezone = \"UTC\"\n");
    let import = laptop
        .std_cmd()
        .args(["--config", empty.to_str().unwrap(), "import", "-"])
        .stdin(export.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(export.wait().unwrap().success());
    let stdout = String::from_utf8(import.stdout).unwrap();
    assert_eq!(
        (stdout.split(" at ").next().unwrap(), stdout.split("): ").nth(1).unwrap(), import.status.code()),
        ("imported stdin (written by devbox", "1 sessions added, 0 extended, 0 already known\n", Some(0))
    );
    let report = laptop.report("2026-11-02", "2026-11-02", &[]);
    // From the first prompt to the last answer: 60 minutes and the 6.064 s the stamps add.
    assert_eq!(crate::support::project(&report, "/w/shop")["active_seconds"], 3606);
}

/// A file in the shared folder that is half-synced (no closing line yet), then arrives damaged, is
/// skipped with a warning each time and merged on the run after it is whole; its sessions never
/// half-arrive, and a damaged timestamp never enters the union.
#[test]
fn a_half_synced_shared_file_is_skipped_then_merged_when_whole() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let laptop = Machine::new("laptop", shared.path(), "laptop", &fake);
    let desk = Machine::new("desk", shared.path(), "laptop", &fake);
    desk.work("desk-mon", "/w/tracker", "2026-11-02", "14:00", 60);
    laptop.work("lap-tue", "/w/shop", "2026-11-03", "09:00", 20);
    desk.ok(&["ingest"]);
    let whole = std::fs::read_to_string(shared.path().join("desk.jsonl")).unwrap();
    let desk_file: PathBuf = shared.path().join("desk.jsonl");
    std::fs::write(&desk_file, &whole[..whole.len() / 2]).unwrap();
    let output = laptop.run(&["ingest"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        stderr,
        format!(
            "claude-tracker: warning: skipped {} from the shared folder: it ends at line 2 without its closing \
             line: it was cut short (still being written or synced?); nothing of it was merged: export it again; \
             it is tried again on the next run\n",
            desk_file.display()
        )
    );
    let empty = laptop.world.report("2026-11-02", "2026-11-02", &[]);
    assert_eq!(empty["projects"], serde_json::json!([]), "nothing of the half file");
    // Then the sync tool delivers a whole file with one digit damaged (a conflict copy merged badly):
    // skipped again, nothing merged.
    let line = whole.lines().nth(1).unwrap();
    let damaged = whole.replacen(line, &line.replacen("\"activity\":[1", "\"activity\":[2", 1), 1);
    assert_ne!(damaged, whole);
    std::fs::write(&desk_file, &damaged).unwrap();
    assert_eq!(
        outcome(&laptop.run(&["ingest"])).1,
        format!(
            "claude-tracker: warning: skipped {} from the shared folder: its closing line does not match what comes \
             before it (checksum): it was altered or damaged after it was written; nothing of it was merged: \
             export it again; it is tried again on the next run\n",
            desk_file.display()
        )
    );
    let still_empty = laptop.world.report("2026-11-02", "2026-11-02", &[]);
    assert_eq!(still_empty["projects"], serde_json::json!([]), "nothing of the damaged file");
    // At last the whole file.
    std::fs::write(&desk_file, &whole).unwrap();
    assert_eq!(outcome(&laptop.run(&["ingest"])).1, "", "no warning once whole");
    let report = laptop.world.report("2026-11-02", "2026-11-02", &[]);
    assert_eq!(crate::support::project(&report, "/w/tracker")["active_seconds"], 3606);
}

/// Two machines both named `laptop`: the second writes its own file beside the first's (its id in the
/// name) and says to give it a name of its own; neither file is overwritten.
#[test]
fn two_machines_of_one_name_keep_two_files() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let first = Machine::new("laptop", shared.path(), "laptop", &fake);
    let second = Machine::new("laptop", shared.path(), "laptop", &fake);
    first.work("a", "/w/shop", "2026-11-02", "09:00", 20);
    second.work("b", "/w/tracker", "2026-11-02", "10:00", 20);
    first.ok(&["ingest"]);
    let output = second.run(&["ingest"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let files: Vec<String> = {
        let mut names: Vec<String> = std::fs::read_dir(shared.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files.len(), 2, "{files:?}");
    // `-` sorts before `.`: the second machine's file comes first.
    let own = &files[0];
    assert_eq!(files[1], "laptop.jsonl");
    assert!(own.starts_with("laptop-") && own.len() == "laptop-12345678.jsonl".len(), "{own}");
    assert_eq!(
        stderr,
        format!(
            "claude-tracker: warning: another machine is also named `laptop` in the shared folder ({}): this one \
             writes {} instead; give each machine its own `[share] machine` name\n",
            shared.path().display(),
            own
        )
    );
    // Each sees both sessions.
    first.ok(&["ingest"]);
    for machine in [&first, &second] {
        let report = machine.world.report("2026-11-02", "2026-11-02", &[]);
        assert_eq!(report["projects"].as_array().unwrap().len(), 2, "{}", machine.name);
    }
}

/// `push` (sessions mode) and `watch` (live mode) on a machine that does not post: the plan is shown
/// and nothing is sent; the watcher starts no timer and says which machine runs it.
#[test]
fn push_and_watch_on_a_machine_that_does_not_post_send_nothing() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let note = "Clockify: posted from `desk` (`post_from`), not from this machine (`laptop`): planned here, \
                nothing sent; `desk` posts it with every machine's sessions\n";
    let laptop = Machine::in_mode("laptop", shared.path(), "desk", &fake, "sessions");
    laptop.work("lap-fri", "/w/shop", "2026-11-06", "09:00", 40);
    let listing = "Would push 1 entries to Clockify (1 new, 0 to update, 0 to delete; 0 unchanged, 0 still open):\n\
                   \n\
                   \x20 2026-11-06 Fri 09:00-09:40   0:40  /w/shop -> p-shop  \"Development\"\n\
                   \n\
                   (UTC time zone) `desk` pushes it.\n";
    assert_eq!(outcome(&laptop.run(&["push"])), (format!("{note}{listing}"), String::new(), Some(0)));
    let live_shared = tempfile::tempdir().unwrap();
    let live = Machine::in_mode("laptop", live_shared.path(), "desk", &fake, "live");
    live.work("lap-sat", "/w/shop", "2026-11-07", "11:30", 20);
    assert_eq!(outcome(&live.run(&["watch", "--once"])), (note.to_string(), String::new(), Some(0)));
    assert!(fake.requests().is_empty(), "no request: {:?}", fake.requests());
    // The hooks' `watch --once` still reads this machine's transcripts and shares them for the poster.
    let shared_file = std::fs::read_to_string(live_shared.path().join("laptop.jsonl")).unwrap();
    assert_eq!(crate::support::portable_ids(&shared_file), vec!["lap-sat".to_string()]);
}

/// `post_from` naming a machine never met (a typo) would post nothing anywhere: `status` says so, with
/// both ways out.
#[test]
fn status_warns_about_a_post_from_naming_no_known_machine() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let laptop = Machine::new("laptop", shared.path(), "dsek", &fake);
    laptop.work("lap-mon", "/w/shop", "2026-11-02", "09:00", 20);
    laptop.ok(&["ingest"]);
    let status = laptop.ok(&["status"]);
    let warnings: Vec<&str> = status.lines().skip_while(|l| *l != "warnings:").collect();
    assert_eq!(
        warnings,
        vec![
            "warnings:".to_string(),
            format!(
                "  - Clockify is posted from `dsek` (`post_from`), and no machine of that name has shared its sessions \
                 here yet: if that is not a typo, run any command on `dsek` with the same `[share] dir`; else fix \
                 `post_from` in {} (this machine is `laptop`)",
                laptop.world.dir.path().join("config.toml").display()
            ),
            "(UTC time zone)".to_string(),
        ]
    );
}

/// A shared folder this machine cannot write its file to (here a folder where the file should be) is
/// a warning: the command goes on and the sessions stay local.
#[test]
fn a_shared_file_that_cannot_be_written_is_a_warning_not_a_failure() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(shared.path().join("laptop.jsonl/inside")).unwrap();
    let laptop = Machine::new("laptop", shared.path(), "laptop", &fake);
    laptop.work("lap-mon", "/w/shop", "2026-11-02", "09:00", 20);
    let output = laptop.run(&["ingest"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let expected_start = "claude-tracker: warning: this machine's sessions were not written to the shared folder (cannot replace ";
    let expected_end =
        "); the other machines do not see them until it can: check the folder's permissions and free space\n";
    assert_eq!(
        (
            output.status.code(),
            stderr.starts_with(expected_start),
            stderr.ends_with(expected_end),
            stderr.lines().count()
        ),
        (Some(0), true, true, 1),
        "{stderr}"
    );
    let report = laptop.world.report("2026-11-02", "2026-11-02", &[]);
    assert_eq!(report["projects"].as_array().unwrap().len(), 1, "the session is recorded here");
}

/// Edits belong where entries are posted: on a machine that does not post, `entries` edits and
/// `review` are refused with the machine to use (the list itself is shown).
#[test]
fn edits_on_a_machine_that_does_not_post_are_refused_with_the_machine_to_use() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let laptop = Machine::in_mode("laptop", shared.path(), "desk", &fake, "sessions");
    laptop.work("lap-mon", "/w/shop", "2026-11-02", "09:00", 20);
    let listing: Value = serde_json::from_str(&laptop.ok(&["entries", "--json"])).unwrap();
    let id = listing[0]["id"].as_str().unwrap().to_string();
    let refused = |args: &[&str]| {
        let output = laptop.run(args);
        (String::from_utf8_lossy(&output.stderr).into_owned(), output.status.code())
    };
    assert_eq!(
        refused(&["entries", "exclude", &id]),
        (
            "claude-tracker: error: Clockify is posted from `desk` (`post_from`), not from this machine (`laptop`): \
             edit its entries on `desk` (`claude-tracker entries` there lists every machine's), where they are \
             posted\n"
                .to_string(),
            Some(1)
        )
    );
    assert_eq!(
        refused(&["review"]),
        (
            "claude-tracker: error: Clockify is posted from `desk` (`post_from`), not from this machine (`laptop`): \
             run `claude-tracker review` on `desk`, which holds every machine's sessions and posts them (edits made \
             here would stay here)\n"
                .to_string(),
            Some(1)
        )
    );
}

/// A tag the user gives on one machine to another machine's session reaches the others (the machine
/// that posts bills by it): the tagging machine's file carries the session with the tag.
#[test]
fn a_tag_given_on_one_machine_to_anothers_session_reaches_the_others() {
    let fake = fake();
    let shared = tempfile::tempdir().unwrap();
    let laptop = Machine::new("laptop", shared.path(), "desk", &fake);
    let desk = Machine::new("desk", shared.path(), "desk", &fake);
    desk.work("desk-mon", "/w/tracker", "2026-11-02", "14:00", 20);
    laptop.work("lap-mon", "/w/shop", "2026-11-02", "09:00", 20);
    desk.ok(&["ingest"]);
    laptop.ok(&["ingest"]);
    laptop.ok(&["tag", "desk-mon", "acme"]);
    laptop.ok(&["ingest"]);
    desk.ok(&["ingest"]);
    let by_tag = desk.world.report("2026-11-02", "2026-11-02", &["--by", "tag"]);
    let tags: Vec<(Value, i64)> = by_tag["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tag"].clone(), t["sessions"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        tags,
        vec![(Value::from("acme"), 1), (Value::Null, 1)],
        "the desk's own session, tagged on the laptop"
    );
}
