//! `claude-tracker import FILE|-`: merges a portable sessions file (another machine's `export --format
//! jsonl`, or an archive) into the database. Nothing else is read or written: no ingest, so a file that
//! is refused leaves the database exactly as it was.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result};

use crate::app::App;
use crate::portable;

/// Runs `import`.
pub(crate) fn run(app: &App, file: &Path) -> Result<()> {
    let from_stdin = file.as_os_str() == "-";
    let name = if from_stdin { "stdin".to_string() } else { file.display().to_string() };
    let mut bytes = Vec::new();
    if from_stdin {
        std::io::stdin().lock().read_to_end(&mut bytes).context("cannot read stdin")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("{name} is not UTF-8 text, so not a sessions file: nothing was imported")
    })?;
    let parsed = portable::parse(&text).map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
    let mut stderr = std::io::stderr().lock();
    for (line, why) in &parsed.refused {
        writeln!(stderr, "claude-tracker: {name}:{line}: {why}; this session was not imported")?;
    }
    let mut store = app.open_store()?;
    store.name_machine(&parsed.header.machine)?;
    let total = parsed.sessions.len();
    let counts = store.merge_sessions(parsed.sessions, app.config.capture.time_model())?;
    writeln!(
        std::io::stdout().lock(),
        "imported {name} (written by {} at {}): {} sessions added, {} extended, {} already known",
        parsed.header.machine.name,
        parsed.header.written_at,
        counts.added,
        counts.extended,
        total - counts.added - counts.extended
    )?;
    anyhow::ensure!(
        parsed.refused.is_empty(),
        "{} line(s) of {name} were refused (listed above); the other sessions were imported",
        parsed.refused.len()
    );
    Ok(())
}
