//! `watch` (live mode): the real binary keeps a running entry that follows the transcripts, against both
//! fakes, with the clock pinned per pass (`--now`) or moved by the test (`$CLAUDE_TRACKER_CLOCK_FILE`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::fake_clockify;
use crate::fake_toggl;
use crate::push::{Fake, Posted, Setup};
use crate::support::Transcript;

/// Milliseconds for a line at `HH:MM`, varying as in real transcripts.
fn millis(hm: &str) -> u32 {
    [417, 903, 88, 651][hm.bytes().map(usize::from).sum::<usize>() % 4]
}

/// Appends user lines of session `id` in `cwd`, one at each `HH:MM` of 2026-11-02 (UTC), stamped with
/// milliseconds.
fn work(setup: &Setup, id: &str, cwd: &str, minutes: &[&str]) {
    let lines = minutes
        .iter()
        .fold(Transcript::new(id, cwd), |t, hm| t.user(&format!("2026-11-02T{hm}:00.{}Z", millis(hm))));
    let relative = format!("{}/{id}.jsonl", cwd.replace('/', "-"));
    if setup.world.projects().join(&relative).exists() {
        setup.world.append(&relative, lines.text());
    } else {
        setup.world.write(&relative, lines.text());
    }
}

fn once(setup: &Setup, now: &str) -> String {
    setup.ok(&["watch", "--once", &format!("--now=2026-11-02T{now}:00Z")])
}

/// What the service holds, a running entry's end as "".
fn held(setup: &Setup) -> Vec<Posted> {
    setup.posted()
}

fn running(setup: &Setup, project: &str, start: &str, description: &str) -> Posted {
    let mut entry = setup.entry(project, start, "00:00", description);
    entry.2 = String::new();
    entry
}

#[test]
fn watch_once_starts_switches_and_stops_at_the_last_activity_and_sync_has_nothing_left() {
    for setup in Setup::bare("live") {
        let name = setup.name();
        let (shop, tracker) = (setup.project("shop"), setup.project("tracker"));
        work(&setup, "shop", "/w/shop", &["09:00", "09:05", "09:10", "09:20", "09:30", "09:40"]);
        assert_eq!(
            once(&setup, "09:41"),
            format!("2026-11-02 09:41:00 {name}: started: 09:00-now /w/shop -> {shop} \"shop (main)\"\n")
        );
        assert_eq!(held(&setup), vec![running(&setup, "shop", "09:00", "shop (main)")]);
        // Work moves to the tracker at 09:45: shop's stretch closed at 09:40 (its last line), tracker's runs.
        work(&setup, "trk", "/w/tracker", &["09:45", "09:50", "10:00"]);
        assert_eq!(
            once(&setup, "10:01"),
            format!(
                "2026-11-02 10:01:00 {name}: stopped at 09:40: 09:00-09:40 /w/shop -> {shop} \"shop (main)\"\n\
                 2026-11-02 10:01:00 {name}: started: 09:45-now /w/tracker -> {tracker} \"tracker (main)\"\n"
            )
        );
        // Nothing new: nothing sent.
        let writes = setup.writes();
        assert_eq!(once(&setup, "10:05"), "");
        assert_eq!(setup.writes(), writes);
        // Idle for the threshold: stopped at the last activity (10:00), not when it was noticed.
        assert_eq!(
            once(&setup, "10:16"),
            format!(
                "2026-11-02 10:16:00 {name}: stopped at 10:00: 09:45-10:00 /w/tracker -> {tracker} \"tracker (main)\"\n"
            )
        );
        assert_eq!(
            held(&setup),
            vec![
                setup.entry("shop", "09:00", "09:40", "shop (main)"),
                setup.entry("tracker", "09:45", "10:00", "tracker (main)"),
            ]
        );
        assert_eq!(setup.writes(), (2, 2, 0), "a start and a stop per entry");
        // `sync` for the live destination backfills only what the watcher missed: nothing.
        let output = setup.ok(&["sync", "--now=2026-11-02T12:00:00Z"]);
        assert_eq!(
            output,
            format!(
                "{name}: pushed 0 new, 0 updated, 0 deleted, 0 adopted (0 requests); 2 unchanged, 0 still open\n"
            )
        );
        assert_eq!(setup.writes(), (2, 2, 0));
        assert_eq!(
            setup.ok(&["watch", "--status"]),
            format!(
                "watcher: not running; last pass: 2026-11-02T10:16:00+00:00\n{name}: running: none; operations \
                 waiting: 0; quota left: {}\n",
                // Toggl reports its quota in every answer; Clockify has none.
                if matches!(setup.fake, Fake::Toggl(_)) { "596 requests this hour" } else { "not reported" }
            )
        );
    }
}

