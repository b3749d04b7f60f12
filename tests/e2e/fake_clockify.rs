//! A fake of the Clockify REST API v1 (`https://api.clockify.me/api/v1`) for end-to-end tests: a tiny
//! HTTP/1.1 server on `127.0.0.1:0` (std threads, keep-alive, `Content-Length` and chunked bodies) that
//! keeps its state in memory, logs every request, and can inject faults. The HTTP plumbing is in
//! `fake_http.rs`, shared with `fake_toggl.rs`.
//!
//! # What the real API does, and where that comes from
//!
//! - **Auth**: every request carries `X-Api-Key: <key>`. Without it Clockify answers
//!   `401 {"message":"Full authentication is required to access this resource","code":1000}`
//!   (<https://clockify.me/developers-api>, "Authentication";
//!   <https://github.com/clockify/clockify_api_docs/issues/7>). A live probe recorded `401 {"code":1000}` for
//!   a missing or empty key and `401 {"code":4003}` for a wrong key (a public QA report of live probes,
//!   "clockify-api-edge-cases"; its message text for 4003 is not recorded, so ours is made up).
//! - **Errors** are JSON `{"message": "...", "code": N}`; `code` is Clockify's own number, not the HTTP
//!   status (e.g. `405 {"message":"Request method 'GET' not supported","code":3000}`,
//!   <https://github.com/lucassabreu/clockify-cli/issues/29>).
//! - **GET /user**: `id`, `email`, `name`, `activeWorkspace`, `defaultWorkspace`, `status`,
//!   `settings.timeZone`, ... **GET /workspaces**: array of `{id, name, hourlyRate, memberships, ...}`.
//!   **GET /workspaces/{id}/projects**: array of `{id, name, clientId, clientName, workspaceId, billable,
//!   archived, color, ...}`, paged by `page` (1-based, default 1) and `page-size` (default 50)
//!   (<https://clockify.me/developers-api>, "Find projects on workspace").
//! - **POST /workspaces/{id}/time-entries** body `{start, end, billable, description, projectId, taskId,
//!   tagIds, customFields}`; `start` is documented as required ISO-8601, `end` may be omitted (a running
//!   timer); answer `201` with the entry `{id, description, tagIds, userId, billable, taskId, projectId,
//!   workspaceId, timeInterval: {start, end, duration}, customFieldValues, type, hourlyRate, costRate,
//!   isLocked, ...}` (docs.clockify.me "Add a new time entry", as transcribed at
//!   <https://glama.ai/mcp/servers/@KeithHanson/clockify-mcp/blob/a3636a728afab9f4417afdac886cdfd9210fbd27/docs/03_TIME_ENTRY_API.md>).
//!   Live probes: an unknown `projectId` gives `400 {"message":"Project doesn't belong to Workspace",
//!   "code":501}`; an empty body is in fact *accepted* (start = now), which this fake does not copy: it
//!   follows the documented contract and answers 400 when `start` is missing. Start after end is an error
//!   ("Start time is greater than end time",
//!   <https://clockify.me/help/troubleshooting/common-errors-and-issues>).
//! - **Unknown workspace**: a live probe got `403 {"message":"Access Denied","code":501}` (not 404), so
//!   that is what the fake answers for any workspace, or user, the key has no access to.
//! - **GET /workspaces/{ws}/user/{user}/time-entries**: `start` / `end` (ISO-8601, e.g.
//!   `2026-11-02T00:00:00Z`): "only time entries that started after / before the specified datetime will be
//!   returned", i.e. the filter is on the entry's *start* (docs text as kept in a typed client,
//!   `GetTimeEntriesForUserFilter`; R package `clockify`, <https://rdrr.io/cran/clockify/man/time_entries.html>).
//!   `page` default 1, `page-size` default 50; the maximum page size is 5000 (Clockify support, quoted in
//!   <https://github.com/OscarValerock/Clockify-PowerBI/issues/2>), and a larger one is rejected with
//!   `400 "Page size cannot be larger than 5,000."` (live probe), not capped. `page=0` or negative is
//!   treated as page 1 (live probe). Ordering is not documented; the fake answers newest start first, which
//!   is what clients observe. The old docs warn that `start`/`end` were read in the profile's time zone; the
//!   fake reads them as the UTC instants they spell.
//! - **Date-times** are returned in UTC with second precision and a `Z`, e.g. `"2023-08-28T05:48:00Z"`;
//!   `duration` is ISO-8601, e.g. `"PT2H54M"` (Clockify-API-response notes found by the search tool; the old
//!   API docs, <https://clockify.github.io/clockify_api_docs/>, "Time Zones": stored in UTC).
//! - **PUT /workspaces/{ws}/time-entries/{id}** ("Update time entry on workspace") takes the same body as
//!   a create and answers `200` with the entry; **DELETE** the same path answers `204` with no body; an
//!   id the workspace does not hold answers `404` (message made up). **PATCH
//!   /workspaces/{ws}/user/{user}/time-entries** `{"end": ...}` ("Stop currently running timer") sets the
//!   end of the user's running entry and answers `200` with it; with no timer running Clockify answers
//!   `404` (a typed client's notes: "Clockify answers 404 if no timer is running"); `end` defaults to now.
//!   **GET** the user's time-entries with `in-progress=true` lists only the running entry. A user has one
//!   timer: starting one (a create without `end`) stops the one running at the new start (what the web
//!   app does; not stated in the API docs).
//! - **Tags** ("Find tags on workspace", "Add a new tag"): `GET /workspaces/{ws}/tags` lists `{id, name,
//!   workspaceId, archived}`, paged like projects; `POST /workspaces/{ws}/tags` `{"name"}` answers `201` with
//!   the tag, `400` when the name exists (message made up). Time entries carry `tagIds`; an id the
//!   workspace does not hold is refused with `400` (message made up).
//! - **Rate limits**: "Workspaces on any paid plan maintain the standard limit of 50 requests per second";
//!   "Newly created workspaces on the Free plan are restricted to 30 API requests per hour for the entire
//!   workspace" (<https://clockify.me/help/getting-started/webhook-and-api-limitations>, 2026). The API docs
//!   say exceeding it gives an error "Too many requests" (<https://docs.clockify.me/#section/Rate-limiting>,
//!   as quoted in typed clients); clients see HTTP 429 with a JSON body that decodes as
//!   `{message, code}` (<https://github.com/lucassabreu/clockify-cli/issues/262>, "Too Many Requests (code:
//!   429)"). Whether Clockify sends `Retry-After` is not documented anywhere found; the fake always does,
//!   so a client that honours it is exercised.
//!
//! # Fake-specific behaviour
//!
//! - One user (`user-1`, time zone `Europe/Berlin`) in workspace `ws-1` ("Acme"); more workspaces and
//!   projects via [`FakeClockify::add_workspace`] / [`FakeClockify::add_project`].
//! - Error messages marked "fake" below are not Clockify's verbatim text.
//! - A page holds exactly `page-size` items (the last one fewer); a `page-size` above 5000 is rejected
//!   with 400 as Clockify does. Tests that need paging store more entries than one page holds.
//! - The rate limiter is a sliding one-second window over the requests it admitted (all paths, all
//!   workspaces); 0 turns it off. Requests answered from the fault queue by `Status` / `TooManyRequests`
//!   bypass it.
//! - [`LoggedRequest::status`] is 0 when no response was sent (`StoreThenDrop`, `StoreThenStall`).

