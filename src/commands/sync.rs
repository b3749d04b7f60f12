//! `claude-tracker sync`: ingest, plan every past work day, then print the plan (`--dry-run`) or walk
//! it through Clockify under a lock, with progress and a summary.

use std::fs::{File, TryLockError};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{NaiveDate, SecondsFormat};
use serde::Serialize;

use crate::allocate::{AllocationRules, ProjectMapping};
use crate::app::App;
use crate::cli::SyncArgs;
use crate::clockify::{Clockify, ClockifyTimesheet};
use crate::commands::setup::{client_options, clockify_key, user_cache_key};
use crate::report::hours_minutes;
use crate::store::Store;
use crate::sync::plan::{DayPlan, DayStatus, PlanInput, StepState, plan};
use crate::sync::{DayReport, RunSettings, SyncCounts, Timesheet, execute};
use crate::workday;

/// Runs `sync`.
pub fn run(app: &App, args: &SyncArgs) -> Result<()> {
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
    let sync = &app.config.sync;
    let workspace_id = match (&sync.workspace_id, args.dry_run) {
        (Some(id), _) => id.clone(),
        (None, true) => String::new(),
        (None, false) => anyhow::bail!(
            "set `[sync] workspace_id` in {} (`claude-tracker setup` lists your workspaces)",
            app.config_path.display()
        ),
    };
    let today = workday::local_date(app.now, app.tz);
    let Some((since, until)) = day_range(app, args, &store, today)? else {
        writeln!(std::io::stdout().lock(), "nothing to sync: no Claude Code sessions recorded yet")?;
        return Ok(());
    };
    let (from, to) = workday::days_window(since, until, app.tz);
    let sessions = store.query_range(from, to)?;
    let ledger = store.ledger(&workspace_id)?;
    let rules = allocation_rules(app);
    let input = PlanInput {
        since,
        until,
        today,
        work_days: &sync.work_days,
        sessions: &sessions,
        rules: &rules,
        ledger: &ledger,
    };
    let mut days = plan(&input);
    if args.dry_run {
        let text = if args.json { plan_json(&days, false) } else { plan_text(&days, app) };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(());
    }
    let _lock = SyncLock::acquire(&app.db_path)?;
    let (counts, requests) = post(app, args, &mut store, &workspace_id, &mut days)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        out.write_all(plan_json(&days, true).as_bytes())?;
    } else {
        out.write_all(summary(&days, counts, requests).as_bytes())?;
    }
    Ok(())
}

/// The days to consider: from `--since`, else the later of `start_date` and the first session's day;
/// through `--until`, else today (which the plan shows but never syncs). `None` when there are no
/// sessions at all.
fn day_range(
    app: &App,
    args: &SyncArgs,
    store: &Store,
    today: NaiveDate,
) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let until = args.until.map_or(today, |until| until.min(today));
    let since = match args.since {
        Some(since) => since,
        None => {
            let Some(first) = store.earliest_activity()? else { return Ok(None) };
            let first = chrono::DateTime::from_timestamp_millis(first).unwrap_or_default();
            let first_day = workday::local_date(first, app.tz);
            app.config.sync.start_date.map_or(first_day, |start| start.max(first_day))
        }
    };
    anyhow::ensure!(
        since <= until,
        "`--since {since}` is after the last day to sync ({until}): nothing to do"
    );
    Ok(Some((since, until)))
}

fn allocation_rules(app: &App) -> AllocationRules {
    let sync = &app.config.sync;
    AllocationRules {
        tz: app.tz,
        work_day_start: sync.work_day_start,
        work_day_end: sync.work_day_end,
        round_to_minutes: sync.round_to_minutes,
        mapping: ProjectMapping::new(sync.project_mapping.iter().map(|(p, id)| (p.clone(), id.clone()))),
        other_project_id: sync.other_project_id.clone().unwrap_or_default(),
    }
}

/// Posts the plan, with a progress bar on a terminal and one line per day otherwise.
fn post(
    app: &App,
    args: &SyncArgs,
    store: &mut Store,
    workspace_id: &str,
    days: &mut [DayPlan],
) -> Result<(SyncCounts, u64)> {
    let key = clockify_key(app)?;
    let base_url = &app.config.clockify.base_url;
    let cache_key = user_cache_key(base_url, &key);
    let options = client_options();
    let mut timesheet = ClockifyTimesheet {
        client: Clockify::new(base_url, key, options),
        workspace_id: workspace_id.to_string(),
        user_id: store.cached(&cache_key)?,
    };
    let settings = RunSettings {
        workspace_id,
        description: &app.config.sync.description,
        billable: app.config.sync.billable,
        reconcile: args.reconcile,
        post_attempts: options.attempts,
        backoff: options.backoff,
        now: app.now,
    };
    let planned = days.iter().filter(|d| d.status == DayStatus::Planned).count() as u64;
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(planned);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} days  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut on_day = |day: &DayPlan, report: DayReport| {
        let line = format!("{} synced: {} posted, {} adopted", day.date, report.posted, report.adopted);
        match &bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
            }
            None if !args.json => println!("{line}"),
            None => {}
        }
    };
    let result = execute(days, store, &mut timesheet, &settings, &mut on_day);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let Some(id) = timesheet.known_user_id()
        && store.cached(&cache_key)?.is_none()
    {
        store.cache(&cache_key, id)?;
    }
    let counts = result?;
    Ok((counts, timesheet.requests_sent()))
}

