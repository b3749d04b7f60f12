//! Where the time was (issue 18, item 5): a database holding two machines' sessions, built with the
//! real binary and no shared folder: the laptop's world writes its transcripts and `export --format
//! jsonl`; the desk's world imports that file beside its own transcripts. Then `report --by machine`,
//! the sessions CSV, `rules check --session`, a rule on `machine` and the dashboard say which machine
//! each session ran on.

use std::process::Output;

use crate::support::{Transcript, World};

/// Saturday after the Monday the sessions ran on.
const NOW: &str = "--now=2026-11-07T12:00:00Z";

/// The desk's config: its name, and a rule that tags the laptop's time (to bill it).
const DESK: &str = "timezone = \"UTC\"\n\
    [share]\n\
    machine = \"desk\"\n\
    [[rules.auto_tag]]\n\
    name = \"Work laptop\"\n\
    match = { machine = \"laptop\" }\n\
    tags = [\"work-laptop\"]\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Stdout, stderr and exit code: every run is compared whole.
fn run(world: &World, config: &std::path::Path, args: &[&str]) -> (String, String, Option<i32>) {
    let mut all = vec!["--config", config.to_str().unwrap(), NOW];
    all.extend_from_slice(args);
    let output: Output = world.cmd().args(all).output().unwrap();
    (text(&output.stdout), text(&output.stderr), output.status.code())
}

fn ok(stdout: &str) -> (String, String, Option<i32>) {
    (stdout.to_string(), String::new(), Some(0))
}

