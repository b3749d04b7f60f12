//! Capture and report: transcripts on disk -> database -> `report`.

use serde_json::json;

use crate::support::{Transcript, World, project, repo_file};

const NOW: &str = "--now=2026-11-21T12:00:00Z";

fn numbers(value: &serde_json::Value) -> serde_json::Value {
    json!({
        "active_seconds": value["active_seconds"],
        "sessions": value["sessions"],
        "input_tokens": value["input_tokens"],
        "output_tokens": value["output_tokens"],
        "cache_creation_input_tokens": value["cache_creation_input_tokens"],
        "cache_read_input_tokens": value["cache_read_input_tokens"],
    })
}

#[test]
fn report_json_has_exact_time_tokens_and_shape() {
    let world = World::new();
    let session = Transcript::new("s1", "/home/dev/webshop")
        .user("2026-11-02T09:00:00.000Z")
        .assistant("2026-11-02T09:00:30.000Z", 10, 100, 1000, 5000)
        .user("2026-11-02T09:10:00.000Z")
        .assistant("2026-11-02T09:14:00.000Z", 1, 20, 0, 7000)
        // 40 idle minutes are cut out; 14 min + 60.5 s = 900.5 s, rounded to 901. Hands-on 09:00:30-09:10
        // (570 s; none before the first prompt, none across the idle gap); supervised 09:00-09:00:30,
        // 09:10-09:14 and 09:54-09:55:00.5 (330.5 s, rounded to 331); autonomous 0
        .user("2026-11-02T09:54:00.000Z")
        .assistant("2026-11-02T09:55:00.500Z", 2, 30, 10, 100);
    world.write("-home-dev-webshop/s1.jsonl", session.text());
    let output = world.ok(&["report", "--json", "--since", "2026-11-02", "--until", "2026-11-02", NOW]);
    assert_eq!(
        output,
        r#"{"since":"2026-11-02","until":"2026-11-02","timezone":"UTC","projects":[{"project":"/home/dev/webshop","name":"webshop","active_seconds":901,"hands_on_seconds":570,"supervised_seconds":331,"autonomous_seconds":0,"sessions":1,"automated_sessions":0,"input_tokens":13,"output_tokens":150,"cache_creation_input_tokens":1010,"cache_read_input_tokens":12100,"last_activity":"2026-11-02T09:55:00.500Z","tags":[]}],"total":{"active_seconds":901,"hands_on_seconds":570,"supervised_seconds":331,"autonomous_seconds":0,"sessions":1,"automated_sessions":0,"input_tokens":13,"output_tokens":150,"cache_creation_input_tokens":1010,"cache_read_input_tokens":12100}}
"#
    );
    assert!(!output.contains("private"), "message text must never be printed");
}

#[test]
fn report_table_marks_latest_project_and_totals() {
    let world = World::new();
    let a = Transcript::new("a", "/w/api").user("2026-11-20T09:00:00Z").assistant(
        "2026-11-20T10:00:00Z",
        1,
        1500,
        0,
        0,
    );
    let b = Transcript::new("b", "/w/web").user("2026-11-21T09:00:00Z").assistant(
        "2026-11-21T09:14:00Z",
        1,
        1,
        0,
        2_500_000,
    );
    world.write("-w-api/a.jsonl", a.text());
    world.write("-w-web/b.jsonl", b.text());
    // web: a prompt and its answer 14 min later, all supervised (no line before the first prompt, so no
    // hands-on). api: the answer an hour after the prompt, past the idle threshold: no time, tokens only.
    let table = world.ok(&["report", "week", NOW]);
    assert_eq!(
        table,
        "Claude Code time from 2026-11-15 to 2026-11-21 (UTC)

  project  active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read
* web        0:14      0:00        0:14        0:00         1      1       1            0        2.5M
  api        0:00      0:00        0:00        0:00         0      1    1.5k            0           0
  total      0:14      0:00        0:14        0:00         1      2    1.5k            0        2.5M

* latest activity
"
    );
}

