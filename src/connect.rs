//! Connecting to a service, for every command that talks to one (`sync`, `setup`, the project lists and,
//! next, `watch`): the key from the secret sources, a client with the service's options, and what is
//! cached of the account (the Clockify user id per key, Toggl's default workspace per token).

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use xxhash_rust::xxh3::xxh3_64;

use crate::app::App;
use crate::clockify::{Clockify, ClockifyTimesheet};
use crate::destination::{Destination, Service};
use crate::http::ClientOptions;
use crate::secrets::{self, ApiKey};
use crate::store::Store;
use crate::timesheet::Timesheet;
use crate::toggl::{Toggl, TogglTimesheet};

/// Client options for a service, with the run's overrides (the tests' fakes answer at once).
pub(crate) fn client_options(app: &App, service: Service) -> ClientOptions {
    let mut options = match service {
        Service::Clockify => ClientOptions::clockify(),
        Service::Toggl => ClientOptions::toggl(),
    };
    if let Some(backoff) = app.http.backoff {
        options.backoff = backoff;
    }
    if let (Service::Toggl, Some(interval)) = (service, app.http.toggl_interval) {
        options.min_interval = interval;
    }
    options
}

/// The service's key: the environment, else the config file (Clockify), else the secret store.
pub(crate) fn key_for(app: &App, service: Service) -> Result<ApiKey> {
    match service {
        Service::Clockify => {
            secrets::resolve(secrets::CLOCKIFY, app.config.clockify.api_key.as_deref(), &app.secret_store)
        }
        Service::Toggl => secrets::resolve(secrets::TOGGL, None, &app.secret_store),
    }
}

/// A Clockify client for `base_url`.
pub(crate) fn clockify(app: &App, base_url: &str, key: ApiKey) -> Clockify {
    Clockify::new(base_url, key, client_options(app, Service::Clockify), app.pause.clone())
}

/// A Toggl Track client for `base_url`.
pub(crate) fn toggl(app: &App, base_url: &str, token: ApiKey) -> Toggl {
    Toggl::new(base_url, token, client_options(app, Service::Toggl), app.pause.clone(), app.clock.clone())
}

/// Where the Clockify user id of a key is cached: per endpoint and key (by hash; the key itself is never
/// stored in the database).
pub(crate) fn clockify_user_key(base_url: &str, key: &ApiKey) -> String {
    format!("clockify_user:{base_url}:{:016x}", xxh3_64(key.expose().as_bytes()))
}

/// The default workspace of the token last used at an endpoint (what a dry run, which needs no token,
/// can know), or, with a token, of that token.
pub(crate) fn toggl_workspace_key(base_url: &str, token: Option<&ApiKey>) -> String {
    match token {
        Some(token) => {
            format!("toggl_default_workspace:{base_url}:{:016x}", xxh3_64(token.expose().as_bytes()))
        }
        None => format!("toggl_default_workspace:{base_url}"),
    }
}

/// Remembers a token's default workspace, for this token and as the last one seen.
pub(crate) fn cache_toggl_workspace(
    store: &Store,
    base_url: &str,
    token: &ApiKey,
    workspace_id: &str,
) -> Result<()> {
    store.cache(&toggl_workspace_key(base_url, Some(token)), workspace_id)?;
    store.cache(&toggl_workspace_key(base_url, None), workspace_id)
}

/// The workspace a destination posts to, as far as it is known without asking the service.
pub(crate) fn known_workspace(destination: &Destination, store: &Store) -> Result<Option<String>> {
    match (&destination.workspace_id, destination.service) {
        (Some(id), _) => Ok(Some(id.clone())),
        (None, Service::Toggl) => store.cached(&toggl_workspace_key(&destination.base_url, None)),
        (None, Service::Clockify) => Ok(None),
    }
}

/// What needs the user about running entries claude-tracker started, worded: one no live destination
/// owns any more (the destination switched mode, was removed, or points at another workspace), or one
/// running past the last activity plus the idle threshold (no watcher stopped it). `status`, `sync`,
/// `push` and `watch` say the same.
pub(crate) fn timer_warnings(app: &App, store: &Store) -> Result<Vec<String>> {
    use crate::ledger::{TimerOwner, timer_problems};
    let configured = crate::destination::configured(&app.config, app.tz);
    let mut scopes = Vec::new();
    for destination in &configured {
        if let Some(workspace) = known_workspace(destination, store)? {
            scopes.push((destination.service.key(), workspace, destination.mode));
        }
    }
    let owner_of = |service: &str, workspace: &str| match scopes
        .iter()
        .find(|(key, ws, _)| *key == service && ws == workspace)
    {
        Some((_, _, crate::sync::steps::EntryMode::Live)) => TimerOwner::Live,
        Some(_) => TimerOwner::Planner,
        None => TimerOwner::Nobody,
    };
    let last = store.latest_activity()?.and_then(DateTime::from_timestamp_millis);
    let idle = chrono::Duration::milliseconds(app.config.capture.idle_ms());
    let problems = timer_problems(&store.running_entries()?, owner_of, last, idle, app.now);
    let local = |at: DateTime<Utc>| at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M").to_string();
    Ok(problems
        .into_iter()
        .map(|problem| {
            let entry = &problem.entry;
            let service = <Service as clap::ValueEnum>::value_variants()
                .iter()
                .copied()
                .find(|service| service.key() == entry.destination)
                .unwrap_or(Service::Clockify);
            let which = format!(
                "the {} timer claude-tracker started at {} (workspace {}, entry {})",
                service.name(),
                local(entry.start),
                entry.workspace_id,
                entry.remote_id.as_deref().unwrap_or("?")
            );
            let past = problem.idle_since.map_or(String::new(), |last| {
                format!(" past the last activity ({}) and the idle threshold", local(last))
            });
            match problem.owner {
                TimerOwner::Live => format!(
                    "{which} is still running{past}: no watcher stopped it; run `claude-tracker watch --once` \
                     (it stops it at the last activity), and keep `watch` running or `hooks install`"
                ),
                TimerOwner::Planner => format!(
                    "{which} is still running{past} and `[{0}]` is no longer in live mode: `claude-tracker \
                     push` (sessions mode) or `sync` (workday mode) stops it at its last activity",
                    service.key()
                ),
                TimerOwner::Nobody => format!(
                    "{which} is still running{past} and no `[{0}]` destination of that workspace is configured \
                     any more: stop it in {1}, or put `[{0}]` back with `mode = \"live\"` and that workspace and \
                     run `claude-tracker watch --once`",
                    service.key(),
                    service.name()
                ),
            }
        })
        .collect())
}

