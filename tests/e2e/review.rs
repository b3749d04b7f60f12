//! Review before posting (issue 19): edits kept against entry keys (`entries`, `review`) and honoured by
//! every later plan and post, against both fakes; approval of days; the `review` screen as snapshots
//! and driven through a pseudo-terminal.

use serde_json::Value;

use crate::push::{Posted, Setup};
use crate::support::{Transcript, repo_file};

/// Monday noon UTC: the morning's stretches are closed (sessions mode), the day is not over.
const NOON: &str = "--now=2026-11-02T12:00:00Z";
/// Tuesday: Monday is a past work day (workday mode).
const TUESDAY: &str = "--now=2026-11-03T08:00:00Z";

/// Prompts of session `id` in `cwd` every 4 minutes from `from` to `to` (`HH:MM` on Monday), with
/// milliseconds; appended when the transcript exists (the session goes on).
fn work(setup: &Setup, id: &str, cwd: &str, from: &str, to: &str) {
    let lines = crate::support::prompts(id, cwd, "2026-11-02", (from, to));
    setup.world.write_or_append(&format!("{}/{id}.jsonl", cwd.replace('/', "-")), lines.text());
}

/// The listed entries (`entries --json`) of the only destination, as (id, start, state, description).
fn listed(setup: &Setup, now: &str) -> Vec<(String, String, String, String)> {
    let json: Value = serde_json::from_str(&setup.ok(&["entries", "--json", now])).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (text("id"), text("start"), text("state"), text("description"))
        })
        .collect()
}

fn id_at(setup: &Setup, now: &str, start: &str) -> String {
    listed(setup, now).into_iter().find(|(_, s, _, _)| s == start).map(|(id, ..)| id).unwrap()
}

/// An excluded entry never reaches the service: not through `push`, not after its session grows (the
/// next push updates the others), not through `sync` of the same destination; including it again posts
/// it.
#[test]
fn an_excluded_entry_is_never_posted_through_push_and_a_later_change_of_its_session() {
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        work(&setup, "trk", "/w/tracker", "10:00", "10:40");
        let tracker = id_at(&setup, NOON, "2026-11-02T10:00:00Z");
        assert_eq!(
            setup.ok(&["entries", "exclude", &tracker, NOON]),
            format!("{tracker}: excluded; it is never posted\n")
        );
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), vec![setup.entry("shop", "09:00", "09:40", "shop (main)")]);
        // The tracker's session goes on until 11:00: still excluded, still not posted.
        work(&setup, "trk", "/w/tracker", "10:44", "11:00");
        assert_eq!(
            setup.ok(&["push", NOON]),
            format!(
                "{name}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 1 unchanged, 0 still open\n\
                 {name}: 1 excluded entries not sent (`claude-tracker entries` lists them)\n",
                name = setup.name()
            )
        );
        setup.ok(&["sync", NOON]);
        assert_eq!(setup.posted(), vec![setup.entry("shop", "09:00", "09:40", "shop (main)")]);
        assert_eq!(
            listed(&setup, NOON).into_iter().map(|(_, s, state, _)| (s, state)).collect::<Vec<_>>(),
            vec![
                ("2026-11-02T09:00:00Z".to_string(), "posted".to_string()),
                ("2026-11-02T10:00:00Z".to_string(), "excluded".to_string())
            ]
        );
        setup.ok(&["entries", "include", &tracker, NOON]);
        setup.ok(&["push", NOON]);
        assert_eq!(
            setup.posted(),
            vec![
                setup.entry("shop", "09:00", "09:40", "shop (main)"),
                setup.entry("tracker", "10:00", "11:00", "tracker (main)")
            ]
        );
    }
}

/// A posted entry excluded afterwards stays on the service until the user confirms its deletion.
#[test]
fn excluding_a_posted_entry_deletes_it_only_once_confirmed() {
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        setup.ok(&["push", NOON]);
        let shop = id_at(&setup, NOON, "2026-11-02T09:00:00Z");
        assert_eq!(
            setup.ok(&["entries", "exclude", &shop, NOON]),
            format!(
                "{shop}: excluded; it is on {} already and stays there until you confirm its deletion: \
                 `claude-tracker entries exclude {shop} --delete`\n",
                setup.name()
            )
        );
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted().len(), 1, "not deleted without confirmation");
        assert_eq!(setup.writes(), (1, 0, 0));
        setup.ok(&["entries", "exclude", &shop, "--delete", NOON]);
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), Vec::<Posted>::new());
        assert_eq!(setup.writes(), (1, 0, 1));
    }
}

