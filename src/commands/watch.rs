//! `claude-tracker watch` (seed 004): a foreground process that keeps, in every destination with
//! `mode = "live"`, a running entry that follows the open stretch of the timeline. Each pass ingests
//! what the transcripts gained, plans with the sessions planner in live mode (start, update, stop at the
//! switch or at the last activity, and the closed stretches the watcher missed), applies the
//! foreign-timer and quota rules of `sync::live`, and hands the steps to the one executor. Passes run
//! when a transcript changes (notify), when the open stretch is due to close, and at least once a
//! minute; between them the process sleeps. Everything it does is in the ledger, so Ctrl-C, a crash or a
//! sleeping laptop leave a state the next pass finishes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::cli::WatchArgs;
use crate::connect::{Connection, connect, known_workspace};
use crate::destination::{self, Destination};
use crate::ledger::{EntryState, LedgerScope};
use crate::store::Store;
use crate::sync::live::{LiveFacts, LiveNotice, guard};
use crate::sync::sessions::default_first_day;
use crate::sync::steps::{Action, Batch, EntryMode, Step};
use crate::sync::{BatchReport, Progress, RunSettings, execute};
use crate::workday;

use crate::planning::{FileLock, Window, lock_path, plan_with_ledger, sessions_around};

/// The longest sleep between passes: a missed file event costs at most this.
const FALLBACK_SCAN: Duration = Duration::from_secs(60);
/// While a timer not ours holds ours back, it is looked at again at most this often (each look is a
/// request).
const FOREIGN_RECHECK_MINUTES: i64 = 10;
/// After a file event, wait this long for the write to finish (and for more events) before a pass.
const SETTLE: Duration = Duration::from_millis(150);

/// Runs `watch`.
pub(crate) fn run(app: &App, args: &WatchArgs) -> Result<()> {
    if args.install {
        return super::service_unit::install(app);
    }
    if args.status {
        return status(app);
    }
    let live: Vec<Destination> = destination::configured(&app.config, app.tz)
        .into_iter()
        .filter(|d| d.mode == EntryMode::Live)
        .collect();
    anyhow::ensure!(
        !live.is_empty(),
        "no destination is in live mode: set `mode = \"live\"` in `[toggl]` or `[clockify]` of {} (live is \
         sessions mode plus a running entry)",
        app.config_path.display()
    );
    // A destination another machine posts (`post_from`) keeps no timer here: that machine's watcher runs it.
    let (elsewhere, destinations): (Vec<Destination>, Vec<Destination>) =
        live.into_iter().partition(|d| d.posted_elsewhere(&app.machine).is_some());
    for destination in &elsewhere {
        let poster = destination.posted_elsewhere(&app.machine).unwrap_or_default();
        say(crate::planning::posted_elsewhere_note(destination, poster, &app.machine).trim_end());
    }
    if destinations.is_empty() && args.once {
        // This machine still reads its transcripts and shares them: the machine that posts needs them (a
        // foreground watcher goes on below with no timer of its own, sharing at each change).
        let mut store = app.open_store()?;
        crate::refresh::refresh(app, &mut store)?;
        return Ok(());
    }
    let refuse = || {
        anyhow::anyhow!(
            "another `claude-tracker watch` is running on this database (lock {}); `watch --status` shows it",
            lock_path(&app.db_path, "watch.lock").display()
        )
    };
    // A `watch` in the foreground owns the timers: a second one, or a pass, refuses at once. A pass
    // meeting another pass (two hooks in quick succession) waits for it, up to 10 seconds.
    let foreground = if args.once {
        None
    } else {
        Some(FileLock::try_acquire(&app.db_path, "watch.foreground.lock")?.ok_or_else(refuse)?)
    };
    let mut waited = Duration::ZERO;
    let mut foreground_seen = 0;
    let _watching = loop {
        // A pass probes the foreground lock; another pass may hold it for an instant while probing too,
        // a foreground watcher holds it for good (seen three times in a row: refused at once).
        let no_foreground =
            !args.once || FileLock::try_acquire(&app.db_path, "watch.foreground.lock")?.is_some();
        foreground_seen = if no_foreground { 0 } else { foreground_seen + 1 };
        let lock = if no_foreground { FileLock::try_acquire(&app.db_path, "watch.lock")? } else { None };
        match lock {
            Some(lock) => break lock,
            None if args.once && foreground_seen < 3 && waited < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(100));
                waited += Duration::from_millis(100);
            }
            None => return Err(refuse()),
        }
    };
    let _foreground = foreground;
    let mut store = app.open_store()?;
    let mut links: Vec<Link> = destinations.into_iter().map(Link::new).collect();
    if args.once {
        let now = app.clock.now()?;
        pass(app, now, &mut store, &mut links, true)?;
        if args.until_idle {
            drop(_watching);
            until_idle(app, &mut store, &mut links)?;
        }
        let now = app.clock.now()?;
        for warning in crate::connect::timer_warnings(&App { now, ..app.clone() }, &store)? {
            eprintln!("warning: {warning}");
        }
        let failed: Vec<String> = links.iter().filter_map(|l| l.failure.clone()).collect();
        anyhow::ensure!(
            failed.is_empty(),
            "{}{}",
            failed.join("; "),
            // A stop's own message already says what is left and when to run again.
            if failed.iter().any(|f| f.contains("Nothing is lost")) {
                ""
            } else {
                "; nothing is lost: what is left waits in the ledger for the next `watch --once`"
            }
        );
        return Ok(());
    }
    watch_loop(app, &mut store, &mut links)
}

