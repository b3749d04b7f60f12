//! The command line, as clap types only. Doc comments here are the `--help` text.

use std::path::PathBuf;

use crate::workday::{DayArg, WhenArg, parse_day, parse_when};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::destination::Service;

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
    #[arg(long, global = true, value_name = "FILE", help_heading = "Global options")]
    pub config: Option<PathBuf>,
    /// Database file [default: $CLAUDE_TRACKER_DB, else the platform data dir, e.g.
    /// ~/.local/share/claude-tracker/tracker.db]
    #[arg(long, global = true, value_name = "FILE", help_heading = "Global options")]
    pub db: Option<PathBuf>,
    /// Say more: which transcript lines were skipped and why
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// Pretend the current time is this instant: `--now`, added by [`Cli::parse_args`] only, so that
    /// completions and the man page (made from `Cli::command()`) never offer it.
    #[arg(skip)]
    pub now: Option<DateTime<Utc>>,
}

/// The id of the hidden `--now` option.
const NOW: &str = "now";

impl Cli {
    /// Parses the process's arguments, with the hidden `--now` (for tests and reproducible examples).
    /// clap_complete lists hidden options too, so `--now` is no part of the derived command line.
    pub fn parse_args() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let now = clap::Arg::new(NOW)
            .long(NOW)
            .global(true)
            .hide(true)
            .value_name("RFC3339")
            .env("CLAUDE_TRACKER_NOW")
            .value_parser(|text: &str| text.parse::<DateTime<Utc>>())
            .help("Pretend the current time is this instant (RFC 3339)");
        let matches = Self::command().arg(now).get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        cli.global.now = matches.get_one::<DateTime<Utc>>(NOW).copied();
        cli
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read new and changed Claude Code transcripts into the database
    Ingest,
    /// Show active time and tokens per project (or per day, tag or machine)
    Report(ReportArgs),
    /// Post each past work day to Clockify and/or Toggl Track, split across projects by tracked time
    /// (idempotent)
    Sync(SyncArgs),
    /// Post the real timeline: every closed stretch of work as an entry at the time it happened, to the
    /// destinations with `mode = "sessions"`; entries that changed since are updated, not posted again
    Push(PushArgs),
    /// Keep a running entry in every destination with `mode = "live"` that follows your Claude Code
    /// work as it happens (runs until Ctrl-C; `--once` for one pass)
    Watch(WatchArgs),
    /// One screen of what the tool sees and what is waiting: transcripts, database, last ingest, each
    /// destination's mode, last sync and days waiting, and warnings
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// A terminal dashboard: time per project and tag for today, 7 days, 30 days or a range, a chart by
    /// day, and each destination's sync state; it refreshes when transcripts change
    Dashboard(DashboardArgs),
    /// Claude Code hooks that run `watch --once --until-idle` in the background at each session start,
    /// prompt, reply and session end (for those who do not keep `watch` running)
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `claude-tracker man > claude-tracker.1`
    Man,
    /// Store your Clockify API key, or with --toggl your Toggl Track token (read without echo, or from
    /// stdin), check it and list your workspaces
    Setup {
        /// Set up Toggl Track instead of Clockify
        #[arg(long)]
        toggl: bool,
    },
    /// Look things up in Clockify
    Clockify {
        #[command(subcommand)]
        command: ClockifyCommand,
    },
    /// Look things up in Toggl Track
    Toggl {
        #[command(subcommand)]
        command: TogglCommand,
    },
    /// Write sessions or the planned allocations as CSV to stdout, or every session as a portable file
    /// (`--format jsonl`) for `import`
    Export(ExportArgs),
    /// Merge a portable sessions file (`export --format jsonl` on another machine; `-` reads stdin)
    /// into the database: sessions counted once however often they come, nothing shortened
    Import {
        /// The file, or `-` for stdin: `ssh devbox claude-tracker export --format jsonl | claude-tracker
        /// import -`
        file: PathBuf,
    },
    /// Tag a session (an id, or a unique prefix of one); rules never remove your tags
    Tag {
        /// Session id or a unique prefix
        session: String,
        /// Tags to add
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Remove tags you gave a session (a rule that matches it gives its own tags back)
    Untag {
        /// Session id or a unique prefix
        session: String,
        /// Tags to remove
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// The entries `sync` and `push` would post (and those posted), with your edits: list them, or
    /// exclude, include, describe, re-project or approve them without the `review` screen
    Entries(EntriesArgs),
    /// A screen to review the entries waiting to be posted, edit or exclude them, then post the ones you
    /// keep (keys as the dashboard's; `entries` does the same without a terminal)
    Review(ReviewArgs),
    /// Auto-tag rules (`[[rules.auto_tag]]` in the config)
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

/// `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the rules and count them; with --dry-run, show how many sessions each rule would tag
    Check(RulesCheckArgs),
}

/// `rules check`'s options.
#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Show, per rule, the sessions it would tag (first match wins), then the unmatched ones
    #[arg(long, conflicts_with = "session")]
    pub dry_run: bool,
    /// Show one session (an id, or a unique prefix of one): its tags, the rule it matches and what that
    /// rule would apply
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
}

/// `export`'s options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// CSV (the default): the same as `--format csv`
    #[arg(long, conflicts_with = "format")]
    pub csv: bool,
    /// `csv`, or `jsonl`: every session as the tracker knows it, for `claude-tracker import` on another
    /// machine or as an archive (implies `--sessions`; without `--since` every session)
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// First local day (YYYY-MM-DD, today, yesterday or a weekday) [default: the day of the earliest session]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<DayArg>,
    /// Last local day, inclusive [default: yesterday for allocations, today for sessions]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<DayArg>,
    /// One row per session: start, end, active hours, project, git branch, tokens
    #[arg(long, conflicts_with = "allocations")]
    pub sessions: bool,
    /// One row per planned entry: the plan sync would post (the default)
    #[arg(long)]
    pub allocations: bool,
}

