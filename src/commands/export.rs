//! `claude-tracker export --csv`: sessions, or the allocations sync would post, to stdout.

use anyhow::Result;
use chrono::{Datelike, Days, NaiveDate};

use crate::app::App;
use crate::cli::ExportArgs;
use crate::destination;
use crate::export::{ALLOCATION_HEADER, SESSION_HEADER, allocation_rows, session_rows};
use crate::workday;

/// Runs `export`.
pub fn run(app: &App, args: &ExportArgs) -> Result<()> {
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
    let today = workday::local_date(app.now, app.tz);
    let default_until =
        if args.sessions { today } else { today.checked_sub_days(Days::new(1)).unwrap_or(today) };
    let until = args.until.unwrap_or(default_until);
    let since = match args.since {
        Some(since) => since,
        None => match store.earliest_activity()? {
            Some(first) => workday::local_date(
                chrono::DateTime::from_timestamp_millis(first).unwrap_or_default(),
                app.tz,
            ),
            None => until,
        },
    };
    anyhow::ensure!(since <= until, "`--since {since}` is after `--until {until}`: swap them");
    let (from, to) = workday::days_window(since, until, app.tz);
    let sessions = store.query_range(from, to)?;
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    if args.sessions {
        writer.write_record(SESSION_HEADER)?;
        for row in session_rows(&sessions, since, until, app.tz) {
            writer.write_record(&row)?;
        }
    } else {
        writer.write_record(ALLOCATION_HEADER)?;
        let work_days = &app.config.sync.work_days;
        let dates = || workday::dates(since, until).filter(|d: &NaiveDate| work_days.contains(&d.weekday()));
        let destinations = destination::configured(&app.config, app.tz);
        if destinations.is_empty() {
            let rules =
                destination::local_rules(&app.config, app.tz, sessions.iter().map(|s| s.project.as_str()));
            for row in allocation_rows(&sessions, dates(), "local", &rules) {
                writer.write_record(&row)?;
            }
        }
        for destination in &destinations {
            for row in allocation_rows(&sessions, dates(), destination.service.key(), &destination.rules) {
                writer.write_record(&row)?;
            }
        }
    }
    writer.flush()?;
    Ok(())
}
