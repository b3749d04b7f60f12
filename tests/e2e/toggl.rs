//! Toggl Track as a destination, alone and beside Clockify: the real binary against both fakes.

use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::fake_clockify::{self, FakeClockify};
use crate::fake_toggl::{self, FakeToggl, Fault};
use crate::support::World;

/// Saturday 2026-11-07, noon UTC.
const NOW: &str = "--now=2026-11-07T12:00:00Z";

struct Setup {
    world: World,
    toggl: FakeToggl,
    clockify: FakeClockify,
}

fn toggl_section(toggl: &FakeToggl, extra: &str) -> String {
    format!(
        "[toggl]\nbase_url = \"{}\"\nother_project_id = 900\ntags = [\"claude-code\"]\n{extra}\n\
         [toggl.project_mapping]\n\"/w/shop\" = 100\n\"/w/tracker\" = 200\n",
        toggl.base_url()
    )
}

fn clockify_section(clockify: &FakeClockify) -> String {
    format!(
        "[clockify]\nworkspace_id = \"{}\"\nother_project_id = \"p-other\"\nbase_url = \"{}\"\n\
         [clockify.project_mapping]\n\"/w/shop\" = \"p-shop\"\n\"/w/tracker\" = \"p-tracker\"\n",
        fake_clockify::WORKSPACE_ID,
        clockify.base_url()
    )
}

impl Setup {
    /// Both fakes; the config names Toggl only, with `extra` lines in `[toggl]`.
    fn new(extra: &str) -> Setup {
        let toggl = FakeToggl::start();
        toggl.set_min_interval_ms(0);
        for (id, name) in [(100, "Shop"), (200, "Tracker"), (900, "Other")] {
            toggl.add_project(fake_toggl::WORKSPACE_ID, id, name, "Client");
        }
        let clockify = FakeClockify::start();
        for id in ["p-shop", "p-tracker", "p-other"] {
            clockify.add_project(fake_clockify::WORKSPACE_ID, id, id, "Client");
        }
        let world = World::new();
        world.config(&format!("timezone = \"UTC\"\n{}", toggl_section(&toggl, extra)));
        // Monday: shop 3h, tracker 1h, unmapped 1h; Tuesday: shop 1h; Thursday: tracker 2h.
        world.session("mon-a", "/w/shop", "2026-11-02T08:00:00Z", 180);
        world.session("mon-b", "/w/tracker", "2026-11-02T12:00:00Z", 60);
        world.session("mon-c", "/w/misc", "2026-11-02T14:00:00Z", 60);
        world.session("tue-a", "/w/shop", "2026-11-03T09:00:00Z", 60);
        world.session("thu-a", "/w/tracker", "2026-11-05T09:00:00Z", 120);
        Setup { world, toggl, clockify }
    }

    fn with_clockify(self) -> Setup {
        let text = format!(
            "timezone = \"UTC\"\n{}{}",
            clockify_section(&self.clockify),
            toggl_section(&self.toggl, "workspace_id = 777")
        );
        self.world.config(&text);
        self
    }

    fn run(&self, args: &[&str], token: &str) -> Output {
        self.run_at(args, token, NOW)
    }

    /// As `run`, at another time (`--now=...`).
    fn run_at(&self, args: &[&str], token: &str, now: &str) -> Output {
        let config = self.world.dir.path().join("config.toml");
        self.world
            .cmd()
            .env("TOGGL_API_TOKEN", token)
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .env("CLAUDE_TRACKER_BACKOFF_MS", "5")
            .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
            .arg("--config")
            .arg(config)
            .args(args)
            .arg(now)
            .output()
            .unwrap()
    }

