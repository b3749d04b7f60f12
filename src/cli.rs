//! The command line, as clap types only. Doc comments here are the `--help` text.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tracks the time you spend in Claude Code, per project, from its transcripts.
#[derive(Debug, Parser)]
#[command(name = "claude-tracker", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Config file [default: $CLAUDE_TRACKER_CONFIG, else ~/.config/claude-tracker/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database file [default: $CLAUDE_TRACKER_DB, else the platform data dir, e.g.
    /// ~/.local/share/claude-tracker/tracker.db]
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Say more: which transcript lines were skipped and why
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Pretend the current time is this instant (RFC 3339); for tests and reproducible examples
    #[arg(long, global = true, hide = true, value_name = "RFC3339")]
    pub now: Option<DateTime<Utc>>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read new and changed Claude Code transcripts into the database
    Ingest,
    /// Show active time and tokens per project (or per day)
    Report(ReportArgs),
    /// Post each past work day to Clockify, split across projects by tracked time (idempotent)
    Sync(SyncArgs),
    /// Store your Clockify API key (read without echo, or from stdin) and list your workspaces
    Setup,
    /// Look things up in Clockify
    Clockify {
        #[command(subcommand)]
        command: ClockifyCommand,
    },
}

/// `sync`'s options.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Show what would be posted, without a key or network
    #[arg(long)]
    pub dry_run: bool,
    /// Print JSON: one object per day
    #[arg(long)]
    pub json: bool,
    /// First day to sync [default: `[sync] start_date`, else the day of the earliest session]
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Last day to sync [default: yesterday; today and later are never synced]
    #[arg(long, value_name = "DATE")]
    pub until: Option<NaiveDate>,
    /// Before posting, list your entries for the days to sync and adopt those already there (for a
    /// second machine syncing the same account)
    #[arg(long)]
    pub reconcile: bool,
}

/// `clockify` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClockifyCommand {
    /// List the workspace's projects (id, name, client), to fill `[sync.project_mapping]`
    Projects {
        /// Workspace id [default: `[sync] workspace_id`]
        #[arg(long)]
        workspace: Option<String>,
    },
}

/// `report`'s options.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which days: today, the last 7 days (week) or the last 30 days (month), today included
    #[arg(value_enum, default_value_t = Period::Today, conflicts_with = "since")]
    pub period: Period,
    /// First local day of a custom range (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Last local day of a custom range, inclusive (YYYY-MM-DD) [default: today]
    #[arg(long, value_name = "DATE", requires = "since")]
    pub until: Option<NaiveDate>,
    /// One row per project or one row per day
    #[arg(long, value_enum, default_value_t = Grouping::Project)]
    pub by: Grouping,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// A named range of days ending today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Period {
    Today,
    Week,
    Month,
}

/// How report rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Grouping {
    Project,
    Day,
}