/// A prompt every five minutes from `start` (a millisecond timestamp) for `minutes`, one answer with
/// tokens on the way.
fn session(world: &World, id: &str, cwd: &str, start: &str, minutes: i64, output: u64) {
    let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    let at = |minute: i64| {
        (start + chrono::Duration::minutes(minute)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let mut transcript = Transcript::new(id, cwd);
    for minute in (0..=minutes).step_by(5) {
        transcript = transcript.user(&at(minute));
        if minute == 0 {
            transcript = transcript.assistant(&at(1), 10, output, 0, 0);
        }
    }
    world.write(&format!("{}/{id}.jsonl", cwd.replace('/', "-")), transcript.text());
}

/// The desk's world after importing the laptop's file: the laptop's session (`lap-1111`, /w/shop, 60
/// minutes from 09:00), the desk's own (`desk-2222` in /w/shop, 30 from 13:00; `desk-3333` in /w/api,
/// 20 from 15:00), all on Monday 2026-11-02.
fn desk_with_laptop() -> (World, std::path::PathBuf) {
    let laptop = World::new();
    let laptop_config = laptop.config("timezone = \"UTC\"\n[share]\nmachine = \"laptop\"\n");
    session(&laptop, "lap-1111", "/w/shop", "2026-11-02T09:00:00.250Z", 60, 400);
    let (file, stderr, code) = run(&laptop, &laptop_config, &["export", "--format", "jsonl"]);
    assert_eq!((stderr.as_str(), code), ("", Some(0)));
    let desk = World::new();
    let desk_config = desk.config(DESK);
    session(&desk, "desk-2222", "/w/shop", "2026-11-02T13:00:00.500Z", 30, 200);
    session(&desk, "desk-3333", "/w/api", "2026-11-02T15:00:00.750Z", 20, 100);
    let path = desk.dir.path().join("laptop.jsonl");
    std::fs::write(&path, file).unwrap();
    let imported = run(&desk, &desk_config, &["import", path.to_str().unwrap()]);
    assert_eq!(
        imported,
        ok(&format!(
            "imported {} (written by laptop at 2026-11-07T12:00:00Z): 1 sessions added, 0 extended, 0 already \
             known\n",
            path.display()
        ))
    );
    (desk, desk_config)
}

const MONDAY: [&str; 4] = ["--since", "2026-11-02", "--until", "2026-11-02"];

/// `report --by machine`: one row per machine, the laptop's imported session beside the desk's own
/// (the desk named by its config, the database having no name for it); rounded as one table, so the
/// rows add up to the total, in the table and in the JSON. An empty range says how to see the sessions
/// by machine.
#[test]
fn report_by_machine_gives_each_machine_its_time_and_the_rows_add_up() {
    let (desk, config) = desk_with_laptop();
    assert_eq!(
        run(&desk, &config, &[&["report", "--by", "machine"][..], &MONDAY].concat()),
        ok("Claude Code time on 2026-11-02 (UTC)\n\n\
            \x20machine  active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20laptop     1:00      0:59        0:01        0:00         1     10     400            0           0\n\
            \x20desk       0:50      0:48        0:02        0:00         2     20     300            0           0\n\
            \x20total      1:50      1:47        0:03        0:00         3     30     700            0           0\n")
    );
    assert_eq!(
        run(&desk, &config, &[&["report", "--by", "machine", "--json"][..], &MONDAY].concat()),
        ok(
            "{\"since\":\"2026-11-02\",\"until\":\"2026-11-02\",\"timezone\":\"UTC\",\"machines\":[{\"machine\":\
            \"laptop\",\"active_seconds\":3600,\"hands_on_seconds\":3540,\"supervised_seconds\":60,\
            \"autonomous_seconds\":0,\"sessions\":1,\"automated_sessions\":0,\"input_tokens\":10,\"output_tokens\":400,\
            \"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0},{\"machine\":\"desk\",\"active_seconds\":\
            3000,\"hands_on_seconds\":2880,\"supervised_seconds\":120,\"autonomous_seconds\":0,\"sessions\":2,\
            \"automated_sessions\":0,\"input_tokens\":20,\"output_tokens\":300,\"cache_creation_input_tokens\":0,\
            \"cache_read_input_tokens\":0}],\"total\":{\"active_seconds\":6600,\"hands_on_seconds\":6420,\
            \"supervised_seconds\":180,\"autonomous_seconds\":0,\"sessions\":3,\"automated_sessions\":0,\
            \"input_tokens\":30,\"output_tokens\":700,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}}\n"
        )
    );
    assert_eq!(
        run(&desk, &config, &["report", "--by", "machine", "--since", "2026-11-03", "--until", "2026-11-03"]),
        ok("Claude Code time on 2026-11-03 (UTC)\n\n\
            no Claude Code activity in this range\n\
            recorded sessions are all on 2026-11-02: try `claude-tracker report --since 2026-11-02 --until \
            2026-11-02 --by machine`\n")
    );
}

/// `export --sessions` names each session's machine in its last column: the laptop's as its file
/// named it, the desk's own by the desk's name (every run names this machine in the database).
#[test]
fn the_sessions_csv_names_each_sessions_machine_in_its_last_column() {
    let (desk, config) = desk_with_laptop();
    let header = "id,start,end,duration_hours,description,tags,working_directory,git_branch,input_tokens,\
        output_tokens,cache_creation_input_tokens,cache_read_input_tokens,hands_on_hours,supervised_hours,\
        autonomous_hours,automated,machine\n";
    let rows = |desk_name: &str| {
        format!(
            "{header}\
             lap-1111,2026-11-02T09:00:00+00:00,2026-11-02T10:00:00+00:00,1.0000,shop,work-laptop,/w/shop,main,10,400,\
             0,0,0.9833,0.0167,0.0000,false,laptop\n\
             desk-2222,2026-11-02T13:00:00+00:00,2026-11-02T13:30:00+00:00,0.5000,shop,,/w/shop,main,10,200,0,0,\
             0.4833,0.0167,0.0000,false,{desk_name}\n\
             desk-3333,2026-11-02T15:00:00+00:00,2026-11-02T15:20:00+00:00,0.3333,api,,/w/api,main,10,100,0,0,\
             0.3167,0.0166,0.0000,false,{desk_name}\n"
        )
    };
    let export = [&["export", "--sessions"][..], &MONDAY].concat();
    assert_eq!(run(&desk, &config, &export), ok(&rows("desk")));
}

/// `rules check --session` shows the machine a session is attributed to, and a rule's `machine` glob
/// tags the laptop's session only: its time is the tag's line (what a destination would bill). The
/// desk's session shows the desk's name.
#[test]
fn a_machine_rule_tags_only_that_machines_sessions_and_check_shows_the_machine() {
    let (desk, config) = desk_with_laptop();
    assert_eq!(
        run(&desk, &config, &["rules", "check", "--session", "lap"]),
        ok(
            "Session lap-1111: /w/shop\n  Branch: main\n  Machine: laptop\n  Current tags: work-laptop (rule)\n  \
            Matched rule: \"Work laptop\" (line 4)\n  Would apply: work-laptop\n"
        )
    );
    assert_eq!(
        run(&desk, &config, &["rules", "check", "--session", "desk-2"]),
        ok(
            "Session desk-222: /w/shop\n  Branch: main\n  Machine: desk\n  Current tags: (none)\n  Matched rule: none\n"
        )
    );
    assert_eq!(
        run(&desk, &config, &[&["report", "--by", "tag"][..], &MONDAY].concat()),
        ok("Claude Code time on 2026-11-02 (UTC)\n\n\
            \x20tag          active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20work-laptop    1:00      0:59        0:01        0:00         1     10     400            0           0\n\
            \x20(untagged)     0:50      0:48        0:02        0:00         2     20     300            0           0\n\
            \x20total          1:50      1:47        0:03        0:00         3     30     700            0           0\n")
    );
}

/// The dashboard's Projects panel, when the range holds two machines' sessions, shows each one's time
/// on its bottom border (adding up to the panel's total); with one machine it is as it always was (the
/// snapshots of `dashboard.rs`).
#[test]
fn the_dashboard_splits_the_projects_time_by_machine() {
    let (desk, config) = desk_with_laptop();
    let range = ["--tab", "range", "--since", "2026-11-02", "--until", "2026-11-02"];
    assert_eq!(
        run(&desk, &config, &[&["dashboard", "--snapshot", "80x24"][..], &range].concat()),
        ok(" Today | 7 days | 30 days | Range                     claude-tracker  2026-11-02\n\
            ┌ Projects  1:50  hands-on 1:47  supervised 0:03  autonomous 0:00 ─────────────┐\n\
            │shop   ██████████████████████████████████████████████████   1:30     2     620│\n\
            │api    ███████████                                          0:20     1     110│\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            │                                                                              │\n\
            └ laptop 1:00  desk 0:50 ─────────────────────────────────   time  sess  tokens┘\n\
            ┌ Tags ────────────────────────────────────────────────────────────────────────┐\n\
            │work-laptop █████████████████████████████████████████████   1:00     1     410│\n\
            │(untagged)  █████████████████████████████████████▌          0:50     2     320│\n\
            └─────────────────────────────────────────────────────────   time  sess  tokens┘\n\
            ┌ Sync ────────────────────────────────────────────────────────────────────────┐\n\
            │no destination configured (config.example.toml shows [clockify] and [toggl])  │\n\
            └──────────────────────────────────────────────────────────────────────────────┘\n\
            q quit  ←/→ tab range  r refresh  ? help   (UTC)                                \n")
    );
}
