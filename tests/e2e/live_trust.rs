//! Trust in live mode across processes: each test tries to break one promise of the live timer (a
//! glance costs nothing, a foreign timer is looked at at most every 10 minutes, a first prompt starts
//! the timer, a timer no live destination owns is stopped by `push`/`sync`, a spent Toggl quota holds
//! back later processes), running the real binary as separate `watch --once` processes (`--now` pinned
//! per process, as cron or Claude Code's hooks run it) against both fakes where the fake has the
//! fault. Outputs are compared whole, (stdout, stderr, exit code); entries on the fake whole, in whole
//! seconds; requests from the fake's own log.

use crate::fake_clockify;
use crate::fake_toggl;
use crate::push::{Fake, Setup};
use crate::support::Transcript;
use crate::trust::{Run, ok, run};

/// An entry as the service holds it: (project, start, end, description), times in UTC whole seconds
/// (`2026-11-02T09:00:00Z`), a running entry's end as "", sorted by start.
type Held = (String, String, String, String);

/// One `watch --once` process at `hms` (`HH:MM:SS`) of Monday 2026-11-02, UTC.
fn once(setup: &Setup, hms: &str) -> Run {
    run(setup, &["watch", "--once", &format!("--now=2026-11-02T{hms}Z")])
}

/// Appends user lines of session `id` in `cwd`, one at each `HH:MM:SS.mmm` of 2026-11-02 (UTC), as
/// Claude Code writes them.
fn lines(setup: &Setup, id: &str, cwd: &str, stamps: &[String]) {
    let text = stamps.iter().fold(Transcript::new(id, cwd), |t, at| t.user(&format!("2026-11-02T{at}Z")));
    let relative = format!("{}/{id}.jsonl", cwd.replace('/', "-"));
    if setup.world.projects().join(&relative).exists() {
        setup.world.append(&relative, text.text());
    } else {
        setup.world.write(&relative, text.text());
    }
}

/// `HH:MM:00.mmm` for every minute from `from` to `to` (`HH:MM`, inclusive), the milliseconds varying.
fn every_minute(from: &str, to: &str) -> Vec<String> {
    let minute = |hm: &str| {
        let (h, m) = hm.split_once(':').unwrap();
        h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
    };
    // The milliseconds vary from line to line, as in real transcripts.
    (minute(from)..=minute(to))
        .map(|m| format!("{:02}:{:02}:00.{:03}", m / 60, m % 60, [417, 903, 88, 651][m as usize % 4]))
        .collect()
}

/// Shop's session (`/w/shop`, project A) gains a line at each minute from `from` to `to`.
fn shop(setup: &Setup, from: &str, to: &str) {
    lines(setup, "shop", "/w/shop", &every_minute(from, to));
}

/// Every request the fake logged so far, as "METHOD path[?query] STATUS" (0: no answer), the API's
/// base path left out.
fn log(setup: &Setup) -> Vec<String> {
    let line = |method: &str, path: &str, query: &str, status: u16| {
        let path = path.strip_prefix("/api/v9").or_else(|| path.strip_prefix("/api/v1")).unwrap_or(path);
        let query = if query.is_empty() { String::new() } else { format!("?{query}") };
        format!("{method} {path}{query} {status}")
    };
    match &setup.fake {
        Fake::Toggl(toggl) => {
            toggl.requests().iter().map(|r| line(&r.method, &r.path, &r.query, r.status)).collect()
        }
        Fake::Clockify(clockify) => {
            clockify.requests().iter().map(|r| line(&r.method, &r.path, &r.query, r.status)).collect()
        }
    }
}

/// The requests logged since `mark` (a length of [`log`]).
fn since(setup: &Setup, mark: usize) -> Vec<String> {
    log(setup)[mark..].to_vec()
}

/// The entries the service holds, whole but for their ids, by start.
fn held(setup: &Setup) -> Vec<Held> {
    crate::trust::held(setup)
        .into_iter()
        .map(|(_, project, start, end, description)| (project, start, end, description))
        .collect()
}

