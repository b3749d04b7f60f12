//! The user's `config.toml`: its keys, their defaults, and errors that point at the file, line and column
//! with what to write instead. Every key is documented in `config.example.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::classify::RuleSpec;
use crate::descriptions::check_template;
use crate::sync::steps::{EntryMode, ForeignTimer, Granularity};

/// Default idle threshold: a gap of this many minutes or more between two activity lines is not work.
pub(crate) const DEFAULT_IDLE_MINUTES: u32 = 15;

/// The whole configuration, defaults filled in.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// IANA zone that local days and hours are computed in; the system's zone when absent.
    #[serde(default, deserialize_with = "timezone")]
    pub(crate) timezone: Option<Tz>,
    #[serde(default)]
    pub(crate) capture: CaptureConfig,
    /// `[sync]`: how work days become timesheet entries.
    #[serde(default)]
    pub(crate) sync: SyncConfig,
    /// `[clockify]`: where Clockify is.
    #[serde(default)]
    pub(crate) clockify: ClockifyConfig,
    /// `[toggl]`: present when Toggl Track is a destination.
    #[serde(default)]
    pub(crate) toggl: Option<TogglConfig>,
    /// `[rules]`: auto-tag rules (`[[rules.auto_tag]]`), first match wins.
    #[serde(default)]
    pub(crate) rules: RulesConfig,
    /// `[share]`: the folder machines share their sessions through, and this machine's name.
    #[serde(default)]
    pub(crate) share: ShareConfig,
    /// What the file says that still works but should be written otherwise (deprecated keys).
    #[serde(skip)]
    pub(crate) warnings: Vec<String>,
    /// The auto-tag rules with their names and lines, as `classify` takes them.
    #[serde(skip)]
    pub(crate) rule_specs: Vec<RuleSpec>,
}

/// `[rules]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesConfig {
    /// In order: the first rule that matches a session wins.
    #[serde(default)]
    pub(crate) auto_tag: Vec<Spanned<AutoTagRule>>,
}

/// One `[[rules.auto_tag]]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoTagRule {
    pub(crate) name: Option<String>,
    #[serde(rename = "match")]
    pub(crate) when: RuleMatch,
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
    /// A project key the destinations' mappings may name.
    pub(crate) project: Option<String>,
    /// `"active"` or `"attended"`: what of the matched sessions' time is billed (else the destination's).
    pub(crate) count: Option<crate::attention::Count>,
    /// Post matched sessions that had no person (scheduled tasks, `claude -p`): a bot you bill.
    pub(crate) count_automated: Option<bool>,
}

/// A rule's `match` block: every field given must match (glob patterns).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleMatch {
    /// The session's working directory (`primary_cwd` in seed 003 is read as the same).
    #[serde(alias = "primary_cwd")]
    pub(crate) cwd: Option<Spanned<String>>,
    pub(crate) git_branch: Option<Spanned<String>>,
    /// Any model that answered in the session.
    pub(crate) model: Option<Spanned<String>>,
    /// The machine the session is attributed to, by name (`[share] machine` there, else its host name).
    pub(crate) machine: Option<Spanned<String>>,
}

/// `[toggl]`: Toggl Track's ids for this user; the work day and description are shared (`[sync]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct TogglConfig {
    /// Else the `default_workspace_id` of `GET /me` (looked up once, cached).
    #[serde(default, deserialize_with = "optional_toggl_id")]
    pub(crate) workspace_id: Option<String>,
    /// The Toggl project that receives time of unmapped local projects.
    #[serde(default, deserialize_with = "optional_toggl_id")]
    pub(crate) other_project_id: Option<String>,
    /// Tag names put on every entry.
    #[serde(default)]
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
    #[serde(default = "default_toggl_url")]
    pub(crate) base_url: String,
    /// Local project path (covering every folder below it) to Toggl project id.
    #[serde(default, deserialize_with = "toggl_id_map")]
    pub(crate) project_mapping: BTreeMap<String, String>,
    /// `workday` (the ratio split of each past work day) or `sessions` (the real timeline).
    #[serde(default)]
    pub(crate) mode: EntryMode,
    /// In sessions mode: an entry per timeline segment, or one per session.
    #[serde(default)]
    pub(crate) granularity: Granularity,
    /// This destination's description (a template); else `[sync] description`.
    #[serde(default, deserialize_with = "optional_description_template")]
    pub(crate) description: Option<String>,
    /// Live mode: what `watch` does with a running entry it did not start.
    #[serde(default)]
    pub(crate) foreign_timer: ForeignTimer,
    /// `"active"` (every active second) or `"attended"` (hands-on and supervised time only).
    #[serde(default)]
    pub(crate) count: crate::attention::Count,
    /// Post sessions that had no person (scheduled tasks, `/loop`, `claude -p`, SDK runs).
    #[serde(default)]
    pub(crate) count_automated: bool,
    /// The one machine (`[share] machine`) that posts to this destination; every machine when absent.
    #[serde(default)]
    pub(crate) post_from: Option<String>,
    /// Post only the days the user approved (`review`, `entries approve DAY`); `watch` is not held.
    #[serde(default)]
    pub(crate) approve: bool,
}

