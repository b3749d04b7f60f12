//! `claude-tracker watch --install`: the service file (a systemd user unit on Linux, a launchd agent on
//! macOS) that keeps `watch` running from login on.

use std::io::Write;

use anyhow::{Context, Result};

use crate::app::App;

/// `watch --install`: a systemd user unit (Linux) or a launchd agent (macOS) that runs this binary's
/// `watch` with this config and database at login; prints what it wrote and how to start and remove it.
pub(crate) fn install(app: &App) -> Result<()> {
    let exe = std::env::current_exe().context("cannot tell where this program is")?;
    let home = dirs::home_dir().context("cannot tell where your home folder is")?;
    let args = [
        exe.display().to_string(),
        "--config".into(),
        app.config_path.display().to_string(),
        "--db".into(),
        app.db_path.display().to_string(),
        "watch".into(),
    ];
    let (path, text, start, remove) = if cfg!(target_os = "macos") {
        let path = home.join("Library/LaunchAgents/dev.claude-tracker.watch.plist");
        let arguments: String =
            args.iter().map(|a| format!("    <string>{}</string>\n", xml_escape(a))).collect();
        let text = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
             \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
             <key>Label</key><string>dev.claude-tracker.watch</string>\n  <key>ProgramArguments</key>\n  \
             <array>\n{arguments}  </array>\n  <key>RunAtLoad</key><true/>\n  <key>KeepAlive</key><true/>\n\
             </dict>\n</plist>\n"
        );
        let start = format!("launchctl load {}", path.display());
        let remove = format!("launchctl unload {0} && rm {0}", path.display());
        (path, text, start, remove)
    } else {
        let config_home =
            std::env::var_os("XDG_CONFIG_HOME").map_or_else(|| home.join(".config"), Into::into);
        let path = config_home.join("systemd/user/claude-tracker-watch.service");
        let command: Vec<String> = args.iter().map(|a| systemd_quote(a)).collect();
        let text = format!(
            "[Unit]\nDescription=claude-tracker watch: a running timer that follows Claude Code\n\n[Service]\n\
             ExecStart={}\nRestart=on-failure\nRestartSec=30\n\n[Install]\nWantedBy=default.target\n",
            command.join(" ")
        );
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
    Ok(())
}

/// A systemd `ExecStart` word: quoted when it holds a space or a quote.
fn systemd_quote(word: &str) -> String {
    if word.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\') {
        format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        word.to_string()
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// One line to stdout (a closed pipe is not an error worth stopping for).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
