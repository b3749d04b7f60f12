//! claude-tracker: Claude Code transcripts -> sessions in SQLite -> reports and timesheet entries.
//!
//! The pure core (`transcripts::parse`, `transcripts::kinds`, `sessions`, `attention`, `folders`, `classify`,
//! `descriptions`, `workday`, `allocate`, `ledger`, `timeline`, `timesheet`, `report`, `export`, `figures`,
//! `portable`, `overrides`, `review`, `review_screen`, `sync::steps`, `sync::daily`, `sync::sessions`,
//! `sync::live`, `dashboard`) takes and returns values and imports no edge module; the edges (`app`,
//! `ingest`, `git`, `store`, `http`, `clockify`, `toggl`, `connect`, `share`, `sync`'s executor,
//! `commands`) do the I/O.
//! `notes/00-architecture.md` draws the map.

mod allocate;
mod app;
mod attention;
#[doc(hidden)]
pub mod bench_api;
mod classify;
pub mod cli;
mod clockify;
mod commands;
mod config;
mod connect;
mod dashboard;
mod descriptions;
mod destination;
mod export;
mod figures;
mod files;
mod folders;
mod git;
mod http;
mod ingest;
mod ledger;
mod overrides;
mod pause;
mod planning;
mod portable;
mod refresh;
mod report;
mod review;
mod review_screen;
mod screen;
mod secrets;
mod sessions;
mod share;
mod store;
mod sync;
mod timeline;
mod timesheet;
mod toggl;
mod transcripts;
mod workday;

// The fakes of the services, shared with the end-to-end tests and the benches: the clients' unit tests
// run every `Timesheet` call against them.
#[cfg(test)]
#[path = "../tests/e2e/fake_clockify.rs"]
mod fake_clockify;
#[cfg(test)]
#[path = "../tests/e2e/fake_http.rs"]
mod fake_http;
#[cfg(test)]
#[path = "../tests/e2e/fake_toggl.rs"]
mod fake_toggl;

use anyhow::Result;

/// Runs one command line to completion.
pub fn run(cli: cli::Cli) -> Result<()> {
    let app = app::App::resolve(&cli.global)?;
    match &cli.command {
        cli::Command::Ingest => commands::ingest::run(&app),
        cli::Command::Report(args) => commands::report::run(&app, args),
        cli::Command::Sync(args) => commands::sync::run(&app, args),
        cli::Command::Push(args) => commands::push::run(&app, args),
        cli::Command::Watch(args) => commands::watch::run(&app, args),
        cli::Command::Status { json } => commands::status::run(&app, *json),
        cli::Command::Dashboard(args) => commands::dashboard::run(&app, args),
        cli::Command::Completions { shell } => commands::docs::completions(*shell),
        cli::Command::Hooks { command: cli::HooksCommand::Install } => commands::hooks::install(&app),
        cli::Command::Hooks { command: cli::HooksCommand::Uninstall } => commands::hooks::uninstall(&app),
        cli::Command::Man => commands::docs::man(),
        cli::Command::Setup { toggl } => commands::setup::run(&app, *toggl),
        cli::Command::Clockify { command: cli::ClockifyCommand::Projects { workspace } } => {
            commands::setup::clockify_projects(&app, workspace.as_deref())
        }
        cli::Command::Toggl { command: cli::TogglCommand::Projects { workspace, refresh } } => {
            commands::setup::toggl_projects(&app, workspace.as_deref(), *refresh)
        }
        cli::Command::Export(args) => commands::export::run(&app, args),
        cli::Command::Import { file } => commands::import::run(&app, file),
        cli::Command::Entries(args) => commands::entries::run(&app, args),
        cli::Command::Review(args) => commands::review::run(&app, args),
        cli::Command::Rules { command: cli::RulesCommand::Check(args) } => commands::rules::check(&app, args),
        cli::Command::Tag { session, tags } => commands::tag::tag(&app, session, tags),
        cli::Command::Untag { session, tags } => commands::tag::untag(&app, session, tags),
    }
}

/// True when the error is only a closed stdout (`claude-tracker report | head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