impl Default for TogglConfig {
    fn default() -> Self {
        TogglConfig {
            workspace_id: None,
            other_project_id: None,
            tags: Vec::new(),
            billable: None,
            base_url: default_toggl_url(),
            project_mapping: BTreeMap::new(),
            mode: EntryMode::Workday,
            granularity: Granularity::Segment,
            description: None,
            foreign_timer: ForeignTimer::Leave,
            count: crate::attention::Count::Active,
            count_automated: false,
            post_from: None,
            approve: false,
        }
    }
}

/// Toggl Track's API endpoint.
pub(crate) const TOGGL_URL: &str = "https://api.track.toggl.com/api/v9";

fn default_toggl_url() -> String {
    TOGGL_URL.to_string()
}

/// A Toggl id: a positive integer, written bare or quoted.
#[derive(Deserialize)]
#[serde(untagged)]
enum TogglIdValue {
    Number(i64),
    Text(String),
}

fn toggl_id<E: serde::de::Error>(value: TogglIdValue) -> Result<String, E> {
    let text = match value {
        TogglIdValue::Number(n) => n.to_string(),
        TogglIdValue::Text(t) => t.trim().to_string(),
    };
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(text),
        _ => Err(E::custom(format!("`{text}` is not a Toggl id: Toggl ids are positive whole numbers"))),
    }
}

fn optional_toggl_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    toggl_id(TogglIdValue::deserialize(deserializer)?).map(Some)
}

fn toggl_id_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    BTreeMap::<String, TogglIdValue>::deserialize(deserializer)?
        .into_iter()
        .map(|(path, id)| Ok((path, toggl_id(id)?)))
        .collect()
}

/// `[sync]`: the work day and what every destination's entries say. Its Clockify-only keys
/// (`workspace_id`, `other_project_id`, `billable`, `project_mapping`) are deprecated: they now belong in
/// `[clockify]` and are moved there on load, with a warning.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncConfig {
    /// Deprecated: `[clockify] workspace_id`.
    pub(crate) workspace_id: Option<String>,
    /// Deprecated: `[clockify] other_project_id`.
    pub(crate) other_project_id: Option<String>,
    #[serde(default = "default_day_start", deserialize_with = "clock_time")]
    pub(crate) work_day_start: NaiveTime,
    #[serde(default = "default_day_end", deserialize_with = "clock_time")]
    pub(crate) work_day_end: NaiveTime,
    #[serde(default = "default_work_days", deserialize_with = "weekdays")]
    pub(crate) work_days: Vec<Weekday>,
    #[serde(default = "default_description", deserialize_with = "description_template")]
    pub(crate) description: String,
    /// Per-session entries: a segment shorter than this that touches a neighbour joins it.
    #[serde(default = "default_min_entry_minutes", deserialize_with = "min_entry_minutes")]
    pub(crate) min_entry_minutes: u32,
    /// Deprecated: `[clockify] billable`.
    pub(crate) billable: Option<bool>,
    /// No day before this one is synced.
    #[serde(default, deserialize_with = "optional_date")]
    pub(crate) start_date: Option<NaiveDate>,
    /// Every share is a multiple of this many minutes (0: whole seconds).
    #[serde(default, deserialize_with = "round_minutes")]
    pub(crate) round_to_minutes: u32,
    /// Deprecated: `[clockify.project_mapping]`.
    #[serde(default)]
    pub(crate) project_mapping: BTreeMap<String, String>,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            workspace_id: None,
            other_project_id: None,
            work_day_start: default_day_start(),
            work_day_end: default_day_end(),
            work_days: default_work_days(),
            description: default_description(),
            min_entry_minutes: default_min_entry_minutes(),
            billable: None,
            start_date: None,
            round_to_minutes: 0,
            project_mapping: BTreeMap::new(),
        }
    }
}

