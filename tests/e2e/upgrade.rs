//! A database written by release 0.1 (schema 4) upgrades in place with nothing lost, and the first sync
//! after the upgrade finishes what 0.1 left in doubt without posting anything twice.

use rusqlite::{Connection, params};

use crate::fake_clockify::{self, Entry};
use crate::sync::{NOW, Setup, WS, expected_week};

/// What 0.1 recorded before it was replaced: Monday synced (three entries), Tuesday's entry posted but
/// its answer lost (an intent), and a Monday session whose transcript Claude Code has since deleted.
fn release_0_1_database(setup: &Setup) {
    let conn = Connection::open(setup.world.db()).unwrap();
    conn.execute_batch(include_str!("fixtures/release-0.1-schema.sql")).unwrap();
    let monday = expected_week()[..3].to_vec();
    for (index, (project, start, end)) in monday.iter().enumerate() {
        let id = format!("c-{}", index + 1);
        conn.execute(
            "INSERT INTO synced_entries VALUES ('clockify', '2026-11-02', ?1, ?2, ?3, ?4, ?5, 0)",
            params![WS, project, id, start, end],
        )
        .unwrap();
        setup.fake.insert_entry(stored(&id, project, start, end));
    }
    conn.execute(
        "INSERT INTO synced_days VALUES ('clockify', '2026-11-02', ?1, '2026-11-03T10:00:00Z')",
        [WS],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO day_plans VALUES ('clockify', '2026-11-03', ?1, 'p-shop', '/w/shop',
             '2026-11-03T09:00:00Z', '2026-11-03T17:00:00Z', 28800, 1000000)",
        [WS],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO sync_intents VALUES ('clockify', '2026-11-03', ?1, 'p-shop',
             '2026-11-03T09:00:00Z', '2026-11-03T17:00:00Z')",
        [WS],
    )
    .unwrap();
    setup.fake.insert_entry(stored("c-4", "p-shop", "2026-11-03T09:00:00Z", "2026-11-03T17:00:00Z"));
    // 10:00 to 10:30 UTC on Monday, a message every 10 minutes; no transcript left on disk.
    let start: i64 = 1_793_613_600_000;
    let activity: Vec<u8> = (0..4).flat_map(|i| (start + i * 600_000).to_le_bytes()).collect();
    conn.execute(
        "INSERT INTO sessions VALUES ('gone', '/w/gone', ?1, 0, 'main', ?1, ?2, 1800000, 0, 0, 0, 0, ?3, x'')",
        params![start, start + 1_800_000, activity],
    )
    .unwrap();
    conn.execute("INSERT INTO spans VALUES ('gone', ?1, ?2)", params![start, start + 1_800_000]).unwrap();
}

fn stored(id: &str, project: &str, start: &str, end: &str) -> Entry {
    Entry {
        id: id.into(),
        workspace_id: WS.into(),
        user_id: fake_clockify::USER_ID.into(),
        project_id: Some(project.into()),
        start: start.into(),
        end: end.into(),
        description: "Development".into(),
        billable: false,
        tag_ids: Vec::new(),
    }
}

#[test]
fn a_release_0_1_database_upgrades_in_place_and_nothing_is_posted_twice() {
    let setup = Setup::new();
    setup.week();
    release_0_1_database(&setup);

    let output = setup.sync_ok(&[]);
    assert_eq!(
        output,
        "2026-11-03 clockify synced: 0 posted, 1 adopted\n\
         2026-11-05 clockify synced: 1 posted, 0 adopted\n\
         Clockify: synced 2 day(s): 1 entries posted, 1 adopted (3 requests)\n\
         skipped: 1 already synced, 0 not work days, 2 without sessions, 1 today or later\n"
    );
    assert_eq!(setup.posted(), expected_week(), "Tuesday adopted, not posted again");
    let methods: Vec<String> =
        setup.fake.requests().into_iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        methods,
        vec![
            "GET /api/v1/user".to_string(),
            format!("GET /api/v1/workspaces/{WS}/user/{}/time-entries", fake_clockify::USER_ID),
            format!("POST /api/v1/workspaces/{WS}/time-entries"),
        ]
    );

    let again = setup.sync_ok(&[]);
    assert_eq!(
        again,
        "Clockify: synced 0 day(s): 0 entries posted, 0 adopted (0 requests)\n\
         skipped: 3 already synced, 0 not work days, 2 without sessions, 1 today or later\n"
    );
    assert_eq!(setup.fake.requests().len(), 3, "a second sync after the upgrade sends nothing");

    let report = setup.world.report("2026-11-02", "2026-11-02", &[NOW]);
    let gone = crate::support::project(&report, "/w/gone");
    assert_eq!(gone["active_seconds"], 1800, "a session whose transcript is gone survives the upgrade");
    let conn = Connection::open(setup.world.db()).unwrap();
    let version: (i64, i64) = conn
        .query_row(
            "SELECT user_version, application_id FROM pragma_user_version, pragma_application_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(version, (18, 0x436C_5472));
}

#[test]
fn a_release_0_1_config_still_syncs_and_says_where_its_keys_moved() {
    let setup = Setup::new();
    setup.week();
    let old = format!(
        "timezone = \"UTC\"\n[sync]\nworkspace_id = \"{WS}\"\nother_project_id = \"p-other\"\n\
         [sync.project_mapping]\n\"/w/shop\" = \"p-shop\"\n\"/w/tracker\" = \"p-tracker\"\n\
         [clockify]\nbase_url = \"{}\"\n",
        setup.fake.base_url()
    );
    let config = setup.world.config(&old);
    let output = setup
        .world
        .cmd()
        .args(["--config", config.to_str().unwrap(), "sync", "--dry-run", "--json", NOW])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "claude-tracker: warning: config file {}: `workspace_id` (line 3), `other_project_id` (line 4), \
             `project_mapping` (line 5) under `[sync]` now belong under `[clockify]`: move them there (still \
             read from `[sync]` for now)\n",
            config.display()
        )
    );
    let days: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let planned: Vec<Vec<(String, String)>> = days
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "planned")
        .map(|d| {
            let entries = d["entries"].as_array().unwrap();
            entries
                .iter()
                .map(|e| (e["project_id"].as_str().unwrap().into(), e["start"].as_str().unwrap().into()))
                .collect()
        })
        .collect();
    let expected: Vec<Vec<(String, String)>> = vec![
        expected_week()[..3].iter().map(|(p, s, _)| (p.clone(), s.clone())).collect(),
        vec![(expected_week()[3].0.clone(), expected_week()[3].1.clone())],
        vec![(expected_week()[4].0.clone(), expected_week()[4].1.clone())],
    ];
    assert_eq!(planned, expected, "the same plan as with the keys under [clockify]");
}

#[test]
fn a_database_of_another_program_is_refused_and_left_untouched() {
    let setup = Setup::new();
    let foreign = setup.world.dir.path().join("notes.db");
    Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE notes (body TEXT);").unwrap();
    let output = setup.world.cmd().args(["--db", foreign.to_str().unwrap(), "report", NOW]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        format!(
            "claude-tracker: error: cannot prepare the database {}: it is not a claude-tracker database (it \
             holds 1 table(s) of another program): pass `--db` a path of its own (a new file is created)\n",
            foreign.display()
        )
    );
    let tables: Vec<String> = Connection::open(&foreign)
        .unwrap()
        .prepare("SELECT name FROM sqlite_master")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(tables, vec!["notes".to_string()]);
}