#[test]
fn session_crossing_midnight_splits_by_local_day() {
    let world = World::new();
    world.config("timezone = \"Europe/Berlin\"\n");
    // 23:30 to 00:30 Berlin time.
    let late = Transcript::new("late", "/w/app")
        .user("2026-11-02T22:30:00Z")
        .assistant("2026-11-02T22:44:00Z", 1, 1, 0, 0)
        .user("2026-11-02T22:58:00Z")
        .assistant("2026-11-02T23:12:00Z", 1, 2, 0, 0)
        .user("2026-11-02T23:26:00Z")
        .assistant("2026-11-02T23:30:00Z", 1, 3, 0, 0);
    world.write("-w-app/late.jsonl", late.text());
    let config = world.dir.path().join("config.toml");
    let config = config.to_str().unwrap();
    let first = world.report("2026-11-02", "2026-11-02", &["--config", config, NOW]);
    let second = world.report("2026-11-03", "2026-11-03", &["--config", config, NOW]);
    let both = world.report("2026-11-02", "2026-11-03", &["--config", config, NOW]);
    assert_eq!(first["timezone"], "Europe/Berlin");
    assert_eq!(project(&first, "/w/app")["active_seconds"], 30 * 60);
    assert_eq!(project(&second, "/w/app")["active_seconds"], 30 * 60);
    assert_eq!(project(&both, "/w/app")["active_seconds"], 60 * 60);
    assert_eq!(project(&first, "/w/app")["output_tokens"], 1, "tokens follow their message's day");
    assert_eq!(project(&second, "/w/app")["output_tokens"], 5);
    let days = world.ok(&[
        "report",
        "--by",
        "day",
        "--json",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-04",
        "--config",
        config,
        NOW,
    ]);
    let days: serde_json::Value = serde_json::from_str(&days).unwrap();
    let per_day: Vec<(String, i64)> = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap().to_string(), d["active_seconds"].as_i64().unwrap()))
        .collect();
    assert_eq!(per_day, vec![("2026-11-02".into(), 1800), ("2026-11-03".into(), 1800)]);
}