/// An expected entry of Monday: the short project name, `HH:MM:SS` start and end ("" running).
fn entry(setup: &Setup, project: &str, start: &str, end: &str, description: &str) -> Held {
    let at = |hms: &str| if hms.is_empty() { String::new() } else { format!("2026-11-02T{hms}Z") };
    (setup.project(project), at(start), at(end), description.to_string())
}

/// The id of the one running entry the service holds.
fn running_id(setup: &Setup) -> String {
    match &setup.fake {
        Fake::Toggl(toggl) => {
            toggl.entries().into_iter().find(|e| e.stop.is_empty()).map(|e| e.id.to_string())
        }
        Fake::Clockify(clockify) => clockify.entries().into_iter().find(|e| e.end.is_empty()).map(|e| e.id),
    }
    .expect("a running entry")
}

/// The request that looks at the running entry.
fn look(setup: &Setup) -> String {
    match setup.fake {
        Fake::Toggl(_) => "GET /me/time_entries/current 200".to_string(),
        Fake::Clockify(_) => format!(
            "GET /workspaces/{}/user/{}/time-entries?in-progress=true 200",
            fake_clockify::WORKSPACE_ID,
            fake_clockify::USER_ID
        ),
    }
}

/// A start (create without an end), answered `status`.
fn start_request(setup: &Setup, status: u16) -> String {
    match setup.fake {
        Fake::Toggl(_) => format!("POST /workspaces/{}/time_entries {status}", fake_toggl::WORKSPACE_ID),
        Fake::Clockify(_) => format!("POST /workspaces/{}/time-entries 201", fake_clockify::WORKSPACE_ID),
    }
}

/// An update (the stop of a running entry at a time of ours) of entry `id`.
fn update_request(setup: &Setup, id: &str) -> String {
    match setup.fake {
        Fake::Toggl(_) => format!("PUT /workspaces/{}/time_entries/{id} 200", fake_toggl::WORKSPACE_ID),
        Fake::Clockify(_) => format!("PUT /workspaces/{}/time-entries/{id} 200", fake_clockify::WORKSPACE_ID),
    }
}

/// Clockify asks for the user id before its first request of the user's entries (then caches it).
fn user_lookup(setup: &Setup) -> Vec<String> {
    match setup.fake {
        Fake::Toggl(_) => Vec::new(),
        Fake::Clockify(_) => vec!["GET /user 200".to_string()],
    }
}

/// Requests without Clockify's user lookups (for tests about other requests).
fn without_user_lookups(setup: &Setup, requests: Vec<String>) -> Vec<String> {
    requests.into_iter().filter(|r| !user_lookup(setup).contains(r)).collect()
}

/// What a pass that starts the shop timer says.
fn started(setup: &Setup, at: &str, start: &str) -> String {
    format!(
        "2026-11-02 {at} {}: started: {start}-now /w/shop -> {} \"shop (main)\"\n",
        setup.name(),
        setup.project("shop")
    )
}

/// What a pass that stops the shop timer at `end` says.
fn stopped(setup: &Setup, at: &str, start: &str, end: &str) -> String {
    format!(
        "2026-11-02 {at} {}: stopped at {end}: {start}-{end} /w/shop -> {} \"shop (main)\"\n",
        setup.name(),
        setup.project("shop")
    )
}

