//! The Clockify REST API (v1) client: paced under Clockify's 50 requests per second (`http`), retrying
//! what is safe to retry, and turning every failure into a message with Clockify's own words and what to
//! do. The API key goes into one header and nowhere else.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::descriptions::DescriptionLimit;
use crate::http::{Answer, Auth, ClientOptions, HttpClient, Method, Request, ServicePolicy, error_message};
use crate::pause::Pause;
use crate::secrets::ApiKey;
use crate::timesheet::{EntryDraft, RemoteEntry, RemoteError, Timesheet, whole_second};

/// The longest description Clockify takes: 3,000 characters (docs.clockify.me, "Add a new time entry"
/// and "Update time entry on a workspace": `description: string [0 .. 3000] characters`), counted as
/// its Java server counts them, in UTF-16 units (an emoji is two). Longer ones are cut to it on a word
/// boundary when the entry is planned (`notes/11-descriptions.md`).
pub(crate) const DESCRIPTION_LIMIT: DescriptionLimit = DescriptionLimit::Utf16Units(3000);

/// The signed-in user, from `GET /user`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct User {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) default_workspace: Option<String>,
}

/// A workspace the user belongs to.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Workspace {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
}

/// A project, for filling the mapping.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Project {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) client_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEntry {
    id: String,
    project_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    time_interval: WireInterval,
}

#[derive(Deserialize)]
struct WireInterval {
    start: String,
    #[serde(default)]
    end: Option<String>,
}

impl WireEntry {
    fn into_remote(self) -> Option<RemoteEntry> {
        let instant = |text: &str| DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc());
        Some(RemoteEntry {
            start: instant(&self.time_interval.start)?,
            end: self.time_interval.end.as_deref().and_then(instant),
            id: self.id,
            project_id: self.project_id,
            description: self.description.unwrap_or_default(),
        })
    }
}

#[derive(Deserialize)]
struct WireCreated {
    id: String,
}

/// Page size for list endpoints.
const PAGE_SIZE: usize = 200;

/// A Clockify API client bound to one key.
pub(crate) struct Clockify {
    http: HttpClient,
}

impl Clockify {
    /// A client for `base_url` (e.g. `https://api.clockify.me/api/v1`).
    pub(crate) fn new(base_url: &str, key: ApiKey, options: ClientOptions, pause: Pause) -> Clockify {
        Clockify { http: HttpClient::new(base_url, Auth::Header("X-Api-Key", key), options, pause) }
    }

    /// Requests sent, retries included: the figure the benchmark counts.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.http.requests_sent
    }

    /// `GET /user`: checks the key and says whose it is.
    pub(crate) fn current_user(&mut self) -> Result<User, RemoteError> {
        let answer = self.send(&Request::new(Method::Get, "/user"))?;
        parse(&answer.body, "GET /user")
    }

    /// `GET /workspaces`.
    pub(crate) fn workspaces(&mut self) -> Result<Vec<Workspace>, RemoteError> {
        let answer = self.send(&Request::new(Method::Get, "/workspaces"))?;
        parse(&answer.body, "GET /workspaces")
    }

    /// Every project of a workspace, all pages.
    pub(crate) fn projects(&mut self, workspace_id: &str) -> Result<Vec<Project>, RemoteError> {
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
            let answer = self.send(&Request::new(Method::Get, path).query(&paged))?;
            let batch: Vec<T> = parse(&answer.body, path)?;
            let done = batch.len() < PAGE_SIZE;
            items.extend(batch);
            if done {
                break;
            }
        }
        Ok(items)
    }

    fn send(&mut self, request: &Request<'_>) -> Result<Answer, RemoteError> {
        self.http.send(&mut ClockifyPolicy, request)
    }
}

/// Clockify's part of the retry loop: only how a refusal is worded.
struct ClockifyPolicy;

impl ServicePolicy for ClockifyPolicy {
    fn refusal(&self, request: &Request<'_>, answer: &Answer) -> RemoteError {
        refusal(request, answer)
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str, what: &str) -> Result<T, RemoteError> {
    crate::http::parse(body, "Clockify", what)
}

fn refusal(request: &Request<'_>, answer: &Answer) -> RemoteError {
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
        404 => "not found: check `[clockify] workspace_id` (`claude-tracker setup` lists your workspaces)",
        500..=599 => "Clockify had a problem: run `claude-tracker sync` again later",
        _ => "run again with the same command later; if it persists, check Clockify's status page",
    };
    RemoteError::Refused {
        status: answer.status,
        request: request.describe(),
        message: error_message(&answer.body),
        hint: hint.to_string(),
    }
}

