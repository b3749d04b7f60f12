//! A fake of the Toggl Track API v9 (`https://api.track.toggl.com/api/v9`) for end-to-end tests: a tiny
//! HTTP/1.1 server on `127.0.0.1:0` (std threads, keep-alive, `Content-Length` and chunked bodies) that
//! keeps its state in memory, logs every request, enforces Toggl's hourly quotas and its leaky bucket,
//! and can inject faults. The HTTP plumbing is shared with `fake_clockify.rs`, in `fake_http.rs`.
//!
//! # What the real API does, and where that comes from
//!
//! - **Base URL** `https://api.track.toggl.com/api/v9`; JSON in and out; times are RFC 3339, stored in UTC
//!   (<https://engineering.toggl.com/docs/>, "The API Format").
//! - **Auth**: HTTP Basic with the API token as user name and the literal `api_token` as password,
//!   `Authorization: Basic base64(<token>:api_token)`; "If authentication fails, HTTP status code 403 is
//!   returned" (<https://engineering.toggl.com/docs/authentication>). The 403 body is plain text
//!   `Incorrect username and/or password\n` (`text/plain; charset=utf-8`, 35 bytes), as recorded in the test
//!   data of the Go client `github.com/ta9mi141/toggl-go` (track/reports tests). The docs name 403, not 401,
//!   for a bad token; the fake answers 403 for a missing header too.
//! - **Error bodies** of the v9 API are JSON-encoded strings with Go's trailing newline, e.g.
//!   `"JSON is not valid"\n` (`application/json; charset=utf-8`, 20 bytes; same toggl-go test data); clients
//!   do `response.json() as string` (a Raycast extension's Toggl client). Real messages found:
//!   `"created_with needs to be provided an a valid string"` (sic, "an a"; the server-message table of
//!   `toggl/toggldesktop`'s `Error` class (`error.h`), and toggl-go's recorded 400),
//!   `"User cannot access the selected project"` (toggldesktop's table; the Raycast client: "cached project
//!   ID no longer valid, project likely has been deleted"), `"Missing or invalid workspace_id"` (same Raycast
//!   client: "workspace ID is blank or a string"), `"Conflict with project/workspace: project needs to be in
//!   the same workspace as the time entry"` (<https://github.com/toggl/track-extension/issues/714>, a v9 POST
//!   with a project of another workspace), `"Billable is a premium feature"` (toggldesktop's table).
//!   No real text was found for a body `workspace_id` that differs from the path, for a missing `start`, or
//!   for a `duration` that contradicts `start`/`stop`; the fake's texts for those end in `(fake)`.
//! - **GET /me**: `id`, `api_token`, `email`, `fullname`, `timezone`, `default_workspace_id`,
//!   `beginning_of_week`, `image_url`, `created_at`, `updated_at`, `at`, ... **GET /me/workspaces**: array of
//!   `{id, organization_id, name, premium, admin, role, default_currency, ...}`
//!   (<https://engineering.toggl.com/docs/api/me>).
//! - **GET /workspaces/{wid}/projects**: array of `{id, workspace_id, wid, client_id, cid, name, active,
//!   is_private, color, billable, template, at, created_at, status, ...}`; no client *name* (that comes from
//!   **GET /workspaces/{wid}/clients**: `{id, wid, name, archived, at}`). Query `page` and `per_page`:
//!   "Number of items per page, default 151. Cannot exceed 200"; `active` = `true`/`false`/`both`
//!   (<https://engineering.toggl.com/docs/api/projects>, as mirrored at
//!   <https://community.toggl.com/t/projects-endpoints-get-workspace-projects/370>). v8 documented `active`
//!   as defaulting to `true`; the fake does the same. What happens above 200 is not documented; a public
//!   Raycast client sends `per_page=500` and works, so the fake caps at 200 instead of failing.
//! - **POST /workspaces/{workspace_id}/time_entries** body: `created_with` ("Must be provided when creating a
//!   time entry"), `workspace_id` (`wid` legacy), `start`, `stop`, `duration` ("For running entries should be
//!   negative, preferable -1"), `project_id` (`pid` legacy), `task_id`, `description`, `tags` (tag *names*;
//!   unknown names are created), `tag_ids`, `billable` ("optional, default false")
//!   (<https://engineering.toggl.com/docs/api/time_entries>, mirrored at
//!   <https://community.toggl.com/t/time-entries-endpoints-post-time-entries/185>). Answer `200` with the
//!   entry `{id, workspace_id, wid, project_id, pid, task_id, billable, start, stop, duration, description,
//!   tags, tag_ids, duronly, at, server_deleted_at, user_id, uid}`; integer ids; `start`/`stop` in UTC as
//!   `2026-11-02T08:00:00+00:00`; `tags`/`tag_ids` are "null if tags were not provided".
//! - **GET /me/time_entries**: `start_date` / `end_date`: "Get entries with start time, from start_date
//!   YYYY-MM-DD or with time in RFC3339 format. To be used with end_date" / "... until end_date ..."; also
//!   `since`, `before`, `meta` (ignored by the fake). No paging (same docs page). At most 1,000 entries:
//!   "The limit of returned time entries is 1000. So only the first 1000 found time entries are returned"
//!   (the v8 docs, <https://github.com/toggl/toggl_api_docs/blob/master/chapters/time_entries.md>; the v9
//!   page names no limit, v9 clients report the same cap, see `notes/03-toggl-csv.md`, "Listing limits").
//!   The fake answers the entries whose start is in `[start_date, end_date)`, newest first, cut after
//!   [`TIME_ENTRIES_LIST_LIMIT`], and reads a bare date as UTC midnight.
//! - **Quotas** (since 5 September 2025): requests that "point to a specific workspace or organization" are
//!   capped per user per organization per sliding hour: Free 30, Starter 240, Premium 600; "user-specific"
//!   requests such as `/me` have "a 30-request per hour limit per user, regardless of the subscription plan";
//!   "When you reach your limit, the server responds with an HTTP 402 status code"
//!   (<https://support.toggl.com/en/articles/11484112-api-webhook-limits>; 30/hour for `/me` also confirmed
//!   by Toggl support in <https://github.com/blueshiftone/streamdeck-toggl/issues/13>). "Usage amounts will
//!   also be displayed within response headers"
//!   (<https://support.toggl.com/en/articles/11623558-faqs-about-api-limits>):
//!   `X-Toggl-Quota-Remaining` and `X-Toggl-Quota-Resets-In` (seconds) on every answer
//!   (<https://github.com/beauraines/toggl-cli/pull/227>; the Focus API docs explain the 402,
//!   <https://engineering.toggl.com/docs/focus>). The 402 body is plain text, e.g.
//!   `You have hit your hourly limit for API calls. Your quota will reset in 1838 seconds.` (a Rust Toggl
//!   CLI's test `maps_hourly_limit_402_to_official_usage_limit_error`; another client's tests spell it
//!   `... The quota will reset in 133 seconds.`). The fake uses the first form, see [`quota_exhausted_body`].
//! - **Leaky bucket**: "When a limit has been hit the request will get a HTTP 429 response ... a safe window
//!   will be 1 request per second" (<https://engineering.toggl.com/docs/>); the 429 comes from nginx as an
//!   HTML page (<https://github.com/7eggs/node-toggl-api/issues/15>), copied in [`TOO_MANY_REQUESTS_BODY`].
//! - **Paid features**: a free workspace answers 402 when a request uses a premium field ("Request tried to
//!   utilized Premium functionality on workspace which is not Premium!" is how `AuHau/toggl-cli` reports a
//!   402; <https://github.com/kostajh/taskwarrior-time-tracking-hook/issues/31>). The body the fake sends is
//!   `"Billable is a premium feature"\n` ([`PAID_FEATURE_MESSAGE`]).
//!
//! # Fake-specific behaviour
//!
//! - One user ([`USER_ID`], time zone `Europe/Berlin`) in workspace [`WORKSPACE_ID`] "Acme" of organization
//!   [`ORGANIZATION_ID`]; more workspaces via [`FakeToggl::add_workspace`]. A workspace the user is not in
//!   answers `403 "User does not have access to this resource."` (the docs' description of the 403).
//! - Request classes: paths under `/api/v9/me` are the "me" class, every other `/api/v9/...` path the
//!   "workspace" class (one organization, so one counter). Every answered request of an authenticated user
//!   counts, errors (400, 404, paid-feature 402, [`Fault::Status`]) included; not counted are 403 auth
//!   failures (they carry no quota headers), 429s, and the quota 402s themselves (counting those would keep a
//!   polling client locked out forever). 429s carry the current, uncounted, quota headers when the token
//!   is right. `X-Toggl-Quota-Resets-In` is the time until the oldest counted request leaves the hour
//!   (3600 when none is counted).
//! - The leaky bucket applies to every request before anything else: a request sooner than the minimum
//!   interval after the last *admitted* request gets 429 (rejected requests do not refill the bucket).
//!   Answers from [`Fault::Status`] / [`Fault::TooManyRequests`] / [`Fault::QuotaExhausted`] bypass the
//!   bucket and the quota check.
//! - A POST or PUT needs `stop` or a `duration`. `start` and `stop` are cut to the whole second first (what
//!   is stored: Toggl keeps seconds), then a `stop` before `start` is refused, and with both `stop` and
//!   `duration`, `duration` must equal `stop - start` of the cut values (start `17:00:00.900`, stop
//!   `17:10:00.100` and duration 599 are refused: stored, that would be 600 seconds saying 599); a
//!   negative `duration` without `stop` is a running
//!   entry ([`Entry::stop`] empty).
//! - `description` is answered as `null` when empty.
//! - **Updates, deletes, timers** (v9 docs, "Time entries"): `PUT /workspaces/{wid}/time_entries/{id}`
//!   answers `200` with the entry (Toggl also takes partial bodies; the fake reads a whole entry, as our
//!   client sends one); `DELETE` the same path answers `200` with no body; `PATCH
//!   /workspaces/{wid}/time_entries/{id}/stop` stops a running entry at the server's clock and answers `200`
//!   with it, `409 "Time entry already stopped"` when it is not running; an unknown id answers
//!   `404 "Time entry not found"` (message made up). `GET /me/time_entries/current` answers the running entry
//!   or `null`. A user has one running entry: starting one stops the one running at the new start.
//! - [`LoggedRequest::status`] is 0 (and `quota_remaining` `None`) when no response was sent.

