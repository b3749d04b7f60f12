//! `claude-tracker report`: ingest, then print time and tokens for a range of local days.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Result;
use chrono::Days;

use crate::app::App;
use crate::classify::{Classifier, pair_tagged};
use crate::cli::{Grouping, Period, ReportArgs};
use crate::report::{self, ReportRange};
use crate::store::Store;
use crate::workday;

/// Runs `report`.
pub(crate) fn run(app: &App, args: &ReportArgs) -> Result<()> {
    let range = resolve_range(app, args)?;
    let mut store = app.open_store_to_read()?;
    crate::refresh::refresh_unless_read_only(app, &mut store)?;
    let (from, to) = workday::days_window(range.since, range.until, range.tz);
    let mut sessions = store.query_range(from, to)?;
    report::name_this_machine(&mut sessions, &app.machine);
    let projects = Classifier::default().classify_all(&sessions);
    let tags = store.tag_names()?;
    let mut classified = pair_tagged(&sessions, &projects, &tags);
    if let Some(wanted) = &args.tag {
        classified.retain(|c| c.tags.iter().any(|t| t == wanted));
    }
    let (text, empty) = match (args.by, args.json) {
        (Grouping::Project, false) => {
            let grouped = report::by_project(&classified, range);
            (report::project_table(&grouped, range), grouped.rows.is_empty())
        }
        (Grouping::Project, true) => {
            (report::project_json(&report::by_project(&classified, range), range) + "\n", false)
        }
        (Grouping::Day, false) => {
            let grouped = report::by_day(&classified, range);
            (report::day_table(&grouped, range), grouped.rows.is_empty())
        }
        (Grouping::Day, true) => (report::day_json(&report::by_day(&classified, range), range) + "\n", false),
        (Grouping::Tag, false) => {
            let grouped = report::by_tag(&classified, range);
            (report::tag_table(&grouped, range), grouped.rows.is_empty())
        }
        (Grouping::Tag, true) => (report::tag_json(&report::by_tag(&classified, range), range) + "\n", false),
        (Grouping::Machine, false) => {
            let grouped = report::by_machine(&classified, range);
            (report::machine_table(&grouped, range), grouped.rows.is_empty())
        }
        (Grouping::Machine, true) => {
            (report::machine_json(&report::by_machine(&classified, range), range) + "\n", false)
        }
    };
    let text = if empty {
        let by = match args.by {
            Grouping::Project => None,
            Grouping::Day => Some("day"),
            Grouping::Tag => Some("tag"),
            Grouping::Machine => Some("machine"),
        };
        report::empty_table(range, &nothing(app, &store, args.tag.as_deref(), &tags)?, by)
    } else {
        text
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// Why the range shows nothing: the tag no session has, or where the sessions (with that tag) are, or
/// where transcripts are looked for when none is recorded.
fn nothing(
    app: &App,
    store: &Store,
    tag: Option<&str>,
    tags: &BTreeMap<String, Vec<String>>,
) -> Result<report::Nothing> {
    let day = |at: Option<i64>| {
        at.and_then(chrono::DateTime::from_timestamp_millis).map(|at| workday::local_date(at, app.tz))
    };
    let (Some(first), Some(last)) = (day(store.earliest_activity()?), day(store.latest_activity()?)) else {
        let folders = app.projects_dirs.iter().map(|dir| dir.display().to_string()).collect();
        return Ok(report::Nothing::Recorded { folders });
    };
    if let Some(tag) = tag {
        return Ok(match store.tag_span(tag)? {
            Some((first, last)) => report::Nothing::TaggedHere {
                tag: tag.to_string(),
                first: day(Some(first)).unwrap_or_default(),
                last: day(Some(last)).unwrap_or_default(),
            },
            None => {
                let known: BTreeSet<&String> = tags.values().flatten().collect();
                report::Nothing::Tagged { tag: tag.to_string(), known: known.into_iter().cloned().collect() }
            }
        });
    }
    Ok(report::Nothing::Here { first, last })
}

fn resolve_range(app: &App, args: &ReportArgs) -> Result<ReportRange> {
    let today = workday::local_date(app.now, app.tz);
    let (since, until) = match args.since {
        Some(since) => (since.resolve(today), args.until.map_or(today, |until| until.resolve(today))),
        None => {
            let days_back = match args.period {
                Period::Today => 0,
                Period::Week => 6,
                Period::Month => 29,
            };
            (today.checked_sub_days(Days::new(days_back)).unwrap_or(today), today)
        }
    };
    anyhow::ensure!(since <= until, workday::empty_range(since, until));
    Ok(ReportRange { since, until, tz: app.tz })
}
