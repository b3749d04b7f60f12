//! The Clockify REST API (v1) client: paced under Clockify's 50 requests per second (`http`), retrying
//! what is safe to retry, and turning every failure into a message with Clockify's own words and what to
//! do. The API key goes into one header and nowhere else.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::http::{Answer, Auth, ClientOptions, HttpClient, ServicePolicy, error_message};
use crate::secrets::ApiKey;
use crate::sync::{NewEntry, RemoteEntry, RemoteError, Timesheet};

/// The signed-in user, from `GET /user`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub default_workspace: Option<String>,
}

/// A workspace the user belongs to.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// A project, for filling the mapping.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub client_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEntry {
    id: String,
    project_id: Option<String>,
    time_interval: WireInterval,
}

#[derive(Deserialize)]
struct WireInterval {
    start: String,
}

#[derive(Deserialize)]
struct WireCreated {
    id: String,
}

/// Page size for list endpoints.
const PAGE_SIZE: usize = 200;

/// A Clockify API client bound to one key.
pub struct Clockify {
    http: HttpClient,
}

impl Clockify {
    /// A client for `base_url` (e.g. `https://api.clockify.me/api/v1`).
    pub fn new(base_url: &str, key: ApiKey, options: ClientOptions) -> Clockify {
        Clockify { http: HttpClient::new(base_url, Auth::Header("X-Api-Key", key), options) }
    }

    /// Requests sent, retries included: the figure the benchmark counts.
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent
    }

    /// `GET /user`: checks the key and says whose it is.
    pub fn current_user(&mut self) -> Result<User, RemoteError> {
        let answer = self.send("/user", &[], None, true)?;
        parse(&answer.body, "GET /user")
    }

    /// `GET /workspaces`.
    pub fn workspaces(&mut self) -> Result<Vec<Workspace>, RemoteError> {
        let answer = self.send("/workspaces", &[], None, true)?;
        parse(&answer.body, "GET /workspaces")
    }

    /// Every project of a workspace, all pages.
    pub fn projects(&mut self, workspace_id: &str) -> Result<Vec<Project>, RemoteError> {
        let path = format!("/workspaces/{workspace_id}/projects");
        self.all_pages(&path, &[])
    }

    /// Fetches every page of a list endpoint; a page shorter than asked for is the last.
    fn all_pages<T: for<'de> Deserialize<'de>>(
        &mut self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, RemoteError> {
        let mut items = Vec::new();
        for page in 1.. {
            let mut paged: Vec<(&str, String)> = query.to_vec();
            paged.push(("page", page.to_string()));
            paged.push(("page-size", PAGE_SIZE.to_string()));
            let answer = self.send(path, &paged, None, true)?;
            let batch: Vec<T> = parse(&answer.body, path)?;
            let done = batch.len() < PAGE_SIZE;
            items.extend(batch);
            if done {
                break;
            }
        }
        Ok(items)
    }

    fn send(
        &mut self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        idempotent: bool,
    ) -> Result<Answer, RemoteError> {
        self.http.send(&mut ClockifyPolicy, path, query, body, idempotent)
    }
}

/// Clockify's part of the retry loop: only how a refusal is worded.
struct ClockifyPolicy;

impl ServicePolicy for ClockifyPolicy {
    fn refusal(&self, method: &str, path: &str, answer: &Answer) -> RemoteError {
        classify(method, path, answer)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str, what: &str) -> Result<T, RemoteError> {
    crate::http::parse(body, "Clockify", what)
}

fn classify(method: &str, path: &str, answer: &Answer) -> RemoteError {
    let hint = match answer.status {
        400 => {
            "check that the project id is in this workspace (`claude-tracker clockify projects` lists them), \
             whether the workspace requires a task, tag or description on time entries, and whether the \
             date is locked"
        }
        401 => {
            "the API key was refused: check it (Clockify: Profile settings > API) and store it again with \
             `claude-tracker setup`; a key of a regional or company account needs that region's \
             `[clockify] base_url`"
        }
        403 => {
            "this key's user may not do that in this workspace: check the workspace id and your role there"
        }
        404 => "not found: check `[sync] workspace_id` (`claude-tracker setup` lists your workspaces)",
        500..=599 => "Clockify had a problem: run `claude-tracker sync` again later",
        _ => "run again with the same command later; if it persists, check Clockify's status page",
    };
    RemoteError::Rejected {
        status: answer.status,
        request: format!("{method} {}", path.split('?').next().unwrap_or(path)),
        message: error_message(&answer.body),
        hint: hint.to_string(),
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Sync's view of Clockify: one workspace, one user.
pub struct ClockifyTimesheet {
    pub client: Clockify,
    pub workspace_id: String,
    /// Looked up (and cached by the caller) only when entries must be listed.
    pub user_id: Option<String>,
}

impl ClockifyTimesheet {
    fn user_id(&mut self) -> Result<String, RemoteError> {
        if let Some(id) = &self.user_id {
            return Ok(id.clone());
        }
        let user = self.client.current_user()?;
        self.user_id = Some(user.id.clone());
        Ok(user.id)
    }
}

impl Timesheet for ClockifyTimesheet {
    fn service(&self) -> &'static str {
        "Clockify"
    }

    fn create_entry(&mut self, entry: &NewEntry<'_>) -> Result<String, RemoteError> {
        let mut body = json!({
            "start": rfc3339(entry.start),
            "end": rfc3339(entry.end),
            "projectId": entry.project_id,
            "description": entry.description,
        });
        if let Some(billable) = entry.billable {
            body["billable"] = json!(billable);
        }
        let path = format!("/workspaces/{}/time-entries", self.workspace_id);
        let answer = self.client.send(&path, &[], Some(&body), false)?;
        let created: WireCreated = parse(&answer.body, "POST time-entries")?;
        Ok(created.id)
    }

    fn list_entries(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RemoteEntry>, RemoteError> {
        let user_id = self.user_id()?;
        let path = format!("/workspaces/{}/user/{user_id}/time-entries", self.workspace_id);
        let wire: Vec<WireEntry> =
            self.client.all_pages(&path, &[("start", rfc3339(from)), ("end", rfc3339(to))])?;
        Ok(wire
            .into_iter()
            .filter_map(|entry| {
                let start = DateTime::parse_from_rfc3339(&entry.time_interval.start).ok()?.to_utc();
                Some(RemoteEntry { id: entry.id, project_id: entry.project_id, start })
            })
            .collect())
    }

    fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn known_user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
}
