//! `sync` end to end: the real binary against the fake Clockify on 127.0.0.1.

use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_clockify::{self, Entry, FakeClockify, Fault};
use crate::support::World;

/// Saturday 2026-11-07, noon UTC: the week of Monday 2026-11-02 is in the past.
pub(crate) const NOW: &str = "--now=2026-11-07T12:00:00Z";
pub(crate) const WS: &str = fake_clockify::WORKSPACE_ID;

pub(crate) struct Setup {
    pub(crate) world: World,
    pub(crate) fake: FakeClockify,
}

pub(crate) fn config(fake: &FakeClockify, extra_sync: &str) -> String {
    format!(
        "timezone = \"UTC\"\n[sync]\n{extra_sync}\n[clockify]\nworkspace_id = \"{WS}\"\n\
         other_project_id = \"p-other\"\n\
         project_mapping = {{ \"/w/shop\" = \"p-shop\", \"/w/tracker\" = \"p-tracker\" }}\n\
         base_url = \"{}\"\n",
        fake.base_url()
    )
}

impl Setup {
    pub(crate) fn new() -> Setup {
        let fake = FakeClockify::start();
        for (id, name) in [("p-shop", "Shop"), ("p-tracker", "Tracker"), ("p-other", "Other")] {
            fake.add_project(WS, id, name, "Client");
        }
        let world = World::new();
        world.config(&config(&fake, ""));
        Setup { world, fake }
    }

    fn session(&self, id: &str, cwd: &str, start: &str, minutes: i64) {
        self.world.session(id, cwd, start, minutes);
    }

    /// Monday: shop 3h, tracker 1h, unmapped 1h; Tuesday: shop sub-folder 1h; Wednesday: nothing;
    /// Thursday: tracker 2h.
    pub(crate) fn week(&self) {
        self.session("mon-a", "/w/shop", "2026-11-02T08:00:00Z", 180);
        self.session("mon-b", "/w/tracker", "2026-11-02T12:00:00Z", 60);
        self.session("mon-c", "/w/misc", "2026-11-02T14:00:00Z", 60);
        self.session("tue-a", "/w/shop/frontend", "2026-11-03T09:00:00Z", 60);
        self.session("thu-a", "/w/tracker", "2026-11-05T09:00:00Z", 120);
    }