// A support module: not every helper is used by every test build.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::fake_http::{
    Answer, Handler, Request, Response, Server, Shared, parse_query, query_value, reason, take_fault,
    test_get, test_post,
};

pub const API_TOKEN: &str = "fake-toggl-token-0123456789abcdef";
/// The `Authorization` value for [`API_TOKEN`]: `Basic base64("<token>:api_token")`.
pub const AUTH_HEADER: &str = "Basic ZmFrZS10b2dnbC10b2tlbi0wMTIzNDU2Nzg5YWJjZGVmOmFwaV90b2tlbg==";
pub const USER_ID: i64 = 4242;
pub const USER_EMAIL: &str = "fake.user@example.com";
pub const USER_FULLNAME: &str = "Fake User";
pub const USER_TIME_ZONE: &str = "Europe/Berlin";
/// The user's `default_workspace_id`.
pub const WORKSPACE_ID: i64 = 777;
pub const WORKSPACE_NAME: &str = "Acme";
pub const ORGANIZATION_ID: i64 = 9001;
/// Premium plan's workspace quota per hour.
pub const DEFAULT_WORKSPACE_QUOTA: u32 = 600;
/// The `/me` quota per hour on every plan.
pub const DEFAULT_ME_QUOTA: u32 = 30;
/// "a safe window will be 1 request per second".
pub const DEFAULT_MIN_INTERVAL_MS: u64 = 1000;
pub const PROJECTS_DEFAULT_PER_PAGE: usize = 151;
pub const PROJECTS_MAX_PER_PAGE: usize = 200;
/// The most entries one `GET /me/time_entries` answers (the documented 1,000); the rest are left out.
pub const TIME_ENTRIES_LIST_LIMIT: usize = 1000;
pub const QUOTA_WINDOW: Duration = Duration::from_secs(3600);

/// The 403 body for a missing or wrong token (plain text).
pub const AUTH_FAILED_BODY: &str = "Incorrect username and/or password\n";
/// The message of the paid-feature 402 (sent as a JSON string).
pub const PAID_FEATURE_MESSAGE: &str = "Billable is a premium feature";
/// The 400 for a project of another workspace.
pub const CONFLICT_WITH_PROJECT: &str =
    "Conflict with project/workspace: project needs to be in the same workspace as the time entry";
/// nginx's 429 page (`text/html`).
pub const TOO_MANY_REQUESTS_BODY: &str = "<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n\
     <body>\r\n\
     <center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The plain-text body of a quota 402.
pub fn quota_exhausted_body(resets_in_secs: u64) -> String {
    format!(
        "You have hit your hourly limit for API calls. Your quota will reset in {resets_in_secs} seconds.\n"
    )
}

/// A stored time entry. `start` / `stop` are as Toggl answers them (`2026-11-02T08:00:00+00:00`); `stop` is
/// empty for a running entry. `tags` are names.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub workspace_id: i64,
    pub project_id: Option<i64>,
    pub start: String,
    pub stop: String,
    pub duration: i64,
    pub description: String,
    pub tags: Vec<String>,
    pub billable: bool,
    pub created_with: String,
}

/// One request as the fake saw it. `status` is 0 when no response was sent; `quota_remaining` is the
/// `X-Toggl-Quota-Remaining` sent, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub quota_remaining: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status with a Toggl-like JSON-string body; store nothing. Counts against the quota.
    Status(u16),
    /// nginx's 429 page, as the leaky bucket answers.
    TooManyRequests,
    /// The quota 402 with `X-Toggl-Quota-Remaining: 0` and `X-Toggl-Quota-Resets-In: <resets_in_secs>`.
    QuotaExhausted { resets_in_secs: u64 },
    /// Process normally (a POST stores its entry), then close the connection without sending a byte.
    StoreThenDrop,
    /// Process normally, then hold the connection open without answering for `stall_ms`, then close it.
    StoreThenStall { stall_ms: u64 },
    /// Process normally, but wait before answering.
    Slow { delay_ms: u64 },
}

#[derive(Clone, Debug)]
struct Project {
    workspace_id: i64,
    id: i64,
    name: String,
    client_id: Option<i64>,
    active: bool,
}

#[derive(Clone, Debug)]
struct Named {
    workspace_id: i64,
    id: i64,
    name: String,
}

#[derive(Clone, Debug)]
struct Stored {
    entry: Entry,
    /// Whether `tags` was sent (an empty list answers `[]`, an absent one `null`).
    tags_given: bool,
    at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Me,
    Workspace,
}

struct State {
    workspaces: Vec<(i64, String)>,
    projects: Vec<Project>,
    clients: Vec<Named>,
    tags: Vec<Named>,
    entries: Vec<Stored>,
    log: Vec<LoggedRequest>,
    faults: VecDeque<(String, Fault)>,
    workspace_quota: u32,
    me_quota: u32,
    workspace_used: VecDeque<Instant>,
    me_used: VecDeque<Instant>,
    min_interval: Duration,
    last_admitted: Option<Instant>,
    billable_is_paid: bool,
    next_id: i64,
}

/// The running fake. Dropping it stops the server and joins its threads.
pub struct FakeToggl {
    server: Server,
    shared: Arc<Shared<State>>,
}

impl FakeToggl {
    /// User [`USER_ID`] in workspace [`WORKSPACE_ID`] "Acme"; quotas 600/hour (workspace) and 30/hour (me);
    /// leaky bucket of one request per second.
    pub fn start() -> FakeToggl {
        let state = State {
            workspaces: vec![(WORKSPACE_ID, WORKSPACE_NAME.to_string())],
            projects: Vec::new(),
            clients: Vec::new(),
            tags: Vec::new(),
            entries: Vec::new(),
            log: Vec::new(),
            faults: VecDeque::new(),
            workspace_quota: DEFAULT_WORKSPACE_QUOTA,
            me_quota: DEFAULT_ME_QUOTA,
            workspace_used: VecDeque::new(),
            me_used: VecDeque::new(),
            min_interval: Duration::from_millis(DEFAULT_MIN_INTERVAL_MS),
            last_admitted: None,
            billable_is_paid: false,
            next_id: 3_000_000_000 + i64::from(fastrand::u32(..1 << 24)),
        };
        let shared = Arc::new(Shared::new(state));
        let server = Server::start("fake-toggl", shared.clone());
        FakeToggl { server, shared }
    }

    /// `http://127.0.0.1:PORT/api/v9`, the counterpart of `https://api.track.toggl.com/api/v9`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v9", self.server.addr())
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Adds an active project; `client` is a client name ("" for none), created in that workspace on
    /// first use.
    pub fn add_project(&self, workspace_id: i64, id: i64, name: &str, client: &str) {
        let mut state = self.shared.state();
        let client_id = (!client.is_empty()).then(|| state.client_id(workspace_id, client));
        state.projects.push(Project { workspace_id, id, name: name.to_string(), client_id, active: true });
    }

    /// Marks a project archived (`active: false`): listed only with `active=false|both`, refused by POST.
    pub fn archive_project(&self, workspace_id: i64, id: i64) {
        let mut state = self.shared.state();
        for project in state.projects.iter_mut().filter(|p| p.workspace_id == workspace_id && p.id == id) {
            project.active = false;
        }
    }

    /// Adds a workspace the user is a member of (same organization).
    pub fn add_workspace(&self, id: i64, name: &str) {
        self.shared.state().workspaces.push((id, name.to_string()));
    }

    /// Every stored time entry, in creation order.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.state().entries.iter().map(|s| s.entry.clone()).collect()
    }

    /// Stores an entry as if another machine had created it (any RFC 3339 form works for `start`/`stop`;
    /// listing compares instants). Its tag names are created in the workspace if new.
    pub fn insert_entry(&self, entry: Entry) {
        let mut state = self.shared.state();
        for tag in &entry.tags {
            state.tag_id(entry.workspace_id, tag);
        }
        let at = format_instant(server_now());
        let tags_given = !entry.tags.is_empty();
        state.entries.push(Stored { entry, tags_given, at });
    }

    /// Every request so far, faults included, in the order they were answered.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.state().log.clone()
    }

    /// Queues a fault for the next request with this method (FIFO per method; several may be queued).
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared.state().faults.push_back((method.to_ascii_uppercase(), fault));
    }

    /// Requests per sliding hour for the workspace class and the `/me` class. Clears the usage so far.
    pub fn set_quota(&self, workspace_per_hour: u32, me_per_hour: u32) {
        let mut state = self.shared.state();
        state.workspace_quota = workspace_per_hour;
        state.me_quota = me_per_hour;
        state.workspace_used.clear();
        state.me_used.clear();
    }

    /// Forgets the quota usage so far, as if an hour had passed.
    pub fn forget_quota_usage(&self) {
        let mut state = self.shared.state();
        state.workspace_used.clear();
        state.me_used.clear();
    }

    /// Leaky bucket: a request sooner than `ms` after the last admitted one gets 429. 0 turns it off.
    pub fn set_min_interval_ms(&self, ms: u64) {
        let mut state = self.shared.state();
        state.min_interval = Duration::from_millis(ms);
        state.last_admitted = None;
    }

    /// When on, a POST with `billable: true` gets `402 "Billable is a premium feature"` (a free workspace).
    pub fn set_billable_is_paid_feature(&self, on: bool) {
        self.shared.state().billable_is_paid = on;
    }
}

// ---------------------------------------------------------------------------------------------------
// The API

/// A response and the `X-Toggl-Quota-Remaining` it carries, if any (for the log).
struct Reply {
    response: Response,
    quota_remaining: Option<i64>,
}