#[test]
fn a_foreign_timer_is_left_alone_or_stopped_as_configured() {
    for setup in Setup::bare("live") {
        let name = setup.name();
        crate::live_trust::insert_foreign(&setup);
        work(&setup, "shop", "/w/shop", &["09:00", "09:05"]);
        let left = once(&setup, "09:06");
        assert_eq!(
            left,
            format!(
                "{name}: a timer not started by claude-tracker is running; it is left alone and none of ours \
                 starts (set `foreign_timer = \"stop\"` to stop it instead); finished stretches are still posted\n"
            )
        );
        assert_eq!(held(&setup).len(), 1, "theirs only");
        setup.configure("mode = \"live\"\nforeign_timer = \"stop\"", "");
        let stopped = once(&setup, "09:07");
        let shop = setup.project("shop");
        assert_eq!(
            stopped,
            format!(
                "2026-11-02 09:07:00 {name}: stopped a timer not ours at 09:07: 09:00-09:07 /w/shop -> {shop} \"shop (main)\"\n\
                 2026-11-02 09:07:00 {name}: started: 09:00-now /w/shop -> {shop} \"shop (main)\"\n"
            )
        );
        let entries = held(&setup);
        assert_eq!(entries.len(), 2);
        // Clockify stops at the time sent; Toggl's PATCH .../stop stops at the service's own clock (the
        // real now, which this test does not pin).
        assert_eq!(entries[0].1, "11-02T08:30");
        match setup.fake {
            Fake::Clockify(_) => assert_eq!(entries[0].2, "11-02T09:07", "theirs stopped"),
            Fake::Toggl(_) => assert!(!entries[0].2.is_empty(), "theirs stopped"),
        }
        assert_eq!(entries[1], running(&setup, "shop", "09:00", "shop (main)"));
    }
}

