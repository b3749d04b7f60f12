//! `claude-tracker sync`: ingest, plan every past work day for each destination, then print the plans
//! side by side (`--dry-run`) or walk each through its service under a lock, with progress and a
//! summary. One destination failing does not stop the others; the run then exits non-zero.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{NaiveDate, SecondsFormat};

use crate::app::App;
use crate::cli::SyncArgs;
use crate::connect::{connect, known_workspace};
use crate::destination::{self, Destination};
use crate::ledger::LedgerScope;
use crate::report::hours_minutes;
use crate::sessions::Session;
use crate::store::Store;
use crate::sync::daily::{PlanInput, plan};
use crate::sync::steps::{Action, Batch, DayStatus, Step};
use crate::sync::{BatchReport, Progress, RunSettings, SyncCounts, execute};
use crate::workday;

/// One destination's plan.
struct DestinationPlan {
    destination: Destination,
    days: Vec<Batch>,
}

/// Runs `sync`.
pub(crate) fn run(app: &App, args: &SyncArgs) -> Result<()> {
    let mut store = app.open_store()?;
    super::ingest::refresh(app, &mut store)?;
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
    let Some((since, until)) =
        day_range(app, (args.since, args.until.map(|u| u.min(today))), &store, today, true)?
    else {
        writeln!(std::io::stdout().lock(), "nothing to sync: no Claude Code sessions recorded yet")?;
        return Ok(());
    };
    anyhow::ensure!(
        since <= until,
        "`--since {since}` is after the last day to sync ({until}): nothing to do"
    );
    let (from, to) = workday::days_window(since, until, app.tz);
    let sessions = store.query_range(from, to)?;
    let tags = store.tag_names()?;
    let window = Window { since, until, today, sessions: &sessions, tags: &tags };
    if args.dry_run {
        let mut plans = Vec::new();
        for destination in destinations {
            let workspace = known_workspace(&destination, &store)?.unwrap_or_default();
            let days = plan_for(app, &store, &destination, &workspace, &window, false)?;
            plans.push(DestinationPlan { destination, days });
        }
        let text = if args.json { plans_json(&plans, false) } else { plans_text(&plans, app) };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(());
    }
    let _lock = SyncLock::acquire(&app.db_path)?;
    let mut plans = Vec::new();
    let mut summaries = String::new();
    let mut failures = Vec::new();
    for destination in destinations {
        let name = destination.service.name();
        match post(app, args, &mut store, &destination, &window) {
            Ok((days, counts, requests)) => {
                summaries.push_str(&summary(name, &days, counts, requests));
                plans.push(DestinationPlan { destination, days });
            }
            Err(error) => {
                summaries.push_str(&format!("{name}: stopped (see below)\n"));
                failures.push(format!("{name}: {error:#}"));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        out.write_all(plans_json(&plans, true).as_bytes())?;
    } else {
        out.write_all(summaries.as_bytes())?;
    }
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// What every destination's plan shares: the days and the sessions in them.
pub(super) struct Window<'a> {
    pub(super) since: NaiveDate,
    pub(super) until: NaiveDate,
    pub(super) today: NaiveDate,
    pub(super) sessions: &'a [Session],
    /// Each session's tags, by session id.
    pub(super) tags: &'a BTreeMap<String, Vec<String>>,
}

/// One destination's daily plan over the window: what `sync` posts and `export --allocations` writes.
/// With `show_synced`, days already synced carry the entries they were posted with.
pub(super) fn plan_for(
    app: &App,
    store: &Store,
    destination: &Destination,
    workspace_id: &str,
    window: &Window<'_>,
    show_synced: bool,
) -> Result<Vec<Batch>> {
    let ledger = store.ledger(LedgerScope { destination: destination.service.key(), workspace_id })?;
    Ok(plan(&PlanInput {
        since: window.since,
        until: window.until,
        today: window.today,
        work_days: &app.config.sync.work_days,
        sessions: window.sessions,
        rules: &destination.rules,
        template: &destination.template,
        tag_rules: &app.rules,
        session_tags: window.tags,
        ledger: &ledger,
        show_synced,
    }))
}

/// The days to consider: from `since`, else the day of the first session, but (with `floor`) never before
/// `start_date`; through `until`, else today (which the plan shows but never syncs). `None` when there
/// are no sessions at all. The first day may come out after the last: nothing to do.
pub(super) fn day_range(
    app: &App,
    (since, until): (Option<NaiveDate>, Option<NaiveDate>),
    store: &Store,
    today: NaiveDate,
    floor: bool,
) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let until = until.unwrap_or(today);
    let since = match since {
        Some(since) => since,
        None => {
            let Some(first) = store.earliest_activity()? else { return Ok(None) };
            let first = chrono::DateTime::from_timestamp_millis(first).unwrap_or_default();
            workday::local_date(first, app.tz)
        }
    };
    // `start_date` is a floor even for `--since`: days before it may have been entered by hand.
    let since = match app.config.sync.start_date {
        Some(start) if floor => start.max(since),
        _ => since,
    };
    Ok(Some((since, until)))
}

/// Connects to one destination, plans it and posts the plan, with a progress bar on a terminal and one
/// line per day otherwise.
fn post(
    app: &App,
    args: &SyncArgs,
    store: &mut Store,
    destination: &Destination,
    window: &Window<'_>,
) -> Result<(Vec<Batch>, SyncCounts, u64)> {
    let mut connection = connect(app, destination, store)?;
    let mut days = plan_for(app, store, destination, &connection.workspace_id, window, false)?;
    let settings = RunSettings {
        scope: LedgerScope { destination: destination.service.key(), workspace_id: &connection.workspace_id },
        reconcile: args.reconcile,
        post_attempts: connection.options.attempts,
        unmapped_time_hint: destination.service.unmapped_time_hint(),
        backoff: connection.options.backoff,
        pause: app.pause.clone(),
        now: app.now,
    };
    let planned = days.iter().filter(|d| d.status == DayStatus::Planned).count() as u64;
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(planned);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} days  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(destination.service.name());
        bar
    });
    let mut progress = DayLines { service: destination.service.key(), bar: bar.as_ref(), quiet: args.json };
    let result = execute(&mut days, store, connection.timesheet.as_mut(), &settings, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    connection.remember(store)?;
    let counts = result?;
    Ok((days, counts, connection.timesheet.requests_sent()))
}

