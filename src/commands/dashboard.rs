//! `claude-tracker dashboard`: builds the dashboard's view model from the store and runs the terminal
//! (ratatui on crossterm): keys and transcript changes (notify) wake it; nothing polls. The terminal is
//! restored on every exit path: a normal quit, a signal (SIGTERM, SIGHUP, SIGINT), an error (a guard's
//! `Drop`) and a panic (ratatui's hook).

use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{Datelike, Days, NaiveDate};
use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::app::App;
use crate::classify::{Classifier, pair_tagged};
use crate::cli::{DashboardArgs, DashboardTab};
use crate::dashboard::{DashboardView, DestinationLine, Row, Tab, render, snapshot};
use crate::report::{self, ReportRange, Totals, UNTAGGED};
use crate::store::Store;
use crate::workday;

use crate::planning::destination_states;

/// The longest wait between refreshes when nothing happens (a missed file event costs at most this).
const FALLBACK_REFRESH: Duration = Duration::from_secs(60);

/// The Range tab's days on `today`: `--since` (the first of the month) through `--until` (today).
fn range_days(args: &DashboardArgs, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        args.since.map_or_else(|| today.with_day(1).unwrap_or(today), |d| d.resolve(today)),
        args.until.map_or(today, |d| d.resolve(today)),
    )
}

/// The Range tab's days: as asked; with no `--since`/`--until`, the month so far, or, when nothing was
/// recorded in it, the span of every recorded session (a first look at old transcripts shows them).
fn range_or_recorded(
    store: &Store,
    args: &DashboardArgs,
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> Result<(NaiveDate, NaiveDate)> {
    let (since, until) = range_days(args, today);
    if args.since.is_some() || args.until.is_some() {
        return Ok((since, until));
    }
    let (from, to) = workday::days_window(since, until, tz);
    if !store.query_range(from, to)?.is_empty() {
        return Ok((since, until));
    }
    let day = |at: Option<i64>| {
        at.and_then(chrono::DateTime::from_timestamp_millis).map(|at| workday::local_date(at, tz))
    };
    Ok(match (day(store.earliest_activity()?), day(store.latest_activity()?)) {
        (Some(first), Some(last)) => (first, last),
        _ => (since, until),
    })
}

/// Runs `dashboard`.
pub(crate) fn run(app: &App, args: &DashboardArgs) -> Result<()> {
    let (since, until) = range_days(args, workday::local_date(app.now, app.tz));
    anyhow::ensure!(since <= until, workday::empty_range(since, until));
    let mut store = app.open_store_to_read()?;
    let tab = match args.tab {
        DashboardTab::Today => Tab::Today,
        DashboardTab::Week => Tab::Week,
        DashboardTab::Month => Tab::Month,
        DashboardTab::Range => Tab::Range,
    };
    let mut screen = Screen { tab, help: false, args, moved: None };
    if let Some(size) = &args.snapshot {
        let (width, height) = crate::screen::parse_size(size)?;
        crate::refresh::refresh_unless_read_only(app, &mut store)?;
        let view = build_view(app, &store, &screen, destination_lines(app, &store)?)?;
        print!("{}", snapshot(&view, width, height));
        return Ok(());
    }
    anyhow::ensure!(
        std::io::stdout().is_terminal() && std::io::stdin().is_terminal(),
        "the dashboard needs a terminal: run it in one (`claude-tracker report` and `status` print text)"
    );
    if store.is_read_only() {
        // Before the terminal is taken: the note stays on screen when the dashboard ends.
        crate::refresh::note_read_only(app)?;
    } else {
        crate::refresh::refresh_quietly(app, &mut store)?;
    }
    run_terminal(app, &mut store, &mut screen)
}

/// What the user chose on screen.
struct Screen<'a> {
    tab: Tab,
    help: bool,
    args: &'a DashboardArgs,
    /// The Range tab's days once moved with `[` / `]` (else as the arguments or the default give them).
    moved: Option<(NaiveDate, NaiveDate)>,
}

