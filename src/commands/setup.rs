//! Talking to the services outside `sync`'s loop: `setup` (store and check a key), `clockify projects`
//! and `toggl projects`. Connecting (keys, clients, cached account facts) is `connect`'s.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result};

use crate::app::App;
use crate::connect::project_ids_key;
use crate::connect::{self, cache_toggl_workspace, clockify_user_key, key_for, toggl_workspace_key};
use crate::destination::Service;
use crate::secrets::{self, ApiKey, SecretStore};
use crate::store::Store;

/// How long a cached `toggl projects` listing is used before Toggl is asked again.
const PROJECT_CACHE_SECONDS: i64 = 3600;

/// Runs `setup` (Clockify) or `setup --toggl`.
pub(crate) fn run(app: &App, toggl: bool) -> Result<()> {
    if toggl {
        return setup_toggl(app);
    }
    let key = read_key("Clockify API key (Profile settings > API; input is hidden): ")?;
    let base_url = &app.config.clockify.base_url;
    let mut client = connect::clockify(app, base_url, key.clone());
    let user = client.current_user().context("Clockify").context("the key was not accepted")?;
    let store = &app.secret_store;
    store.set(secrets::CLOCKIFY.store_name, &key)?;
    Store::open(&app.db_path)?.cache(&clockify_user_key(base_url, &key), &user.id)?;
    let workspaces = client.workspaces().context("Clockify")?;
    signed_in(
        &SignIn { service: Service::Clockify, name: &user.name, email: &user.email, store },
        workspaces
            .iter()
            .map(|w| (w.id.clone(), w.name.as_str(), user.default_workspace.as_deref() == Some(&w.id))),
        "put one in `[clockify] workspace_id`",
    )
}

fn setup_toggl(app: &App) -> Result<()> {
    let token = read_key("Toggl Track API token (Profile settings > API Token; input is hidden): ")?;
    let base_url = app.config.toggl.as_ref().map_or(crate::config::TOGGL_URL, |t| t.base_url.as_str());
    let mut client = connect::toggl(app, base_url, token.clone());
    let me = client.me().context("Toggl Track").context("the token was not accepted")?;
    let store = &app.secret_store;
    store.set(secrets::TOGGL.store_name, &token)?;
    if let Some(id) = me.default_workspace_id {
        cache_toggl_workspace(&Store::open(&app.db_path)?, base_url, &token, &id.to_string())?;
    }
    let workspaces = client.workspaces().context("Toggl Track")?;
    signed_in(
        &SignIn { service: Service::Toggl, name: &me.fullname, email: &me.email, store },
        workspaces.iter().map(|w| (w.id.to_string(), w.name.as_str(), me.default_workspace_id == Some(w.id))),
        "`[toggl] workspace_id`; without it the default is used",
    )
}

/// Who `setup` signed in as, and where the key went.
struct SignIn<'a> {
    service: Service,
    name: &'a str,
    email: &'a str,
    store: &'a SecretStore,
}

/// Tells the user who they are, where the key is kept, their workspaces (`id`, name, is default) and
/// what to run next.
fn signed_in<'a>(
    who: &SignIn<'_>,
    workspaces: impl Iterator<Item = (String, &'a str, bool)>,
    workspace_hint: &str,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let service = who.service.name();
    writeln!(
        out,
        "Signed in to {service} as {} <{}>; the key is stored in {}.",
        who.name,
        who.email,
        who.store.describe()
    )?;
    writeln!(out, "\nYour workspaces ({workspace_hint}):")?;
    for (id, name, is_default) in workspaces {
        writeln!(out, "  {id}  {name}{}", if is_default { "  (default)" } else { "" })?;
    }
    writeln!(out, "\nNext: `claude-tracker {} projects` lists the projects to map.", who.service.key())?;
    Ok(())
}

/// Reads a key without echo from a terminal, or as one line from a pipe.
fn read_key(prompt: &str) -> Result<ApiKey> {
    let text = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("cannot read the key from the terminal")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the key from stdin")?;
        line
    };
    ApiKey::new(&text).ok_or_else(|| anyhow::anyhow!("no key given: paste it when asked"))
}