    fn sync(&self, args: &[&str]) -> Output {
        let config = self.world.dir.path().join("config.toml");
        self.world
            .cmd()
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .env("CLAUDE_TRACKER_BACKOFF_MS", "5")
            .arg("--config")
            .arg(config)
            .arg("sync")
            .arg(NOW)
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts a sync in the background, for tests that kill it or race it.
    fn spawn_sync(&self) -> std::process::Child {
        let config = self.world.dir.path().join("config.toml");
        self.world
            .std_cmd()
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .args(["--config", config.to_str().unwrap(), "sync", NOW])
            .spawn()
            .unwrap()
    }

    pub(crate) fn sync_ok(&self, args: &[&str]) -> String {
        let output = self.sync(args);
        assert!(output.status.success(), "sync failed: {}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Entries in Clockify as `(project, start, end)`, sorted by start.
    pub(crate) fn posted(&self) -> Vec<(String, String, String)> {
        let mut entries: Vec<(String, String, String)> = self
            .fake
            .entries()
            .into_iter()
            .map(|e| (e.project_id.unwrap_or_default(), e.start, e.end))
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        entries
    }

    fn count(&self, method: &str) -> usize {
        self.fake.requests().iter().filter(|r| r.method == method).count()
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn entry(project: &str, start: &str, end: &str) -> (String, String, String) {
    (project.into(), start.into(), end.into())
}

pub(crate) fn expected_week() -> Vec<(String, String, String)> {
    vec![
        entry("p-shop", "2026-11-02T09:00:00Z", "2026-11-02T13:48:00Z"),
        entry("p-other", "2026-11-02T13:48:00Z", "2026-11-02T15:24:00Z"),
        entry("p-tracker", "2026-11-02T15:24:00Z", "2026-11-02T17:00:00Z"),
        entry("p-shop", "2026-11-03T09:00:00Z", "2026-11-03T17:00:00Z"),
        entry("p-tracker", "2026-11-05T09:00:00Z", "2026-11-05T17:00:00Z"),
    ]
}

#[test]
fn posts_each_past_work_day_split_by_ratio_once() {
    let setup = Setup::new();
    setup.week();
    setup.session("sat", "/w/shop", "2026-11-07T08:00:00Z", 60); // today (and a weekend): never synced
    setup.session("sun", "/w/shop", "2026-11-01T08:00:00Z", 60); // Sunday: not a work day
    let output = setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
    assert!(output.contains("synced 3 day(s): 5 entries posted, 0 adopted (5 requests)"), "{output}");
    assert!(output.contains("1 not work days, 2 without sessions, 1 today or later"), "{output}");
    let entries = setup.fake.entries();
    assert!(entries.iter().all(|e| e.description == "Development" && e.user_id == fake_clockify::USER_ID));
    // One POST per entry and nothing else: no GET /user unless entries must be listed.
    assert_eq!(setup.fake.requests().len(), 5);

    // Run again: nothing new, not a single request.
    let again = setup.sync_ok(&[]);
    assert!(again.contains("synced 0 day(s): 0 entries posted"), "{again}");
    assert!(again.contains("3 already synced"), "{again}");
    assert_eq!(setup.fake.requests().len(), 5);
    assert_eq!(setup.fake.entries().len(), 5);
}

#[test]
fn dry_run_needs_no_key_and_prints_the_plan() {
    let setup = Setup::new();
    setup.week();
    setup.session("sun", "/w/shop", "2026-11-01T08:00:00Z", 60);
    let config = setup.world.dir.path().join("config.toml");
    let output = setup
        .world
        .cmd()
        .args(["--config", config.to_str().unwrap(), "sync", "--dry-run", "--json", NOW])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    // Only the days with entries, as the text listing; each entry as it is sent (the description; tags
    // and billable flag when there are any).
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        concat!(
            r#"[{"date":"2026-11-02","destination":"clockify","status":"planned","entries":["#,
            r#"{"project_id":"p-shop","start":"2026-11-02T09:00:00Z","end":"2026-11-02T13:48:00Z","seconds":17280,"description":"Development"},"#,
            r#"{"project_id":"p-other","start":"2026-11-02T13:48:00Z","end":"2026-11-02T15:24:00Z","seconds":5760,"description":"Development"},"#,
            r#"{"project_id":"p-tracker","start":"2026-11-02T15:24:00Z","end":"2026-11-02T17:00:00Z","seconds":5760,"description":"Development"}]},"#,
            r#"{"date":"2026-11-03","destination":"clockify","status":"planned","entries":["#,
            r#"{"project_id":"p-shop","start":"2026-11-03T09:00:00Z","end":"2026-11-03T17:00:00Z","seconds":28800,"description":"Development"}]},"#,
            r#"{"date":"2026-11-05","destination":"clockify","status":"planned","entries":["#,
            r#"{"project_id":"p-tracker","start":"2026-11-05T09:00:00Z","end":"2026-11-05T17:00:00Z","seconds":28800,"description":"Development"}]}]"#,
            "\n"
        ),
        "the documented field order; a sub-folder goes to its mapped parent (2026-11-03)"
    );
    assert!(setup.fake.requests().is_empty(), "a dry run makes no request");

    let table = String::from_utf8(
        setup
            .world
            .cmd()
            .args(["--config", config.to_str().unwrap(), "sync", "--dry-run", NOW])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // Only the days with entries; the weekend, the day without sessions and today in one line, worded
    // as the real run's summary.
    assert_eq!(
        table,
        "2026-11-02 Mon  planned  8:00\n\
         \x20   09:00-13:48   4:48   60.0%  /w/shop -> p-shop\n\
         \x20   13:48-15:24   1:36   20.0%  Other -> p-other\n\
         \x20   15:24-17:00   1:36   20.0%  /w/tracker -> p-tracker\n\
         2026-11-03 Tue  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/shop -> p-shop\n\
         2026-11-05 Thu  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/tracker -> p-tracker\n\
         \n\
         Clockify: 3 day(s) to sync, 5 entries\n\
         skipped: 0 already synced, 1 not work days, 2 without sessions, 1 today or later\n\
         (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n"
    );
}

#[test]
fn json_after_a_real_run_carries_clockify_ids() {
    let setup = Setup::new();
    setup.session("a", "/w/shop", "2026-11-06T09:00:00Z", 30);
    let days: Value = serde_json::from_str(&setup.sync_ok(&["--json", "--since", "2026-11-06"])).unwrap();
    let id = setup.fake.entries()[0].id.clone();
    assert_eq!(
        days,
        json!([{"date":"2026-11-06","destination":"clockify","status":"synced","entries":[
            {"project_id":"p-shop","start":"2026-11-06T09:00:00Z","end":"2026-11-06T17:00:00Z","seconds":28800,"description":"Development","clockify_entry_id":id}]}])
    );
}

#[test]
fn crash_after_a_stored_post_adopts_instead_of_posting_again() {
    let setup = Setup::new();
    setup.week();
    // The second POST is stored, then the answer never comes: the process is killed while it waits.
    setup.fake.fail_next("POST", Fault::Slow { delay_ms: 0 });
    setup.fake.fail_next("POST", Fault::StoreThenStall { stall_ms: 20_000 });
    let mut child = setup.spawn_sync();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while setup.fake.entries().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the second POST never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(setup.fake.entries().len(), 2);

    let output = setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week(), "no duplicate, nothing lost");
    assert!(output.contains("3 entries posted, 1 adopted"), "{output}");
    // The one extra cost of the crash: GET /user and one listing of the day in doubt.
    assert_eq!(setup.count("GET"), 2);
}

#[test]
fn lost_answer_within_a_run_is_checked_before_posting_again() {
    let setup = Setup::new();
    setup.week();
    setup.fake.fail_next("POST", Fault::StoreThenDrop);
    let output = setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
    assert!(output.contains("4 entries posted, 1 adopted"), "{output}");
}

#[test]
fn server_errors_and_short_rate_limits_mid_run_are_survived() {
    let setup = Setup::new();
    setup.week();
    setup.fake.fail_next("POST", Fault::Slow { delay_ms: 200 });
    setup.fake.fail_next("POST", Fault::Status(500));
    setup.fake.fail_next("POST", Fault::TooManyRequests { retry_after_secs: 1 });
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
}

#[test]
fn spent_hourly_quota_stops_cleanly_and_resumes_later() {
    let setup = Setup::new();
    setup.week();
    setup.fake.fail_next("POST", Fault::Slow { delay_ms: 0 });
    setup.fake.fail_next("POST", Fault::TooManyRequests { retry_after_secs: 3000 });
    let output = setup.sync(&[]);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("Clockify's request quota is spent"), "{message}");
    assert!(message.contains("4 entries remain"), "{message}");
    assert!(message.contains("in about 50 minutes"), "{message}");
    assert_eq!(setup.fake.entries().len(), 1);
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
    assert_eq!(setup.count("GET"), 0, "a refused POST left nothing in doubt");
}

#[test]
fn invalid_key_is_refused_without_showing_it() {
    let setup = Setup::new();
    setup.week();
    let config = setup.world.dir.path().join("config.toml");
    let output = setup
        .world
        .cmd()
        .env("CLOCKIFY_API_KEY", "wrong-key-abcdef")
        .args(["--config", config.to_str().unwrap(), "sync", NOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stdout.clone()).unwrap(),
        "Clockify: synced 0 day(s): 0 entries posted, 0 adopted (1 requests); stopped before the end (see below)\n"
    );
    assert_eq!(
        String::from_utf8(output.stderr.clone()).unwrap(),
        "claude-tracker: error: Clockify: sync stopped at 2026-11-02 `p-shop` (/w/shop): Clockify: POST \
         /workspaces/ws-1/time-entries was refused with HTTP 401: Api key does not exist (fake). the API key was \
         refused: check it (Clockify: Profile settings > API) and store it again with `claude-tracker setup`; a \
         key of a regional or company account needs that region's `[clockify] base_url`. Earlier days are \
         complete; 5 entries remain: fix this and run `claude-tracker sync` again\n"
    );
    assert!(!text(&output).contains("wrong-key-abcdef"), "the key must never be printed");
    assert!(setup.fake.entries().is_empty());
}

#[test]
fn no_key_anywhere_says_how_to_provide_one() {
    let setup = Setup::new();
    setup.week();
    let config = setup.world.dir.path().join("config.toml");
    let output = setup
        .world
        .cmd()
        .env("CLAUDE_TRACKER_SECRETS_FILE", setup.world.dir.path().join("none.json"))
        .args(["--config", config.to_str().unwrap(), "sync", NOW])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("no API key: set $CLOCKIFY_API_KEY or run `claude-tracker setup`"),
        "{}",
        text(&output)
    );
}

#[test]
fn unknown_project_stops_at_that_day_and_the_next_run_carries_on() {
    let setup = Setup::new();
    setup.week();
    let world = &setup.world;
    world.config(&config(&setup.fake, "").replace("\"p-tracker\"", "\"p-gone\""));
    let output = setup.sync(&[]);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("sync stopped at 2026-11-02 `p-gone` (/w/tracker)"), "{message}");
    assert!(message.contains("HTTP 400: Project doesn't belong to Workspace"), "{message}");
    assert!(message.contains("claude-tracker clockify projects"), "{message}");
    assert_eq!(setup.fake.entries().len(), 1, "entries before the failing one are kept");
    world.config(&config(&setup.fake, ""));
    setup.sync_ok(&[]);
    // Monday keeps the plan it was started with (tracker stood second, as p-gone sorted); the corrected
    // id is used for the entry that was refused.
    let mut expected = expected_week();
    expected[1] = entry("p-tracker", "2026-11-02T13:48:00Z", "2026-11-02T15:24:00Z");
    expected[2] = entry("p-other", "2026-11-02T15:24:00Z", "2026-11-02T17:00:00Z");
    assert_eq!(setup.posted(), expected);
}

#[test]
fn a_day_started_under_one_plan_is_finished_under_it() {
    let setup = Setup::new();
    setup.week();
    setup.fake.fail_next("POST", Fault::Slow { delay_ms: 0 });
    setup.fake.fail_next("POST", Fault::TooManyRequests { retry_after_secs: 3000 });
    assert!(!setup.sync(&[]).status.success());
    // Between the runs the work day moves: Monday, already begun, cannot move (its first entry is out).
    setup.world.config(&config(&setup.fake, "work_day_start = \"08:00\"\nwork_day_end = \"16:00\""));
    setup.sync_ok(&[]);
    let posted = setup.posted();
    assert_eq!(posted[..3].to_vec(), expected_week()[..3].to_vec(), "no overlap, no gap on Monday");
    assert_eq!(posted[3], entry("p-shop", "2026-11-03T08:00:00Z", "2026-11-03T16:00:00Z"));
}

#[test]
fn a_day_that_cannot_be_posted_whole_is_not_begun() {
    let setup = Setup::new();
    setup.week();
    setup.world.config(&config(&setup.fake, "").replace("other_project_id = \"p-other\"\n", ""));
    let output = setup.sync(&[]);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("no Other project"), "{message}");
    assert!(
        message.contains("set `[clockify] other_project_id` (`claude-tracker clockify projects`"),
        "{message}"
    );
    assert!(setup.fake.entries().is_empty(), "nothing of Monday went out");
    setup.world.config(&config(&setup.fake, ""));
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
}

