//! `claude-tracker hooks install|uninstall`: Claude Code hooks (`SessionStart`, `UserPromptSubmit`,
//! `Stop`, `SessionEnd`) that run `watch --once` in the background, for those who do not keep `watch`
//! running. A hook returns at once (the pass runs detached, its output discarded, so nothing reaches
//! Claude Code's context) and never blocks Claude Code. Other settings and hooks are kept as they were;
//! ours are recognised by a marker comment, so `install` twice adds nothing and `uninstall` removes only
//! ours.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::app::App;

/// The Claude Code events a pass follows.
const EVENTS: [&str; 4] = ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"];
/// Ends every command of ours.
const MARKER: &str = "# claude-tracker hook";

/// Adds the hooks.
pub(crate) fn install(app: &App) -> Result<()> {
    let path = settings_path(app)?;
    let mut settings = read(&path)?;
    let command = hook_command(app)?;
    let mut added = Vec::new();
    let hooks = settings
        .as_object_mut()
        .context("Claude Code's settings are not a JSON object")?
        .entry("hooks")
        .or_insert_with(|| json!({}));
    let hooks = hooks.as_object_mut().context("`hooks` in Claude Code's settings is not an object")?;
    for event in EVENTS {
        let groups = hooks.entry(event).or_insert_with(|| json!([]));
        let groups = groups.as_array_mut().with_context(|| format!("`hooks.{event}` is not a list"))?;
        let current = |group: &Value| {
            group["hooks"]
                .as_array()
                .is_some_and(|hooks| hooks.iter().any(|h| h["command"] == command.as_str()))
        };
        if !groups.iter().any(current) {
            // An older command of ours (another path, no `--until-idle`) is replaced, not kept beside.
            groups.retain(|group| !is_ours(group));
            groups.push(json!({"hooks": [{"type": "command", "command": command, "timeout": 5}]}));
            added.push(event);
        }
    }
    let mut out = std::io::stdout().lock();
    if added.is_empty() {
        writeln!(out, "the hooks are already in {}; nothing changed", path.display())?;
        return Ok(());
    }
    write(&path, &settings)?;
    writeln!(
        out,
        "added to {}: {} run, in the background (the hook returns at once):\n  {command}\nremove them: \
         claude-tracker hooks uninstall",
        path.display(),
        added.join(", ")
    )?;
    Ok(())
}

/// Removes ours, and the groups and events they leave empty.
pub(crate) fn uninstall(app: &App) -> Result<()> {
    let path = settings_path(app)?;
    let mut settings = read(&path)?;
    let mut removed = 0;
    if let Some(hooks) = settings.get_mut("hooks").and_then(Value::as_object_mut) {
        for event in EVENTS {
            let Some(groups) = hooks.get_mut(event).and_then(Value::as_array_mut) else { continue };
            let before = groups.len();
            groups.retain(|group| !is_ours(group));
            removed += before - groups.len();
            if groups.is_empty() {
                hooks.remove(event);
            }
        }
        if hooks.is_empty() {
            settings.as_object_mut().map(|s| s.remove("hooks"));
        }
    }
    let mut out = std::io::stdout().lock();
    if removed == 0 {
        writeln!(out, "no claude-tracker hooks in {}; nothing changed", path.display())?;
        return Ok(());
    }
    write(&path, &settings)?;
    writeln!(out, "removed {removed} claude-tracker hook(s) from {}", path.display())?;
    Ok(())
}

fn settings_path(app: &App) -> Result<PathBuf> {
    app.claude_settings
        .clone()
        .context("cannot tell where Claude Code's settings are: set $CLAUDE_CONFIG_DIR")
}

/// A group whose commands are ours.
fn is_ours(group: &Value) -> bool {
    group["hooks"]
        .as_array()
        .is_some_and(|hooks| hooks.iter().any(|h| h["command"].as_str().is_some_and(|c| c.ends_with(MARKER))))
}

/// `"<this program>" --config "<config>" --db "<db>" watch --once --until-idle >/dev/null 2>&1 & # claude-tracker
/// hook`: the detached pass stays until the timer it left running is due to stop, and stops it.
fn hook_command(app: &App) -> Result<String> {
    let exe = std::env::current_exe().context("cannot tell where this program is")?;
    let quote = |path: &Path| format!("'{}'", path.display().to_string().replace('\'', r"'\''"));
    Ok(format!(
        "{} --config {} --db {} watch --once --until-idle >/dev/null 2>&1 & {MARKER}",
        quote(&exe),
        quote(&app.config_path),
        quote(&app.db_path)
    ))
}

fn read(path: &Path) -> Result<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!("{} is not valid JSON: fix it first (nothing was changed)", path.display())
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces the settings file whole (Claude Code never reads half of it), keeping its permissions; a
/// `settings.json` that is a link (a dotfile manager's) stays one: the file it points at is replaced.
fn write(path: &Path, settings: &Value) -> Result<()> {
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    crate::files::replace(path, &(serde_json::to_string_pretty(settings)? + "\n"), permissions)
}
