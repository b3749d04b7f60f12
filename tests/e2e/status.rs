//! `status`, text and JSON, with every warning it gives: a transcripts folder without a transcript
//! (more in `first_hour.rs`), an ingest older than Claude Code's cleanup period, a transcript about to be deleted with lines not yet read, a config holding a key that others
//! can read, and a mapped id the service no longer lists.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

use serde_json::json;

use crate::fake_toggl::{self, FakeToggl};
use crate::support::{Transcript, World};

/// Monday 2026-11-09, noon UTC: a week after the work.
const NOW: &str = "--now=2026-11-09T12:00:00Z";

struct Setup {
    world: World,
    _toggl: FakeToggl,
}

fn setup() -> Setup {
    let world = World::new();
    let toggl = FakeToggl::start();
    toggl.set_min_interval_ms(0);
    for (id, name) in [(100, "Shop"), (900, "Other")] {
        toggl.add_project(fake_toggl::WORKSPACE_ID, id, name, "Client");
    }
    let config = world.config(&format!(
        "timezone = \"UTC\"\n[clockify]\nworkspace_id = \"ws-1\"\nother_project_id = \"p-other\"\napi_key = \"k-123\"\n\
         [toggl]\nbase_url = \"{}\"\nworkspace_id = {}\nother_project_id = 900\nmode = \"sessions\"\n\
         [toggl.project_mapping]\n\"/w/shop\" = 100\n\"/w/gone\" = 999\n",
        toggl.base_url(),
        fake_toggl::WORKSPACE_ID
    ));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    // Claude Code keeps transcripts 5 days here.
    std::fs::write(world.dir.path().join("claude/settings.json"), r#"{"cleanupPeriodDays": 5}"#).unwrap();
    world.session("a", "/w/shop", "2026-11-02T09:00:00Z", 60);
    let run = |args: &[&str]| {
        let output = world
            .cmd()
            .env("TOGGL_API_TOKEN", fake_toggl::API_TOKEN)
            .env("CLAUDE_TRACKER_TOGGL_INTERVAL_MS", "0")
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    };
    run(&["ingest", "--now=2026-11-02T12:00:00Z"]);
    run(&["toggl", "projects", "--now=2026-11-02T12:00:00Z"]);
    // A transcript written since and never read, last changed 4.5 days before now: it goes in 12 hours.
    let late =
        world.write("-w-shop/b.jsonl", Transcript::new("b", "/w/shop").user("2026-11-04T23:50:00Z").text());
    let changed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_793_836_800); // 2026-11-05T00:00:00Z
    std::fs::File::options().write(true).open(&late).unwrap().set_modified(changed).unwrap();
    Setup { world, _toggl: toggl }
}

fn status(setup: &Setup, json: bool) -> String {
    let config = setup.world.dir.path().join("config.toml");
    let mut args = vec!["--config", config.to_str().unwrap(), NOW, "status"];
    if json {
        args.push("--json");
    }
    setup.world.ok(&args)
}

fn warnings(setup: &Setup) -> Vec<String> {
    let world = &setup.world;
    let config = world.dir.path().join("config.toml");
    vec![
        "the last ingest was 7 days ago and Claude Code deletes transcripts unchanged for 5 days \
         (`cleanupPeriodDays`): sessions in transcripts deleted since are lost; run `claude-tracker ingest` \
         now, and often (`claude-tracker watch` keeps up)"
            .to_string(),
        format!(
            "{} holds lines not yet read and Claude Code deletes it in less than a day (unchanged for 5 days): \
             run `claude-tracker ingest`",
            world.projects().join("-w-shop/b.jsonl").display()
        ),
        format!(
            "the config file {0} holds an API key and other users can read it (mode 644): run `chmod 600 {0}`, \
             or move the key to $CLOCKIFY_API_KEY / the keychain",
            config.display()
        ),
        "[toggl.project_mapping] \"/w/gone\" = 999: Toggl Track did not list that project on \
         2026-11-02T12:00:00Z (`claude-tracker toggl projects`): fix the id, or list the projects again if it \
         is new"
            .to_string(),
    ]
}

#[test]
fn status_says_where_things_are_what_waits_and_every_warning() {
    let setup = setup();
    let world = &setup.world;
    let kb = std::fs::metadata(world.db()).unwrap().len().div_ceil(1024);
    let mut expected = format!(
        "transcripts: 2 files in {} (oldest changed 2026-11-05 00:00); Claude Code deletes them after 5 days \
         unchanged\ndatabase: {} ({kb} KB, 1 sessions); last ingest 2026-11-02 12:00\n\
         Clockify (workday mode): last sync never; 1 day(s) waiting\n\
         Toggl Track (sessions mode): last sync never; 0 day(s) waiting\nwarnings:\n",
        world.projects().display(),
        world.db().display()
    );
    for warning in warnings(&setup) {
        expected.push_str(&format!("  - {warning}\n"));
    }
    expected.push_str("(UTC time zone)\n");
    assert_eq!(status(&setup, false), expected);
}