/// `entries`' options: a listing, or one edit.
#[derive(Debug, Args)]
pub struct EntriesArgs {
    #[command(subcommand)]
    pub command: Option<EntriesCommand>,
    /// The destination [default: the only one configured]
    #[arg(long, value_enum, value_name = "SERVICE", global = true)]
    pub to: Option<Service>,
    /// First local day listed or looked in (YYYY-MM-DD, today, yesterday or a weekday) [default: as `sync`]
    #[arg(long, value_name = "DATE", value_parser = parse_day, global = true)]
    pub since: Option<DayArg>,
    /// Last local day listed or looked in, inclusive [default: today]
    #[arg(long, value_name = "DATE", value_parser = parse_day, global = true)]
    pub until: Option<DayArg>,
    /// Print JSON: one object per entry
    #[arg(long)]
    pub json: bool,
}

/// One edit of `entries`; each names an entry by the key `entries` lists.
#[derive(Debug, Subcommand)]
pub enum EntriesCommand {
    /// Never post these entries; one already posted stays until `--delete` confirms its deletion
    Exclude {
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
        /// Also delete those already posted from the service (the next `sync`/`push` does it)
        #[arg(long)]
        delete: bool,
    },
    /// Post these entries again as planned (undoes `exclude`)
    Include {
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
    /// Send this description instead of the template's ("" goes back to the template)
    Describe {
        #[arg(value_name = "KEY")]
        key: String,
        text: String,
    },
    /// Send this project id instead of the mapped one ("" goes back to the mapping)
    Project {
        #[arg(value_name = "KEY")]
        key: String,
        #[arg(value_name = "PROJECT_ID")]
        project: String,
    },
    /// Send this billable flag (yes, no, or default: the destination's)
    Billable {
        #[arg(value_name = "KEY")]
        key: String,
        #[arg(value_parser = ["yes", "no", "default"])]
        value: String,
    },
    /// Approve days for posting (with `approve = true`, only approved days are posted)
    Approve {
        #[arg(required = true, value_name = "DATE", value_parser = parse_day)]
        days: Vec<DayArg>,
    },
}

/// `review`'s options.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The destination [default: the only one configured]
    #[arg(long, value_enum, value_name = "SERVICE")]
    pub to: Option<Service>,
    /// First local day (YYYY-MM-DD, today, yesterday or a weekday) [default: what is waiting]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<DayArg>,
    /// Last local day, inclusive [default: yesterday]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<DayArg>,
    /// Draw one frame of this size (e.g. 80x24) to stdout and exit, keys not read (tests, docs)
    #[arg(long, value_name = "WxH", hide = true)]
    pub snapshot: Option<String>,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values, one row per session or planned entry
    Csv,
    /// The portable sessions file: a header, one JSON object per session, a closing line
    Jsonl,
}