/// Promise: a glance never produces a request. A live timer runs on shop (project A, a line every
/// minute); two lines 25 seconds apart in the tracker's session (project B) come between two of shop's;
/// four `watch --once` processes (09:30:11 right after the first glance line, 09:30:36 right after the
/// second, 09:31:05 after shop's next line, 09:32:00) each say nothing and send nothing at all. When shop
/// goes idle, the timer is stopped once at shop's last line: one shop entry 09:00-09:40, the glance
/// absorbed, and a `sync` after it has nothing to post (the glance is no entry of its own).
#[test]
fn a_glance_at_another_project_sends_nothing_and_the_entry_stays_one() {
    for setup in Setup::bare("live") {
        shop(&setup, "09:00", "09:29");
        assert_eq!(once(&setup, "09:29:30"), ok(started(&setup, "09:29:30", "09:00")));
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "", "shop (main)")]);
        let id = running_id(&setup);
        let mark = log(&setup).len();
        shop(&setup, "09:30", "09:30");
        lines(&setup, "glance", "/w/tracker", &["09:30:10.250".to_string()]);
        assert_eq!(once(&setup, "09:30:11"), ok(""), "the glance's first line");
        assert_eq!(since(&setup, mark), Vec::<String>::new(), "nothing sent at 09:30:11");
        lines(&setup, "glance", "/w/tracker", &["09:30:35.250".to_string()]);
        assert_eq!(once(&setup, "09:30:36"), ok(""), "the glance's second line");
        assert_eq!(since(&setup, mark), Vec::<String>::new(), "nothing sent at 09:30:36");
        shop(&setup, "09:31", "09:31");
        assert_eq!(once(&setup, "09:31:05"), ok(""), "shop goes on");
        assert_eq!(since(&setup, mark), Vec::<String>::new(), "nothing sent at 09:31:05");
        assert_eq!(once(&setup, "09:32:00"), ok(""));
        assert_eq!(since(&setup, mark), Vec::<String>::new(), "nothing sent at 09:32:00");
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "", "shop (main)")]);
        // Shop works on to 09:40, then goes idle: one stop, at its last line.
        shop(&setup, "09:32", "09:40");
        assert_eq!(once(&setup, "09:56:00"), ok(stopped(&setup, "09:56:00", "09:00", "09:40")));
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)], "one request: the stop");
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:40:00", "shop (main)")]);
        let mark = log(&setup).len();
        assert_eq!(
            run(&setup, &["sync", "--now=2026-11-02T12:00:00Z"]),
            ok(format!(
                "{}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 1 unchanged, 0 still open\n",
                setup.name()
            ))
        );
        assert_eq!(since(&setup, mark), Vec::<String>::new());
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:40:00", "shop (main)")]);
    }
}

/// Inserts a running entry another app started at 08:30 (not ours).
pub(crate) fn insert_foreign(setup: &Setup) -> Held {
    match &setup.fake {
        Fake::Toggl(toggl) => toggl.insert_entry(fake_toggl::Entry {
            id: 5,
            workspace_id: fake_toggl::WORKSPACE_ID,
            project_id: None,
            start: "2026-11-02T08:30:00+00:00".into(),
            stop: String::new(),
            duration: -1,
            description: "call".into(),
            tags: Vec::new(),
            billable: false,
            created_with: "Timery".into(),
        }),
        Fake::Clockify(clockify) => clockify.insert_entry(fake_clockify::Entry {
            id: "theirs".into(),
            workspace_id: fake_clockify::WORKSPACE_ID.into(),
            user_id: fake_clockify::USER_ID.into(),
            project_id: None,
            start: "2026-11-02T08:30:00Z".into(),
            end: String::new(),
            description: "call".into(),
            billable: false,
            tag_ids: Vec::new(),
        }),
    }
    (String::new(), "2026-11-02T08:30:00Z".into(), String::new(), "call".into())
}

/// The user stops their timer in the service's own app, at 09:25 where the service takes an end (Toggl's
/// stop takes none: the service's clock).
fn stop_foreign_by_hand(setup: &Setup) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let status = match &setup.fake {
        Fake::Toggl(toggl) => agent
            .patch(format!(
                "{}/workspaces/{}/time_entries/5/stop",
                toggl.base_url(),
                fake_toggl::WORKSPACE_ID
            ))
            .header("Authorization", fake_toggl::AUTH_HEADER)
            .send_empty(),
        Fake::Clockify(clockify) => agent
            .patch(format!(
                "{}/workspaces/{}/user/{}/time-entries",
                clockify.base_url(),
                fake_clockify::WORKSPACE_ID,
                fake_clockify::USER_ID
            ))
            .header("X-Api-Key", fake_clockify::API_KEY)
            .header("Content-Type", "application/json")
            .send("{\"end\":\"2026-11-02T09:25:00Z\"}"),
    }
    .expect("the fake answers")
    .status()
    .as_u16();
    assert_eq!(status, 200, "stopped by hand");
}

