//! Sessions mode (`push`, and `sync` for a sessions destination): the real binary against both fakes.
//! Every scenario runs once per service; entries are compared whole.

use std::process::Output;
use std::time::Duration;

use crate::fake_clockify::{self, FakeClockify};
use crate::fake_toggl::{self, FakeToggl};
use crate::support::{Transcript, World};

/// Monday 2026-11-02, 12:00 UTC: the morning's work is closed.
const NOON: &str = "--now=2026-11-02T12:00:00Z";

/// One of the two fakes.
pub(crate) enum Fake {
    Toggl(FakeToggl),
    Clockify(FakeClockify),
}

/// An entry as both services are compared: (project, "MM-DDTHH:MM" start, end, description, tags).
pub(crate) type Posted = (String, String, String, String, Vec<String>);

pub(crate) struct Setup {
    pub(crate) world: World,
    pub(crate) fake: Fake,
}

impl Setup {
    /// Both fakes with the projects, in `mode`, no transcripts yet.
    pub(crate) fn bare(mode: &str) -> [Setup; 2] {
        let toggl = FakeToggl::start();
        toggl.set_min_interval_ms(0);
        for (id, name) in [(100, "Shop"), (200, "Tracker"), (900, "Other")] {
            toggl.add_project(fake_toggl::WORKSPACE_ID, id, name, "Client");
        }
        let clockify = FakeClockify::start();
        for id in ["p-shop", "p-tracker", "p-other"] {
            clockify.add_project(fake_clockify::WORKSPACE_ID, id, id, "Client");
        }
        [Fake::Toggl(toggl), Fake::Clockify(clockify)].map(|fake| {
            let setup = Setup { world: World::new(), fake };
            setup.configure(&format!("mode = \"{mode}\""), "");
            setup
        })
    }

    fn toggl() -> Setup {
        let [toggl, _] = Setup::both();
        toggl
    }

    /// Shop from 09:00 to 11:00, tracker from 09:30 to 10:00, in sessions mode.
    fn both() -> [Setup; 2] {
        Setup::bare("sessions").map(|setup| {
            setup.world.session("shop", "/w/shop", "2026-11-02T09:00:00Z", 120);
            setup.world.session("trk", "/w/tracker", "2026-11-02T09:30:00Z", 30);
            setup
        })
    }

    /// Writes the config: `section` lines go into the service's table, `rules` after it.
    pub(crate) fn configure(&self, section: &str, rules: &str) {
        let service = match &self.fake {
            Fake::Toggl(toggl) => format!(
                "[toggl]\nbase_url = \"{}\"\nworkspace_id = {}\nother_project_id = 900\n\
                 description = \"{{project}} ({{branch}})\"\n{section}\n\
                 [toggl.project_mapping]\n\"/w/shop\" = 100\n\"/w/tracker\" = 200\n",
                toggl.base_url(),
                fake_toggl::WORKSPACE_ID
            ),
            Fake::Clockify(clockify) => format!(
                "[clockify]\nworkspace_id = \"{}\"\nother_project_id = \"p-other\"\nbase_url = \"{}\"\n\
                 create_tags = true\ndescription = \"{{project}} ({{branch}})\"\n{section}\n\
                 [clockify.project_mapping]\n\"/w/shop\" = \"p-shop\"\n\"/w/tracker\" = \"p-tracker\"\n",
                fake_clockify::WORKSPACE_ID,
                clockify.base_url()
            ),
        };
        self.world.config(&format!("timezone = \"UTC\"\n{service}{rules}"));
    }

