//! The edge where the outside world is read once: paths from flags, environment and platform defaults,
//! the config file, the clock and the system time zone. Everything below gets plain values.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::classify::Rules;
use crate::cli::GlobalArgs;
use crate::config::Config;
use crate::pause::Pause;
use crate::secrets::SecretStore;
use crate::store::Store;

/// Resolved settings for one run.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) config: Config,
    pub(crate) config_path: PathBuf,
    pub(crate) db_path: PathBuf,
    /// Folders searched for transcripts.
    pub(crate) projects_dirs: Vec<PathBuf>,
    pub(crate) tz: Tz,
    pub(crate) now: DateTime<Utc>,
    /// Where a long-running command (`watch`) reads the time for each pass.
    pub(crate) clock: Clock,
    /// Claude Code's own settings file (its `cleanupPeriodDays` says when transcripts go).
    pub(crate) claude_settings: Option<PathBuf>,
    pub(crate) verbose: bool,
    /// Where API keys are kept: the OS keychain, or `$CLAUDE_TRACKER_SECRETS_FILE`.
    pub(crate) secret_store: SecretStore,
    pub(crate) http: HttpOverrides,
    /// Every wait of the run (HTTP retries, back-off) goes through it.
    pub(crate) pause: Pause,
    /// The auto-tag rules of the config, compiled (`~` is `home`).
    pub(crate) rules: Rules,
    /// This machine's name: `[share] machine`, else `$CLAUDE_TRACKER_MACHINE`, else the host name.
    pub(crate) machine: String,
    /// `[share] dir` (`~` expanded): where machines share their sessions.
    pub(crate) share_dir: Option<PathBuf>,
}

/// Shorter waits for the tests' fakes, which answer at once: `$CLAUDE_TRACKER_BACKOFF_MS` (back-off
/// between retries) and `$CLAUDE_TRACKER_TOGGL_INTERVAL_MS` (Toggl's pacing).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HttpOverrides {
    pub(crate) backoff: Option<Duration>,
    pub(crate) toggl_interval: Option<Duration>,
}

impl App {
    /// Reads flags, environment and config into one set of values; the one place the clock is read.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn resolve(global: &GlobalArgs) -> Result<App> {
        let home = dirs::home_dir();
        let config_path = global
            .config
            .clone()
            .or_else(|| env_path("CLAUDE_TRACKER_CONFIG"))
            .or_else(|| config_home(home.as_deref()).map(|d| d.join("claude-tracker/config.toml")))
            .ok_or_else(|| anyhow::anyhow!("cannot tell where the config file is: pass `--config FILE`"))?;
        let config = Config::load(&config_path)?;
        let db_path = global
            .db
            .clone()
            .or_else(|| env_path("CLAUDE_TRACKER_DB"))
            .or_else(|| dirs::data_dir().map(|d| d.join("claude-tracker/tracker.db")))
            .ok_or_else(|| anyhow::anyhow!("cannot tell where the database goes: pass `--db FILE`"))?;
        let projects_dirs = projects_dirs(&config, home.as_deref());
        let share_dir = config.share.dir.as_deref().map(|dir| expand_home(dir, home.as_deref()));
        // A config file synced between machines cannot name each: `$CLAUDE_TRACKER_MACHINE` can.
        let machine = config
            .share
            .machine
            .clone()
            .or_else(|| {
                std::env::var("CLAUDE_TRACKER_MACHINE")
                    .ok()
                    .filter(|name| crate::config::is_machine_name(name))
            })
            .unwrap_or_else(host_name);
        let tz = config.timezone.unwrap_or_else(system_time_zone);
        let secret_store = SecretStore::from_env();
        for warning in crate::secrets::permission_warnings(&config_path, config.holds_secret(), &secret_store)
        {
            eprintln!("claude-tracker: warning: {warning}");
        }
        for warning in &config.warnings {
            eprintln!("claude-tracker: warning: {warning}");
        }
        let millis =
            |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok()).map(Duration::from_millis);
        let rules = Rules::compile(config.rule_specs.clone(), home.as_deref().and_then(Path::to_str))
            .map_err(|e| anyhow::anyhow!("config file {}: {e}", config_path.display()))?;
        Ok(App {
            config,
            config_path,
            db_path,
            projects_dirs,
            tz,
            now: global.now.unwrap_or_else(Utc::now),
            clock: match (env_path("CLAUDE_TRACKER_CLOCK_FILE"), global.now) {
                (Some(file), _) => Clock::File(file),
                (None, Some(now)) => Clock::Fixed(now),
                (None, None) => Clock::System,
            },
            verbose: global.verbose,
            claude_settings: claude_settings(home.as_deref()),
            secret_store,
            http: HttpOverrides {
                backoff: millis("CLAUDE_TRACKER_BACKOFF_MS"),
                toggl_interval: millis("CLAUDE_TRACKER_TOGGL_INTERVAL_MS"),
            },
            pause: Pause::default(),
            rules,
            machine,
            share_dir,
        })
    }

    /// Opens the database, for a command that writes to it (one the user cannot write is refused).
    pub(crate) fn open_store(&self) -> Result<Store> {
        Store::open(&self.db_path)
    }

    /// Opens the database for a command that only reads: read-only when the user cannot write it.
    pub(crate) fn open_store_to_read(&self) -> Result<Store> {
        Store::open_to_read(&self.db_path)
    }
}