// A support module: not every helper is used by every test build.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::fake_http::{
    Answer, Handler, Request, Response, Server, Shared, parse_query, query_value, reason, take_fault,
    test_get, test_post,
};

pub const API_KEY: &str = "fake-clockify-key-0123456789";
pub const USER_ID: &str = "user-1";
pub const USER_NAME: &str = "Fake User";
pub const USER_EMAIL: &str = "fake.user@example.com";
pub const USER_TIME_ZONE: &str = "Europe/Berlin";
pub const WORKSPACE_ID: &str = "ws-1";
pub const WORKSPACE_NAME: &str = "Acme";
/// Clockify's own ceiling on `page-size`; above it the real API answers 400.
pub const CLOCKIFY_MAX_PAGE_SIZE: usize = 5000;
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const DEFAULT_RATE_LIMIT: u32 = 50;

/// A stored time entry. `start` / `end` are as Clockify returns them (`2026-11-02T08:00:00Z`); `end` is
/// empty for a running timer.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub project_id: Option<String>,
    pub start: String,
    pub end: String,
    pub description: String,
    pub billable: bool,
    /// Ids of the workspace's tags.
    pub tag_ids: Vec<String>,
}

/// One request as the fake saw it. `status` is 0 when no response was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with a Clockify-like JSON error body; store nothing.
    Status(u16),
    /// 429 with `Retry-After: <retry_after_secs>`.
    TooManyRequests { retry_after_secs: u64 },
    /// Process normally, but wait before answering.
    Slow { delay_ms: u64 },
    /// Process normally (a POST stores its entry), then close the connection without sending a byte.
    StoreThenDrop,
    /// Process normally, then hold the connection open without answering for `stall_ms`, then close it.
    StoreThenStall { stall_ms: u64 },
}

#[derive(Clone, Debug)]
struct Project {
    workspace_id: String,
    id: String,
    name: String,
    client: String,
    archived: bool,
}

struct State {
    workspaces: Vec<(String, String)>,
    projects: Vec<Project>,
    /// `(workspace, id, name)`.
    tags: Vec<(String, String, String)>,
    entries: Vec<Entry>,
    log: Vec<LoggedRequest>,
    faults: VecDeque<(String, Fault)>,
    rate_limit: u32,
    admitted: VecDeque<Instant>,
    id_prefix: u32,
    next_id: u64,
}

/// The running fake. Dropping it stops the server and joins its threads.
pub struct FakeClockify {
    server: Server,
    shared: Arc<Shared<State>>,
}

impl FakeClockify {
    pub fn start() -> FakeClockify {
        let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let state = State {
            workspaces: vec![(WORKSPACE_ID.to_string(), WORKSPACE_NAME.to_string())],
            projects: Vec::new(),
            tags: Vec::new(),
            entries: Vec::new(),
            log: Vec::new(),
            faults: VecDeque::new(),
            rate_limit: DEFAULT_RATE_LIMIT,
            admitted: VecDeque::new(),
            id_prefix: seconds as u32,
            next_id: fastrand::u64(..1 << 40),
        };
        let shared = Arc::new(Shared::new(state));
        let server = Server::start("fake-clockify", shared.clone());
        FakeClockify { server, shared }
    }