    pub(crate) fn command(&self) -> std::process::Command {
        let mut command = self.world.std_cmd();
        command
            .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
            .env("CLOCKIFY_API_KEY", fake_clockify::API_KEY)
            .env("CLAUDE_TRACKER_BACKOFF_MS", "5")
            .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
            .arg("--config")
            .arg(self.world.dir.path().join("config.toml"));
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .args(args)
            .output()
            .unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?} failed: {}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// The service's project id for a short name.
    pub(crate) fn project(&self, name: &str) -> String {
        match (&self.fake, name) {
            (Fake::Toggl(_), "shop") => "100".into(),
            (Fake::Toggl(_), "tracker") => "200".into(),
            (Fake::Toggl(_), _) => "900".into(),
            (Fake::Clockify(_), name) => format!("p-{name}"),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self.fake {
            Fake::Toggl(_) => "Toggl Track",
            Fake::Clockify(_) => "Clockify",
        }
    }

    /// Entries the service holds, by start.
    pub(crate) fn posted(&self) -> Vec<Posted> {
        let short = |at: &str| at.get(5..16).unwrap_or_default().to_string();
        let mut entries: Vec<Posted> = match &self.fake {
            Fake::Toggl(toggl) => toggl
                .entries()
                .into_iter()
                .map(|e| {
                    let project = e.project_id.map(|p| p.to_string()).unwrap_or_default();
                    (project, short(&e.start), short(&e.stop), e.description, e.tags)
                })
                .collect(),
            Fake::Clockify(clockify) => {
                let names = clockify.tags(fake_clockify::WORKSPACE_ID);
                clockify
                    .entries()
                    .into_iter()
                    .map(|e| {
                        let tags = e
                            .tag_ids
                            .iter()
                            .map(|id| {
                                names
                                    .iter()
                                    .find(|(i, _)| i == id)
                                    .map(|(_, n)| n.clone())
                                    .unwrap_or_default()
                            })
                            .collect();
                        (
                            e.project_id.unwrap_or_default(),
                            short(&e.start),
                            short(&e.end),
                            e.description,
                            tags,
                        )
                    })
                    .collect()
            }
        };
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        entries
    }

    /// Requests of one method on time entries (answered or not).
    pub(crate) fn count(&self, method: &str) -> usize {
        let entries = |path: &str| path.contains("time-entries") || path.contains("time_entries");
        match &self.fake {
            Fake::Toggl(toggl) => {
                toggl.requests().iter().filter(|r| r.method == method && entries(&r.path)).count()
            }
            Fake::Clockify(clockify) => {
                clockify.requests().iter().filter(|r| r.method == method && entries(&r.path)).count()
            }
        }
    }

    /// Sent, answered or not, of the writing kinds: (POST, PUT, DELETE).
    pub(crate) fn writes(&self) -> (usize, usize, usize) {
        (self.count("POST"), self.count("PUT"), self.count("DELETE"))
    }

    /// The whole output of a push of Monday: its progress line, then the summary.
    fn pushed(&self, [new, updated, deleted, adopted]: [usize; 4], requests: usize, tail: &str) -> String {
        let key = match self.fake {
            Fake::Toggl(_) => "toggl",
            Fake::Clockify(_) => "clockify",
        };
        format!(
            "2026-11-02 {key} pushed: {new} posted, {updated} updated, {deleted} deleted, {adopted} adopted\n\
             {}: pushed {new} new, {updated} updated, {deleted} deleted, {adopted} adopted ({requests} requests); \
             {tail}\n",
            self.name()
        )
    }

    pub(crate) fn entry(&self, project: &str, start: &str, end: &str, description: &str) -> Posted {
        (
            self.project(project),
            format!("11-02T{start}"),
            format!("11-02T{end}"),
            description.into(),
            Vec::new(),
        )
    }

    /// The morning as the timeline gives it: tracker's half hour cuts shop's stretch in two.
    fn morning(&self) -> Vec<Posted> {
        vec![
            self.entry("shop", "09:00", "09:30", "shop (main)"),
            self.entry("tracker", "09:30", "10:00", "tracker (main)"),
            self.entry("shop", "10:00", "11:00", "shop (main)"),
        ]
    }

    /// Kills a forced push while the answer to its `nth` request of `method` (stored) stalls, once
    /// `entries` entries are stored.
    fn crash_push_after(&self, entries: usize, method: &str, nth: usize) {
        for _ in 1..nth {
            match &self.fake {
                Fake::Toggl(toggl) => toggl.fail_next(method, fake_toggl::Fault::Slow { delay_ms: 0 }),
                Fake::Clockify(clockify) => {
                    clockify.fail_next(method, fake_clockify::Fault::Slow { delay_ms: 0 })
                }
            }
        }
        match &self.fake {
            Fake::Toggl(toggl) => {
                toggl.fail_next(method, fake_toggl::Fault::StoreThenStall { stall_ms: 20_000 })
            }
            Fake::Clockify(clockify) => {
                clockify.fail_next(method, fake_clockify::Fault::StoreThenStall { stall_ms: 20_000 })
            }
        }
        let before = self.count(method);
        let mut child = self.command().args(["push", "--force", NOON]).spawn().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.count(method) < before + nth || self.posted().len() < entries {
            assert!(std::time::Instant::now() < deadline, "the stalled {method} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

pub(crate) fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn overlapping_projects_become_one_timeline_with_one_request_per_entry() {
    for setup in Setup::both() {
        let listing = setup.ok(&["push", "--dry-run", NOON]);
        let (shop, tracker) = (setup.project("shop"), setup.project("tracker"));
        assert_eq!(
            listing,
            format!(
                "Would push 3 entries to {} (3 new, 0 to update, 0 to delete; 0 unchanged, 0 still open):\n\n\
                 \x20 2026-11-02 Mon 09:00-09:30   0:30  /w/shop -> {shop}  \"shop (main)\"\n\
                 \x20 2026-11-02 Mon 09:30-10:00   0:30  /w/tracker -> {tracker}  \"tracker (main)\"\n\
                 \x20 2026-11-02 Mon 10:00-11:00   1:00  /w/shop -> {shop}  \"shop (main)\"\n\
                 \n(UTC time zone) Run without --dry-run to push.\n",
                setup.name()
            )
        );
        assert_eq!(setup.writes(), (0, 0, 0), "a dry run sends nothing");
        let output = setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), setup.morning());
        assert_eq!(setup.writes(), (3, 0, 0), "one request per entry");
        assert_eq!(output, setup.pushed([3, 0, 0, 0], 3, "0 unchanged, 0 still open"));
        // Again: nothing changed, nothing sent.
        let again = setup.ok(&["push", NOON]);
        assert_eq!(setup.writes(), (3, 0, 0));
        assert_eq!(
            again,
            format!(
                "{}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 3 unchanged, 0 still open\n",
                setup.name()
            )
        );
    }
}

#[test]
fn open_work_waits_and_a_session_that_goes_on_is_updated_not_posted_again() {
    for setup in Setup::both() {
        // 11:05: shop's last stretch is still open (its last line at 11:00 is within the idle threshold).
        let output = setup.ok(&["push", "--now=2026-11-02T11:05:00Z"]);
        assert_eq!(output, setup.pushed([2, 0, 0, 0], 2, "0 unchanged, 1 still open"));
        assert_eq!(setup.posted(), setup.morning()[..2].to_vec());
        // Noon: it closed at 11:00.
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), setup.morning());
        // More of the session turns up (written late): the stretch now ends at 11:40, in place.
        let more = ["11:10", "11:20", "11:30", "11:40"]
            .iter()
            .fold(Transcript::new("shop", "/w/shop"), |t, at| t.user(&format!("2026-11-02T{at}:00Z")));
        setup.world.append("-w-shop/shop.jsonl", more.text());
        let output = setup.ok(&["push", NOON]);
        assert_eq!(output, setup.pushed([0, 1, 0, 0], 1, "2 unchanged, 0 still open"));
        let mut expected = setup.morning();
        expected[2].2 = "11-02T11:40".into();
        assert_eq!(setup.posted(), expected);
        assert_eq!(setup.writes(), (3, 1, 0), "one PUT for the changed entry, nothing else");
    }
}

#[test]
fn a_rule_change_updates_tags_in_place_and_a_moved_project_merges_segments() {
    for setup in Setup::both() {
        setup.ok(&["push", NOON]);
        // A rule tags the tracker work: its entry is updated.
        let tag_rule = "[[rules.auto_tag]]\nmatch = { cwd = \"/w/tracker\" }\ntags = [\"internal\"]\n";
        setup.configure("mode = \"sessions\"", tag_rule);
        let output = setup.ok(&["push", NOON]);
        // Clockify takes tag ids: one listing of the tags and the new tag's POST come first.
        let requests = if matches!(setup.fake, Fake::Clockify(_)) { 3 } else { 1 };
        assert_eq!(output, setup.pushed([0, 1, 0, 0], requests, "2 unchanged, 0 still open"));
        let mut expected = setup.morning();
        expected[1].4 = vec!["internal".to_string()];
        assert_eq!(setup.posted(), expected);
        assert_eq!((setup.count("PUT"), setup.count("DELETE")), (1, 0));
        // A rule moves the shop work to the tracker project: one owner, one stretch from 09:00 to 11:00;
        // the first entry is rewritten, the two others deleted (never left as duplicates).
        let move_rule =
            "[[rules.auto_tag]]\nmatch = { cwd = \"/w/*\" }\ntags = []\nproject = \"/w/tracker\"\n";
        setup.configure("mode = \"sessions\"", move_rule);
        let output = setup.ok(&["push", NOON]);
        assert_eq!(output, setup.pushed([0, 1, 2, 0], 3, "0 unchanged, 0 still open"));
        assert_eq!(setup.posted(), vec![setup.entry("tracker", "09:00", "11:00", "tracker (main)")]);
        assert_eq!((setup.count("POST"), setup.count("PUT"), setup.count("DELETE")), (3, 2, 2));
    }
}

#[test]
fn a_crash_after_a_stored_post_or_put_leaves_nothing_doubled() {
    for setup in Setup::both() {
        // The second POST is stored and its answer never comes: the process dies waiting.
        setup.crash_push_after(2, "POST", 2);
        assert_eq!(setup.posted().len(), 2);
        let output = setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), setup.morning());
        // One listing of the day in doubt finds the stored entry; the third is posted.
        assert_eq!(
            output,
            setup.pushed(
                [1, 0, 0, 1],
                2 + usize::from(matches!(setup.fake, Fake::Clockify(_))),
                "1 unchanged, 0 still open"
            )
        );
        assert_eq!(setup.count("POST"), 3, "the stored entry was adopted, not posted again");