    fn sync_ok(&self, args: &[&str]) -> String {
        let mut all = vec!["sync"];
        all.extend_from_slice(args);
        let output = self.run(&all, fake_toggl::API_TOKEN);
        assert!(output.status.success(), "sync failed: {}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Toggl entries as `(project, start, stop)`, by start.
    fn posted(&self) -> Vec<(i64, String, String)> {
        let mut entries: Vec<(i64, String, String)> = self
            .toggl
            .entries()
            .into_iter()
            .map(|e| (e.project_id.unwrap_or_default(), e.start, e.stop))
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        entries
    }

    fn requests(&self, method: &str) -> usize {
        self.toggl.requests().iter().filter(|r| r.method == method).count()
    }
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The week as Toggl answers it (`+00:00` times).
fn expected_week() -> Vec<(i64, String, String)> {
    [
        (100, "2026-11-02T09:00:00Z", "2026-11-02T13:48:00Z"),
        (200, "2026-11-02T13:48:00Z", "2026-11-02T15:24:00Z"),
        (900, "2026-11-02T15:24:00Z", "2026-11-02T17:00:00Z"),
        (100, "2026-11-03T09:00:00Z", "2026-11-03T17:00:00Z"),
        (200, "2026-11-05T09:00:00Z", "2026-11-05T17:00:00Z"),
    ]
    .into_iter()
    .map(|(p, s, e)| (p, s.replace('Z', "+00:00"), e.replace('Z', "+00:00")))
    .collect()
}

#[test]
fn posts_to_toggl_with_one_request_per_entry_and_the_default_workspace_cached() {
    let setup = Setup::new("");
    let output = setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
    assert!(
        output.contains("Toggl Track: synced 3 day(s): 5 entries posted, 0 adopted (6 requests)"),
        "{output}"
    );
    let entry = &setup.toggl.entries()[0];
    assert_eq!(entry.workspace_id, fake_toggl::WORKSPACE_ID, "the profile's default workspace");
    assert_eq!(entry.created_with, "claude-tracker");
    assert_eq!(entry.duration, 4 * 3600 + 48 * 60);
    assert_eq!(entry.tags, vec!["claude-code".to_string()]);
    assert_eq!(entry.description, "Development");
    let paths: Vec<String> = setup.toggl.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[0], "/api/v9/me", "one GET /me, for the default workspace");
    // Another day later: no GET /me again, one request per entry.
    setup.world.session("fri", "/w/shop", "2026-11-06T09:00:00Z", 30);
    let before = setup.toggl.requests().len();
    setup.sync_ok(&[]);
    assert_eq!(setup.toggl.requests().len() - before, 1);
}

#[test]
fn both_destinations_in_one_run_and_side_by_side_in_the_dry_run() {
    let setup = Setup::new("").with_clockify();
    let plan: Value = serde_json::from_str(&setup.sync_ok(&["--dry-run", "--json"])).unwrap();
    let first_two: Vec<(String, String)> = plan.as_array().unwrap()[..2]
        .iter()
        .map(|d| (d["date"].as_str().unwrap().into(), d["destination"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        first_two,
        vec![("2026-11-02".into(), "clockify".into()), ("2026-11-02".into(), "toggl".into())]
    );
    // Toggl's own `tags` are listed as they are sent: first, before the sessions' tags.
    let table = setup.sync_ok(&["--dry-run"]);
    assert_eq!(
        table,
        "2026-11-02 Mon\n\
         \x20 clockify  planned  8:00\n\
         \x20   09:00-13:48   4:48   60.0%  /w/shop -> p-shop\n\
         \x20   13:48-15:24   1:36   20.0%  Other -> p-other\n\
         \x20   15:24-17:00   1:36   20.0%  /w/tracker -> p-tracker\n\
         \x20 toggl     planned  8:00\n\
         \x20   09:00-13:48   4:48   60.0%  /w/shop -> 100  [claude-code]\n\
         \x20   13:48-15:24   1:36   20.0%  /w/tracker -> 200  [claude-code]\n\
         \x20   15:24-17:00   1:36   20.0%  Other -> 900  [claude-code]\n\
         2026-11-03 Tue\n\
         \x20 clockify  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/shop -> p-shop\n\
         \x20 toggl     planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/shop -> 100  [claude-code]\n\
         2026-11-05 Thu\n\
         \x20 clockify  planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/tracker -> p-tracker\n\
         \x20 toggl     planned  8:00\n\
         \x20   09:00-17:00   8:00  100.0%  /w/tracker -> 200  [claude-code]\n\
         \n\
         Clockify: 3 day(s) to sync, 5 entries\n\
         skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
         Toggl Track: 3 day(s) to sync, 5 entries\n\
         skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
         (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n"
    );

    let output = setup.sync_ok(&[]);
    assert!(output.contains("Clockify: synced 3 day(s): 5 entries posted"), "{output}");
    assert!(output.contains("Toggl Track: synced 3 day(s): 5 entries posted"), "{output}");
    assert_eq!(setup.posted(), expected_week());
    assert_eq!(setup.clockify.entries().len(), 5);
    assert_eq!(setup.toggl.requests().len(), 5, "workspace_id configured: no GET /me");

    // `--to` picks one; a day can be complete for one destination and not the other.
    setup.world.session("fri", "/w/shop", "2026-11-06T09:00:00Z", 30);
    let output = setup.sync_ok(&["--to", "toggl"]);
    assert!(!output.contains("Clockify"), "{output}");
    assert_eq!(setup.toggl.entries().len(), 6);
    assert_eq!(setup.clockify.entries().len(), 5);
    let plan: Value = serde_json::from_str(&setup.sync_ok(&["--dry-run", "--json"])).unwrap();
    let friday: Vec<(&str, &str)> = plan
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["date"] == "2026-11-06")
        .map(|d| (d["destination"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    // Toggl's Friday is synced: no entries to list, so only Clockify's is (as in the text listing).
    assert_eq!(friday, vec![("clockify", "planned")]);
}

#[test]
fn one_destination_failing_does_not_stop_the_other() {
    let setup = Setup::new("").with_clockify();
    let output = setup.run(&["sync"], "not-the-token");
    assert!(!output.status.success());
    assert_eq!(
        text(&output),
        "2026-11-02 clockify synced: 3 posted, 0 adopted\n\
         2026-11-03 clockify synced: 1 posted, 0 adopted\n\
         2026-11-05 clockify synced: 1 posted, 0 adopted\n\
         Clockify: synced 3 day(s): 5 entries posted, 0 adopted (5 requests)\n\
         skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
         Toggl Track: synced 0 day(s): 0 entries posted, 0 adopted (1 requests); stopped before the end (see below)\n\
         claude-tracker: error: Toggl Track: sync stopped at 2026-11-02 `100` (/w/shop): Toggl Track: POST \
         /workspaces/777/time_entries was refused with HTTP 403: Incorrect username and/or password. the API token \
         was refused: check it (Toggl: Profile settings > API Token) and store it again with `claude-tracker setup \
         --toggl`, or check `[toggl] workspace_id`. Earlier days are complete; 5 entries remain: fix this and run \
         `claude-tracker sync` again\n",
        "the token is never shown"
    );
    assert_eq!(setup.clockify.entries().len(), 5);
    assert!(setup.toggl.entries().is_empty());
}

#[test]
fn a_spent_quota_stops_before_asking_and_the_next_run_carries_on() {
    let setup = Setup::new("workspace_id = 777");
    setup.toggl.set_quota(3, 30);
    let output = setup.run(&["sync"], fake_toggl::API_TOKEN);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("Toggl Track's request quota is spent"), "{message}");
    assert!(message.contains("2 entries remain"), "{message}");
    assert!(message.contains("run `claude-tracker sync` again after"), "{message}");
    assert_eq!(setup.toggl.entries().len(), 3);
    assert_eq!(setup.toggl.requests().len(), 3, "the quota said 0 left: no request was spent on a 402");

    // The quota is kept in the database: a run before the reset sends nothing at all.
    let early = setup.run(&["sync"], fake_toggl::API_TOKEN);
    assert!(!early.status.success());
    assert_eq!(setup.toggl.requests().len(), 3, "no request before the reset");
    // After the reset (the fake's hour has passed too), the next run carries on.
    setup.toggl.forget_quota_usage();
    let later = setup.run_at(&["sync"], fake_toggl::API_TOKEN, "--now=2026-11-07T13:01:00Z");
    assert!(later.status.success(), "{}", text(&later));
    assert_eq!(setup.posted(), expected_week());
    assert_eq!(setup.requests("GET"), 0, "nothing was in doubt");
}

#[test]
fn a_quota_402_mid_run_is_told_from_a_paid_feature_402() {
    let setup = Setup::new("workspace_id = 777");
    setup.toggl.fail_next("POST", Fault::Slow { delay_ms: 0 });
    setup.toggl.fail_next("POST", Fault::QuotaExhausted { resets_in_secs: 1800 });
    let output = setup.run(&["sync"], fake_toggl::API_TOKEN);
    let message = text(&output);
    assert!(message.contains("quota is spent") && message.contains("in about 30 minutes"), "{message}");
    assert!(message.contains("4 entries remain"), "{message}");

    let paid = Setup::new("workspace_id = 777\nbillable = true");
    paid.toggl.set_billable_is_paid_feature(true);
    let output = paid.run(&["sync"], fake_toggl::API_TOKEN);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("HTTP 402: Billable is a premium feature"), "{message}");
    assert!(message.contains("this needs a paid Toggl plan"), "{message}");
    assert!(!message.contains("quota"), "{message}");
}

#[test]
fn crash_after_a_stored_post_lists_once_and_adopts() {
    let setup = Setup::new("workspace_id = 777");
    setup.toggl.fail_next("POST", Fault::Slow { delay_ms: 0 });
    setup.toggl.fail_next("POST", Fault::StoreThenStall { stall_ms: 20_000 });
    let config = setup.world.dir.path().join("config.toml");
    let mut child = setup
        .world
        .std_cmd()
        .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
        .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
        .args(["--config", config.to_str().unwrap(), "sync", NOW])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while setup.toggl.entries().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the second POST never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();

    let output = setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week(), "no duplicate, nothing lost");
    assert!(output.contains("3 entries posted, 1 adopted"), "{output}");
    let listings: Vec<_> =
        setup.toggl.requests().into_iter().filter(|r| r.path == "/api/v9/me/time_entries").collect();
    assert_eq!(listings.len(), 1);
    assert!(listings[0].query.contains("start_date=2026-11-01"), "{:?}", listings[0]);
}

#[test]
fn paced_at_one_request_per_second_the_bucket_never_says_429() {
    let setup = Setup::new("workspace_id = 777");
    setup.toggl.set_min_interval_ms(1000);
    let config = setup.world.dir.path().join("config.toml");
    let started = std::time::Instant::now();
    let output = setup
        .world
        .cmd()
        .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
        .args(["--config", config.to_str().unwrap(), "sync", "--until", "2026-11-03", NOW])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(started.elapsed() >= Duration::from_secs(3), "4 requests, one a second");
    assert!(setup.toggl.requests().iter().all(|r| r.status != 429));
    assert_eq!(setup.toggl.entries().len(), 4);

    // A 429 all the same (another client on the account): waited out and retried.
    setup.toggl.set_min_interval_ms(0);
    setup.toggl.fail_next("POST", Fault::TooManyRequests);
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week());
}

#[test]
fn setup_toggl_stores_the_token_and_projects_are_cached() {
    let setup = Setup::new("");
    let secrets = setup.world.dir.path().join("secrets.json");
    let config = setup.world.dir.path().join("config.toml");
    let output = setup
        .world
        .cmd()
        .env("CLAUDE_TRACKER_SECRETS_FILE", &secrets)
        .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
        .args(["--config", config.to_str().unwrap(), "setup", "--toggl"])
        .write_stdin(format!("{}\n", fake_toggl::API_TOKEN))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("Signed in to Toggl Track as Fake User"), "{stdout}");
    assert!(stdout.contains("777  Acme  (default)"), "{stdout}");
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&secrets).unwrap()).unwrap();
    assert_eq!(stored["toggl_api_token"], fake_toggl::API_TOKEN);