    /// `http://127.0.0.1:PORT/api/v1`, the counterpart of `https://api.clockify.me/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v1", self.server.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    pub fn add_project(&self, workspace_id: &str, id: &str, name: &str, client: &str) {
        self.shared.state().projects.push(Project {
            workspace_id: workspace_id.to_string(),
            id: id.to_string(),
            name: name.to_string(),
            client: client.to_string(),
            archived: false,
        });
    }

    /// Marks a project archived (it stays listed, with `archived: true`).
    pub fn archive_project(&self, workspace_id: &str, id: &str) {
        let mut state = self.shared.state();
        for project in state.projects.iter_mut().filter(|p| p.workspace_id == workspace_id && p.id == id) {
            project.archived = true;
        }
    }

    /// Adds a tag to a workspace.
    pub fn add_tag(&self, workspace_id: &str, id: &str, name: &str) {
        self.shared.state().tags.push((workspace_id.to_string(), id.to_string(), name.to_string()));
    }

    /// The workspace's tags as `(id, name)`, in creation order.
    pub fn tags(&self, workspace_id: &str) -> Vec<(String, String)> {
        let state = self.shared.state();
        state.tags.iter().filter(|t| t.0 == workspace_id).map(|t| (t.1.clone(), t.2.clone())).collect()
    }

    /// Adds a workspace the user is a member of.
    pub fn add_workspace(&self, id: &str, name: &str) {
        self.shared.state().workspaces.push((id.to_string(), name.to_string()));
    }

    /// Every stored time entry, in creation order.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.state().entries.clone()
    }

    /// Stores an entry as if another machine had created it. Use Clockify's date-time form for
    /// `start` / `end` (`2026-11-02T08:00:00Z`).
    pub fn insert_entry(&self, entry: Entry) {
        self.shared.state().entries.push(entry);
    }

    /// Every request so far, faults included, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.state().log.clone()
    }

    /// Queues a fault for the next request with this method (FIFO per method; several may be queued).
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared.state().faults.push_back((method.to_ascii_uppercase(), fault));
    }

    /// Requests admitted per sliding second over all requests; above it: 429 + `Retry-After: 1`.
    /// Default 50 (Clockify's paid-plan limit); 0 turns the limit off.
    pub fn set_rate_limit(&self, per_second: u32) {
        let mut state = self.shared.state();
        state.rate_limit = per_second;
        state.admitted.clear();
    }
}

// ---------------------------------------------------------------------------------------------------
// The API

fn ok(status: u16, body: Value) -> Response {
    Response::new(status, "application/json", body.to_string())
}

/// Clockify's error shape: `{"message": ..., "code": ...}`.
fn error(status: u16, message: &str, code: u32) -> Response {
    ok(status, json!({ "message": message, "code": code }))
}

fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut reply = error(429, "Too many requests", 429);
    reply.headers.push(("Retry-After".to_string(), retry_after_secs.to_string()));
    reply
}

fn access_denied() -> Response {
    error(403, "Access Denied", 501)
}

impl Handler for Shared<State> {
    fn handle(&self, request: &Request) -> Answer {
        let mut state = self.state();
        let fault = take_fault(&mut state.faults, &request.method);
        let reply = match &fault {
            Some(Fault::Status(status)) => error(*status, reason(*status), u32::from(*status)),
            Some(Fault::TooManyRequests { retry_after_secs }) => too_many_requests(*retry_after_secs),
            _ => state.process(request),
        };
        let answer = match fault {
            Some(Fault::Slow { delay_ms }) => {
                Answer::Respond { response: reply, delay: Duration::from_millis(delay_ms) }
            }
            Some(Fault::StoreThenDrop) => Answer::Drop,
            Some(Fault::StoreThenStall { stall_ms }) => Answer::Stall(Duration::from_millis(stall_ms)),
            _ => Answer::now(reply),
        };
        state.log.push(LoggedRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            status: answer.status(),
        });
        answer
    }

    fn malformed(&self, what: &str) -> Response {
        self.state().log.push(LoggedRequest {
            method: String::new(),
            path: String::new(),
            query: String::new(),
            status: 400,
        });
        error(400, &format!("Malformed HTTP request: {what}"), 400)
    }
}

enum Route<'a> {
    User,
    Workspaces,
    Workspace(&'a str),
    Projects(&'a str),
    TimeEntries(&'a str),
    TimeEntry(&'a str, &'a str),
    Tags(&'a str),
    UserTimeEntries(&'a str, &'a str),
}

impl Route<'_> {
    fn allows(&self, method: &str) -> bool {
        let methods: &[&str] = match self {
            Route::TimeEntries(_) => &["POST"],
            Route::TimeEntry(..) => &["PUT", "DELETE"],
            Route::Tags(_) => &["GET", "POST"],
            Route::UserTimeEntries(..) => &["GET", "PATCH"],
            _ => &["GET"],
        };
        methods.contains(&method)
    }
}

fn route<'a>(segments: &[&'a str]) -> Option<Route<'a>> {
    Some(match segments {
        ["user"] => Route::User,
        ["workspaces"] => Route::Workspaces,
        ["workspaces", ws] => Route::Workspace(ws),
        ["workspaces", ws, "projects"] => Route::Projects(ws),
        ["workspaces", ws, "time-entries"] => Route::TimeEntries(ws),
        ["workspaces", ws, "time-entries", id] => Route::TimeEntry(ws, id),
        ["workspaces", ws, "tags"] => Route::Tags(ws),
        ["workspaces", ws, "user", user, "time-entries"] => Route::UserTimeEntries(ws, user),
        _ => return None,
    })
}

