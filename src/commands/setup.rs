//! `claude-tracker setup` (store and check the Clockify key) and `claude-tracker clockify projects`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use xxhash_rust::xxh3::xxh3_64;

use crate::app::App;
use crate::clockify::{ClientOptions, Clockify};
use crate::secrets::{self, ApiKey, SecretStore};
use crate::store::Store;

/// Client options, with the back-off shortened by `$CLAUDE_TRACKER_BACKOFF_MS` (the tests' fake
/// service answers faults at once; waiting half a second each time would only slow them).
pub fn client_options() -> ClientOptions {
    let mut options = ClientOptions::default();
    if let Some(ms) = std::env::var("CLAUDE_TRACKER_BACKOFF_MS").ok().and_then(|v| v.parse().ok()) {
        options.backoff = Duration::from_millis(ms);
    }
    options
}

/// The Clockify key from the environment, the config or the secret store.
pub fn clockify_key(app: &App) -> Result<ApiKey> {
    secrets::resolve(secrets::CLOCKIFY, app.config.clockify.api_key.as_deref(), &SecretStore::from_env())
}

/// Where the user id of a key is cached: per endpoint and per key (by hash; the key itself is never
/// stored in the database).
pub fn user_cache_key(base_url: &str, key: &ApiKey) -> String {
    format!("clockify_user:{base_url}:{:016x}", xxh3_64(key.expose().as_bytes()))
}

/// Runs `setup`.
pub fn run(app: &App) -> Result<()> {
    let key = read_key()?;
    let base_url = &app.config.clockify.base_url;
    let mut client = Clockify::new(base_url, key.clone(), client_options());
    let user =
        client.current_user().map_err(|e| anyhow::anyhow!("the key was not accepted: Clockify: {e}"))?;
    let store = SecretStore::from_env();
    store.set(secrets::CLOCKIFY.store_name, &key)?;
    Store::open(&app.db_path)?.cache(&user_cache_key(base_url, &key), &user.id)?;
    let workspaces = client.workspaces().map_err(|e| anyhow::anyhow!("Clockify: {e}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Signed in to Clockify as {} <{}>; the key is stored in {}.",
        user.name,
        user.email,
        store.describe()
    )?;
    writeln!(out, "\nYour workspaces (put one in `[sync] workspace_id`):")?;
    for workspace in &workspaces {
        let default =
            if user.default_workspace.as_deref() == Some(&workspace.id) { "  (default)" } else { "" };
        writeln!(out, "  {}  {}{default}", workspace.id, workspace.name)?;
    }
    writeln!(out, "\nNext: `claude-tracker clockify projects` lists the projects to map.")?;
    Ok(())
}

/// Reads the key without echo from a terminal, or as one line from a pipe.
fn read_key() -> Result<ApiKey> {
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Clockify API key (Profile settings > API; input is hidden): ")
            .context("cannot read the key from the terminal")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the key from stdin")?;
        line
    };
    ApiKey::new(&text).ok_or_else(|| anyhow::anyhow!("no key given: paste your Clockify API key"))
}

/// Runs `clockify projects`.
pub fn projects(app: &App, workspace: Option<&str>) -> Result<()> {
    let workspace = workspace.or(app.config.sync.workspace_id.as_deref()).ok_or_else(|| {
        anyhow::anyhow!("which workspace? pass `--workspace ID` or set `[sync] workspace_id` (`claude-tracker setup` lists them)")
    })?;
    let mut client = Clockify::new(&app.config.clockify.base_url, clockify_key(app)?, client_options());
    let projects = client.projects(workspace).map_err(|e| anyhow::anyhow!("Clockify: {e}"))?;
    let mut out = std::io::stdout().lock();
    let width = projects.iter().map(|p| p.name.chars().count()).max().unwrap_or(0).max(4);
    writeln!(out, "{:<24}  {:<width$}  client", "id", "name")?;
    for project in &projects {
        let client = project.client_name.as_deref().unwrap_or("");
        writeln!(out, "{:<24}  {:<width$}  {client}", project.id, project.name)?;
    }
    Ok(())
}