/// Promise: a timer not ours, left alone (`foreign_timer = "leave"`), is looked at at most once per 10
/// minutes across `watch --once` processes, and ours never starts while theirs runs. 25 processes, one a
/// minute from 09:00:30 while shop works on: the running entry is asked for at 09:00:30, 09:10:30 and
/// 09:20:30 only, nothing else is ever sent, and the service holds theirs alone. Once they stop theirs
/// (09:25), ours starts at the next look (09:30:30), at the stretch's start, and not before.
#[test]
fn a_foreign_timer_is_looked_at_once_per_ten_minutes_across_once_processes() {
    for setup in Setup::bare("live") {
        setup.configure("mode = \"live\"\nforeign_timer = \"leave\"", "");
        let theirs = insert_foreign(&setup);
        let notice = format!(
            "{}: a timer not started by claude-tracker is running; it is left alone and none of ours \
             starts (set `foreign_timer = \"stop\"` to stop it instead); finished stretches are still posted\n",
            setup.name()
        );
        let mut sent = Vec::new();
        for minute in 0..25 {
            let hm = format!("09:{minute:02}");
            shop(&setup, &hm, &hm);
            let mark = log(&setup).len();
            assert_eq!(once(&setup, &format!("{hm}:30")), ok(notice.clone()), "at {hm}:30");
            sent.push((minute, since(&setup, mark)));
        }
        // Clockify asks for the user id before each look (its own test, below, wants it once); what is
        // left is the looks alone.
        let sent: Vec<(i32, Vec<String>)> = sent
            .into_iter()
            .map(|(minute, s)| (minute, without_user_lookups(&setup, s)))
            .filter(|(_, s): &(i32, Vec<String>)| !s.is_empty())
            .collect();
        assert_eq!(
            sent,
            vec![(0, vec![look(&setup)]), (10, vec![look(&setup)]), (20, vec![look(&setup)])],
            "one look per 10 minutes, nothing else"
        );
        assert_eq!(held(&setup), vec![theirs.clone()], "ours never started");
        // They stop theirs at 09:25; ours starts at the first look 10 minutes after the last.
        stop_foreign_by_hand(&setup);
        for minute in 25..30 {
            let hm = format!("09:{minute:02}");
            shop(&setup, &hm, &hm);
            let mark = log(&setup).len();
            assert_eq!(once(&setup, &format!("{hm}:30")), ok(notice.clone()), "at {hm}:30");
            assert_eq!(since(&setup, mark), Vec::<String>::new(), "at {hm}:30: the last look was 09:20:30");
        }
        shop(&setup, "09:30", "09:30");
        let mark = log(&setup).len();
        assert_eq!(once(&setup, "09:30:30"), ok(started(&setup, "09:30:30", "09:00")));
        assert_eq!(
            without_user_lookups(&setup, since(&setup, mark)),
            vec![look(&setup), start_request(&setup, 200)]
        );
        let entries = held(&setup);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!((&entries[0].1, entries[0].2.is_empty()), (&theirs.1, false), "theirs, stopped by them");
        assert_eq!(entries[1], entry(&setup, "shop", "09:00:00", "", "shop (main)"));
    }
}