/// Starts `watch` in the background with the clock in a file the test moves.
fn spawn_watch(setup: &Setup, clock: &std::path::Path) -> Child {
    setup
        .command()
        .env("CLAUDE_TRACKER_CLOCK_FILE", clock)
        .arg("watch")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// Promise: with hooks only (no `watch` running), a timer never runs past the last activity plus the
/// idle threshold plus a minute: the hook's detached `watch --once --until-idle` waits for that moment
/// and stops the timer at the last activity; a second hook's pass meanwhile exits after its own pass.
#[test]
fn with_hooks_only_the_timer_still_stops_at_the_last_activity() {
    for setup in Setup::bare("live") {
        let (name, shop) = (setup.name(), setup.project("shop"));
        let clock = setup.world.dir.path().join("clock");
        std::fs::write(&clock, "2026-11-02T09:00:30Z").unwrap();
        work(&setup, "shop", "/w/shop", &["09:00"]);
        let lingering = setup
            .command()
            .env("CLAUDE_TRACKER_CLOCK_FILE", &clock)
            .args(["watch", "--once", "--until-idle"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("the start", || held(&setup).len() == 1);
        // The next prompt's hook: its own pass, then it leaves the waiting to the first.
        std::fs::write(&clock, "2026-11-02T09:05:00Z").unwrap();
        work(&setup, "shop", "/w/shop", &["09:04"]);
        let second = setup
            .command()
            .env("CLAUDE_TRACKER_CLOCK_FILE", &clock)
            .args(["watch", "--once", "--until-idle"])
            .output()
            .unwrap();
        assert_eq!(
            (
                String::from_utf8(second.stdout).unwrap(),
                String::from_utf8(second.stderr).unwrap(),
                second.status.code()
            ),
            (String::new(), String::new(), Some(0)),
            "nothing to send; it does not wait"
        );
        assert_eq!(held(&setup), vec![running(&setup, "shop", "09:00", "shop (main)")]);
        // 09:19:02 is past 15 minutes and a second after the last line (09:04:00.xxx): the lingering pass stops it.
        std::fs::write(&clock, "2026-11-02T09:19:02Z").unwrap();
        let output = lingering.wait_with_output().unwrap();
        assert_eq!(
            (
                String::from_utf8(output.stdout).unwrap(),
                String::from_utf8(output.stderr).unwrap(),
                output.status.code()
            ),
            (
                format!(
                    "2026-11-02 09:00:30 {name}: started: 09:00-now /w/shop -> {shop} \"shop (main)\"\n\
                     2026-11-02 09:19:02 {name}: stopped at 09:04: 09:00-09:04 /w/shop -> {shop} \"shop (main)\"\n"
                ),
                String::new(),
                Some(0)
            )
        );
        assert_eq!(held(&setup), vec![setup.entry("shop", "09:00", "09:04", "shop (main)")]);
    }
}

#[test]
fn the_watcher_follows_appended_lines_stops_on_idle_and_exits_cleanly_on_sigterm() {
    for setup in Setup::bare("live") {
        let clock = setup.world.dir.path().join("clock");
        std::fs::write(&clock, "2026-11-02T09:00:30Z").unwrap();
        std::fs::create_dir_all(setup.world.projects()).unwrap();
        let mut watcher = spawn_watch(&setup, &clock);
        let mut out = BufReader::new(watcher.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("watching "), "{first}");
        // A second watcher on the same database refuses.
        let second = setup.run(&["watch", "--once"]);
        assert_eq!(
            String::from_utf8(second.stderr).unwrap(),
            format!(
                "claude-tracker: error: another `claude-tracker watch` is running on this database (lock {}.watch.lock); \
                 `watch --status` shows it\n",
                setup.world.db().display()
            )
        );
        // A new session's first prompt while it watches: the running entry appears within 2 seconds.
        work(&setup, "shop", "/w/shop", &["09:00"]);
        let latency = wait_for("the running entry", || held(&setup).len() == 1);
        assert!(latency < Duration::from_secs(2), "{latency:?}");
        assert_eq!(held(&setup), vec![running(&setup, "shop", "09:00", "shop (main)")]);
        // The next line keeps it running: no request.
        std::fs::write(&clock, "2026-11-02T09:02:00Z").unwrap();
        work(&setup, "shop", "/w/shop", &["09:01"]);
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(held(&setup), vec![running(&setup, "shop", "09:00", "shop (main)")]);
        // Idle past the threshold: stopped at the last line, 09:01.
        std::fs::write(&clock, "2026-11-02T09:17:00Z").unwrap();
        wait_for("the stop", || held(&setup).iter().all(|e| !e.2.is_empty()));
        assert_eq!(held(&setup), vec![setup.entry("shop", "09:00", "09:01", "shop (main)")]);
        // SIGTERM: a clean exit.
        let pid = nix::unistd::Pid::from_raw(i32::try_from(watcher.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let exit = watcher.wait().unwrap();
        let mut rest = String::new();
        out.read_to_string(&mut rest).unwrap();
        assert!(exit.success(), "{exit:?}: {rest}");
        let name = setup.name();
        let shop = setup.project("shop");
        let lines: Vec<&str> = rest.lines().collect();
        assert_eq!(
            lines,
            vec![
                format!("2026-11-02 09:00:30 {name}: started: 09:00-now /w/shop -> {shop} \"shop (main)\""),
                format!(
                    "2026-11-02 09:17:00 {name}: stopped at 09:01: 09:00-09:01 /w/shop -> {shop} \"shop (main)\""
                ),
                "stopped; running entries stay as they are: the next `watch` (or `sync`) finishes them"
                    .to_string(),
            ]
        );
    }
}

#[test]
fn install_writes_a_user_unit_with_the_environment_and_says_how_to_start_and_remove_it() {
    let [setup, _] = Setup::bare("live");
    // A secrets file holding Clockify's key, in a folder whose name systemd would read as a specifier.
    let secrets = setup.world.dir.path().join("100%/secrets.json");
    std::fs::create_dir_all(secrets.parent().unwrap()).unwrap();
    std::fs::write(&secrets, "{\"clockify_api_key\": \"stored\"}").unwrap();
    // Private, as `setup` writes it (one others can read is warned about by every command).
    std::fs::set_permissions(&secrets, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // `command()` also sets both keys, the back-off overrides and (the world) `$CLAUDE_TRACKER_NOW`.
    let output = setup
        .command()
        .env("CLAUDE_TRACKER_SECRETS_FILE", &secrets)
        .args(["watch", "--install"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let home = setup.world.home();
    let unit = home.join(".config/systemd/user/claude-tracker-watch.service");
    let written = std::fs::read_to_string(&unit).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("claude-tracker");
    let dir = setup.world.dir.path();
    assert_eq!(
        written,
        format!(
            "[Unit]\nDescription=claude-tracker watch: a running timer that follows Claude Code\n\n[Service]\n\
             Environment=\"CLAUDE_CONFIG_DIR={}\"\nEnvironment=\"CLAUDE_TRACKER_SECRETS_FILE={}\"\n\
             Environment=\"TZ=UTC\"\nEnvironment=\"XDG_CONFIG_HOME={}\"\n\
             ExecStart={} --config {} --db {} watch\nRestart=on-failure\nRestartSec=30\n\n[Install]\n\
             WantedBy=default.target\n",
            dir.join("claude").display(),
            dir.join("100%%/secrets.json").display(),
            home.join(".config").display(),
            exe.display(),
            dir.join("config.toml").display(),
            setup.world.db().display()
        )
    );
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!(
            "wrote {}:\n{written}\nstart it:  systemctl --user daemon-reload && systemctl --user enable --now \
             claude-tracker-watch\nremove it: systemctl --user disable --now claude-tracker-watch && rm {}\n",
            unit.display(),
            unit.display()
        )
    );
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "claude-tracker: warning: $TOGGL_API_TOKEN is set here, but the service will not see it (keys \
             never go into the service file) and the secrets file {} holds no Toggl Track key: run \
             `claude-tracker setup --toggl` to store it there\n",
            secrets.display()
        )
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_stop_the_service_does_not_answer_waits_in_the_ledger_and_goes_out_on_the_next_pass() {
    for setup in Setup::bare("live") {
        let name = setup.name();
        work(&setup, "shop", "/w/shop", &["09:00", "09:05"]);
        once(&setup, "09:06");
        // Offline at 09:30: every PUT answers 503 (the client retries 4 times, then gives up).
        for _ in 0..4 {
            match &setup.fake {
                Fake::Toggl(toggl) => toggl.fail_next("PUT", fake_toggl::Fault::Status(503)),
                Fake::Clockify(clockify) => clockify.fail_next("PUT", fake_clockify::Fault::Status(503)),
            }
        }
        let offline = setup.run(&["watch", "--once", "--now=2026-11-02T09:30:00Z"]);
        assert!(!offline.status.success());
        let stderr = String::from_utf8(offline.stderr).unwrap();
        assert!(
            stderr.ends_with(
                "; nothing is lost: what is left waits in the ledger for the next `watch --once`\n"
            ),
            "{stderr}"
        );
        assert_eq!(held(&setup), vec![running(&setup, "shop", "09:00", "shop (main)")]);
        assert_eq!(
            setup.ok(&["watch", "--status"]).lines().nth(1).unwrap(),
            format!(
                "{name}: running: none; operations waiting: 1 (update 09:00-09:05); quota left: {}",
                if matches!(setup.fake, Fake::Toggl(_)) { "595 requests this hour" } else { "not reported" }
            )
        );
        // Back online: the stop goes out, at the last activity.
        let shop = setup.project("shop");
        assert_eq!(
            once(&setup, "09:40"),
            format!(
                "2026-11-02 09:40:00 {name}: stopped at 09:05: 09:00-09:05 /w/shop -> {shop} \"shop (main)\"\n"
            )
        );
        assert_eq!(held(&setup), vec![setup.entry("shop", "09:00", "09:05", "shop (main)")]);
    }
}

#[test]
fn a_tag_given_mid_entry_updates_the_running_entry_once() {
    for setup in Setup::bare("live") {
        let name = setup.name();
        let shop = setup.project("shop");
        work(&setup, "shop", "/w/shop", &["09:00", "09:05"]);
        once(&setup, "09:06");
        setup.ok(&["tag", "shop", "urgent"]);
        assert_eq!(
            once(&setup, "09:07"),
            format!(
                "2026-11-02 09:07:00 {name}: updated the running entry: 09:00-now /w/shop -> {shop} \"shop (main)\"\n"
            )
        );
        let mut expected = running(&setup, "shop", "09:00", "shop (main)");
        expected.4 = vec!["urgent".to_string()];
        assert_eq!(held(&setup), vec![expected]);
        assert_eq!(once(&setup, "09:08"), "", "once: the next pass has nothing to send");
        assert_eq!(setup.writes(), (1, 1, 0));
    }
}

#[test]
fn a_refused_start_fails_the_pass_and_is_retried_by_the_next() {
    for setup in Setup::bare("live") {
        let name = setup.name();
        work(&setup, "shop", "/w/shop", &["09:00", "09:05"]);
        match &setup.fake {
            Fake::Toggl(toggl) => toggl.fail_next("POST", fake_toggl::Fault::Status(400)),
            Fake::Clockify(clockify) => clockify.fail_next("POST", fake_clockify::Fault::Status(400)),
        }
        let refused = setup.run(&["watch", "--once", "--now=2026-11-02T09:06:00Z"]);
        assert!(!refused.status.success());
        let stderr = String::from_utf8(refused.stderr).unwrap();
        assert_eq!(
            stderr,
            format!(
                "claude-tracker: error: {name}: 1 entries refused (listed above); nothing is lost: what is left \
                 waits in the ledger for the next `watch --once`\n"
            )
        );
        assert!(held(&setup).is_empty());
        let shop = setup.project("shop");
        assert_eq!(
            once(&setup, "09:07"),
            format!("2026-11-02 09:07:00 {name}: started: 09:00-now /w/shop -> {shop} \"shop (main)\"\n")
        );
    }
}

/// Promise: a running timer has one owner, and `status` says when it has none or nothing stopped it: a
/// timer past the last activity and the idle threshold (no watcher ran), and one whose destination was
/// removed from the config, are warned about with what to do.
#[test]
fn status_warns_about_a_timer_nothing_stops() {
    for setup in Setup::bare("live") {
        work(&setup, "shop", "/w/shop", &["09:00"]);
        once(&setup, "09:01");
        let warnings = |now: &str| {
            let text = setup.ok(&["status", "--json", &format!("--now=2026-11-02T{now}:00Z")]);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            value["warnings"].clone()
        };
        let (workspace, id): (String, String) = rusqlite::Connection::open(setup.world.db())
            .unwrap()
            .query_row("SELECT workspace_id, remote_id FROM ledger WHERE state = 'running'", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        let service = setup.name();
        let key = if matches!(setup.fake, Fake::Toggl(_)) { "toggl" } else { "clockify" };
        let timer = format!(
            "the {service} timer claude-tracker started at 2026-11-02 09:00 (workspace {workspace}, entry {id}) is \
             still running"
        );
        assert_eq!(warnings("09:15"), serde_json::json!([]), "within the idle threshold and a minute");
        assert_eq!(
            warnings("09:20"),
            serde_json::json!([format!(
                "{timer} past the last activity (2026-11-02 09:00) and the idle threshold: no watcher stopped it; \
                 run `claude-tracker watch --once` (it stops it at the last activity), and keep `watch` running \
                 or `hooks install`"
            )])
        );
        setup.world.config("timezone = \"UTC\"\n");
        assert_eq!(
            warnings("09:05"),
            serde_json::json!([format!(
                "{timer} and no `[{key}]` destination of that workspace is configured any more: stop it in \
                 {service}, or put `[{key}]` back with `mode = \"live\"` and that workspace and run \
                 `claude-tracker watch --once`"
            )])
        );
    }
}

/// `watch` lists what it did as the dry runs do: the project's name beside its id once `clockify
/// projects` / `toggl projects` has listed them (the cache, never a request for it).
#[test]
fn watch_names_the_projects_listed_before() {
    for setup in Setup::bare("live") {
        let (name, shop) = (setup.name(), setup.project("shop"));
        let service = if name == "Clockify" { "clockify" } else { "toggl" };
        setup.ok(&[service, "projects"]);
        work(&setup, "shop", "/w/shop", &["09:00", "09:05", "09:10"]);
        let label = if name == "Clockify" { "p-shop" } else { "Shop" };
        assert_eq!(
            once(&setup, "09:11"),
            format!(
                "2026-11-02 09:11:00 {name}: started: 09:00-now /w/shop -> {shop} ({label}) \"shop (main)\"\n"
            )
        );
    }
}

/// The README's promise for many machines: a `watch` running on the machine that posts wakes when
/// another machine's file arrives in the shared folder (not at its next timed look, a minute later),
/// and its timer follows the work done there.
#[test]
fn the_posting_watcher_wakes_when_another_machines_file_arrives() {
    for setup in Setup::bare("live") {
        let shared = tempfile::tempdir().unwrap();
        let share = |machine: &str| {
            format!("[share]\ndir = \"{}\"\nmachine = \"{machine}\"\n", shared.path().display())
        };
        setup.configure("mode = \"live\"", &share("desk"));
        // The pinned clock (`$CLAUDE_TRACKER_NOW`, 2026-11-07 12:00): nothing is due, so without a wake the
        // watcher would look again only after `FALLBACK_SCAN` (60 s).
        let mut watcher =
            setup.command().arg("watch").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut out = BufReader::new(watcher.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("watching "), "{first}");
        std::thread::sleep(Duration::from_millis(300));
        // The laptop (no destination of its own) works at 11:59 and shares it.
        let laptop = crate::support::World::new();
        let config = laptop.config(&format!("timezone = \"UTC\"\n{}", share("laptop")));
        let lines = Transcript::new("lap", "/w/shop").user("2026-11-07T11:59:30.417Z");
        laptop.write("-w-shop/lap.jsonl", lines.text());
        laptop.ok(&["--config", config.to_str().unwrap(), "ingest"]);
        let latency = wait_for("the running entry from the laptop's work", || held(&setup).len() == 1);
        assert!(latency < Duration::from_secs(5), "{latency:?}");
        let mut entry = setup.entry("shop", "11:59", "00:00", "shop (main)");
        (entry.1, entry.2) = ("11-07T11:59".to_string(), String::new());
        assert_eq!(held(&setup), vec![entry]);
        let pid = nix::unistd::Pid::from_raw(i32::try_from(watcher.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert!(watcher.wait().unwrap().success());
    }
}