/// The range `since..=until` moved back (or forward) by its own length, never past `today`: `[` and `]`
/// on the Range tab page through history one range at a time.
fn shift_range(
    (since, until): (NaiveDate, NaiveDate),
    forward: bool,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let days = u64::try_from((until - since).num_days()).unwrap_or(0);
    if forward {
        let until = until.checked_add_days(Days::new(days + 1)).unwrap_or(until).min(today).max(until);
        (until.checked_sub_days(Days::new(days)).unwrap_or(since), until)
    } else {
        let since = since.checked_sub_days(Days::new(days + 1)).unwrap_or(since);
        (since, since.checked_add_days(Days::new(days)).unwrap_or(since))
    }
}

/// What wakes the screen.
#[derive(Clone)]
enum Wake {
    Input(Event),
    Changed,
    /// SIGTERM, SIGHUP or SIGINT: leave as `q` does, so the terminal is given back.
    Quit,
}

fn run_terminal(app: &App, store: &mut Store, screen: &mut Screen<'_>) -> Result<()> {
    let (wake, woken) = mpsc::channel::<Wake>();
    let events = wake.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = events.send(Wake::Changed);
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
    crate::screen::forward_keys_and_signals(&wake, Wake::Input, Wake::Quit)?;
    // From here on the terminal is given back on every exit.
    let mut screen_guard = crate::screen::Screen::take()?;
    let terminal = &mut screen_guard.terminal;
    // The sync state changes only with the data: it is recomputed on a refresh, not on every key.
    let mut destinations = destination_lines(app, store)?;
    let mut view = build_view(app, store, screen, destinations.clone())?;
    loop {
        terminal.draw(|frame| render(&view, frame))?;
        let refresh = match woken.recv_timeout(FALLBACK_REFRESH) {
            Ok(Wake::Input(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                match key.code {
                    // Esc closes the help first; on the dashboard itself it quits, as `q` does.
                    KeyCode::Esc if screen.help => screen.help = false,
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Ok(()),
                    KeyCode::Right | KeyCode::Tab => screen.tab = screen.tab.step(true),
                    KeyCode::Left | KeyCode::BackTab => screen.tab = screen.tab.step(false),
                    KeyCode::Char(digit @ '1'..='4') => {
                        screen.tab = Tab::ALL[usize::from(digit as u8 - b'1')];
                    }
                    KeyCode::Char('?') => screen.help = !screen.help,
                    KeyCode::Char(key @ ('[' | ']')) if screen.tab == Tab::Range => {
                        let today = workday::local_date(app.now, app.tz);
                        let current = match screen.moved {
                            Some(range) => range,
                            None => range_or_recorded(store, screen.args, today, app.tz)?,
                        };
                        screen.moved = Some(shift_range(current, key == ']', today));
                    }
                    KeyCode::Char('r') => {}
                    _ => continue,
                }
                key.code == KeyCode::Char('r')
            }
            Ok(Wake::Input(_)) => false,
            Ok(Wake::Changed) => {
                // Let the write finish, and take the burst of events as one.
                std::thread::sleep(Duration::from_millis(100));
                while let Ok(Wake::Changed) = woken.try_recv() {}
                true
            }
            Err(mpsc::RecvTimeoutError::Timeout) => true,
            Ok(Wake::Quit) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut app = app.clone();
        app.now = app.clock.now()?;
        if refresh {
            if !store.is_read_only() {
                crate::refresh::refresh_quietly(&app, store)?;
            }
            destinations = destination_lines(&app, store)?;
        }
        view = build_view(&app, store, screen, destinations.clone())?;
    }
}

/// The view of the chosen tab, from the store.
fn build_view(
    app: &App,
    store: &Store,
    screen: &Screen<'_>,
    destinations: Vec<DestinationLine>,
) -> Result<DashboardView> {
    let today = workday::local_date(app.now, app.tz);
    let back = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
    let (since, until) = match screen.tab {
        Tab::Today => (today, today),
        Tab::Week => (back(6), today),
        Tab::Month => (back(29), today),
        Tab::Range => match screen.moved {
            Some(range) => range,
            None => range_or_recorded(store, screen.args, today, app.tz)?,
        },
    };
    let range = ReportRange { since, until: until.max(since), tz: app.tz };
    let (from, to) = workday::days_window(range.since, range.until, app.tz);
    let mut sessions = store.query_range(from, to)?;
    report::name_this_machine(&mut sessions, &app.machine);
    let projects = Classifier::default().classify_all(&sessions);
    let tags = store.tag_names()?;
    let classified = pair_tagged(&sessions, &projects, &tags);
    let row = |label: String, totals: &Totals, minutes: i64| Row {
        label,
        minutes,
        sessions: totals.sessions,
        tokens: totals.tokens(),
    };
    // Each panel rounded as a whole, so that its minutes add up (and the days to the projects' total).
    let projects = report::by_project(&classified, range);
    let (project_minutes, _) = projects.active_minutes();
    let (_, bands) = projects.rounded_bands(crate::figures::MINUTE_MS);
    let tags = report::by_tag(&classified, range);
    let (tag_minutes, _) = tags.active_minutes();
    let machines = report::by_machine(&classified, range);
    let (machine_minutes, _) = machines.active_minutes();
    let by_day = report::by_day(&classified, range);
    let (day_minutes, _) = by_day.active_minutes();
    let days = workday::dates(range.since, range.until)
        .map(|date| {
            let minutes =
                by_day.rows.iter().zip(&day_minutes).find(|(d, _)| d.key == date).map_or(0, |(_, m)| *m);
            (date, minutes)
        })
        .collect();
    Ok(DashboardView {
        tab: screen.tab,
        bands,
        range_label: if since == until { since.to_string() } else { format!("{since} - {until}") },
        projects: projects
            .rows
            .iter()
            .zip(project_minutes)
            .map(|(p, minutes)| row(p.key.name.clone(), &p.totals, minutes))
            .collect(),
        tags: tags
            .rows
            .iter()
            .zip(tag_minutes)
            .map(|(t, minutes)| {
                row(t.key.clone().unwrap_or_else(|| UNTAGGED.to_string()), &t.totals, minutes)
            })
            .collect(),
        machines: machines.rows.iter().map(|m| m.key.clone()).zip(machine_minutes).collect(),
        days,
        destinations,
        timezone: app.tz.name().to_string(),
        help: screen.help,
        color: std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
    })
}

/// Each destination's sync state, as `status` gathers it.
fn destination_lines(app: &App, store: &Store) -> Result<Vec<DestinationLine>> {
    let local = |at: chrono::DateTime<chrono::Utc>, format: &str| {
        at.with_timezone(&app.tz).format(format).to_string()
    };
    Ok(destination_states(app, store)?
        .into_iter()
        .map(|state| DestinationLine {
            name: state.destination.service.name().to_string(),
            mode: state.destination.mode.name().to_string(),
            days_synced: state.days_synced,
            days_waiting: state.days_waiting,
            in_doubt: state.in_doubt,
            last_run: state.last_sync.map(|at| local(at, "%Y-%m-%d %H:%M")),
            quota_left: state.quota_left,
            running: state.running_since.map(|at| format!("since {}", local(at, "%H:%M"))),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_pages_by_its_own_length_and_never_past_today() {
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let today = day("2026-11-20");
        let november = (day("2026-11-01"), day("2026-11-20"));
        assert_eq!(shift_range(november, false, today), (day("2026-10-12"), day("2026-10-31")));
        assert_eq!(shift_range((day("2026-10-12"), day("2026-10-31")), true, today), november);
        assert_eq!(shift_range(november, true, today), november, "today is the end");
        let week = (day("2026-11-09"), day("2026-11-15"));
        assert_eq!(shift_range(week, true, today), (day("2026-11-14"), day("2026-11-20")));
    }
}
