//! The dashboard's screens on the sample corpus, drawn by the real binary into a buffer of a given size
//! (`dashboard --snapshot WxH`), compared whole with the files in `tests/e2e/snapshots/`.

use crate::support::{World, repo_file};

/// Friday 2026-11-20, 17:00 UTC: the sample's last day.
const NOW: &str = "--now=2026-11-20T17:00:00Z";

fn frame(world: &World, size: &str, tab: &str) -> String {
    let config = repo_file("examples/sample/config.toml");
    world.ok(&["--config", config.to_str().unwrap(), NOW, "dashboard", "--snapshot", size, "--tab", tab])
}

#[test]
fn the_sample_week_at_80_by_24() {
    let world = World::new();
    assert_eq!(frame(&world, "80x24", "week"), include_str!("snapshots/sample-week-80x24.txt"));
}

#[test]
fn the_sample_month_at_160_by_48() {
    let world = World::new();
    assert_eq!(frame(&world, "160x48", "month"), include_str!("snapshots/sample-month-160x48.txt"));
}

#[test]
fn today_at_80_by_24_without_a_chart() {
    let world = World::new();
    assert_eq!(frame(&world, "80x24", "today"), include_str!("snapshots/sample-today-80x24.txt"));
}

#[test]
fn without_a_terminal_it_says_so_instead_of_panicking() {
    let world = World::new();
    let output = world.cmd().args(["dashboard", NOW]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "claude-tracker: error: the dashboard needs a terminal: run it in one (`claude-tracker report` and \
         `status` print text)\n"
    );
}

#[test]
fn an_impossible_range_is_refused_before_anything_is_drawn() {
    let world = World::new();
    let output = world
        .cmd()
        .args([
            "dashboard",
            "--tab",
            "range",
            "--since",
            "2026-01-31",
            "--until",
            "2026-01-01",
            "--snapshot",
            "80x24",
        ])
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap(), output.status.code()),
        (
            String::new(),
            "claude-tracker: error: the range is empty: `--since` 2026-01-31 comes after `--until` 2026-01-01; give \
             the earlier day to `--since`\n"
                .to_string(),
            Some(1)
        )
    );
}

/// With nothing recorded this month, the Range tab shows the span of the recorded sessions rather than an
/// empty month (the sample's 2026-11-09 to 2026-11-20, seen in December).
#[test]
fn the_range_tab_falls_back_to_the_recorded_span() {
    let world = World::new();
    let config = repo_file("examples/sample/config.toml");
    let frame = world.ok(&[
        "--config",
        config.to_str().unwrap(),
        "--now=2026-12-05T12:00:00Z",
        "dashboard",
        "--snapshot",
        "80x24",
        "--tab",
        "range",
    ]);
    assert_eq!(frame, include_str!("snapshots/sample-range-recorded-80x24.txt"));
}

#[test]
fn the_sample_week_at_100_by_30_shows_every_project_tag_and_day() {
    let world = World::new();
    assert_eq!(frame(&world, "100x30", "week"), include_str!("snapshots/sample-week-100x30.txt"));
}

/// A 62-day range at 80x24: week by week, the earlier weeks counted on the chart's first line, every
/// hidden project and tag counted with its time.
#[test]
fn a_62_day_range_at_80_by_24_hides_nothing_silently() {
    let world = World::new();
    let config = repo_file("examples/sample/config.toml");
    let frame = world.ok(&[
        "--config",
        config.to_str().unwrap(),
        NOW,
        "dashboard",
        "--snapshot",
        "80x24",
        "--tab",
        "range",
        "--since",
        "2026-09-20",
        "--until",
        "2026-11-20",
    ]);
    assert_eq!(frame, include_str!("snapshots/sample-62-days-80x24.txt"));
}