#[test]
fn status_json_carries_the_same() {
    let setup = setup();
    let world = &setup.world;
    let value: serde_json::Value = serde_json::from_str(&status(&setup, true)).unwrap();
    assert_eq!(
        value,
        json!({
            "transcripts": {
                "folders": [world.projects().display().to_string()],
                "files": 2,
                "oldest_change": "2026-11-05T00:00:00Z",
                "cleanup_period_days": 5,
            },
            "database": {
                "path": world.db().display().to_string(),
                "bytes": std::fs::metadata(world.db()).unwrap().len(),
                "sessions": 1,
                "last_ingest": "2026-11-02T12:00:00Z",
            },
            "destinations": [
                {"destination": "clockify", "mode": "workday", "last_sync": null, "days_waiting": 1,
                 "running_since": null, "in_doubt": 0, "refused": 0},
                {"destination": "toggl", "mode": "sessions", "last_sync": null, "days_waiting": 0,
                 "running_since": null, "in_doubt": 0, "refused": 0},
            ],
            "share": null,
            "warnings": warnings(&setup),
        })
    );
}

/// What a world without a transcript is told about its (empty) `$CLAUDE_CONFIG_DIR/projects`.
fn empty_folder_warning(world: &World) -> String {
    format!(
        "the transcripts folder {} holds no transcript (no .jsonl file): if Claude Code has not run on this \
         machine yet, use it first; else $CLAUDE_CONFIG_DIR is `{}`: set it to the folder Claude Code uses (the \
         one holding `projects`), or unset it to read ~/.claude/projects and ~/.config/claude/projects",
        world.projects().display(),
        world.dir.path().join("claude").display()
    )
}

/// A fresh machine has no warning but the one that matters first: no transcript where they are looked
/// for (`notes/12-first-hour.md`).
#[test]
fn a_fresh_machine_is_told_its_transcripts_folder_holds_none() {
    let world = World::new();
    let output = world.ok(&["status", NOW]);
    assert_eq!(
        output,
        format!(
            "transcripts: 0 files in {} (oldest changed -); Claude Code deletes them after 30 days unchanged\n\
             database: {} ({} KB, 0 sessions); last ingest never\n\
             no destination configured (config.example.toml shows [clockify] and [toggl])\nwarnings:\n  - {}\n\
             (UTC time zone)\n",
            world.projects().display(),
            world.db().display(),
            std::fs::metadata(world.db()).unwrap().len().div_ceil(1024),
            empty_folder_warning(&world)
        )
    );
}

#[test]
fn an_absurd_cleanup_period_is_read_as_a_century() {
    let world = World::new();
    std::fs::write(world.dir.path().join("claude/settings.json"), r#"{"cleanupPeriodDays": 200000000}"#)
        .unwrap();
    world.session("a", "/w/shop", "2026-11-02T09:00:00Z", 10);
    let value: serde_json::Value = serde_json::from_str(&world.ok(&["status", "--json", NOW])).unwrap();
    assert_eq!(value["transcripts"]["cleanup_period_days"], 36_500);
    assert_eq!(value["warnings"], json!([]));
}

/// A secrets file others can read holding Toggl's token: the warning names Toggl's variable, on stderr
/// (every command) and in `status`; the token itself appears nowhere.
#[test]
fn a_readable_secrets_file_is_warned_about_with_the_variable_of_its_key() {
    let world = World::new();
    std::fs::write(world.secrets_file(), r#"{"toggl_api_token": "t-very-secret"}"#).unwrap();
    std::fs::set_permissions(world.secrets_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = world.cmd().args(["status", NOW]).output().unwrap();
    let warning = format!(
        "the secrets file {0} holds an API key and other users can read it (mode 644): run `chmod 600 {0}`, or \
         move the key to $TOGGL_API_TOKEN / the keychain",
        world.secrets_file().display()
    );
    assert_eq!(
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
            output.status.code()
        ),
        (
            format!(
                "transcripts: 0 files in {} (oldest changed -); Claude Code deletes them after 30 days unchanged\n\
                 database: {} ({} KB, 0 sessions); last ingest never\n\
                 no destination configured (config.example.toml shows [clockify] and [toggl])\nwarnings:\n  - \
                 {}\n  - {warning}\n(UTC time zone)\n",
                world.projects().display(),
                world.db().display(),
                std::fs::metadata(world.db()).unwrap().len().div_ceil(1024),
                empty_folder_warning(&world)
            ),
            format!("claude-tracker: warning: {warning}\n"),
            Some(0)
        )
    );
}
