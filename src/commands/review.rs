//! `claude-tracker review`: the entries waiting to be posted to one destination, on a terminal screen
//! where each can be excluded, described, given another project or billable flag; `P` keeps the edits
//! (overrides in the store, as `entries` makes them), approves the days shown when the destination
//! wants approval, and posts through the same planner and executor as `sync`/`push`, with their
//! summary. `q` leaves with nothing kept. After each key the plan is made again with the screen's edits,
//! so what is shown is what would be sent.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::mpsc;

use anyhow::Result;
use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::app::App;
use crate::cli::ReviewArgs;
use crate::connect::known_workspace;
use crate::destination::Destination;
use crate::ledger::{Ledger, LedgerScope};
use crate::overrides::Edits;
use crate::planning::{
    DestinationPlan, PostOptions, Window, cached_project_names, day_range, entry_rows, plan_and_post,
    plan_with_ledger, sessions_around,
};
use crate::review::{EntryRow, RowState};
use crate::review_screen::{Key, Outcome, Prompt, ReviewState, project_choices, render, snapshot};
use crate::store::Store;
use crate::workday;

/// Runs `review`.
pub(crate) fn run(app: &App, args: &ReviewArgs) -> Result<()> {
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let destination = crate::planning::chosen_destinations(app, args.to, false)?.remove(0);
    // Edits live in this machine's database: the machine that posts would never see them.
    if let Some(poster) = destination.posted_elsewhere(&app.machine) {
        anyhow::bail!(
            "{} is posted from `{poster}` (`post_from`), not from this machine (`{}`): run `claude-tracker \
             review` on `{poster}`, which holds every machine's sessions and posts them (edits made here would \
             stay here)",
            destination.service.name(),
            app.machine
        );
    }
    let today = workday::local_date(app.now, app.tz);
    let asked = (args.since.map(|d| d.resolve(today)), args.until.map(|d| d.resolve(today).min(today)));
    let (since, until) = day_range(app, asked, &store, today, true)?.unwrap_or((today, today));
    anyhow::ensure!(since <= until, workday::empty_range(since, until));
    let sessions = sessions_around(&store, (since, until), app.tz)?;
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let done = crate::planning::work_done_around(app, &store, (since, until))?;
    let window = Window::days((since, until, today), app.tz, &sessions, (&tags, &folders))
        .ranged_as_asked(asked.0.is_some())
        .with_work_done(&done);
    let workspace = known_workspace(&destination, &store)?.unwrap_or_default();
    let scope = LedgerScope { destination: destination.service.key(), workspace_id: &workspace };
    let ledger = store.ledger(scope)?;
    let names = cached_project_names(&store, &destination, &workspace)?;
    let planner =
        Planner { app, ledger, destination: &destination, window: &window, names, all: asked.0.is_some() };
    let mut state = ReviewState {
        service: destination.service.name().to_string(),
        range_label: if since == until { since.to_string() } else { format!("{since} - {until}") },
        rows: Vec::new(),
        edits: planner.ledger.edits.clone(),
        projects: project_choices(&planner.names),
        cursor: 0,
        prompt: Prompt::None,
        tz: app.tz,
        approve: destination.approve,
        message: None,
    };
    state.set_rows(planner.rows(&state.edits));
    // Edits that follow their entry under a new key are edited there (the old key goes when P keeps).
    let spans: Vec<_> = state.rows.iter().map(|r| (r.key.clone(), r.start, r.end)).collect();
    state.edits = crate::overrides::rekeyed(&state.edits, &spans).0;
    if let Some(size) = &args.snapshot {
        let (width, height) = crate::screen::parse_size(size)?;
        print!("{}", snapshot(&state, width, height));
        return Ok(());
    }
    anyhow::ensure!(
        std::io::stdout().is_terminal() && std::io::stdin().is_terminal(),
        "`review` needs a terminal: run it in one, or use `claude-tracker entries` (it lists the same entries \
         and edits them: `entries exclude|describe|project|billable ID`, `entries approve DATE`), then `sync` \
         or `push`"
    );
    if !on_screen(&mut state, &planner)? {
        println!("review: left without posting; nothing was kept");
        return Ok(());
    }
    keep(&store, scope, &planner.ledger.edits, &state, app)?;
    if destination.approve {
        let days: BTreeSet<chrono::NaiveDate> =
            state.rows.iter().filter(|r| r.state == RowState::Waiting).map(|r| r.date).collect();
        let days: Vec<chrono::NaiveDate> = days.into_iter().collect();
        store.approve_days(scope, &days, &app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    }
    let options =
        PostOptions { rerun: "claude-tracker review", dry_run: false, json: false, reconcile: false };
    plan_and_post(app, &mut store, vec![destination.clone()], &window, options)
}

/// Plans the destination again with a set of edits.
struct Planner<'a> {
    app: &'a App,
    ledger: Ledger,
    destination: &'a Destination,
    window: &'a Window<'a>,
    names: std::collections::BTreeMap<String, String>,
    /// A range was asked for: every entry in it; else only what waits (not yet as the service holds it).
    all: bool,
}

