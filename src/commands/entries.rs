//! `claude-tracker entries`: the entries `sync` and `push` would post (and those already posted) with
//! the user's edits, and the edits themselves, for scripts and for everyone without the `review`
//! screen. Each edit is kept in the store against the entry's key (notes/11-review.md); nothing is sent
//! here: the next `sync`/`push` sends what the edit changed.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;

use crate::app::App;
use crate::cli::{EntriesArgs, EntriesCommand};
use crate::connect::known_workspace;
use crate::destination::{Destination, Service};
use crate::ledger::LedgerScope;
use crate::overrides::Override;
use crate::planning::{
    DestinationPlan, Window, chosen_destinations, day_range, destination_plan, entry_rows, sessions_around,
};
use crate::review::EntryRow;
use crate::store::Store;
use crate::workday;

/// Runs `entries`.
pub(crate) fn run(app: &App, args: &EntriesArgs) -> Result<()> {
    let mut store = app.open_store()?;
    crate::refresh::refresh(app, &mut store)?;
    let Some(command) = &args.command else {
        let mut rows = Vec::new();
        for destination in chosen_destinations(app, args.to, true)? {
            let plan = plan(app, &store, destination, (args.since, args.until))?;
            rows.extend(entry_rows(&plan));
        }
        let text = if args.json { crate::review::json(&rows) } else { crate::review::text(&rows, app.tz) };
        std::io::stdout().lock().write_all(text.as_bytes())?;
        return Ok(());
    };
    let destination = chosen_destinations(app, args.to, false)?.remove(0);
    // Edits live in this machine's database: the machine that posts would never see them.
    if let Some(poster) = destination.posted_elsewhere(&app.machine) {
        anyhow::bail!(
            "{} is posted from `{poster}` (`post_from`), not from this machine (`{}`): edit its entries on \
             `{poster}` (`claude-tracker entries` there lists every machine's), where they are posted",
            destination.service.name(),
            app.machine
        );
    }
    let workspace = known_workspace(&destination, &store)?.unwrap_or_default();
    let scope = LedgerScope { destination: destination.service.key(), workspace_id: &workspace };
    let at = app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let today = workday::local_date(app.now, app.tz);
    let mut out = String::new();
    if let EntriesCommand::Approve { days } = command {
        let days: Vec<NaiveDate> = days.iter().map(|d| d.resolve(today)).collect();
        store.approve_days(scope, &days, &at)?;
        let list: Vec<String> = days.iter().map(NaiveDate::to_string).collect();
        out.push_str(&format!(
            "{}: approved {}; the next `claude-tracker sync` (or `push`) posts them\n",
            destination.service.name(),
            list.join(", ")
        ));
        std::io::stdout().lock().write_all(out.as_bytes())?;
        return Ok(());
    }
    // The entry is looked for in the days asked (`--since`), as the listing that showed its id.
    let plan = plan(app, &store, destination.clone(), (args.since, args.until))?;
    let rows = entry_rows(&plan);
    // An edit that follows its entry under a new key (its start moved) is edited there.
    let spans: Vec<_> = rows.iter().map(|r| (r.key.clone(), r.start, r.end)).collect();
    let (edits, moves) = crate::overrides::rekeyed(&store.edits(scope)?, &spans);
    let find = |key: &str| -> Result<&EntryRow> {
        rows.iter().find(|row| row.is_named(key)).ok_or_else(|| {
            anyhow::anyhow!(
                "{} plans no entry `{key}` in its current range: `claude-tracker entries{}` lists them, each with \
                 its id (`--since DATE` for earlier days)",
                destination.service.name(),
                to_flag(args.to)
            )
        })
    };
    let mut changed: Vec<(String, Override)> = Vec::new();
    let mut edit = |name: &str, change: &dyn Fn(&mut Override)| -> Result<()> {
        let row = find(name)?;
        let key = row.key.clone();
        let mut current = edits.by_key.get(&key).cloned().unwrap_or_default();
        change(&mut current);
        current.span = Some((row.start, row.end));
        changed.push((key, current));
        Ok(())
    };
    match command {
        EntriesCommand::Exclude { keys, delete } => {
            for key in keys {
                edit(key, &|o| {
                    o.excluded = true;
                    o.delete_confirmed = *delete;
                })?;
            }
        }
        EntriesCommand::Include { keys } => {
            for key in keys {
                edit(key, &|o| {
                    o.excluded = false;
                    o.delete_confirmed = false;
                })?;
            }
        }
        EntriesCommand::Describe { key, text } => {
            edit(key, &|o| o.description = Some(text.clone()).filter(|t| !t.is_empty()))?;
        }
        EntriesCommand::Project { key, project } => {
            edit(key, &|o| o.project_id = Some(project.clone()).filter(|p| !p.is_empty()))?;
        }
        EntriesCommand::Billable { key, value } => {
            let flag = match value.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            edit(key, &|o| o.billable = flag)?;
        }
        EntriesCommand::Approve { .. } => {}
    }
    for (old, new) in &moves {
        if changed.iter().any(|(key, _)| key == new) {
            store.save_override(scope, old, &Override::default(), &at)?;
        }
    }
    for (key, edit) in &changed {
        store.save_override(scope, key, edit, &at)?;
        out.push_str(&said(&destination, edit, find(key)?));
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(())
}

/// What an edit now does, in one line.
fn said(destination: &Destination, edit: &Override, row: &EntryRow) -> String {
    let service = destination.service.name();
    let key = row.id();
    let posted = row.state != crate::review::RowState::New
        && row.state != crate::review::RowState::Excluded
        && row.state != crate::review::RowState::Waiting;
    match (edit.excluded, edit.delete_confirmed, posted) {
        (true, false, true) => format!(
            "{key}: excluded; it is on {service} already and stays there until you confirm its deletion: \
             `claude-tracker entries exclude {key} --delete`\n"
        ),
        (true, true, true) => format!("{key}: excluded; the next run deletes it from {service}\n"),
        (true, _, false) => format!("{key}: excluded; it is never posted\n"),
        (false, _, _) if edit.is_empty() => format!("{key}: as planned (no edit kept)\n"),
        (false, _, _) => {
            let mut parts = Vec::new();
            if let Some(description) = &edit.description {
                parts.push(format!("description \"{description}\""));
            }
            if let Some(project) = &edit.project_id {
                parts.push(format!("project {project}"));
            }
            if let Some(billable) = edit.billable {
                parts.push(format!("billable: {}", if billable { "yes" } else { "no" }));
            }
            let when = if posted { "the next run updates it" } else { "sent when it is posted" };
            format!("{key}: {}; {when}\n", parts.join(", "))
        }
    }
}

fn to_flag(to: Option<Service>) -> String {
    to.map_or_else(String::new, |s| format!(" --to {}", s.key()))
}

/// A destination's plan over the days asked (default: the range `sync` plans), as a dry run sees it.
pub(crate) fn plan(
    app: &App,
    store: &Store,
    destination: Destination,
    (since, until): (Option<workday::DayArg>, Option<workday::DayArg>),
) -> Result<DestinationPlan> {
    let today = workday::local_date(app.now, app.tz);
    let asked = (since.map(|d| d.resolve(today)), until.map(|d| d.resolve(today).min(today)));
    let (since, until) = day_range(app, asked, store, today, true)?.unwrap_or((today, today));
    anyhow::ensure!(since <= until, workday::empty_range(since, until));
    let sessions = sessions_around(store, (since, until), app.tz)?;
    let tags = store.tag_names()?;
    let folders = store.folder_targets()?;
    let done = crate::planning::work_done_around(app, store, (since, until))?;
    let window = Window::days((since, until, today), app.tz, &sessions, (&tags, &folders))
        .ranged_as_asked(asked.0.is_some())
        .with_work_done(&done);
    destination_plan(app, store, destination, &window)
}
