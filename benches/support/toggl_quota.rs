//! Toggl's hourly quota on a simulated clock, for the live benchmark: a proxy on 127.0.0.1 in front of
//! the fake Toggl (`tests/e2e/fake_toggl.rs`, whose own quota is set out of reach) that counts requests
//! per sliding hour of the *simulated* day, sends `X-Toggl-Quota-Remaining` / `X-Toggl-Quota-Resets-In`
//! from that count, and answers the fake's quota 402 itself when the hour is spent (not counted, as
//! Toggl does). Why a proxy: the fake counts on the real clock, and a simulated day takes a minute.
//!
//! - Classes as the fake has them: paths under `/api/v9/me` draw on the `/me` quota, every other path
//!   on the workspace quota (30 an hour each: Toggl Free).
//! - Another client of the same account (a phone app) can be made to spend workspace requests at the
//!   current simulated instant ([`QuotaProxy::spend_elsewhere_to`]): that is how the quota falls.
//! - `X-Toggl-Quota-Resets-In` is the simulated seconds until the oldest counted request leaves the
//!   hour, rounded up: the client counts it on the run's clock (the clock file), as the real one counts
//!   Toggl's seconds on the system clock.
//! - Every request is logged with the simulated instant, and a request that changes the start, stop or
//!   project of an entry that was already stopped (or deletes it) is recorded as a rewrite, with the
//!   entry before and after.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::fake_http::{Answer, Handler, Request, Response, Server};
use crate::fake_toggl::{Entry, FakeToggl, quota_exhausted_body};

const HOUR: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// The simulated instant it was answered at.
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Whether it drew on the `/me` quota.
    pub me: bool,
    /// Whether it counted against its quota (answered, not a 402 of the quota, not a 429).
    pub counted: bool,
    /// `X-Toggl-Quota-Remaining` sent.
    pub remaining: i64,
    /// A POST that created an entry: its id, and whether it runs (a start) or was posted whole.
    pub created: Option<(i64, bool)>,
}

/// A request that changed an entry after it had been stopped.
#[derive(Clone, Debug)]
pub struct Rewrite {
    pub at: DateTime<Utc>,
    pub method: String,
    pub before: Entry,
    /// `None`: deleted.
    pub after: Option<Entry>,
}

struct State {
    clock: DateTime<Utc>,
    /// Where the simulated and the real clock started (for the pace).
    started: Option<(DateTime<Utc>, Instant)>,
    limit: i64,
    me_limit: i64,
    used: VecDeque<DateTime<Utc>>,
    me_used: VecDeque<DateTime<Utc>>,
    elsewhere: usize,
    log: Vec<Logged>,
    rewrites: Vec<Rewrite>,
}

impl State {
    fn window(&mut self, me: bool) -> (&mut VecDeque<DateTime<Utc>>, i64) {
        let now = self.clock;
        let (used, limit) =
            if me { (&mut self.me_used, self.me_limit) } else { (&mut self.used, self.limit) };
        while used.front().is_some_and(|t| now - *t >= HOUR) {
            used.pop_front();
        }
        (used, limit)
    }

    /// `(remaining, resets in simulated seconds)`.
    fn peek(&mut self, me: bool) -> (i64, u64) {
        let now = self.clock;
        let (used, limit) = self.window(me);
        let remaining = (limit - used.len() as i64).max(0);
        let simulated = used.front().map_or(3600.0, |oldest| (HOUR - (now - *oldest)).as_seconds_f64());
        (remaining, (simulated.ceil() as u64).max(1))
    }

    /// Simulated seconds per real second since the run started (1 before it has).
    fn pace(&self) -> f64 {
        match self.started {
            Some((simulated, real)) => {
                let real = real.elapsed().as_secs_f64();
                let simulated = (self.clock - simulated).as_seconds_f64();
                if real > 0.5 && simulated > 0.0 { simulated / real } else { 600.0 }
            }
            None => 1.0,
        }
    }
}

struct Proxy {
    upstream: SocketAddr,
    fake: Arc<FakeToggl>,
    state: Mutex<State>,
}

impl Proxy {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running proxy. Its base URL stands for Toggl's.
pub struct QuotaProxy {
    server: Server,
    proxy: Arc<Proxy>,
}

impl QuotaProxy {
    /// In front of `fake`, with `per_hour` requests an hour in each class; the simulated clock at `start`.
    pub fn start(fake: Arc<FakeToggl>, per_hour: i64, start: DateTime<Utc>) -> QuotaProxy {
        let proxy = Arc::new(Proxy {
            upstream: fake.addr(),
            fake,
            state: Mutex::new(State {
                clock: start,
                started: None,
                limit: per_hour,
                me_limit: per_hour,
                used: VecDeque::new(),
                me_used: VecDeque::new(),
                elsewhere: 0,
                log: Vec::new(),
                rewrites: Vec::new(),
            }),
        });
        let server = Server::start("toggl-quota", proxy.clone());
        QuotaProxy { server, proxy }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/api/v9", self.server.addr())
    }

    /// Moves the simulated clock (never back); the first call starts the pace.
    pub fn set_clock(&self, now: DateTime<Utc>) {
        let mut state = self.proxy.state();
        state.clock = state.clock.max(now);
        if state.started.is_none() {
            state.started = Some((state.clock, Instant::now()));
        }
    }