#[test]
fn config_change_applies_to_days_not_yet_synced() {
    let setup = Setup::new();
    setup.week();
    setup.sync_ok(&["--until", "2026-11-02"]);
    setup.world.config(&config(&setup.fake, "work_day_start = \"08:00\"\nwork_day_end = \"12:00\""));
    setup.sync_ok(&[]);
    let posted = setup.posted();
    assert_eq!(
        posted[0],
        entry("p-shop", "2026-11-02T09:00:00Z", "2026-11-02T13:48:00Z"),
        "synced days stay"
    );
    assert_eq!(posted[3], entry("p-shop", "2026-11-03T08:00:00Z", "2026-11-03T12:00:00Z"));
    assert_eq!(posted[4], entry("p-tracker", "2026-11-05T08:00:00Z", "2026-11-05T12:00:00Z"));
}

#[test]
fn reconcile_adopts_entries_another_machine_posted() {
    let setup = Setup::new();
    setup.week();
    setup.fake.insert_entry(Entry {
        id: "aaaaaaaaaaaaaaaaaaaaaaaa".into(),
        workspace_id: WS.into(),
        user_id: fake_clockify::USER_ID.into(),
        project_id: Some("p-shop".into()),
        start: "2026-11-02T09:00:00Z".into(),
        end: "2026-11-02T13:48:00Z".into(),
        description: "Development".into(),
        billable: false,
        tag_ids: Vec::new(),
    });
    // Enough foreign entries that the listing takes two pages.
    for minute in 0..250 {
        setup.fake.insert_entry(Entry {
            id: format!("{minute:024x}"),
            workspace_id: WS.into(),
            user_id: fake_clockify::USER_ID.into(),
            project_id: Some("p-meetings".into()),
            start: format!("2026-11-03T0{}:{:02}:00Z", minute / 60, minute % 60),
            end: format!("2026-11-03T0{}:{:02}:30Z", minute / 60, minute % 60),
            description: "Standup".into(),
            billable: false,
            tag_ids: Vec::new(),
        });
    }
    // The other machine saw other transcripts: its Thursday entry has other times, but the same project.
    setup.fake.insert_entry(Entry {
        id: "bbbbbbbbbbbbbbbbbbbbbbbb".into(),
        workspace_id: WS.into(),
        user_id: fake_clockify::USER_ID.into(),
        project_id: Some("p-tracker".into()),
        start: "2026-11-05T09:30:00Z".into(),
        end: "2026-11-05T16:30:00Z".into(),
        description: "Development".into(),
        billable: false,
        tag_ids: Vec::new(),
    });
    let output = setup.sync_ok(&["--reconcile"]);
    // Monday and Thursday were posted only in part by the other machine (4.8 h and 7 h of the 8): each of
    // its entries is adopted for its project, with its own times, and the rest of the day is ours. (A day
    // posted whole is adopted whole: `trust::reconcile_keeps_a_day_another_machine_posted_whole…`.)
    let mut expected = expected_week();
    expected[4] = entry("p-tracker", "2026-11-05T09:30:00Z", "2026-11-05T16:30:00Z");
    let ours: Vec<_> = setup.posted().into_iter().filter(|e| e.0 != "p-meetings").collect();
    assert_eq!(ours, expected);
    assert_eq!(
        output,
        "2026-11-02 clockify synced: 2 posted, 1 adopted\n2026-11-03 clockify synced: 1 posted, 0 adopted\n\
         2026-11-05 clockify synced: 0 posted, 1 adopted\nClockify: synced 3 day(s): 3 entries posted, 2 \
         adopted (6 requests)\nskipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n"
    );
    let conn = rusqlite::Connection::open(setup.world.db()).unwrap();
    let rows: Vec<(String, String, String, String)> = conn
        .prepare("SELECT entry_key, remote_id, start_utc, end_utc FROM ledger WHERE adopted = 1 ORDER BY entry_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let row = |key: &str, id: &str, start: &str, end: &str| {
        (key.to_string(), id.to_string(), start.to_string(), end.to_string())
    };
    assert_eq!(
        rows,
        vec![
            row(
                "day:2026-11-02:p-shop",
                "aaaaaaaaaaaaaaaaaaaaaaaa",
                "2026-11-02T09:00:00Z",
                "2026-11-02T13:48:00Z"
            ),
            row(
                "day:2026-11-05:p-tracker",
                "bbbbbbbbbbbbbbbbbbbbbbbb",
                "2026-11-05T09:30:00Z",
                "2026-11-05T16:30:00Z"
            ),
        ],
        "adopted entries are recorded with their own times"
    );
    let listings = setup
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/time-entries") && r.method == "GET")
        .count();
    assert_eq!(listings, 2, "one listing for the whole span, two pages");
}