impl State {
    fn process(&mut self, request: &Request) -> Response {
        let Some(rest) = request.path.strip_prefix("/api/v1") else {
            return error(404, "Not Found (fake: only /api/v1 is served)", 404);
        };
        if self.rate_limit > 0 {
            let now = Instant::now();
            while self.admitted.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                self.admitted.pop_front();
            }
            if self.admitted.len() >= self.rate_limit as usize {
                return too_many_requests(1);
            }
            self.admitted.push_back(now);
        }
        match request.header("x-api-key") {
            None | Some("") => {
                return error(401, "Full authentication is required to access this resource", 1000);
            }
            Some(key) if key != API_KEY => return error(401, "Api key does not exist (fake)", 4003),
            Some(_) => {}
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let Some(route) = route(&segments) else {
            return error(404, "Not Found", 404);
        };
        if !route.allows(&request.method) {
            return error(405, &format!("Request method '{}' is not supported", request.method), 3000);
        }
        let query = parse_query(&request.query);
        match route {
            Route::User => ok(200, self.user_json()),
            Route::Workspaces => ok(
                200,
                Value::Array(self.workspaces.iter().map(|(id, name)| workspace_json(id, name)).collect()),
            ),
            Route::Workspace(ws) => match self.workspace_name(ws) {
                Some(name) => ok(200, workspace_json(ws, name)),
                None => access_denied(),
            },
            Route::Projects(ws) => self.list_projects(ws, &query),
            Route::TimeEntries(ws) => self.create_entry(ws, &request.body),
            Route::TimeEntry(ws, id) if request.method == "PUT" => self.update_entry(ws, id, &request.body),
            Route::TimeEntry(ws, id) => self.delete_entry(ws, id),
            Route::Tags(ws) if request.method == "POST" => self.create_tag(ws, &request.body),
            Route::Tags(ws) => self.list_tags(ws, &query),
            Route::UserTimeEntries(ws, user) if request.method == "PATCH" => {
                self.stop_timer(ws, user, &request.body)
            }
            Route::UserTimeEntries(ws, user) => self.list_entries(ws, user, &query),
        }
    }

    fn workspace_name(&self, id: &str) -> Option<&str> {
        self.workspaces.iter().find(|(w, _)| w == id).map(|(_, name)| name.as_str())
    }

    fn user_json(&self) -> Value {
        json!({
            "id": USER_ID,
            "email": USER_EMAIL,
            "name": USER_NAME,
            "activeWorkspace": WORKSPACE_ID,
            "defaultWorkspace": WORKSPACE_ID,
            "status": "ACTIVE",
            "profilePicture": "",
            "memberships": [],
            "customFields": [],
            "settings": {
                "timeZone": USER_TIME_ZONE,
                "weekStart": "MONDAY",
                "timeFormat": "HOUR24",
                "dateFormat": "DD/MM/YYYY",
            },
        })
    }