/// Progress of a real sync: the bar on a terminal, else one line per day on stdout (none with `--json`).
struct DayLines<'a> {
    service: &'static str,
    bar: Option<&'a indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress for DayLines<'_> {
    fn batch_done(&mut self, day: &Batch, report: BatchReport) -> std::io::Result<()> {
        let line = format!(
            "{} {} synced: {} posted, {} adopted",
            day.date, self.service, report.posted, report.adopted
        );
        match self.bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
                Ok(())
            }
            None if !self.quiet => writeln!(std::io::stdout().lock(), "{line}"),
            None => Ok(()),
        }
    }
}

fn summary(service: &str, days: &[Batch], counts: SyncCounts, requests: u64) -> String {
    let count = |status: DayStatus| days.iter().filter(|d| d.status == status).count();
    format!(
        "{service}: synced {} day(s): {} entries posted, {} adopted ({requests} requests)\n\
         skipped: {} already synced, {} not work days, {} without sessions, {} today or later\n",
        counts.days_synced,
        counts.entries_posted,
        counts.entries_adopted,
        count(DayStatus::Synced) - counts.days_synced,
        count(DayStatus::NotAWorkDay),
        count(DayStatus::NoSessions),
        count(DayStatus::Today),
    )
}

/// The dry-run table: per day, each destination's status and, for planned days, each entry.
fn plans_text(plans: &[DestinationPlan], app: &App) -> String {
    let mut text = String::new();
    let single = plans.len() == 1;
    let dates: Vec<NaiveDate> =
        plans.first().map(|p| p.days.iter().map(|d| d.date).collect()).unwrap_or_default();
    for (index, date) in dates.iter().enumerate() {
        if !single {
            text.push_str(&format!("{date} {}\n", date.format("%a")));
        }
        for destination_plan in plans {
            let day = &destination_plan.days[index];
            let label = day.status.label(day.date);
            if single {
                text.push_str(&format!("{date} {}  {label}\n", date.format("%a")));
            } else {
                text.push_str(&format!("  {:<9} {label}\n", destination_plan.destination.service.key()));
            }
            for step in &day.steps {
                text.push_str(&entry_line(step, &destination_plan.destination, app));
            }
        }
    }
    for destination_plan in plans {
        let planned = destination_plan.days.iter().filter(|d| d.status == DayStatus::Planned).count();
        let entries: usize = destination_plan.days.iter().map(|d| d.steps.len()).sum();
        text.push_str(&format!(
            "\n{}: {planned} day(s) to sync, {entries} entries",
            destination_plan.destination.service.name()
        ));
    }
    text.push_str(&format!(
        "\n({} time zone, work day {}-{}); dry run: nothing was posted\n",
        app.tz.name(),
        app.config.sync.work_day_start.format("%H:%M"),
        app.config.sync.work_day_end.format("%H:%M")
    ));
    text
}