/// `toggl` subcommands.
#[derive(Debug, Subcommand)]
pub enum TogglCommand {
    /// List the workspace's projects (id, name, client), to fill `[toggl.project_mapping]`; answered from
    /// the database when listed within the hour
    Projects {
        /// Workspace id [default: `[toggl] workspace_id`, else your default workspace]
        #[arg(long)]
        workspace: Option<String>,
        /// Ask Toggl even when a recent listing is cached
        #[arg(long)]
        refresh: bool,
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
    /// First day to sync (YYYY-MM-DD, today, yesterday or a weekday) [default: `[sync] start_date`, else the
    /// day of the earliest session]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<DayArg>,
    /// Last day to sync [default: yesterday; today and later are never synced]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<DayArg>,
    /// Before posting, list your entries for the days to sync and adopt those already there (for a
    /// second machine syncing the same account)
    #[arg(long)]
    pub reconcile: bool,
    /// Sync to this destination only [default: every configured one]
    #[arg(long, value_enum, value_name = "SERVICE")]
    pub to: Option<Service>,
}

/// `push`'s options (seed 003's `tt push`).
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push to Toggl Track
    #[arg(long)]
    pub toggl: bool,
    /// Push to Clockify
    #[arg(long)]
    pub clockify: bool,
    /// Write the entries as CSV to stdout instead (start, end, duration_hours, description, tags,
    /// working_directory); needs no destination
    #[arg(long, conflicts_with_all = ["toggl", "clockify", "dry_run", "force"])]
    pub csv: bool,
    /// Show what would be pushed, without a key or network
    #[arg(long)]
    pub dry_run: bool,
    /// From: a local day (YYYY-MM-DD, today, yesterday, a weekday), YYYY-MM-DDTHH:MM:SS (local) or ...Z
    /// (UTC) [default: the day of the last entry pushed, or an earlier one still to settle, else Monday of
    /// this week]
    #[arg(long, value_name = "WHEN", conflicts_with = "all", value_parser = parse_when)]
    pub since: Option<WhenArg>,
    /// Through: a local day (inclusive) or a time, as --since [default: now]
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub until: Option<WhenArg>,
    /// Everything recorded (from `[sync] start_date`, else the first session)
    #[arg(long)]
    pub all: bool,
    /// Re-send every entry already pushed in the range, as updates
    #[arg(long)]
    pub force: bool,
}

/// `dashboard`'s options.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// The tab to open
    #[arg(long, value_enum, default_value_t = DashboardTab::Today)]
    pub tab: DashboardTab,
    /// First day of the Range tab (YYYY-MM-DD, today, yesterday or a weekday) [default: the first of this
    /// month]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<DayArg>,
    /// Last day of the Range tab [default: today]
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub until: Option<DayArg>,
    /// Print one frame of this size (e.g. 80x24) as text and exit, without a terminal
    #[arg(long, hide = true, value_name = "WxH")]
    pub snapshot: Option<String>,
}

/// The dashboard's tabs, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DashboardTab {
    Today,
    Week,
    Month,
    Range,
}

/// `hooks` subcommands.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Add the hooks to Claude Code's settings.json (your other settings and hooks are kept)
    Install,
    /// Remove the hooks `install` added, and nothing else
    Uninstall,
}

/// `watch`'s options.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// One pass (ingest, start, update or stop the running entries) and exit: for cron or a Claude Code
    /// hook
    #[arg(long, conflicts_with_all = ["status", "install"])]
    pub once: bool,
    /// With `--once`: while a timer runs, wait until the last activity plus the idle threshold and pass
    /// again, so the timer stops even with no `watch` running (what the hooks run; one such process at
    /// a time, the others exit after their pass)
    #[arg(long, requires = "once")]
    pub until_idle: bool,
    /// Show what runs where: the running entries, operations waiting, quota left, the last pass
    #[arg(long, conflicts_with = "install")]
    pub status: bool,
    /// Write a systemd user unit (Linux) or a launchd agent (macOS) that runs `watch` at login, and say
    /// how to start and remove it
    #[arg(long)]
    pub install: bool,
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
    /// First local day of a custom range: YYYY-MM-DD, today, yesterday or a weekday (the latest one)
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<DayArg>,
    /// Last local day of a custom range, inclusive, as --since [default: today]
    #[arg(long, value_name = "DATE", requires = "since", value_parser = parse_day)]
    pub until: Option<DayArg>,
    /// One row per project, per day or per tag (a session with two tags counts in both, once in the total),
    /// or per machine
    #[arg(long, value_enum, default_value_t = Grouping::Project)]
    pub by: Grouping,
    /// Only sessions with this tag
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,
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
    Tag,
    Machine,
}
