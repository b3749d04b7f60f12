//! Talking to the services outside `sync`'s loop: `setup` (store and check a key), `clockify projects`,
//! `toggl projects`, and the connection `sync` opens to each destination (key, client, workspace).

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use xxhash_rust::xxh3::xxh3_64;

use crate::app::App;
use crate::clockify::{Clockify, ClockifyTimesheet};
use crate::destination::{Destination, Service};
use crate::http::ClientOptions;
use crate::pause::Pause;
use crate::secrets::{self, ApiKey, SecretStore};
use crate::store::Store;
use crate::timesheet::Timesheet;
use crate::toggl::{Toggl, TogglTimesheet};

/// How long a cached `toggl projects` listing is used before Toggl is asked again.
const PROJECT_CACHE_SECONDS: i64 = 3600;

/// Client options for a service, with two test knobs: `$CLAUDE_TRACKER_BACKOFF_MS` shortens the
/// back-off and `$CLAUDE_TRACKER_TOGGL_INTERVAL_MS` Toggl's pacing (the tests' fakes answer at once).
pub fn client_options(service: Service) -> ClientOptions {
    let mut options = match service {
        Service::Clockify => ClientOptions::clockify(),
        Service::Toggl => ClientOptions::toggl(),
    };
    let millis =
        |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok()).map(Duration::from_millis);
    if let Some(backoff) = millis("CLAUDE_TRACKER_BACKOFF_MS") {
        options.backoff = backoff;
    }
    if let (Service::Toggl, Some(interval)) = (service, millis("CLAUDE_TRACKER_TOGGL_INTERVAL_MS")) {
        options.min_interval = interval;
    }
    options
}

fn key_for(app: &App, service: Service) -> Result<ApiKey> {
    let store = SecretStore::from_env();
    match service {
        Service::Clockify => {
            secrets::resolve(secrets::CLOCKIFY, app.config.clockify.api_key.as_deref(), &store)
        }
        Service::Toggl => secrets::resolve(secrets::TOGGL, None, &store),
    }
}

/// Where the Clockify user id of a key is cached: per endpoint and key (by hash; the key itself is never
/// stored in the database).
fn clockify_user_key(base_url: &str, key: &ApiKey) -> String {
    format!("clockify_user:{base_url}:{:016x}", xxh3_64(key.expose().as_bytes()))
}

/// The default workspace of the token last used at an endpoint (what a dry run, which needs no token,
/// can know), or, with a token, of that token.
fn toggl_workspace_key(base_url: &str, token: Option<&ApiKey>) -> String {
    match token {
        Some(token) => {
            format!("toggl_default_workspace:{base_url}:{:016x}", xxh3_64(token.expose().as_bytes()))
        }
        None => format!("toggl_default_workspace:{base_url}"),
    }
}

fn cache_toggl_workspace(store: &Store, base_url: &str, token: &ApiKey, workspace_id: &str) -> Result<()> {
    store.cache(&toggl_workspace_key(base_url, Some(token)), workspace_id)?;
    store.cache(&toggl_workspace_key(base_url, None), workspace_id)
}

/// The workspace a destination posts to, as far as it is known without asking the service.
pub fn known_workspace(destination: &Destination, store: &Store) -> Result<Option<String>> {
    match (&destination.workspace_id, destination.service) {
        (Some(id), _) => Ok(Some(id.clone())),
        (None, Service::Toggl) => store.cached(&toggl_workspace_key(&destination.base_url, None)),
        (None, Service::Clockify) => Ok(None),
    }
}

/// An open connection to one destination, for `sync`.
pub struct Connection {
    pub timesheet: Box<dyn Timesheet>,
    pub workspace_id: String,
    pub attempts: u32,
    pub backoff: Duration,
    user_cache_key: Option<String>,
}

impl Connection {
    /// Caches what the run learnt (the Clockify user id), so the next run need not ask.
    pub fn remember(&self, store: &Store) -> Result<()> {
        if let (Some(key), Some(id)) = (&self.user_cache_key, self.timesheet.known_user_id())
            && store.cached(key)?.is_none()
        {
            store.cache(key, id)?;
        }
        Ok(())
    }
}

/// Opens a connection: the key, a client, and the workspace (Toggl's default one is looked up once with
/// `GET /me` and cached).
pub fn connect(app: &App, destination: &Destination, store: &Store) -> Result<Connection> {
    let key = key_for(app, destination.service)?;
    let options = client_options(destination.service);
    let base_url = &destination.base_url;
    let (timesheet, workspace_id, user_cache_key): (Box<dyn Timesheet>, String, Option<String>) =
        match destination.service {
            Service::Clockify => {
                let workspace_id = destination.workspace_id.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "set `[sync] workspace_id` (`claude-tracker setup` lists your workspaces)"
                    )
                })?;
                let cache_key = clockify_user_key(base_url, &key);
                let timesheet = ClockifyTimesheet {
                    client: Clockify::new(base_url, key, options, Pause::default()),
                    workspace_id: workspace_id.clone(),
                    user_id: store.cached(&cache_key)?,
                };
                (Box::new(timesheet), workspace_id, Some(cache_key))
            }
            Service::Toggl => {
                let cached = store.cached(&toggl_workspace_key(base_url, Some(&key)))?;
                let mut client = Toggl::new(base_url, key.clone(), options, Pause::default());
                let workspace_id = match destination.workspace_id.clone().or(cached) {
                    Some(id) => id,
                    None => toggl_default_workspace(&mut client, base_url, &key, store)?,
                };
                (Box::new(TogglTimesheet { client, workspace_id: workspace_id.clone() }), workspace_id, None)
            }
        };
    Ok(Connection {
        timesheet,
        workspace_id,
        attempts: options.attempts,
        backoff: options.backoff,
        user_cache_key,
    })
}

