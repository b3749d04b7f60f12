//! Bringing the store up to date before a command reads it: the ingest of the transcripts on disk (with
//! its warnings on stderr) and the rule tags of every session the rules in force have not seen. Every
//! command that reads sessions calls it (a thin layer, so no command imports another).

use std::io::Write;

use anyhow::Result;

use crate::app::App;
use crate::ingest::{IngestSettings, IngestSummary, ingest, skipped_report};
use chrono::DateTime;

use crate::store::{SessionRef, Store};
use crate::transcripts::discover::{DirsSource, FolderState, folder_warnings};

/// Brings the database up to date with the transcripts on disk, warning on stderr about skipped lines,
/// then gives every session the rules have not seen (new, changed, or all after a rules change) its rule
/// tags.
pub(crate) fn refresh(app: &App, store: &mut Store) -> Result<IngestSummary> {
    let summary = refresh_sessions(app, store)?;
    // This machine named in the database: its sessions then carry the name in every output and rule.
    let machine = crate::share::this_machine(app, store)?;
    let shared = crate::share::pass(app, store, &machine)?;
    let mut stderr = std::io::stderr().lock();
    for warning in &shared.warnings {
        writeln!(stderr, "claude-tracker: warning: {warning}")?;
    }
    apply_rule_tags(app, store)?;
    Ok(summary)
}

/// As [`refresh`], saying nothing: for a full-screen terminal that stderr would scribble over.
pub(crate) fn refresh_quietly(app: &App, store: &mut Store) -> Result<IngestSummary> {
    let summary = ingest(store, &app.projects_dirs, ingest_settings(app), app.now.timestamp_millis())?;
    store.cache(LAST_INGEST, &app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    // The shared folder's warnings wait for `status` and the commands that print.
    let machine = crate::share::this_machine(app, store)?;
    crate::share::pass(app, store, &machine)?;
    apply_rule_tags(app, store)?;
    Ok(summary)
}

/// Gives every session the rules in force have not seen its rule tags.
fn apply_rule_tags(app: &App, store: &mut Store) -> Result<()> {
    let pending = store.sessions_needing_rule_tags(app.rules.fingerprint())?;
    if !pending.is_empty() {
        let folders = store.folder_targets()?;
        let tags: Vec<(String, Vec<String>)> =
            pending.iter().map(|s| (s.session_id.clone(), app.rules.tags_for(s, &folders))).collect();
        store.record_rule_tags(app.rules.fingerprint(), &tags)?;
    }
    Ok(())
}

/// [`refresh`] for the commands that only read: a read-only database (one the user cannot write,
/// opened by [`App::open_store_to_read`]) is shown as it is, with a one-line note that transcripts were
/// not read into it.
pub(crate) fn refresh_unless_read_only(app: &App, store: &mut Store) -> Result<()> {
    if store.is_read_only() { note_read_only(app) } else { refresh(app, store).map(drop) }
}

/// The note a command that only reads gives on a read-only database.
pub(crate) fn note_read_only(app: &App) -> Result<()> {
    writeln!(
        std::io::stderr().lock(),
        "claude-tracker: note: the database {} is read-only: transcripts were not read into it, so this shows \
         what it already holds (make it writable to bring it up to date)",
        app.db_path.display()
    )?;
    Ok(())
}

/// The ingest alone, rule tags left as they are (what `rules check --dry-run` previews).
pub(crate) fn refresh_sessions(app: &App, store: &mut Store) -> Result<IngestSummary> {
    let summary = ingest(store, &app.projects_dirs, ingest_settings(app), app.now.timestamp_millis())?;
    store.cache(LAST_INGEST, &app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    let mut stderr = std::io::stderr().lock();
    for problem in &summary.problems {
        writeln!(stderr, "claude-tracker: warning: {problem}")?;
    }
    if app.verbose {
        for line in skipped_report(&summary, &store.skipped_lines()?) {
            writeln!(stderr, "claude-tracker: skipped {line}")?;
        }
        for note in &summary.commit_notes {
            writeln!(stderr, "claude-tracker: {note}")?;
        }
    } else if summary.skipped_lines() > 0 {
        writeln!(
            stderr,
            "claude-tracker: skipped {} unreadable transcript line(s) in {} file(s); `--verbose` lists them",
            summary.skipped_lines(),
            summary.skipped.len()
        )?;
    }
    Ok(summary)
}

/// What the ingest reads besides the lines, from the config: the time model, whether titles are kept,
/// and the zone whose local days commits are read over.
fn ingest_settings(app: &App) -> IngestSettings {
    IngestSettings {
        model: app.config.capture.time_model(),
        keep_titles: app.config.capture.keep_titles,
        tz: app.tz,
    }
}

/// Where `app.projects_dirs` came from, in the order `App::resolve` tries them: what a folder warning
/// tells the user to change.
fn dirs_source(app: &App) -> DirsSource {
    if app.config.capture.projects_dirs.is_some() {
        DirsSource::Config(app.config_path.clone())
    } else if let Some(value) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        DirsSource::Env(value.to_string_lossy().into_owned())
    } else {
        DirsSource::Defaults
    }
}

/// The warnings about the transcripts folders (missing, empty, unreadable, none at all) that `ingest`
/// and `status` give; the other commands stay quiet about them, `report` says it when it finds nothing.
pub(crate) fn transcripts_folder_warnings(
    app: &App,
    states: &[(std::path::PathBuf, FolderState)],
) -> Vec<String> {
    folder_warnings(states, &dirs_source(app))
}

/// The `meta` key of the last ingest's time (what `status` shows).
pub(crate) const LAST_INGEST: &str = "ingest.last";

/// Ambiguous session prefixes list at most this many candidates.
const CANDIDATES_SHOWN: usize = 10;

/// The one session `prefix` names; an unknown or ambiguous prefix is an error that lists what to type.
pub(crate) fn resolve_session(store: &Store, prefix: &str, tz: chrono_tz::Tz) -> Result<SessionRef> {
    anyhow::ensure!(!prefix.is_empty(), "name a session: its id or the first characters of it");
    let found = store.sessions_with_prefix(prefix, CANDIDATES_SHOWN + 1)?;
    match found.as_slice() {
        [] => anyhow::bail!(
            "no session id starts with `{prefix}`: `claude-tracker export --csv --sessions` lists sessions with \
             their ids, or look in Claude Code's transcript file names"
        ),
        [one] => Ok(one.clone()),
        many => {
            let mut message = format!("`{prefix}` names several sessions; type more of the id:");
            for candidate in many.iter().take(CANDIDATES_SHOWN) {
                // Local time, as every other listing shows it, its zone named.
                let started = DateTime::from_timestamp_millis(candidate.first_ms).unwrap_or_default();
                message.push_str(&format!(
                    "\n  {}  {}  {}",
                    candidate.session_id,
                    started.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                    candidate.project
                ));
            }
            if many.len() > CANDIDATES_SHOWN {
                message.push_str("\n  ...");
            }
            anyhow::bail!(message)
        }
    }
}