/// An open connection to one destination.
pub(crate) struct Connection {
    pub(crate) timesheet: Box<dyn Timesheet>,
    pub(crate) workspace_id: String,
    pub(crate) options: ClientOptions,
    user_cache_key: Option<String>,
    /// Where the service's quota snapshot is kept, for services with quotas.
    quota_cache_key: Option<String>,
}

impl Connection {
    /// Caches what the run learnt (the Clockify user id, Toggl's quotas), so the next run
    /// need not ask and never sends what a spent quota refuses.
    pub(crate) fn remember(&mut self, store: &Store) -> Result<()> {
        if let (Some(key), Some(id)) = (&self.user_cache_key, self.timesheet.known_user_id())
            && store.cached(key)?.is_none()
        {
            store.cache(key, id)?;
        }
        if let Some(key) = &self.quota_cache_key {
            // Merged with what other processes stored meanwhile: a stale figure never overwrites a 402.
            if let Some(stored) = store.cached(key)? {
                self.timesheet.restore_quota(&stored);
            }
            store.cache(key, &self.timesheet.quota_snapshot())?;
        }
        Ok(())
    }

    /// Takes in what other processes stored of the quotas since this connection last looked (a
    /// long-running watcher, each pass).
    pub(crate) fn catch_up(&mut self, store: &Store) -> Result<()> {
        if let Some(stored) =
            self.quota_cache_key.as_ref().map(|key| store.cached(key)).transpose()?.flatten()
        {
            self.timesheet.restore_quota(&stored);
        }
        Ok(())
    }
}

/// Opens a connection: the key, a client, and the workspace (Toggl's default one is looked up once with
/// `GET /me` and cached).
pub(crate) fn connect(app: &App, destination: &Destination, store: &Store) -> Result<Connection> {
    let key = key_for(app, destination.service)?;
    let options = client_options(app, destination.service);
    let base_url = &destination.base_url;
    let mut quota_cache_key = None;
    let (timesheet, workspace_id, user_cache_key): (Box<dyn Timesheet>, String, Option<String>) =
        match destination.service {
            Service::Clockify => {
                let workspace_id = destination.workspace_id.clone().ok_or_else(|| {
                    anyhow::anyhow!(
                        "set `[clockify] workspace_id` (`claude-tracker setup` lists your workspaces)"
                    )
                })?;
                let cache_key = clockify_user_key(base_url, &key);
                let timesheet = ClockifyTimesheet {
                    client: clockify(app, base_url, key),
                    workspace_id: workspace_id.clone(),
                    user_id: store.cached(&cache_key)?,
                    create_tags: app.config.clockify.create_tags,
                    tag_ids: None,
                };
                (Box::new(timesheet), workspace_id, Some(cache_key))
            }
            Service::Toggl => {
                let cached = store.cached(&toggl_workspace_key(base_url, Some(&key)))?;
                let mut client = toggl(app, base_url, key.clone());
                // A quota spent by an earlier process holds this one back until its reset.
                if let Some(snapshot) = store.cached(&toggl_quota_key(base_url, &key))? {
                    client.restore_quota(&snapshot);
                }
                quota_cache_key = Some(toggl_quota_key(base_url, &key));
                let workspace_id = match destination.workspace_id.clone().or(cached) {
                    Some(id) => id,
                    None => toggl_default_workspace(&mut client, base_url, &key, store)?,
                };
                (Box::new(TogglTimesheet { client, workspace_id: workspace_id.clone() }), workspace_id, None)
            }
        };
    Ok(Connection { timesheet, workspace_id, options, user_cache_key, quota_cache_key })
}

/// Where one Toggl account's quota snapshot is kept (per token: quotas are the user's).
fn toggl_quota_key(base_url: &str, token: &ApiKey) -> String {
    format!("toggl_quota:{base_url}:{:016x}", xxh3_64(token.expose().as_bytes()))
}

fn toggl_default_workspace(
    client: &mut Toggl,
    base_url: &str,
    token: &ApiKey,
    store: &Store,
) -> Result<String> {
    let me = client.me().context("Toggl Track")?;
    let id = me.default_workspace_id.map(|id| id.to_string()).ok_or_else(|| {
        anyhow::anyhow!("your Toggl profile has no default workspace: set `[toggl] workspace_id`")
    })?;
    cache_toggl_workspace(store, base_url, token, &id)?;
    Ok(id)
}

/// The `meta` key of a workspace's project ids as last listed (`status` checks mappings against it).
pub(crate) fn project_ids_key(service: Service, workspace: &str) -> String {
    format!("project_ids:{}:{workspace}", service.key())
}