        // A PUT stored before the crash is repeated (it is idempotent), never turned into a POST.
        setup.ok(&["push", "--force", NOON]);
        let puts = setup.count("PUT");
        setup.crash_push_after(3, "PUT", 1);
        let output = setup.ok(&["push", NOON]);
        assert_eq!(output, setup.pushed([0, 1, 0, 0], 1, "2 unchanged, 0 still open"));
        assert_eq!(setup.count("PUT"), puts + 2);
        assert_eq!(setup.posted(), setup.morning());
        assert_eq!(setup.count("POST"), 3);
    }
}

#[test]
fn force_resends_every_entry_as_an_update() {
    for setup in Setup::both() {
        setup.ok(&["push", NOON]);
        let output = setup.ok(&["push", "--force", NOON]);
        assert_eq!(output, setup.pushed([0, 3, 0, 0], 3, "0 unchanged, 0 still open"));
        assert_eq!(setup.writes(), (3, 3, 0));
        assert_eq!(setup.posted(), setup.morning());
    }
}

#[test]
fn a_refused_entry_is_listed_with_a_hint_and_the_rest_go_on() {
    let setup = Setup::toggl();
    let Fake::Toggl(toggl) = &setup.fake else { unreachable!() };
    toggl.fail_next("POST", fake_toggl::Fault::Slow { delay_ms: 0 });
    toggl.fail_next("POST", fake_toggl::Fault::Status(400));
    let output = setup.run(&["push", NOON]);
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(setup.posted(), vec![setup.morning()[0].clone(), setup.morning()[2].clone()]);
    assert_eq!(
        stdout,
        "2026-11-02 toggl pushed: 2 posted, 0 updated, 0 deleted, 0 adopted, 1 failed\n\
         Toggl Track: pushed 2 new, 0 updated, 0 deleted, 0 adopted (3 requests); 0 unchanged, 0 still open\n\
         1 failed:\n\
         \x20 - 2026-11-02 09:30 /w/tracker -> 200: POST /workspaces/777/time_entries was refused with HTTP \
         400: Bad Request\n\
         \x20   Hint: check that the project id is in this workspace (`claude-tracker toggl projects` lists them) \
         and the `[toggl]` settings\n\
         Fix the issues and re-run to retry failed entries.\n"
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "claude-tracker: error: Toggl Track: 1 entries failed (listed above)\n"
    );
    // A re-run retries it.
    setup.ok(&["push", NOON]);
    assert_eq!(setup.posted(), setup.morning());
}