impl Reply {
    fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Reply {
        Reply { response: Response::new(status, content_type, body), quota_remaining: None }
    }

    fn with_quota(mut self, remaining: i64, resets_in_secs: u64) -> Reply {
        let headers = &mut self.response.headers;
        headers.push(("X-Toggl-Quota-Remaining".to_string(), remaining.to_string()));
        headers.push(("X-Toggl-Quota-Resets-In".to_string(), resets_in_secs.to_string()));
        self.quota_remaining = Some(remaining);
        self
    }
}

const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

fn ok(body: Value) -> Reply {
    Reply::new(200, JSON, body.to_string())
}

/// A v9 error: a JSON-encoded string plus Go's newline.
fn error(status: u16, message: &str) -> Reply {
    Reply::new(status, JSON, format!("{}\n", Value::String(message.to_string())))
}

fn text(status: u16, body: &str) -> Reply {
    Reply::new(status, TEXT, body)
}

fn too_many_requests() -> Reply {
    Reply::new(429, "text/html", TOO_MANY_REQUESTS_BODY)
}

fn quota_exhausted(resets_in_secs: u64) -> Reply {
    text(402, &quota_exhausted_body(resets_in_secs)).with_quota(0, resets_in_secs)
}

fn no_access() -> Reply {
    error(403, "User does not have access to this resource.")
}

impl Handler for Shared<State> {
    fn handle(&self, request: &Request) -> Answer {
        handle(&mut self.state(), request)
    }

    fn malformed(&self, what: &str) -> Response {
        self.state().log.push(LoggedRequest {
            method: String::new(),
            path: String::new(),
            query: String::new(),
            status: 400,
            quota_remaining: None,
        });
        text(400, &format!("Malformed HTTP request: {what} (fake)\n")).response
    }
}

fn handle(state: &mut State, request: &Request) -> Answer {
    let fault = take_fault(&mut state.faults, &request.method);
    let now = Instant::now();
    let class = classify(&request.path);
    let reply = match &fault {
        Some(Fault::Status(status)) => {
            let reply = error(*status, reason(*status));
            match class {
                Some(class) => {
                    state.count(class, now);
                    let (remaining, resets_in) = state.peek(class, now);
                    reply.with_quota(remaining, resets_in)
                }
                None => reply,
            }
        }
        Some(Fault::TooManyRequests) => state.with_current_quota(too_many_requests(), class, request, now),
        Some(Fault::QuotaExhausted { resets_in_secs }) => quota_exhausted(*resets_in_secs),
        _ => state.process(request, class, now),
    };
    let Reply { response, quota_remaining } = reply;
    let answer = match fault {
        Some(Fault::Slow { delay_ms }) => {
            Answer::Respond { response, delay: Duration::from_millis(delay_ms) }
        }
        Some(Fault::StoreThenDrop) => Answer::Drop,
        Some(Fault::StoreThenStall { stall_ms }) => Answer::Stall(Duration::from_millis(stall_ms)),
        _ => Answer::now(response),
    };
    let sent = answer.status() != 0;
    state.log.push(LoggedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        status: answer.status(),
        quota_remaining: quota_remaining.filter(|_| sent),
    });
    answer
}

/// The quota class of a path; `None` outside `/api/v9`.
fn classify(path: &str) -> Option<Class> {
    let rest = path.strip_prefix("/api/v9")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let first = rest.split('/').find(|s| !s.is_empty()).unwrap_or("");
    Some(if first == "me" { Class::Me } else { Class::Workspace })
}

fn authorized(request: &Request) -> bool {
    let Some(value) = request.header("authorization") else { return false };
    let Some((scheme, encoded)) = value.split_once(' ') else { return false };
    scheme.eq_ignore_ascii_case("basic")
        && base64_decode(encoded.trim()).is_some_and(|d| d == format!("{API_TOKEN}:api_token").as_bytes())
}

enum Route {
    Me,
    MeWorkspaces,
    MeTimeEntries,
    Workspace(i64),
    Projects(i64),
    Clients(i64),
    Tags(i64),
    TimeEntries(i64),
    TimeEntry(i64, i64),
    StopEntry(i64, i64),
    MeCurrent,
}

impl Route {
    fn allows(&self, method: &str) -> bool {
        let methods: &[&str] = match self {
            Route::TimeEntries(_) => &["POST"],
            Route::TimeEntry(..) => &["PUT", "DELETE"],
            Route::StopEntry(..) => &["PATCH"],
            _ => &["GET"],
        };
        methods.contains(&method)
    }
}

/// `Ok(None)` for an unknown path; `Err` for a workspace id that is not an integer.
fn route(segments: &[&str]) -> Result<Option<Route>, Reply> {
    let workspace = |text: &str| text.parse::<i64>().map_err(|_| text_reply_parse_int(text));
    Ok(Some(match segments {
        ["me"] => Route::Me,
        ["me", "workspaces"] => Route::MeWorkspaces,
        ["me", "time_entries"] => Route::MeTimeEntries,
        ["workspaces", ws] => Route::Workspace(workspace(ws)?),
        ["workspaces", ws, "projects"] => Route::Projects(workspace(ws)?),
        ["workspaces", ws, "clients"] => Route::Clients(workspace(ws)?),
        ["workspaces", ws, "tags"] => Route::Tags(workspace(ws)?),
        ["workspaces", ws, "time_entries"] => Route::TimeEntries(workspace(ws)?),
        ["workspaces", ws, "time_entries", id] => Route::TimeEntry(workspace(ws)?, workspace(id)?),
        ["workspaces", ws, "time_entries", id, "stop"] => Route::StopEntry(workspace(ws)?, workspace(id)?),
        ["me", "time_entries", "current"] => Route::MeCurrent,
        _ => return Ok(None),
    }))
}

/// Go's `strconv.ParseInt` complaint, as Toggl sends for a non-numeric id.
fn text_reply_parse_int(text_value: &str) -> Reply {
    text(400, &format!("strconv.ParseInt: parsing \"{text_value}\": invalid syntax\n"))
}

impl State {
    fn used(&mut self, class: Class, now: Instant) -> (&mut VecDeque<Instant>, u32) {
        let (used, limit) = match class {
            Class::Me => (&mut self.me_used, self.me_quota),
            Class::Workspace => (&mut self.workspace_used, self.workspace_quota),
        };
        while used.front().is_some_and(|t| now.duration_since(*t) >= QUOTA_WINDOW) {
            used.pop_front();
        }
        (used, limit)
    }

    fn count(&mut self, class: Class, now: Instant) {
        self.used(class, now).0.push_back(now);
    }

    /// `(remaining, resets_in_secs)` without counting.
    fn peek(&mut self, class: Class, now: Instant) -> (i64, u64) {
        let (used, limit) = self.used(class, now);
        let remaining = (i64::from(limit) - used.len() as i64).max(0);
        let resets_in = match used.front() {
            Some(oldest) => {
                let left = QUOTA_WINDOW.saturating_sub(now.duration_since(*oldest));
                left.as_secs() + u64::from(left.subsec_nanos() > 0)
            }
            None => QUOTA_WINDOW.as_secs(),
        };
        (remaining, resets_in.max(1))
    }

    fn with_current_quota(
        &mut self,
        reply: Reply,
        class: Option<Class>,
        request: &Request,
        now: Instant,
    ) -> Reply {
        match class {
            Some(class) if authorized(request) => {
                let (remaining, resets_in) = self.peek(class, now);
                reply.with_quota(remaining, resets_in)
            }
            _ => reply,
        }
    }

    fn process(&mut self, request: &Request, class: Option<Class>, now: Instant) -> Reply {
        // nginx's leaky bucket comes first.
        if !self.min_interval.is_zero() {
            if self.last_admitted.is_some_and(|t| now.duration_since(t) < self.min_interval) {
                return self.with_current_quota(too_many_requests(), class, request, now);
            }
            self.last_admitted = Some(now);
        }
        let Some(class) = class else {
            return text(404, "404 page not found\n");
        };
        if !authorized(request) {
            return text(403, AUTH_FAILED_BODY);
        }
        let (remaining, resets_in) = self.peek(class, now);
        if remaining <= 0 {
            return quota_exhausted(resets_in);
        }
        self.count(class, now);
        let reply = self.route(request);
        let (remaining, resets_in) = self.peek(class, now);
        reply.with_quota(remaining, resets_in)
    }

    fn route(&mut self, request: &Request) -> Reply {
        let rest = request.path.strip_prefix("/api/v9").unwrap_or("");
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let route = match route(&segments) {
            Ok(Some(route)) => route,
            Ok(None) => return text(404, "404 page not found\n"),
            Err(reply) => return reply,
        };
        if !route.allows(&request.method) {
            return text(405, "405 method not allowed\n");
        }
        let query = parse_query(&request.query);
        match route {
            Route::Me => ok(user_json()),
            Route::MeWorkspaces => {
                let premium = !self.billable_is_paid;
                ok(Value::Array(
                    self.workspaces.iter().map(|(id, name)| workspace_json(*id, name, premium)).collect(),
                ))
            }
            Route::MeTimeEntries => self.list_entries(&query),
            Route::Workspace(ws) => match self.workspace_name(ws) {
                Some(name) => ok(workspace_json(ws, name, !self.billable_is_paid)),
                None => no_access(),
            },
            Route::Projects(ws) => self.list_projects(ws, &query),
            Route::Clients(ws) => match self.workspace_name(ws) {
                Some(_) => ok(Value::Array(
                    self.clients.iter().filter(|c| c.workspace_id == ws).map(client_json).collect(),
                )),
                None => no_access(),
            },
            Route::Tags(ws) => match self.workspace_name(ws) {
                Some(_) => ok(Value::Array(
                    self.tags.iter().filter(|t| t.workspace_id == ws).map(tag_json).collect(),
                )),
                None => no_access(),
            },
            Route::TimeEntries(ws) => self.create_entry(ws, &request.body),
            Route::TimeEntry(ws, id) if request.method == "PUT" => self.update_entry(ws, id, &request.body),
            Route::TimeEntry(ws, id) => self.delete_entry(ws, id),
            Route::StopEntry(ws, id) => self.stop_entry(ws, id),
            Route::MeCurrent => match self.entries.iter().rev().find(|s| s.entry.stop.is_empty()) {
                Some(stored) => ok(self.entry_json(stored)),
                None => ok(Value::Null),
            },
        }
    }