/// Prints `id  name  client` rows.
fn print_projects<'a>(rows: impl Iterator<Item = (String, &'a str, &'a str)>) -> Result<()> {
    let rows: Vec<(String, &str, &str)> = rows.collect();
    let id_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(2);
    let width = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0).max(4);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<id_width$}  {:<width$}  client", "id", "name")?;
    for (id, name, client) in rows {
        writeln!(out, "{id:<id_width$}  {name:<width$}  {client}")?;
    }
    Ok(())
}

/// Keeps the ids a project listing returned, with when, so `status` can tell a mapping to a project the
/// service no longer lists without asking it; and their names, so a dry run can show them beside the
/// ids without a request.
fn remember_project_ids(
    app: &App,
    service: Service,
    workspace: &str,
    projects: impl Iterator<Item = (String, String)>,
) -> Result<()> {
    let names: std::collections::BTreeMap<String, String> = projects.collect();
    let ids: Vec<&String> = names.keys().collect();
    let listed = (app.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), ids);
    let store = Store::open(&app.db_path)?;
    store.cache(&project_ids_key(service, workspace), &serde_json::to_string(&listed)?)?;
    store.cache(&crate::planning::project_names_key(service, workspace), &serde_json::to_string(&names)?)
}

/// Runs `clockify projects`.
pub(crate) fn clockify_projects(app: &App, workspace: Option<&str>) -> Result<()> {
    let workspace = workspace.or(app.config.clockify.workspace_id.as_deref()).ok_or_else(|| {
        anyhow::anyhow!(
            "which workspace? pass `--workspace ID` or set `[clockify] workspace_id` (`claude-tracker setup` \
             lists them)"
        )
    })?;
    let key = key_for(app, Service::Clockify)?;
    let mut client = connect::clockify(app, &app.config.clockify.base_url, key);
    let projects = client.projects(workspace).context("Clockify")?;
    remember_project_ids(
        app,
        Service::Clockify,
        workspace,
        projects.iter().map(|p| (p.id.clone(), p.name.clone())),
    )?;
    print_projects(
        projects.iter().map(|p| (p.id.clone(), p.name.as_str(), p.client_name.as_deref().unwrap_or(""))),
    )
}

/// Runs `toggl projects`: from the database when listed within the hour (Toggl's requests are scarce),
/// unless `--refresh`.
pub(crate) fn toggl_projects(app: &App, workspace: Option<&str>, refresh: bool) -> Result<()> {
    let toggl = app.config.toggl.clone().unwrap_or_default();
    let store = Store::open(&app.db_path)?;
    let destination_workspace = workspace.map(str::to_string).or(toggl.workspace_id.clone());
    let workspace = match destination_workspace {
        Some(id) => id,
        None => store.cached(&toggl_workspace_key(&toggl.base_url, None))?.ok_or_else(|| {
            anyhow::anyhow!("which workspace? pass `--workspace ID`, set `[toggl] workspace_id`, or run `claude-tracker setup --toggl`")
        })?,
    };
    let cache_key = format!("toggl_projects:{}:{workspace}", toggl.base_url);
    let now = app.now.timestamp();
    let cached: Option<(i64, Vec<crate::toggl::Project>)> =
        store.cached(&cache_key)?.and_then(|text| serde_json::from_str(&text).ok());
    let projects = match cached {
        Some((at, projects)) if !refresh && now - at < PROJECT_CACHE_SECONDS => projects,
        _ => {
            let token = key_for(app, Service::Toggl)?;
            let mut client = connect::toggl(app, &toggl.base_url, token);
            let projects = client.projects(&workspace).context("Toggl Track")?;
            store.cache(&cache_key, &serde_json::to_string(&(now, &projects))?)?;
            let named = projects.iter().map(|p| (p.id.to_string(), p.name.clone()));
            remember_project_ids(app, Service::Toggl, &workspace, named)?;
            projects
        }
    };
    print_projects(
        projects.iter().map(|p| (p.id.to_string(), p.name.as_str(), p.client_name.as_deref().unwrap_or(""))),
    )
}