#[test]
fn a_spent_quota_stops_the_push_and_the_next_run_finishes_it() {
    let setup = Setup::toggl();
    let Fake::Toggl(toggl) = &setup.fake else { unreachable!() };
    toggl.fail_next("POST", fake_toggl::Fault::Slow { delay_ms: 0 });
    toggl.fail_next("POST", fake_toggl::Fault::Slow { delay_ms: 0 });
    toggl.fail_next("POST", fake_toggl::Fault::QuotaExhausted { resets_in_secs: 1800 });
    let output = setup.run(&["push", NOON]);
    assert!(!output.status.success());
    assert_eq!(
        text(&output),
        "Toggl Track: pushed 2 new, 0 updated, 0 deleted, 0 adopted (3 requests); 0 unchanged, 0 still open\n\
         Toggl Track: stopped before the end (see below)\n\
         claude-tracker: error: Toggl Track: Toggl Track's request quota is spent \
         (at 2026-11-02 `100` (/w/shop)); 1 entries remain. Nothing is lost: run `claude-tracker push` again \
         after 12:30 UTC (in about 30 minutes)\n"
    );
    assert_eq!(setup.posted(), setup.morning()[..2].to_vec());
    // The quota is kept in the database: the next push waits for the reset (12:30), then finishes.
    setup.ok(&["push", "--now=2026-11-02T12:31:00Z"]);
    assert_eq!(setup.posted(), setup.morning());
    assert_eq!(setup.count("POST"), 4, "the POST the quota refused stored nothing and was sent again");
}