/// An edited description and project are what the service receives, and they survive an update of the
/// underlying work (the session goes on: the entry's end moves, the edit stays).
#[test]
fn an_edited_description_and_project_are_sent_and_survive_an_update_of_the_work() {
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        let shop = id_at(&setup, NOON, "2026-11-02T09:00:00Z");
        let other = setup.project("other");
        assert_eq!(
            setup.ok(&["entries", "describe", &shop, "Auth service implementation", NOON]),
            format!("{shop}: description \"Auth service implementation\"; sent when it is posted\n")
        );
        assert_eq!(
            setup.ok(&["entries", "project", &shop, &other, NOON]),
            format!(
                "{shop}: description \"Auth service implementation\", project {other}; sent when it is posted\n"
            )
        );
        setup.ok(&["push", NOON]);
        assert_eq!(
            setup.posted(),
            vec![setup.entry("other", "09:00", "09:40", "Auth service implementation")]
        );
        // More work in the same stretch: the entry is updated, with the user's description and project.
        work(&setup, "shop", "/w/shop", "09:44", "10:20");
        setup.ok(&["push", NOON]);
        assert_eq!(
            setup.posted(),
            vec![setup.entry("other", "09:00", "10:20", "Auth service implementation")]
        );
        assert_eq!(setup.writes(), (1, 1, 0), "one post, one update");
        setup.ok(&["push", NOON]);
        assert_eq!(setup.writes(), (1, 1, 0), "then nothing: the record matches the edit");
    }
}

/// `approve = true`: `sync` posts no day the user has not approved and says how many wait; once
/// approved (`entries approve DAY`), the day is posted, once.
#[test]
fn approve_holds_days_back_until_approved() {
    for setup in Setup::bare("workday") {
        setup.configure("mode = \"workday\"\napprove = true", "");
        work(&setup, "shop", "/w/shop", "09:00", "11:00");
        let output = setup.ok(&["sync", TUESDAY]);
        assert_eq!(
            output.lines().last().unwrap(),
            format!(
                "{}: 1 day(s) wait for your approval (`claude-tracker review`, or `claude-tracker entries approve \
                 DATE`)",
                setup.name()
            )
        );
        assert_eq!(setup.posted(), Vec::<Posted>::new());
        assert_eq!(
            setup.ok(&["entries", "approve", "2026-11-02", TUESDAY]),
            format!(
                "{}: approved 2026-11-02; the next `claude-tracker sync` (or `push`) posts them\n",
                setup.name()
            )
        );
        setup.ok(&["sync", TUESDAY]);
        assert_eq!(setup.posted(), vec![setup.entry("shop", "09:00", "17:00", "shop (main)")]);
        setup.ok(&["sync", TUESDAY]);
        assert_eq!(setup.writes(), (1, 0, 0), "posted once");
    }
}

/// `watch` is not held by `approve` (a live timer is the user's own).
#[test]
fn approve_does_not_hold_the_live_timer() {
    for setup in Setup::bare("live") {
        setup.configure("mode = \"live\"\napprove = true", "");
        work(&setup, "shop", "/w/shop", "09:00", "09:20");
        setup.ok(&["watch", "--once", "--now=2026-11-02T09:21:00Z"]);
        assert_eq!(setup.writes().0, 1, "the timer started");
    }
}

/// The review screen on the sample, compared whole at 80x24 and 160x48.
#[test]
fn the_review_screen_at_80_by_24_and_160_by_48() {
    let world = crate::support::World::new();
    let config = repo_file("examples/sample/config.toml");
    let frame = |size: &str, to: &str| {
        world.ok(&[
            "--config",
            config.to_str().unwrap(),
            "--now=2026-11-21T12:00:00Z",
            "review",
            "--to",
            to,
            "--snapshot",
            size,
        ])
    };
    assert_eq!(frame("80x24", "clockify"), include_str!("snapshots/review-80x24.txt"));
    assert_eq!(frame("160x48", "toggl"), include_str!("snapshots/review-160x48.txt"));
}

/// Without a terminal, `review` says what to use instead.
#[test]
fn review_without_a_terminal_names_entries() {
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        let output = setup.run(&["review", NOON]);
        assert_eq!(
            (String::from_utf8_lossy(&output.stderr).into_owned(), output.status.code()),
            (
                "claude-tracker: error: `review` needs a terminal: run it in one, or use `claude-tracker entries` (it \
                 lists the same entries and edits them: `entries exclude|describe|project|billable ID`, `entries \
                 approve DATE`), then `sync` or `push`\n"
                    .to_string(),
                Some(1)
            )
        );
    }
}

