//! `claude-tracker watch --install`: the service file (a systemd user unit on Linux, a launchd agent on
//! macOS) that keeps `watch` running from login on.
//!
//! A service does not inherit the shell it was installed from, so the file carries what this run relies
//! on: the config and database as flags, and the environment variables the program reads for its paths,
//! its secrets file and its time zone ([`SERVICE_ENV`]), each as set now. Keys themselves never go into
//! it (a unit file is no place for a secret): a key found only in the environment gets a warning saying
//! where to store it instead, or the service would fail for want of it and restart every 30 s for ever.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::app::App;
use crate::secrets::{self, SecretKind, SecretStore};

/// The variables a `watch` service needs as they are set at install time: where Claude Code keeps its
/// transcripts and settings, where the keys are kept without a keychain, the time zone days are cut in,
/// and the config folder the default transcript folders hang from. Left out on purpose: the keys (see
/// [`key_warnings`]), and the tests' hooks (`$CLAUDE_TRACKER_NOW`, `$CLAUDE_TRACKER_CLOCK_FILE`, the
/// back-off overrides), which would pin a real service's clock or pacing. `$CLAUDE_TRACKER_CONFIG` and
/// `$CLAUDE_TRACKER_DB` go in as `--config` and `--db`.
const SERVICE_ENV: [EnvVar; 4] = [
    EnvVar { name: "CLAUDE_CONFIG_DIR", kind: EnvKind::PathList },
    EnvVar { name: "CLAUDE_TRACKER_SECRETS_FILE", kind: EnvKind::Path },
    EnvVar { name: "TZ", kind: EnvKind::Text },
    EnvVar { name: "XDG_CONFIG_HOME", kind: EnvKind::Path },
];

/// One variable copied into the service.
#[derive(Debug, Clone, Copy)]
struct EnvVar {
    name: &'static str,
    kind: EnvKind,
}

/// How a value is copied: a service starts in another folder, so relative paths are made absolute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvKind {
    /// As is.
    Text,
    /// One path.
    Path,
    /// Comma-separated paths (`$CLAUDE_CONFIG_DIR`); `~` ones are left to the program to expand.
    PathList,
}

