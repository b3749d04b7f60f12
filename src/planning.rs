//! The planning layer every posting and viewing command calls (`sync`, `push`, `watch`, `status`,
//! `export`, the dashboard): one destination's plan over a window in its mode (the pure planners in
//! `sync::*` over the store's sessions and ledger), posting a plan through a connection and the one
//! executor, the dry-run listings and summaries, and the locks. No command imports another command;
//! they all come here. Thin: the rules live in the core (`sync::sessions::default_first_day`,
//! `sync::daily`, `sync::sessions`, `sync::live`); this reads the store, connects, and words.

use std::collections::BTreeMap;
use std::fs::{File, TryLockError};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::allocate::PlannedEntry;
use crate::app::App;
use crate::connect::{connect, known_workspace};
use crate::descriptions::{NOTHING_DONE, WorkDone};
use crate::destination::{self, Destination};
use crate::figures::{self, ShownSpan};
use crate::folders::FolderTargets;
use crate::ledger::{EntryState, Ledger, LedgerScope};
use crate::overrides::HeldBack;
use crate::sessions::Session;
use crate::store::Store;
use crate::sync::daily::{PlanInput, plan};
use crate::sync::live::min_entry_ms;
use crate::sync::sessions::{SessionsInput, default_first_day, last_day_in};
use crate::sync::steps::{Action, Batch, DayStatus, EntryMode, Step};
use crate::sync::{BatchReport, FailureKind, Progress, RunSettings, Stop, SyncCounts, execute};
use crate::timeline::TimelineSettings;
use crate::timesheet::{RemoteError, minutes};
use crate::workday;

/// One destination's plan.
pub(crate) struct DestinationPlan {
    pub(crate) destination: Destination,
    pub(crate) planned: Planned,
    /// Project names by id, as `clockify projects` / `toggl projects` last listed them (the dry run
    /// reads them from the cache, never asks the service; empty after a real run).
    pub(crate) names: BTreeMap<String, String>,
    /// The user's edits of the destination's entries (which rows are edited).
    pub(crate) edits: crate::overrides::Edits,
}

/// The cache key of a workspace's project names, id to name (written by `clockify projects` and
/// `toggl projects`).
pub(crate) fn project_names_key(service: destination::Service, workspace: &str) -> String {
    format!("project_names:{}:{workspace}", service.key())
}

/// A workspace's project names as last listed; empty when never listed (or unreadable: a name is a
/// convenience, never a reason to fail a dry run).
pub(crate) fn cached_project_names(
    store: &Store,
    destination: &Destination,
    workspace: &str,
) -> Result<BTreeMap<String, String>> {
    let text = store.cached(&project_names_key(destination.service, workspace))?;
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()).unwrap_or_default())
}

/// What a run of `sync` or `push` was asked to do besides the range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PostOptions {
    /// The command to run again after a stop.
    pub(crate) rerun: &'static str,
    pub(crate) dry_run: bool,
    pub(crate) json: bool,
    pub(crate) reconcile: bool,
}