fn toggl_default_workspace(
    client: &mut Toggl,
    base_url: &str,
    token: &ApiKey,
    store: &Store,
) -> Result<String> {
    let me = client.me().map_err(|e| anyhow::anyhow!("Toggl Track: {e}"))?;
    let id = me.default_workspace_id.map(|id| id.to_string()).ok_or_else(|| {
        anyhow::anyhow!("your Toggl profile has no default workspace: set `[toggl] workspace_id`")
    })?;
    cache_toggl_workspace(store, base_url, token, &id)?;
    Ok(id)
}

/// Runs `setup` (Clockify) or `setup --toggl`.
pub fn run(app: &App, toggl: bool) -> Result<()> {
    if toggl {
        return setup_toggl(app);
    }
    let key = read_key("Clockify API key (Profile settings > API; input is hidden): ")?;
    let base_url = &app.config.clockify.base_url;
    let mut client =
        Clockify::new(base_url, key.clone(), client_options(Service::Clockify), Pause::default());
    let user =
        client.current_user().map_err(|e| anyhow::anyhow!("the key was not accepted: Clockify: {e}"))?;
    let store = SecretStore::from_env();
    store.set(secrets::CLOCKIFY.store_name, &key)?;
    Store::open(&app.db_path)?.cache(&clockify_user_key(base_url, &key), &user.id)?;
    let workspaces = client.workspaces().map_err(|e| anyhow::anyhow!("Clockify: {e}"))?;
    signed_in(
        &SignIn { service: Service::Clockify, name: &user.name, email: &user.email, store: &store },
        workspaces
            .iter()
            .map(|w| (w.id.clone(), w.name.as_str(), user.default_workspace.as_deref() == Some(&w.id))),
        "put one in `[sync] workspace_id`",
    )
}

fn setup_toggl(app: &App) -> Result<()> {
    let token = read_key("Toggl Track API token (Profile settings > API Token; input is hidden): ")?;
    let base_url = app.config.toggl.as_ref().map_or(crate::config::TOGGL_URL, |t| t.base_url.as_str());
    let mut client = Toggl::new(base_url, token.clone(), client_options(Service::Toggl), Pause::default());
    let me = client.me().map_err(|e| anyhow::anyhow!("the token was not accepted: Toggl Track: {e}"))?;
    let store = SecretStore::from_env();
    store.set(secrets::TOGGL.store_name, &token)?;
    if let Some(id) = me.default_workspace_id {
        cache_toggl_workspace(&Store::open(&app.db_path)?, base_url, &token, &id.to_string())?;
    }
    let workspaces = client.workspaces().map_err(|e| anyhow::anyhow!("Toggl Track: {e}"))?;
    signed_in(
        &SignIn { service: Service::Toggl, name: &me.fullname, email: &me.email, store: &store },
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

/// Runs `clockify projects`.
pub fn clockify_projects(app: &App, workspace: Option<&str>) -> Result<()> {
    let workspace = workspace.or(app.config.sync.workspace_id.as_deref()).ok_or_else(|| {
        anyhow::anyhow!(
            "which workspace? pass `--workspace ID` or set `[sync] workspace_id` (`claude-tracker setup` lists them)"
        )
    })?;
    let key = key_for(app, Service::Clockify)?;
    let mut client = Clockify::new(
        &app.config.clockify.base_url,
        key,
        client_options(Service::Clockify),
        Pause::default(),
    );
    let projects = client.projects(workspace).map_err(|e| anyhow::anyhow!("Clockify: {e}"))?;
    print_projects(
        projects.iter().map(|p| (p.id.clone(), p.name.as_str(), p.client_name.as_deref().unwrap_or(""))),
    )
}

/// Runs `toggl projects`: from the database when listed within the hour (Toggl's requests are scarce),
/// unless `--refresh`.
pub fn toggl_projects(app: &App, workspace: Option<&str>, refresh: bool) -> Result<()> {
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
            let mut client =
                Toggl::new(&toggl.base_url, token, client_options(Service::Toggl), Pause::default());
            let projects = client.projects(&workspace).map_err(|e| anyhow::anyhow!("Toggl Track: {e}"))?;
            store.cache(&cache_key, &serde_json::to_string(&(now, &projects))?)?;
            projects
        }
    };
    print_projects(
        projects.iter().map(|p| (p.id.to_string(), p.name.as_str(), p.client_name.as_deref().unwrap_or(""))),
    )
}