/// `watch --install`: a systemd user unit (Linux) or a launchd agent (macOS) that runs this binary's
/// `watch` with this config and database, and the environment it relies on, at login; prints what it
/// wrote and how to start and remove it, and warns about keys the service will not see.
pub(crate) fn install(app: &App) -> Result<()> {
    let exe = std::env::current_exe().context("cannot tell where this program is")?;
    let home = dirs::home_dir().context("cannot tell where your home folder is")?;
    let cwd = std::env::current_dir().context("cannot tell which folder this runs in")?;
    let args = [
        exe.display().to_string(),
        "--config".into(),
        absolute(&app.config_path, &cwd).display().to_string(),
        "--db".into(),
        absolute(&app.db_path, &cwd).display().to_string(),
        "watch".into(),
    ];
    let lookup = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let (env, mut warnings) = service_environment(lookup, &cwd);
    warnings.extend(key_warnings(lookup, &app.secret_store));
    let (path, text, start, remove) = if cfg!(target_os = "macos") {
        let path = home.join("Library/LaunchAgents/dev.claude-tracker.watch.plist");
        let text = launchd_plist(&args, &env);
        let start = format!("launchctl load {}", path.display());
        let remove = format!("launchctl unload {0} && rm {0}", path.display());
        (path, text, start, remove)
    } else {
        let config_home =
            std::env::var_os("XDG_CONFIG_HOME").map_or_else(|| home.join(".config"), Into::into);
        let path = config_home.join("systemd/user/claude-tracker-watch.service");
        let text = systemd_unit(&args, &env);
        let start =
            "systemctl --user daemon-reload && systemctl --user enable --now claude-tracker-watch".into();
        let remove = format!("systemctl --user disable --now claude-tracker-watch && rm {}", path.display());
        (path, text, start, remove)
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    say(&format!("wrote {}:\n{text}\nstart it:  {start}\nremove it: {remove}", path.display()));
    let mut stderr = std::io::stderr().lock();
    for warning in warnings {
        let _ = writeln!(stderr, "claude-tracker: warning: {warning}");
    }
    Ok(())
}

/// The [`SERVICE_ENV`] variables set (and not empty) now, in that order, paths made absolute against
/// `cwd`; and a warning for each that cannot be written into a text file (not UTF-8).
fn service_environment(
    lookup: impl Fn(&str) -> Option<OsString>,
    cwd: &Path,
) -> (Vec<(&'static str, String)>, Vec<String>) {
    let mut env = Vec::new();
    let mut warnings = Vec::new();
    for var in SERVICE_ENV {
        let Some(value) = lookup(var.name) else { continue };
        let Some(value) = value.to_str() else {
            warnings.push(format!(
                "${} is not valid UTF-8, so it was left out of the service: the service runs without it",
                var.name
            ));
            continue;
        };
        let value = match var.kind {
            EnvKind::Text => value.to_string(),
            EnvKind::Path => absolute(Path::new(value), cwd).display().to_string(),
            EnvKind::PathList => value
                .split(',')
                .map(|entry| {
                    let trimmed = entry.trim();
                    if trimmed.is_empty() || trimmed.starts_with('~') {
                        trimmed.to_string()
                    } else {
                        absolute(Path::new(trimmed), cwd).display().to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        env.push((var.name, value));
    }
    (env, warnings)
}

/// One warning per service whose key is set in this environment but that the service would not find: a
/// unit file never holds a key, so it must be in the secret store the service reads. A secrets file is
/// looked in (it is a local file); the OS keychain is not asked, so the warning then says "unless".
fn key_warnings(lookup: impl Fn(&str) -> Option<OsString>, store: &SecretStore) -> Vec<String> {
    [secrets::CLOCKIFY, secrets::TOGGL]
        .into_iter()
        .filter_map(|kind: SecretKind| {
            let service = kind.service;
            let variable = kind.envs.iter().find(|name| lookup(name).is_some())?;
            match store {
                SecretStore::File(path) => {
                    if store.get(kind.store_name).ok().flatten().is_some() {
                        return None;
                    }
                    Some(format!(
                        "${variable} is set here, but the service will not see it (keys never go into the \
                         service file) and the secrets file {} holds no {service} key: run `{}` to store it \
                         there",
                        path.display(),
                        kind.setup_command
                    ))
                }
                SecretStore::Keychain => Some(format!(
                    "${variable} is set here, but the service will not see it (keys never go into the \
                     service file): unless the {service} key is in {} already, run `{}` to store it there \
                     (on a machine without a keychain, set $CLAUDE_TRACKER_SECRETS_FILE to a file path, \
                     run `{}`, then `claude-tracker watch --install` again)",
                    store.describe(),
                    kind.setup_command,
                    kind.setup_command
                )),
            }
        })
        .collect()
}

/// The systemd user unit: `Environment=` lines for `env`, then the command line.
fn systemd_unit(args: &[String], env: &[(&str, String)]) -> String {
    let environment: String =
        env.iter().map(|(name, value)| format!("Environment={}\n", systemd_env(name, value))).collect();
    let command: Vec<String> = args.iter().map(|a| systemd_quote(a)).collect();
    format!(
        "[Unit]\nDescription=claude-tracker watch: a running timer that follows Claude Code\n\n[Service]\n\
         {environment}ExecStart={}\nRestart=on-failure\nRestartSec=30\n\n[Install]\nWantedBy=default.target\n",
        command.join(" ")
    )
}

/// The launchd agent: the command line, then `EnvironmentVariables` for `env` (when there are any).
fn launchd_plist(args: &[String], env: &[(&str, String)]) -> String {
    let arguments: String =
        args.iter().map(|a| format!("    <string>{}</string>\n", xml_escape(a))).collect();
    let environment = if env.is_empty() {
        String::new()
    } else {
        let entries: String = env
            .iter()
            .map(|(name, value)| {
                format!("    <key>{}</key><string>{}</string>\n", xml_escape(name), xml_escape(value))
            })
            .collect();
        format!("  <key>EnvironmentVariables</key>\n  <dict>\n{entries}  </dict>\n")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
         <key>Label</key><string>dev.claude-tracker.watch</string>\n  <key>ProgramArguments</key>\n  \
         <array>\n{arguments}  </array>\n{environment}  <key>RunAtLoad</key><true/>\n  \
         <key>KeepAlive</key><true/>\n</dict>\n</plist>\n"
    )
}

/// A systemd `ExecStart` word: `%` doubled (systemd expands specifiers, quoted or not) and `$` doubled
/// (it expands variables there too); quoted, with C escapes, when it holds a space, a quote, a backslash
/// or a control character, or is a lone `;` (which would start another command).
fn systemd_quote(word: &str) -> String {
    let word = word.replace('%', "%%").replace('$', "$$");
    if word == ";" || word.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\') {
        format!("\"{}\"", c_escape(&word))
    } else {
        word
    }
}

/// A systemd `Environment=` assignment: always in double quotes (so spaces stay in the value), with C
/// escapes and `%` doubled (specifiers are expanded there; `$` is not special in `Environment=`).
fn systemd_env(name: &str, value: &str) -> String {
    format!("\"{}\"", c_escape(&format!("{name}={}", value.replace('%', "%%"))))
}

/// The escapes systemd reads inside a double-quoted word: backslash, quote, and control characters.
fn c_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c if c.is_ascii_control() => escaped.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_control() => escaped.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Text for an XML element (the plist's strings and keys).
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `path` against `cwd` when relative: the service starts in another folder than this run.
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) }
}

/// One line to stdout (a closed pipe is not an error worth stopping for).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Vec<String> {
        ["/opt/ct/claude-tracker", "--config", "/home/a b/config.toml", "--db", "/data/100%/t.db", "watch"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_unit_carries_the_environment_quoted_with_specifiers_escaped() {
        let env = [
            ("CLAUDE_CONFIG_DIR", "/home/a b/.claude".to_string()),
            ("CLAUDE_TRACKER_SECRETS_FILE", "/s/50%\"off\"\\x.json".to_string()),
            ("TZ", "Europe/Berlin".to_string()),
        ];
        assert_eq!(
            systemd_unit(&args(), &env),
            "[Unit]\nDescription=claude-tracker watch: a running timer that follows Claude Code\n\n[Service]\n\
             Environment=\"CLAUDE_CONFIG_DIR=/home/a b/.claude\"\n\
             Environment=\"CLAUDE_TRACKER_SECRETS_FILE=/s/50%%\\\"off\\\"\\\\x.json\"\n\
             Environment=\"TZ=Europe/Berlin\"\n\
             ExecStart=/opt/ct/claude-tracker --config \"/home/a b/config.toml\" --db /data/100%%/t.db watch\n\
             Restart=on-failure\nRestartSec=30\n\n[Install]\nWantedBy=default.target\n"
        );
    }

    #[test]
    fn exec_start_words_escape_dollars_control_characters_and_a_lone_semicolon() {
        assert_eq!(systemd_quote("/a/$HOME/b"), "/a/$$HOME/b");
        assert_eq!(systemd_quote("a\nb\tc"), "\"a\\nb\\tc\"");
        assert_eq!(systemd_quote(";"), "\";\"");
        assert_eq!(systemd_quote("plain"), "plain");
    }

    #[test]
    fn the_plist_carries_the_environment_as_a_dict() {
        let env = [("CLAUDE_CONFIG_DIR", "/c&d/<x>".to_string()), ("TZ", "UTC".to_string())];
        assert_eq!(
            launchd_plist(&args()[..2], &env),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
             \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
             <key>Label</key><string>dev.claude-tracker.watch</string>\n  <key>ProgramArguments</key>\n  \
             <array>\n    <string>/opt/ct/claude-tracker</string>\n    <string>--config</string>\n  </array>\n  \
             <key>EnvironmentVariables</key>\n  <dict>\n    \
             <key>CLAUDE_CONFIG_DIR</key><string>/c&amp;d/&lt;x&gt;</string>\n    \
             <key>TZ</key><string>UTC</string>\n  </dict>\n  <key>RunAtLoad</key><true/>\n  \
             <key>KeepAlive</key><true/>\n</dict>\n</plist>\n"
        );
        assert!(!launchd_plist(&args(), &[]).contains("EnvironmentVariables"));
    }

    #[test]
    fn only_the_service_variables_go_in_with_relative_paths_made_absolute() {
        let set = |name: &str| {
            match name {
                "CLAUDE_CONFIG_DIR" => Some("rel/claude, ~/other ,/abs"),
                "CLAUDE_TRACKER_SECRETS_FILE" => Some("secrets.json"),
                "TZ" => Some(":Europe/Paris"),
                "CLAUDE_TRACKER_NOW" | "CLOCKIFY_API_KEY" => Some("never copied"),
                _ => None,
            }
            .map(OsString::from)
        };
        let (env, warnings) = service_environment(set, Path::new("/work"));
        assert_eq!(
            env,
            vec![
                ("CLAUDE_CONFIG_DIR", "/work/rel/claude,~/other,/abs".to_string()),
                ("CLAUDE_TRACKER_SECRETS_FILE", "/work/secrets.json".to_string()),
                ("TZ", ":Europe/Paris".to_string()),
            ]
        );
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_key_only_in_the_environment_is_warned_about_with_its_own_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{\"clockify_api_key\": \"stored\"}").unwrap();
        let store = SecretStore::File(path.clone());
        let set = |name: &str| {
            matches!(name, "CLOCKIFY_API_KEY" | "TOGGL_TOKEN").then(|| OsString::from("secret-value"))
        };
        // Clockify's key is in the file the service reads; Toggl's only in this shell.
        assert_eq!(
            key_warnings(set, &store),
            vec![format!(
                "$TOGGL_TOKEN is set here, but the service will not see it (keys never go into the service \
                 file) and the secrets file {} holds no Toggl Track key: run `claude-tracker setup --toggl` \
                 to store it there",
                path.display()
            )]
        );
        assert_eq!(
            key_warnings(set, &SecretStore::Keychain)[0],
            "$CLOCKIFY_API_KEY is set here, but the service will not see it (keys never go into the service \
             file): unless the Clockify key is in the OS keychain (service `claude-tracker`) already, run \
             `claude-tracker setup` to store it there (on a machine without a keychain, set \
             $CLAUDE_TRACKER_SECRETS_FILE to a file path, run `claude-tracker setup`, then `claude-tracker \
             watch --install` again)"
        );
        assert!(key_warnings(|_| None, &SecretStore::Keychain).is_empty());
    }
}