#[test]
fn dst_day_and_midnight_session_follow_local_days() {
    let setup = Setup::new();
    setup
        .world
        .config(&config(&setup.fake, "").replace("timezone = \"UTC\"", "timezone = \"Europe/Berlin\""));
    // Sunday 2026-10-25 ends summer time; Monday 2026-10-26 is a normal day. A session from 23:00 to
    // 01:00 Berlin time (22:00-00:00 UTC in winter) on Monday night gives Monday one hour, Tuesday one.
    setup.session("mon", "/w/shop", "2026-10-26T08:00:00Z", 60);
    setup.session("late", "/w/tracker", "2026-10-26T22:00:00Z", 120);
    setup.sync_ok(&["--since", "2026-10-26", "--until", "2026-10-27"]);
    assert_eq!(
        setup.posted(),
        vec![
            entry("p-shop", "2026-10-26T08:00:00Z", "2026-10-26T12:00:00Z"),
            entry("p-tracker", "2026-10-26T12:00:00Z", "2026-10-26T16:00:00Z"),
            entry("p-tracker", "2026-10-27T08:00:00Z", "2026-10-27T16:00:00Z"),
        ]
    );
}

#[test]
fn a_second_sync_while_one_runs_exits_at_once() {
    let setup = Setup::new();
    setup.week();
    setup.fake.fail_next("POST", Fault::Slow { delay_ms: 2_000 });
    let mut first = setup.spawn_sync();
    while setup.fake.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = std::time::Instant::now();
    let second = setup.sync(&[]);
    assert!(started.elapsed() < Duration::from_secs(2), "the second sync must not wait");
    assert!(!second.status.success());
    assert!(text(&second).contains("another `claude-tracker sync` is running"), "{}", text(&second));
    assert!(first.wait().unwrap().success());
    assert_eq!(setup.posted(), expected_week());
}