    fn entry_index(&self, ws: i64, id: i64) -> Result<usize, Reply> {
        if self.workspace_name(ws).is_none() {
            return Err(no_access());
        }
        self.entries
            .iter()
            .position(|s| s.entry.workspace_id == ws && s.entry.id == id)
            .ok_or_else(|| error(404, "Time entry not found"))
    }

    fn update_entry(&mut self, ws: i64, id: i64, body: &[u8]) -> Reply {
        let index = match self.entry_index(ws, id) {
            Ok(index) => index,
            Err(reply) => return reply,
        };
        let (entry, tags_given) = match self.entry_from_body(ws, body) {
            Ok(parsed) => parsed,
            Err(reply) => return reply,
        };
        let stored = Stored { entry: Entry { id, ..entry }, tags_given, at: format_instant(server_now()) };
        let reply = ok(self.entry_json(&stored));
        self.entries[index] = stored;
        reply
    }

    fn delete_entry(&mut self, ws: i64, id: i64) -> Reply {
        match self.entry_index(ws, id) {
            Ok(index) => {
                self.entries.remove(index);
                Reply::new(200, JSON, "")
            }
            Err(reply) => reply,
        }
    }

    fn stop_entry(&mut self, ws: i64, id: i64) -> Reply {
        let index = match self.entry_index(ws, id) {
            Ok(index) => index,
            Err(reply) => return reply,
        };
        let now = server_now();
        let entry = &mut self.entries[index].entry;
        if !entry.stop.is_empty() {
            return error(409, "Time entry already stopped");
        }
        let start = parse_instant(&entry.start).unwrap_or(now);
        entry.stop = format_instant(now.max(start));
        entry.duration = (now.max(start) - start).num_seconds();
        ok(self.entry_json(&self.entries[index]))
    }

    fn workspace_name(&self, id: i64) -> Option<&str> {
        self.workspaces.iter().find(|(w, _)| *w == id).map(|(_, name)| name.as_str())
    }

    fn new_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn client_id(&mut self, workspace_id: i64, name: &str) -> i64 {
        if let Some(client) = self.clients.iter().find(|c| c.workspace_id == workspace_id && c.name == name) {
            return client.id;
        }
        let id = self.new_id();
        self.clients.push(Named { workspace_id, id, name: name.to_string() });
        id
    }

    fn tag_id(&mut self, workspace_id: i64, name: &str) -> i64 {
        if let Some(tag) = self.tags.iter().find(|t| t.workspace_id == workspace_id && t.name == name) {
            return tag.id;
        }
        let id = self.new_id();
        self.tags.push(Named { workspace_id, id, name: name.to_string() });
        id
    }

    fn list_projects(&self, ws: i64, query: &[(String, String)]) -> Reply {
        if self.workspace_name(ws).is_none() {
            return no_access();
        }
        let number = |name: &str, default: usize| -> Result<usize, Reply> {
            match query_value(query, name) {
                None | Some("") => Ok(default),
                Some(text_value) => match text_value.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => Ok(n as usize),
                    Ok(_) => Ok(default),
                    Err(_) => Err(text_reply_parse_int(text_value)),
                },
            }
        };
        let page = match number("page", 1) {
            Ok(page) => page,
            Err(reply) => return reply,
        };
        let per_page = match number("per_page", PROJECTS_DEFAULT_PER_PAGE) {
            Ok(n) => n.min(PROJECTS_MAX_PER_PAGE),
            Err(reply) => return reply,
        };
        let active = match query_value(query, "active").map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("true") => Some(true),
            Some("false") => Some(false),
            Some("both") => None,
            Some(other) => return error(400, &format!("invalid value for active: '{other}' (fake)")),
        };
        let projects: Vec<Value> = self
            .projects
            .iter()
            .filter(|p| p.workspace_id == ws)
            .filter(|p| active.is_none_or(|a| p.active == a))
            .skip((page - 1).saturating_mul(per_page))
            .take(per_page)
            .map(project_json)
            .collect();
        ok(Value::Array(projects))
    }

    fn create_entry(&mut self, ws: i64, body: &[u8]) -> Reply {
        let (mut entry, tags_given) = match self.entry_from_body(ws, body) {
            Ok(parsed) => parsed,
            Err(reply) => return reply,
        };
        if entry.stop.is_empty() {
            // One running entry per user: starting one stops the one running.
            let start = parse_instant(&entry.start);
            for running in self.entries.iter_mut().map(|s| &mut s.entry).filter(|e| e.stop.is_empty()) {
                running.stop.clone_from(&entry.start);
                if let (Some(from), Some(to)) = (parse_instant(&running.start), start) {
                    running.duration = (to - from).num_seconds().max(0);
                }
            }
        }
        entry.id = self.new_id();
        let stored = Stored { entry, tags_given, at: format_instant(server_now()) };
        let reply = ok(self.entry_json(&stored));
        self.entries.push(stored);
        reply
    }

    /// Reads the body of a create or an update: the entry it describes (id 0) and whether `tags` was sent.
    fn entry_from_body(&mut self, ws: i64, body: &[u8]) -> Result<(Entry, bool), Reply> {
        if self.workspace_name(ws).is_none() {
            return Err(no_access());
        }
        let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
            return Err(error(400, "JSON is not valid"));
        };
        let created_with = match body.get("created_with") {
            Some(Value::String(text_value)) if !text_value.trim().is_empty() => text_value.clone(),
            _ => return Err(error(400, "created_with needs to be provided an a valid string")),
        };
        let body_workspace = match body.get("workspace_id").or_else(|| body.get("wid")) {
            Some(Value::Number(n)) => match n.as_i64() {
                Some(id) if id > 0 => id,
                _ => return Err(error(400, "Missing or invalid workspace_id")),
            },
            _ => return Err(error(400, "Missing or invalid workspace_id")),
        };
        if body_workspace != ws {
            return Err(error(
                400,
                &format!(
                    "workspace_id {body_workspace} in the body does not match workspace {ws} of the path \
                     (fake)"
                ),
            ));
        }
        let start = match body.get("start") {
            None | Some(Value::Null) => return Err(error(400, "start must be provided (fake)")),
            Some(Value::String(text_value)) => match parse_instant(text_value) {
                Some(start) => whole_second(start),
                None => {
                    return Err(error(400, &format!("start: invalid RFC 3339 time '{text_value}' (fake)")));
                }
            },
            Some(_) => return Err(error(400, "start must be a string (fake)")),
        };
        let stop = match body.get("stop") {
            None | Some(Value::Null) => None,
            Some(Value::String(text_value)) => match parse_instant(text_value) {
                Some(stop) => Some(whole_second(stop)),
                None => {
                    return Err(error(400, &format!("stop: invalid RFC 3339 time '{text_value}' (fake)")));
                }
            },
            Some(_) => return Err(error(400, "stop must be a string (fake)")),
        };
        let duration = match body.get("duration") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(d) => Some(d),
                None => return Err(error(400, "duration must be an integer number of seconds (fake)")),
            },
            Some(_) => return Err(error(400, "duration must be an integer number of seconds (fake)")),
        };
        let (stop, duration) = match (stop, duration) {
            (Some(stop), _) if stop < start => return Err(error(400, "stop is before start (fake)")),
            (Some(stop), Some(d)) if d != (stop - start).num_seconds() => {
                return Err(error(
                    400,
                    &format!(
                        "duration {d} does not match stop - start = {} seconds (fake)",
                        (stop - start).num_seconds()
                    ),
                ));
            }
            (Some(stop), _) => (Some(stop), (stop - start).num_seconds()),
            (None, Some(d)) if d >= 0 => {
                match chrono::TimeDelta::try_seconds(d).and_then(|d| start.checked_add_signed(d)) {
                    Some(stop) => (Some(stop), d),
                    None => return Err(error(400, "duration is out of range (fake)")),
                }
            }
            (None, Some(d)) => (None, d),
            (None, None) => return Err(error(400, "duration or stop must be provided (fake)")),
        };
        let project_id = match body.get("project_id").or_else(|| body.get("pid")) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_i64() {
                Some(0) => None,
                Some(id) => {
                    if let Some(project) = self.projects.iter().find(|p| p.id == id) {
                        if project.workspace_id != ws {
                            return Err(error(400, CONFLICT_WITH_PROJECT));
                        }
                        if !project.active {
                            return Err(error(400, "User cannot access the selected project"));
                        }
                    } else {
                        return Err(error(400, "User cannot access the selected project"));
                    }
                    Some(id)
                }
                None => return Err(error(400, "project_id must be an integer (fake)")),
            },
            Some(_) => return Err(error(400, "project_id must be an integer (fake)")),
        };
        let description = match body.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text_value)) => text_value.clone(),
            Some(_) => return Err(error(400, "description must be a string (fake)")),
        };
        let mut tags: Vec<String> = Vec::new();
        let tags_given = matches!(body.get("tags"), Some(Value::Array(_)))
            || matches!(body.get("tag_ids"), Some(Value::Array(_)));
        match body.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(name) if !name.trim().is_empty() => {
                            if !tags.contains(name) {
                                tags.push(name.clone());
                            }
                        }
                        _ => return Err(error(400, "tags must be an array of non-empty names (fake)")),
                    }
                }
            }
            Some(_) => return Err(error(400, "tags must be an array of names (fake)")),
        }
        match body.get("tag_ids") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let found = item
                        .as_i64()
                        .and_then(|id| self.tags.iter().find(|t| t.workspace_id == ws && t.id == id));
                    match found {
                        Some(tag) => {
                            if !tags.contains(&tag.name) {
                                tags.push(tag.name.clone());
                            }
                        }
                        None => {
                            return Err(error(400, &format!("tag id {item} not found in workspace (fake)")));
                        }
                    }
                }
            }
            Some(_) => return Err(error(400, "tag_ids must be an array of integers (fake)")),
        }
        let billable = match body.get("billable") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(error(400, "billable must be a boolean (fake)")),
        };
        if billable && self.billable_is_paid {
            return Err(error(402, PAID_FEATURE_MESSAGE));
        }
        for tag in &tags {
            self.tag_id(ws, tag);
        }
        let entry = Entry {
            id: 0,
            workspace_id: ws,
            project_id,
            start: format_instant(start),
            stop: stop.map(format_instant).unwrap_or_default(),
            duration,
            description,
            tags,
            billable,
            created_with,
        };
        Ok((entry, tags_given))
    }

    fn list_entries(&self, query: &[(String, String)]) -> Reply {
        let mut bounds = [None, None];
        for (slot, name) in bounds.iter_mut().zip(["start_date", "end_date"]) {
            if let Some(text_value) = query_value(query, name).filter(|v| !v.is_empty()) {
                match parse_date_or_instant(text_value) {
                    Some(at) => *slot = Some(at),
                    None => {
                        return error(
                            400,
                            &format!("{name}: expected YYYY-MM-DD or RFC 3339, got '{text_value}' (fake)"),
                        );
                    }
                }
            }
        }
        let (from, to) = match bounds {
            [Some(from), Some(to)] if from > to => {
                return error(400, "start_date must not be later than end_date (fake)");
            }
            [Some(from), Some(to)] => (Some(from), Some(to)),
            [None, None] => (None, None),
            _ => return error(400, "start_date and end_date must be given together (fake)"),
        };
        // Newest created first, then a stable sort on start: equal starts stay newest-created first.
        let mut selected: Vec<(Option<DateTime<Utc>>, &Stored)> = self
            .entries
            .iter()
            .rev()
            .map(|s| (parse_instant(&s.entry.start), s))
            .filter(|(start, _)| match (start, from, to) {
                (_, None, None) => true,
                (Some(start), Some(from), Some(to)) => *start >= from && *start < to,
                _ => false,
            })
            .collect();
        selected.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
        selected.truncate(TIME_ENTRIES_LIST_LIMIT);
        ok(Value::Array(selected.into_iter().map(|(_, s)| self.entry_json(s)).collect()))
    }

    fn entry_json(&self, stored: &Stored) -> Value {
        let e = &stored.entry;
        let (tags, tag_ids) = if stored.tags_given || !e.tags.is_empty() {
            let ids: Vec<Value> = e
                .tags
                .iter()
                .filter_map(|name| {
                    self.tags
                        .iter()
                        .find(|t| t.workspace_id == e.workspace_id && &t.name == name)
                        .map(|t| json!(t.id))
                })
                .collect();
            (json!(e.tags), Value::Array(ids))
        } else {
            (Value::Null, Value::Null)
        };
        // Always answered in Toggl's form, whatever RFC 3339 form `insert_entry` was given.
        let toggl_form = |text_value: &str| {
            parse_instant(text_value).map_or_else(|| text_value.to_string(), format_instant)
        };
        let stop = if e.stop.is_empty() { Value::Null } else { json!(toggl_form(&e.stop)) };
        let description = if e.description.is_empty() { Value::Null } else { json!(e.description) };
        json!({
            "id": e.id,
            "workspace_id": e.workspace_id,
            "wid": e.workspace_id,
            "project_id": e.project_id,
            "pid": e.project_id,
            "task_id": null,
            "tid": null,
            "billable": e.billable,
            "start": toggl_form(&e.start),
            "stop": stop,
            "duration": e.duration,
            "description": description,
            "tags": tags,
            "tag_ids": tag_ids,
            "duronly": true,
            "at": stored.at,
            "server_deleted_at": null,
            "user_id": USER_ID,
            "uid": USER_ID,
            "permissions": null,
        })
    }
}

