//! `hooks install|uninstall`: Claude Code's settings gain four hooks that run `watch --once` in the
//! background, keep everything else, and lose exactly those hooks again.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::World;

fn settings(world: &World) -> serde_json::Value {
    let text = std::fs::read_to_string(world.dir.path().join("claude/settings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn hooks_are_added_once_keep_other_settings_return_at_once_and_come_out_again() {
    let world = World::new();
    let original = json!({
        "cleanupPeriodDays": 60,
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
    });
    let path = world.dir.path().join("claude/settings.json");
    std::fs::write(&path, serde_json::to_string(&original).unwrap()).unwrap();
    let exe = assert_cmd::cargo::cargo_bin("claude-tracker");
    let command = format!(
        "'{}' --config '{}' --db '{}' watch --once >/dev/null 2>&1 & # claude-tracker hook",
        exe.display(),
        world.dir.path().join("no-config.toml").display(),
        world.db().display()
    );
    let ours = json!({"hooks": [{"type": "command", "command": command, "timeout": 5}]});
    assert_eq!(
        world.ok(&["hooks", "install"]),
        format!(
            "added to {}: SessionStart, UserPromptSubmit, Stop, SessionEnd run, in the background (the hook \
             returns at once):\n  {command}\nremove them: claude-tracker hooks uninstall\n",
            path.display()
        )
    );
    assert_eq!(
        settings(&world),
        json!({
            "cleanupPeriodDays": 60,
            "hooks": {
                "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}, ours],
                "SessionStart": [ours],
                "UserPromptSubmit": [ours],
                "SessionEnd": [ours],
            },
        })
    );
    assert_eq!(
        world.ok(&["hooks", "install"]),
        format!("the hooks are already in {}; nothing changed\n", path.display())
    );
    // What Claude Code runs returns at once.
    let started = Instant::now();
    let status = std::process::Command::new("sh").arg("-c").arg(&command).status().unwrap();
    assert!(status.success());
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert_eq!(
        world.ok(&["hooks", "uninstall"]),
        format!("removed 4 claude-tracker hook(s) from {}\n", path.display())
    );
    assert_eq!(settings(&world), original);
}

#[test]
fn invalid_settings_are_left_alone_with_a_message() {
    let world = World::new();
    let path = world.dir.path().join("claude/settings.json");
    std::fs::write(&path, "{ not json").unwrap();
    let output = world.cmd().args(["hooks", "install"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "claude-tracker: error: {} is not valid JSON: fix it first (nothing was changed)",
            path.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
}
