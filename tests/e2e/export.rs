//! `export --csv`: columns, quoting and formula safety, on the real binary.

use crate::support::{Transcript, World};

const NOW: &str = "--now=2026-11-07T12:00:00Z";

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[test]
fn sessions_csv_has_columns_quoting_and_no_formulas() {
    let world = World::new();
    // A project path and a branch an attacker could choose: a formula, a comma and a quote. Bands: no
    // line before the prompt (no hands-on), supervised 09:00-09:15, autonomous 09:15-09:20 (the last
    // line, with no message, is the agent's).
    let session = Transcript::new("s1", r#"=cmd|' /C calc'!A0,\"x\""#)
        .user("2026-11-02T09:00:00Z")
        .assistant("2026-11-02T09:10:00Z", 10, 20, 30, 40)
        .raw(r#"{"type":"user","cwd":"/w","sessionId":"s1","uuid":"x1","gitBranch":"-drop","timestamp":"2026-11-02T09:20:00Z"}"#);
    let text = session.text().replace(r#""gitBranch":"main""#, r#""gitBranch":"@branch""#);
    world.write("-w/s1.jsonl", &text);
    let output = world.ok(&["export", "--csv", "--sessions", NOW]);
    let rows = csv_rows(&output);
    assert_eq!(
        rows[0],
        vec![
            "id",
            "start",
            "end",
            "duration_hours",
            "description",
            "tags",
            "working_directory",
            "git_branch",
            "input_tokens",
            "output_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
            "hands_on_hours",
            "supervised_hours",
            "autonomous_hours",
            "automated",
            "machine"
        ]
    );
    assert_eq!(
        rows[1],
        vec![
            "s1",
            "2026-11-02T09:00:00+00:00",
            "2026-11-02T09:20:00+00:00",
            "0.3333",
            "C calc'!A0,\"x\"",
            "",
            "'=cmd|' /C calc'!A0,\"x\"",
            "'@branch",
            "10",
            "20",
            "30",
            "40",
            "0.0000",
            "0.2500",
            "0.0833",
            "false",
            "dev"
        ]
    );
    assert!(
        output.contains(r#""'=cmd|' /C calc'!A0,""x"""#),
        "fields with commas and quotes are quoted: {output}"
    );
}

#[test]
fn allocations_csv_is_the_plan_per_destination() {
    let world = World::new();
    let config = world.config(
        "timezone = \"UTC\"\n[clockify]\nworkspace_id = \"ws\"\nother_project_id = \"c-other\"\n\
         [clockify.project_mapping]\n\"/w/a\" = \"c-a\"\n[toggl]\nworkspace_id = 5\nother_project_id = 9\n\
         [toggl.project_mapping]\n\"/w/b\" = 22\n",
    );
    let a = Transcript::new("a", "/w/a")
        .user("2026-11-02T08:00:00Z")
        .user("2026-11-02T08:10:00Z")
        .user("2026-11-02T08:20:00Z")
        .user("2026-11-02T08:30:00Z");
    let b = Transcript::new("b", "/w/b").user("2026-11-02T10:00:00Z").user("2026-11-02T10:10:00Z");
    world.write("-w-a/a.jsonl", a.text());
    world.write("-w-b/b.jsonl", b.text());
    let output = world.ok(&["--config", config.to_str().unwrap(), "export", "--csv", NOW]);
    let rows = csv_rows(&output);
    assert_eq!(rows[0], vec!["date", "destination", "project", "project_id", "start", "end", "hours"]);
    assert_eq!(
        rows[1..].to_vec(),
        vec![
            // 30 minutes on /w/a, 10 on /w/b: 6 and 2 hours of the 8-hour day.
            vec![
                "2026-11-02",
                "clockify",
                "/w/a",
                "c-a",
                "2026-11-02T09:00:00+00:00",
                "2026-11-02T15:00:00+00:00",
                "6.0000"
            ],
            vec![
                "2026-11-02",
                "clockify",
                "Other",
                "c-other",
                "2026-11-02T15:00:00+00:00",
                "2026-11-02T17:00:00+00:00",
                "2.0000"
            ],
            vec![
                "2026-11-02",
                "toggl",
                "Other",
                "9",
                "2026-11-02T09:00:00+00:00",
                "2026-11-02T15:00:00+00:00",
                "6.0000"
            ],
            vec![
                "2026-11-02",
                "toggl",
                "/w/b",
                "22",
                "2026-11-02T15:00:00+00:00",
                "2026-11-02T17:00:00+00:00",
                "2.0000"
            ],
        ]
    );
}

#[test]
fn allocations_without_a_destination_give_each_project_its_line() {
    let world = World::new();
    world.config("timezone = \"UTC\"\n");
    world.session("a", "/w/a", "2026-11-02T08:00:00Z", 30);
    world.session("b", "/w/b", "2026-11-02T10:00:00Z", 10);
    let config = world.dir.path().join("config.toml");
    let rows = csv_rows(&world.ok(&["--config", config.to_str().unwrap(), "export", "--csv", NOW]));
    assert_eq!(
        rows[1..].to_vec(),
        vec![
            vec![
                "2026-11-02",
                "local",
                "/w/a",
                "/w/a",
                "2026-11-02T09:00:00+00:00",
                "2026-11-02T15:00:00+00:00",
                "6.0000"
            ],
            vec![
                "2026-11-02",
                "local",
                "/w/b",
                "/w/b",
                "2026-11-02T15:00:00+00:00",
                "2026-11-02T17:00:00+00:00",
                "2.0000"
            ],
        ]
    );
}

#[test]
fn allocations_are_what_sync_posted_and_start_date_is_a_floor() {
    let setup = crate::sync::Setup::new();
    setup.week();
    setup.sync_ok(&[]);
    // After the sync the work day moves and a start date appears: posted days keep what was posted,
    // and days before `start_date` are left out, as `sync` sees them.
    let changed = "work_day_start = \"08:00\"\nwork_day_end = \"16:00\"\nstart_date = 2026-11-03";
    let config = setup.world.config(&crate::sync::config(&setup.fake, changed));
    let output = setup.world.ok(&["--config", config.to_str().unwrap(), "export", "--csv", NOW]);
    assert_eq!(
        output,
        "date,destination,project,project_id,start,end,hours\n\
         2026-11-03,clockify,/w/shop,p-shop,2026-11-03T09:00:00+00:00,2026-11-03T17:00:00+00:00,8.0000\n\
         2026-11-05,clockify,/w/tracker,p-tracker,2026-11-05T09:00:00+00:00,2026-11-05T17:00:00+00:00,8.0000\n"
    );
    // Sessions are what was recorded: `start_date` does not hide Monday's.
    let sessions =
        setup.world.ok(&["--config", config.to_str().unwrap(), "export", "--csv", "--sessions", NOW]);
    let starts: Vec<String> = csv_rows(&sessions).into_iter().skip(1).map(|row| row[1].clone()).collect();
    assert_eq!(
        starts,
        vec![
            "2026-11-02T08:00:00+00:00",
            "2026-11-02T12:00:00+00:00",
            "2026-11-02T14:00:00+00:00",
            "2026-11-03T09:00:00+00:00",
            "2026-11-05T09:00:00+00:00"
        ]
    );
}