/// The screen as the test expects it: `tests/e2e/snapshots/<name>`, written from the screen itself when
/// `$CLAUDE_TRACKER_BLESS` is set (then checked by eye).
#[cfg(unix)]
fn expect_screen(pty: &mut crate::terminal::Pty, name: &str) {
    let path = repo_file(&format!("tests/e2e/snapshots/{name}"));
    if std::env::var_os("CLAUDE_TRACKER_BLESS").is_some() {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = pty.wait_for_screen("");
        std::fs::write(&path, pty.screen()).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert_eq!(pty.wait_for_screen(&expected), expected, "{name}");
}

/// The issue's "a pseudo-terminal test that excludes one entry, edits one description and posts,
/// checked against the fake's state": keys typed into `review` in a real terminal; after `P` the screen
/// is given back, the summary printed, and the fake holds exactly the kept entry with the new
/// description; the edits stay in the store (`entries` lists them).
#[cfg(unix)]
#[test]
fn review_in_a_terminal_excludes_one_edits_one_and_posts() {
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        work(&setup, "trk", "/w/tracker", "10:00", "10:40");
        let config = setup.world.dir.path().join("config.toml");
        let args = ["--config", config.to_str().unwrap(), NOON, "review"];
        let mut pty =
            crate::terminal::Pty::claude_tracker(&setup.command(), &args, setup.world.dir.path(), (80, 24));
        let key = if setup.name() == "Clockify" { "clockify" } else { "toggl" };
        expect_screen(&mut pty, &format!("pty-review-{key}-first.txt"));
        pty.send(" ");
        pty.send("\x1b[B");
        pty.send("e");
        pty.send(&"\x7f".repeat("tracker (main)".len()));
        pty.send("Billing API");
        expect_screen(&mut pty, &format!("pty-review-{key}-typing.txt"));
        pty.send("\r");
        expect_screen(&mut pty, &format!("pty-review-{key}-edited.txt"));
        pty.send("P");
        assert_eq!(pty.wait_for_exit(), (0, None));
        expect_screen(&mut pty, &format!("pty-review-{key}-posted.txt"));
        assert_eq!(setup.posted(), vec![setup.entry("tracker", "10:00", "10:40", "Billing API")]);
        assert_eq!(
            listed(&setup, NOON).into_iter().map(|(_, s, state, d)| (s, state, d)).collect::<Vec<_>>(),
            vec![
                ("2026-11-02T09:00:00Z".to_string(), "excluded".to_string(), "shop (main)".to_string()),
                ("2026-11-02T10:00:00Z".to_string(), "posted".to_string(), "Billing API".to_string())
            ]
        );
    }
}

/// A work day whose every entry is excluded is not marked synced: including an entry again later posts
/// it (a day marked synced would never be looked at again).
#[test]
fn a_work_day_excluded_whole_is_posted_once_included_again() {
    for setup in Setup::bare("workday") {
        setup.configure("mode = \"workday\"", "");
        work(&setup, "shop", "/w/shop", "09:00", "11:00");
        let shop = id_at(&setup, TUESDAY, "2026-11-02T09:00:00Z");
        setup.ok(&["entries", "exclude", &shop, TUESDAY]);
        setup.ok(&["sync", TUESDAY]);
        assert_eq!(setup.posted(), Vec::<Posted>::new());
        setup.ok(&["entries", "include", &shop, TUESDAY]);
        setup.ok(&["sync", TUESDAY]);
        assert_eq!(setup.posted(), vec![setup.entry("shop", "09:00", "17:00", "shop (main)")]);
    }
}

/// A running live timer the user excludes is stopped at its last activity (it must not go on gaining
/// hours) and then left as posted until its deletion is confirmed.
#[test]
fn an_excluded_running_timer_is_stopped_at_its_last_activity() {
    for setup in Setup::bare("live") {
        work(&setup, "shop", "/w/shop", "09:00", "09:20");
        setup.ok(&["watch", "--once", "--now=2026-11-02T09:21:00Z"]);
        assert_eq!(setup.writes(), (1, 0, 0), "the timer started");
        // Idle since 09:20: the listing shows the stretch closed, its timer still running on the service.
        let shop = id_at(&setup, "--now=2026-11-02T09:40:00Z", "2026-11-02T09:00:00Z");
        setup.ok(&["entries", "exclude", &shop, "--now=2026-11-02T09:40:00Z"]);
        setup.ok(&["watch", "--once", "--now=2026-11-02T09:41:00Z"]);
        let stopped = setup.posted();
        assert_eq!(stopped.len(), 1);
        assert_eq!(
            (stopped[0].1.as_str(), stopped[0].2.as_str()),
            ("11-02T09:00", "11-02T09:20"),
            "{stopped:?}"
        );
        let writes = setup.writes();
        setup.ok(&["watch", "--once", "--now=2026-11-02T09:50:00Z"]);
        setup.ok(&["sync", "--now=2026-11-02T09:51:00Z"]);
        assert_eq!(setup.writes(), writes, "stopped once, then left alone");
    }
}