/// `watch --once --until-idle` (the hooks): with no `watch` running, nothing would stop a timer at the
/// last activity plus the idle threshold; this process waits for that moment (re-reading the
/// transcripts' latest activity, which later hooks may have moved) and makes one more pass, as long as a
/// live timer runs. One such process at a time (`<db>.linger.lock`): a later hook's pass exits after its
/// own pass, the lingering one covers it. Each pass takes the watcher's lock; a `watch` running in the
/// foreground owns the timer, and this process leaves.
fn until_idle(app: &App, store: &mut Store, links: &mut [Link]) -> Result<()> {
    let Some(_lingering) = FileLock::try_acquire(&app.db_path, "linger.lock")? else { return Ok(()) };
    let idle = chrono::Duration::milliseconds(app.config.capture.idle_ms());
    let step = if app.clock.is_file() { Duration::from_millis(200) } else { FALLBACK_SCAN };
    let mut passes_past_due = 0;
    loop {
        let live: Vec<&str> = links.iter().map(|l| l.destination.service.key()).collect();
        let running = store.running_entries()?.into_iter().any(|e| live.contains(&e.destination.as_str()));
        let Some(last) = store.latest_activity()?.and_then(DateTime::from_timestamp_millis) else { break };
        if !running || passes_past_due >= 5 {
            break;
        }
        let now = app.clock.now()?;
        let due = last + idle + chrono::Duration::seconds(1);
        if now < due {
            let wait = (due - now).to_std().unwrap_or(step).min(step);
            if app.pause.sleep(wait).is_err() {
                break;
            }
            // New lines may have come: the ingest of the next pass reads them.
            crate::refresh::refresh(&App { now, ..app.clone() }, store)?;
            continue;
        }
        let Some(_watching) = FileLock::try_acquire(&app.db_path, "watch.lock")? else { break };
        if let Err(error) = pass(app, now, store, links, true) {
            eprintln!("claude-tracker: {error:#}");
        }
        passes_past_due += 1;
        if app.pause.sleep(step.min(Duration::from_secs(5))).is_err() {
            break;
        }
    }
    Ok(())
}

/// One destination as the watcher keeps it across passes.
struct Link {
    destination: Destination,
    connection: Option<Connection>,
    foreign: Option<String>,
    /// When the running entry was last looked at.
    foreign_checked_at: Option<DateTime<Utc>>,
    said: BTreeSet<&'static str>,
    /// After a failure, no request before this instant (doubling back-off).
    retry_at: Option<DateTime<Utc>>,
    /// What the last pass could not do.
    failure: Option<String>,
    backoff: chrono::Duration,
}

