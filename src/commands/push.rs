//! `claude-tracker push` (seed 003 §2): the real timeline to the destinations in sessions mode, through
//! the same planner, ledger and executor as `sync` (which posts sessions destinations too); `--csv`
//! writes the entries without any destination. Also the sessions-mode dry-run listing and summary that
//! `sync` prints.

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::cli::PushArgs;
use crate::connect::known_workspace;
use crate::destination::{self, Destination, Service};
use crate::export::{PUSH_HEADER, push_rows};
use crate::ledger::{Ledger, LedgerScope};
use crate::store::Store;
use crate::sync::sessions::{SessionsInput, default_first_day};
use crate::sync::steps::{EntryMode, EntryTemplate, Granularity};
use crate::workday::{self, BoundEnd, WhenArg};

use crate::planning::{
    PostOptions, Window, plan_and_post, sessions_around, timeline_settings, work_done_around,
};

/// Runs `push`.
pub(crate) fn run(app: &App, args: &PushArgs) -> Result<()> {
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    if args.csv {
        return write_csv(app, args, &store);
    }
    let today = workday::local_date(app.now, app.tz);
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let mut failures = Vec::new();
    // Each destination over its own range (it starts from its own last push), one after the other; one
    // failing does not stop the next.
    for destination in chosen(app, args)? {
        let workspace = known_workspace(&destination, &store)?.unwrap_or_default();
        let scope = LedgerScope { destination: destination.service.key(), workspace_id: &workspace };
        let ledger = store.ledger(scope)?;
        let first = default_first_day(&ledger, app.tz, today, app.config.sync.start_date);
        let (from, to) = range(app, args, &store, Some(first))?;
        let (since, until) = (workday::local_date(from, app.tz), workday::local_date(to, app.tz));
        let sessions = sessions_around(&store, (since, until), app.tz)?;
        let done = work_done_around(app, &store, (since, until))?;
        let window = Window {
            since,
            until,
            today,
            from,
            to,
            sessions: &sessions,
            tags: &tags,
            folders: &folders,
            done: &done,
            force: args.force,
            live: false,
            quota_left: None,
            default_range: false,
        };
        let options = PostOptions {
            rerun: "claude-tracker push",
            dry_run: args.dry_run,
            json: false,
            reconcile: false,
        };
        if let Err(error) = plan_and_post(app, &mut store, vec![destination], &window, options) {
            failures.push(format!("{error:#}"));
        }
    }
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// The destinations `--toggl`/`--clockify` name (else every one in sessions mode); one in workday mode
/// is refused with what to change.
fn chosen(app: &App, args: &PushArgs) -> Result<Vec<Destination>> {
    let configured = destination::configured(&app.config, app.tz);
    let named: Vec<Service> = [(args.toggl, Service::Toggl), (args.clockify, Service::Clockify)]
        .into_iter()
        .filter_map(|(wanted, service)| wanted.then_some(service))
        .collect();
    let mut chosen = Vec::new();
    for service in &named {
        let section = service.key();
        let Some(destination) = configured.iter().find(|d| d.service == *service) else {
            anyhow::bail!(
                "{} is not set up: add a `[{section}]` section to {} (config.example.toml shows one), with \
                 `mode = \"sessions\"`",
                service.name(),
                app.config_path.display()
            );
        };
        anyhow::ensure!(
            destination.mode != EntryMode::Workday,
            "{} is in workday mode (the daily split, posted by `claude-tracker sync`): to push the real \
             timeline, set `mode = \"sessions\"` in `[{section}]` of {}",
            service.name(),
            app.config_path.display()
        );
        chosen.push(destination.clone());
    }
    if named.is_empty() {
        chosen = configured.into_iter().filter(|d| d.mode != EntryMode::Workday).collect();
        anyhow::ensure!(
            !chosen.is_empty(),
            "no destination is in sessions mode: set `mode = \"sessions\"` in `[toggl]` or `[clockify]` of {} \
             (or use `--csv`)",
            app.config_path.display()
        );
    }
    Ok(chosen)
}

/// `[from, to)`: `--since`, else (with `--all`) the first session, else `default_first` (the one range
/// rule of sessions mode, [`default_first_day`]; Monday of this week without a ledger); never before
/// `start_date`. Through `--until`, else now.
fn range(
    app: &App,
    args: &PushArgs,
    store: &Store,
    default_first: Option<chrono::NaiveDate>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let today = workday::local_date(app.now, app.tz);
    let bound = |when: &WhenArg, end| when.resolve(end, today, app.tz);
    let default_first = default_first
        .unwrap_or_else(|| default_first_day(&Ledger::default(), app.tz, today, app.config.sync.start_date));
    let from = match (&args.since, args.all) {
        (Some(since), _) => bound(since, BoundEnd::Start),
        (None, true) => {
            store.earliest_activity()?.and_then(DateTime::from_timestamp_millis).unwrap_or(app.now)
        }
        (None, false) => workday::day_start(default_first, app.tz),
    };
    let from = match app.config.sync.start_date {
        Some(start) => from.max(workday::day_start(start, app.tz)),
        None => from,
    };
    let to = match &args.until {
        Some(until) => bound(until, BoundEnd::End),
        None => app.now,
    };
    anyhow::ensure!(
        from < to,
        workday::empty_range(
            workday::bound_label(from, BoundEnd::Start, app.tz),
            workday::bound_label(to, BoundEnd::End, app.tz)
        )
    );
    Ok((from, to))
}

/// `--csv`: the closed entries of the range, each project its own (no destination), as seed 003's
/// columns.
fn write_csv(app: &App, args: &PushArgs, store: &Store) -> Result<()> {
    let (from, to) = range(app, args, store, None)?;
    let (since, until) = (workday::local_date(from, app.tz), workday::local_date(to, app.tz));
    let sessions = sessions_around(store, (since, until), app.tz)?;
    let done = work_done_around(app, store, (since, until))?;
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    // No destination, so the defaults bill: active time, automated sessions left out.
    let sessions =
        crate::attention::billed(&sessions, &app.rules, &folders, crate::attention::Billing::default());
    let rules = destination::local_rules(&app.config, app.tz, sessions.iter().map(|s| s.project.as_str()));
    // No service: no limit on a description.
    let template =
        EntryTemplate { description: app.config.sync.description.clone(), ..EntryTemplate::default() };
    let plan = crate::sync::sessions::plan(&SessionsInput {
        from,
        to,
        earliest: app.config.sync.start_date.map_or(from, |start| workday::day_start(start, app.tz)),
        sessions: &sessions,
        rules: &rules,
        template: &template,
        tag_rules: &app.rules,
        session_tags: &tags,
        folders: &folders,
        done: &done,
        granularity: Granularity::Segment,
        timeline: timeline_settings(app),
        ledger: &Ledger::default(),
        force: false,
        live: false,
        switch_min_ms: 0,
        stop_running: false,
    });
    let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
    writer.write_record(PUSH_HEADER)?;
    for row in push_rows(&plan.batches, app.tz) {
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(())
}