#[test]
fn switching_mode_leaves_synced_days_alone_and_says_where_the_new_mode_starts() {
    for setup in Setup::both() {
        // Monday and Tuesday synced in workday mode.
        setup.world.session("tue", "/w/shop", "2026-11-03T09:00:00Z", 60);
        setup.world.session("wed", "/w/tracker", "2026-11-04T09:00:00Z", 60);
        setup.configure("", "");
        setup.ok(&["sync", "--until", "2026-11-03", "--now=2026-11-05T12:00:00Z"]);
        let daily = setup.posted();
        assert_eq!(daily.len(), 3, "{daily:?}");
        setup.configure("mode = \"sessions\"", "");
        let output = setup.ok(&["push", "--since", "2026-11-02", "--now=2026-11-05T12:00:00Z"]);
        let pushed =
            setup.pushed([1, 0, 0, 0], 1, "0 unchanged, 0 still open").replace("2026-11-02", "2026-11-04");
        assert_eq!(
            output,
            format!(
                "{}: days through 2026-11-03 were synced in workday mode and stay as they are; sessions mode \
                 starts 2026-11-04\n{pushed}",
                setup.name()
            )
        );
        let mut expected = daily.clone();
        expected.push((
            setup.project("tracker"),
            "11-04T09:00".into(),
            "11-04T10:00".into(),
            "tracker (main)".into(),
            Vec::new(),
        ));
        assert_eq!(setup.posted(), expected);
        // And back: workday mode starts after the last day pushed.
        setup.configure("", "");
        let output = setup.ok(&["sync", "--dry-run", "--now=2026-11-06T12:00:00Z"]);
        assert_eq!(
            output,
            format!(
                "{0}: days through 2026-11-04 were synced in sessions mode and stay as they are; workday mode \
                 starts 2026-11-05\n\n\
                 {0}: 0 day(s) to sync, 0 entries\n\
                 skipped: 0 already synced, 0 not work days, 1 without sessions, 1 today or later\n(UTC time zone, work day 09:00-17:00); dry run: nothing was \
                 posted\n",
                setup.name()
            )
        );
    }
}

