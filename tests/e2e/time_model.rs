//! The user's time (issue 16): sessions with no person are kept but not posted, a destination that counts
//! attended time posts only the hands-on and supervised part, and a session that moved folder (`/cd`) is
//! split between the two folders. Real-format lines (2.1.x fields: `promptSource`, `origin`, queue
//! operations, away summaries) with millisecond timestamps; the fakes' state is compared whole.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::push::{Posted, Setup};
use crate::support::World;

/// Tuesday 2026-11-03, 12:00 UTC: Monday and the night after it are closed.
const TUESDAY_NOON: &str = "--now=2026-11-03T12:00:00Z";

/// Milliseconds that vary from line to line, as in real transcripts.
const MS: [i64; 4] = [417, 903, 88, 651];

/// Lines of one session in the 2.1.x format.
struct Lines {
    session: String,
    cwd: String,
    text: String,
    count: usize,
}

impl Lines {
    fn new(session: &str, cwd: &str) -> Lines {
        Lines { session: session.into(), cwd: cwd.into(), text: String::new(), count: 0 }
    }

    fn at(&mut self, at: DateTime<Utc>) -> String {
        self.count += 1;
        let at = at + Duration::milliseconds(MS[self.count % MS.len()]);
        at.to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    fn head(&mut self, at: DateTime<Utc>) -> String {
        let timestamp = self.at(at);
        format!(
            r#""isSidechain":false,"userType":"external","cwd":"{}","sessionId":"{}","version":"2.1.150","gitBranch":"main","entrypoint":"cli","uuid":"{}-{}","timestamp":"{timestamp}""#,
            self.cwd, self.session, self.session, self.count
        )
    }

    /// A prompt with `promptSource` (`typed`, `system`, `sdk`, ...).
    fn prompt(mut self, at: DateTime<Utc>, source: &str, content: &str) -> Self {
        let head = self.head(at);
        self.text.push_str(&format!(
            r#"{{"parentUuid":null,{head},"type":"user","promptSource":"{source}","message":{{"role":"user","content":"{content}"}}}}"#
        ));
        self.text.push('\n');
        self
    }

    /// The agent: an assistant line and its tool result.
    fn agent(mut self, at: DateTime<Utc>) -> Self {
        let head = self.head(at);
        let id = format!("msg_{}_{}", self.session, self.count);
        self.text.push_str(&format!(
            r#"{{"parentUuid":"p",{head},"type":"assistant","requestId":"req_{id}","message":{{"model":"claude-sonnet-4-5","id":"{id}","type":"message","role":"assistant","content":[{{"type":"tool_use","id":"toolu_{id}","name":"Bash","input":{{}}}}],"usage":{{"input_tokens":3,"output_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}}}}"#
        ));
        self.text.push('\n');
        let head = self.head(at + Duration::seconds(2));
        self.text.push_str(&format!(
            r#"{{"parentUuid":"p",{head},"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{id}","type":"tool_result","content":"ok"}}]}},"toolUseResult":{{"stdout":"ok","stderr":"","interrupted":false}},"sourceToolAssistantUUID":"a"}}"#
        ));
        self.text.push('\n');
        self
    }

    /// The agent every `step` minutes from `from` (inclusive) to `to` (exclusive).
    fn agent_every(mut self, from: DateTime<Utc>, to: DateTime<Utc>, step: i64) -> Self {
        let mut at = from;
        while at < to {
            self = self.agent(at);
            at += Duration::minutes(step);
        }
        self
    }

    /// Claude Code's recap for a person who left.
    fn away(mut self, at: DateTime<Utc>) -> Self {
        let head = self.head(at);
        self.text.push_str(&format!(
            r#"{{"parentUuid":"p",{head},"type":"system","subtype":"away_summary","isMeta":false,"content":"While you were away"}}"#
        ));
        self.text.push('\n');
        self
    }

    /// Moves to another folder from now on (`/cd`).
    fn cd(mut self, cwd: &str) -> Self {
        self.cwd = cwd.into();
        self
    }

    fn write(&self, world: &World) {
        world.write(&format!("{}/{}.jsonl", self.cwd.replace('/', "-"), self.session), &self.text);
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A person in the shop from 09:00 to 11:00 (a prompt every 20 minutes, the agent in between).
fn shop_morning(world: &World) {
    let mut lines = Lines::new("shop", "/w/shop");
    for minute in (0..120).step_by(20) {
        let start = at("2026-11-02T09:00:00Z") + Duration::minutes(minute);
        lines = lines.prompt(start, "typed", "Go on").agent_every(
            start + Duration::minutes(1),
            start + Duration::minutes(20),
            4,
        );
    }
    lines.prompt(at("2026-11-02T11:00:00Z"), "typed", "Thanks").write(world);
}

/// A scheduled task in the tracker folder from 09:30 to 10:00: nobody typed anything.
fn nightly_task(world: &World) {
    Lines::new("cron", "/w/tracker")
        .prompt(
            at("2026-11-02T09:30:00Z"),
            "system",
            "<scheduled-task name=\\\"tidy\\\">Tidy the backlog</scheduled-task>",
        )
        .agent_every(at("2026-11-02T09:31:00Z"), at("2026-11-02T10:00:00Z"), 3)
        .agent(at("2026-11-02T10:00:00Z"))
        .write(world);
}

fn entry(setup: &Setup, project: &str, start: &str, end: &str, description: &str) -> Posted {
    (setup.project(project), start.into(), end.into(), description.into(), Vec::new())
}

#[test]
fn a_scheduled_task_is_kept_and_reported_but_not_posted_unless_a_rule_counts_it() {
    for setup in Setup::bare("sessions") {
        shop_morning(&setup.world);
        nightly_task(&setup.world);
        setup.ok(&["push", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            vec![entry(&setup, "shop", "11-02T09:00", "11-02T11:00", "shop (main)")],
            "{}",
            setup.name()
        );
        // A bot you bill: a rule counts the tracker folder's automated sessions.
        setup.configure(
            "mode = \"sessions\"",
            "[[rules.auto_tag]]\nname = \"bot\"\nmatch = { cwd = \"/w/tracker\" }\ntags = []\ncount_automated = true\n",
        );
        setup.ok(&["push", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            vec![
                entry(&setup, "shop", "11-02T09:00", "11-02T09:30", "shop (main)"),
                entry(&setup, "tracker", "11-02T09:30", "11-02T10:00", "tracker (main)"),
                entry(&setup, "shop", "11-02T10:00", "11-02T11:00", "shop (main)"),
            ],
            "{}",
            setup.name()
        );
    }
}

#[test]
fn a_scheduled_task_takes_no_share_of_the_daily_split() {
    for setup in Setup::bare("workday") {
        shop_morning(&setup.world);
        nightly_task(&setup.world);
        setup.ok(&["sync", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            // Workday mode fills the template too, from the day's work of the entry's project.
            vec![entry(&setup, "shop", "11-02T09:00", "11-02T17:00", "shop (main)")],
            "{}",
            setup.name()
        );
    }
}

/// A prompt at 22:00, the agent working alone until midnight: 15 minutes supervised, the rest
/// autonomous (the person left: an away summary at 22:40).
fn overnight_run(world: &World) {
    Lines::new("night", "/w/shop")
        .prompt(at("2026-11-02T22:00:00Z"), "typed", "Migrate every test, then run them all")
        .agent_every(at("2026-11-02T22:01:00Z"), at("2026-11-03T00:00:00Z"), 3)
        .agent(at("2026-11-03T00:00:00Z"))
        .away(at("2026-11-02T22:40:00Z"))
        .write(world);
}

#[test]
fn an_attended_destination_posts_the_supervised_part_of_an_overnight_run_an_active_one_all_of_it() {
    for setup in Setup::bare("sessions") {
        overnight_run(&setup.world);
        setup.configure("mode = \"sessions\"\ncount = \"attended\"", "");
        setup.ok(&["push", "--since", "2026-11-02", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            vec![entry(&setup, "shop", "11-02T22:00", "11-02T22:15", "shop (main)")],
            "{}",
            setup.name()
        );
    }
    for setup in Setup::bare("sessions") {
        overnight_run(&setup.world);
        setup.ok(&["push", "--since", "2026-11-02", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            vec![entry(&setup, "shop", "11-02T22:00", "11-03T00:00", "shop (main)"),],
            "{}",
            setup.name()
        );
    }
}

#[test]
fn a_session_moved_with_cd_is_split_between_the_two_folders() {
    for setup in Setup::bare("sessions") {
        let mut lines = Lines::new("moved", "/w/shop");
        for minute in (0..120).step_by(10) {
            if minute == 60 {
                lines = lines.cd("/w/tracker");
            }
            let start = at("2026-11-02T09:00:00Z") + Duration::minutes(minute);
            lines = lines.prompt(start, "typed", "Next").agent(start + Duration::minutes(3));
        }
        let lines = lines.prompt(at("2026-11-02T11:00:00Z"), "typed", "Done");
        // Claude Code keeps the file in the folder the session began in.
        setup.world.write("-w-shop/moved.jsonl", &lines.text);
        setup.ok(&["push", TUESDAY_NOON]);
        assert_eq!(
            setup.posted(),
            vec![
                entry(&setup, "shop", "11-02T09:00", "11-02T10:00", "shop (main)"),
                entry(&setup, "tracker", "11-02T10:00", "11-02T11:00", "tracker (main)"),
            ],
            "{}",
            setup.name()
        );
    }
}

#[test]
fn report_and_export_show_the_bands_and_the_automated_session() {
    let world = World::new();
    shop_morning(&world);
    nightly_task(&world);
    overnight_run(&world);
    let report = world
        .cmd()
        .args(["report", "--since", "2026-11-02", "--until", "2026-11-02", TUESDAY_NOON])
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8(report.stdout).unwrap(), String::from_utf8(report.stderr).unwrap(), report.status.code()),
        (
            "Claude Code time on 2026-11-02 (UTC)\n\n\
             \x20 project  active  hands-on  supervised  autonomous  sessions  automated  input  output  cache write  cache read\n\
             * shop       4:00      0:18        1:45        1:57         2          0    210    2.8k            0           0\n\
             \x20 tracker    0:30      0:00        0:00        0:30         1          1     33     440            0           0\n\
             \x20 total      4:30      0:18        1:45        2:27         3          1    243    3.2k            0           0\n\
             \n* latest activity\n"
                .to_string(),
            String::new(),
            Some(0)
        ),
        "the morning: 6 readings of ~2:58 before a prompt (hands-on), 15 min after each of 6 prompts \
         (supervised), ~2 min of each 20 not within them (autonomous); the night: 15 min supervised, the \
         rest of the day autonomous; the scheduled task: automated, all autonomous"
    );
    let export = world.ok(&[
        "export",
        "--csv",
        "--sessions",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-02",
        TUESDAY_NOON,
    ]);
    assert_eq!(
        export,
        "id,start,end,duration_hours,description,tags,working_directory,git_branch,input_tokens,output_tokens,\
         cache_creation_input_tokens,cache_read_input_tokens,hands_on_hours,supervised_hours,autonomous_hours,automated,machine\n\
         shop,2026-11-02T09:00:00+00:00,2026-11-02T11:00:00+00:00,1.9999,shop,,/w/shop,main,90,1200,0,0,0.2967,1.5000,0.2032,false,dev\n\
         cron,2026-11-02T09:30:00+00:00,2026-11-02T10:00:02+00:00,0.5005,tracker,,/w/tracker,main,33,440,0,0,0.0000,0.0000,0.5005,true,dev\n\
         night,2026-11-02T22:00:00+00:00,2026-11-03T00:00:02+00:00,2.0005,shop,,/w/shop,main,123,1640,0,0,0.0000,0.2500,1.7505,false,dev\n"
    );
}

#[test]
fn the_daily_split_of_an_attended_destination_counts_what_the_person_attended() {
    for count in ["active", "attended"] {
        for setup in Setup::bare("workday") {
            shop_morning(&setup.world);
            // The tracker: one prompt at 12:00, then the agent alone for two hours.
            Lines::new("long", "/w/tracker")
                .prompt(at("2026-11-02T12:00:00Z"), "typed", "Refactor the parser, then run every test")
                .agent_every(at("2026-11-02T12:01:00Z"), at("2026-11-02T14:00:00Z"), 3)
                .agent(at("2026-11-02T14:00:00Z"))
                .write(&setup.world);
            setup.configure(&format!("count = \"{count}\""), "");
            setup.ok(&["sync", TUESDAY_NOON]);
            let posted: Vec<(String, String, String)> =
                setup.posted().into_iter().map(|(project, start, end, _, _)| (project, start, end)).collect();
            let entry = |project: &str, start: &str, end: &str| {
                (setup.project(project), format!("11-02T{start}"), format!("11-02T{end}"))
            };
            // Active: 2:00 each (the tracker's two seconds longer, so it goes first). Attended: the shop's
            // 1:47:5x (18 min reading, 90 supervised) against the tracker's 15 supervised minutes: 7:01
            // and 0:59 of the 8-hour day.
            let expected = match count {
                "active" => vec![entry("tracker", "09:00", "13:00"), entry("shop", "13:00", "17:00")],
                _ => vec![entry("shop", "09:00", "16:01"), entry("tracker", "16:01", "17:00")],
            };
            assert_eq!(posted, expected, "{count} {}", setup.name());
        }
    }
}

/// The shipped sample: the generator computes the bands from the files on disk, independently of
/// claude-tracker (`examples/sample/generate.py`, `bands_ms` in `expected.json`); `report --json`
/// gives the same figures, each within a second (rounded with the table, so that it adds up).
#[test]
fn the_samples_bands_equal_the_generators() {
    let world = World::new();
    let config = crate::support::repo_file("examples/sample/config.toml");
    let report = world.report(
        "2026-11-01",
        "2026-11-30",
        &["--config", config.to_str().unwrap(), "--now=2026-12-01T12:00:00Z"],
    );
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_file("examples/sample/expected.json")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    for (path, bands) in expected["bands_ms"].as_object().unwrap() {
        let row = crate::support::project(&report, path);
        let shown = [&row["hands_on_seconds"], &row["supervised_seconds"], &row["autonomous_seconds"]]
            .map(|v| v.as_i64().unwrap());
        let independent = [&bands["hands_on_ms"], &bands["supervised_ms"], &bands["autonomous_ms"]]
            .map(|ms| ms.as_i64().unwrap());
        // Whole seconds, rounded with the rest of the table so that it adds up: each within a second.
        for (shown, exact) in shown.iter().zip(independent) {
            assert!((shown * 1000 - exact).abs() < 1000, "{path}: {shown} s for {exact} ms");
        }
        assert_eq!(shown.iter().sum::<i64>(), row["active_seconds"].as_i64().unwrap(), "{path}");
        compared += 1;
    }
    assert_eq!(compared, 5);
}

/// The issue's `export --csv --sessions` started a session at a sub-agent file's first timestamp, eleven
/// minutes before the session's own first line. A sub-agent adds tokens, never time or a start.
#[test]
fn a_sub_agent_file_never_moves_the_sessions_start_or_end() {
    let world = World::new();
    Lines::new("main", "/w/shop")
        .prompt(at("2026-11-02T09:00:00Z"), "typed", "Look into the failing build")
        .agent_every(at("2026-11-02T09:01:00Z"), at("2026-11-02T09:30:00Z"), 4)
        .prompt(at("2026-11-02T09:30:00Z"), "typed", "Thanks")
        .write(&world);
    // A sub-agent of that session whose lines run from 08:49 to 09:45 (a workflow's agent, its own file).
    let sub = Lines::new("main", "/w/shop")
        .agent_every(at("2026-11-02T08:49:00Z"), at("2026-11-02T09:46:00Z"), 8)
        .text
        .replace(r#""isSidechain":false"#, r#""isSidechain":true,"agentId":"a1b2c3d4e5f607182""#);
    world.write("-w-shop/main/subagents/workflows/wf_1/agent-a1b2c3d4e5f607182.jsonl", &sub);
    world.write(
        "-w-shop/main/subagents/workflows/wf_1/journal.jsonl",
        "{\"type\":\"started\",\"key\":\"k\",\"agentId\":\"a1\"}\n",
    );
    let export = world.ok(&[
        "export",
        "--csv",
        "--sessions",
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-02",
        TUESDAY_NOON,
    ]);
    assert_eq!(
        export,
        "id,start,end,duration_hours,description,tags,working_directory,git_branch,input_tokens,output_tokens,\
         cache_creation_input_tokens,cache_read_input_tokens,hands_on_hours,supervised_hours,autonomous_hours,automated,machine\n\
         main,2026-11-02T09:00:00+00:00,2026-11-02T09:30:00+00:00,0.4998,shop,,/w/shop,main,48,640,0,0,0.0159,0.2500,0.2339,false,dev\n"
    );
}

/// Live mode: a scheduled task that runs while nobody works starts no timer; the person's prompt
/// afterwards does.
#[test]
fn the_live_timer_never_follows_an_automated_session() {
    for setup in Setup::bare("live") {
        nightly_task(&setup.world);
        let pass = |now: &str| setup.ok(&["watch", "--once", &format!("--now=2026-11-02T{now}:00Z")]);
        assert_eq!(pass("09:45"), "", "{}", setup.name());
        assert_eq!(setup.posted(), Vec::<Posted>::new(), "{}", setup.name());
        Lines::new("person", "/w/shop")
            .prompt(at("2026-11-02T09:50:00Z"), "typed", "Now the shop")
            .agent(at("2026-11-02T09:51:00Z"))
            .write(&setup.world);
        assert_eq!(
            pass("09:52"),
            format!(
                "2026-11-02 09:52:00 {}: started: 09:50-now /w/shop -> {} \"shop (main)\"\n",
                setup.name(),
                setup.project("shop")
            )
        );
        let mut running = entry(&setup, "shop", "11-02T09:50", "", "shop (main)");
        running.2 = String::new();
        assert_eq!(setup.posted(), vec![running], "{}", setup.name());
    }
}