    fn paging(&self, query: &[(String, String)]) -> Result<(usize, usize), Response> {
        let page = match query_value(query, "page") {
            None => 1,
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if n >= 1 => n as usize,
                Ok(_) => 1,
                Err(_) => return Err(error(400, &format!("Invalid value for page: '{text}' (fake)"), 400)),
            },
        };
        let size = match query_value(query, "page-size") {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.trim().parse::<i64>() {
                Ok(n) if n > CLOCKIFY_MAX_PAGE_SIZE as i64 => {
                    return Err(error(400, "Page size cannot be larger than 5,000.", 501));
                }
                Ok(n) if n >= 1 => n as usize,
                Ok(_) => DEFAULT_PAGE_SIZE,
                Err(_) => {
                    return Err(error(400, &format!("Invalid value for page-size: '{text}' (fake)"), 400));
                }
            },
        };
        Ok((page, size))
    }

    fn list_projects(&self, ws: &str, query: &[(String, String)]) -> Response {
        if self.workspace_name(ws).is_none() {
            return access_denied();
        }
        let (page, size) = match self.paging(query) {
            Ok(paging) => paging,
            Err(reply) => return reply,
        };
        let archived_filter = query_value(query, "archived").map(|v| v.eq_ignore_ascii_case("true"));
        let projects: Vec<Value> = self
            .projects
            .iter()
            .filter(|p| p.workspace_id == ws)
            .filter(|p| archived_filter.is_none_or(|archived| p.archived == archived))
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(project_json)
            .collect();
        ok(200, Value::Array(projects))
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:08x}{:016x}", self.id_prefix, self.next_id)
    }

    /// Reads the body of a create or an update: what the entry is to hold (its id aside).
    fn entry_fields(&self, ws: &str, body: &[u8]) -> Result<Entry, Response> {
        if self.workspace_name(ws).is_none() {
            return Err(access_denied());
        }
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return Err(error(400, "Malformed JSON request body (fake)", 400));
        };
        if !body.is_object() {
            return Err(error(400, "Request body must be a JSON object (fake)", 400));
        }
        let start = match body.get("start") {
            None | Some(Value::Null) => return Err(error(400, "start: must not be null (fake)", 400)),
            Some(Value::String(text)) => match parse_instant(text) {
                Some(start) => start,
                None => return Err(error(400, &format!("start: invalid date-time '{text}' (fake)"), 400)),
            },
            Some(_) => return Err(error(400, "start: must be a string (fake)", 400)),
        };
        let end = match body.get("end") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match parse_instant(text) {
                Some(end) => Some(end),
                None => return Err(error(400, &format!("end: invalid date-time '{text}' (fake)"), 400)),
            },
            Some(_) => return Err(error(400, "end: must be a string (fake)", 400)),
        };
        if end.is_some_and(|end| end < start) {
            return Err(error(400, "Start time is greater than end time", 501));
        }
        let project_id = match body.get("projectId") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if id.is_empty() => None,
            Some(Value::String(id)) => {
                if !self.projects.iter().any(|p| p.workspace_id == ws && &p.id == id) {
                    return Err(error(400, "Project doesn't belong to Workspace", 501));
                }
                Some(id.clone())
            }
            Some(_) => return Err(error(400, "projectId: must be a string (fake)", 400)),
        };
        let description = match body.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(_) => return Err(error(400, "description: must be a string (fake)", 400)),
        };
        let billable = match body.get("billable") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(error(400, "billable: must be a boolean (fake)", 400)),
        };
        let tag_ids: Vec<String> = match body.get("tagIds") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => {
                let mut known = Vec::new();
                for id in ids {
                    match id.as_str() {
                        Some(id) if self.tags.iter().any(|t| t.0 == ws && t.1 == id) => {
                            known.push(id.to_string())
                        }
                        _ => {
                            return Err(error(
                                400,
                                &format!("Tag with id {id} doesn't belong to Workspace (fake)"),
                                501,
                            ));
                        }
                    }
                }
                known
            }
            Some(_) => return Err(error(400, "tagIds: must be an array (fake)", 400)),
        };
        Ok(Entry {
            id: String::new(),
            workspace_id: ws.to_string(),
            user_id: USER_ID.to_string(),
            project_id,
            start: format_instant(start),
            end: end.map(format_instant).unwrap_or_default(),
            description,
            billable,
            tag_ids,
        })
    }

    fn list_tags(&self, ws: &str, query: &[(String, String)]) -> Response {
        if self.workspace_name(ws).is_none() {
            return access_denied();
        }
        let (page, size) = match self.paging(query) {
            Ok(paging) => paging,
            Err(reply) => return reply,
        };
        let tags: Vec<Value> = self
            .tags
            .iter()
            .filter(|t| t.0 == ws)
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|t| json!({ "id": t.1, "name": t.2, "workspaceId": t.0, "archived": false }))
            .collect();
        ok(200, Value::Array(tags))
    }

    fn create_tag(&mut self, ws: &str, body: &[u8]) -> Response {
        if self.workspace_name(ws).is_none() {
            return access_denied();
        }
        let name = match serde_json::from_slice::<Value>(body).ok().and_then(|b| b.get("name").cloned()) {
            Some(Value::String(name)) if !name.trim().is_empty() => name,
            _ => return error(400, "name: must not be blank (fake)", 400),
        };
        if self.tags.iter().any(|t| t.0 == ws && t.2 == name) {
            return error(400, &format!("Tag with name '{name}' already exists (fake)"), 501);
        }
        let id = self.new_id();
        self.tags.push((ws.to_string(), id.clone(), name.clone()));
        ok(201, json!({ "id": id, "name": name, "workspaceId": ws, "archived": false }))
    }

    fn create_entry(&mut self, ws: &str, body: &[u8]) -> Response {
        let mut entry = match self.entry_fields(ws, body) {
            Ok(entry) => entry,
            Err(reply) => return reply,
        };
        if entry.end.is_empty() {
            // One timer per user: starting one stops the one running.
            for running in self.entries.iter_mut().filter(|e| e.user_id == USER_ID && e.end.is_empty()) {
                running.end.clone_from(&entry.start);
            }
        }
        entry.id = self.new_id();
        let reply = ok(201, entry_json(&entry));
        self.entries.push(entry);
        reply
    }

    fn update_entry(&mut self, ws: &str, id: &str, body: &[u8]) -> Response {
        let fields = match self.entry_fields(ws, body) {
            Ok(entry) => entry,
            Err(reply) => return reply,
        };
        match self.entries.iter_mut().find(|e| e.workspace_id == ws && e.id == id) {
            Some(entry) => {
                *entry = Entry { id: id.to_string(), ..fields };
                ok(200, entry_json(entry))
            }
            None => error(404, &format!("Time entry with id {id} doesn't exist (fake)"), 501),
        }
    }

    fn delete_entry(&mut self, ws: &str, id: &str) -> Response {
        if self.workspace_name(ws).is_none() {
            return access_denied();
        }
        match self.entries.iter().position(|e| e.workspace_id == ws && e.id == id) {
            Some(index) => {
                self.entries.remove(index);
                Response::new(204, "application/json", "")
            }
            None => error(404, &format!("Time entry with id {id} doesn't exist (fake)"), 501),
        }
    }

    fn stop_timer(&mut self, ws: &str, user: &str, body: &[u8]) -> Response {
        if self.workspace_name(ws).is_none() || user != USER_ID {
            return access_denied();
        }
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let end = match body.get("end") {
            None | Some(Value::Null) => DateTime::<Utc>::from(SystemTime::now()),
            Some(Value::String(text)) => match parse_instant(text) {
                Some(end) => end,
                None => return error(400, &format!("end: invalid date-time '{text}' (fake)"), 400),
            },
            Some(_) => return error(400, "end: must be a string (fake)", 400),
        };
        let Some(running) =
            self.entries.iter_mut().find(|e| e.workspace_id == ws && e.user_id == user && e.end.is_empty())
        else {
            return error(404, "No time entry is running (fake)", 501);
        };
        if parse_instant(&running.start).is_some_and(|start| end < start) {
            return error(400, "Start time is greater than end time", 501);
        }
        running.end = format_instant(end);
        ok(200, entry_json(running))
    }

    fn list_entries(&self, ws: &str, user: &str, query: &[(String, String)]) -> Response {
        if self.workspace_name(ws).is_none() || user != USER_ID {
            return access_denied();
        }
        let mut bounds = [None, None];
        for (slot, name) in bounds.iter_mut().zip(["start", "end"]) {
            if let Some(text) = query_value(query, name) {
                match parse_instant(text) {
                    Some(at) => *slot = Some(at),
                    None => return error(400, &format!("{name}: invalid date-time '{text}' (fake)"), 400),
                }
            }
        }
        let [from, to] = bounds;
        let (page, size) = match self.paging(query) {
            Ok(paging) => paging,
            Err(reply) => return reply,
        };
        let in_progress = query_value(query, "in-progress").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        // Newest created first, then a stable sort on start: equal starts stay newest-created first.
        let mut selected: Vec<(Option<DateTime<Utc>>, &Entry)> = self
            .entries
            .iter()
            .rev()
            .filter(|e| e.workspace_id == ws && e.user_id == user)
            .filter(|e| !in_progress || e.end.is_empty())
            .map(|e| (parse_instant(&e.start), e))
            .filter(|(start, _)| match start {
                Some(start) => from.is_none_or(|f| *start >= f) && to.is_none_or(|t| *start <= t),
                None => from.is_none() && to.is_none(),
            })
            .collect();
        selected.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
        let page: Vec<Value> = selected
            .into_iter()
            .skip((page - 1).saturating_mul(size))
            .take(size)
            .map(|(_, e)| entry_json(e))
            .collect();
        ok(200, Value::Array(page))
    }
}