/// `[clockify]`: Clockify's ids for this user (a workspace set makes Clockify a destination), the
/// endpoint (regional and company endpoints differ) and, discouraged, the key.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClockifyConfig {
    /// The Clockify workspace entries go to.
    pub(crate) workspace_id: Option<String>,
    /// The Clockify project that receives time of unmapped local projects.
    pub(crate) other_project_id: Option<String>,
    pub(crate) billable: Option<bool>,
    /// Local project path (covering every folder below it) to Clockify project id.
    #[serde(default)]
    pub(crate) project_mapping: BTreeMap<String, String>,
    #[serde(default = "default_clockify_url")]
    pub(crate) base_url: String,
    /// Prefer `$CLOCKIFY_API_KEY` or `claude-tracker setup` (the OS keychain).
    pub(crate) api_key: Option<String>,
    /// Create a tag the workspace lacks (else a day whose entries carry it is not posted).
    #[serde(default)]
    pub(crate) create_tags: bool,
    /// `workday` (the ratio split of each past work day) or `sessions` (the real timeline).
    #[serde(default)]
    pub(crate) mode: EntryMode,
    /// In sessions mode: an entry per timeline segment, or one per session.
    #[serde(default)]
    pub(crate) granularity: Granularity,
    /// This destination's description (a template); else `[sync] description`.
    #[serde(default, deserialize_with = "optional_description_template")]
    pub(crate) description: Option<String>,
    /// Live mode: what `watch` does with a running entry it did not start.
    #[serde(default)]
    pub(crate) foreign_timer: ForeignTimer,
    /// `"active"` (every active second) or `"attended"` (hands-on and supervised time only).
    #[serde(default)]
    pub(crate) count: crate::attention::Count,
    /// Post sessions that had no person (scheduled tasks, `/loop`, `claude -p`, SDK runs).
    #[serde(default)]
    pub(crate) count_automated: bool,
    /// The one machine (`[share] machine`) that posts to this destination; every machine when absent.
    #[serde(default)]
    pub(crate) post_from: Option<String>,
    /// Post only the days the user approved (`review`, `entries approve DAY`); `watch` is not held.
    #[serde(default)]
    pub(crate) approve: bool,
}

impl Default for ClockifyConfig {
    fn default() -> Self {
        ClockifyConfig {
            workspace_id: None,
            other_project_id: None,
            billable: None,
            project_mapping: BTreeMap::new(),
            base_url: default_clockify_url(),
            api_key: None,
            create_tags: false,
            mode: EntryMode::Workday,
            granularity: Granularity::Segment,
            description: None,
            foreign_timer: ForeignTimer::Leave,
            count: crate::attention::Count::Active,
            count_automated: false,
            post_from: None,
            approve: false,
        }
    }
}

impl std::fmt::Debug for ClockifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClockifyConfig")
            .field("workspace_id", &self.workspace_id)
            .field("other_project_id", &self.other_project_id)
            .field("billable", &self.billable)
            .field("project_mapping", &self.project_mapping)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("create_tags", &self.create_tags)
            .field("mode", &self.mode)
            .field("granularity", &self.granularity)
            .field("description", &self.description)
            .field("foreign_timer", &self.foreign_timer)
            .field("count", &self.count)
            .field("count_automated", &self.count_automated)
            .field("post_from", &self.post_from)
            .field("approve", &self.approve)
            .finish()
    }
}

/// Clockify's global API endpoint.
pub(crate) const CLOCKIFY_URL: &str = "https://api.clockify.me/api/v1";

fn default_clockify_url() -> String {
    CLOCKIFY_URL.to_string()
}

fn default_day_start() -> NaiveTime {
    NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()
}

fn default_day_end() -> NaiveTime {
    NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default()
}

fn default_work_days() -> Vec<Weekday> {
    vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]
}

fn default_description() -> String {
    "Development".to_string()
}

fn default_min_entry_minutes() -> u32 {
    1
}

fn min_entry_minutes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    minutes(deserializer, "min_entry_minutes", (0, 8 * 60), "0 (keep every segment)")
}

/// A setting in whole minutes within `(low, high)`, with one message for every way to get it wrong: a
/// number out of range, a fraction, or a number written as text (`"15"`), which TOML reads as a string.
fn minutes<'de, D: Deserializer<'de>>(
    deserializer: D,
    key: &str,
    (low, high): (u32, u32),
    low_means: &str,
) -> Result<u32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Whole(i64),
        Fraction(f64),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    let range = format!("`{key}` must be a whole number of minutes from {low_means} to {high}");
    match Written::deserialize(deserializer)? {
        Written::Whole(value) => u32::try_from(value)
            .ok()
            .filter(|m| (low..=high).contains(m))
            .ok_or_else(|| serde::de::Error::custom(format!("{range}, not {value}"))),
        Written::Fraction(value) => Err(serde::de::Error::custom(format!("{range}, not {value}"))),
        Written::Text(text) => Err(serde::de::Error::custom(format!(
            "{range}, not the text \"{text}\": write it without quotes, e.g. `{key} = {}`",
            text.trim().parse::<u32>().map_or(low.max(1), |m| m)
        ))),
        Written::Other(_) => Err(serde::de::Error::custom(format!("{range}, e.g. `{key} = {}`", low.max(1)))),
    }
}

fn description_template<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let template = String::deserialize(deserializer)?;
    check_template(&template).map_err(serde::de::Error::custom)?;
    Ok(template)
}