/// Promise: a new session's first prompt starts the timer. One line at 09:00:00.417 and a `watch
/// --once` a second later: the service holds a running entry from 09:00:00 (the prompt, in whole
/// seconds), after one look and one start. The second line (09:01) continues that entry: nothing is
/// sent; idle, it is stopped at 09:01:00.
#[test]
fn a_first_prompt_starts_the_timer_at_that_line() {
    for setup in Setup::bare("live") {
        lines(&setup, "shop", "/w/shop", &["09:00:00.417".to_string()]);
        assert_eq!(once(&setup, "09:00:01"), ok(started(&setup, "09:00:01", "09:00")));
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "", "shop (main)")]);
        assert_eq!(
            log(&setup),
            [user_lookup(&setup), vec![look(&setup), start_request(&setup, 200)]].concat(),
            "a look at the running entry, then the start"
        );
        let id = running_id(&setup);
        let mark = log(&setup).len();
        lines(&setup, "shop", "/w/shop", &["09:01:00.417".to_string()]);
        assert_eq!(once(&setup, "09:01:05"), ok(""), "the second line continues the entry");
        assert_eq!(since(&setup, mark), Vec::<String>::new());
        assert_eq!(once(&setup, "09:16:05"), ok(stopped(&setup, "09:16:05", "09:00", "09:01")));
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:01:00", "shop (main)")]);
    }
}

/// Starts the shop timer in live mode (work 09:00-09:10, a line a minute; `watch --once` at 09:10:30),
/// switches the config to `mode` and returns the running entry's id.
fn start_then_switch(setup: &Setup, mode: &str) -> String {
    shop(setup, "09:00", "09:10");
    assert_eq!(once(setup, "09:10:30"), ok(started(setup, "09:10:30", "09:00")));
    assert_eq!(held(setup), vec![entry(setup, "shop", "09:00:00", "", "shop (main)")]);
    setup.configure(&format!("mode = \"{mode}\""), "");
    running_id(setup)
}

/// Promise: a running entry no live timer owns (the destination switched to sessions mode) is stopped
/// by `push` at its stretch's last activity, once the stretch has gone idle: at 09:30 (last line
/// 09:10:00.417, idle threshold 15 minutes) `push` sends one update, and the service holds one entry
/// 09:00:00-09:10:00, none left running; a second `push` sends nothing.
#[test]
fn push_stops_the_timer_of_a_destination_switched_to_sessions_mode_at_its_last_activity() {
    for setup in Setup::bare("live") {
        let id = start_then_switch(&setup, "sessions");
        let mark = log(&setup).len();
        assert_eq!(run(&setup, &["push", "--now=2026-11-02T09:30:00Z"]), one_update(&setup));
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:10:00", "shop (main)")]);
        let mark = log(&setup).len();
        assert_eq!(
            run(&setup, &["push", "--now=2026-11-02T09:31:00Z"]),
            ok(format!(
                "{}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 1 unchanged, 0 still open\n",
                setup.name()
            ))
        );
        assert_eq!(since(&setup, mark), Vec::<String>::new());
    }
}

/// Promise: a running entry no live timer owns is stopped by `push` even while its stretch is still
/// open (09:12, two minutes after the last line): at the stretch's last activity so far, 09:10:00, not
/// left running for a watcher that will not come. When the work goes on (to 09:20) and closes, the next
/// `push` updates that same entry to 09:00-09:20: one entry, never a second one over the same minutes.
#[test]
fn push_stops_an_unowned_timer_while_its_stretch_is_open_and_later_extends_the_same_entry() {
    for setup in Setup::bare("live") {
        let id = start_then_switch(&setup, "sessions");
        let mark = log(&setup).len();
        assert_eq!(run(&setup, &["push", "--now=2026-11-02T09:12:00Z"]), one_update(&setup));
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:10:00", "shop (main)")]);
        shop(&setup, "09:11", "09:20");
        let mark = log(&setup).len();
        assert_eq!(run(&setup, &["push", "--now=2026-11-02T09:40:00Z"]), one_update(&setup));
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:20:00", "shop (main)")]);
    }
}

