//! The Toggl Track API (v9) client. Toggl's requests are scarce (since September 2025: 30 an hour on the
//! Free plan for workspace requests, 30 an hour for `/me` on every plan, over a sliding hour, plus about
//! one a second), so it spends them like money: paced at one a second, it reads
//! `X-Toggl-Quota-Remaining` / `X-Toggl-Quota-Resets-In` on every answer and never starts a request the
//! quota cannot cover. A 402 is either a spent quota (stop, say when to run again) or a paid-only
//! feature (a refusal with a hint); the body tells which.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::app::Clock;
use crate::descriptions::DescriptionLimit;
use crate::http::{Answer, Auth, ClientOptions, HttpClient, Method, Request, ServicePolicy, error_message};
use crate::pause::Pause;
use crate::secrets::ApiKey;
use crate::timesheet::{EntryDraft, RemoteEntry, RemoteError, Timesheet, whole_second};

/// The longest description Toggl Track takes: 3,000 bytes of UTF-8 (its own apps count bytes:
/// `MaxTimeEntryDescriptionLengthInBytes = 3000` in Toggl's mobile app). Longer ones are cut to it on a
/// word boundary when the entry is planned (`notes/11-descriptions.md`).
pub(crate) const DESCRIPTION_LIMIT: DescriptionLimit = DescriptionLimit::Utf8Bytes(3000);

/// The user, from `GET /me`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Me {
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) fullname: String,
    pub(crate) default_workspace_id: Option<i64>,
}

/// A workspace of the user.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Workspace {
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) name: String,
}

/// A project, for filling the mapping.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Project {
    pub(crate) id: i64,
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) client_name: Option<String>,
    #[serde(default)]
    pub(crate) client_id: Option<i64>,
}

#[derive(Deserialize)]
struct WireClient {
    id: i64,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct WireEntry {
    id: i64,
    workspace_id: Option<i64>,
    project_id: Option<i64>,
    start: String,
    #[serde(default)]
    stop: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

impl WireEntry {
    fn into_remote(self) -> Option<RemoteEntry> {
        let instant = |text: &str| DateTime::parse_from_rfc3339(text).ok().map(|t| t.to_utc());
        Some(RemoteEntry {
            start: instant(&self.start)?,
            end: self.stop.as_deref().and_then(instant),
            id: self.id.to_string(),
            project_id: self.project_id.map(|p| p.to_string()),
            description: self.description.unwrap_or_default(),
        })
    }
}

/// Which hourly quota a request draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuotaClass {
    Me,
    Workspace,
}

#[derive(Debug, Clone, Copy, Default)]
struct Quota {
    remaining: Option<i64>,
    /// On the run's clock (the app's: a test's or a benchmark's clock file too), so a reset told in one
    /// process holds in the next.
    resets_at: Option<DateTime<Utc>>,
}

impl Quota {
    /// How long to wait before a request of this class may be sent, when the quota is spent.
    fn spent_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        match (self.remaining, self.resets_at) {
            (Some(remaining), Some(resets_at)) if remaining <= 0 => {
                let wait = (resets_at - now).to_std().unwrap_or_default();
                (!wait.is_zero()).then_some(wait)
            }
            _ => None,
        }
    }
}

/// Of two things said of one quota, the one that holds back more: the later reset, and for one reset
/// the fewer requests left; anything said beats nothing.
fn later_of(held: Quota, stored: Quota) -> Quota {
    match (held.resets_at, stored.resets_at) {
        (None, _) => stored,
        (Some(a), Some(b)) if b > a => stored,
        (Some(a), Some(b)) if b == a && stored.remaining < held.remaining => stored,
        _ => held,
    }
}

const PAGE_SIZE: usize = 200;

/// A Toggl Track client bound to one token.
pub(crate) struct Toggl {
    http: HttpClient,
    quotas: Quotas,
}

/// What Toggl's answers said of the hourly quotas, and which one the request in flight draws on.
#[derive(Debug, Clone)]
struct Quotas {
    me: Quota,
    workspace: Quota,
    current: QuotaClass,
    clock: Clock,
}