fn optional_description_template<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    description_template(deserializer).map(Some)
}

fn clock_time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
    let text = String::deserialize(deserializer)?;
    NaiveTime::parse_from_str(&text, "%H:%M").map_err(|_| {
        serde::de::Error::custom(format!("`{text}` is not a local time: write it as HH:MM, e.g. \"09:00\""))
    })
}

fn weekdays<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Weekday>, D::Error> {
    let names = Vec::<String>::deserialize(deserializer)?;
    if names.is_empty() {
        return Err(serde::de::Error::custom(
            "`work_days` is empty, so no day would ever be synced: list the days you work, e.g. \
             work_days = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"] (or leave the key out for those)",
        ));
    }
    names
        .iter()
        .map(|name| {
            name.parse::<Weekday>().map_err(|_| {
                serde::de::Error::custom(format!(
                    "`{name}` is not a day of the week: use names like \"Mon\" or \"Monday\""
                ))
            })
        })
        .collect()
}

fn optional_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateValue {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let text = match DateValue::deserialize(deserializer)? {
        DateValue::Text(text) => text,
        DateValue::Toml(datetime) => datetime.to_string(),
    };
    text.parse::<NaiveDate>()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a date: write it as YYYY-MM-DD")))
}

fn round_minutes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    minutes(deserializer, "round_to_minutes", (0, 8 * 60), "0 (no rounding)")
}

/// `[share]`: sessions shared between machines through a folder a syncing tool keeps alike (Syncthing,
/// Dropbox, iCloud Drive, a git repository): see notes/10-many-machines.md.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShareConfig {
    /// The shared folder (`~` is the home directory; relative to the config file otherwise).
    pub(crate) dir: Option<PathBuf>,
    /// This machine's name in the folder and in reports [default: the host name].
    #[serde(default, deserialize_with = "machine_name")]
    pub(crate) machine: Option<String>,
}

/// Whether `name` can name a machine: it names its file in the shared folder (`<name>.jsonl`), so 1 to
/// 64 letters, digits, `-` and `_`.
pub(crate) fn is_machine_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `[share] machine`, checked with [`is_machine_name`].
fn machine_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(deserializer)?;
    if is_machine_name(&name) {
        Ok(Some(name))
    } else {
        Err(serde::de::Error::custom(format!(
            "`machine = {name:?}`: a machine name names its file in the shared folder, so it holds only \
             letters, digits, `-` and `_` (1 to 64 of them), e.g. `machine = \"laptop\"`"
        )))
    }
}

/// `[capture]`: where transcripts are and how activity becomes time.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaptureConfig {
    /// Folders holding Claude Code's per-project transcript folders; relative paths are relative to the
    /// config file, `~` is the home directory.
    #[serde(default)]
    pub(crate) projects_dirs: Option<Vec<PathBuf>>,
    #[serde(default = "default_idle_minutes", deserialize_with = "idle_minutes")]
    pub(crate) idle_minutes: u32,
    /// How long after a person's line the agent's work is supervised (default: `idle_minutes`).
    #[serde(default, deserialize_with = "attention_minutes")]
    pub(crate) attention_minutes: Option<u32>,
    /// Read and keep the titles Claude Code writes for sessions (`{title}` in descriptions). Off by
    /// default: a title is text derived from the conversation.
    #[serde(default)]
    pub(crate) keep_titles: bool,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            projects_dirs: None,
            idle_minutes: DEFAULT_IDLE_MINUTES,
            attention_minutes: None,
            keep_titles: false,
        }
    }
}

impl CaptureConfig {
    /// The idle threshold in milliseconds, the unit of the capture pipeline.
    pub(crate) fn idle_ms(&self) -> i64 {
        i64::from(self.idle_minutes) * 60_000
    }

    /// The idle threshold and the window of presence, as the store computes spans and bands with them.
    pub(crate) fn time_model(&self) -> crate::store::TimeModel {
        let attention = self.attention_minutes.unwrap_or(self.idle_minutes);
        crate::store::TimeModel { idle_ms: self.idle_ms(), attention_ms: i64::from(attention) * 60_000 }
    }
}

fn default_idle_minutes() -> u32 {
    DEFAULT_IDLE_MINUTES
}

fn timezone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Tz>, D::Error> {
    let name = String::deserialize(deserializer)?;
    name.parse::<Tz>().map(Some).map_err(|_| {
        let hint = closest(&name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()))
            .map_or_else(String::new, |known| format!("; did you mean `{known}`?"));
        serde::de::Error::custom(format!(
            "unknown time zone `{name}`: use an IANA name such as `Europe/Berlin`{hint}"
        ))
    })
}

fn idle_minutes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    minutes(deserializer, "idle_minutes", (1, 24 * 60), "1")
}

fn attention_minutes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    minutes(deserializer, "attention_minutes", (1, 24 * 60), "1").map(Some)
}