#[test]
fn setup_stores_the_key_and_lists_workspaces_and_projects() {
    let setup = Setup::new();
    setup.week();
    let config = setup.world.dir.path().join("config.toml");
    let secrets = setup.world.secrets_file();
    let run = |args: &[&str], stdin: &str| {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend_from_slice(args);
        setup.world.cmd().args(all).write_stdin(stdin).output().unwrap()
    };
    let signed_in = run(&["setup"], &format!("{}\n", fake_clockify::API_KEY));
    assert!(signed_in.status.success(), "{}", text(&signed_in));
    assert_eq!(
        String::from_utf8(signed_in.stdout.clone()).unwrap(),
        format!(
            "Signed in to Clockify as {} <{}>; the key is stored in the secrets file {}.\n\n\
             Your workspaces (put one in `[clockify] workspace_id`):\n  {WS}  {}  (default)\n\n\
             Next: `claude-tracker clockify projects` lists the projects to map.\n",
            fake_clockify::USER_NAME,
            fake_clockify::USER_EMAIL,
            secrets.display(),
            fake_clockify::WORKSPACE_NAME
        )
    );
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    assert_eq!(stored, json!({ "clockify_api_key": fake_clockify::API_KEY }));

    // The stored key is used without any environment variable, by every command that talks to Clockify.
    let projects = run(&["clockify", "projects"], "");
    assert!(projects.status.success(), "{}", text(&projects));
    assert_eq!(
        String::from_utf8(projects.stdout.clone()).unwrap(),
        "id         name     client\np-shop     Shop     Client\np-tracker  Tracker  Client\np-other    Other    Client\n"
    );
    let synced = run(&["--verbose", "sync", NOW], "");
    assert!(synced.status.success(), "{}", text(&synced));
    assert_eq!(setup.posted(), expected_week());
    let refused = run(&["setup"], "not-the-key\n");
    assert!(!refused.status.success());
    assert_eq!(
        String::from_utf8(refused.stderr.clone()).unwrap(),
        "claude-tracker: error: the key was not accepted: Clockify: GET /user was refused with HTTP 401: \
         Api key does not exist (fake). the API key was refused: check it (Clockify: Profile settings > API) and \
         store it again with `claude-tracker setup`; a key of a regional or company account needs that \
         region's `[clockify] base_url`\n"
    );

    // Runs that had the key, successful or not: it is in none of their output.
    for output in [&signed_in, &projects, &synced, &refused] {
        assert!(!text(output).contains(fake_clockify::API_KEY), "the key is never printed: {}", text(output));
    }
    assert!(!text(&refused).contains("not-the-key"), "nor a refused one");
}

