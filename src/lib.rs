//! claude-tracker: Claude Code transcripts -> sessions in SQLite -> reports and timesheet entries.
//!
//! The pure core (`transcripts::parse`, `sessions`, `workday`, `report`) takes and returns values; the
//! edges (`app`, `ingest`, `store`, `commands`) do the I/O.

pub mod allocate;
pub mod app;
pub mod cli;
pub mod clockify;
pub mod commands;
pub mod config;
pub mod destination;
pub mod export;
pub mod http;
pub mod ingest;
pub mod pause;
pub mod report;
pub mod secrets;
pub mod sessions;
pub mod store;
pub mod sync;
pub mod timesheet;
pub mod toggl;
pub mod transcripts;
pub mod workday;

use anyhow::Result;

/// Runs one command line to completion.
pub fn run(cli: cli::Cli) -> Result<()> {
    let app = app::App::resolve(&cli.global)?;
    match &cli.command {
        cli::Command::Ingest => commands::ingest::run(&app),
        cli::Command::Report(args) => commands::report::run(&app, args),
        cli::Command::Sync(args) => commands::sync::run(&app, args),
        cli::Command::Setup { toggl } => commands::setup::run(&app, *toggl),
        cli::Command::Clockify { command: cli::ClockifyCommand::Projects { workspace } } => {
            commands::setup::clockify_projects(&app, workspace.as_deref())
        }
        cli::Command::Toggl { command: cli::TogglCommand::Projects { workspace, refresh } } => {
            commands::setup::toggl_projects(&app, workspace.as_deref(), *refresh)
        }
        cli::Command::Export(args) => commands::export::run(&app, args),
    }
}

/// True when the error is only a closed stdout (`claude-tracker report | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