fn summary(days: &[DayPlan], counts: SyncCounts, requests: u64) -> String {
    let count = |status: DayStatus| days.iter().filter(|d| d.status == status).count();
    let weekend = days.iter().filter(|d| d.status == DayStatus::NotAWorkDay).count();
    format!(
        "synced {} day(s): {} entries posted, {} adopted ({requests} requests)\n\
         skipped: {} already synced, {weekend} not work days, {} without sessions, {} today or later\n",
        counts.days_synced,
        counts.entries_posted,
        counts.entries_adopted,
        count(DayStatus::Synced) - counts.days_synced,
        count(DayStatus::NoSessions),
        count(DayStatus::Today),
    )
}

/// The dry-run table: each day's status and, for planned days, each entry.
fn plan_text(days: &[DayPlan], app: &App) -> String {
    let mut text = String::new();
    let mut entries = 0;
    for day in days {
        text.push_str(&format!("{} {}  {}\n", day.date, day.date.format("%a"), day.status.label(day.date)));
        for step in &day.steps {
            let entry = &step.entry;
            entries += 1;
            let local =
                |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&app.tz).format("%H:%M").to_string();
            let project = match (&entry.mapped_path, entry.project_id.is_empty()) {
                (Some(path), _) => format!("{path} -> {}", entry.project_id),
                (None, false) => format!("Other -> {}", entry.project_id),
                (None, true) => "Other -> (set `[sync] other_project_id`)".to_string(),
            };
            let state = match step.state {
                StepState::ToPost => "",
                StepState::Posted(_) => "  (posted)",
                StepState::InDoubt { .. } => "  (in doubt: will check before posting)",
            };
            text.push_str(&format!(
                "    {}-{}  {:>5}  {:>5.1}%  {project}{state}\n",
                local(entry.start),
                local(entry.end),
                hours_minutes(entry.seconds),
                f64::from(entry.share_ppm) / 10_000.0
            ));
        }
    }
    let planned = days.iter().filter(|d| d.status == DayStatus::Planned).count();
    text.push_str(&format!(
        "\n{planned} day(s) to sync, {entries} entries ({} time zone, work day {}-{}); dry run: nothing was posted\n",
        app.tz.name(),
        app.config.sync.work_day_start.format("%H:%M"),
        app.config.sync.work_day_end.format("%H:%M")
    ));
    text
}

#[derive(Serialize)]
struct JsonDay {
    date: String,
    status: &'static str,
    entries: Vec<JsonEntry>,
}

#[derive(Serialize)]
struct JsonEntry {
    project_id: String,
    start: String,
    end: String,
    seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    clockify_entry_id: Option<String>,
}

/// `--json`: one object per day (days not yet over are left out). After a real run, the days synced by
/// it carry their entries with their Clockify ids.
fn plan_json(days: &[DayPlan], after_run: bool) -> String {
    let rows: Vec<JsonDay> = days
        .iter()
        .filter(|d| d.status != DayStatus::Today)
        .map(|day| JsonDay {
            date: day.date.to_string(),
            status: day.status.json_name(),
            entries: day
                .steps
                .iter()
                .filter(|s| !after_run || matches!(s.state, StepState::Posted(_)))
                .map(|step| JsonEntry {
                    project_id: step.entry.project_id.clone(),
                    start: step.entry.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                    end: step.entry.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                    seconds: step.entry.seconds,
                    clockify_entry_id: match (&step.state, after_run) {
                        (StepState::Posted(id), true) => Some(id.clone()),
                        _ => None,
                    },
                })
                .collect(),
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_default() + "\n"
}

/// An exclusive lock beside the database for the length of a sync: a second sync exits at once.
struct SyncLock {
    _file: File,
}

impl SyncLock {
    fn acquire(db_path: &std::path::Path) -> Result<SyncLock> {
        let mut path = PathBuf::from(db_path);
        path.as_mut_os_string().push(".sync.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(SyncLock { _file: file }),
            Err(TryLockError::WouldBlock) => anyhow::bail!(
                "another `claude-tracker sync` is running (lock {}): wait for it to finish; nothing was posted",
                path.display()
            ),
            Err(TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}