impl Config {
    /// Reads the config file; a missing file means defaults. Relative `projects_dirs` are resolved
    /// against the file's folder.
    pub(crate) fn load(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => anyhow::bail!("cannot read the config file {}: {e}", path.display()),
        };
        let mut config = Config::parse(&text, path)?;
        if let Some(base) = path.parent() {
            let dirs = config.capture.projects_dirs.iter_mut().flatten().chain(config.share.dir.as_mut());
            for dir in dirs.filter(|d| d.is_relative() && !d.starts_with("~")) {
                *dir = base.join(&*dir);
            }
        }
        Ok(config)
    }

    /// Parses config text; `path` only names the file in error messages.
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Config> {
        let mut config: Config =
            toml::from_str(text).map_err(|error| anyhow::anyhow!(describe_error(text, path, &error)))?;
        let position = |key: &str| {
            sync_key_offset(text, key).map_or_else(String::new, |offset| {
                let (line, column) = line_and_column(text, offset);
                format!(", line {line}, column {column}")
            })
        };
        let sync = &config.sync;
        if sync.work_day_end <= sync.work_day_start {
            anyhow::bail!(
                "config file {}{}: `work_day_end` ({}) must be after `work_day_start` ({}); a work day cannot \
                 cross midnight",
                path.display(),
                position("work_day_end"),
                sync.work_day_end.format("%H:%M"),
                sync.work_day_start.format("%H:%M")
            );
        }
        let day_minutes = (sync.work_day_end - sync.work_day_start).num_minutes();
        if i64::from(sync.round_to_minutes) > day_minutes {
            anyhow::bail!(
                "config file {}{}: `round_to_minutes` ({}) is longer than the work day ({day_minutes} minutes): \
                 no share could be a whole increment; use a smaller increment",
                path.display(),
                position("round_to_minutes"),
                sync.round_to_minutes
            );
        }
        let line_of = |key: &str| sync_key_offset(text, key).map(|offset| line_and_column(text, offset).0);
        config.warnings = config.move_deprecated_sync_keys(path, &line_of).into_iter().collect();
        config.check_rule_patterns(text, path)?;
        config.rule_specs = config.collect_rule_specs(text);
        Ok(config)
    }

    /// Refuses a rule pattern that is not a valid glob, naming its line and the reason.
    fn check_rule_patterns(&self, text: &str, path: &Path) -> Result<()> {
        for rule in &self.rules.auto_tag {
            let when = &rule.get_ref().when;
            for pattern in [&when.cwd, &when.git_branch, &when.model, &when.machine].into_iter().flatten() {
                if let Err(reason) = crate::classify::check_glob(pattern.get_ref()) {
                    let (line, column) = line_and_column(text, pattern.span().start);
                    anyhow::bail!(
                        "config file {}, line {line}, column {column}: invalid glob `{}`: {reason}; `*` matches \
                         any characters, and a literal `[` is written `[[]`",
                        path.display(),
                        pattern.get_ref()
                    );
                }
            }
        }
        Ok(())
    }

    /// The auto-tag rules in order, with their names (else "rule N") and lines.
    fn collect_rule_specs(&self, text: &str) -> Vec<RuleSpec> {
        self.rules
            .auto_tag
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let (line, _) = line_and_column(text, rule.span().start);
                let value = rule.get_ref();
                let pattern = |field: &Option<Spanned<String>>| field.as_ref().map(|p| p.get_ref().clone());
                RuleSpec {
                    name: value.name.clone().unwrap_or_else(|| format!("rule {}", index + 1)),
                    line,
                    cwd: pattern(&value.when.cwd),
                    git_branch: pattern(&value.when.git_branch),
                    model: pattern(&value.when.model),
                    machine: pattern(&value.when.machine),
                    tags: value.tags.clone(),
                    billable: value.billable,
                    project: value.project.clone(),
                    count: value.count,
                    count_automated: value.count_automated,
                }
            })
            .collect()
    }

    /// Moves `[sync]`'s Clockify-only keys to `[clockify]` (where they now belong); a key set in both
    /// places keeps `[clockify]`'s value. Returns the one-line warning that says what to write instead.
    fn move_deprecated_sync_keys(
        &mut self,
        path: &Path,
        line_of: &dyn Fn(&str) -> Option<usize>,
    ) -> Option<String> {
        let (sync, clockify) = (&mut self.sync, &mut self.clockify);
        // (key, taken): `taken` is false when `[clockify]` already set it.
        let mut found: Vec<(&str, bool)> = Vec::new();
        let mut take = |key, from: &mut Option<String>, to: &mut Option<String>| {
            if let Some(value) = from.take() {
                found.push((key, to.is_none()));
                to.get_or_insert(value);
            }
        };
        take("workspace_id", &mut sync.workspace_id, &mut clockify.workspace_id);
        take("other_project_id", &mut sync.other_project_id, &mut clockify.other_project_id);
        if let Some(billable) = sync.billable.take() {
            found.push(("billable", clockify.billable.is_none()));
            clockify.billable.get_or_insert(billable);
        }
        if !sync.project_mapping.is_empty() {
            let mapping = std::mem::take(&mut sync.project_mapping);
            found.push(("project_mapping", clockify.project_mapping.is_empty()));
            if clockify.project_mapping.is_empty() {
                clockify.project_mapping = mapping;
            }
        }
        if found.is_empty() {
            return None;
        }
        let keys: Vec<String> = found
            .iter()
            .map(|(key, taken)| {
                let mut notes: Vec<String> =
                    line_of(key).map(|line| format!("line {line}")).into_iter().collect();
                if !taken {
                    notes.push("ignored: `[clockify]` sets it too".to_string());
                }
                if notes.is_empty() { format!("`{key}`") } else { format!("`{key}` ({})", notes.join(", ")) }
            })
            .collect();
        Some(format!(
            "config file {}: {} under `[sync]` now belong{} under `[clockify]`: move {} there (still read from \
             `[sync]` for now)",
            path.display(),
            keys.join(", "),
            if found.len() == 1 { "s" } else { "" },
            if found.len() == 1 { "it" } else { "them" }
        ))
    }

    /// True when the config file itself holds a secret (then it must not be readable by others).
    pub(crate) fn holds_secret(&self) -> bool {
        self.clockify.api_key.is_some()
    }
}