fn entry_line(step: &Step, destination: &Destination, app: &App) -> String {
    let entry = &step.entry;
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&app.tz).format("%H:%M").to_string();
    let project = match (&entry.mapped_path, &entry.project_id) {
        (Some(path), Some(id)) => format!("{path} -> {id}"),
        (Some(path), None) => format!("{path} -> (unmapped)"),
        (None, Some(id)) => format!("Other -> {id}"),
        (None, None) => format!("Other -> (set {})", destination.service.other_project_setting()),
    };
    let state = match step.action {
        Action::Create => "",
        Action::Keep { .. } => "  (posted)",
        Action::Adopt { .. } => "  (in doubt: will check before posting)",
        Action::Update { .. } => "  (update)",
        Action::Delete { .. } => "  (delete)",
        Action::Start => "  (start)",
        Action::Stop { .. } => "  (stop)",
    };
    let tags = if entry.tags.is_empty() { String::new() } else { format!("  [{}]", entry.tags.join(", ")) };
    format!(
        "    {}-{}  {:>5}  {:>5.1}%  {project}{tags}{state}\n",
        local(entry.start),
        local(entry.end),
        hours_minutes(entry.seconds),
        f64::from(entry.share_ppm) / 10_000.0
    )
}

/// `--json`: one object per day and destination, by date (days not yet over are left out). After a real
/// run, the days synced by it carry their entries with the service's ids (`clockify_entry_id`,
/// `toggl_entry_id`).
fn plans_json(plans: &[DestinationPlan], after_run: bool) -> String {
    let mut rows: Vec<(NaiveDate, usize, serde_json::Value)> = Vec::new();
    for (order, destination_plan) in plans.iter().enumerate() {
        let service = destination_plan.destination.service.key();
        for day in destination_plan.days.iter().filter(|d| d.status != DayStatus::Today) {
            let entries: Vec<serde_json::Value> = day
                .steps
                .iter()
                .filter(|s| !after_run || !s.action.is_pending())
                .map(|step| {
                    let mut entry = serde_json::json!({
                        "project_id": step.entry.project_id.as_deref().unwrap_or(""),
                        "start": step.entry.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                        "end": step.entry.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                        "seconds": step.entry.seconds,
                    });
                    if !step.entry.tags.is_empty() {
                        entry["tags"] = serde_json::json!(step.entry.tags);
                    }
                    if let (Action::Keep { remote_id: id }, true) = (&step.action, after_run) {
                        entry[format!("{service}_entry_id")] = serde_json::json!(id);
                    }
                    entry
                })
                .collect();
            let row = serde_json::json!({
                "date": day.date.to_string(),
                "destination": service,
                "status": day.status.json_name(),
                "entries": entries,
            });
            rows.push((day.date, order, row));
        }
    }
    rows.sort_by_key(|(date, order, _)| (*date, *order));
    let values: Vec<serde_json::Value> = rows.into_iter().map(|(_, _, row)| row).collect();
    serde_json::to_string(&values).unwrap_or_default() + "\n"
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