#[cfg(unix)]
#[test]
fn config_holding_a_key_readable_by_others_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let setup = Setup::new();
    let text_config = format!("{}api_key = \"{}\"\n", config(&setup.fake, ""), fake_clockify::API_KEY);
    let path = setup.world.config(&text_config);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = setup.world.cmd().args(["--config", path.to_str().unwrap(), "report"]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("holds an API key and other users can read it"), "{stderr}");
    assert!(!stderr.contains(fake_clockify::API_KEY));
}

#[test]
fn a_closed_stdout_never_leaves_days_unsynced() {
    let setup = Setup::new();
    setup.week();
    let config = setup.world.dir.path().join("config.toml");
    let mut child = setup
        .world
        .std_cmd()
        .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
        .args(["--config", config.to_str().unwrap(), "sync", NOW])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // `claude-tracker sync | head -0`: every line written meets a closed pipe
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "a closed pipe is not a failure, and never a panic");
    assert_eq!(setup.posted(), expected_week(), "every day synced all the same");
    let again = setup.sync_ok(&[]);
    assert_eq!(
        again,
        "Clockify: synced 0 day(s): 0 entries posted, 0 adopted (0 requests)\n\
         skipped: 3 already synced, 0 not work days, 2 without sessions, 1 today or later\n"
    );
}

