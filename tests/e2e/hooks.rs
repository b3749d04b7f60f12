//! `hooks install|uninstall`: Claude Code's settings gain four hooks that run `watch --once` in the
//! background, keep everything else, and lose exactly those hooks again.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::World;

fn settings(world: &World) -> serde_json::Value {
    let text = std::fs::read_to_string(world.dir.path().join("claude/settings.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The command our hooks run in `world`.
fn our_command(world: &World) -> String {
    let exe = assert_cmd::cargo::cargo_bin("claude-tracker");
    format!(
        "'{}' --config '{}' --db '{}' watch --once --until-idle >/dev/null 2>&1 & # claude-tracker hook",
        exe.display(),
        world.dir.path().join("no-config.toml").display(),
        world.db().display()
    )
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
    let command = our_command(&world);
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

/// A dotfile manager keeps `settings.json` as a link into its repository: install and uninstall write the
/// file it points at and leave the link (and no stray file) in place.
#[cfg(unix)]
#[test]
fn a_linked_settings_file_is_written_through_the_link() {
    let world = World::new();
    let dotfiles = world.dir.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let real = dotfiles.join("claude-settings.json");
    std::fs::write(&real, "{\"cleanupPeriodDays\": 60}").unwrap();
    let link = world.dir.path().join("claude/settings.json");
    std::os::unix::fs::symlink("../dotfiles/claude-settings.json", &link).unwrap();
    let names = |dir: &std::path::Path| {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    };

    let command = our_command(&world);
    assert_eq!(
        world.ok(&["hooks", "install"]),
        format!(
            "added to {}: SessionStart, UserPromptSubmit, Stop, SessionEnd run, in the background (the hook \
             returns at once):\n  {command}\nremove them: claude-tracker hooks uninstall\n",
            link.display()
        )
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), std::path::Path::new("../dotfiles/claude-settings.json"));
    let ours = json!({"hooks": [{"type": "command", "command": command, "timeout": 5}]});
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({
            "cleanupPeriodDays": 60,
            "hooks": {"SessionStart": [ours], "UserPromptSubmit": [ours], "Stop": [ours], "SessionEnd": [ours]},
        })
    );
    assert_eq!(names(&dotfiles), ["claude-settings.json"]);
    assert_eq!(names(&world.dir.path().join("claude")), ["projects", "settings.json"]);

    assert_eq!(
        world.ok(&["hooks", "uninstall"]),
        format!("removed 4 claude-tracker hook(s) from {}\n", link.display())
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), std::path::Path::new("../dotfiles/claude-settings.json"));
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "{\n  \"cleanupPeriodDays\": 60\n}\n");
    assert_eq!(names(&dotfiles), ["claude-settings.json"]);
}