/// Promise: the same for a destination switched to workday mode: `sync` stops the running entry at
/// its stretch's last activity (09:10:00), one update, nothing left running; and the next day's `sync`
/// adds no workday entry over the morning the timer already holds (no minute counted twice).
#[test]
fn sync_stops_the_timer_of_a_destination_switched_to_workday_mode_at_its_last_activity() {
    for setup in Setup::bare("live") {
        let id = start_then_switch(&setup, "workday");
        let mark = log(&setup).len();
        let synced = run(&setup, &["sync", "--now=2026-11-02T09:30:00Z"]);
        let (name, key) = (setup.name(), key(&setup));
        assert_eq!(
            synced,
            ok(format!(
                "{name}: days through 2026-11-02 were synced in sessions mode and stay as they are; workday \
                 mode starts 2026-11-03\n2026-11-02 {key} pushed: 0 posted, 1 updated, 0 deleted, 0 adopted\n\
                 {name}: synced 1 day(s): 0 entries posted, 0 adopted, 1 timer(s) left by live mode stopped (1 \
                 requests)\nskipped: 0 already \
                 synced, 0 not work days, 0 without sessions, 0 today or later\n"
            ))
        );
        assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:10:00", "shop (main)")]);
        let mark = log(&setup).len();
        assert_eq!(
            run(&setup, &["sync", "--now=2026-11-03T12:00:00Z"]),
            ok(format!(
                "{name}: days through 2026-11-02 were synced in sessions mode and stay as they are; workday \
                 mode starts 2026-11-03\n{name}: synced 0 day(s): 0 entries posted, 0 adopted (0 requests)\n\
                 skipped: 0 already synced, 0 not work days, 0 without sessions, 1 today or later\n"
            ))
        );
        assert_eq!(since(&setup, mark), Vec::<String>::new());
        assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:10:00", "shop (main)")]);
    }
}

/// The whole output of a `push` that sends one update (the stop, or the stopped entry extended).
fn one_update(setup: &Setup) -> Run {
    ok(format!(
        "2026-11-02 {} pushed: 0 posted, 1 updated, 0 deleted, 0 adopted\n{}: pushed 0 new, 1 updated, 0 \
         deleted, 0 adopted (1 requests); 0 unchanged, 0 still open\n",
        key(setup),
        setup.name()
    ))
}

/// The config key of the service, as progress lines name it.
fn key(setup: &Setup) -> &'static str {
    match setup.fake {
        Fake::Toggl(_) => "toggl",
        Fake::Clockify(_) => "clockify",
    }
}

/// Promise (Clockify): the user id is asked for once and cached ("so the next run need not ask",
/// `Connection::remember`), also by a `watch --once` that ends up sending nothing else: with a foreign
/// timer holding ours back, the passes at 09:00:30 and 09:10:30 send the user lookup once and a look
/// at the running entry each.
#[test]
fn clockify_asks_for_the_user_id_once_across_once_processes() {
    let [_, setup] = Setup::bare("live");
    let theirs = insert_foreign(&setup);
    for hm in ["09:00", "09:10"] {
        shop(&setup, hm, hm);
        assert_eq!(
            once(&setup, &format!("{hm}:30")),
            ok(
                "Clockify: a timer not started by claude-tracker is running; it is left alone and none of ours \
                starts (set `foreign_timer = \"stop\"` to stop it instead); finished stretches are still \
                posted\n"
            )
        );
    }
    assert_eq!(log(&setup), [user_lookup(&setup), vec![look(&setup), look(&setup)]].concat());
    assert_eq!(held(&setup), vec![theirs]);
}

