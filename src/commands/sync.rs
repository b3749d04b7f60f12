//! `claude-tracker sync`: ingest, plan every past work day (and the sessions destinations' range) for
//! each destination, then print the plans side by side (`--dry-run`) or post each under the lock, with
//! progress and a summary (the planning layer, `planning`). One destination failing does not stop the
//! others; the run then exits non-zero.

use std::io::Write;

use anyhow::Result;

use crate::app::App;
use crate::cli::SyncArgs;
use crate::destination::{self, Destination};
use crate::planning::{PostOptions, Window, day_range, plan_and_post, sessions_around, work_done_around};
use crate::workday;

/// Runs `sync`.
pub(crate) fn run(app: &App, args: &SyncArgs) -> Result<()> {
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let destinations: Vec<Destination> = destination::configured(&app.config, app.tz)
        .into_iter()
        .filter(|d| args.to.is_none_or(|only| only == d.service))
        .collect();
    anyhow::ensure!(
        !destinations.is_empty(),
        "no destination to sync to{}: set `[clockify] workspace_id` for Clockify or add a `[toggl]` section to {} \
         (config.example.toml shows both)",
        args.to.map_or(String::new(), |s| format!(" (`--to {}`)", s.key())),
        app.config_path.display()
    );
    let today = workday::local_date(app.now, app.tz);
    let asked = (args.since.map(|d| d.resolve(today)), args.until.map(|d| d.resolve(today).min(today)));
    let Some((since, until)) = day_range(app, asked, &store, today, true)? else {
        writeln!(std::io::stdout().lock(), "nothing to sync: no Claude Code sessions recorded yet")?;
        return Ok(());
    };
    anyhow::ensure!(since <= until, workday::empty_range(since, until));
    let sessions = sessions_around(&store, (since, until), app.tz)?;
    let done = work_done_around(app, &store, (since, until))?;
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let window = Window::days((since, until, today), app.tz, &sessions, (&tags, &folders))
        .ranged_as_asked(args.since.is_some())
        .with_work_done(&done);
    let options = PostOptions {
        rerun: "claude-tracker sync",
        dry_run: args.dry_run,
        json: args.json,
        reconcile: args.reconcile,
    };
    plan_and_post(app, &mut store, destinations, &window, options)
}