    let projects = || {
        setup
            .world
            .cmd()
            .env("CLAUDE_TRACKER_SECRETS_FILE", &secrets)
            .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
            .args(["--config", config.to_str().unwrap(), "toggl", "projects", NOW])
            .output()
            .unwrap()
    };
    let first = projects();
    assert!(first.status.success(), "{}", text(&first));
    let listing = String::from_utf8(first.stdout).unwrap();
    assert!(
        listing.lines().any(|l| l.starts_with("100") && l.contains("Shop") && l.ends_with("Client")),
        "{listing}"
    );
    let before = setup.toggl.requests().len();
    let second = projects();
    assert_eq!(String::from_utf8(second.stdout).unwrap(), listing);
    assert_eq!(setup.toggl.requests().len(), before, "answered from the database");
}

#[test]
fn unmapped_time_without_an_other_project_names_the_toggl_setting() {
    let setup = Setup::new("workspace_id = 777");
    let config = std::fs::read_to_string(setup.world.dir.path().join("config.toml")).unwrap();
    setup.world.config(&config.replace("other_project_id = 900\n", ""));
    let dry_run = String::from_utf8(setup.run(&["sync", "--dry-run"], fake_toggl::API_TOKEN).stdout).unwrap();
    assert!(dry_run.contains("Other -> (set `[toggl] other_project_id`)"), "{dry_run}");
    let output = setup.run(&["sync"], fake_toggl::API_TOKEN);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("set `[toggl] other_project_id` (`claude-tracker toggl projects`"), "{message}");
    assert!(setup.toggl.entries().iter().all(|e| !e.start.starts_with("2026-11-02")), "Monday not begun");
}