#[test]
fn resumed_session_never_doubles_time_or_tokens() {
    let world = World::new();
    let original = Transcript::new("old", "/w/app")
        .user("2026-11-02T09:00:00Z")
        .assistant_msg("2026-11-02T09:05:00Z", "msg_a", [1, 10, 0, 0], "m")
        .user("2026-11-02T09:10:00Z");
    world.write("-w-app/old.jsonl", original.text());
    // Resuming writes a new file that repeats the old lines with their own session id, then goes on.
    let continued = Transcript::new("new", "/w/app").user("2026-11-03T09:00:00Z").assistant_msg(
        "2026-11-03T09:05:00Z",
        "msg_b",
        [2, 20, 0, 0],
        "m",
    );
    world.write("-w-app/new.jsonl", &format!("{}{}", original.text(), continued.text()));
    let report = world.report("2026-11-01", "2026-11-05", &[NOW]);
    let app = project(&report, "/w/app");
    assert_eq!(
        numbers(app),
        json!({"active_seconds": 900, "sessions": 2, "input_tokens": 3, "output_tokens": 30, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );
}

#[test]
fn sidechains_add_tokens_to_parent_but_no_time() {
    let world = World::new();
    let parent = Transcript::new("parent", "/w/app").user("2026-11-02T09:00:00Z").assistant(
        "2026-11-02T09:10:00Z",
        1,
        1,
        0,
        0,
    );
    world.write("-w-app/parent.jsonl", parent.text());
    let old_layout = Transcript::new("parent", "/w/app")
        .user("2026-11-02T09:01:00Z")
        .assistant_msg("2026-11-02T09:30:00Z", "msg_sub1", [0, 100, 0, 0], "m")
        .marked_sidechain();
    world.write("-w-app/agent-1234abcd.jsonl", old_layout.text());
    // The newer layout: a folder named after the session; its lines need not even say isSidechain.
    let new_layout = Transcript::new("parent", "/w/app").user("2026-11-02T09:02:00Z").assistant_msg(
        "2026-11-02T09:40:00Z",
        "msg_sub2",
        [0, 1000, 0, 0],
        "m",
    );
    world.write("-w-app/parent/subagents/agent-5678.jsonl", new_layout.text());
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    let app = project(&report, "/w/app");
    assert_eq!(app["active_seconds"], 600);
    assert_eq!(app["output_tokens"], 1101);
    assert_eq!(app["sessions"], 1);
}

#[test]
fn traps_duplicates_synthetic_summary_and_cwd_change() {
    let world = World::new();
    let session = Transcript::new("s", "/w/first")
        .raw(r#"{"type":"summary","summary":"Refactor","leafUuid":"x"}"#)
        .user("2026-11-02T09:00:00Z")
        .assistant_msg("2026-11-02T09:01:00Z", "msg_grow", [3, 12, 0, 0], "m")
        .assistant_msg("2026-11-02T09:01:01Z", "msg_grow", [3, 480, 0, 0], "m")
        .assistant_msg("2026-11-02T09:02:00Z", "msg_err", [9, 9, 9, 9], "<synthetic>");
    let moved = Transcript::new("s", "/w/first/sub").user("2026-11-02T09:03:00Z");
    let text = format!("{}{}", session.text(), moved.text());
    let duplicated_line = text.lines().nth(2).unwrap().to_string();
    world.write("-w-first/s.jsonl", &format!("{text}{duplicated_line}\n"));
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(report["projects"].as_array().unwrap().len(), 2);
    let first = project(&report, "/w/first");
    assert_eq!(
        numbers(first),
        json!({"active_seconds": 180, "sessions": 1, "input_tokens": 3, "output_tokens": 480, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );
    // The move to `sub` at 09:03 is the session's last line: the new folder shows, with no time (so the
    // session is not counted there: a session counts where it has tracked time).
    let moved = project(&report, "/w/first/sub");
    assert_eq!(
        numbers(moved),
        json!({"active_seconds": 0, "sessions": 0, "input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );
}

#[test]
fn incremental_ingest_reads_only_what_changed() {
    let world = World::new();
    let start = Transcript::new("s", "/w/app").user("2026-11-02T09:00:00Z").assistant(
        "2026-11-02T09:05:00Z",
        1,
        10,
        0,
        0,
    );
    world.write("-w-app/s.jsonl", start.text());
    assert!(world.ok(&["ingest"]).starts_with("read 1 of 1 transcript files"));
    assert!(world.ok(&["ingest"]).starts_with("read 0 of 1 transcript files (0.0 MB)"));

    // Grown: only the new bytes are read.
    let more = Transcript::new("s", "/w/app").user("2026-11-02T09:10:00Z").assistant_msg(
        "2026-11-02T09:12:00Z",
        "msg_more",
        [1, 5, 0, 0],
        "m",
    );
    world.append("-w-app/s.jsonl", more.text());
    let summary = world.ok(&["ingest"]);
    let expected_mb = format!("({:.1} MB)", more.text().len() as f64 / 1e6);
    assert!(summary.starts_with(&format!("read 1 of 1 transcript files {expected_mb}")), "{summary}");
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 720);
    assert_eq!(project(&report, "/w/app")["output_tokens"], 15);

    // Rewritten shorter: read whole again, nothing doubled.
    world.write("-w-app/s.jsonl", start.text());
    world.ok(&["ingest"]);
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["output_tokens"], 15);

    // Deleted by Claude Code: the session stays.
    std::fs::remove_file(world.projects().join("-w-app/s.jsonl")).unwrap();
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 720);
}

#[test]
fn truncated_last_line_is_read_once_complete() {
    let world = World::new();
    let full = Transcript::new("s", "/w/app").user("2026-11-02T09:00:00Z").user("2026-11-02T09:05:00Z");
    let text = full.text();
    let cut = text.len() - 30;
    world.write("-w-app/s.jsonl", &text[..cut]);
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 0);
    world.append("-w-app/s.jsonl", &text[cut..]);
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 300);
}

#[test]
fn bad_lines_are_skipped_counted_and_listed_with_verbose() {
    let world = World::new();
    let good = Transcript::new("s", "/w/app")
        .user("2026-11-02T09:00:00Z")
        .raw("{\"type\":\"user\",")
        .user("2026-11-02T09:05:00Z");
    let path = world.write("-w-app/s.jsonl", good.text());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"type\":\"user\",\"x\":\"\xff\"}\n");
    std::fs::write(&path, bytes).unwrap();
    world.write("-w-app/empty.jsonl", "");
    let output = world.cmd().args(["report", "--verbose", NOW]).output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let shown = path.display().to_string();
    assert!(stderr.contains(&format!("{shown}:2: malformed JSON")), "{stderr}");
    assert!(stderr.contains(&format!("{shown}:4: invalid UTF-8")), "{stderr}");
    assert!(stderr.contains("empty.jsonl: empty file"), "{stderr}");

    let quiet = World::new();
    quiet.write("-w-app/s.jsonl", good.text());
    let output = quiet.cmd().args(["ingest"]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("skipped 1 unreadable transcript line(s) in 1 file(s); `--verbose` lists them"),
        "{stderr}"
    );
}

#[test]
fn ingest_never_panics_on_hostile_files() {
    let world = World::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for file in 0..20 {
        let mut bytes = Vec::new();
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(match seed % 8 {
                0 => b'\n',
                1 => b'{',
                2 => b'"',
                _ => (seed >> 8) as u8,
            });
        }
        let path = world.projects().join(format!("-x/{file}.jsonl"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let hostile = [
        r#"{"type":"assistant","timestamp":"2026-11-02T09:00:00Z","sessionId":"s","message":{"usage":{"input_tokens":-1}}}"#,
        r#"{"type":"assistant","timestamp":"not a time","sessionId":"s"}"#,
        r#"{"type":"user","timestamp":"2026-11-02T09:00:00Z","sessionId":"s","message":"just a string"}"#,
        r#"{"type":"assistant","timestamp":"2026-11-02T09:00:00Z","message":{"usage":{"output_tokens":18446744073709551615}}}"#,
        r#"[1,2,3]"#,
        r#"null"#,
    ];
    world.write("-y/hostile.jsonl", &hostile.join("\n"));
    let verbose = world.cmd().args(["--verbose", "ingest"]).output().unwrap();
    assert!(verbose.status.success(), "{}", String::from_utf8_lossy(&verbose.stderr));
    let projects = format!("{}/", world.projects().display());
    let skipped: Vec<String> =
        String::from_utf8(verbose.stderr).unwrap().lines().map(|line| line.replace(&projects, "")).collect();
    // The hand-written hostile lines: each skipped with its reason, except line 4, which is kept, and the
    // last, which waits for its newline.
    let hostile: Vec<&str> = skipped.iter().map(String::as_str).filter(|l| l.contains("hostile")).collect();
    assert_eq!(
        hostile,
        vec![
            "claude-tracker: skipped -y/hostile.jsonl:1: malformed JSON (invalid value: integer `-1`, expected u64 \
             at line 1 column 108)",
            "claude-tracker: skipped -y/hostile.jsonl:2: bad timestamp `not a time`",
            "claude-tracker: skipped -y/hostile.jsonl:3: malformed JSON (invalid type: string \"just a string\", \
             expected struct RawMessage at line 1 column 91)",
            "claude-tracker: skipped -y/hostile.jsonl:5: malformed JSON (invalid type: sequence, expected a \
             transcript line (a JSON object) at line 1 column 0)",
        ],
        "line 6 has no newline yet: it may still be being written, so it waits (it is not unreadable)"
    );
    // Every random file had lines skipped, and every skipped line is listed as `path:line: reason`.
    for file in 0..20 {
        let prefix = format!("claude-tracker: skipped -x/{file}.jsonl:");
        assert!(skipped.iter().any(|l| l.starts_with(&prefix)), "{file}.jsonl: {skipped:?}");
    }
    assert!(skipped.iter().all(|l| l.starts_with("claude-tracker: skipped -")), "{skipped:?}");
    // Without `--verbose`, one line says how many were skipped and where to look (a fresh database, so the
    // files are read again).
    let quiet = world
        .cmd()
        .env("CLAUDE_TRACKER_DB", world.dir.path().join("again.db"))
        .arg("ingest")
        .output()
        .unwrap();
    let files: std::collections::BTreeSet<&str> = skipped
        .iter()
        .filter_map(|l| l.strip_prefix("claude-tracker: skipped ")?.split(':').next())
        .collect();
    assert_eq!(
        String::from_utf8(quiet.stderr).unwrap(),
        format!(
            "claude-tracker: skipped {} unreadable transcript line(s) in {} file(s); `--verbose` lists them\n",
            skipped.len(),
            files.len()
        )
    );
    assert_eq!(files.len(), 21, "the 20 random files and the hostile one");
    // What was kept: only line 4, an assistant line with no session id and no `cwd` (the file's session,
    // project unknown), its output tokens at the largest count, never wrapped. One line is no tracked
    // time, so no session is counted (as `sync` would see no session that day), but its tokens are.
    let report = world.report("2026-11-01", "2026-11-07", &[NOW]);
    assert_eq!(
        report,
        serde_json::json!({
            "since": "2026-11-01", "until": "2026-11-07", "timezone": "UTC",
            "projects": [{
                "project": "(unknown)", "name": "(unknown)", "active_seconds": 0, "hands_on_seconds": 0,
                "supervised_seconds": 0, "autonomous_seconds": 0, "sessions": 0, "automated_sessions": 0,
                "input_tokens": 0, "output_tokens": u64::MAX, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "last_activity": "2026-11-02T09:00:00Z", "tags": []
            }],
            "total": {
                "active_seconds": 0, "hands_on_seconds": 0, "supervised_seconds": 0, "autonomous_seconds": 0,
                "sessions": 0, "automated_sessions": 0, "input_tokens": 0, "output_tokens": u64::MAX,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0
            }
        })
    );
}

#[test]
fn claude_config_dir_may_list_several_dirs() {
    let world = World::new();
    let other = world.dir.path().join("second");
    let write = |root: &std::path::Path, id: &str, cwd: &str| {
        let path = root.join("projects/p").join(format!("{id}.jsonl"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            path,
            Transcript::new(id, cwd).user("2026-11-02T09:00:00Z").user("2026-11-02T09:01:00Z").text(),
        )
        .unwrap();
    };
    write(&world.dir.path().join("claude"), "a", "/one");
    write(&other, "b", "/two");
    let dirs = format!("{},{}", world.dir.path().join("claude").display(), other.display());
    let output = world
        .cmd()
        .env("CLAUDE_CONFIG_DIR", dirs)
        .args(["report", "--json", "--since", "2026-11-02", NOW])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["total"]["sessions"], 2);
    assert_eq!(report["until"], "2026-11-21", "--since alone runs through today");
}

#[test]
fn default_locations_are_under_home() {
    let world = World::new();
    let path = world.home().join(".claude/projects/p/a.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        Transcript::new("a", "/one").user("2026-11-21T09:00:00Z").user("2026-11-21T09:02:00Z").text(),
    )
    .unwrap();
    let output = world
        .cmd()
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CLAUDE_TRACKER_DB")
        .env_remove("CLAUDE_TRACKER_CONFIG")
        .args(["report", "--json", NOW])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["total"]["active_seconds"], 120);
    assert!(world.home().join(".local/share/claude-tracker/tracker.db").exists());
}

#[test]
fn config_errors_name_file_line_and_fix() {
    let world = World::new();
    let config = world.config("timezone = \"UTC\"\n[capture]\nidle_minute = 10\n");
    let output = world.cmd().args(["report", "--config", config.to_str().unwrap()]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("claude-tracker: error: config file "), "{stderr}");
    assert!(stderr.contains("config.toml, line 3, column 1: unknown field `idle_minute`"), "{stderr}");
    assert!(stderr.contains("did you mean `idle_minutes`?"), "{stderr}");

    let config = world.config("timezone = \"Mars/Olympus\"\n");
    let output = world.cmd().args(["report", "--config", config.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("line 1, column 12: unknown time zone `Mars/Olympus`"), "{stderr}");
}

#[test]
fn idle_threshold_from_config_applies_to_stored_sessions() {
    let world = World::new();
    let session = Transcript::new("s", "/w/app").user("2026-11-02T09:00:00Z").user("2026-11-02T09:20:00Z");
    world.write("-w-app/s.jsonl", session.text());
    let report = world.report("2026-11-02", "2026-11-02", &[NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 0);
    let config = world.config("[capture]\nidle_minutes = 30\n");
    let report = world.report("2026-11-02", "2026-11-02", &["--config", config.to_str().unwrap(), NOW]);
    assert_eq!(project(&report, "/w/app")["active_seconds"], 1200);
}

#[test]
fn sample_data_reports_its_documented_figures() {
    let world = World::new();
    let config = repo_file("examples/sample/config.toml");
    let report = world.report("2026-11-01", "2026-11-30", &["--config", config.to_str().unwrap(), NOW]);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file("examples/sample/expected.json")).unwrap())
            .unwrap();
    for (path, figures) in expected["projects"].as_object().unwrap() {
        let actual = numbers(project(&report, path));
        assert_eq!(&actual, figures, "{path}");
    }
    assert_eq!(numbers(&report["total"]), expected["total"]);
}

#[test]
fn every_run_has_a_pinned_clock_unless_it_passes_its_own() {
    let world = World::new();
    let pinned: serde_json::Value = serde_json::from_str(&world.ok(&["report", "--json"])).unwrap();
    assert_eq!(
        (pinned["since"].as_str(), pinned["until"].as_str()),
        (Some("2026-11-07"), Some("2026-11-07"))
    );
    let own: serde_json::Value =
        serde_json::from_str(&world.ok(&["report", "--json", "--now", "2026-12-01T12:00:00Z"])).unwrap();
    assert_eq!(own["until"], "2026-12-01", "a test's own `--now` wins");
}