#[test]
fn csv_lists_the_entries_with_the_seeds_columns() {
    let setup = Setup::toggl();
    setup.world.config("timezone = \"UTC\"\n[sync]\ndescription = \"@{project}\"\n");
    setup.world.session("dash", "/w/-x", "2026-11-02T11:20:00Z", 20);
    let csv = setup.ok(&["push", "--csv", "--since", "2026-11-02", "--until", "2026-11-02", NOON]);
    assert_eq!(
        csv,
        "start,end,duration_hours,description,tags,working_directory\n\
         2026-11-02T09:00:00+00:00,2026-11-02T09:30:00+00:00,0.5000,'@shop,,/w/shop\n\
         2026-11-02T09:30:00+00:00,2026-11-02T10:00:00+00:00,0.5000,'@tracker,,/w/tracker\n\
         2026-11-02T10:00:00+00:00,2026-11-02T11:00:00+00:00,1.0000,'@shop,,/w/shop\n\
         2026-11-02T11:20:00+00:00,2026-11-02T11:40:00+00:00,0.3333,'@-x,,/w/-x\n"
    );
}

#[test]
fn a_day_that_failed_is_retried_by_the_next_default_push_though_later_days_went_out() {
    for setup in Setup::bare("sessions") {
        // Monday's work is in a folder no mapping covers, and there is no Other project yet.
        setup.world.session("mon", "/w/misc", "2026-11-02T09:00:00Z", 30);
        setup.world.session("tue", "/w/shop", "2026-11-03T09:00:00Z", 30);
        let without_other = |setup: &Setup| {
            let text = std::fs::read_to_string(setup.world.dir.path().join("config.toml")).unwrap();
            let text: String = text
                .lines()
                .filter(|l| !l.starts_with("other_project_id"))
                .map(|l| format!("{l}\n"))
                .collect();
            setup.world.config(&text);
        };
        without_other(&setup);
        let first = setup.run(&["push", "--now=2026-11-04T12:00:00Z"]);
        assert!(!first.status.success());
        assert_eq!(setup.posted().len(), 1, "Tuesday went out");
        // The Other project is set; a plain push (from the last push day, Tuesday) retries Monday too.
        setup.configure("mode = \"sessions\"", "");
        setup.ok(&["push", "--now=2026-11-04T13:00:00Z"]);
        let other = setup.project("other");
        assert_eq!(
            setup.posted().iter().map(|e| (e.0.clone(), e.1.clone())).collect::<Vec<_>>(),
            vec![(other, "11-02T09:00".to_string()), (setup.project("shop"), "11-03T09:00".to_string())]
        );
        // Nothing left to retry: the next push starts at Tuesday again and sends nothing.
        assert_eq!(setup.writes().0, 2);
        setup.ok(&["push", "--now=2026-11-04T14:00:00Z"]);
        assert_eq!(setup.writes().0, 2);
    }
}

/// Issue 15: real transcripts carry milliseconds (`"timestamp":"2026-11-02T17:00:00.900Z"`). The entry
/// goes out cut to the whole second, start and stop alike, with Toggl's `duration` their difference: the
/// fakes refuse a `duration` that is not `stop - start` (600 here, where the uncut times gave 599).
#[test]
fn millisecond_transcript_times_are_posted_in_whole_seconds_with_a_matching_duration() {
    for setup in Setup::bare("sessions") {
        let transcript = ["17:00:00.900", "17:05:00.000", "17:10:00.100"]
            .iter()
            .fold(Transcript::new("late", "/w/shop"), |t, at| t.user(&format!("2026-11-02T{at}Z")));
        setup.world.write("-w-shop/late.jsonl", transcript.text());
        let output = setup.run(&["push", "--now=2026-11-02T18:00:00Z"]);
        assert_eq!(
            (output.status.code(), String::from_utf8(output.stderr.clone()).unwrap()),
            (Some(0), String::new())
        );
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            setup.pushed([1, 0, 0, 0], 1, "0 unchanged, 0 still open")
        );
        match &setup.fake {
            Fake::Toggl(toggl) => {
                let stored = toggl.entries();
                assert_eq!(
                    stored,
                    vec![fake_toggl::Entry {
                        id: stored[0].id,
                        workspace_id: fake_toggl::WORKSPACE_ID,
                        project_id: Some(100),
                        start: "2026-11-02T17:00:00+00:00".into(),
                        stop: "2026-11-02T17:10:00+00:00".into(),
                        duration: 600,
                        description: "shop (main)".into(),
                        tags: Vec::new(),
                        billable: false,
                        created_with: "claude-tracker".into(),
                    }]
                );
            }
            Fake::Clockify(clockify) => {
                let stored = clockify.entries();
                assert_eq!(
                    stored,
                    vec![fake_clockify::Entry {
                        id: stored[0].id.clone(),
                        workspace_id: fake_clockify::WORKSPACE_ID.into(),
                        user_id: fake_clockify::USER_ID.into(),
                        project_id: Some("p-shop".into()),
                        start: "2026-11-02T17:00:00Z".into(),
                        end: "2026-11-02T17:10:00Z".into(),
                        description: "shop (main)".into(),
                        billable: false,
                        tag_ids: Vec::new(),
                    }]
                );
            }
        }
        // Nothing changed: the recorded entry matches what is planned again, to the second.
        assert_eq!(
            setup.ok(&["push", "--now=2026-11-02T18:00:00Z"]),
            format!(
                "{}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 1 unchanged, 0 still open\n",
                setup.name()
            )
        );
    }
}

