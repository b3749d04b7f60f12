//! `claude-tracker export --csv`: sessions, or the plan `sync` would post (per destination), to stdout.

use std::io::Write;

use anyhow::Result;
use chrono::Days;

use crate::app::App;
use crate::cli::{ExportArgs, ExportFormat};
use crate::connect::known_workspace;
use crate::destination;
use crate::export::{ALLOCATION_HEADER, SESSION_HEADER, allocation_rows, session_rows};
use crate::ledger::Ledger;
use crate::store::Store;
use crate::sync::daily::{PlanInput, plan};
use crate::sync::steps::EntryTemplate;
use crate::workday;

use crate::planning::{Window, day_range, plan_for};

/// Runs `export`.
pub(crate) fn run(app: &App, args: &ExportArgs) -> Result<()> {
    let mut store = app.open_store_to_read()?;
    crate::refresh::refresh_unless_read_only(app, &mut store)?;
    if args.format == ExportFormat::Jsonl {
        return portable_file(app, &mut store, args);
    }
    let today = workday::local_date(app.now, app.tz);
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let default_until = if args.sessions { today } else { yesterday };
    let asked = (args.since.map(|d| d.resolve(today)), args.until.map(|d| d.resolve(today)));
    let range = (asked.0, Some(asked.1.unwrap_or(default_until)));
    // Sessions are as recorded; allocations are the plan `sync` sees, from `start_date` on (a range that
    // `start_date` leaves empty gives the header alone).
    let (since, until) = day_range(app, range, &store, today, !args.sessions)?
        .unwrap_or((asked.0.unwrap_or(default_until), asked.1.unwrap_or(default_until)));
    if let Some(asked) = asked.0 {
        anyhow::ensure!(asked <= until, workday::empty_range(asked, until));
    }
    let (from, to) = workday::days_window(since, until, app.tz);
    let sessions = store.query_range(from, to)?;
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    if args.sessions {
        writer.write_record(SESSION_HEADER)?;
        for row in session_rows(&sessions, &store.tag_names()?, since, until, app.tz) {
            writer.write_record(&row)?;
        }
    } else {
        writer.write_record(ALLOCATION_HEADER)?;
        let tags = store.tag_names()?;
        let folders = store.folder_targets()?;
        let window = Window::days((since, until, today), app.tz, &sessions, (&tags, &folders))
            .ranged_as_asked(args.since.is_some());
        let destinations = destination::configured(&app.config, app.tz);
        if destinations.is_empty() {
            // No destination: every project is its own bucket, its id its path; nothing was posted; the
            // defaults bill (active time, automated sessions left out).
            let sessions = crate::attention::billed(
                &sessions,
                &app.rules,
                &folders,
                crate::attention::Billing::default(),
            );
            let rules =
                destination::local_rules(&app.config, app.tz, sessions.iter().map(|s| s.project.as_str()));
            let batches = plan(&PlanInput {
                since,
                until,
                today,
                work_days: &app.config.sync.work_days,
                sessions: &sessions,
                rules: &rules,
                template: &EntryTemplate::default(),
                tag_rules: &app.rules,
                session_tags: &tags,
                folders: &folders,
                // Allocations carry no description.
                done: &crate::descriptions::NOTHING_DONE,
                ledger: &Ledger::default(),
                show_synced: true,
            });
            for row in allocation_rows(&batches, "local", app.tz) {
                writer.write_record(&row)?;
            }
        }
        for destination in &destinations {
            let workspace = known_workspace(destination, &store)?.unwrap_or_default();
            let planned = plan_for(app, &store, destination, &workspace, &window, true)?;
            for row in allocation_rows(&planned.days, destination.service.key(), app.tz) {
                writer.write_record(&row)?;
            }
        }
    }
    writer.flush()?;
    Ok(())
}

/// `export --format jsonl`: every session (or those touching `--since`..`--until`) in the portable
/// form, written by this machine.
fn portable_file(app: &App, store: &mut Store, args: &ExportArgs) -> Result<()> {
    anyhow::ensure!(
        !args.allocations,
        "`--format jsonl` writes sessions, not allocations: leave out `--allocations` (CSV has them)"
    );
    let machine = if store.is_read_only() {
        let id = store.known_machine_id()?.unwrap_or_default();
        crate::portable::MachineRef { id, name: app.machine.clone() }
    } else {
        crate::share::this_machine(app, store)?
    };
    let today = workday::local_date(app.now, app.tz);
    let mut sessions = store.portable_sessions(false)?;
    if args.since.is_some() || args.until.is_some() {
        let since = args.since.map_or(chrono::NaiveDate::MIN, |d| d.resolve(today));
        let until = args.until.map_or(today, |d| d.resolve(today));
        anyhow::ensure!(since <= until, workday::empty_range(since, until));
        let (from, to) = workday::days_window(since, until, app.tz);
        sessions.retain(|s| s.digest.bounds().is_some_and(|(first, last)| last >= from && first < to));
    }
    let written_at = app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let text = crate::portable::write(&machine, &written_at, &sessions);
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