#[test]
fn clockify_takes_tag_ids_and_a_missing_tag_stops_the_day_unless_created() {
    let setup = Setup::new();
    setup.week();
    let rules =
        "[[rules.auto_tag]]\nname = \"Shop client\"\nmatch = { cwd = \"/w/shop*\" }\ntags = [\"acme\"]\n";
    setup.world.config(&format!("{}{rules}", config(&setup.fake, "")));
    let refused = setup.sync(&[]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(refused.stderr).unwrap(),
        "claude-tracker: error: Clockify: sync stopped at 2026-11-02 `p-shop` (/w/shop): Clockify: an entry tagged \
         `acme` was not sent: `acme` is not a tag of the Clockify workspace. create the tag `acme` in Clockify, or \
         set `[clockify] create_tags = true` to let claude-tracker create it. Earlier days are complete; 5 entries \
         remain: fix this and run `claude-tracker sync` again\n"
    );
    assert!(setup.fake.entries().is_empty(), "a day that cannot be posted whole is not begun");

    setup.world.config(&format!("{}create_tags = true\n{rules}", config(&setup.fake, "")));
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
    let acme = setup.fake.tags(WS);
    assert_eq!(acme.iter().map(|(_, name)| name.as_str()).collect::<Vec<_>>(), vec!["acme"]);
    let tagged: Vec<(String, Vec<String>)> =
        setup.fake.entries().into_iter().map(|e| (e.project_id.unwrap_or_default(), e.tag_ids)).collect();
    let id = vec![acme[0].0.clone()];
    assert_eq!(
        tagged,
        vec![
            ("p-shop".to_string(), id.clone()),
            ("p-other".to_string(), Vec::new()),
            ("p-tracker".to_string(), Vec::new()),
            ("p-shop".to_string(), id),
            ("p-tracker".to_string(), Vec::new()),
        ]
    );
}

/// `$CLOCKIFY_TOKEN` (the name seed 003 uses) holds the key too, read after `$CLOCKIFY_API_KEY` as
/// `$TOGGL_TOKEN` is after `$TOGGL_API_TOKEN`.
#[test]
fn the_key_is_read_from_clockify_token_after_clockify_api_key() {
    for (variables, name) in [
        (vec![("CLOCKIFY_TOKEN", fake_clockify::API_KEY)], "the token alone"),
        (vec![("CLOCKIFY_API_KEY", fake_clockify::API_KEY), ("CLOCKIFY_TOKEN", "a wrong key")], "both"),
    ] {
        // A world each: nothing cached from the other run.
        let setup = Setup::new();
        let mut command = setup.world.cmd();
        for (variable, value) in variables {
            command.env(variable, value);
        }
        let output = command
            .arg("--config")
            .arg(setup.world.dir.path().join("config.toml"))
            .args(["clockify", "projects"])
            .output()
            .unwrap();
        assert_eq!(
            (
                String::from_utf8(output.stdout).unwrap(),
                String::from_utf8(output.stderr).unwrap(),
                output.status.code()
            ),
            (
                "id         name     client\np-shop     Shop     Client\np-tracker  Tracker  Client\n\
                 p-other    Other    Client\n"
                    .to_string(),
                String::new(),
                Some(0)
            ),
            "{name}"
        );
    }
}