/// An instant as Clockify is sent it (start, end, a timer's stop, a listing's bounds): cut to the whole
/// second by the one rule ([`whole_second`]) the Toggl client follows too, so both services get the
/// same times for the same entry.
fn rfc3339(at: DateTime<Utc>) -> String {
    whole_second(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Clockify behind the [`Timesheet`] interface: one workspace, one user.
pub(crate) struct ClockifyTimesheet {
    pub(crate) client: Clockify,
    pub(crate) workspace_id: String,
    /// Looked up (and cached by the caller) only when a request names the user.
    pub(crate) user_id: Option<String>,
    /// `[clockify] create_tags`: a tag the workspace lacks is created rather than refused.
    pub(crate) create_tags: bool,
    /// The workspace's tags by name, listed once (when an entry first carries a tag).
    pub(crate) tag_ids: Option<std::collections::HashMap<String, String>>,
}

#[derive(Deserialize)]
struct WireTag {
    id: String,
    name: String,
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

    fn entry_path(&self, id: &str) -> String {
        format!("/workspaces/{}/time-entries/{id}", self.workspace_id)
    }

    /// The ids of these tag names: the workspace's tags listed once; a missing one created when allowed.
    fn resolve_tags(&mut self, names: &[String]) -> Result<Vec<String>, RemoteError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let path = format!("/workspaces/{}/tags", self.workspace_id);
        if self.tag_ids.is_none() {
            let listed: Vec<WireTag> = self.client.all_pages(&path, &[])?;
            self.tag_ids = Some(listed.into_iter().map(|t| (t.name, t.id)).collect());
        }
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            if let Some(id) = self.tag_ids.as_ref().and_then(|known| known.get(name)) {
                ids.push(id.clone());
                continue;
            }
            if !self.create_tags {
                return Err(RemoteError::Invalid {
                    request: format!("an entry tagged `{name}`"),
                    message: format!("`{name}` is not a tag of the Clockify workspace"),
                    hint: format!(
                        "create the tag `{name}` in Clockify, or set `[clockify] create_tags = true` to let \
                         claude-tracker create it"
                    ),
                });
            }
            let body = json!({ "name": name });
            let answer = self.client.send(&Request::new(Method::Post, &path).body(&body))?;
            let created: WireTag = parse(&answer.body, "POST tags")?;
            self.tag_ids.get_or_insert_with(Default::default).insert(created.name, created.id.clone());
            ids.push(created.id);
        }
        Ok(ids)
    }

    /// The body of a create, update or start, with the draft's tags as ids.
    fn body(&mut self, draft: &EntryDraft) -> Result<serde_json::Value, RemoteError> {
        let mut body = entry_body(draft);
        let tag_ids = self.resolve_tags(&draft.tags)?;
        if !tag_ids.is_empty() {
            body["tagIds"] = json!(tag_ids);
        }
        Ok(body)
    }

    fn user_entries_path(&mut self) -> Result<String, RemoteError> {
        let user_id = self.user_id()?;
        Ok(format!("/workspaces/{}/user/{user_id}/time-entries", self.workspace_id))
    }
}

/// The body of a create, update or start: without `end` the entry runs. Start and end are cut to the
/// whole second ([`EntryDraft::in_whole_seconds`]), as for Toggl.
fn entry_body(draft: &EntryDraft) -> serde_json::Value {
    let draft = draft.clone().in_whole_seconds();
    let mut body = json!({
        "start": rfc3339(draft.start),
        "projectId": draft.project_id,
        "description": draft.description,
    });
    if let Some(end) = draft.end {
        body["end"] = json!(rfc3339(end));
    }
    if let Some(billable) = draft.billable {
        body["billable"] = json!(billable);
    }
    body
}