impl Quotas {
    /// The run's clock; a clock that cannot be read counts as the epoch (every reset has passed: the next
    /// answer says again).
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().unwrap_or_default()
    }

    fn current(&mut self) -> &mut Quota {
        match self.current {
            QuotaClass::Me => &mut self.me,
            QuotaClass::Workspace => &mut self.workspace,
        }
    }
}

impl ServicePolicy for Quotas {
    fn check_before_send(&mut self) -> Result<(), RemoteError> {
        let now = self.now();
        match self.current().spent_for(now) {
            Some(wait) => Err(RemoteError::QuotaSpent { retry_after: wait }),
            None => Ok(()),
        }
    }

    /// Reads `X-Toggl-Quota-Remaining` / `X-Toggl-Quota-Resets-In` on every answer; a 402 that talks of
    /// a quota ends the run until the reset.
    fn observe(&mut self, answer: &Answer) -> Option<RemoteError> {
        let resets_in = answer.seconds_header("x-toggl-quota-resets-in");
        if let Some(remaining) = answer.header("x-toggl-quota-remaining").and_then(|v| v.parse().ok()) {
            let now = self.now();
            let resets_at =
                resets_in.and_then(|d| now.checked_add_signed(chrono::Duration::from_std(d).ok()?));
            *self.current() = Quota { remaining: Some(remaining), resets_at };
        }
        if answer.status == 402 && is_quota_message(&answer.body) {
            let wait = resets_in.unwrap_or(Duration::from_secs(3600));
            let now = self.now();
            let resets_at =
                chrono::Duration::from_std(wait).ok().and_then(|wait| now.checked_add_signed(wait));
            *self.current() = Quota { remaining: Some(0), resets_at };
            return Some(RemoteError::QuotaSpent { retry_after: wait });
        }
        None
    }

    fn refusal(&self, request: &Request<'_>, answer: &Answer) -> RemoteError {
        refusal(request, answer)
    }
}

impl Toggl {
    /// A client for `base_url` (e.g. `https://api.track.toggl.com/api/v9`).
    pub(crate) fn new(
        base_url: &str,
        token: ApiKey,
        options: ClientOptions,
        pause: Pause,
        clock: Clock,
    ) -> Toggl {
        Toggl {
            http: HttpClient::new(base_url, Auth::TokenBasic(token), options, pause),
            quotas: Quotas {
                me: Quota::default(),
                workspace: Quota::default(),
                current: QuotaClass::Me,
                clock,
            },
        }
    }

