//! Issue 16, part 6: every figure adds up. Each test runs the real binary and compares whole outputs
//! (stdout, stderr, exit code) that show one of the figures now adding up: an 8-hour day shows
//! 8:00, report rows sum to their total, a session is counted once in a total, CSV hours are end minus
//! start, one duration style, one CSV time format and tag separator, and one definition of a day with
//! tracked time in `sync`, `report` and `status`. Notes: `notes/09-figures.md`.

use std::process::Output;

use crate::support::{Transcript, World, repo_file};

/// The sample's skipped line (its malformed line on purpose), on stderr of its first run.
const SAMPLE_SKIPPED: &str =
    "claude-tracker: skipped 1 unreadable transcript line(s) in 1 file(s); `--verbose` lists them\n";

/// What a run printed and how it ended.
fn outcome(output: Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
        output.status.code(),
    )
}

/// A run of the binary with `config`.
fn run(world: &World, config: &std::path::Path, args: &[&str]) -> (String, String, Option<i32>) {
    outcome(world.cmd().arg("--config").arg(config).args(args).output().unwrap())
}

/// A success with nothing on stderr.
fn ok(stdout: impl Into<String>) -> (String, String, Option<i32>) {
    (stdout.into(), String::new(), Some(0))
}

/// A session in `cwd` that is active from `start` for `ms` milliseconds: a user line every 10 minutes
/// or less (never an idle gap), the last one `ms` after the first.
fn worked(world: &World, id: &str, cwd: &str, start: &str, ms: i64) {
    let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
    let stamp = |offset: i64| {
        (start + chrono::Duration::milliseconds(offset)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let mut transcript = Transcript::new(id, cwd);
    let mut offset = 0;
    while offset < ms {
        transcript = transcript.user(&stamp(offset));
        offset += 600_000;
    }
    transcript = transcript.user(&stamp(ms));
    world.write(&format!("{}/{id}.jsonl", cwd.replace('/', "-")), transcript.text());
}

/// The 8-hour day, on the shipped sample: 09:00-13:43 4:43 + 13:43-17:00 3:16 = 7:59 (minutes
/// cut). Now each duration is its share of the rounded day (4:43 + 3:17), each line's end minus start
/// is its duration, the day says its total, and the shares add up to 100.0%. The Thursday of three
/// entries adds up too (2:55 + 2:42 + 2:23).
#[test]
fn an_eight_hour_day_shows_eight_hours() {
    let world = World::new();
    let config = repo_file("examples/sample/config.toml");
    let args =
        ["sync", "--dry-run", "--since", "2026-11-09", "--until", "2026-11-12", "--now=2026-11-21T12:00:00Z"];
    assert_eq!(
        run(&world, &config, &args),
        (
            "2026-11-09 Mon\n\
             \x20 clockify  planned  8:00\n\
             \x20   09:00-13:43   4:43   59.1%  /home/dev/code/webshop -> 5f1a2b3c4d5e6f7a8b9c0d01  [acme, billable]\n\
             \x20   13:43-17:00   3:17   40.9%  Other -> 5f1a2b3c4d5e6f7a8b9c0d99  [internal]\n\
             \x20 toggl     planned  8:00\n\
             \x20   09:00-13:43   4:43   59.1%  /home/dev/code/webshop -> 2000001  [claude-code, acme, billable]\n\
             \x20   13:43-17:00   3:17   40.9%  /home/dev/code/infra -> 2000003  [claude-code, internal]\n\
             2026-11-10 Tue\n\
             \x20 clockify  planned  8:00\n\
             \x20   09:00-14:00   5:00   62.4%  /home/dev/code/claude-tracker -> 5f1a2b3c4d5e6f7a8b9c0d02\n\
             \x20   14:00-17:00   3:00   37.6%  /home/dev/code/webshop -> 5f1a2b3c4d5e6f7a8b9c0d01  [acme, billable]\n\
             \x20 toggl     planned  8:00\n\
             \x20   09:00-14:00   5:00   62.4%  Other -> 2000009  [claude-code]\n\
             \x20   14:00-17:00   3:00   37.6%  /home/dev/code/webshop -> 2000001  [claude-code, acme, billable]\n\
             2026-11-11 Wed\n\
             \x20 clockify  planned  8:00\n\
             \x20   09:00-13:10   4:10   52.2%  /home/dev/code/claude-tracker -> 5f1a2b3c4d5e6f7a8b9c0d02\n\
             \x20   13:10-17:00   3:50   47.8%  /home/dev/code/webshop -> 5f1a2b3c4d5e6f7a8b9c0d01  [acme, billable]\n\
             \x20 toggl     planned  8:00\n\
             \x20   09:00-13:10   4:10   52.2%  Other -> 2000009  [claude-code]\n\
             \x20   13:10-17:00   3:50   47.8%  /home/dev/code/webshop -> 2000001  [claude-code, acme, billable]\n\
             2026-11-12 Thu\n\
             \x20 clockify  planned  8:00\n\
             \x20   09:00-11:55   2:55   36.5%  Other -> 5f1a2b3c4d5e6f7a8b9c0d99  [internal]\n\
             \x20   11:55-14:37   2:42   33.8%  /home/dev/code/claude-tracker -> 5f1a2b3c4d5e6f7a8b9c0d02\n\
             \x20   14:37-17:00   2:23   29.7%  /home/dev/code/webshop -> 5f1a2b3c4d5e6f7a8b9c0d01  [acme, billable]\n\
             \x20 toggl     planned  8:00\n\
             \x20   09:00-11:55   2:55   36.5%  /home/dev/code/infra -> 2000003  [claude-code, internal]\n\
             \x20   11:55-14:37   2:42   33.8%  Other -> 2000009  [claude-code]\n\
             \x20   14:37-17:00   2:23   29.7%  /home/dev/code/webshop -> 2000001  [claude-code, acme, billable]\n\
             \n\
             Clockify: 4 day(s) to sync, 9 entries\n\
             skipped: 0 already synced, 0 not work days, 0 without sessions, 0 today or later\n\
             Toggl Track: 4 day(s) to sync, 9 entries\n\
             skipped: 0 already synced, 0 not work days, 0 without sessions, 0 today or later\n\
             (Europe/Berlin time zone, work day 09:00-17:00); dry run: nothing was posted\n"
                .to_string(),
            SAMPLE_SKIPPED.to_string(),
            Some(0)
        )
    );
}

/// The report: rows 1:29 + 1:06 + 0:54 + 0:10 + 0:07 = 3:46 under a total of 3:47 (each cut).
/// Active 89.2, 66.3, 54.4, 10.3 and 7.1 minutes (227.3): the total rounds to 3:47 and the minute left
/// after the rows' floors goes to the largest remainder (54.4), so the rows add up to it. `--json`
/// rounds its seconds the same way. Prompts only, each after the one before: all of it is hands-on.
#[test]
fn report_rows_add_up_to_the_total_shown() {
    let world = World::new();
    let config = world.config("timezone = \"UTC\"\n");
    let minutes =
        [("api", 5_352_417), ("web", 3_978_903), ("docs", 3_264_088), ("ops", 618_651), ("lab", 426_000)];
    for (index, (name, ms)) in minutes.iter().enumerate() {
        let start = format!("2026-11-02T{:02}:00:00.{:03}Z", 8 + 2 * index, [417, 903, 88, 651, 250][index]);
        worked(&world, name, &format!("/w/{name}"), &start, *ms);
    }
    let day = ["--since", "2026-11-02", "--until", "2026-11-02", "--now=2026-11-03T12:00:00Z"];
    assert_eq!(
        run(&world, &config, &[&["report"][..], &day].concat()),
        ok("Claude Code time on 2026-11-02 (UTC)\n\n\
            \x20 project  active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20 api        1:29      1:29        0:00        0:00         1      0       0            0           0\n\
            \x20 web        1:06      1:06        0:00        0:00         1      0       0            0           0\n\
            \x20 docs       0:55      0:55        0:00        0:00         1      0       0            0           0\n\
            \x20 ops        0:10      0:10        0:00        0:00         1      0       0            0           0\n\
            * lab        0:07      0:07        0:00        0:00         1      0       0            0           0\n\
            \x20 total      3:47      3:47        0:00        0:00         5      0       0            0           0\n\
            \n* latest activity\n")
    );
    let (json, stderr, code) = run(&world, &config, &[&["report", "--json"][..], &day].concat());
    assert_eq!((stderr.as_str(), code), ("", Some(0)));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let seconds: Vec<i64> =
        json["projects"].as_array().unwrap().iter().map(|p| p["active_seconds"].as_i64().unwrap()).collect();
    // 5352.417 + 3978.903 + 3264.088 + 618.651 + 426.000 = 13640.059 s.
    assert_eq!(
        (seconds, json["total"]["active_seconds"].as_i64()),
        (vec![5352, 3979, 3264, 619, 426], Some(13_640))
    );
    let bands = |row: &serde_json::Value| {
        ["hands_on_seconds", "supervised_seconds", "autonomous_seconds"]
            .map(|band| row[band].as_i64().unwrap())
    };
    let rows: Vec<[i64; 3]> = json["projects"].as_array().unwrap().iter().map(bands).collect();
    assert_eq!(
        (rows, bands(&json["total"])),
        (vec![[5352, 0, 0], [3979, 0, 0], [3264, 0, 0], [619, 0, 0], [426, 0, 0]], [13_640, 0, 0])
    );
}

/// The issue's `report --by day`: 17 sessions in the total, against 16 without `--by day` (the sample's
/// session across midnight counted on both days). Now it counts on each day and once in the total,
/// and says so; the days' minutes add up to the total too (6:22, as by project).
#[test]
fn a_session_across_midnight_counts_once_in_the_total() {
    let world = World::new();
    let config = repo_file("examples/sample/config.toml");
    let range = ["--since", "2026-11-09", "--until", "2026-11-20", "--now=2026-11-21T12:00:00Z"];
    // The bands' totals are the same in all three groupings: the exact 5:14:35 hands-on and 1:07:33
    // supervised (examples/sample/README.md) apportioned against the 6:22 total, 5:15 + 1:07.
    assert_eq!(
        run(&world, &config, &[&["report", "--by", "day"][..], &range].concat()),
        (
            "Claude Code time from 2026-11-09 to 2026-11-20 (Europe/Berlin)\n\n\
             \x20day             active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
             \x20Mon 2026-11-09    0:49      0:41        0:08        0:00         2    651   15.3k        64.3k      821.4k\n\
             \x20Tue 2026-11-10    0:56      0:46        0:10        0:00         2    820   16.2k        77.6k        1.2M\n\
             \x20Wed 2026-11-11    0:43      0:35        0:08        0:00         2    653   13.1k        43.4k      635.2k\n\
             \x20Thu 2026-11-12    0:57      0:47        0:10        0:00         3    907   15.0k        64.5k      817.6k\n\
             \x20Fri 2026-11-13    0:43      0:37        0:06        0:00         2    626   11.6k        41.2k      746.5k\n\
             \x20Mon 2026-11-16    0:26      0:20        0:06        0:00         1    473   12.2k        54.2k      631.6k\n\
             \x20Tue 2026-11-17    0:23      0:19        0:04        0:00         1    357    6.9k        46.8k      416.0k\n\
             \x20Wed 2026-11-18    0:25      0:21        0:04        0:00         1    378    5.9k        35.0k      521.4k\n\
             \x20Thu 2026-11-19    0:21      0:18        0:03        0:00         1    291    5.3k        40.9k      343.8k\n\
             \x20Fri 2026-11-20    0:39      0:31        0:08        0:00         2    614   11.2k        57.7k      711.4k\n\
             \x20total             6:22      5:15        1:07        0:00        16   5.8k  112.7k       525.5k        6.8M\n\
             \nA session on several days counts on each of them; the total counts it once.\n"
                .to_string(),
            SAMPLE_SKIPPED.to_string(),
            Some(0)
        )
    );
    assert_eq!(
        run(&world, &config, &[&["report"][..], &range].concat()),
        ok("Claude Code time from 2026-11-09 to 2026-11-20 (Europe/Berlin)\n\n\
            \x20 project         active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20 claude-tracker    2:25      1:57        0:28        0:00         5   2.4k   47.3k       180.7k        2.9M\n\
            \x20 webshop           1:36      1:20        0:16        0:00         4   1.3k   27.4k       141.2k        1.8M\n\
            * infra             1:12      1:01        0:11        0:00         4    917   18.9k        97.0k        1.0M\n\
            \x20 frontend          1:01      0:51        0:10        0:00         3    850   15.6k       101.2k      948.5k\n\
            \x20 terraform         0:08      0:06        0:02        0:00         1    275    3.6k         5.5k      192.2k\n\
            \x20 total             6:22      5:15        1:07        0:00        16   5.8k  112.7k       525.5k        6.8M\n\
            \n* latest activity\n")
    );
    assert_eq!(
        run(&world, &config, &[&["report", "--by", "tag"][..], &range].concat()),
        ok("Claude Code time from 2026-11-09 to 2026-11-20 (Europe/Berlin)\n\n\
            \x20tag         active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20acme          2:37      2:11        0:26        0:00         7   2.2k   43.0k       242.3k        2.7M\n\
            \x20billable      2:37      2:11        0:26        0:00         7   2.2k   43.0k       242.3k        2.7M\n\
            \x20internal      1:20      1:07        0:13        0:00         4   1.2k   22.5k       102.5k        1.2M\n\
            \x20(untagged)    2:25      1:57        0:28        0:00         5   2.4k   47.3k       180.7k        2.9M\n\
            \x20total         6:22      5:15        1:07        0:00        16   5.8k  112.7k       525.5k        6.8M\n\
            \nA session with several tags counts in the line of each; the total counts it once.\n")
    );
}

/// The issue's `push --csv`: `1.1022` hours for an entry whose end minus start is 3969 s (1.1025). Now
/// every CSV writes the whole-second start and end posted, in RFC 3339 with the zone's offset, and
/// hours equal to their difference; tags are joined by `", "` in every CSV, as in every listing; the
/// dry run of the same entry shows `1:06` (H:MM, as everywhere).
#[test]
fn csv_hours_are_end_minus_start_in_one_time_format_and_one_tag_separator() {
    let world = World::new();
    let config = world.config(
        "timezone = \"Europe/Berlin\"\n[sync]\ndescription = \"{project}\"\n\
         [toggl]\nworkspace_id = 5\nother_project_id = 9\nmode = \"sessions\"\n\
         [toggl.project_mapping]\n\"/w/shop\" = 22\n\
         [[rules.auto_tag]]\nname = \"Shop\"\nmatch = { cwd = \"/w/shop*\" }\ntags = [\"acme\", \"billable\"]\n",
    );
    // 09:00:00.651 to 10:06:09.088 Berlin time: 3968.437 s of work, posted as 09:00:00 to 10:06:09.
    // Prompts only, each after the one before: all of it hands-on.
    let shop = [
        "08:00:00.651",
        "08:09:12.417",
        "08:18:40.903",
        "08:27:55.088",
        "08:37:01.651",
        "08:46:30.417",
        "08:55:48.903",
        "09:04:59.088",
        "09:06:09.088",
    ];
    let transcript =
        shop.iter().fold(Transcript::new("s1", "/w/shop"), |t, at| t.user(&format!("2026-11-02T{at}Z")));
    world.write("-w-shop/s1.jsonl", transcript.text());
    let now = "--now=2026-11-03T12:00:00Z";
    let range = ["--since", "2026-11-02", "--until", "2026-11-02", now];
    assert_eq!(
        run(&world, &config, &[&["push", "--csv"][..], &range].concat()),
        ok("start,end,duration_hours,description,tags,working_directory\n\
            2026-11-02T09:00:00+01:00,2026-11-02T10:06:09+01:00,1.1025,shop,\"acme, billable\",/w/shop\n")
    );
    assert_eq!(
        run(&world, &config, &[&["export", "--csv", "--sessions"][..], &range].concat()),
        ok(
            "id,start,end,duration_hours,description,tags,working_directory,git_branch,input_tokens,output_tokens,\
            cache_creation_input_tokens,cache_read_input_tokens,hands_on_hours,supervised_hours,autonomous_hours,\
            automated,machine\n\
            s1,2026-11-02T09:00:00+01:00,2026-11-02T10:06:09+01:00,1.1023,shop,\"acme, billable\",/w/shop,main,0,0,0,0,\
            1.1023,0.0000,0.0000,false,dev\n"
        )
    );
    assert_eq!(
        run(&world, &config, &[&["push", "--dry-run"][..], &range].concat()),
        ok(
            "Would push 1 entries to Toggl Track (1 new, 0 to update, 0 to delete; 0 unchanged, 0 still open):\n\n\
            \x20 2026-11-02 Mon 09:00-10:06   1:06  /w/shop -> 22  \"shop\"  [acme, billable]\n\
            \n(Europe/Berlin time zone) Run without --dry-run to push.\n"
        )
    );
}

/// The allocations CSV: the same time format, and hours that are end minus start (5.2222 + 2.7778 = 8).
#[test]
fn allocation_hours_add_up_to_the_work_day() {
    let world = World::new();
    let config = world.config(
        "timezone = \"Europe/Berlin\"\n[clockify]\nworkspace_id = \"ws\"\nother_project_id = \"c-other\"\n\
         [clockify.project_mapping]\n\"/w/shop\" = \"c-shop\"\n",
    );
    worked(&world, "a", "/w/shop", "2026-11-02T08:00:00.417Z", 2_820_000);
    worked(&world, "b", "/w/misc", "2026-11-02T10:00:00.903Z", 1_500_000);
    assert_eq!(
        run(
            &world,
            &config,
            &[
                "export",
                "--csv",
                "--since",
                "2026-11-02",
                "--until",
                "2026-11-02",
                "--now=2026-11-03T12:00:00Z"
            ]
        ),
        ok("date,destination,project,project_id,start,end,hours\n\
            2026-11-02,clockify,/w/shop,c-shop,2026-11-02T09:00:00+01:00,2026-11-02T14:13:20+01:00,5.2222\n\
            2026-11-02,clockify,Other,c-other,2026-11-02T14:13:20+01:00,2026-11-02T17:00:00+01:00,2.7778\n")
    );
}

/// The day with a session of zero active time: "no sessions" in `sync` and one session in
/// `report`. Now one definition (some session has active time that day) says the same in all three:
/// `sync` has no sessions that day, `report` counts no session (its tokens stay), `status` has no day
/// waiting.
#[test]
fn a_day_of_zero_active_time_has_no_session_in_sync_report_and_status() {
    let world = World::new();
    let config = world
        .config("timezone = \"UTC\"\n[clockify]\nworkspace_id = \"ws\"\nother_project_id = \"c-other\"\n");
    // Tuesday: a prompt, and its answer 20 minutes later (an idle gap): activity, no tracked time.
    let lone = Transcript::new("t", "/w/shop").user("2026-11-03T09:00:00.417Z").assistant(
        "2026-11-03T09:20:00.903Z",
        5,
        120,
        0,
        0,
    );
    world.write("-w-shop/t.jsonl", lone.text());
    let now = "--now=2026-11-05T12:00:00Z";
    assert_eq!(
        run(&world, &config, &["sync", "--dry-run", "--since", "2026-11-03", now]),
        ok("Clockify: 0 day(s) to sync, 0 entries\n\
            skipped: 0 already synced, 0 not work days, 2 without sessions, 1 today or later\n\
            (UTC time zone, work day 09:00-17:00); dry run: nothing was posted\n")
    );
    assert_eq!(
        run(
            &world,
            &config,
            &["report", "--by", "day", "--since", "2026-11-03", "--until", "2026-11-03", now]
        ),
        ok("Claude Code time on 2026-11-03 (UTC)\n\n\
            \x20day             active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
            \x20Tue 2026-11-03    0:00      0:00        0:00        0:00         0      5     120            0           0\n\
            \x20total             0:00      0:00        0:00        0:00         0      5     120            0           0\n")
    );
    let (status, stderr, code) = run(&world, &config, &["status", "--json", now]);
    assert_eq!((stderr.as_str(), code), ("", Some(0)));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        status["destinations"],
        serde_json::json!([{"destination": "clockify", "mode": "workday", "last_sync": null, "days_waiting": 0,
            "running_since": null, "in_doubt": 0, "refused": 0}])
    );
}