/// Promise (Toggl): a quota 402 seen by one `watch --once` holds back every later process until the
/// reset. The start at 09:06 is answered 402 (spent, resets in 1800 s); three more processes at 09:08,
/// 09:11 and 09:15, while the work goes on, send no request at all; after the reset (09:37, the fake's
/// quota renewed) the next process starts the timer as planned (from 09:00), and the idle stop later
/// goes out at the last activity.
#[test]
fn a_quota_402_holds_back_later_once_processes_until_the_reset() {
    let [setup, _] = Setup::bare("live");
    let Fake::Toggl(toggl) = &setup.fake else { unreachable!() };
    shop(&setup, "09:00", "09:05");
    toggl.fail_next("POST", fake_toggl::Fault::QuotaExhausted { resets_in_secs: 1800 });
    let refused = once(&setup, "09:06:00");
    assert_eq!(
        refused,
        (
            String::new(),
            "claude-tracker: error: Toggl Track: Toggl Track's request quota is spent (at 2026-11-02 `100` \
             (/w/shop)); 1 entries remain. Nothing is lost: run `claude-tracker watch --once` again after \
             09:36 UTC (in about 30 minutes)\n"
                .to_string(),
            1
        )
    );
    assert_eq!(log(&setup), vec![look(&setup), start_request(&setup, 402)]);
    assert_eq!(held(&setup), Vec::<Held>::new());
    for (hm, at) in [("09:07", "09:08:00"), ("09:10", "09:11:00"), ("09:14", "09:15:00")] {
        shop(&setup, hm, hm);
        let mark = log(&setup).len();
        let held_back = once(&setup, at);
        assert_eq!(
            held_back,
            ok(
                "Toggl Track: the request quota is nearly spent: no timer starts until it renews; stops still \
                go out\n"
            ),
            "at {at}"
        );
        assert_eq!(since(&setup, mark), Vec::<String>::new(), "at {at}: nothing sent before the reset");
    }
    toggl.forget_quota_usage();
    shop(&setup, "09:15", "09:36");
    let mark = log(&setup).len();
    assert_eq!(once(&setup, "09:37:00"), ok(started(&setup, "09:37:00", "09:00")));
    assert_eq!(since(&setup, mark), vec![look(&setup), start_request(&setup, 200)]);
    assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "", "shop (main)")]);
    let id = running_id(&setup);
    let mark = log(&setup).len();
    assert_eq!(once(&setup, "09:52:00"), ok(stopped(&setup, "09:52:00", "09:00", "09:36")));
    assert_eq!(since(&setup, mark), vec![update_request(&setup, &id)]);
    assert_eq!(held(&setup), vec![entry(&setup, "shop", "09:00:00", "09:36:00", "shop (main)")]);
}

/// Promise (issue 15, Why 9): a running timer the user deleted in the service is not started again, and
/// the pass that meets the deletion says so (it used to say "stopped"). The timer starts at 09:00; the
/// user deletes it; the work goes on to 09:20, goes idle; passes at 09:40 and 09:41, then `push`.
#[test]
fn a_running_timer_deleted_by_hand_stays_deleted_and_the_pass_says_so() {
    for setup in Setup::bare("live") {
        shop(&setup, "09:00", "09:10");
        once(&setup, "09:10:30");
        crate::trust::delete_by_hand(&setup, &running_id(&setup));
        shop(&setup, "09:11", "09:20");
        let mark = log(&setup).len();
        let name = setup.name();
        let project = setup.project("shop");
        assert_eq!(
            once(&setup, "09:40:00"),
            ok(format!(
                "2026-11-02 09:40:00 {name}: left deleted (you deleted it in {name}; `push --force` posts it \
                 again): 09:00-09:20 /w/shop -> {project} \"shop (main)\"\n"
            ))
        );
        assert_eq!(once(&setup, "09:41:00"), ok(""));
        assert_eq!(
            run(&setup, &["push", "--now=2026-11-02T09:42:00Z"]),
            ok(format!(
                "{name}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 0 unchanged, 0 still open\n"
            ))
        );
        assert_eq!(held(&setup), Vec::<Held>::new(), "not posted again");
        let writes: Vec<String> = since(&setup, mark)
            .into_iter()
            .filter(|r| !r.starts_with("GET"))
            .map(|r| format!("{} {}", r.split(' ').next().unwrap_or(""), r.rsplit(' ').next().unwrap_or("")))
            .collect();
        assert_eq!(writes, vec!["PUT 404".to_string()], "one update answered 404, nothing posted");
    }
}
