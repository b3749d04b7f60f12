//! `claude-tracker ingest`, and the quiet ingest that `report` runs first.

use std::io::Write;
use std::time::Instant;

use anyhow::Result;

use crate::app::App;
use crate::refresh::refresh;

/// Runs `ingest` and prints what it did.
pub(crate) fn run(app: &App) -> Result<()> {
    let started = Instant::now();
    let mut store = app.open_store()?;
    let summary = refresh(app, &mut store)?;
    for warning in crate::refresh::transcripts_folder_warnings(app, &summary.folders) {
        writeln!(std::io::stderr().lock(), "claude-tracker: warning: {warning}")?;
    }
    let mut stdout = std::io::stdout().lock();
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