fn workspace_json(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "hourlyRate": { "amount": 0, "currency": "EUR" },
        "memberships": [],
        "imageUrl": "",
        "featureSubscriptionType": null,
    })
}

fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "clientId": if p.client.is_empty() { String::new() } else { format!("client-{}", p.client) },
        "clientName": p.client,
        "workspaceId": p.workspace_id,
        "billable": false,
        "archived": p.archived,
        "color": "#03A9F4",
        "public": true,
        "template": false,
        "note": "",
        "duration": "PT0S",
        "memberships": [],
        "hourlyRate": null,
        "costRate": null,
    })
}

fn entry_json(e: &Entry) -> Value {
    let end = if e.end.is_empty() { Value::Null } else { Value::String(e.end.clone()) };
    let duration = match (parse_instant(&e.start), parse_instant(&e.end)) {
        (Some(start), Some(end)) => Value::String(iso_duration((end - start).num_seconds())),
        _ => Value::Null,
    };
    json!({
        "id": e.id,
        "description": e.description,
        "tagIds": e.tag_ids,
        "userId": e.user_id,
        "billable": e.billable,
        "taskId": null,
        "projectId": e.project_id,
        "workspaceId": e.workspace_id,
        "timeInterval": { "start": e.start, "end": end, "duration": duration },
        "customFieldValues": [],
        "type": "REGULAR",
        "kioskId": null,
        "hourlyRate": null,
        "costRate": null,
        "isLocked": false,
    })
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Clockify's form: UTC, whole seconds, `Z`.
fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// ISO-8601 duration as Clockify writes it: `PT2H54M`, `PT45S`, `PT0S`.
fn iso_duration(seconds: i64) -> String {
    if seconds <= 0 {
        return "PT0S".to_string();
    }
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 {
        out.push_str(&format!("{s}S"));
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// Tests of the fake itself

fn test_agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(timeout).build().into()
}

struct Answered {
    status: u16,
    retry_after: Option<String>,
    json: Value,
}

fn answered(mut response: ureq::http::Response<ureq::Body>) -> Answered {
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = response.body_mut().read_to_string().expect("read body");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?}"));
    Answered { status, retry_after, json }
}

fn get_with(agent: &ureq::Agent, url: &str, key: Option<&str>, query: &[(&str, &str)]) -> Answered {
    answered(test_get(agent, url, key.map(|key| ("X-Api-Key", key)), query))
}

fn get(agent: &ureq::Agent, url: &str, query: &[(&str, &str)]) -> Answered {
    get_with(agent, url, Some(API_KEY), query)
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<Answered, ureq::Error> {
    test_post(agent, url, ("X-Api-Key", API_KEY), body).map(answered)
}

fn entry_body(start: &str, end: &str, project: Option<&str>, description: &str) -> Value {
    json!({ "start": start, "end": end, "projectId": project, "description": description, "billable": true })
}

#[test]
fn fake_clockify_auth() {
    let fake = FakeClockify::start();
    let agent = test_agent(None);
    let user_url = format!("{}/user", fake.base_url());

    let missing = get_with(&agent, &user_url, None, &[]);
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json,
        json!({"message": "Full authentication is required to access this resource", "code": 1000})
    );

    let wrong = get_with(&agent, &user_url, Some("not-the-key"), &[]);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json["code"], 4003);

    let user = get(&agent, &user_url, &[]);
    assert_eq!(user.status, 200);
    assert_eq!(user.json["id"], USER_ID);
    assert_eq!(user.json["activeWorkspace"], WORKSPACE_ID);
    assert_eq!(user.json["defaultWorkspace"], WORKSPACE_ID);
    assert_eq!(user.json["settings"]["timeZone"], "Europe/Berlin");

    fake.add_workspace("ws-2", "Other");
    let workspaces = get(&agent, &format!("{}/workspaces", fake.base_url()), &[]);
    assert_eq!(workspaces.status, 200);
    let names: Vec<&str> =
        workspaces.json.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme", "Other"]);

    let unknown = get(&agent, &format!("{}/workspaces/nope/projects", fake.base_url()), &[]);
    assert_eq!(unknown.status, 403);
    assert_eq!(unknown.json, json!({"message": "Access Denied", "code": 501}));

    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 200, 200, 403]);
    assert_eq!(fake.requests()[0].path, "/api/v1/user");
}