/// Where `now` comes from, pass after pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The system clock.
    System,
    /// Pinned (`--now`): every pass sees the same instant.
    Fixed(DateTime<Utc>),
    /// `$CLAUDE_TRACKER_CLOCK_FILE`: an RFC 3339 instant a test writes and moves forward.
    File(PathBuf),
}

impl Clock {
    /// The time now.
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn now(&self) -> Result<DateTime<Utc>> {
        match self {
            Clock::System => Ok(Utc::now()),
            Clock::Fixed(now) => Ok(*now),
            Clock::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the clock file {}", path.display()))?;
                text.trim()
                    .parse()
                    .with_context(|| format!("the clock file {} holds no RFC 3339 time", path.display()))
            }
        }
    }

    /// True when the time only moves when a test moves it (then it is looked at often).
    pub(crate) fn is_file(&self) -> bool {
        matches!(self, Clock::File(_))
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `$CLAUDE_CONFIG_DIR/settings.json` (the first of a comma-separated list), else `~/.claude/settings.json`.
fn claude_settings(home: Option<&Path>) -> Option<PathBuf> {
    let dir = std::env::var("CLAUDE_CONFIG_DIR")
        .ok()
        .and_then(|dirs| dirs.split(',').map(str::trim).find(|d| !d.is_empty()).map(PathBuf::from))
        .or_else(|| home.map(|h| h.join(".claude")))?;
    Some(dir.join("settings.json"))
}

fn config_home(home: Option<&Path>) -> Option<PathBuf> {
    env_path("XDG_CONFIG_HOME").or_else(|| home.map(|h| h.join(".config")))
}

/// `[capture] projects_dirs`, else `$CLAUDE_CONFIG_DIR/projects` (a comma-separated list of dirs), else
/// the default locations Claude Code uses.
fn projects_dirs(config: &Config, home: Option<&Path>) -> Vec<PathBuf> {
    if let Some(dirs) = &config.capture.projects_dirs {
        return dirs.iter().map(|d| expand_home(d, home)).collect();
    }
    if let Some(value) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return value
            .to_string_lossy()
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| expand_home(Path::new(d), home).join("projects"))
            .collect();
    }
    let mut defaults: Vec<PathBuf> = home.map(|h| h.join(".claude/projects")).into_iter().collect();
    defaults.extend(config_home(home).map(|c| c.join("claude/projects")));
    defaults.into_iter().filter(|d| d.is_dir()).collect()
}

/// The host name as a machine name (what `[share] machine` defaults to): its first label, in the
/// characters a machine name may hold (`config::machine_name`), `machine` when there is none.
fn host_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let label = host.split('.').next().unwrap_or_default();
    let name: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    if name.is_empty() { "machine".to_string() } else { name }
}

fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// The system's IANA zone: `$TZ` when it names one, else what the OS says, else UTC.
fn system_time_zone() -> Tz {
    std::env::var("TZ")
        .ok()
        .and_then(|name| name.trim_start_matches(':').parse().ok())
        .or_else(|| iana_time_zone::get_timezone().ok().and_then(|name| name.parse().ok()))
        .unwrap_or(chrono_tz::UTC)
}
