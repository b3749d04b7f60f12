//! `--since`/`--until` (issue 17, item 4): one argument type on every command, one error naming the
//! accepted forms, relative days resolved against `--now`, one wording of an empty range.

use crate::support::World;

/// Tuesday 2026-12-01, noon UTC.
const NOW: &str = "--now=2026-12-01T12:00:00Z";

/// The forms of a day, as every command but push words them.
const DAY_FORMS: &str = "write a day as YYYY-MM-DD, or today, yesterday, or a weekday (monday … sunday)";

/// Stdout, stderr and exit code of one run.
fn run(world: &World, args: &[&str]) -> (String, String, Option<i32>) {
    let output = world.cmd().arg(NOW).args(args).output().unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

/// clap's usage error for a bad value: the value, the option, the forms.
fn bad_value(value: &str, option: &str, forms: &str) -> (String, String, Option<i32>) {
    (
        String::new(),
        format!(
            "error: invalid value '{value}' for '{option}': {forms}\n\nFor more information, try '--help'.\n"
        ),
        Some(2),
    )
}

/// The one empty-range error.
fn empty(since: &str, until: &str) -> (String, String, Option<i32>) {
    (
        String::new(),
        format!(
            "claude-tracker: error: the range is empty: `--since` {since} comes after `--until` {until}; give the \
             earlier day to `--since`\n"
        ),
        Some(1),
    )
}

/// A world with a Clockify destination (nothing is sent: only dry runs and errors before any request).
fn with_destination(world: &World) -> String {
    let config = world.config(
        "timezone = \"UTC\"\n[clockify]\nworkspace_id = \"ws\"\nmode = \"sessions\"\nbase_url = \"http://127.0.0.1:9\"\n",
    );
    config.to_str().unwrap().to_string()
}

#[test]
fn a_day_that_is_not_one_names_the_accepted_forms_on_every_command() {
    let world = World::new();
    let config = with_destination(&world);
    for (command, value) in [
        (vec!["report", "--since"], "2026-13-45"),
        (vec!["report", "--since", "2026-11-01", "--until"], "last week"),
        (vec!["export", "--since"], "2026-13-45"),
        (vec!["dashboard", "--until"], "tomorrow"),
        (vec!["--config", &config, "sync", "--dry-run", "--since"], "2026-1-32"),
    ] {
        let option = if command.contains(&"--until") { "--until <DATE>" } else { "--since <DATE>" };
        let mut args = command.clone();
        args.push(value);
        assert_eq!(run(&world, &args), bad_value(value, option, DAY_FORMS), "{args:?}");
    }
}

#[test]
fn push_takes_the_same_days_and_its_times_too() {
    let world = World::new();
    let forms =
        format!("{DAY_FORMS}; or a time as YYYY-MM-DDTHH:MM:SS (local) or YYYY-MM-DDTHH:MM:SSZ (UTC)");
    assert_eq!(
        run(&world, &["push", "--csv", "--since", "2026-13-45"]),
        bad_value("2026-13-45", "--since <WHEN>", &forms)
    );
    world.session("mon", "/w/shop", "2026-11-30T09:00:00Z", 60);
    let csv = "start,end,duration_hours,description,tags,working_directory\n\
               2026-11-30T09:00:00+00:00,2026-11-30T10:00:00+00:00,1.0000,Development,,/w/shop\n";
    for since in ["yesterday", "monday", "2026-11-30", "2026-11-30T09:00:00", "2026-11-30T09:00:00Z"] {
        let args = ["push", "--csv", "--since", since, "--until", "today"];
        assert_eq!(run(&world, &args), (csv.to_string(), String::new(), Some(0)), "{since}");
    }
}

#[test]
fn today_yesterday_and_weekdays_resolve_against_now() {
    let world = World::new();
    world.session("mon", "/w/shop", "2026-11-30T09:00:00Z", 60);
    world.session("wed", "/w/shop", "2026-11-25T09:00:00Z", 30);
    let table = |active: &str, sessions: u32| {
        format!(
            "  project  active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
             * shop       {active}      {active}        0:00        0:00         {sessions}      0       0            0           0\n\
             \x20 total      {active}      {active}        0:00        0:00         {sessions}      0       0            0           0\n\n\
             * latest activity\n"
        )
    };
    let monday = format!("Claude Code time on 2026-11-30 (UTC)\n\n{}", table("1:00", 1));
    let week = format!("Claude Code time from 2026-11-25 to 2026-12-01 (UTC)\n\n{}", table("1:30", 2));
    // "monday" is the latest Monday not after today (Tuesday 2026-12-01): yesterday; "tuesday" is today.
    for (since, until, expected) in [
        ("yesterday", "yesterday", &monday),
        ("Monday", "mon", &monday),
        ("2026-11-30", "2026-11-30", &monday),
        ("wednesday", "today", &week),
        ("wed", "tuesday", &week),
    ] {
        let args = ["report", "--since", since, "--until", until];
        assert_eq!(run(&world, &args), (expected.clone(), String::new(), Some(0)), "{args:?}");
    }
}

#[test]
fn every_command_words_an_empty_range_the_same_way() {
    let world = World::new();
    world.session("mon", "/w/shop", "2026-11-30T09:00:00Z", 60);
    let config = with_destination(&world);
    let reversed = ["--since", "2026-01-31", "--until", "2026-01-01"];
    for command in [
        vec!["report"],
        vec!["export"],
        vec!["export", "--csv", "--sessions"],
        vec!["dashboard", "--tab", "range", "--snapshot", "80x24"],
        vec!["--config", &config, "sync", "--dry-run"],
        vec!["--config", &config, "push", "--dry-run"],
        vec!["push", "--csv"],
    ] {
        let mut args = command.clone();
        args.extend(reversed);
        assert_eq!(run(&world, &args), empty("2026-01-31", "2026-01-01"), "{args:?}");
    }
    // A default end counts too: sync never goes past today, push ends now.
    assert_eq!(
        run(&world, &["--config", &config, "sync", "--dry-run", "--since", "2026-12-05"]),
        empty("2026-12-05", "2026-12-01")
    );
    assert_eq!(
        run(&world, &["push", "--csv", "--since", "2026-12-01T13:00:00Z"]),
        empty("2026-12-01 13:00:00", "2026-12-01 12:00:00")
    );
}

#[test]
fn export_writes_csv_without_being_asked_for_it() {
    let world = World::new();
    world.session("mon", "/w/shop", "2026-11-30T09:00:00Z", 60);
    let args = ["export", "--sessions", "--since", "monday"];
    let (out, err, code) = run(&world, &args);
    assert_eq!((err.as_str(), code), ("", Some(0)), "{out}");
    let mut with_flag = vec!["export", "--csv"];
    with_flag.extend(&args[1..]);
    assert_eq!(run(&world, &with_flag), (out.clone(), String::new(), Some(0)));
    assert_eq!(
        out,
        "id,start,end,duration_hours,description,tags,working_directory,git_branch,input_tokens,output_tokens,\
         cache_creation_input_tokens,cache_read_input_tokens,hands_on_hours,supervised_hours,autonomous_hours,\
         automated,machine\n\
         mon,2026-11-30T09:00:00+00:00,2026-11-30T10:00:00+00:00,1.0000,shop,,/w/shop,main,0,0,0,0,1.0000,0.0000,0.0000,\
         false,dev\n"
    );
}