/// Where `key` is written in the `[sync]` table (its name's first byte), from the parser's spans, so an
/// error points at the key itself and never into a comment.
fn sync_key_offset(text: &str, key: &str) -> Option<usize> {
    let document = toml::de::DeTable::parse(text).ok()?;
    let (_, sync) = document.get_ref().iter().find(|(name, _)| name.get_ref().as_ref() == "sync")?;
    let table = sync.get_ref().as_table()?;
    let (name, _) = table.iter().find(|(name, _)| name.get_ref().as_ref() == key)?;
    Some(name.span().start)
}

/// Turns a TOML error into `config file F, line L, column C: what; did you mean ...`.
fn describe_error(text: &str, path: &Path, error: &toml::de::Error) -> String {
    let position = error.span().map_or_else(String::new, |span| {
        let (line, column) = line_and_column(text, span.start);
        format!(", line {line}, column {column}")
    });
    let message = error.message().trim_end();
    let hint = unknown_key_hint(message).or_else(|| missing_key_hint(message)).unwrap_or_default();
    format!(
        "config file {}{position}: {message}{hint} (every key is described in config.example.toml)",
        path.display()
    )
}

/// For serde's "missing field `x`": what to add.
fn missing_key_hint(message: &str) -> Option<String> {
    let key = message.strip_prefix("missing field `")?.strip_suffix('`')?;
    Some(match key {
        "tags" => "; every `[[rules.auto_tag]]` needs `tags = [\"...\"]`".to_string(),
        "match" => "; every `[[rules.auto_tag]]` needs a `match = { cwd = \"...\" }`".to_string(),
        _ => format!("; add `{key}` to that table"),
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" message, the closest known key.
fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field ")?;
    let mut names = rest.split('`').skip(1).step_by(2);
    let unknown = names.next()?;
    closest(unknown, names).map(|known| format!("; did you mean `{known}`?"))
}

/// The candidate nearest to `word` when it is near enough to be a likely typo.
/// Near enough: a Jaro-Winkler similarity of 0.85, or one edit away (a swapped pair counts as one: `cdw`).
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = word.to_lowercase();
    candidates
        .map(|c| {
            let candidate = c.to_lowercase();
            let one_edit = strsim::osa_distance(&lowered, &candidate) <= 1;
            (strsim::jaro_winkler(&lowered, &candidate).max(if one_edit { 0.85 } else { 0.0 }), c)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/ct.toml"))
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.capture.idle_ms(), 15 * 60_000);
    }

    #[test]
    fn reads_every_key() {
        let config = parse(
            "timezone = \"Europe/Berlin\"\n[capture]\nprojects_dirs = [\"/a\", \"b\"]\nidle_minutes = 20\n",
        )
        .unwrap();
        assert_eq!(config.timezone, Some(chrono_tz::Europe::Berlin));
        assert_eq!(config.capture.projects_dirs, Some(vec![PathBuf::from("/a"), PathBuf::from("b")]));
        assert_eq!(config.capture.idle_minutes, 20);
    }

    #[test]
    fn unknown_key_names_line_column_and_suggestion() {
        let message = error("[capture]\nidle_minute = 5\n");
        assert!(message.contains("/etc/ct.toml, line 2, column 1"), "{message}");
        assert!(message.contains("did you mean `idle_minutes`?"), "{message}");
    }

    #[test]
    fn unknown_time_zone_is_named_with_a_suggestion() {
        let message = error("timezone = \"Europe/Berln\"\n");
        assert!(message.contains("line 1, column 12"), "{message}");
        assert!(message.contains("unknown time zone `Europe/Berln`"), "{message}");
        assert!(message.contains("did you mean `Europe/Berlin`?"), "{message}");
    }

    #[test]
    fn negative_idle_threshold_is_rejected() {
        let message = error("[capture]\nidle_minutes = -5\n");
        assert!(message.contains("line 2, column 16"), "{message}");
        assert!(message.contains("from 1 to 1440, not -5"), "{message}");
    }

    #[test]
    fn minutes_written_as_text_or_a_fraction_and_an_empty_week_say_what_to_write() {
        let message = error("[capture]\nidle_minutes = \"15\"\n");
        assert!(message.contains("line 2, column 16"), "{message}");
        assert!(
            message.contains(
                "`idle_minutes` must be a whole number of minutes from 1 to 1440, not the text \"15\": write it \
                 without quotes, e.g. `idle_minutes = 15`"
            ),
            "{message}"
        );
        let message = error("[sync]\nround_to_minutes = 7.5\n");
        assert!(
            message.contains(
                "`round_to_minutes` must be a whole number of minutes from 0 (no rounding) to 480, not 7.5"
            ),
            "{message}"
        );
        let message = error("[capture]\nattention_minutes = true\n");
        assert!(message.contains("`attention_minutes` must be a whole number of minutes from 1 to 1440, e.g. `attention_minutes = 1`"), "{message}");
        let message = error("[sync]\nwork_days = []\n");
        assert!(message.contains("`work_days` is empty, so no day would ever be synced"), "{message}");
    }

    #[test]
    fn sessions_mode_settings_are_read_and_checked() {
        let config = parse(
            "[sync]\nmin_entry_minutes = 5\n[toggl]\nmode = \"sessions\"\ngranularity = \"session\"\n\
             description = \"{project} ({branch})\"\n",
        )
        .unwrap();
        assert_eq!(config.sync.min_entry_minutes, 5);
        let toggl = config.toggl.unwrap();
        assert_eq!((toggl.mode, toggl.granularity), (EntryMode::Sessions, Granularity::Session));
        assert_eq!(toggl.description.as_deref(), Some("{project} ({branch})"));
        assert_eq!(parse("").unwrap().sync.min_entry_minutes, 1);
        assert_eq!(
            error("[clockify]\ndescription = \"{prompt}\"\n"),
            "config file /etc/ct.toml, line 2, column 15: `{prompt}` is not a placeholder of `description`: use \
             {project}, {path}, {branch}, {session}, {commits} or {title} (never message text) (every key is \
             described in config.example.toml)"
        );
        let message = error("[toggl]\nmode = \"hourly\"\n");
        assert!(
            message.starts_with("config file /etc/ct.toml, line 2, column 8: unknown variant `hourly`"),
            "{message}"
        );
    }

    #[test]
    fn wrong_type_is_rejected_with_position() {
        let message = error("[capture]\nprojects_dirs = \"/just/one\"\n");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn relative_dirs_resolve_against_the_config_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[capture]\nprojects_dirs = [\"sample/projects\", \"/abs\", \"~/x\"]\n")
            .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(
            config.capture.projects_dirs.unwrap(),
            vec![dir.path().join("sample/projects"), PathBuf::from("/abs"), PathBuf::from("~/x")]
        );
    }

    #[test]
    fn example_config_is_valid_and_complete() {
        let config = parse(include_str!("../config.example.toml")).unwrap();
        assert_eq!(config.timezone, Some(chrono_tz::Europe::Berlin));
        // Commented out there, so that copying the example keeps `$CLAUDE_CONFIG_DIR` and the defaults.
        assert_eq!(config.capture.projects_dirs, None);
    }

    #[test]
    fn sync_section_reads_and_defaults() {
        let config = parse(
            "[sync]\nworkspace_id = \"ws\"\nother_project_id = \"o\"\nwork_day_start = \"08:30\"\n\
             work_days = [\"Mon\", \"Tuesday\"]\nstart_date = 2026-01-05\nround_to_minutes = 15\n\
             [sync.project_mapping]\n\"/w/a\" = \"p1\"\n[clockify]\nbase_url = \"http://x\"\n",
        )
        .unwrap();
        assert_eq!(config.sync.work_day_start, NaiveTime::from_hms_opt(8, 30, 0).unwrap());
        assert_eq!(config.sync.work_day_end, NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        assert_eq!(config.sync.work_days, vec![Weekday::Mon, Weekday::Tue]);
        assert_eq!(config.sync.start_date, Some(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()));
        assert_eq!(config.sync.description, "Development");
        assert_eq!(config.clockify.project_mapping["/w/a"], "p1", "moved to [clockify]");
        assert_eq!(config.clockify.workspace_id.as_deref(), Some("ws"));
        assert_eq!(config.clockify.base_url, "http://x");
        assert_eq!(parse("").unwrap().clockify.base_url, CLOCKIFY_URL);
    }

    #[test]
    fn bad_sync_values_name_their_line() {
        let message = error("[sync]\nwork_day_start = \"9am\"\n");
        assert!(message.contains("line 2") && message.contains("HH:MM"), "{message}");
        let message = error("[sync]\nwork_day_start = \"17:00\"\nwork_day_end = \"09:00\"\n");
        assert!(message.contains("line 3, column 1") && message.contains("must be after"), "{message}");
        let message = error("[sync]\nwork_days = [\"Mon\", \"Funday\"]\n");
        assert!(message.contains("`Funday` is not a day of the week"), "{message}");
        let message = error("[sync]\nworkspace = \"x\"\n");
        assert!(message.contains("did you mean `workspace_id`?"), "{message}");
    }

    #[test]
    fn deprecated_sync_keys_move_to_clockify_with_a_one_line_warning() {
        let config = parse(
            "[sync]\nworkspace_id = \"ws\"\nbillable = true\nother_project_id = \"o\"\n\
             [sync.project_mapping]\n\"/w/a\" = \"p1\"\n[clockify]\nother_project_id = \"kept\"\n",
        )
        .unwrap();
        assert_eq!(
            config.warnings,
            vec![
                "config file /etc/ct.toml: `workspace_id` (line 2), `other_project_id` (line 4, ignored: \
                 `[clockify]` sets it too), `billable` (line 3), `project_mapping` (line 5) under `[sync]` now \
                 belong under `[clockify]`: move them there (still read from `[sync]` for now)"
            ]
        );
        let clockify = &config.clockify;
        assert_eq!(
            (clockify.workspace_id.as_deref(), clockify.other_project_id.as_deref(), clockify.billable),
            (Some("ws"), Some("kept"), Some(true))
        );
        assert_eq!(clockify.project_mapping["/w/a"], "p1");
        assert_eq!(
            parse("[sync]\nworkspace_id = \"ws\"\n").unwrap().warnings,
            vec![
                "config file /etc/ct.toml: `workspace_id` (line 2) under `[sync]` now belongs under \
                 `[clockify]`: move it there (still read from `[sync]` for now)"
            ]
        );
        assert_eq!(parse("[clockify]\nworkspace_id = \"ws\"\n").unwrap().warnings, Vec::<String>::new());
    }

    #[test]
    fn a_work_day_error_points_at_the_key_never_at_a_comment() {
        let message = error(
            "# work_day_end must be after the start\n[sync]\nwork_day_start = \"17:00\"\n  work_day_end = \"09:00\"\n",
        );
        assert_eq!(
            message,
            "config file /etc/ct.toml, line 4, column 3: `work_day_end` (09:00) must be after `work_day_start` \
             (17:00); a work day cannot cross midnight"
        );
    }

    #[test]
    fn an_increment_longer_than_the_work_day_is_refused() {
        let message = error("[sync]\nwork_day_end = \"10:00\"\nround_to_minutes = 90\n");
        assert_eq!(
            message,
            "config file /etc/ct.toml, line 3, column 1: `round_to_minutes` (90) is longer than the work day \
             (60 minutes): no share could be a whole increment; use a smaller increment"
        );
    }

    #[test]
    fn toggl_section_takes_numbers_or_quoted_numbers() {
        let config = parse(
            "[toggl]\nworkspace_id = 777\nother_project_id = \"99\"\ntags = [\"claude\"]\n\
             [toggl.project_mapping]\n\"/w/a\" = 123\n",
        )
        .unwrap();
        let toggl = config.toggl.unwrap();
        assert_eq!(toggl.workspace_id.as_deref(), Some("777"));
        assert_eq!(toggl.other_project_id.as_deref(), Some("99"));
        assert_eq!(toggl.project_mapping["/w/a"], "123");
        assert_eq!(toggl.base_url, TOGGL_URL);
        assert!(parse("").unwrap().toggl.is_none());
        let message = error("[toggl]\nother_project_id = \"abc\"\n");
        assert!(message.contains("line 2") && message.contains("positive whole numbers"), "{message}");
    }

    #[test]
    fn api_key_is_redacted_in_debug() {
        let config = parse("[clockify]\napi_key = \"super-secret-key\"\n").unwrap();
        assert!(config.holds_secret());
        assert!(!format!("{config:?}").contains("super-secret-key"));
    }

    #[test]
    fn missing_file_means_defaults() {
        assert_eq!(Config::load(Path::new("/nonexistent/c.toml")).unwrap(), Config::default());
    }
}