/// Sessions mode with `approve = true`: a day approved after a later one was posted is still posted
/// (the default range keeps the days held back until they are posted).
#[test]
fn an_earlier_day_approved_after_a_later_one_is_still_posted() {
    const WEDNESDAY: &str = "--now=2026-11-04T12:00:00Z";
    for setup in Setup::bare("sessions") {
        setup.configure("mode = \"sessions\"\napprove = true", "");
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        let tuesday = Transcript::new("trk", "/w/tracker")
            .user("2026-11-03T10:00:00.211Z")
            .user("2026-11-03T10:04:00.607Z")
            .user("2026-11-03T10:16:00.919Z");
        setup.world.write("-w-tracker/trk.jsonl", tuesday.text());
        setup.ok(&["sync", WEDNESDAY]);
        assert_eq!(setup.posted(), Vec::<Posted>::new(), "both days wait");
        setup.ok(&["entries", "approve", "2026-11-03", WEDNESDAY]);
        setup.ok(&["sync", WEDNESDAY]);
        assert_eq!(setup.posted().len(), 1, "Tuesday posted");
        setup.ok(&["entries", "approve", "2026-11-02", WEDNESDAY]);
        setup.ok(&["sync", WEDNESDAY]);
        let posted: Vec<(String, String)> = setup.posted().into_iter().map(|p| (p.1, p.2)).collect();
        assert_eq!(
            posted,
            vec![
                ("11-02T09:00".to_string(), "11-02T09:40".to_string()),
                ("11-03T10:00".to_string(), "11-03T10:16".to_string())
            ]
        );
    }
}

/// An entry listed with `--since` can be edited with the same `--since` (before or after the edit's
/// name): the edit looks in the days asked.
#[test]
fn an_entry_listed_with_since_can_be_edited_with_since() {
    const WEDNESDAY: &str = "--now=2026-11-04T12:00:00Z";
    for setup in Setup::bare("sessions") {
        work(&setup, "shop", "/w/shop", "09:00", "09:40");
        setup.ok(&["push", WEDNESDAY]);
        let json: Value =
            serde_json::from_str(&setup.ok(&["entries", "--json", "--since", "2026-11-02", WEDNESDAY]))
                .unwrap();
        let id = json[0]["id"].as_str().unwrap().to_string();
        assert_eq!(
            setup.ok(&["entries", "--since", "2026-11-02", "describe", &id, "Hello", WEDNESDAY]),
            format!("{id}: description \"Hello\"; the next run updates it\n")
        );
        assert_eq!(
            setup.ok(&["entries", "describe", &id, "Hello again", "--since", "2026-11-02", WEDNESDAY]),
            format!("{id}: description \"Hello again\"; the next run updates it\n")
        );
    }
}

/// An excluded entry not yet posted stays excluded when earlier activity of its session arrives (a
/// late transcript, another machine's copy): its key (its start) moves, the exclusion follows the work.
#[test]
fn an_exclusion_follows_its_entry_when_earlier_activity_moves_its_start() {
    for setup in Setup::bare("sessions") {
        work(&setup, "trk", "/w/tracker", "10:00", "10:40");
        let tracker = id_at(&setup, NOON, "2026-11-02T10:00:00Z");
        setup.ok(&["entries", "exclude", &tracker, NOON]);
        // The same session, seen from 09:52 on.
        let earlier = Transcript::new("trk", "/w/tracker")
            .user("2026-11-02T09:52:00.377Z")
            .user("2026-11-02T09:56:00.481Z");
        setup.world.append("-w-tracker/trk.jsonl", earlier.text());
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), Vec::<Posted>::new());
        assert_eq!(
            listed(&setup, NOON).into_iter().map(|(_, s, state, _)| (s, state)).collect::<Vec<_>>(),
            vec![("2026-11-02T09:52:00Z".to_string(), "excluded".to_string())]
        );
        // Included again by the id listed now: posted, the exclusion gone with its old key.
        let moved = id_at(&setup, NOON, "2026-11-02T09:52:00Z");
        assert_eq!(
            setup.ok(&["entries", "include", &moved, NOON]),
            format!("{moved}: as planned (no edit kept)\n")
        );
        setup.ok(&["push", NOON]);
        assert_eq!(setup.posted(), vec![setup.entry("tracker", "09:52", "10:40", "tracker (main)")]);
    }
}
