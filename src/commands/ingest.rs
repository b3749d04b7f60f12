//! `claude-tracker ingest`, and the quiet ingest that `report` runs first.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;

use crate::app::App;
use crate::ingest::{IngestSummary, ingest, skipped_report};
use crate::store::Store;

/// Brings the database up to date with the transcripts on disk, warning on stderr about skipped lines,
/// then gives every session the rules have not seen (new, changed, or all after a rules change) its rule
/// tags.
pub(crate) fn refresh(app: &App, store: &mut Store) -> Result<IngestSummary> {
    let summary = refresh_sessions(app, store)?;
    apply_rule_tags(app, store)?;
    Ok(summary)
}

/// As [`refresh`], saying nothing: for a full-screen terminal that stderr would scribble over.
pub(crate) fn refresh_quietly(app: &App, store: &mut Store) -> Result<IngestSummary> {
    let summary = ingest(store, &app.projects_dirs, app.config.capture.idle_ms())?;
    store.cache(LAST_INGEST, &app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    apply_rule_tags(app, store)?;
    Ok(summary)
}

/// Gives every session the rules in force have not seen its rule tags.
fn apply_rule_tags(app: &App, store: &mut Store) -> Result<()> {
    let pending = store.sessions_needing_rule_tags(app.rules.fingerprint())?;
    if !pending.is_empty() {
        let tags: Vec<(String, Vec<String>)> =
            pending.iter().map(|s| (s.session_id.clone(), app.rules.tags_for(s))).collect();
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
    let summary = ingest(store, &app.projects_dirs, app.config.capture.idle_ms())?;
    store.cache(LAST_INGEST, &app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))?;
    let mut stderr = std::io::stderr().lock();
    for problem in &summary.problems {
        writeln!(stderr, "claude-tracker: warning: {problem}")?;
    }
    if app.verbose {
        for line in skipped_report(&summary) {
            writeln!(stderr, "claude-tracker: skipped {line}")?;
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

/// The `meta` key of the last ingest's time (what `status` shows).
pub(crate) const LAST_INGEST: &str = "ingest.last";

/// Runs `ingest` and prints what it did.
pub(crate) fn run(app: &App) -> Result<()> {
    let started = Instant::now();
    let mut store = app.open_store()?;
    let summary = refresh(app, &mut store)?;
    let mut stdout = std::io::stdout().lock();
    if app.projects_dirs.is_empty() {
        writeln!(
            stdout,
            "no Claude Code transcripts found: set `[capture] projects_dirs` in the config or $CLAUDE_CONFIG_DIR"
        )?;
    }
    writeln!(
        stdout,
        "read {} of {} transcript files ({:.1} MB) in {} ms; {} sessions updated, {} in the database",
        summary.files_read,
        summary.files_seen,
        summary.bytes_read as f64 / 1e6,
        started.elapsed().as_millis(),
        summary.sessions_updated,
        store.session_count()?
    )?;
    Ok(())
}