/// The dry run lists what the real run sends, and words what it leaves alone as the real run does: the
/// billable flag beside each entry, then the same `skipped:` line.
#[test]
fn the_dry_run_lists_the_billable_flag_sent_and_the_real_runs_skipped_line() {
    let setup = Setup::new();
    setup.world.config(&(config(&setup.fake, "") + "billable = true\n"));
    setup.week();
    assert_eq!(
        setup.sync_ok(&["--dry-run"]),
        "2026-11-02 Mon  planned  8:00\n\
         \x20   09:00-13:48   4:48   60.0%  /w/shop -> p-shop  billable: yes\n\
         \x20   13:48-15:24   1:36   20.0%  Other -> p-other  billable: yes\n\
         \x20   15:24-17:00   1:36   20.0%  /w/tracker -> p-tracker  billable: yes\n\
         2026-11-03 Tue  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/shop -> p-shop  billable: yes\n\
         2026-11-05 Thu  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/tracker -> p-tracker  billable: yes\n\
         \n\
         Clockify: 3 day(s) to sync, 5 entries\n\
         skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
         (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n"
    );
    assert!(setup.fake.requests().is_empty(), "a dry run makes no request");
    let output = setup.sync_ok(&[]);
    assert!(
        output.ends_with(
            "Clockify: synced 3 day(s): 5 entries posted, 0 adopted (5 requests)\n\
             skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n"
        ),
        "{output}"
    );
    assert!(setup.fake.entries().iter().all(|e| e.billable), "every entry was sent billable");
    // After the run, the dry run lists nothing but what it leaves alone.
    assert_eq!(
        setup.sync_ok(&["--dry-run"]),
        "Clockify: 0 day(s) to sync, 0 entries\n\
         skipped: 3 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
         (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n"
    );
}

/// Once `clockify projects` has listed the workspace, the dry run names each id's project from that
/// cache, without a request.
#[test]
fn the_dry_run_names_projects_listed_before_without_a_request() {
    let setup = Setup::new();
    setup.session("mon", "/w/shop", "2026-11-02T08:00:00Z", 60);
    setup.session("mon-b", "/w/misc", "2026-11-02T10:00:00Z", 60);
    let config = setup.world.dir.path().join("config.toml");
    let listed = setup
        .world
        .cmd()
        .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
        .args(["--config", config.to_str().unwrap(), "clockify", "projects", NOW])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", text(&listed));
    let requests = setup.fake.requests().len();
    let output = setup.sync(&["--dry-run", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
            output.status.code()
        ),
        (
            "2026-11-02 Mon  planned  8:00\n\
             \x20   09:00-13:00   4:00   50.0%  Other -> p-other (Other)\n\
             \x20   13:00-17:00   4:00   50.0%  /w/shop -> p-shop (Shop)\n\
             \n\
             Clockify: 1 day(s) to sync, 2 entries\n\
             skipped: 0 already synced, 0 not work days, 0 without sessions, 0 today or later\n\
             (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
    // The JSON dry run lists the same: the name beside the id, the entry as sent.
    let output = setup.sync(&["--dry-run", "--json", "--since", "2026-11-02", "--until", "2026-11-02"]);
    assert_eq!(
        (String::from_utf8_lossy(&output.stdout).into_owned(), output.status.code()),
        (
            concat!(
                r#"[{"date":"2026-11-02","destination":"clockify","status":"planned","entries":["#,
                r#"{"project_id":"p-other","start":"2026-11-02T09:00:00Z","end":"2026-11-02T13:00:00Z","seconds":14400,"project_name":"Other","description":"Development"},"#,
                r#"{"project_id":"p-shop","start":"2026-11-02T13:00:00Z","end":"2026-11-02T17:00:00Z","seconds":14400,"project_name":"Shop","description":"Development"}]}]"#,
                "\n"
            )
            .to_string(),
            Some(0)
        )
    );
    assert_eq!(setup.fake.requests().len(), requests, "a dry run makes no request");
}