    /// What Toggl last said of each hourly quota, in wall-clock time, to keep across processes: a 402
    /// seen by one `watch --once` holds back every later one until the reset (`me:<left>:<reset>` and
    /// `workspace:…`, `;`-separated).
    pub(crate) fn quota_snapshot(&self) -> String {
        let class = |name: &str, quota: &Quota| {
            let (Some(remaining), Some(at)) = (quota.remaining, quota.resets_at) else { return None };
            Some(format!("{name}:{remaining}:{}", at.to_rfc3339_opts(SecondsFormat::Secs, true)))
        };
        [class("me", &self.quotas.me), class("workspace", &self.quotas.workspace)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Takes back a [`Toggl::quota_snapshot`] (another process's, or this one's from an earlier pass),
    /// merged with what this client knows: the later reset wins, and for one reset the fewer requests
    /// left. A quota whose reset has passed is forgotten; an unreadable part is ignored (the next answer
    /// says again).
    pub(crate) fn restore_quota(&mut self, snapshot: &str) {
        let now = self.quotas.now();
        for part in snapshot.split(';') {
            let mut fields = part.splitn(3, ':');
            let (Some(name), Some(remaining), Some(at)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let (Ok(remaining), Ok(at)) = (remaining.parse::<i64>(), DateTime::parse_from_rfc3339(at)) else {
                continue;
            };
            if at.to_utc() <= now {
                continue;
            }
            let stored = Quota { remaining: Some(remaining), resets_at: Some(at.to_utc()) };
            let held = match name {
                "me" => &mut self.quotas.me,
                "workspace" => &mut self.quotas.workspace,
                _ => continue,
            };
            *held = later_of(*held, stored);
        }
    }

    /// Requests sent, retries included.
    pub(crate) fn requests_sent(&self) -> u64 {
        self.http.requests_sent
    }

    /// `GET /me`: checks the token and gives the default workspace.
    pub(crate) fn me(&mut self) -> Result<Me, RemoteError> {
        let answer = self.send(QuotaClass::Me, &Request::new(Method::Get, "/me"))?;
        parse(&answer.body, "GET /me")
    }

    /// `GET /me/workspaces`.
    pub(crate) fn workspaces(&mut self) -> Result<Vec<Workspace>, RemoteError> {
        let answer = self.send(QuotaClass::Me, &Request::new(Method::Get, "/me/workspaces"))?;
        parse(&answer.body, "GET /me/workspaces")
    }

    /// Every project of a workspace, all pages.
    pub(crate) fn projects(&mut self, workspace_id: &str) -> Result<Vec<Project>, RemoteError> {
        let path = format!("/workspaces/{workspace_id}/projects");
        let mut projects = Vec::new();
        for page in 1.. {
            let query = [("page", page.to_string()), ("per_page", PAGE_SIZE.to_string())];
            let answer = self.send(QuotaClass::Workspace, &Request::new(Method::Get, &path).query(&query))?;
            let batch: Vec<Project> = parse(&answer.body, &path)?;
            let done = batch.len() < PAGE_SIZE;
            projects.extend(batch);
            if done {
                break;
            }
        }
        // Projects carry only a client id; one more request names the clients.
        if projects.iter().any(|p| p.client_id.is_some()) {
            let path = format!("/workspaces/{workspace_id}/clients");
            let answer = self.send(QuotaClass::Workspace, &Request::new(Method::Get, &path))?;
            let clients: Vec<WireClient> = parse(&answer.body, &path)?;
            for project in &mut projects {
                let client = clients.iter().find(|c| Some(c.id) == project.client_id);
                project.client_name = client.map(|c| c.name.clone()).or(project.client_name.take());
            }
        }
        Ok(projects)
    }

    /// Sends one request within the quota of its class.
    fn send(&mut self, class: QuotaClass, request: &Request<'_>) -> Result<Answer, RemoteError> {
        self.quotas.current = class;
        self.http.send(&mut self.quotas, request)
    }
}

/// Toggl answers 402 both for a spent hourly quota and for a feature of a paid plan; only the former
/// talks about limits or quotas.
fn is_quota_message(body: &str) -> bool {
    let text = body.to_lowercase();
    ["quota", "limit", "too many"].iter().any(|word| text.contains(word))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &str, what: &str) -> Result<T, RemoteError> {
    crate::http::parse(body, "Toggl", what)
}

fn refusal(request: &Request<'_>, answer: &Answer) -> RemoteError {
    let hint = match answer.status {
        400 => {
            "check that the project id is in this workspace (`claude-tracker toggl projects` lists them) and \
             the `[toggl]` settings"
        }
        401 | 403 => {
            "the API token was refused: check it (Toggl: Profile settings > API Token) and store it again \
             with `claude-tracker setup --toggl`, or check `[toggl] workspace_id`"
        }
        402 => {
            "this needs a paid Toggl plan: remove the setting that asks for it (often `[toggl] billable`) \
             or upgrade the workspace"
        }
        404 => "not found: check `[toggl] workspace_id` (`claude-tracker setup --toggl` lists yours)",
        _ => "run the same command again later; if it persists, check Toggl's status page",
    };
    RemoteError::Refused {
        status: answer.status,
        request: request.describe(),
        message: error_message(&answer.body),
        hint: hint.to_string(),
    }
}

/// An instant as Toggl is sent it: cut to the whole second by the one rule ([`whole_second`]), so what
/// is sent is exactly what the durations are computed from.
fn rfc3339(at: DateTime<Utc>) -> String {
    whole_second(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn toggl_number(id: &str, what: &str) -> Result<i64, RemoteError> {
    id.parse().map_err(|_| RemoteError::Invalid {
        request: format!("a Toggl request with this {what}"),
        message: format!("`{id}` is not a Toggl id"),
        hint: "Toggl ids are whole numbers: fix `[toggl]` in the config".to_string(),
    })
}

/// The body of a create, update or start. Start and stop are cut to the whole second first (one rule,
/// [`EntryDraft::in_whole_seconds`]) and `duration` is the difference of the cut values: Toggl keeps
/// whole seconds and refuses a `duration` that is not `stop - start` (start 17:00:00.900 and end
/// 17:10:00.100 went out as 17:00:00, 17:10:00 and 599). A running entry has `duration` -1 and no `stop`.
fn entry_body(workspace_id: &str, draft: &EntryDraft) -> Result<serde_json::Value, RemoteError> {
    let draft = draft.clone().in_whole_seconds();
    let workspace = toggl_number(workspace_id, "workspace_id")?;
    let project = draft.project_id.as_deref().map(|id| toggl_number(id, "project_id")).transpose()?;
    let mut body = json!({
        "created_with": "claude-tracker",
        "workspace_id": workspace,
        "project_id": project,
        "start": rfc3339(draft.start),
        "description": draft.description,
        "tags": draft.tags,
    });
    match draft.end {
        Some(end) => {
            body["stop"] = json!(rfc3339(end));
            body["duration"] = json!((end - draft.start).num_seconds());
        }
        None => body["duration"] = json!(-1),
    }
    if let Some(billable) = draft.billable {
        body["billable"] = json!(billable);
    }
    Ok(body)
}

/// The most entries one `GET /me/time_entries` answers: "The limit of returned time entries is 1000. So
/// only the first 1000 found time entries are returned" (the v8 docs; the v9 page documents no paging
/// and no limit, and v9 clients report the same 1,000). `notes/03-toggl-csv.md`, "Listing limits".
const LIST_LIMIT: usize = 1000;

/// Entries listed so far, each once (split windows share their bounds), in the order first answered.
#[derive(Default)]
struct Listed {
    entries: Vec<WireEntry>,
    ids: std::collections::HashSet<i64>,
}

impl Listed {
    /// Adds an answer's entries not seen yet.
    fn extend(&mut self, answer: Vec<WireEntry>) {
        for entry in answer {
            if self.ids.insert(entry.id) {
                self.entries.push(entry);
            }
        }
    }
}

/// The whole second halfway through `[from, to]`, when the window is long enough to split (two
/// seconds or more): each half is then shorter than the whole, so splitting ends.
fn midpoint(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mid = whole_second(from + (to - from) / 2);
    (mid > from && mid < to).then_some(mid)
}

/// Toggl Track behind the [`Timesheet`] interface: one workspace.
pub(crate) struct TogglTimesheet {
    pub(crate) client: Toggl,
    pub(crate) workspace_id: String,
}

impl TogglTimesheet {
    fn entry_path(&self, id: &str) -> Result<String, RemoteError> {
        let id = toggl_number(id, "time entry id")?;
        Ok(format!("/workspaces/{}/time_entries/{id}", self.workspace_id))
    }

    /// Lists `[from, to]` into `found`; an answer holding [`LIST_LIMIT`] entries may have been cut, so
    /// each half of its window is listed again (recursively) until every answer is short of the limit.
    /// A window of one second still answering the limit cannot be split further: what it gave is kept.
    fn list_window(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        found: &mut Listed,
    ) -> Result<(), RemoteError> {
        let query = [("start_date", rfc3339(from)), ("end_date", rfc3339(to))];
        let request = Request::new(Method::Get, "/me/time_entries").query(&query);
        let answer = self.client.send(QuotaClass::Me, &request)?;
        let wire: Vec<WireEntry> = parse(&answer.body, "GET /me/time_entries")?;
        let maybe_cut = wire.len() >= LIST_LIMIT;
        found.extend(wire);
        if let Some(mid) = midpoint(from, to).filter(|_| maybe_cut) {
            self.list_window(from, mid, found)?;
            self.list_window(mid, to, found)?;
        }
        Ok(())
    }

    fn post(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
        let body = entry_body(&self.workspace_id, draft)?;
        let path = format!("/workspaces/{}/time_entries", self.workspace_id);
        let answer =
            self.client.send(QuotaClass::Workspace, &Request::new(Method::Post, &path).body(&body))?;
        let created: WireEntry = parse(&answer.body, "POST time_entries")?;
        Ok(created.id.to_string())
    }
}

impl Timesheet for TogglTimesheet {
    fn service(&self) -> &'static str {
        "Toggl Track"
    }

    fn quota_snapshot(&self) -> String {
        self.client.quota_snapshot()
    }

    fn restore_quota(&mut self, snapshot: &str) {
        self.client.restore_quota(snapshot);
    }

    fn create(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
        self.post(draft)
    }

    fn update(&mut self, id: &str, draft: &EntryDraft) -> Result<(), RemoteError> {
        let body = entry_body(&self.workspace_id, draft)?;
        let path = self.entry_path(id)?;
        self.client.send(QuotaClass::Workspace, &Request::new(Method::Put, &path).body(&body))?;
        Ok(())
    }

    fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
        let path = self.entry_path(id)?;
        match self.client.send(QuotaClass::Workspace, &Request::new(Method::Delete, &path)) {
            Err(RemoteError::Refused { status: 404, .. }) | Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// One request when the window holds fewer entries than Toggl answers at most ([`LIST_LIMIT`]);
    /// an answer that holds that many may have been cut, so its window is split and asked again.
    fn list(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RemoteEntry>, RemoteError> {
        let mut found = Listed::default();
        self.list_window(whole_second(from), whole_second(to), &mut found)?;
        Ok(found
            .entries
            .into_iter()
            .filter(|e| e.workspace_id.is_none_or(|w| w.to_string() == self.workspace_id))
            .filter_map(WireEntry::into_remote)
            .collect())
    }

    fn start(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
        self.post(&EntryDraft { end: None, ..draft.clone() })
    }

    /// Toggl stops the entry at its own clock; a caller that needs another end updates it afterwards.
    fn stop(&mut self, id: &str, _at: DateTime<Utc>) -> Result<(), RemoteError> {
        let path = format!("{}/stop", self.entry_path(id)?);
        self.client.send(QuotaClass::Workspace, &Request::new(Method::Patch, &path))?;
        Ok(())
    }

    fn running(&mut self) -> Result<Option<RemoteEntry>, RemoteError> {
        let answer =
            self.client.send(QuotaClass::Me, &Request::new(Method::Get, "/me/time_entries/current"))?;
        let wire: Option<WireEntry> = parse(&answer.body, "GET /me/time_entries/current")?;
        Ok(wire.and_then(WireEntry::into_remote))
    }

    fn quota_left(&self) -> Option<u32> {
        // A figure whose reset has passed says nothing any more (the quota renewed since).
        let quota = &self.client.quotas.workspace;
        if quota.resets_at.is_some_and(|at| at <= self.client.quotas.now()) {
            return None;
        }
        quota.remaining.map(|left| u32::try_from(left.max(0)).unwrap_or(u32::MAX))
    }

    fn requests_sent(&self) -> u64 {
        self.client.requests_sent()
    }

    fn known_user_id(&self) -> Option<&str> {
        None
    }

    fn prefers_one_listing(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_402_is_told_from_a_paid_feature_402() {
        assert!(is_quota_message(r#""You have hit your hourly limit for API calls""#));
        assert!(!is_quota_message(r#""Billable is only available on paid plans""#));
    }

    #[test]
    fn a_stored_402_is_never_overwritten_by_a_stale_figure() {
        let quota = |remaining, reset: &str| Quota { remaining: Some(remaining), resets_at: Some(at(reset)) };
        // Another process's 402 (0 left until 10:54) beats this one's older figure (5 left until 10:50).
        assert_eq!(
            later_of(quota(5, "2026-11-02T10:50:00Z"), quota(0, "2026-11-02T10:54:00Z")).remaining,
            Some(0)
        );
        // A fresher figure (a new hour) beats an older 402.
        assert_eq!(
            later_of(quota(28, "2026-11-02T11:54:00Z"), quota(0, "2026-11-02T10:54:00Z")).remaining,
            Some(28)
        );
        // For one reset, the fewer left; anything beats nothing.
        assert_eq!(
            later_of(quota(3, "2026-11-02T10:54:00Z"), quota(1, "2026-11-02T10:54:00Z")).remaining,
            Some(1)
        );
        assert_eq!(later_of(Quota::default(), quota(1, "2026-11-02T10:54:00Z")).remaining, Some(1));
    }

    #[test]
    fn a_quota_snapshot_round_trips_and_a_passed_reset_is_forgotten() {
        let token = ApiKey::new("t").unwrap();
        let clock = Clock::Fixed(at("2026-11-02T10:30:00Z"));
        let options = ClientOptions::toggl();
        let mut client = Toggl::new("http://127.0.0.1:1", token, options, Pause::default(), clock);
        client.restore_quota("me:4:2026-11-02T10:54:00Z;workspace:0:2026-11-02T10:20:00Z;bad");
        assert_eq!(client.quota_snapshot(), "me:4:2026-11-02T10:54:00Z");
    }

    #[test]
    fn a_spent_quota_blocks_until_it_resets() {
        let now = at("2026-11-02T09:00:00Z");
        let spent = Quota { remaining: Some(0), resets_at: Some(at("2026-11-02T09:10:00Z")) };
        assert_eq!(spent.spent_for(now), Some(Duration::from_secs(600)));
        let renewed = Quota { remaining: Some(0), resets_at: Some(now) };
        assert_eq!(renewed.spent_for(now), None);
        assert_eq!(Quota { remaining: Some(3), resets_at: None }.spent_for(now), None);
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Issue 15: start 17:00:00.900 and end 17:10:00.100 went out as 17:00:00, 17:10:00 and
    /// `duration` 599, which Toggl refuses; the cut instants and their difference, 600, go out now.
    #[test]
    fn a_body_sends_whole_seconds_and_the_duration_between_them() {
        let draft = EntryDraft {
            start: at("2026-11-02T17:00:00.900Z"),
            end: Some(at("2026-11-02T17:10:00.100Z")),
            project_id: Some("100".into()),
            description: "shop (main)".into(),
            tags: vec!["claude-code".into()],
            billable: Some(true),
        };
        assert_eq!(
            entry_body("777", &draft).unwrap(),
            json!({
                "created_with": "claude-tracker",
                "workspace_id": 777,
                "project_id": 100,
                "start": "2026-11-02T17:00:00Z",
                "stop": "2026-11-02T17:10:00Z",
                "duration": 600,
                "description": "shop (main)",
                "tags": ["claude-code"],
                "billable": true,
            })
        );
        let running = EntryDraft { end: None, project_id: None, billable: None, ..draft };
        assert_eq!(
            entry_body("777", &running).unwrap(),
            json!({
                "created_with": "claude-tracker",
                "workspace_id": 777,
                "project_id": null,
                "start": "2026-11-02T17:00:00Z",
                "duration": -1,
                "description": "shop (main)",
                "tags": ["claude-code"],
            })
        );
    }

    #[test]
    fn a_window_is_split_at_a_whole_second_until_it_is_one_second_long() {
        let day = at("2026-11-02T00:00:00Z");
        assert_eq!(midpoint(day, at("2026-11-03T00:00:00Z")), Some(at("2026-11-02T12:00:00Z")));
        assert_eq!(midpoint(day, at("2026-11-02T00:00:03Z")), Some(at("2026-11-02T00:00:01Z")));
        assert_eq!(midpoint(day, at("2026-11-02T00:00:02Z")), Some(at("2026-11-02T00:00:01Z")));
        assert_eq!(midpoint(day, at("2026-11-02T00:00:01Z")), None);
        assert_eq!(midpoint(day, day), None);
    }
}

/// Every `Timesheet` call against the fake Toggl Track (`tests/e2e/fake_toggl.rs`), which follows the
/// documented v9 API.
#[cfg(test)]
mod fake_tests {
    use super::*;
    use crate::fake_toggl::{self as fake, FakeToggl, Fault};

    fn timesheet(service: &FakeToggl) -> TogglTimesheet {
        service.set_min_interval_ms(0);
        service.add_project(fake::WORKSPACE_ID, 100, "Shop", "Client");
        let options = ClientOptions {
            min_interval: Duration::ZERO,
            backoff: Duration::from_millis(1),
            ..ClientOptions::toggl()
        };
        let token = ApiKey::new(fake::API_TOKEN).unwrap();
        TogglTimesheet {
            client: Toggl::new(&service.base_url(), token, options, Pause::default(), Clock::System),
            workspace_id: fake::WORKSPACE_ID.to_string(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn draft(start: &str, end: Option<&str>, description: &str) -> EntryDraft {
        EntryDraft {
            start: at(start),
            end: end.map(at),
            project_id: Some("100".into()),
            description: description.into(),
            tags: vec!["claude-code".into()],
            billable: None,
        }
    }

    fn remote(id: &str, start: &str, end: Option<&str>, description: &str) -> RemoteEntry {
        RemoteEntry {
            id: id.into(),
            project_id: Some("100".into()),
            start: at(start),
            end: end.map(at),
            description: description.into(),
        }
    }

    #[test]
    fn create_update_list_start_stop_running_and_delete() {
        let service = FakeToggl::start();
        let mut toggl = timesheet(&service);
        let id = toggl.create(&draft("2026-11-02T09:00:00Z", Some("2026-11-02T12:00:00Z"), "Dev")).unwrap();
        toggl.update(&id, &draft("2026-11-02T09:00:00Z", Some("2026-11-02T13:00:00Z"), "Dev 2")).unwrap();
        let (from, to) = (at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z"));
        assert_eq!(
            toggl.list(from, to).unwrap(),
            vec![remote(&id, "2026-11-02T09:00:00Z", Some("2026-11-02T13:00:00Z"), "Dev 2")]
        );
        assert_eq!(toggl.running().unwrap(), None);
        let timer =
            toggl.start(&draft("2026-11-02T14:00:00Z", Some("2026-11-02T15:00:00Z"), "Live")).unwrap();
        assert_eq!(toggl.running().unwrap(), Some(remote(&timer, "2026-11-02T14:00:00Z", None, "Live")));
        let stored = service.entries();
        assert_eq!((stored[1].duration, stored[1].stop.as_str()), (-1, ""), "running: duration -1, no stop");
        toggl.stop(&timer, at("2026-11-02T14:30:00Z")).unwrap();
        assert_eq!(toggl.running().unwrap(), None);
        let error = toggl.stop(&timer, at("2026-11-02T14:30:00Z")).unwrap_err();
        assert!(matches!(error, RemoteError::Refused { status: 409, .. }), "{error:?}");
        toggl.delete(&id).unwrap();
        toggl.delete(&id).unwrap(); // already gone: deleted all the same
        assert_eq!(
            service.entries().iter().map(|e| e.id.to_string()).collect::<Vec<_>>(),
            vec![timer.clone()]
        );
        let entries = format!("/api/v9/workspaces/{}/time_entries", fake::WORKSPACE_ID);
        let calls: Vec<String> =
            service.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect();
        assert_eq!(
            calls,
            vec![
                format!("POST {entries} 200"),
                format!("PUT {entries}/{id} 200"),
                "GET /api/v9/me/time_entries 200".to_string(),
                "GET /api/v9/me/time_entries/current 200".to_string(),
                format!("POST {entries} 200"),
                "GET /api/v9/me/time_entries/current 200".to_string(),
                format!("PATCH {entries}/{timer}/stop 200"),
                "GET /api/v9/me/time_entries/current 200".to_string(),
                format!("PATCH {entries}/{timer}/stop 409"),
                format!("DELETE {entries}/{id} 200"),
                format!("DELETE {entries}/{id} 404"),
            ]
        );
    }

    /// A create and an update with sub-second times, as a transcript gives them, are accepted by the fake
    /// (which refuses a `duration` other than `stop - start`) and stored in whole seconds.
    #[test]
    fn sub_second_times_are_stored_cut_with_a_matching_duration() {
        let service = FakeToggl::start();
        let mut toggl = timesheet(&service);
        let draft = draft("2026-11-02T17:00:00.900Z", Some("2026-11-02T17:10:00.100Z"), "Dev");
        let id = toggl.create(&draft).unwrap();
        let stored = fake::Entry {
            id: id.parse().unwrap(),
            workspace_id: fake::WORKSPACE_ID,
            project_id: Some(100),
            start: "2026-11-02T17:00:00+00:00".into(),
            stop: "2026-11-02T17:10:00+00:00".into(),
            duration: 600,
            description: "Dev".into(),
            tags: vec!["claude-code".into()],
            billable: false,
            created_with: "claude-tracker".into(),
        };
        assert_eq!(service.entries(), vec![stored.clone()]);
        let later = EntryDraft { end: Some(at("2026-11-02T17:20:00.999Z")), ..draft };
        toggl.update(&id, &later).unwrap();
        let updated = fake::Entry { stop: "2026-11-02T17:20:00+00:00".into(), duration: 1200, ..stored };
        assert_eq!(service.entries(), vec![updated]);
    }

    /// 2,500 entries in a day, more than one answer holds (the fake cuts at the documented 1,000, as
    /// Toggl does): every full answer's window is halved and asked again, and nothing is missed or
    /// doubled. A day under the limit stays one request.
    #[test]
    fn a_listing_past_the_limit_is_split_until_nothing_is_missed() {
        let service = FakeToggl::start();
        let mut toggl = timesheet(&service);
        let day = at("2026-11-02T00:00:00Z");
        // One every 30 s from midnight: 00:00 to 20:49:30.
        for n in 0..2500 {
            let start = day + chrono::Duration::seconds(30 * n);
            service.insert_entry(fake::Entry {
                id: 1 + n,
                workspace_id: fake::WORKSPACE_ID,
                project_id: Some(100),
                start: start.to_rfc3339(),
                stop: (start + chrono::Duration::seconds(20)).to_rfc3339(),
                duration: 20,
                description: "elsewhere".into(),
                tags: Vec::new(),
                billable: false,
                created_with: "another machine".into(),
            });
        }
        let listed = toggl.list(day, at("2026-11-03T00:00:00Z")).unwrap();
        let mut ids: Vec<i64> = listed.iter().map(|e| e.id.parse().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=2500).collect::<Vec<i64>>());
        let windows: Vec<String> = service.requests().iter().map(|r| r.query.clone()).collect();
        let window = |from: &str, to: &str| {
            format!("start_date=2026-11-02T{from}%3A00%3A00Z&end_date=2026-11-0{to}%3A00%3A00Z")
        };
        assert_eq!(
            windows,
            vec![
                window("00", "3T00"), // 2500: full
                window("00", "2T12"), // 1440: full
                window("00", "2T06"), // 720
                window("06", "2T12"), // 720
                window("12", "3T00"), // 1060: full
                window("12", "2T18"), // 720
                window("18", "3T00"), // 340
            ]
        );
        let before = service.requests().len();
        let morning = toggl.list(day, at("2026-11-02T06:00:00Z")).unwrap();
        assert_eq!(
            (morning.len(), service.requests().len() - before),
            (720, 1),
            "under the limit: one request"
        );
    }

    #[test]
    fn put_and_delete_are_retried_after_a_5xx_but_patch_is_not() {
        let service = FakeToggl::start();
        let mut toggl = timesheet(&service);
        let id = toggl.create(&draft("2026-11-02T09:00:00Z", Some("2026-11-02T12:00:00Z"), "Dev")).unwrap();
        service.fail_next("PUT", Fault::Status(502));
        toggl.update(&id, &draft("2026-11-02T09:00:00Z", Some("2026-11-02T11:00:00Z"), "Dev")).unwrap();
        assert_eq!(service.entries()[0].stop, "2026-11-02T11:00:00+00:00");
        let timer = toggl.start(&draft("2026-11-02T14:00:00Z", None, "Live")).unwrap();
        service.fail_next("PATCH", Fault::Status(503));
        let error = toggl.stop(&timer, at("2026-11-02T15:00:00Z")).unwrap_err();
        assert!(matches!(error, RemoteError::MaybeStored { .. }), "{error:?}");
        service.fail_next("DELETE", Fault::Status(500));
        toggl.delete(&id).unwrap();
        let methods: Vec<(String, u16)> =
            service.requests().into_iter().map(|r| (r.method, r.status)).collect();
        let expected: Vec<(String, u16)> = [
            ("POST", 200),
            ("PUT", 502),
            ("PUT", 200),
            ("POST", 200),
            ("PATCH", 503),
            ("DELETE", 500),
            ("DELETE", 200),
        ]
        .into_iter()
        .map(|(m, s)| (m.to_string(), s))
        .collect();
        assert_eq!(methods, expected);
    }

    #[test]
    fn a_malformed_id_is_not_sent_and_never_reads_as_an_http_status() {
        let service = FakeToggl::start();
        let mut toggl = timesheet(&service);
        let error = toggl.delete("abc").unwrap_err();
        assert_eq!(
            error.to_string(),
            "a Toggl request with this time entry id was not sent: `abc` is not a Toggl id. Toggl ids are whole \
             numbers: fix `[toggl]` in the config"
        );
        assert!(service.requests().is_empty());
    }
}