/// Toggl answers one listing with at most 1,000 entries (the fake cuts there, as documented). After a
/// crash the day in doubt holds 1,200 entries of another machine besides ours: the listing is split
/// until no answer is full, so the entry the crashed run stored is found and adopted, not posted twice.
#[test]
fn a_day_in_doubt_with_more_entries_than_one_listing_holds_is_still_adopted_once() {
    let setup = Setup::toggl();
    let Fake::Toggl(toggl) = &setup.fake else { unreachable!() };
    let afternoon: chrono::DateTime<chrono::Utc> = "2026-11-02T12:00:00Z".parse().unwrap();
    let foreign: Vec<fake_toggl::Entry> = (0..1200)
        .map(|n| {
            let start = afternoon + chrono::Duration::seconds(30 * n);
            fake_toggl::Entry {
                id: 1 + n,
                workspace_id: fake_toggl::WORKSPACE_ID,
                project_id: None,
                start: start.to_rfc3339(),
                stop: (start + chrono::Duration::seconds(20)).to_rfc3339(),
                duration: 20,
                description: "another machine".into(),
                tags: Vec::new(),
                billable: false,
                created_with: "elsewhere".into(),
            }
        })
        .collect();
    for entry in &foreign {
        toggl.insert_entry(entry.clone());
    }
    setup.crash_push_after(1202, "POST", 2);
    let before = toggl.requests().len();
    let output = setup.run(&["push", NOON]);
    assert_eq!(
        (output.status.code(), String::from_utf8(output.stderr.clone()).unwrap()),
        (Some(0), String::new())
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        setup.pushed([1, 0, 0, 1], 10, "1 unchanged, 0 still open")
    );
    let sent: Vec<String> = toggl.requests()[before..]
        .iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.query.replace("%3A", ":")))
        .collect();
    let list = |from: &str, to: &str| {
        format!("GET /api/v9/me/time_entries start_date=2026-11-{from}:00Z&end_date=2026-11-{to}:00Z")
    };
    assert_eq!(
        sent,
        vec![
            list("01T00:00", "04T00:00"), // the day with a day's margin each side: 1,202, full
            list("01T00:00", "02T12:00"), // ours: 2
            list("02T12:00", "04T00:00"), // 1,200: full
            list("02T12:00", "03T06:00"), // 1,200: full
            list("02T12:00", "02T21:00"), // 1,080: full
            list("02T12:00", "02T16:30"), // 540
            list("02T16:30", "02T21:00"), // 540
            list("02T21:00", "03T06:00"), // 120
            list("03T06:00", "04T00:00"), // 0
            "POST /api/v9/workspaces/777/time_entries ".to_string(),
        ]
    );
    let mut expected = setup.morning();
    expected.extend(foreign.iter().map(|e| {
        (
            String::new(),
            e.start[5..16].to_string(),
            e.stop[5..16].to_string(),
            e.description.clone(),
            Vec::new(),
        )
    }));
    assert_eq!(setup.posted(), expected, "ours once each, the other machine's untouched");
}