#[test]
fn fake_clockify_create_and_list_with_paging() {
    let fake = FakeClockify::start();
    let agent = test_agent(None);
    let base = fake.base_url();
    fake.add_project(WORKSPACE_ID, "p-1", "Website", "Globex");
    fake.add_project(WORKSPACE_ID, "p-2", "Backend", "");
    fake.add_project(WORKSPACE_ID, "p-3", "Mobile", "Globex");

    // Projects page by page.
    let first = get(
        &agent,
        &format!("{base}/workspaces/{WORKSPACE_ID}/projects"),
        &[("page", "1"), ("page-size", "2")],
    );
    let second = get(
        &agent,
        &format!("{base}/workspaces/{WORKSPACE_ID}/projects"),
        &[("page", "2"), ("page-size", "2")],
    );
    assert_eq!(first.json.as_array().unwrap().len(), 2);
    assert_eq!(first.json[0]["clientName"], "Globex");
    assert_eq!(first.json[0]["archived"], false);
    assert_eq!(second.json.as_array().unwrap().len(), 1);
    assert_eq!(second.json[0]["name"], "Mobile");

    let url = format!("{base}/workspaces/{WORKSPACE_ID}/time-entries");
    let created =
        post(&agent, &url, &entry_body("2026-11-02T08:00:00.000Z", "2026-11-02T09:30:00Z", Some("p-1"), "a"))
            .expect("POST answered");
    assert_eq!(created.status, 201);
    let id = created.json["id"].as_str().unwrap();
    assert_eq!(id.len(), 24);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_eq!(created.json["timeInterval"]["start"], "2026-11-02T08:00:00Z");
    assert_eq!(created.json["timeInterval"]["end"], "2026-11-02T09:30:00Z");
    assert_eq!(created.json["timeInterval"]["duration"], "PT1H30M");
    assert_eq!(created.json["userId"], USER_ID);
    assert_eq!(created.json["workspaceId"], WORKSPACE_ID);
    assert_eq!(created.json["projectId"], "p-1");
    assert_eq!(created.json["billable"], true);

    // An offset is stored as UTC.
    for (start, end, description) in [
        ("2026-11-02T11:00:00+01:00", "2026-11-02T11:45:00+01:00", "b"),
        ("2026-11-03T08:00:00Z", "2026-11-03T08:00:45Z", "c"),
        ("2026-11-01T23:00:00Z", "2026-11-02T00:30:00Z", "before the window"),
    ] {
        assert_eq!(post(&agent, &url, &entry_body(start, end, None, description)).unwrap().status, 201);
    }
    fake.insert_entry(Entry {
        id: "0123456789abcdef01234567".into(),
        workspace_id: WORKSPACE_ID.into(),
        user_id: USER_ID.into(),
        project_id: Some("p-2".into()),
        start: "2026-11-02T12:00:00Z".into(),
        end: "2026-11-02T13:00:00Z".into(),
        description: "other machine".into(),
        billable: false,
        tag_ids: Vec::new(),
    });
    let stored = fake.entries();
    assert_eq!(stored.len(), 5);
    assert_eq!(stored[1].start, "2026-11-02T10:00:00Z");
    assert_eq!(stored[1].project_id, None);
    let descriptions: Vec<&str> = stored.iter().map(|e| e.description.as_str()).collect();
    assert_eq!(descriptions, ["a", "b", "c", "before the window", "other machine"]);

    let list_url = format!("{base}/workspaces/{WORKSPACE_ID}/user/{USER_ID}/time-entries");
    let mut listed = Vec::new();
    for page in 1..=3 {
        let page = page.to_string();
        let answer = get(
            &agent,
            &list_url,
            &[
                ("start", "2026-11-02T00:00:00Z"),
                ("end", "2026-11-03T23:59:59Z"),
                ("page", &page),
                ("page-size", "2"),
            ],
        );
        assert_eq!(answer.status, 200);
        let items = answer.json.as_array().unwrap().clone();
        assert!(items.len() <= 2);
        listed.extend(items);
    }
    let listed: Vec<&str> = listed.iter().map(|e| e["description"].as_str().unwrap()).collect();
    assert_eq!(listed, ["c", "other machine", "b", "a"], "newest first, only starts inside the window");

    let too_big = get(&agent, &list_url, &[("page-size", "5001")]);
    assert_eq!(too_big.status, 400);
    assert_eq!(too_big.json["message"], "Page size cannot be larger than 5,000.");

    let other_user = get(&agent, &format!("{base}/workspaces/{WORKSPACE_ID}/user/user-2/time-entries"), &[]);
    assert_eq!(other_user.status, 403);

    let logged = fake.requests();
    let list_request =
        logged.iter().find(|r| r.path.ends_with("/time-entries") && r.method == "GET").unwrap();
    assert!(list_request.query.contains("page-size=2"), "{}", list_request.query);
}

#[test]
fn fake_clockify_rejects_unknown_project_and_missing_start() {
    let fake = FakeClockify::start();
    let agent = test_agent(None);
    let url = format!("{}/workspaces/{WORKSPACE_ID}/time-entries", fake.base_url());
    fake.add_project("ws-other", "p-elsewhere", "Elsewhere", "");

    let unknown = post(
        &agent,
        &url,
        &entry_body("2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", Some("p-elsewhere"), "x"),
    )
    .unwrap();
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json, json!({"message": "Project doesn't belong to Workspace", "code": 501}));

    let no_start = post(&agent, &url, &json!({"end": "2026-11-02T09:00:00Z", "description": "x"})).unwrap();
    assert_eq!(no_start.status, 400);

    let backwards =
        post(&agent, &url, &entry_body("2026-11-02T10:00:00Z", "2026-11-02T09:00:00Z", None, "x")).unwrap();
    assert_eq!(backwards.status, 400);

    let wrong_workspace = post(
        &agent,
        &format!("{}/workspaces/ws-nope/time-entries", fake.base_url()),
        &entry_body("2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", None, "x"),
    )
    .unwrap();
    assert_eq!(wrong_workspace.status, 403);

    assert!(fake.entries().is_empty());
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [400, 400, 400, 403]);
}