    /// Another client of the account spends workspace requests now until at most `remaining` are left;
    /// returns how many it spent.
    pub fn spend_elsewhere_to(&self, remaining: i64) -> usize {
        let mut state = self.proxy.state();
        let now = state.clock;
        let mut spent = 0;
        while state.peek(false).0 > remaining {
            state.window(false).0.push_back(now);
            spent += 1;
        }
        state.elsewhere += spent;
        spent
    }

    /// How many requests have been answered (waits while one is in flight).
    pub fn answered(&self) -> usize {
        self.proxy.state().log.len()
    }

    /// Workspace requests the account has left now.
    pub fn remaining(&self) -> i64 {
        self.proxy.state().peek(false).0
    }

    /// Requests the other client spent.
    pub fn spent_elsewhere(&self) -> usize {
        self.proxy.state().elsewhere
    }

    /// Every request of the tracker so far.
    pub fn log(&self) -> Vec<Logged> {
        self.proxy.state().log.clone()
    }

    pub fn rewrites(&self) -> Vec<Rewrite> {
        self.proxy.state().rewrites.clone()
    }

    /// Simulated seconds per real second so far.
    pub fn pace(&self) -> f64 {
        self.proxy.state().pace()
    }
}

/// The id of the entry a `PUT`/`DELETE .../time_entries/{id}` or `PATCH .../{id}/stop` changes.
fn target_entry(request: &Request) -> Option<i64> {
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    match (request.method.as_str(), segments.as_slice()) {
        ("PUT" | "DELETE", [.., "time_entries", id]) | ("PATCH", [.., "time_entries", id, "stop"]) => {
            id.parse().ok()
        }
        _ => None,
    }
}

impl Handler for Proxy {
    fn handle(&self, request: &Request) -> Answer {
        // One request at a time: the quota and the before/after of an entry stay consistent.
        let mut state = self.state();
        let me = request.path.strip_prefix("/api/v9/me").is_some_and(|r| r.is_empty() || r.starts_with('/'));
        let (remaining, resets_in) = state.peek(me);
        let at = state.clock;
        if remaining <= 0 {
            state.log.push(Logged {
                at,
                method: request.method.clone(),
                path: request.path.clone(),
                status: 402,
                me,
                counted: false,
                remaining: 0,
                created: None,
            });
            return Answer::now(quota_response(
                Response::new(402, "text/plain; charset=utf-8", quota_exhausted_body(resets_in)),
                0,
                resets_in,
            ));
        }
        let target = target_entry(request);
        let before = target.and_then(|id| self.fake.entries().into_iter().find(|e| e.id == id));
        let Some((status, content_type, body)) = forward(self.upstream, request) else {
            state.log.push(Logged {
                at,
                method: request.method.clone(),
                path: request.path.clone(),
                status: 0,
                me,
                counted: false,
                remaining,
                created: None,
            });
            return Answer::Drop;
        };
        let counted = !matches!(status, 403 | 429);
        if counted {
            state.window(me).0.push_back(at);
        }
        let (remaining, resets_in) = state.peek(me);
        if let Some(before) = before.filter(|e| !e.stop.is_empty()) {
            let after = self.fake.entries().into_iter().find(|e| e.id == before.id);
            let changed = after.as_ref().is_none_or(|a| {
                (&a.start, &a.stop, a.project_id) != (&before.start, &before.stop, before.project_id)
            });
            if changed {
                state.rewrites.push(Rewrite { at, method: request.method.clone(), before, after });
            }
        }
        let created = (request.method == "POST" && status == 200)
            .then(|| serde_json::from_str::<serde_json::Value>(&body).ok())
            .flatten()
            .and_then(|entry| Some((entry["id"].as_i64()?, entry["stop"].is_null())));
        state.log.push(Logged {
            at,
            method: request.method.clone(),
            path: request.path.clone(),
            status,
            me,
            counted,
            remaining,
            created,
        });
        Answer::now(quota_response(Response::new(status, content_type, body), remaining, resets_in))
    }

    fn malformed(&self, what: &str) -> Response {
        Response::new(400, "text/plain; charset=utf-8", format!("Malformed HTTP request: {what} (proxy)\n"))
    }
}

fn quota_response(mut response: Response, remaining: i64, resets_in: u64) -> Response {
    response.headers.push(("X-Toggl-Quota-Remaining".into(), remaining.to_string()));
    response.headers.push(("X-Toggl-Quota-Resets-In".into(), resets_in.to_string()));
    response
}

/// Sends the request to the fake on a connection of its own; `(status, content type, body)`, or `None`
/// when the fake answered nothing.
fn forward(upstream: SocketAddr, request: &Request) -> Option<(u16, &'static str, String)> {
    let mut stream = TcpStream::connect(upstream).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let target = if request.query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{}", request.path, request.query)
    };
    let mut head =
        format!("{} {target} HTTP/1.1\r\nHost: {upstream}\r\nConnection: close\r\n", request.method);
    for name in ["Authorization", "Content-Type"] {
        if let Some(value) = request.header(name) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(&request.body).ok()?;
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let content_type = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-type")))
        .map_or("", |(_, v)| v.trim());
    let content_type = if content_type.starts_with("application/json") {
        "application/json; charset=utf-8"
    } else if content_type.starts_with("text/html") {
        "text/html"
    } else {
        "text/plain; charset=utf-8"
    };
    Some((status, content_type, body.to_string()))
}