fn user_json() -> Value {
    json!({
        "id": USER_ID,
        "api_token": API_TOKEN,
        "email": USER_EMAIL,
        "fullname": USER_FULLNAME,
        "timezone": USER_TIME_ZONE,
        "default_workspace_id": WORKSPACE_ID,
        "beginning_of_week": 1,
        "image_url": "https://assets.track.toggl.com/images/profile.png",
        "created_at": "2024-01-02T03:04:05.000000Z",
        "updated_at": "2025-06-07T08:09:10.000000Z",
        "openid_email": null,
        "openid_enabled": false,
        "country_id": null,
        "has_password": true,
        "at": "2025-06-07T08:09:10.000000Z",
        "intercom_hash": null,
        "oauth_providers": [],
        "authorization_updated_at": "2025-06-07T08:09:10.000000Z",
    })
}

fn workspace_json(id: i64, name: &str, premium: bool) -> Value {
    json!({
        "id": id,
        "organization_id": ORGANIZATION_ID,
        "name": name,
        "premium": premium,
        "business_ws": false,
        "admin": true,
        "role": "admin",
        "suspended_at": null,
        "server_deleted_at": null,
        "default_hourly_rate": null,
        "rate_last_updated": null,
        "default_currency": "EUR",
        "only_admins_may_create_projects": false,
        "only_admins_may_create_tags": false,
        "only_admins_see_team_dashboard": false,
        "projects_billable_by_default": true,
        "projects_private_by_default": true,
        "reports_collapse": true,
        "rounding": 1,
        "rounding_minutes": 0,
        "at": "2025-06-07T08:09:10+00:00",
        "logo_url": "https://assets.track.toggl.com/images/workspace.jpg",
        "ical_url": null,
        "ical_enabled": false,
        "csv_upload": null,
        "subscription": null,
        "hide_start_end_times": false,
        "working_hours_in_minutes": null,
        "permissions": null,
    })
}

fn project_json(p: &Project) -> Value {
    json!({
        "id": p.id,
        "workspace_id": p.workspace_id,
        "wid": p.workspace_id,
        "client_id": p.client_id,
        "cid": p.client_id,
        "name": p.name,
        "is_private": false,
        "active": p.active,
        "status": if p.active { "active" } else { "archived" },
        "at": "2025-06-07T08:09:10+00:00",
        "created_at": "2025-06-07T08:09:10+00:00",
        "server_deleted_at": null,
        "color": "#0b83d9",
        "billable": null,
        "template": false,
        "auto_estimates": null,
        "estimated_hours": null,
        "estimated_seconds": null,
        "rate": null,
        "rate_last_updated": null,
        "currency": null,
        "recurring": false,
        "fixed_fee": null,
        "actual_hours": 0,
        "actual_seconds": 0,
        "start_date": "2025-06-07",
        "end_date": null,
        "pinned": false,
        "can_track_time": true,
        "permissions": null,
    })
}

fn client_json(c: &Named) -> Value {
    json!({
        "id": c.id,
        "wid": c.workspace_id,
        "name": c.name,
        "archived": false,
        "at": "2025-06-07T08:09:10+00:00",
        "creator_id": USER_ID,
    })
}

fn tag_json(t: &Named) -> Value {
    json!({
        "id": t.id,
        "workspace_id": t.workspace_id,
        "name": t.name,
        "at": "2025-06-07T08:09:10+00:00",
        "creator_id": USER_ID,
    })
}