#[test]
fn fake_clockify_rate_limit_answers_429_with_retry_after() {
    let fake = FakeClockify::start();
    let agent = test_agent(None);
    let url = format!("{}/user", fake.base_url());
    fake.set_rate_limit(3);
    let statuses: Vec<u16> = (0..5).map(|_| get(&agent, &url, &[]).status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let limited = get(&agent, &url, &[]);
    assert_eq!(limited.status, 429);
    assert_eq!(limited.retry_after.as_deref(), Some("1"));
    assert_eq!(limited.json["message"], "Too many requests");

    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get(&agent, &url, &[]).status, 200, "the window slid past");

    fake.set_rate_limit(0);
    fake.fail_next("GET", Fault::TooManyRequests { retry_after_secs: 7 });
    let injected = get(&agent, &url, &[]);
    assert_eq!((injected.status, injected.retry_after.as_deref()), (429, Some("7")));
    assert_eq!(get(&agent, &url, &[]).status, 200);
}

#[test]
fn fake_clockify_fault_queue_is_fifo_per_method() {
    let fake = FakeClockify::start();
    let agent = test_agent(None);
    let user_url = format!("{}/user", fake.base_url());
    fake.fail_next("GET", Fault::Status(500));
    fake.fail_next("POST", Fault::Status(502));
    fake.fail_next("GET", Fault::Status(503));
    fake.fail_next("GET", Fault::Slow { delay_ms: 300 });

    let first = get(&agent, &user_url, &[]);
    assert_eq!((first.status, first.json["code"].as_u64()), (500, Some(500)));
    assert_eq!(get(&agent, &user_url, &[]).status, 503);
    let began = Instant::now();
    assert_eq!(get(&agent, &user_url, &[]).status, 200);
    assert!(began.elapsed() >= Duration::from_millis(300), "Slow waited");
    assert_eq!(get(&agent, &user_url, &[]).status, 200);

    let url = format!("{}/workspaces/{WORKSPACE_ID}/time-entries", fake.base_url());
    let failed =
        post(&agent, &url, &entry_body("2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", None, "x")).unwrap();
    assert_eq!(failed.status, 502);
    assert!(fake.entries().is_empty(), "a Status fault stores nothing");
}

#[test]
fn fake_clockify_store_then_drop_closes_without_a_response() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let fake = FakeClockify::start();
    let agent = test_agent(Some(Duration::from_secs(10)));
    let url = format!("{}/workspaces/{WORKSPACE_ID}/time-entries", fake.base_url());

    fake.fail_next("POST", Fault::StoreThenDrop);
    let dropped =
        post(&agent, &url, &entry_body("2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", None, "dropped"));
    assert!(
        dropped.is_err(),
        "the client sees a transport error, got status {:?}",
        dropped.map(|a| a.status)
    );
    assert_eq!(fake.entries().len(), 1, "the entry was stored anyway");
    assert_eq!(fake.requests().last().unwrap().status, 0);

    // On a raw socket: not one byte comes back, and the server closes its side.
    fake.fail_next("POST", Fault::StoreThenDrop);
    let body = entry_body("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z", None, "raw").to_string();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "POST /api/v1/workspaces/{WORKSPACE_ID}/time-entries HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut received = Vec::new();
    let read = stream.read_to_end(&mut received);
    assert!(read.is_ok() || received.is_empty(), "{read:?}");
    assert!(received.is_empty(), "got {:?}", String::from_utf8_lossy(&received));
    assert_eq!(fake.entries().len(), 2);

    // The next POST is answered normally.
    let normal =
        post(&agent, &url, &entry_body("2026-11-02T12:00:00Z", "2026-11-02T13:00:00Z", None, "ok")).unwrap();
    assert_eq!(normal.status, 201);
    assert_eq!(fake.entries().len(), 3);
}

#[test]
fn fake_clockify_store_then_stall_holds_then_closes() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let fake = FakeClockify::start();
    let url = format!("{}/workspaces/{WORKSPACE_ID}/time-entries", fake.base_url());

    fake.fail_next("POST", Fault::StoreThenStall { stall_ms: 5_000 });
    let impatient = test_agent(Some(Duration::from_millis(300)));
    let began = Instant::now();
    let stalled =
        post(&impatient, &url, &entry_body("2026-11-02T08:00:00Z", "2026-11-02T09:00:00Z", None, "stalled"));
    assert!(stalled.is_err(), "the client times out");
    assert!(began.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.entries().len(), 1);

    // Raw: nothing for the stall, then EOF.
    fake.fail_next("POST", Fault::StoreThenStall { stall_ms: 400 });
    let body = entry_body("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z", None, "raw").to_string();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let began = Instant::now();
    write!(
        stream,
        "POST /api/v1/workspaces/{WORKSPACE_ID}/time-entries HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    assert!(received.is_empty(), "got {:?}", String::from_utf8_lossy(&received));
    assert!(began.elapsed() >= Duration::from_millis(400));
    assert_eq!(fake.entries().len(), 2);
    assert_eq!(fake.entries()[1].description, "raw");
}

#[test]
fn fake_clockify_keeps_connections_alive() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let fake = FakeClockify::start();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Two pipelined requests on one connection, then a close.
    write!(
        stream,
        "GET /api/v1/user HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n\r\n\
         GET /api/v1/workspaces HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut received = String::new();
    stream.read_to_string(&mut received).unwrap();
    assert_eq!(received.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{received}");
    assert!(received.contains("\"timeZone\":\"Europe/Berlin\""));
    assert!(received.contains("\"name\":\"Acme\""));
}