/// Plans every destination over the window, then prints the plans (`--dry-run`) or posts each under
/// the lock and prints a summary per destination. One destination failing does not stop the others.
pub(crate) fn plan_and_post(
    app: &App,
    store: &mut Store,
    destinations: Vec<Destination>,
    window: &Window<'_>,
    options: PostOptions,
) -> Result<()> {
    if options.dry_run {
        return print_plans(app, store, destinations, window, options);
    }
    // A destination another machine posts (`post_from`) is planned here as a dry run, and said so.
    let (elsewhere, destinations): (Vec<Destination>, Vec<Destination>) =
        destinations.into_iter().partition(|d| d.posted_elsewhere(&app.machine).is_some());
    if !elsewhere.is_empty() {
        print_plans(app, store, elsewhere, window, options)?;
        if destinations.is_empty() {
            return Ok(());
        }
    }
    let _lock = FileLock::sync(&app.db_path)?;
    let mut plans = Vec::new();
    let mut summaries = String::new();
    let mut failures = Vec::new();
    for destination in destinations {
        let name = destination.service.name();
        match post(app, options, store, &destination, window) {
            Ok((planned, run, requests)) => {
                let counts = &run.counts;
                let stopped = run.stopped.is_some();
                summaries.push_str(&summary(&destination, &planned, counts, requests, app.tz, stopped));
                summaries.push_str(&held_line(&destination, &planned.held));
                if !counts.failures.is_empty() {
                    failures.push(format!("{name}: {} entries failed (listed above)", counts.failures.len()));
                }
                if let Some(error) = run.stopped {
                    failures.push(format!("{name}: {error:#}"));
                }
                plans.push(DestinationPlan {
                    destination,
                    planned,
                    names: BTreeMap::new(),
                    edits: Default::default(),
                });
            }
            Err(error) => {
                summaries.push_str(&format!("{name}: stopped (see below)\n"));
                failures.push(format!("{name}: {error:#}"));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    if options.json {
        out.write_all(plans_json(&plans, true).as_bytes())?;
    } else {
        out.write_all(summaries.as_bytes())?;
    }
    // A timer left running that this run could not stop is said, with what to do.
    for warning in crate::connect::timer_warnings(app, store)? {
        eprintln!("warning: {warning}");
    }
    anyhow::ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// Plans each destination and prints the plans without posting (`--dry-run`, or the destinations
/// another machine posts), each of the latter under a line that names the machine that posts it.
fn print_plans(
    app: &App,
    store: &Store,
    destinations: Vec<Destination>,
    window: &Window<'_>,
    options: PostOptions,
) -> Result<()> {
    let mut plans = Vec::new();
    let mut notes = String::new();
    for destination in destinations {
        if let Some(poster) = destination.posted_elsewhere(&app.machine) {
            notes.push_str(&posted_elsewhere_note(&destination, poster, &app.machine));
        }
        plans.push(destination_plan(app, store, destination, window)?);
    }
    if options.json {
        std::io::stderr().lock().write_all(notes.as_bytes())?;
        std::io::stdout().lock().write_all(plans_json(&plans, false).as_bytes())?;
    } else {
        std::io::stdout().lock().write_all((notes + &plans_text(&plans, app)).as_bytes())?;
    }
    Ok(())
}

/// The destinations asked for: `--to`, else every one (a listing) or the only one (an edit).
pub(crate) fn chosen_destinations(
    app: &App,
    to: Option<destination::Service>,
    many: bool,
) -> Result<Vec<Destination>> {
    let configured: Vec<Destination> = destination::configured(&app.config, app.tz)
        .into_iter()
        .filter(|d| to.is_none_or(|only| only == d.service))
        .collect();
    anyhow::ensure!(
        !configured.is_empty(),
        "no destination{}: set `[clockify] workspace_id` for Clockify or add a `[toggl]` section to {}",
        to.map_or(String::new(), |s| format!(" `{}`", s.key())),
        app.config_path.display()
    );
    anyhow::ensure!(
        many || configured.len() == 1,
        "two destinations are configured: name one with `--to clockify` or `--to toggl`"
    );
    Ok(configured)
}

/// One destination's plan as the listings show it (no request: names from the cache, the workspace as
/// known), with the user's edits.
pub(crate) fn destination_plan(
    app: &App,
    store: &Store,
    destination: Destination,
    window: &Window<'_>,
) -> Result<DestinationPlan> {
    let workspace = known_workspace(&destination, store)?.unwrap_or_default();
    let scope = LedgerScope { destination: destination.service.key(), workspace_id: &workspace };
    let ledger = store.ledger(scope)?;
    let planned = plan_with_ledger(app, &ledger, &destination, window, false);
    let names = cached_project_names(store, &destination, &workspace)?;
    Ok(DestinationPlan { destination, planned, names, edits: ledger.edits })
}

/// What the user's edits held back of a plan, in one line (empty when nothing was): said by the dry
/// runs and the real runs alike.
pub(crate) fn held_line(destination: &Destination, held: &HeldBack) -> String {
    let mut parts = Vec::new();
    if !held.excluded.is_empty() {
        parts.push(format!(
            "{} excluded entries not sent (`claude-tracker entries` lists them)",
            held.excluded.len()
        ));
    }
    if !held.waiting.is_empty() {
        parts.push(format!(
            "{} day(s) wait for your approval (`claude-tracker review`, or `claude-tracker entries approve DATE`)",
            held.waiting.len()
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{}: {}\n", destination.service.name(), parts.join("; "))
    }
}

/// The line a machine that does not post a destination gives before its plan.
pub(crate) fn posted_elsewhere_note(destination: &Destination, poster: &str, machine: &str) -> String {
    format!(
        "{}: posted from `{poster}` (`post_from`), not from this machine (`{machine}`): planned here, nothing \
         sent; `{poster}` posts it with every machine's sessions\n",
        destination.service.name()
    )
}

/// What every destination's plan shares: the days and the sessions in them.
#[derive(Clone)]
pub(crate) struct Window<'a> {
    /// The local days a workday destination plans.
    pub(crate) since: NaiveDate,
    pub(crate) until: NaiveDate,
    pub(crate) today: NaiveDate,
    /// The instants a sessions destination plans: entries starting in `[from, to)`.
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
    pub(crate) sessions: &'a [Session],
    /// Each session's tags, by session id.
    pub(crate) tags: &'a BTreeMap<String, Vec<String>>,
    /// Where folders with a symlink in them lead ([`Store::folder_targets`]).
    pub(crate) folders: &'a FolderTargets,
    /// The commits and titles descriptions are filled with ([`work_done_around`]); none unless a
    /// caller adds them ([`Window::with_work_done`]).
    pub(crate) done: &'a WorkDone,
    /// Sessions mode: re-send every recorded entry as an update.
    pub(crate) force: bool,
    /// `watch`: a live destination's open stretch gets a running entry.
    pub(crate) live: bool,
    /// `watch`: requests the service still allows this hour (fewer switches when few are left).
    pub(crate) quota_left: Option<u32>,
    /// No range was asked for: a sessions destination plans from its own default first day
    /// ([`default_first_day`], the one rule every command shares), never a whole history.
    pub(crate) default_range: bool,
}

impl<'a> Window<'a> {
    /// The local days `since..=until` (a sessions destination plans the same days' instants).
    pub(crate) fn days(
        (since, until, today): (NaiveDate, NaiveDate, NaiveDate),
        tz: chrono_tz::Tz,
        sessions: &'a [Session],
        (tags, folders): (&'a BTreeMap<String, Vec<String>>, &'a FolderTargets),
    ) -> Window<'a> {
        Window {
            since,
            until,
            today,
            from: workday::day_start(since, tz),
            to: workday::day_start(until.succ_opt().unwrap_or(until), tz),
            sessions,
            tags,
            folders,
            done: &NOTHING_DONE,
            force: false,
            live: false,
            quota_left: None,
            default_range: true,
        }
    }

    /// The window with the commits and titles its descriptions are filled with (`{commits}`,
    /// `{title}`); without, they are empty. Every command that posts or lists a plan adds them, so a
    /// listing shows what is sent and a later run sends nothing new.
    pub(crate) fn with_work_done(self, done: &'a WorkDone) -> Window<'a> {
        Window { done, ..self }
    }

    /// The window of an explicit range (`--since`): sessions destinations plan it as asked.
    pub(crate) fn ranged_as_asked(self, asked: bool) -> Window<'a> {
        Window { default_range: !asked && self.default_range, ..self }
    }
}

/// One destination's plan: its batches, the pieces of work still open (sessions mode) and, when the
/// destination changed mode, the line that says where the new mode starts.
pub(crate) struct Planned {
    pub(crate) days: Vec<Batch>,
    pub(crate) open: usize,
    pub(crate) mode_note: Option<String>,
    /// What the user's edits held back: excluded entries, days waiting for approval.
    pub(crate) held: crate::overrides::HeldBack,
}

/// One destination's plan over the window, in its mode: what `sync` and `push` post and `export
/// --allocations` writes. With `show_synced`, workday days already synced carry the entries they were
/// posted with (sessions mode always lists what it keeps).
pub(crate) fn plan_for(
    app: &App,
    store: &Store,
    destination: &Destination,
    workspace_id: &str,
    window: &Window<'_>,
    show_synced: bool,
) -> Result<Planned> {
    let ledger = store.ledger(LedgerScope { destination: destination.service.key(), workspace_id })?;
    Ok(plan_with_ledger(app, &ledger, destination, window, show_synced))
}

/// As [`plan_for`], with the destination's ledger already read.
pub(crate) fn plan_with_ledger(
    app: &App,
    ledger: &Ledger,
    destination: &Destination,
    window: &Window<'_>,
    show_synced: bool,
) -> Planned {
    // What this destination bills: automated sessions out, time cut to its `count` (every mode).
    let billed = crate::attention::billed(window.sessions, &app.rules, window.folders, destination.billing);
    let window = &Window { sessions: &billed, ..window.clone() };
    // A destination never holds both modes for one day: a mode starts after the other's last day.
    let other = match destination.mode {
        EntryMode::Workday => EntryMode::Sessions,
        EntryMode::Sessions | EntryMode::Live => EntryMode::Workday,
    };
    let floor = last_day_in(ledger, other).and_then(|last| Some((last, last.succ_opt()?)));
    let moved = floor.filter(|(_, first)| *first > workday::local_date(window.from, app.tz));
    let mode_note = moved.map(|(last, first)| {
        format!(
            "{}: days through {last} were synced in {} mode and stay as they are; {} mode starts {first}\n",
            destination.service.name(),
            other.name(),
            destination.mode.name()
        )
    });
    match destination.mode {
        EntryMode::Workday => {
            let since = moved.map_or(window.since, |(_, first)| first.max(window.since));
            let days = plan(&PlanInput {
                since,
                until: window.until,
                today: window.today,
                work_days: &app.config.sync.work_days,
                sessions: window.sessions,
                rules: &destination.rules,
                template: &destination.template,
                tag_rules: &app.rules,
                session_tags: window.tags,
                folders: window.folders,
                done: window.done,
                ledger,
                show_synced,
            });
            let mut stops = stop_orphaned_timers(app, ledger, destination, window);
            stops.extend(days);
            reviewed(
                Planned { days: stops, open: 0, mode_note, held: HeldBack::default() },
                ledger,
                destination,
                window,
            )
        }
        EntryMode::Sessions | EntryMode::Live => {
            let earliest = [
                floor.map(|(_, first)| workday::day_start(first, app.tz)),
                app.config.sync.start_date.map(|start| workday::day_start(start, app.tz)),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
            let mut mode_note = mode_note;
            let from = if window.default_range {
                let first = default_first_day(ledger, app.tz, window.today, app.config.sync.start_date);
                let first_start = workday::day_start(first, app.tz);
                // Work before the default range is left out: say so, and how to include it.
                if window.from < first_start
                    && window
                        .sessions
                        .iter()
                        .flat_map(|s| &s.spans)
                        .any(|span| span.start < first_start.timestamp_millis())
                {
                    let why = if ledger
                        .entries
                        .keys()
                        .any(|key| key.starts_with(crate::sync::sessions::KEY_PREFIX))
                    {
                        "the day of the last entry pushed, or of one still to settle"
                    } else {
                        "Monday of this week: nothing pushed yet"
                    };
                    mode_note.get_or_insert_with(String::new).push_str(&format!(
                        "{}: sessions mode plans from {first} ({why}); `--since` plans earlier days\n",
                        destination.service.name()
                    ));
                }
                window.from.max(first_start)
            } else {
                window.from
            };
            let plan = crate::sync::sessions::plan(&SessionsInput {
                force: window.force,
                live: window.live && destination.mode == EntryMode::Live,
                switch_min_ms: min_entry_ms(configured_min_entry_ms(app), window.quota_left),
                stop_running: destination.mode != EntryMode::Live,
                ..sessions_input(app, ledger, destination, window, (from.max(earliest), window.to), earliest)
            });
            let planned =
                Planned { days: plan.batches, open: plan.open, mode_note, held: HeldBack::default() };
            reviewed(planned, ledger, destination, window)
        }
    }
}

/// The plan with the user's edits applied ([`crate::overrides::apply`]): the one place every plan (dry
/// run, `sync`, `push`, `watch`, CSV) meets them. `approve` holds days back, except for the live timer.
fn reviewed(
    mut planned: Planned,
    ledger: &Ledger,
    destination: &Destination,
    window: &Window<'_>,
) -> Planned {
    let approve = destination.approve && !window.live;
    let settings = (approve, window.force, destination.template.limit);
    planned.held = crate::overrides::apply(&mut planned.days, ledger, &ledger.edits, settings);
    planned
}

/// The sessions planner's input for one destination over `[from, to)`: what every sessions plan of a
/// destination shares (no `--force`, no live timer, no stops of unowned timers; callers set those).
fn sessions_input<'a>(
    app: &'a App,
    ledger: &'a Ledger,
    destination: &'a Destination,
    window: &Window<'a>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    earliest: DateTime<Utc>,
) -> SessionsInput<'a> {
    SessionsInput {
        from,
        to,
        earliest,
        sessions: window.sessions,
        rules: &destination.rules,
        template: &destination.template,
        tag_rules: &app.rules,
        session_tags: window.tags,
        folders: window.folders,
        done: window.done,
        granularity: destination.granularity,
        timeline: timeline_settings(app),
        ledger,
        force: false,
        live: false,
        switch_min_ms: 0,
        stop_running: false,
    }
}

/// A destination switched from live to workday mode may still hold a timer claude-tracker started: no
/// live timer owns it any more, so it is stopped at its stretch's last activity (the sessions planner
/// with `stop_running`, keeping only those steps). Only timers whose work the window's sessions cover
/// (a day before its start) are planned; any other stays for `status` to report.
fn stop_orphaned_timers(
    app: &App,
    ledger: &Ledger,
    destination: &Destination,
    window: &Window<'_>,
) -> Vec<Batch> {
    let running: Vec<&str> = ledger
        .entries
        .values()
        .filter(|row| row.state == crate::ledger::EntryState::Running && row.key.starts_with("seg:"))
        .map(|row| row.key.as_str())
        .collect();
    let covered_from = window.from - chrono::Duration::days(1);
    let Some(first) =
        ledger.entries.values().filter(|row| running.contains(&row.key.as_str())).map(|r| r.start).min()
    else {
        return Vec::new();
    };
    if first < covered_from {
        return Vec::new();
    }
    let plan = crate::sync::sessions::plan(&SessionsInput {
        stop_running: true,
        ..sessions_input(app, ledger, destination, window, (first, window.to.max(app.now)), first)
    });
    plan.batches
        .into_iter()
        .filter_map(|mut batch| {
            // Only stops: a running row no loaded work claims is left for `status`, never deleted here.
            batch.steps.retain(|step| {
                running.contains(&step.key.as_str())
                    && !matches!(step.action, Action::Delete { .. } | Action::Withdraw { .. })
            });
            (!batch.steps.is_empty()).then_some(batch)
        })
        .collect()
}

/// The sessions a plan of the local days `since..=until` needs: those days and one more each side, so
/// a stretch of work that crosses the range's ends is seen whole.
pub(crate) fn sessions_around(
    store: &Store,
    (since, until): (NaiveDate, NaiveDate),
    tz: chrono_tz::Tz,
) -> Result<Vec<Session>> {
    let (from, to) = days_around((since, until), tz);
    store.query_range(from, to)
}

/// The local days `since..=until` and one more each side, in milliseconds: what [`sessions_around`]
/// reads.
fn days_around((since, until): (NaiveDate, NaiveDate), tz: chrono_tz::Tz) -> (i64, i64) {
    let before = since.pred_opt().unwrap_or(since);
    let after = until.succ_opt().unwrap_or(until);
    workday::days_window(before, after, tz)
}

/// What the descriptions of a plan over `since..=until` are filled with: the commits of the same days as
/// [`sessions_around`] reads (every entry of those sessions finds its own), and the titles of those
/// sessions when `[capture] keep_titles` is on (none otherwise, even if a read-only database still
/// holds some).
pub(crate) fn work_done_around(app: &App, store: &Store, days: (NaiveDate, NaiveDate)) -> Result<WorkDone> {
    let (from, to) = days_around(days, app.tz);
    work_done_between(app, store, (from, to))
}

/// [`work_done_around`] over `[from, to)` milliseconds (the window a caller read its sessions over).
pub(crate) fn work_done_between(app: &App, store: &Store, (from, to): (i64, i64)) -> Result<WorkDone> {
    let titles =
        if app.config.capture.keep_titles { store.titles_between(from, to)? } else { BTreeMap::new() };
    Ok(WorkDone { commits: store.commits_between(from, to)?, titles })
}

/// The timeline as the config and the clock set it. The quota never changes it (entries already posted
/// change only when the work under them does); it only lengthens the live timer's switch minimum.
pub(crate) fn timeline_settings(app: &App) -> TimelineSettings {
    TimelineSettings {
        min_entry_ms: configured_min_entry_ms(app),
        idle_ms: app.config.capture.idle_ms(),
        now: app.now.timestamp_millis(),
    }
}

/// `[sync] min_entry_minutes` in milliseconds.
pub(crate) fn configured_min_entry_ms(app: &App) -> i64 {
    i64::from(app.config.sync.min_entry_minutes) * 60_000
}

/// The days to consider: from `since`, else the day of the first session, but (with `floor`) never before
/// `start_date`; through `until`, else today (which the plan shows but never syncs). `None` when there
/// are no sessions at all. The first day may come out after the last: nothing to do.
pub(crate) fn day_range(
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

/// What posting one destination did, its stop worded.
struct Posted {
    counts: SyncCounts,
    stopped: Option<anyhow::Error>,
}

/// Connects to one destination, plans it and posts the plan, with a progress bar on a terminal and one
/// line per day otherwise.
fn post(
    app: &App,
    options: PostOptions,
    store: &mut Store,
    destination: &Destination,
    window: &Window<'_>,
) -> Result<(Planned, Posted, u64)> {
    let mut connection = connect(app, destination, store)?;
    let mut planned = plan_for(app, store, destination, &connection.workspace_id, window, false)?;
    if let (Some(note), false) = (&planned.mode_note, options.json) {
        write!(std::io::stdout().lock(), "{note}")?;
    }
    let settings = RunSettings {
        scope: LedgerScope { destination: destination.service.key(), workspace_id: &connection.workspace_id },
        reconcile: options.reconcile,
        post_attempts: connection.options.attempts,
        unmapped_time_hint: destination.service.unmapped_time_hint(),
        backoff: connection.options.backoff,
        pause: app.pause.clone(),
        now: app.now,
    };
    // Days held for approval stay in the destination's range until posted.
    store.hold_days(settings.scope, &planned.held.waiting)?;
    let to_post = planned.days.iter().filter(|d| d.status == DayStatus::Planned).count() as u64;
    let bar = (!options.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(to_post);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} days  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix(destination.service.name());
        bar
    });
    let mut progress =
        DayLines { service: destination.service.key(), bar: bar.as_ref(), quiet: options.json };
    let run = execute(&mut planned.days, store, connection.timesheet.as_mut(), &settings, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    connection.remember(store)?;
    let stopped = run.stopped.map(|stop| {
        let service = connection.timesheet.service();
        stop_message(stop, service, options.rerun, destination.service.unmapped_time_hint(), app.now)
    });
    let run = Posted { counts: run.counts, stopped };
    Ok((planned, run, connection.timesheet.requests_sent()))
}

/// Progress of a real sync: the bar on a terminal, else one line per day on stdout (none with `--json`).
struct DayLines<'a> {
    service: &'static str,
    bar: Option<&'a indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress for DayLines<'_> {
    fn batch_done(&mut self, day: &Batch, report: BatchReport) -> std::io::Result<()> {
        let line = match day.mode {
            EntryMode::Workday if report.adopted_whole => format!(
                "{} {} synced: 0 posted, {} adopted (the day was already posted, by another machine: kept as \
                 posted, nothing of ours added)",
                day.date, self.service, report.adopted
            ),
            EntryMode::Workday => format!(
                "{} {} synced: {} posted, {} adopted",
                day.date, self.service, report.posted, report.adopted
            ),
            EntryMode::Sessions | EntryMode::Live => format!(
                "{} {} pushed: {} posted, {} updated, {} deleted, {} adopted{}",
                day.date,
                self.service,
                report.posted,
                report.updated,
                report.deleted,
                report.adopted,
                [
                    (report.failed > 0).then(|| format!(", {} failed", report.failed)),
                    (report.deleted_by_user > 0)
                        .then(|| format!(", {} deleted by you (left deleted)", report.deleted_by_user)),
                ]
                .into_iter()
                .flatten()
                .collect::<String>()
            ),
        };
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

fn summary(
    destination: &Destination,
    planned: &Planned,
    counts: &SyncCounts,
    requests: u64,
    tz: chrono_tz::Tz,
    stopped: bool,
) -> String {
    let service = destination.service.name();
    let days = &planned.days;
    if destination.mode != EntryMode::Workday {
        let text = sessions_summary(destination, planned, counts, requests, tz);
        return if stopped {
            text + &format!("{service}: stopped before the end (see below)\n")
        } else {
            text
        };
    }
    if stopped {
        return format!(
            "{service}: synced {} day(s): {} entries posted, {} adopted ({requests} requests); stopped before \
             the end (see below)\n",
            counts.days_synced, counts.entries_posted, counts.entries_adopted
        );
    }
    // A timer left by live mode and stopped by this run is said too.
    let stopped_timers = match counts.entries_updated {
        0 => String::new(),
        n => format!(", {n} timer(s) left by live mode stopped"),
    };
    format!(
        "{service}: synced {} day(s): {} entries posted, {} adopted{stopped_timers} ({requests} requests)\n{}",
        counts.days_synced,
        counts.entries_posted,
        counts.entries_adopted,
        skipped_line(days, counts.days_synced),
    )
}

/// The one line that sums up the days a workday run leaves alone, worded alike after a real run and in
/// the dry run (which lists only the days with entries): `synced_now` days this run synced are not
/// "already synced".
fn skipped_line(days: &[Batch], synced_now: usize) -> String {
    let count = |status: DayStatus| days.iter().filter(|d| d.status == status).count();
    format!(
        "skipped: {} already synced, {} not work days, {} without sessions, {} today or later\n",
        count(DayStatus::Synced).saturating_sub(synced_now),
        count(DayStatus::NotAWorkDay),
        count(DayStatus::NoSessions),
        count(DayStatus::Today),
    )
}

/// The dry run: the workday destinations side by side, a day per line with each entry; then each
/// sessions destination's listing.
fn plans_text(plans: &[DestinationPlan], app: &App) -> String {
    let (workday, sessions): (Vec<&DestinationPlan>, Vec<&DestinationPlan>) =
        plans.iter().partition(|p| p.destination.mode == EntryMode::Workday);
    let mut text: String = plans.iter().filter_map(|p| p.planned.mode_note.clone()).collect();
    let single = workday.len() == 1;
    // Only the days with entries; the rest are summed up per destination ([`skipped_line`]).
    let mut dates: Vec<NaiveDate> = workday
        .iter()
        .flat_map(|p| p.planned.days.iter().filter(|d| !d.steps.is_empty()).map(|d| d.date))
        .collect();
    dates.sort_unstable();
    dates.dedup();
    for date in &dates {
        if !single {
            text.push_str(&format!("{date} {}\n", date.format("%a")));
        }
        for destination_plan in &workday {
            let Some(day) =
                destination_plan.planned.days.iter().find(|d| d.date == *date && !d.steps.is_empty())
            else {
                continue;
            };
            let steps: Vec<&Step> = day.steps.iter().collect();
            let shown = figures::shown_spans(&spans(&steps));
            // The day's total, which its entries' durations add up to (the work day, or less when
            // `round_to_minutes` leaves a remainder unposted).
            let label = match shown.iter().map(|s| s.minutes()).sum::<i64>() {
                _ if steps.is_empty() => day.status.label(day.date).to_string(),
                minutes => format!("{}  {}", day.status.label(day.date), figures::duration(minutes)),
            };
            if single {
                text.push_str(&format!("{date} {}  {label}\n", date.format("%a")));
            } else {
                text.push_str(&format!("  {:<9} {label}\n", destination_plan.destination.service.key()));
            }
            let ppm: Vec<i64> = steps.iter().map(|s| i64::from(s.plan.share_ppm)).collect();
            let shares = figures::apportion(&ppm, 1_000);
            for ((step, span), share) in steps.iter().zip(shown).zip(shares) {
                text.push_str(&entry_line(step, span, share, destination_plan, app));
            }
        }
    }
    if !workday.is_empty() && !text.is_empty() {
        text.push('\n');
    }
    for destination_plan in &workday {
        let days = &destination_plan.planned.days;
        let planned = days.iter().filter(|d| d.status == DayStatus::Planned).count();
        let entries: usize = days.iter().map(|d| d.steps.len()).sum();
        text.push_str(&format!(
            "{}: {planned} day(s) to sync, {entries} entries\n{}{}",
            destination_plan.destination.service.name(),
            skipped_line(days, 0),
            held_line(&destination_plan.destination, &destination_plan.planned.held)
        ));
    }
    if !workday.is_empty() {
        text.push_str(&format!(
            "({} time zone, work day {}-{}); dry run: nothing was posted\n",
            app.tz.name(),
            app.config.sync.work_day_start.format("%H:%M"),
            app.config.sync.work_day_end.format("%H:%M")
        ));
    }
    for destination_plan in &sessions {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&sessions_listing(destination_plan, app));
        text.push_str(&held_line(&destination_plan.destination, &destination_plan.planned.held));
    }
    text
}

/// How an entry's project reads: its mapped path and the destination's id, or Other.
pub(crate) fn project_label(entry: &PlannedEntry, destination: &Destination) -> String {
    match (&entry.mapped_path, &entry.project_id) {
        (Some(path), Some(id)) => format!("{path} -> {id}"),
        (Some(path), None) => format!("{path} -> (unmapped)"),
        (None, Some(id)) if destination.rules.other_project_id.as_deref() == Some(id.as_str()) => {
            format!("Other -> {id}")
        }
        // An entry recorded under a project no mapping names now (a delete of what was sent).
        (None, Some(id)) => format!("-> {id}"),
        (None, None) => format!("Other -> (set {})", destination.service.other_project_setting()),
    }
}

/// A listed entry's project ([`project_label`]) with the service's name for the id when it is cached:
/// `/home/dev/code/webshop -> 2000001 (Webshop)`.
fn named_project_label(step: &Step, plan: &DestinationPlan) -> String {
    named_label(&step.planned(), &plan.destination, &plan.names)
}

/// [`project_label`] with the cached name of the entry's project, if any: what every listing of
/// entries shows (`sync` and `push` dry runs, `watch`'s pass lines).
pub(crate) fn named_label(
    entry: &PlannedEntry,
    destination: &Destination,
    names: &BTreeMap<String, String>,
) -> String {
    let label = project_label(entry, destination);
    match entry.project_id.as_ref().and_then(|id| names.get(id)) {
        Some(name) => format!("{label} ({name})"),
        None => label,
    }
}

/// Every entry of a destination's plan as `entries` and `review` list it (days not over are left out),
/// with the entries the user excluded, by day and start.
pub(crate) fn entry_rows(plan: &DestinationPlan) -> Vec<crate::review::EntryRow> {
    use crate::review::{EntryRow, RowState};
    let destination = plan.destination.service.key();
    let edited = |key: &str| {
        plan.edits
            .by_key
            .get(key)
            .is_some_and(|e| e.description.is_some() || e.project_id.is_some() || e.billable.is_some())
    };
    let row = |date: NaiveDate, step: &Step, state: RowState| EntryRow {
        destination,
        date,
        key: step.key.clone(),
        start: step.draft.start,
        end: step.plan.end,
        project_id: step.draft.project_id.clone(),
        project: named_project_label(step, plan),
        description: step.draft.description.clone(),
        tags: step.draft.tags.clone(),
        billable: step.draft.billable,
        state,
        edited: edited(&step.key),
    };
    let mut rows = Vec::new();
    for day in plan.planned.days.iter().filter(|d| d.status != DayStatus::Today) {
        for step in &day.steps {
            let state = match &step.action {
                Action::Create | Action::Adopt { .. } | Action::Update { .. } | Action::Start
                    if day.status == DayStatus::Waiting =>
                {
                    RowState::Waiting
                }
                _ if plan.planned.held.excluded.iter().any(|(_, s, _)| s.key == step.key) => {
                    RowState::ExcludedPosted
                }
                Action::Keep { .. } => RowState::Posted,
                Action::Update { .. } => RowState::ToUpdate,
                Action::Delete { .. } | Action::Withdraw { .. } | Action::Stop { .. } => RowState::ToDelete,
                Action::Leave => RowState::DeletedThere,
                Action::Create | Action::Adopt { .. } | Action::Start => RowState::New,
            };
            rows.push(row(day.date, step, state));
        }
    }
    for (date, step, still_posted) in &plan.planned.held.excluded {
        if !still_posted {
            rows.push(row(*date, step, RowState::Excluded));
        }
    }
    rows.sort_by(|a, b| (a.date, a.start, &a.key).cmp(&(b.date, b.start, &b.key)));
    rows
}

/// The instants of each step's entry: its start as sent and its planned end.
fn spans(steps: &[&Step]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    steps.iter().map(|step| (step.draft.start, step.plan.end)).collect()
}

/// One entry of a workday listing: its times and duration as shown (`span`, which add up with the
/// day's other entries) and its share of the day in tenths of a percent (apportioned too: 100.0%).
fn entry_line(step: &Step, span: ShownSpan, share: i64, plan: &DestinationPlan, app: &App) -> String {
    let local = |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&app.tz).format("%H:%M").to_string();
    let project = named_project_label(step, plan);
    let state = match step.action {
        Action::Create => "",
        Action::Keep { .. } => "  (posted)",
        Action::Adopt { .. } => "  (in doubt: will check before posting)",
        Action::Update { .. } => "  (update)",
        Action::Delete { .. } => "  (delete)",
        Action::Start => "  (start)",
        Action::Stop { .. } => "  (stop)",
        Action::Withdraw { .. } => "  (withdraw: delete if a lost answer stored it)",
        Action::Leave => "  (deleted by you in the service: left deleted)",
    };
    let tags = sent_marks(&step.draft);
    format!(
        "    {}-{}  {:>5}  {:>5}%  {project}{tags}{state}\n",
        local(span.start()),
        local(span.end()),
        figures::duration(span.minutes()),
        format!("{}.{}", share / 10, share % 10)
    )
}

/// What a listed entry sends besides times and project, read from the draft the executor sends (so the
/// destination's own `tags` come first, as posted): `  [claude-code, acme]  billable: yes`; nothing
/// without tags or a billable flag.
fn sent_marks(draft: &crate::timesheet::EntryDraft) -> String {
    let tags = &draft.tags;
    let tags = if tags.is_empty() { String::new() } else { format!("  [{}]", figures::tag_list(tags)) };
    match draft.billable {
        Some(true) => tags + "  billable: yes",
        Some(false) => tags + "  billable: no",
        None => tags,
    }
}

/// `--json`: one object per day with entries and destination, by date (days not yet over, and days
/// without entries, are left out: the same days the text lists). Each entry as it is sent: description,
/// tags and billable flag from the draft, and the project's cached name. After a real
/// run, the days synced by it carry their entries with the service's ids (`clockify_entry_id`,
/// `toggl_entry_id`).
fn plans_json(plans: &[DestinationPlan], after_run: bool) -> String {
    let mut rows: Vec<(NaiveDate, usize, serde_json::Value)> = Vec::new();
    for (order, destination_plan) in plans.iter().enumerate() {
        let service = destination_plan.destination.service.key();
        // Only days with entries, as the text listing: the rest are what `skipped:` counts.
        let listed = |d: &&Batch| d.status != DayStatus::Today && !d.steps.is_empty();
        for day in destination_plan.planned.days.iter().filter(listed) {
            let entries: Vec<serde_json::Value> = day
                .steps
                .iter()
                .filter(|s| !after_run || !s.action.is_pending())
                .map(|step| {
                    let mut entry = serde_json::json!({
                        "project_id": step.draft.project_id.as_deref().unwrap_or(""),
                        "start": step.draft.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                        "end": step.plan.end.to_rfc3339_opts(SecondsFormat::Secs, true),
                        "seconds": step.plan.seconds,
                    });
                    // What is sent, as the text listing shows it ([`sent_marks`]).
                    if let Some(name) =
                        step.draft.project_id.as_ref().and_then(|id| destination_plan.names.get(id))
                    {
                        entry["project_name"] = serde_json::json!(name);
                    }
                    entry["description"] = serde_json::json!(step.draft.description);
                    if !step.draft.tags.is_empty() {
                        entry["tags"] = serde_json::json!(step.draft.tags);
                    }
                    if let Some(billable) = step.draft.billable {
                        entry["billable"] = serde_json::json!(billable);
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

/// An exclusive lock on a file beside the database, held while the value lives (released by the OS
/// when the process dies, so a crash never leaves it stuck).
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes `<database>.<suffix>`; `Ok(None)` when another process holds it.
    pub(crate) fn try_acquire(db_path: &std::path::Path, suffix: &str) -> Result<Option<FileLock>> {
        let path = lock_path(db_path, suffix);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The lock of a sync (or a watcher's pass): a second one exits at once.
    pub(crate) fn sync(db_path: &std::path::Path) -> Result<FileLock> {
        FileLock::try_acquire(db_path, "sync.lock")?.ok_or_else(|| {
            anyhow::anyhow!(
                "another `claude-tracker sync` is running (lock {}): wait for it to finish; nothing was posted",
                lock_path(db_path, "sync.lock").display()
            )
        })
    }
}

/// `<database>.<suffix>`.
pub(crate) fn lock_path(db_path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut path = PathBuf::from(db_path);
    path.as_mut_os_string().push(format!(".{suffix}"));
    path
}

/// The dry run of a sessions destination (seed 003's listing): each entry to post, update or delete,
/// with its local day and times, duration, project, description and tags.
pub(crate) fn sessions_listing(plan: &DestinationPlan, app: &App) -> String {
    let name = plan.destination.service.name();
    let steps: Vec<_> = plan.planned.days.iter().flat_map(|d| &d.steps).collect();
    let count = |wanted: fn(&Action) -> bool| steps.iter().filter(|s| wanted(&s.action)).count();
    let new = count(|a| matches!(a, Action::Create | Action::Adopt { .. }));
    let updates = count(|a| matches!(a, Action::Update { .. }));
    let deletes = count(|a| matches!(a, Action::Delete { .. } | Action::Withdraw { look_for: Some(_) }));
    let unchanged = count(|a| matches!(a, Action::Keep { .. }));
    let mut text = format!(
        "Would push {} entries to {name} ({new} new, {updates} to update, {deletes} to delete; {unchanged} \
         unchanged, {} still open):\n\n",
        new + updates + deletes,
        plan.planned.open
    );
    let local = |at: DateTime<Utc>| at.with_timezone(&app.tz);
    for day in &plan.planned.days {
        let listed: Vec<&Step> = day.steps.iter().filter(|s| s.action.is_pending()).collect();
        for (step, span) in listed.iter().zip(shown_in_groups(&listed)) {
            let (start, end) = (local(span.start()), local(span.end()));
            let what = match step.action {
                Action::Delete { .. } => "(delete)".to_string(),
                Action::Withdraw { look_for: Some(_) } => {
                    "(in doubt, no longer worked: will delete it if a lost answer stored it)".to_string()
                }
                Action::Withdraw { look_for: None } => {
                    "(refused earlier, no longer worked: forgotten)".to_string()
                }
                _ => {
                    let tags = sent_marks(&step.draft);
                    let state = match step.action {
                        Action::Update { .. } => "  (update)",
                        Action::Adopt { .. } => "  (in doubt: will check before posting)",
                        _ => "",
                    };
                    format!(
                        "{}  \"{}\"{tags}{state}",
                        named_project_label(step, plan),
                        step.draft.description
                    )
                }
            };
            text.push_str(&format!(
                "  {} {}-{}  {:>5}  {what}\n",
                start.format("%Y-%m-%d %a"),
                start.format("%H:%M"),
                end.format("%H:%M"),
                figures::duration(span.minutes())
            ));
        }
    }
    let next = match plan.destination.posted_elsewhere(&app.machine) {
        Some(poster) => format!("`{poster}` pushes it."),
        None => "Run without --dry-run to push.".to_string(),
    };
    text.push_str(&format!("\n({} time zone) {next}\n", app.tz.name()));
    text
}

/// The shown times of a day's listed steps, in their order: the entries the service will hold and the
/// ones to delete are rounded each as a group ([`figures::shown_spans`]), so a day's entries add up to
/// that day's time, never mixed with time being taken away.
fn shown_in_groups(steps: &[&Step]) -> Vec<ShownSpan> {
    let removes = |step: &Step| matches!(step.action, Action::Delete { .. } | Action::Withdraw { .. });
    let mut shown = vec![ShownSpan { start_minute: 0, end_minute: 0 }; steps.len()];
    for gone in [false, true] {
        let group: Vec<usize> = (0..steps.len()).filter(|&index| removes(steps[index]) == gone).collect();
        let spans = spans(&group.iter().map(|&index| steps[index]).collect::<Vec<_>>());
        for (index, span) in group.into_iter().zip(figures::shown_spans(&spans)) {
            shown[index] = span;
        }
    }
    shown
}

/// After a push: what each destination received, then every entry the service refused, with its hint.
pub(crate) fn sessions_summary(
    destination: &Destination,
    planned: &Planned,
    counts: &SyncCounts,
    requests: u64,
    tz: chrono_tz::Tz,
) -> String {
    let unchanged = planned
        .days
        .iter()
        .flat_map(|d| &d.steps)
        .filter(|s| matches!(s.action, Action::Keep { .. }))
        .count()
        .saturating_sub(
            counts.entries_posted + counts.entries_adopted + counts.entries_updated + counts.entries_deleted,
        );
    let service = destination.service.name();
    let mut text = format!(
        "{service}: pushed {} new, {} updated, {} deleted, {} adopted ({requests} requests); {unchanged} \
         unchanged, {} still open\n",
        counts.entries_posted,
        counts.entries_updated,
        counts.entries_deleted,
        counts.entries_adopted,
        planned.open
    );
    if counts.entries_deleted_by_user > 0 {
        text.push_str(&format!(
            "{} entries deleted by you in {service} were left deleted (`claude-tracker push --force` posts them \
             again)\n",
            counts.entries_deleted_by_user
        ));
    }
    if !counts.failures.is_empty() {
        text.push_str(&format!("{} failed:\n", counts.failures.len()));
        for failure in &counts.failures {
            text.push_str(&format!(
                "  - {} {}: {}\n    Hint: {}\n",
                figures::nearest_minute(failure.start).with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                project_label(&failure.entry, destination),
                failure.error,
                failure.hint
            ));
        }
        text.push_str("Fix the issues and re-run to retry failed entries.\n");
    }
    text
}

/// A destination as `status` and the dashboard show it, from its ledger and the caches (no request).
pub(crate) struct DestinationStatus {
    pub(crate) destination: Destination,
    pub(crate) workspace: String,
    pub(crate) last_sync: Option<DateTime<Utc>>,
    /// Days with something left to post (sessions mode: days with entries to post).
    pub(crate) days_waiting: usize,
    pub(crate) days_synced: usize,
    /// Entries whose last request's outcome is unknown.
    pub(crate) in_doubt: usize,
    /// Entries the service refused last time (each later run retries them).
    pub(crate) refused: usize,
    /// The start of the running entry (live mode), if one runs.
    pub(crate) running_since: Option<DateTime<Utc>>,
    /// As the watcher last saw it.
    pub(crate) quota_left: Option<String>,
}

/// Every configured destination's state. The days to consider and their sessions are the same for all
/// (read once); each ledger is read once.
pub(crate) fn destination_states(app: &App, store: &Store) -> Result<Vec<DestinationStatus>> {
    let configured = destination::configured(&app.config, app.tz);
    if configured.is_empty() {
        return Ok(Vec::new());
    }
    let today = workday::local_date(app.now, app.tz);
    let days = day_range(app, (None, None), store, today, true)?.filter(|(since, until)| since <= until);
    let sessions = match days {
        Some(range) => sessions_around(store, range, app.tz)?,
        None => Vec::new(),
    };
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let done = match days {
        Some(range) => work_done_around(app, store, range)?,
        None => WorkDone::default(),
    };
    let mut states = Vec::new();
    for destination in configured {
        let workspace = known_workspace(&destination, store)?.unwrap_or_default();
        let scope = LedgerScope { destination: destination.service.key(), workspace_id: &workspace };
        let ledger = store.ledger(scope)?;
        let days_waiting = days.map_or(0, |(since, until)| {
            let window = Window::days((since, until, today), app.tz, &sessions, (&tags, &folders))
                .with_work_done(&done);
            let planned = plan_with_ledger(app, &ledger, &destination, &window, false);
            planned.days.iter().filter(|d| d.status == DayStatus::Planned).count()
        });
        states.push(DestinationStatus {
            last_sync: store.last_synced_at(scope)?,
            days_waiting,
            days_synced: ledger.synced_days.len(),
            in_doubt: ledger.entries.values().filter(|e| e.state.is_unsettled()).count(),
            refused: ledger.entries.values().filter(|e| e.state == EntryState::Refused).count(),
            running_since: ledger.entries.values().find(|e| e.state == EntryState::Running).map(|e| e.start),
            quota_left: store.cached(&format!("watch.quota.{}", destination.service.key()))?,
            workspace,
            destination,
        });
    }
    Ok(states)
}

/// A run's stop worded for the user: where it stopped, what remains, and when to run `rerun` again.
pub(crate) fn stop_message(
    stop: Stop,
    service: &str,
    rerun: &str,
    unmapped_time_hint: &str,
    now: DateTime<Utc>,
) -> anyhow::Error {
    let again = format!("run `{rerun}` again");
    let command = rerun.strip_prefix("claude-tracker ").unwrap_or(rerun);
    let (date, project_id, mapped_path, cause, remaining, refused_earlier) = match stop {
        Stop::Listing { first, last, error } => {
            return anyhow::anyhow!(
                "could not list your {service} entries from {first} to {last} to check for entries already \
                 posted: {error}; nothing was posted, {again}"
            );
        }
        Stop::Local(error) => return error.context(format!("{command} stopped")),
        Stop::Step { date, project_id, mapped_path, cause, remaining, refused_earlier } => {
            (date, project_id, mapped_path, cause, remaining, refused_earlier)
        }
    };
    let before = if refused_earlier {
        "Earlier entries are done except those refused (listed above)"
    } else {
        "Earlier days are complete"
    };
    let project = match (&mapped_path, &project_id) {
        (Some(path), Some(id)) => format!("`{id}` ({path})"),
        (Some(path), None) => format!("({path})"),
        (None, None) => "Other".to_string(),
        (None, Some(id)) => format!("`{id}` (Other)"),
    };
    match cause {
        FailureKind::Remote(RemoteError::QuotaSpent { retry_after }) => {
            let when = chrono::Duration::from_std(retry_after)
                .ok()
                .and_then(|wait| now.checked_add_signed(wait))
                .unwrap_or(now);
            anyhow::anyhow!(
                "{service}'s request quota is spent (at {date} {project}); {remaining} entries remain. Nothing \
                 is lost: {again} after {} UTC (in about {})",
                when.format("%H:%M"),
                minutes(retry_after)
            )
        }
        FailureKind::Remote(RemoteError::Throttled { attempts }) => anyhow::anyhow!(
            "{service} kept answering 429 Too Many Requests (at {date} {project}, {attempts} attempts); \
             {remaining} entries remain. Nothing is lost: {again} in a minute"
        ),
        FailureKind::Remote(error) => anyhow::anyhow!(
            "{command} stopped at {date} {project}: {service}: {error}. {before}; {remaining} entries remain: \
             fix this and {again}"
        ),
        FailureKind::Local(error) => error.context(format!("{command} stopped at {date} {project}")),
        FailureKind::NoOtherProject => anyhow::anyhow!(
            "{date} has time in projects that are not mapped and no Other project to put it in: \
             {unmapped_time_hint}, then {again}; nothing of that day was posted"
        ),
    }
}