impl Link {
    fn new(destination: Destination) -> Link {
        Link {
            destination,
            connection: None,
            foreign: None,
            foreign_checked_at: None,
            said: BTreeSet::new(),
            retry_at: None,
            failure: None,
            backoff: chrono::Duration::seconds(5),
        }
    }
}

fn watch_loop(app: &App, store: &mut Store, links: &mut [Link]) -> Result<()> {
    let (wake, woken) = mpsc::channel::<()>();
    let events = wake.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = events.send(());
        }
    })
    .context("cannot watch the transcript folders")?;
    for dir in app.projects_dirs.iter().filter(|d| d.is_dir()) {
        notify::Watcher::watch(&mut watcher, dir, notify::RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", dir.display()))?;
    }
    // Another machine's file arriving in the shared folder is work to follow too (its own file's
    // rewrite wakes one more pass, which finds nothing new).
    if let Some(dir) = app.share_dir.as_ref().filter(|d| d.is_dir()) {
        notify::Watcher::watch(&mut watcher, dir, notify::RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch the shared folder {}", dir.display()))?;
    }
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let (stopping, wake, pause) = (stopping.clone(), wake.clone(), app.pause.clone());
        ctrlc::set_handler(move || {
            stopping.store(true, Ordering::SeqCst);
            pause.interrupt();
            let _ = wake.send(());
        })
        .context("cannot catch Ctrl-C")?;
    }
    let serving = if links.is_empty() {
        "the shared folder (no live timer is this machine's)".to_string()
    } else {
        links.iter().map(|l| l.destination.service.name()).collect::<Vec<_>>().join(", ")
    };
    say(&format!(
        "watching {} for {serving} (Ctrl-C stops)",
        app.projects_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
    ));
    while !stopping.load(Ordering::SeqCst) {
        let now = app.clock.now()?;
        let due = pass(app, now, store, links, false)?;
        // A test's clock moves only when the test moves it: look at it often.
        let longest = if app.clock.is_file() { Duration::from_millis(200) } else { FALLBACK_SCAN };
        let wait = due
            .and_then(|due| (due - now).to_std().ok())
            .map_or(longest, |until_due| until_due.min(longest).max(Duration::from_millis(50)));
        match woken.recv_timeout(wait) {
            Ok(()) => {
                std::thread::sleep(SETTLE);
                while woken.try_recv().is_ok() {}
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    say("stopped; running entries stay as they are: the next `watch` (or `sync`) finishes them");
    Ok(())
}

/// One pass: ingest, then each live destination. Returns when the open stretch is due to close (the
/// next pass must come by then to stop its entry at the last activity).
fn pass(
    app: &App,
    now: DateTime<Utc>,
    store: &mut Store,
    links: &mut [Link],
    once: bool,
) -> Result<Option<DateTime<Utc>>> {
    let mut app = app.clone();
    app.now = now;
    crate::refresh::refresh(&app, store)?;
    store.cache("watch.last_pass", &now.to_rfc3339())?;
    // A `sync` or `push` running right now owns the ledger: this pass waits for the next.
    let Some(_lock) = FileLock::try_acquire(&app.db_path, "sync.lock")? else {
        anyhow::ensure!(
            !once,
            "a `claude-tracker sync` or `push` is running: run `watch --once` again after it"
        );
        // Look again in a little while, not at once: the sync may take minutes.
        return Ok(Some(now + chrono::Duration::seconds(5)));
    };
    for link in links.iter_mut() {
        if link.retry_at.is_some_and(|at| at > now) {
            continue;
        }
        match link_pass(&app, store, link) {
            Ok(()) => {
                link.retry_at = None;
                link.failure = None;
                link.backoff = chrono::Duration::seconds(5);
            }
            Err(error) => {
                let failure = format!("{}: {error:#}", link.destination.service.name());
                if !once {
                    say(&format!(
                        "{failure}; trying again in {} s (nothing is lost: what is left waits in the ledger)",
                        link.backoff.num_seconds()
                    ));
                }
                link.failure = Some(failure);
                link.retry_at = Some(now + link.backoff);
                link.backoff = (link.backoff * 2).min(chrono::Duration::minutes(5));
            }
        }
    }
    let closes = store
        .latest_activity()?
        .and_then(DateTime::from_timestamp_millis)
        .map(|last| last + chrono::Duration::milliseconds(app.config.capture.idle_ms()))
        .filter(|closes| *closes > now);
    let retry = links.iter().filter_map(|l| l.retry_at).min();
    Ok(closes.into_iter().chain(retry).min())
}

fn link_pass(app: &App, store: &mut Store, link: &mut Link) -> Result<()> {
    if link.connection.is_none() {
        link.connection = Some(connect(app, &link.destination, store)?);
    }
    let Some(connection) = link.connection.as_mut() else { return Ok(()) };
    connection.catch_up(store)?;
    let workspace_id = connection.workspace_id.clone();
    let scope = LedgerScope { destination: link.destination.service.key(), workspace_id: &workspace_id };
    let quota_left = connection.timesheet.quota_left();
    let today = workday::local_date(app.now, app.tz);
    let ledger = store.ledger(scope)?;
    let since = default_first_day(&ledger, app.tz, today, app.config.sync.start_date);
    let (from, to) = (workday::day_start(since, app.tz), app.now + chrono::Duration::days(1));
    let sessions = sessions_around(store, (since, today), app.tz)?;
    let done = crate::planning::work_done_around(app, store, (since, today))?;
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let window = Window {
        since,
        until: today,
        today,
        from,
        to,
        sessions: &sessions,
        tags: &tags,
        folders: &folders,
        done: &done,
        force: false,
        live: true,
        quota_left,
        default_range: false,
    };
    let mut planned = plan_with_ledger(app, &ledger, &link.destination, &window, false);
    let starts = planned.days.iter().flat_map(|b| &b.steps).any(|s| s.action == Action::Start);
    // The last look at the running entry is kept in the database: `watch --once` processes (cron, hooks)
    // space their looks as one long-running watcher does.
    let foreign_key = format!("watch.foreign.{}", link.destination.service.key());
    if link.foreign_checked_at.is_none()
        && let Some((id, at)) = store.cached(&foreign_key)?.as_deref().and_then(|v| v.split_once('|'))
    {
        link.foreign = Some(id.to_string()).filter(|id| !id.is_empty());
        link.foreign_checked_at = DateTime::parse_from_rfc3339(at).ok().map(|at| at.to_utc());
    }
    // Before a start, the running entry is looked at (one request; starts are rare): a timer the user
    // started since the last look is not stopped by ours, and one they stopped no longer holds ours back.
    let recheck = link.foreign.is_none()
        || link
            .foreign_checked_at
            .is_none_or(|at| app.now - at >= chrono::Duration::minutes(FOREIGN_RECHECK_MINUTES));
    // A start the quota rule will drop anyway is not worth a look (each look spends the `/me` quota).
    let starts_allowed = quota_left.is_none_or(|left| left >= crate::sync::live::KEPT_FOR_STOPS);
    let mut look_failed = false;
    if starts && recheck && starts_allowed {
        link.foreign_checked_at = Some(app.now);
        let ours = |id: &str| ledger.entries.values().any(|row| row.remote_id.as_deref() == Some(id));
        match connection.timesheet.running() {
            Ok(running) => link.foreign = running.map(|entry| entry.id).filter(|id| !ours(id)),
            // The look failed (its quota spent, no answer): no timer starts this pass, but stops and
            // finished stretches still go out.
            Err(_) => look_failed = true,
        }
        if !look_failed {
            let seen = format!("{}|{}", link.foreign.as_deref().unwrap_or(""), app.now.to_rfc3339());
            store.cache(&foreign_key, &seen)?;
            // Stops of earlier foreign timers are settled: that timer is gone, or it is the one seen now.
            for row in ledger.entries.values().filter(|row| row.key.starts_with("foreign:")) {
                if row.remote_id != link.foreign {
                    store.remove_entry(scope, &row.key)?;
                }
            }
        }
    }
    let facts = LiveFacts {
        foreign: link.foreign.as_deref(),
        policy: link.destination.foreign_timer,
        quota_left,
        now: app.now,
        foreign_stop_at: crate::sync::live::foreign_stop_in_doubt(&ledger, link.foreign.as_deref()),
    };
    for notice in guard(&mut planned.days, &facts) {
        tell_once(&mut link.said, link.destination.service.name(), notice);
    }
    if look_failed {
        crate::sync::live::drop_starts(&mut planned.days);
    }
    let pending: Vec<Step> =
        planned.days.iter().flat_map(|b| &b.steps).filter(|s| s.action.is_pending()).cloned().collect();
    if pending.is_empty() {
        // What the pass learnt (a user id, the quota) is kept even when it sends nothing.
        connection.remember(store)?;
        return Ok(());
    }
    let settings = RunSettings {
        scope,
        reconcile: false,
        post_attempts: connection.options.attempts,
        unmapped_time_hint: link.destination.service.unmapped_time_hint(),
        backoff: connection.options.backoff,
        pause: app.pause.clone(),
        now: app.now,
    };
    let run = execute(&mut planned.days, store, connection.timesheet.as_mut(), &settings, &mut Quiet);
    connection.remember(store)?;
    let names = crate::planning::cached_project_names(store, &link.destination, &workspace_id)?;
    report_done(app, &link.destination, &names, &pending, &planned.days);
    if let Some(left) = connection.timesheet.quota_left() {
        store.cache(&format!("watch.quota.{}", link.destination.service.key()), &left.to_string())?;
    }
    // Their timer is gone only if our stop of it went out (a refused stop leaves it running).
    let foreign_stopped = planned
        .days
        .iter()
        .flat_map(|b| &b.steps)
        .any(|s| s.key.starts_with("foreign:") && matches!(s.action, Action::Keep { .. }));
    if foreign_stopped {
        link.foreign = None;
        store.cache(&foreign_key, &format!("|{}", app.now.to_rfc3339()))?;
    }
    let counts = &run.counts;
    for failure in &counts.failures {
        say(&format!(
            "{}: {} {}: {}; {}",
            link.destination.service.name(),
            failure.start.with_timezone(&app.tz).format("%H:%M"),
            crate::planning::named_label(&failure.entry, &link.destination, &names),
            failure.error,
            failure.hint
        ));
    }
    if let Some(stop) = run.stopped {
        let hint = link.destination.service.unmapped_time_hint();
        let service = connection.timesheet.service();
        return Err(crate::planning::stop_message(
            stop,
            service,
            "claude-tracker watch --once",
            hint,
            app.now,
        ));
    }
    // Refused entries back the destination off (the quota is not spent on the same refusal every pass).
    anyhow::ensure!(counts.failures.is_empty(), "{} entries refused (listed above)", counts.failures.len());
    Ok(())
}

fn tell_once(said: &mut BTreeSet<&'static str>, name: &str, notice: LiveNotice) {
    let (key, text) = match notice {
        LiveNotice::ForeignLeft => (
            "foreign",
            format!(
                "{name}: a timer not started by claude-tracker is running; it is left alone and none of ours \
                 starts (set `foreign_timer = \"stop\"` to stop it instead); finished stretches are still posted"
            ),
        ),
        LiveNotice::QuotaKeptForStops => (
            "quota",
            format!(
                "{name}: the request quota is nearly spent: no timer starts until it renews; stops still go out"
            ),
        ),
    };
    if said.insert(key) {
        say(&text);
    }
}

/// One line per step the pass carried out: started, stopped (with the time of the stop), updated,
/// posted, deleted.
fn report_done(
    app: &App,
    destination: &Destination,
    names: &BTreeMap<String, String>,
    pending: &[Step],
    after: &[Batch],
) {
    let done: Vec<&Step> = after.iter().flat_map(|b| &b.steps).filter(|s| !s.action.is_pending()).collect();
    let local = |at: DateTime<Utc>| at.with_timezone(&app.tz).format("%H:%M").to_string();
    for step in pending {
        let Some(after) = done.iter().find(|d| d.key == step.key) else { continue };
        let what = match (&step.action, step.draft.end) {
            // An update answered 404: the user deleted it in the service, and it stays deleted.
            _ if after.action == Action::Leave && matches!(step.action, Action::Update { .. }) => format!(
                "left deleted (you deleted it in {}; `push --force` posts it again)",
                destination.service.name()
            ),
            (Action::Start, _) | (Action::Adopt { .. }, None) => "started".to_string(),
            (Action::Stop { at, .. }, _) => format!("stopped a timer not ours at {}", local(*at)),
            (Action::Update { .. }, None) => "updated the running entry".to_string(),
            (Action::Update { .. }, Some(end))
                if step.previous.as_ref().is_some_and(|p| p.state != EntryState::Stored) =>
            {
                format!("stopped at {}", local(end))
            }
            (Action::Update { .. }, Some(_)) => "updated".to_string(),
            (Action::Delete { .. }, _) => "deleted".to_string(),
            _ => "posted".to_string(),
        };
        let project = crate::planning::named_label(&step.planned(), destination, names);
        say(&format!(
            "{} {}: {what}: {}-{} {project} \"{}\"",
            app.now.with_timezone(&app.tz).format("%Y-%m-%d %H:%M:%S"),
            destination.service.name(),
            local(step.draft.start),
            step.draft.end.map_or_else(|| "now".to_string(), local),
            step.draft.description
        ));
    }
}

/// The watcher reports per step itself.
struct Quiet;

impl Progress for Quiet {
    fn batch_done(&mut self, _batch: &Batch, _report: BatchReport) -> std::io::Result<()> {
        Ok(())
    }
}

fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// `watch --status`: whether a watcher runs, and per live destination the running entry, the operations
/// waiting (unsettled ledger rows) and the quota left as last seen. Reads only the database.
fn status(app: &App) -> Result<()> {
    let store = app.open_store_to_read()?;
    let watching = FileLock::try_acquire(&app.db_path, "watch.foreground.lock")?.is_none();
    let mut text = format!(
        "watcher: {}; last pass: {}\n",
        if watching { "running" } else { "not running" },
        store.cached("watch.last_pass")?.unwrap_or_else(|| "never".into())
    );
    for destination in
        destination::configured(&app.config, app.tz).iter().filter(|d| d.mode == EntryMode::Live)
    {
        let workspace = known_workspace(destination, &store)?.unwrap_or_default();
        let ledger =
            store.ledger(LedgerScope { destination: destination.service.key(), workspace_id: &workspace })?;
        let running: Vec<String> = ledger
            .entries
            .values()
            .filter(|e| e.state == EntryState::Running)
            .map(|e| {
                format!(
                    "since {} (id {})",
                    e.start.with_timezone(&app.tz).format("%Y-%m-%d %H:%M"),
                    e.remote_id.as_deref().unwrap_or("?")
                )
            })
            .collect();
        let waiting: Vec<String> = ledger
            .entries
            .values()
            .filter(|e| e.state.is_unsettled())
            .map(|e| {
                let local = |at: DateTime<Utc>| at.with_timezone(&app.tz).format("%H:%M").to_string();
                format!(
                    "{} {}-{}",
                    e.operation.name(),
                    local(e.start),
                    e.end.map_or_else(|| "now".into(), local)
                )
            })
            .collect();
        let waiting = if waiting.is_empty() {
            "0".to_string()
        } else {
            format!("{} ({})", waiting.len(), waiting.join(", "))
        };
        let quota = store.cached(&format!("watch.quota.{}", destination.service.key()))?;
        text.push_str(&format!(
            "{}: running: {}; operations waiting: {waiting}; quota left: {}\n",
            destination.service.name(),
            if running.is_empty() { "none".to_string() } else { running.join(", ") },
            quota.map_or_else(|| "not reported".to_string(), |q| format!("{q} requests this hour"))
        ));
    }
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
