//! The user's `config.toml`: its keys, their defaults, and errors that point at the file, line and column
//! with what to write instead. Every key is documented in `config.example.toml`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer};

/// Default idle threshold: a gap of this many minutes or more between two activity lines is not work.
pub const DEFAULT_IDLE_MINUTES: u32 = 15;

/// The whole configuration, defaults filled in.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// IANA zone that local days and hours are computed in; the system's zone when absent.
    #[serde(default, deserialize_with = "timezone")]
    pub timezone: Option<Tz>,
    #[serde(default)]
    pub capture: CaptureConfig,
}

/// `[capture]`: where transcripts are and how activity becomes time.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// Folders holding Claude Code's per-project transcript folders; relative paths are relative to the
    /// config file, `~` is the home directory.
    #[serde(default)]
    pub projects_dirs: Option<Vec<PathBuf>>,
    #[serde(default = "default_idle_minutes", deserialize_with = "idle_minutes")]
    pub idle_minutes: u32,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig { projects_dirs: None, idle_minutes: DEFAULT_IDLE_MINUTES }
    }
}

impl CaptureConfig {
    /// The idle threshold in milliseconds, the unit of the capture pipeline.
    pub fn idle_ms(&self) -> i64 {
        i64::from(self.idle_minutes) * 60_000
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
    let minutes = i64::deserialize(deserializer)?;
    u32::try_from(minutes).ok().filter(|m| (1..=24 * 60).contains(m)).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`idle_minutes` must be a whole number of minutes from 1 to 1440, not {minutes}"
        ))
    })
}

impl Config {
    /// Reads the config file; a missing file means defaults. Relative `projects_dirs` are resolved
    /// against the file's folder.
    pub fn load(path: &Path) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => anyhow::bail!("cannot read the config file {}: {e}", path.display()),
        };
        let mut config = Config::parse(&text, path)?;
        if let (Some(dirs), Some(base)) = (config.capture.projects_dirs.as_mut(), path.parent()) {
            for dir in dirs.iter_mut().filter(|d| d.is_relative() && !d.starts_with("~")) {
                *dir = base.join(&*dir);
            }
        }
        Ok(config)
    }

    /// Parses config text; `path` only names the file in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|error| anyhow::anyhow!(describe_error(text, path, &error)))
    }
}

/// Turns a TOML error into `config file F, line L, column C: what; did you mean ...`.
fn describe_error(text: &str, path: &Path, error: &toml::de::Error) -> String {
    let position = error.span().map_or_else(String::new, |span| {
        let (line, column) = line_and_column(text, span.start);
        format!(", line {line}, column {column}")
    });
    let message = error.message().trim_end();
    let hint = unknown_key_hint(message).unwrap_or_default();
    format!(
        "config file {}{position}: {message}{hint} (every key is described in config.example.toml)",
        path.display()
    )
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" message, the closest known key.
fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field ")?;
    let mut names = rest.split('`').skip(1).step_by(2);
    let unknown = names.next()?;
    closest(unknown, names).map(|known| format!("; did you mean `{known}`?"))
}

/// The candidate nearest to `word` when it is near enough to be a likely typo.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = word.to_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&lowered, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
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
        assert!(config.capture.projects_dirs.is_some());
    }

    #[test]
    fn missing_file_means_defaults() {
        assert_eq!(Config::load(Path::new("/nonexistent/c.toml")).unwrap(), Config::default());
    }
}
