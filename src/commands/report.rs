//! `claude-tracker report`: ingest, then print time and tokens for a range of local days.

use std::io::Write;

use anyhow::Result;
use chrono::Days;

use crate::app::App;
use crate::classify::{Classifier, pair_tagged};
use crate::cli::{Grouping, Period, ReportArgs};
use crate::report::{self, ReportRange};
use crate::workday;

/// Runs `report`.
pub(crate) fn run(app: &App, args: &ReportArgs) -> Result<()> {
    let range = resolve_range(app, args)?;
    let mut store = app.open_store_to_read()?;
    crate::refresh::refresh_unless_read_only(app, &mut store)?;
    let (from, to) = workday::days_window(range.since, range.until, range.tz);
    let sessions = store.query_range(from, to)?;
    let projects = Classifier::default().classify_all(&sessions);
    let tags = store.tag_names()?;
    let mut classified = pair_tagged(&sessions, &projects, &tags);
    if let Some(wanted) = &args.tag {
        classified.retain(|c| c.tags.iter().any(|t| t == wanted));
    }
    let text = match (args.by, args.json) {
        (Grouping::Project, false) => report::project_table(&report::by_project(&classified, range), range),
        (Grouping::Project, true) => {
            report::project_json(&report::by_project(&classified, range), range) + "\n"
        }
        (Grouping::Day, false) => report::day_table(&report::by_day(&classified, range), range),
        (Grouping::Day, true) => report::day_json(&report::by_day(&classified, range), range) + "\n",
        (Grouping::Tag, false) => report::tag_table(&report::by_tag(&classified, range), range),
        (Grouping::Tag, true) => report::tag_json(&report::by_tag(&classified, range), range) + "\n",
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

fn resolve_range(app: &App, args: &ReportArgs) -> Result<ReportRange> {
    let today = workday::local_date(app.now, app.tz);
    let (since, until) = match args.since {
        Some(since) => (since, args.until.unwrap_or(today)),
        None => {
            let days_back = match args.period {
                Period::Today => 0,
                Period::Week => 6,
                Period::Month => 29,
            };
            (today.checked_sub_days(Days::new(days_back)).unwrap_or(today), today)
        }
    };
    anyhow::ensure!(since <= until, "`--since {since}` is after `--until {until}`: swap them");
    Ok(ReportRange { since, until, tz: app.tz })
}