impl Timesheet for ClockifyTimesheet {
    fn service(&self) -> &'static str {
        "Clockify"
    }

    fn create(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
        let path = format!("/workspaces/{}/time-entries", self.workspace_id);
        let body = self.body(draft)?;
        let answer = self.client.send(&Request::new(Method::Post, &path).body(&body))?;
        let created: WireCreated = parse(&answer.body, "POST time-entries")?;
        Ok(created.id)
    }

    fn update(&mut self, id: &str, draft: &EntryDraft) -> Result<(), RemoteError> {
        let path = self.entry_path(id);
        let body = self.body(draft)?;
        self.client.send(&Request::new(Method::Put, &path).body(&body))?;
        Ok(())
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let path = self.entry_path(id);
        match self.client.send(&Request::new(Method::Delete, &path)) {
            Err(RemoteError::Refused { status: 404, .. }) | Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn list(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RemoteEntry>, RemoteError> {
        let path = self.user_entries_path()?;
        let wire: Vec<WireEntry> =
            self.client.all_pages(&path, &[("start", rfc3339(from)), ("end", rfc3339(to))])?;
        Ok(wire.into_iter().filter_map(WireEntry::into_remote).collect())
    }

    fn start(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
        self.create(&EntryDraft { end: None, ..draft.clone() })
    }

    /// Clockify stops the user's running entry (there is at most one), not an entry by id.
    fn stop(&mut self, _id: &str, at: DateTime<Utc>) -> Result<(), RemoteError> {
        let path = self.user_entries_path()?;
        let body = json!({ "end": rfc3339(at) });
        self.client.send(&Request::new(Method::Patch, &path).body(&body))?;
        Ok(())
    }

    fn running(&mut self) -> Result<Option<RemoteEntry>, RemoteError> {
        let path = self.user_entries_path()?;
        let query = [("in-progress", "true".to_string())];
        let answer = self.client.send(&Request::new(Method::Get, &path).query(&query))?;
        let wire: Vec<WireEntry> = parse(&answer.body, "GET time-entries?in-progress")?;
        Ok(wire.into_iter().filter_map(WireEntry::into_remote).find(|e| e.end.is_none()))
    }

    fn prepare_tags(&mut self, tags: &[String]) -> Result<(), RemoteError> {
        self.resolve_tags(tags).map(|_| ())
    }

    fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn known_user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same rule as Toggl's body (issue 15): start and end cut to the whole second, so both
    /// services get the same times for one entry.
    #[test]
    fn a_body_sends_start_and_end_cut_to_the_whole_second() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let draft = EntryDraft {
            start: at("2026-11-02T17:00:00.900Z"),
            end: Some(at("2026-11-02T17:10:00.100Z")),
            project_id: Some("p-1".into()),
            description: "shop (main)".into(),
            tags: Vec::new(),
            billable: Some(false),
        };
        assert_eq!(
            entry_body(&draft),
            json!({
                "start": "2026-11-02T17:00:00Z",
                "end": "2026-11-02T17:10:00Z",
                "projectId": "p-1",
                "description": "shop (main)",
                "billable": false,
            })
        );
        assert_eq!(rfc3339(at("1969-12-31T23:59:59.700Z")), "1969-12-31T23:59:59Z");
    }
}

/// Every `Timesheet` call against the fake Clockify (`tests/e2e/fake_clockify.rs`), which follows the
/// documented API.
#[cfg(test)]
mod fake_tests {
    use std::time::Duration;

    use super::*;
    use crate::fake_clockify::{self as fake, FakeClockify, Fault};

    fn timesheet(service: &FakeClockify) -> ClockifyTimesheet {
        let options = ClientOptions {
            min_interval: Duration::ZERO,
            backoff: Duration::from_millis(1),
            ..ClientOptions::clockify()
        };
        let key = ApiKey::new(fake::API_KEY).unwrap();
        ClockifyTimesheet {
            client: Clockify::new(&service.base_url(), key, options, Pause::default()),
            workspace_id: fake::WORKSPACE_ID.into(),
            user_id: None,
            create_tags: false,
            tag_ids: None,
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn draft(start: &str, end: Option<&str>, description: &str) -> EntryDraft {
        EntryDraft {
            start: at(start),
            end: end.map(at),
            project_id: Some("p-1".into()),
            description: description.into(),
            tags: Vec::new(),
            billable: Some(true),
        }
    }

    fn remote(id: &str, start: &str, end: Option<&str>, description: &str) -> RemoteEntry {
        RemoteEntry {
            id: id.into(),
            project_id: Some("p-1".into()),
            start: at(start),
            end: end.map(at),
            description: description.into(),
        }
    }

    fn calls(service: &FakeClockify) -> Vec<String> {
        service.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect()
    }

    #[test]
    fn create_update_list_start_stop_running_and_delete() {
        let service = FakeClockify::start();
        service.add_project(fake::WORKSPACE_ID, "p-1", "Shop", "Client");
        let mut clockify = timesheet(&service);
        let id =
            clockify.create(&draft("2026-11-02T09:00:00Z", Some("2026-11-02T12:00:00Z"), "Dev")).unwrap();
        clockify.update(&id, &draft("2026-11-02T09:00:00Z", Some("2026-11-02T13:00:00Z"), "Dev 2")).unwrap();
        let (from, to) = (at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z"));
        assert_eq!(
            clockify.list(from, to).unwrap(),
            vec![remote(&id, "2026-11-02T09:00:00Z", Some("2026-11-02T13:00:00Z"), "Dev 2")]
        );
        assert_eq!(clockify.running().unwrap(), None);
        let timer =
            clockify.start(&draft("2026-11-02T14:00:00Z", Some("2026-11-02T15:00:00Z"), "Live")).unwrap();
        assert_eq!(clockify.running().unwrap(), Some(remote(&timer, "2026-11-02T14:00:00Z", None, "Live")));
        clockify.stop(&timer, at("2026-11-02T14:30:00Z")).unwrap();
        assert_eq!(clockify.running().unwrap(), None);
        clockify.delete(&id).unwrap();
        clockify.delete(&id).unwrap(); // already gone: deleted all the same
        assert_eq!(
            clockify.list(from, to).unwrap(),
            vec![remote(&timer, "2026-11-02T14:00:00Z", Some("2026-11-02T14:30:00Z"), "Live")]
        );
        let user = format!("/api/v1/workspaces/{}/user/{}/time-entries", fake::WORKSPACE_ID, fake::USER_ID);
        let entries = format!("/api/v1/workspaces/{}/time-entries", fake::WORKSPACE_ID);
        assert_eq!(
            calls(&service),
            vec![
                format!("POST {entries} 201"),
                format!("PUT {entries}/{id} 200"),
                "GET /api/v1/user 200".to_string(),
                format!("GET {user} 200"),
                format!("GET {user} 200"),
                format!("POST {entries} 201"),
                format!("GET {user} 200"),
                format!("PATCH {user} 200"),
                format!("GET {user} 200"),
                format!("DELETE {entries}/{id} 204"),
                format!("DELETE {entries}/{id} 404"),
                format!("GET {user} 200"),
            ]
        );
        assert!(service.entries().iter().all(|e| e.billable));
    }

    #[test]
    fn put_and_delete_are_retried_after_a_5xx_but_patch_is_not() {
        let service = FakeClockify::start();
        service.add_project(fake::WORKSPACE_ID, "p-1", "Shop", "Client");
        let mut clockify = timesheet(&service);
        let id =
            clockify.create(&draft("2026-11-02T09:00:00Z", Some("2026-11-02T12:00:00Z"), "Dev")).unwrap();
        service.fail_next("PUT", Fault::Status(502));
        clockify.update(&id, &draft("2026-11-02T09:00:00Z", Some("2026-11-02T11:00:00Z"), "Dev")).unwrap();
        assert_eq!(service.entries()[0].end, "2026-11-02T11:00:00Z");
        clockify.start(&draft("2026-11-02T14:00:00Z", None, "Live")).unwrap();
        service.fail_next("PATCH", Fault::Status(503));
        let error = clockify.stop("any", at("2026-11-02T15:00:00Z")).unwrap_err();
        assert!(matches!(error, RemoteError::MaybeStored { .. }), "{error:?}");
        service.fail_next("DELETE", Fault::Status(500));
        clockify.delete(&id).unwrap();
        let methods: Vec<(String, u16)> =
            service.requests().into_iter().map(|r| (r.method, r.status)).collect();
        let expected: Vec<(String, u16)> = [
            ("POST", 201),
            ("PUT", 502),
            ("PUT", 200),
            ("POST", 201),
            ("GET", 200),
            ("PATCH", 503),
            ("DELETE", 500),
            ("DELETE", 204),
        ]
        .into_iter()
        .map(|(m, s)| (m.to_string(), s))
        .collect();
        assert_eq!(methods, expected);
        assert_eq!(service.entries().len(), 1, "the timer is left; the PATCH was not repeated");
    }

    #[test]
    fn stopping_with_no_timer_running_is_refused_with_a_404() {
        let service = FakeClockify::start();
        let mut clockify = timesheet(&service);
        let error = clockify.stop("any", at("2026-11-02T15:00:00Z")).unwrap_err();
        assert!(matches!(error, RemoteError::Refused { status: 404, .. }), "{error:?}");
    }
}