#[test]
fn a_run_of_plain_429s_is_waited_out_then_told_apart_from_a_spent_quota() {
    let setup = Setup::new("workspace_id = 777");
    for _ in 0..4 {
        setup.toggl.fail_next("POST", Fault::TooManyRequests);
    }
    let output = setup.run(&["sync"], fake_toggl::API_TOKEN);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "claude-tracker: error: Toggl Track: Toggl Track kept answering 429 Too Many Requests (at 2026-11-02 \
         `100` (/w/shop), 4 attempts); 5 entries remain. Nothing is lost: run `claude-tracker sync` again in a \
         minute\n"
    );
    assert_eq!(setup.requests("POST"), 4, "each 429 waited out (1 s without Retry-After), then a stop");
    assert!(setup.toggl.entries().is_empty());
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week(), "the next run carries on");
}

#[test]
fn rule_tags_and_billable_reach_toggl_entries_after_the_destinations_own() {
    let setup = Setup::new("workspace_id = 777");
    let rules = "[[rules.auto_tag]]\nname = \"Shop client\"\nmatch = { cwd = \"/w/shop*\" }\n\
                 tags = [\"acme\", \"billable\"]\nbillable = true\n";
    setup
        .world
        .config(&format!("timezone = \"UTC\"\n{rules}{}", toggl_section(&setup.toggl, "workspace_id = 777")));
    setup.sync_ok(&[]);
    assert_eq!(setup.posted(), expected_week(), "one tag set per project here: the same split");
    let tags: Vec<(i64, Vec<String>)> =
        setup.toggl.entries().into_iter().map(|e| (e.project_id.unwrap_or_default(), e.tags)).collect();
    let shop = vec!["claude-code".to_string(), "acme".to_string(), "billable".to_string()];
    let plain = vec!["claude-code".to_string()];
    assert_eq!(
        tags,
        vec![(100, shop.clone()), (200, plain.clone()), (900, plain.clone()), (100, shop), (200, plain)]
    );
    let billable: Vec<bool> = setup.toggl.entries().into_iter().map(|e| e.billable).collect();
    assert_eq!(billable, vec![true, false, false, true, false], "the rule's `billable` goes on its entries");
}