fn parse_instant(text_value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text_value).ok().map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DD` (UTC midnight) or RFC 3339.
fn parse_date_or_instant(text_value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text_value, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    parse_instant(text_value)
}

/// The fake server's own clock, for `at` stamps. clippy.toml's one-clock rule (`now` is read once, in
/// `app.rs`) is about the app; this stands in for Toggl's clock.
#[allow(clippy::disallowed_methods)]
fn server_now() -> DateTime<Utc> {
    Utc::now()
}

/// An instant as the fake stores it: cut to the whole second (Toggl keeps seconds), before any duration
/// is checked against it.
fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// Toggl's form: UTC, whole seconds, `+00:00`.
fn format_instant(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Standard base64 with padding (as `Authorization: Basic` uses); `None` if malformed.
fn base64_decode(text_value: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = text_value.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (index, quad) in bytes.chunks(4).enumerate() {
        let last = index == bytes.len() / 4 - 1;
        let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && !last) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &quad[..4 - padding] {
            acc = (acc << 6) | value(c)?;
        }
        acc <<= 6 * padding as u32;
        let decoded = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------------
// Tests of the fake itself

fn test_agent(timeout: Option<Duration>) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(timeout).build().into()
}

/// A fake without the leaky bucket, for tests that do not test it.
fn quiet_fake() -> FakeToggl {
    let fake = FakeToggl::start();
    fake.set_min_interval_ms(0);
    fake
}

struct Answered {
    status: u16,
    content_type: String,
    quota_remaining: Option<i64>,
    quota_resets_in: Option<u64>,
    text: String,
}

impl Answered {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }
}

fn answered(mut response: ureq::http::Response<ureq::Body>) -> Answered {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = header("content-type").unwrap_or_default();
    let quota_remaining = header("x-toggl-quota-remaining").map(|v| v.parse().expect("integer remaining"));
    let quota_resets_in = header("x-toggl-quota-resets-in").map(|v| v.parse().expect("integer resets-in"));
    let text = response.body_mut().read_to_string().expect("read body");
    Answered { status, content_type, quota_remaining, quota_resets_in, text }
}

fn get_with(agent: &ureq::Agent, url: &str, auth: Option<&str>, query: &[(&str, &str)]) -> Answered {
    answered(test_get(agent, url, auth.map(|auth| ("Authorization", auth)), query))
}

fn get(agent: &ureq::Agent, url: &str, query: &[(&str, &str)]) -> Answered {
    get_with(agent, url, Some(AUTH_HEADER), query)
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Result<Answered, ureq::Error> {
    test_post(agent, url, ("Authorization", AUTH_HEADER), body).map(answered)
}

fn entry_body(start: &str, stop: Option<&str>, duration: Option<i64>, project: Option<i64>) -> Value {
    json!({
        "created_with": "claude-tracker-tests",
        "workspace_id": WORKSPACE_ID,
        "start": start,
        "stop": stop,
        "duration": duration,
        "project_id": project,
        "description": "work",
        "tags": ["claude"],
        "billable": false,
    })
}

fn entries_url(fake: &FakeToggl) -> String {
    format!("{}/workspaces/{WORKSPACE_ID}/time_entries", fake.base_url())
}

#[test]
fn fake_toggl_auth_header_const_is_the_token() {
    let encoded = AUTH_HEADER.strip_prefix("Basic ").unwrap();
    assert_eq!(base64_decode(encoded).unwrap(), format!("{API_TOKEN}:api_token").as_bytes());
    assert_eq!(base64_decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap(), b"Aladdin:open sesame");
    assert_eq!(base64_decode("YQ==").unwrap(), b"a");
    assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
    assert!(base64_decode("YQ=").is_none());
    assert!(base64_decode("Y===").is_none());
}

#[test]
fn fake_toggl_auth_and_reference_data() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    let me_url = format!("{}/me", fake.base_url());

    let missing = get_with(&agent, &me_url, None, &[]);
    assert_eq!(missing.status, 403);
    assert_eq!(missing.text, AUTH_FAILED_BODY);
    assert!(missing.content_type.starts_with("text/plain"), "{}", missing.content_type);
    assert_eq!(missing.quota_remaining, None, "no user, no quota headers");

    // base64("wrong:api_token")
    let wrong = get_with(&agent, &me_url, Some("Basic d3Jvbmc6YXBpX3Rva2Vu"), &[]);
    assert_eq!((wrong.status, wrong.text.as_str()), (403, AUTH_FAILED_BODY));
    let bearer = get_with(&agent, &me_url, Some(&format!("Bearer {API_TOKEN}")), &[]);
    assert_eq!(bearer.status, 403);

    let me = get(&agent, &me_url, &[]);
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["id"], USER_ID);
    assert_eq!(me.json()["default_workspace_id"], WORKSPACE_ID);
    assert_eq!(me.json()["timezone"], USER_TIME_ZONE);
    assert_eq!(me.json()["email"], USER_EMAIL);
    assert_eq!(me.json()["fullname"], USER_FULLNAME);
    assert_eq!(me.quota_remaining, Some(i64::from(DEFAULT_ME_QUOTA) - 1));
    let resets = me.quota_resets_in.unwrap();
    assert!((3599..=3600).contains(&resets), "{resets}");

    let workspaces = get(&agent, &format!("{}/me/workspaces", fake.base_url()), &[]);
    assert_eq!(workspaces.json(), json!([workspace_json(WORKSPACE_ID, WORKSPACE_NAME, true)]));
    assert_eq!(workspaces.quota_remaining, Some(i64::from(DEFAULT_ME_QUOTA) - 2));

    fake.add_project(WORKSPACE_ID, 101, "Website", "Globex");
    fake.add_project(WORKSPACE_ID, 102, "Backend", "");
    fake.add_project(WORKSPACE_ID, 103, "Mobile", "Globex");
    fake.add_project(WORKSPACE_ID, 104, "Old", "");
    fake.archive_project(WORKSPACE_ID, 104);
    fake.add_project(888, 201, "Elsewhere", "Initech");
    let projects_url = format!("{}/workspaces/{WORKSPACE_ID}/projects", fake.base_url());
    let all = get(&agent, &projects_url, &[]);
    assert_eq!(all.status, 200);
    assert_eq!(all.quota_remaining, Some(i64::from(DEFAULT_WORKSPACE_QUOTA) - 1), "its own class");
    let all = all.json();
    let names: Vec<&str> = all.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Website", "Backend", "Mobile"], "active only by default");
    assert_eq!(all[0]["id"], 101);
    assert_eq!(all[0]["workspace_id"], WORKSPACE_ID);
    assert_eq!(all[0]["active"], true);
    assert!(all[0]["client_id"].is_i64());
    assert_eq!(all[0]["client_id"], all[2]["client_id"], "one client, one id");
    assert!(all[1]["client_id"].is_null());
    let both = get(&agent, &projects_url, &[("active", "both")]).json();
    assert_eq!(both.as_array().unwrap().len(), 4);
    let archived = get(&agent, &projects_url, &[("active", "false")]).json();
    assert_eq!(archived[0]["name"], "Old");
    let second = get(&agent, &projects_url, &[("page", "2"), ("per_page", "2")]).json();
    let names: Vec<&str> = second.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Mobile"]);
    let capped = get(&agent, &projects_url, &[("per_page", "500")]);
    assert_eq!(capped.status, 200, "above 200 is capped, not refused");

    let clients = get(&agent, &format!("{}/workspaces/{WORKSPACE_ID}/clients", fake.base_url()), &[]).json();
    assert_eq!(clients.as_array().unwrap().len(), 1);
    assert_eq!(clients[0]["name"], "Globex");
    assert_eq!(clients[0]["id"], all[0]["client_id"]);

    let foreign = get(&agent, &format!("{}/workspaces/888/projects", fake.base_url()), &[]);
    assert_eq!(foreign.status, 403);
    assert_eq!(foreign.json(), json!("User does not have access to this resource."));
    let not_a_number = get(&agent, &format!("{}/workspaces/abc/projects", fake.base_url()), &[]);
    assert_eq!(not_a_number.status, 400);
    assert_eq!(not_a_number.text, "strconv.ParseInt: parsing \"abc\": invalid syntax\n");

    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [403, 403, 403, 200, 200, 200, 200, 200, 200, 200, 200, 403, 400]);
    let first = &fake.requests()[3];
    assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", "/api/v9/me"));
    assert_eq!(first.quota_remaining, Some(29));
    assert_eq!(fake.requests()[9].query, "per_page=500");
}

#[test]
fn fake_toggl_create_and_list() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    fake.add_project(WORKSPACE_ID, 101, "Website", "Globex");
    let url = entries_url(&fake);

    let mut body =
        entry_body("2026-11-02T08:00:00.000Z", Some("2026-11-02T09:30:00Z"), Some(5400), Some(101));
    body["tags"] = json!(["claude", "new-tag"]);
    body["billable"] = json!(true);
    let created = post(&agent, &url, &body).expect("POST answered");
    assert_eq!(created.status, 200);
    let entry = created.json();
    assert!(entry["id"].is_i64());
    assert_eq!(entry["workspace_id"], WORKSPACE_ID);
    assert_eq!(entry["project_id"], 101);
    assert_eq!(entry["start"], "2026-11-02T08:00:00+00:00");
    assert_eq!(entry["stop"], "2026-11-02T09:30:00+00:00");
    assert_eq!(entry["duration"], 5400);
    assert_eq!(entry["description"], "work");
    assert_eq!(entry["tags"], json!(["claude", "new-tag"]));
    assert_eq!(entry["tag_ids"].as_array().unwrap().len(), 2);
    assert!(entry["tag_ids"][0].is_i64());
    assert_eq!(entry["billable"], true);
    assert_eq!(entry["user_id"], USER_ID);
    assert!(entry["at"].is_string());
    assert_eq!(created.quota_remaining, Some(i64::from(DEFAULT_WORKSPACE_QUOTA) - 1));
    let tags = get(&agent, &format!("{}/workspaces/{WORKSPACE_ID}/tags", fake.base_url()), &[]).json();
    let tag_names: Vec<&str> = tags.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tag_names, ["claude", "new-tag"], "unknown tag names are created");

    // stop only; duration only; an offset; tag_ids; no tags at all.
    let only_stop = post(
        &agent,
        &url,
        &entry_body("2026-11-02T11:00:00+01:00", Some("2026-11-02T11:45:00+01:00"), None, None),
    )
    .unwrap();
    assert_eq!(only_stop.status, 200);
    assert_eq!(only_stop.json()["start"], "2026-11-02T10:00:00+00:00");
    assert_eq!(only_stop.json()["duration"], 2700);
    assert!(only_stop.json()["project_id"].is_null());
    let only_duration =
        post(&agent, &url, &entry_body("2026-11-03T00:00:00Z", None, Some(60), None)).unwrap();
    assert_eq!(only_duration.json()["stop"], "2026-11-03T00:01:00+00:00");
    let mut by_id = entry_body("2026-11-02T00:00:00Z", Some("2026-11-02T00:10:00Z"), Some(600), None);
    by_id["tags"] = Value::Null;
    by_id["tag_ids"] = json!([entry["tag_ids"][1]]);
    let by_id = post(&agent, &url, &by_id).unwrap();
    assert_eq!(by_id.json()["tags"], json!(["new-tag"]));
    let mut untagged = entry_body("2026-11-01T23:59:59Z", Some("2026-11-02T00:30:00Z"), None, None);
    untagged.as_object_mut().unwrap().remove("tags");
    untagged["description"] = json!("");
    let untagged = post(&agent, &url, &untagged).unwrap().json();
    assert!(untagged["tags"].is_null(), "tags not provided: null");
    assert!(untagged["tag_ids"].is_null());
    assert!(untagged["description"].is_null());

    fake.insert_entry(Entry {
        id: 42,
        workspace_id: WORKSPACE_ID,
        project_id: Some(101),
        start: "2026-11-02T12:00:00Z".into(),
        stop: "2026-11-02T13:00:00Z".into(),
        duration: 3600,
        description: "other machine".into(),
        tags: vec!["claude".into()],
        billable: false,
        created_with: "elsewhere".into(),
    });
    let stored = fake.entries();
    let starts: Vec<&str> = stored.iter().map(|e| e.start.as_str()).collect();
    assert_eq!(
        starts,
        [
            "2026-11-02T08:00:00+00:00",
            "2026-11-02T10:00:00+00:00",
            "2026-11-03T00:00:00+00:00",
            "2026-11-02T00:00:00+00:00",
            "2026-11-01T23:59:59+00:00",
            "2026-11-02T12:00:00Z",
        ],
        "creation order"
    );
    assert_eq!(stored[0].created_with, "claude-tracker-tests");
    assert_eq!(stored[0].tags, ["claude", "new-tag"]);
    assert!(stored[0].billable);
    assert_eq!(stored[2].stop, "2026-11-03T00:01:00+00:00");

    let list_url = format!("{}/me/time_entries", fake.base_url());
    let listed = get(&agent, &list_url, &[("start_date", "2026-11-02"), ("end_date", "2026-11-03")]);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.quota_remaining, Some(i64::from(DEFAULT_ME_QUOTA) - 1), "/me/... is the me class");
    let starts: Vec<String> =
        listed.json().as_array().unwrap().iter().map(|e| e["start"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        starts,
        [
            "2026-11-02T12:00:00+00:00",
            "2026-11-02T10:00:00+00:00",
            "2026-11-02T08:00:00+00:00",
            "2026-11-02T00:00:00+00:00"
        ],
        "newest first, start in [start_date, end_date)"
    );
    let other = &listed.json()[0];
    assert_eq!((other["id"].as_i64(), other["description"].as_str()), (Some(42), Some("other machine")));
    let rfc3339 = get(
        &agent,
        &list_url,
        &[("start_date", "2026-11-02T09:00:00+01:00"), ("end_date", "2026-11-02T10:00:01Z")],
    );
    assert_eq!(rfc3339.json().as_array().unwrap().len(), 2, "08:00 and 10:00 UTC");
    let everything = get(&agent, &list_url, &[]);
    assert_eq!(everything.json().as_array().unwrap().len(), 6);
    let half = get(&agent, &list_url, &[("start_date", "2026-11-02")]);
    assert_eq!(half.status, 400);
    let backwards = get(&agent, &list_url, &[("start_date", "2026-11-03"), ("end_date", "2026-11-02")]);
    assert_eq!(backwards.status, 400);

    let logged = fake.requests();
    let list_request = logged.iter().find(|r| r.path == "/api/v9/me/time_entries").unwrap();
    assert!(list_request.query.contains("start_date=2026-11-02"), "{}", list_request.query);
}

#[test]
fn fake_toggl_validation_errors() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    fake.add_project(WORKSPACE_ID, 101, "Website", "");
    fake.add_project(WORKSPACE_ID, 102, "Archived", "");
    fake.archive_project(WORKSPACE_ID, 102);
    fake.add_project(888, 201, "Elsewhere", "");
    let url = entries_url(&fake);
    let good = entry_body("2026-11-02T08:00:00Z", Some("2026-11-02T09:00:00Z"), Some(3600), Some(101));
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let invalid = |body: Value, message: &'static str| (body, Some(message));
    let cases: Vec<(Value, Option<&str>)> = vec![
        invalid(without("created_with"), "created_with needs to be provided an a valid string"),
        invalid(with("created_with", json!("")), "created_with needs to be provided an a valid string"),
        invalid(without("workspace_id"), "Missing or invalid workspace_id"),
        invalid(with("workspace_id", json!("777")), "Missing or invalid workspace_id"),
        invalid(
            with("workspace_id", json!(778)),
            "workspace_id 778 in the body does not match workspace 777 of the path (fake)",
        ),
        invalid(without("start"), "start must be provided (fake)"),
        invalid(with("start", json!("yesterday")), "start: invalid RFC 3339 time 'yesterday' (fake)"),
        invalid(
            with("duration", json!(3599)),
            "duration 3599 does not match stop - start = 3600 seconds (fake)",
        ),
        invalid(with("stop", json!("2026-11-02T07:00:00Z")), "stop is before start (fake)"),
        invalid(with("project_id", json!(999)), "User cannot access the selected project"),
        invalid(with("project_id", json!(102)), "User cannot access the selected project"),
        invalid(with("project_id", json!(201)), CONFLICT_WITH_PROJECT),
        invalid(with("tag_ids", json!([12345])), "tag id 12345 not found in workspace (fake)"),
        // `stop: null` with a duration is a valid stopped entry.
        (with("stop", Value::Null), None),
    ];
    let mut statuses = Vec::new();
    for (body, message) in &cases {
        let answer = post(&agent, &url, body).unwrap();
        statuses.push(answer.status);
        match message {
            Some(message) => {
                assert_eq!(answer.status, 400, "{body}");
                assert_eq!(answer.text, format!("{}\n", json!(message)), "{body}");
                assert!(answer.content_type.starts_with("application/json"));
                assert!(answer.quota_remaining.is_some(), "errors carry the quota headers");
            }
            None => assert_eq!(answer.status, 200, "{body}"),
        }
    }
    assert_eq!(fake.entries().len(), 1, "only the stop: null + duration entry");
    assert_eq!(fake.entries()[0].stop, "2026-11-02T09:00:00+00:00");

    let not_json = agent
        .post(&url)
        .header("Authorization", AUTH_HEADER)
        .header("Content-Type", "application/json")
        .send("{not json")
        .map(answered)
        .unwrap();
    assert_eq!((not_json.status, not_json.text.as_str()), (400, "\"JSON is not valid\"\n"));

    let foreign = post(
        &agent,
        &format!("{}/workspaces/888/time_entries", fake.base_url()),
        &with("workspace_id", json!(888)),
    )
    .unwrap();
    assert_eq!(foreign.status, 403);
    let wrong_method = get(&agent, &url, &[]);
    assert_eq!(wrong_method.status, 405);

    // Every answered request of the user counted: 14 cases + not JSON + foreign + wrong method.
    let last = fake.requests().last().unwrap().clone();
    assert_eq!(last.quota_remaining, Some(i64::from(DEFAULT_WORKSPACE_QUOTA) - 17));
    assert_eq!(fake.entries().len(), 1);
}

/// Sub-second times are stored cut to the second, and the duration is checked against what is stored:
/// a client that sends `duration` from the uncut instants (599 for 17:00:00.900-17:10:00.100) is refused.
#[test]
fn fake_toggl_cuts_times_to_the_second_before_checking_the_duration() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    let url = entries_url(&fake);
    let (start, stop) = ("2026-11-02T17:00:00.900Z", "2026-11-02T17:10:00.100Z");
    let refused = post(&agent, &url, &entry_body(start, Some(stop), Some(599), None)).unwrap();
    assert_eq!((refused.status, refused.content_type.as_str()), (400, JSON));
    assert_eq!(refused.text, "\"duration 599 does not match stop - start = 600 seconds (fake)\"\n");
    let backwards =
        post(&agent, &url, &entry_body(start, Some("2026-11-02T16:59:59.990Z"), None, None)).unwrap();
    assert_eq!((backwards.status, backwards.text.as_str()), (400, "\"stop is before start (fake)\"\n"));
    assert!(fake.entries().is_empty());

    let created = post(&agent, &url, &entry_body(start, Some(stop), Some(600), None)).unwrap().json();
    let id = created["id"].as_i64().unwrap();
    let stored = Entry {
        id,
        workspace_id: WORKSPACE_ID,
        project_id: None,
        start: "2026-11-02T17:00:00+00:00".into(),
        stop: "2026-11-02T17:10:00+00:00".into(),
        duration: 600,
        description: "work".into(),
        tags: vec!["claude".into()],
        billable: false,
        created_with: "claude-tracker-tests".into(),
    };
    assert_eq!(fake.entries(), vec![stored.clone()]);
    // A PUT is checked the same way.
    let put = |body: &Value| {
        agent
            .put(&format!("{url}/{id}"))
            .header("Authorization", AUTH_HEADER)
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .map(answered)
            .unwrap()
    };
    let refused = put(&entry_body(start, Some("2026-11-02T17:20:00.500Z"), Some(1199), None));
    assert_eq!(refused.text, "\"duration 1199 does not match stop - start = 1200 seconds (fake)\"\n");
    assert_eq!(fake.entries(), vec![stored.clone()], "a refused PUT changes nothing");
    assert_eq!(put(&entry_body(start, Some("2026-11-02T17:20:00.500Z"), Some(1200), None)).status, 200);
    let updated = Entry { stop: "2026-11-02T17:20:00+00:00".into(), duration: 1200, ..stored };
    assert_eq!(fake.entries(), vec![updated]);
}

/// One listing answers at most [`TIME_ENTRIES_LIST_LIMIT`] entries, the newest; the older ones are left
/// out, as Toggl documents.
#[test]
fn fake_toggl_lists_at_most_the_limit_newest_first() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    let day: DateTime<Utc> = "2026-11-02T00:00:00Z".parse().unwrap();
    for minute in 0..1001 {
        let start = day + chrono::Duration::minutes(minute);
        fake.insert_entry(Entry {
            id: 1 + minute,
            workspace_id: WORKSPACE_ID,
            project_id: None,
            start: format_instant(start),
            stop: format_instant(start + chrono::Duration::seconds(30)),
            duration: 30,
            description: String::new(),
            tags: Vec::new(),
            billable: false,
            created_with: "elsewhere".into(),
        });
    }
    let list_url = format!("{}/me/time_entries", fake.base_url());
    let ids = |query: &[(&str, &str)]| -> Vec<i64> {
        let listed = get(&agent, &list_url, query).json();
        listed.as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect()
    };
    let whole_day = ids(&[("start_date", "2026-11-02"), ("end_date", "2026-11-03")]);
    assert_eq!(whole_day, (2..=1001).rev().collect::<Vec<i64>>(), "the oldest (id 1, 00:00) is cut");
    let first_minute = ids(&[("start_date", "2026-11-02T00:00:00Z"), ("end_date", "2026-11-02T00:01:00Z")]);
    assert_eq!(first_minute, vec![1], "a narrower window finds it");
}

#[test]
fn fake_toggl_quota_counts_down_to_402() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    fake.set_quota(3, 2);
    let projects_url = format!("{}/workspaces/{WORKSPACE_ID}/projects", fake.base_url());
    let me_url = format!("{}/me", fake.base_url());

    let remaining: Vec<Option<i64>> =
        (0..3).map(|_| get(&agent, &projects_url, &[]).quota_remaining).collect();
    assert_eq!(remaining, [Some(2), Some(1), Some(0)]);
    let refused = get(&agent, &projects_url, &[]);
    assert_eq!(refused.status, 402);
    assert_eq!(refused.quota_remaining, Some(0));
    let resets_in = refused.quota_resets_in.unwrap();
    assert!((3590..=3600).contains(&resets_in), "{resets_in}");
    assert_eq!(refused.text, quota_exhausted_body(resets_in));
    assert!(refused.text.starts_with("You have hit your hourly limit for API calls."));
    assert!(refused.content_type.starts_with("text/plain"));
    let posted =
        post(&agent, &entries_url(&fake), &entry_body("2026-11-02T08:00:00Z", None, Some(60), None)).unwrap();
    assert_eq!(posted.status, 402, "POSTs share the workspace quota");
    assert!(fake.entries().is_empty());

    // The me class is separate.
    let me: Vec<(u16, Option<i64>)> =
        (0..3).map(|_| get(&agent, &me_url, &[])).map(|a| (a.status, a.quota_remaining)).collect();
    assert_eq!(me, [(200, Some(1)), (200, Some(0)), (402, Some(0))]);

    let logged: Vec<(u16, Option<i64>)> =
        fake.requests().iter().map(|r| (r.status, r.quota_remaining)).collect();
    assert_eq!(
        logged,
        [
            (200, Some(2)),
            (200, Some(1)),
            (200, Some(0)),
            (402, Some(0)),
            (402, Some(0)),
            (200, Some(1)),
            (200, Some(0)),
            (402, Some(0)),
        ]
    );

    // An hour later (simulated) the quota is back.
    fake.forget_quota_usage();
    assert_eq!(get(&agent, &projects_url, &[]).quota_remaining, Some(2));

    // The injected form of the 402.
    fake.fail_next("GET", Fault::QuotaExhausted { resets_in_secs: 120 });
    let injected = get(&agent, &me_url, &[]);
    assert_eq!(
        (injected.status, injected.quota_remaining, injected.quota_resets_in),
        (402, Some(0), Some(120))
    );
    assert_eq!(
        injected.text,
        "You have hit your hourly limit for API calls. Your quota will reset in 120 seconds.\n"
    );
    assert_eq!(get(&agent, &me_url, &[]).quota_remaining, Some(1), "the injected 402 did not count");
}

#[test]
fn fake_toggl_leaky_bucket_answers_429_on_bursts() {
    let fake = FakeToggl::start();
    let agent = test_agent(None);
    let me_url = format!("{}/me", fake.base_url());

    // Default: one request per second.
    let first = get(&agent, &me_url, &[]);
    let burst = get(&agent, &me_url, &[]);
    assert_eq!((first.status, burst.status), (200, 429));
    assert_eq!(burst.text, TOO_MANY_REQUESTS_BODY);
    assert!(burst.content_type.starts_with("text/html"));
    assert_eq!(burst.quota_remaining, first.quota_remaining, "a 429 does not count against the quota");

    fake.set_min_interval_ms(600);
    assert_eq!(get(&agent, &me_url, &[]).status, 200);
    assert_eq!(get(&agent, &me_url, &[]).status, 429);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(&agent, &me_url, &[]).status, 429);
    std::thread::sleep(Duration::from_millis(300));
    let later = get(&agent, &me_url, &[]);
    assert_eq!(
        later.status, 200,
        "600 ms after the last admitted request: rejected ones do not refill the bucket"
    );
    assert_eq!(later.quota_remaining, Some(i64::from(DEFAULT_ME_QUOTA) - 3));

    fake.set_min_interval_ms(0);
    fake.fail_next("GET", Fault::TooManyRequests);
    assert_eq!(get(&agent, &me_url, &[]).status, 429);
    assert_eq!(get(&agent, &me_url, &[]).status, 200);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 429, 200, 429, 429, 200, 429, 200]);
}

#[test]
fn fake_toggl_billable_as_paid_feature_answers_402() {
    let fake = quiet_fake();
    let agent = test_agent(None);
    let url = entries_url(&fake);
    let mut body = entry_body("2026-11-02T08:00:00Z", Some("2026-11-02T09:00:00Z"), None, None);
    body["billable"] = json!(true);

    fake.set_billable_is_paid_feature(true);
    let workspaces = get(&agent, &format!("{}/me/workspaces", fake.base_url()), &[]).json();
    assert_eq!(workspaces[0]["premium"], false);
    let refused = post(&agent, &url, &body).unwrap();
    assert_eq!(refused.status, 402);
    assert_eq!(refused.text, "\"Billable is a premium feature\"\n");
    assert_eq!(refused.json(), json!(PAID_FEATURE_MESSAGE));
    assert_eq!(refused.quota_remaining, Some(i64::from(DEFAULT_WORKSPACE_QUOTA) - 1), "it counts");
    assert!(fake.entries().is_empty());

    body["billable"] = json!(false);
    assert_eq!(post(&agent, &url, &body).unwrap().status, 200);
    fake.set_billable_is_paid_feature(false);
    body["billable"] = json!(true);
    assert_eq!(post(&agent, &url, &body).unwrap().status, 200);
    let billable: Vec<bool> = fake.entries().iter().map(|e| e.billable).collect();
    assert_eq!(billable, [false, true]);
}

#[test]
fn fake_toggl_store_then_drop_closes_without_a_response() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let fake = quiet_fake();
    let agent = test_agent(Some(Duration::from_secs(10)));
    let url = entries_url(&fake);

    fake.fail_next("POST", Fault::StoreThenDrop);
    let dropped = post(&agent, &url, &entry_body("2026-11-02T08:00:00Z", None, Some(60), None));
    assert!(
        dropped.is_err(),
        "the client sees a transport error, got status {:?}",
        dropped.map(|a| a.status)
    );
    assert_eq!(fake.entries().len(), 1, "the entry was stored anyway");
    let logged = fake.requests().last().unwrap().clone();
    assert_eq!((logged.status, logged.quota_remaining), (0, None));

    // On a raw socket: not one byte comes back, and the server closes its side.
    fake.fail_next("POST", Fault::StoreThenDrop);
    let body = entry_body("2026-11-02T10:00:00Z", None, Some(60), None).to_string();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "POST /api/v9/workspaces/{WORKSPACE_ID}/time_entries HTTP/1.1\r\nHost: x\r\n\
         Authorization: {AUTH_HEADER}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut received = Vec::new();
    let read = stream.read_to_end(&mut received);
    assert!(read.is_ok() || received.is_empty(), "{read:?}");
    assert!(received.is_empty(), "got {:?}", String::from_utf8_lossy(&received));
    assert_eq!(fake.entries().len(), 2);

    // The stored-but-unanswered requests counted against the quota; the next POST is answered normally.
    let normal = post(&agent, &url, &entry_body("2026-11-02T12:00:00Z", None, Some(60), None)).unwrap();
    assert_eq!(normal.status, 200);
    assert_eq!(normal.quota_remaining, Some(i64::from(DEFAULT_WORKSPACE_QUOTA) - 3));
    assert_eq!(fake.entries().len(), 3);
}

#[test]
fn fake_toggl_fault_queue_is_fifo_per_method() {
    let fake = quiet_fake();
    let agent = test_agent(Some(Duration::from_secs(10)));
    let me_url = format!("{}/me", fake.base_url());
    fake.fail_next("GET", Fault::Status(500));
    fake.fail_next("POST", Fault::Status(502));
    fake.fail_next("GET", Fault::Status(503));
    fake.fail_next("GET", Fault::Slow { delay_ms: 300 });

    let first = get(&agent, &me_url, &[]);
    assert_eq!(first.status, 500);
    assert_eq!(first.json(), json!("Internal Server Error"));
    assert_eq!(first.quota_remaining, Some(i64::from(DEFAULT_ME_QUOTA) - 1), "counted");
    assert_eq!(get(&agent, &me_url, &[]).status, 503);
    let began = Instant::now();
    assert_eq!(get(&agent, &me_url, &[]).status, 200);
    assert!(began.elapsed() >= Duration::from_millis(300), "Slow waited");
    assert_eq!(get(&agent, &me_url, &[]).status, 200);

    let failed =
        post(&agent, &entries_url(&fake), &entry_body("2026-11-02T08:00:00Z", None, Some(60), None)).unwrap();
    assert_eq!(failed.status, 502);
    assert!(fake.entries().is_empty(), "a Status fault stores nothing");

    fake.fail_next("POST", Fault::StoreThenStall { stall_ms: 5_000 });
    let impatient = test_agent(Some(Duration::from_millis(300)));
    let began = Instant::now();
    let stalled =
        post(&impatient, &entries_url(&fake), &entry_body("2026-11-02T08:00:00Z", None, Some(60), None));
    assert!(stalled.is_err(), "the client times out");
    assert!(began.elapsed() < Duration::from_secs(3));
    assert_eq!(fake.entries().len(), 1, "stored before stalling");
}

#[test]
fn fake_toggl_keeps_connections_alive() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let fake = quiet_fake();
    let mut stream = TcpStream::connect(fake.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Two pipelined requests on one connection, then a close.
    write!(
        stream,
        "GET /api/v9/me HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH_HEADER}\r\n\r\n\
         GET /api/v9/me/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH_HEADER}\r\n\
         Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut received = String::new();
    stream.read_to_string(&mut received).unwrap();
    assert_eq!(received.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{received}");
    assert!(received.contains("X-Toggl-Quota-Remaining: 29\r\n"), "{received}");
    assert!(received.contains("X-Toggl-Quota-Remaining: 28\r\n"), "{received}");
    assert!(received.contains("\"timezone\":\"Europe/Berlin\""));
    assert!(received.contains("\"name\":\"Acme\""));
}