impl Planner<'_> {
    fn rows(&self, edits: &Edits) -> Vec<EntryRow> {
        let ledger = Ledger { edits: edits.clone(), ..self.ledger.clone() };
        let planned = plan_with_ledger(self.app, &ledger, self.destination, self.window, false);
        let plan = DestinationPlan {
            destination: self.destination.clone(),
            planned,
            names: self.names.clone(),
            edits: edits.clone(),
        };
        let waiting = |row: &EntryRow| {
            self.all || !matches!(row.state, RowState::Posted | RowState::DeletedThere) || row.edited
        };
        entry_rows(&plan).into_iter().filter(waiting).collect()
    }
}

/// Writes the screen's edits over the stored ones (an edit taken back removes its row).
fn keep(store: &Store, scope: LedgerScope<'_>, stored: &Edits, state: &ReviewState, app: &App) -> Result<()> {
    let at = app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let keys: BTreeSet<&String> = stored.by_key.keys().chain(state.edits.by_key.keys()).collect();
    for key in keys {
        let mut now = state.edits.by_key.get(key).cloned().unwrap_or_default();
        if let Some(row) = state.rows.iter().find(|row| &row.key == key) {
            now.span = Some((row.start, row.end));
        }
        if stored.by_key.get(key).cloned().unwrap_or_default() != now {
            store.save_override(scope, key, &now, &at)?;
        }
    }
    Ok(())
}

#[derive(Clone)]
enum Wake {
    Input(Event),
    Quit,
}

/// The screen until `P` (true) or `q` (false); the terminal is given back on every exit.
fn on_screen(state: &mut ReviewState, planner: &Planner<'_>) -> Result<bool> {
    let (wake, woken) = mpsc::channel::<Wake>();
    crate::screen::forward_keys_and_signals(&wake, Wake::Input, Wake::Quit)?;
    drop(wake);
    let mut screen = crate::screen::Screen::take()?;
    let terminal = &mut screen.terminal;
    loop {
        terminal.draw(|frame| render(state, frame))?;
        let key = match woken.recv() {
            Ok(Wake::Input(Event::Key(key))) if key.kind == KeyEventKind::Press => key,
            Ok(Wake::Input(_)) => continue,
            Ok(Wake::Quit) | Err(_) => return Ok(false),
        };
        let key = match key.code {
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => return Ok(false),
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Char(c) => Key::Char(c),
            _ => continue,
        };
        match state.on_key(key) {
            Outcome::Stay => {
                let rows = planner.rows(&state.edits);
                state.set_rows(rows);
            }
            Outcome::Quit => return Ok(false),
            Outcome::Post => return Ok(true),
        }
    }
}
