//! The one HTTP layer the service clients share: a blocking ureq agent with keep-alive, timeouts and the
//! user agent, pacing between requests, authentication, and answers read whole with the headers the
//! clients act on. Status codes are answers, not errors, so a service's own message is kept. Retry and
//! classification are each client's business: the services differ there.

use std::time::{Duration, Instant};

use base64::Engine;

use crate::pause::{Interrupted, Pause};
use crate::secrets::ApiKey;
use crate::timesheet::RemoteError;

/// Tunables of a client; each service has its own defaults.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientOptions {
    /// Pause between two requests.
    pub(crate) min_interval: Duration,
    /// Attempts for a request that is safe to repeat, and waits on a short 429.
    pub(crate) attempts: u32,
    /// First back-off delay, doubled on each retry.
    pub(crate) backoff: Duration,
    /// A wait longer than this ends the run instead (an hourly quota).
    pub(crate) max_wait: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
}

impl ClientOptions {
    /// Clockify: 50 requests per second allowed; 25 ms apart keeps a run at 40.
    pub(crate) fn clockify() -> ClientOptions {
        ClientOptions { min_interval: Duration::from_millis(25), ..Self::base() }
    }

    /// Toggl Track: at most one request per second.
    pub(crate) fn toggl() -> ClientOptions {
        ClientOptions { min_interval: Duration::from_secs(1), ..Self::base() }
    }

    fn base() -> ClientOptions {
        ClientOptions {
            min_interval: Duration::ZERO,
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// How a client proves who it is; the secret is only turned into a header value when a request is built.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// A header carrying the key (Clockify's `X-Api-Key`).
    Header(&'static str, ApiKey),
    /// HTTP basic auth with the token as user and `api_token` as password (Toggl).
    TokenBasic(ApiKey),
}

impl Auth {
    fn header(&self) -> (&'static str, String) {
        match self {
            Auth::Header(name, key) => (name, key.expose().to_string()),
            Auth::TokenBasic(token) => {
                let pair = format!("{}:api_token", token.expose());
                ("Authorization", format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
            }
        }
    }
}

/// The longest wait a service's header is taken at.
const MAX_WAIT_SECONDS: u64 = 86_400;

/// An HTTP method; whether a request may be repeated blindly follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// True when sending the request twice has the effect of sending it once (RFC 9110 9.2.2): such a
    /// request is retried after a lost answer; a POST or PATCH is not (the caller looks first).
    pub(crate) fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put | Method::Delete)
    }

    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One request: method, path below the base URL, query pairs and an optional JSON body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) query: &'a [(&'a str, String)],
    pub(crate) body: Option<&'a serde_json::Value>,
}

impl<'a> Request<'a> {
    /// A request without query or body.
    pub(crate) fn new(method: Method, path: &'a str) -> Request<'a> {
        Request { method, path, query: &[], body: None }
    }

    /// The same request with a query.
    pub(crate) fn query(self, query: &'a [(&'a str, String)]) -> Request<'a> {
        Request { query, ..self }
    }

    /// The same request with a JSON body.
    pub(crate) fn body(self, body: &'a serde_json::Value) -> Request<'a> {
        Request { body: Some(body), ..self }
    }

    /// `METHOD /path`, for messages (never with the query, which may be long).
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// One answer, read whole, with its headers for the client's policy to read.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// Every header, names in lower case.
    headers: Vec<(String, String)>,
}

impl Answer {
    /// A header's value (trimmed), by case-insensitive name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A header holding a number of seconds, capped at a day: a longer wait means the same (come back
    /// later), and no arithmetic on it can overflow.
    pub(crate) fn seconds_header(&self, name: &str) -> Option<Duration> {
        self.header(name)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(MAX_WAIT_SECONDS)))
    }

    /// `Retry-After`, in seconds.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.seconds_header("retry-after")
    }
}

/// A paced, authenticated agent for one service.
pub(crate) struct HttpClient {
    agent: ureq::Agent,
    base_url: String,
    auth: Auth,
    pub(crate) options: ClientOptions,
    pause: Pause,
    last_request: Option<Instant>,
    /// Requests sent, retries included.
    pub(crate) requests_sent: u64,
}

impl HttpClient {
    /// A client for `base_url`; its waits go through `pause`.
    pub(crate) fn new(base_url: &str, auth: Auth, options: ClientOptions, pause: Pause) -> HttpClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect would carry a custom key header (X-Api-Key) to another host: never follow one.
            .max_redirects(0)
            .user_agent(format!("claude-tracker/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .timeout_recv_body(Some(options.read_timeout))
            .build()
            .into();
        HttpClient {
            agent,
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            options,
            pause,
            last_request: None,
            requests_sent: 0,
        }
    }

    /// Waits until `min_interval` has passed since the previous answer arrived (measured from the answer,
    /// not the request, so the service's own clock never sees two requests closer than that).
    fn pace(&self) -> Result<(), Interrupted> {
        if let Some(last) = self.last_request {
            let since = last.elapsed();
            if since < self.options.min_interval {
                self.pause.sleep(self.options.min_interval - since)?;
            }
        }
        Ok(())
    }

    /// Sends one request after the pacing pause. `Err` is a request that got no answer at all, described
    /// without the secret.
    fn send_once(&mut self, request: &Request<'_>) -> Result<Answer, String> {
        self.pace().map_err(|_| format!("{}: interrupted before sending", request.describe()))?;
        self.requests_sent += 1;
        let answer = self.send_now(request);
        self.last_request = Some(Instant::now());
        answer
    }

    fn send_now(&mut self, request: &Request<'_>) -> Result<Answer, String> {
        let url = format!("{}{}", self.base_url, request.path);
        let (auth_name, auth_value) = self.auth.header();
        let pairs = request.query.iter().map(|(k, v)| (*k, v.as_str()));
        let describe = || request.describe();
        let result = match (request.method, request.body) {
            (Method::Get, _) => self.agent.get(&url).header(auth_name, &auth_value).query_pairs(pairs).call(),
            (Method::Delete, _) => {
                self.agent.delete(&url).header(auth_name, &auth_value).query_pairs(pairs).call()
            }
            (method, body) => {
                let builder = match method {
                    Method::Put => self.agent.put(&url),
                    Method::Patch => self.agent.patch(&url),
                    _ => self.agent.post(&url),
                };
                let text = body.map_or_else(String::new, serde_json::Value::to_string);
                builder
                    .header(auth_name, &auth_value)
                    .header("Content-Type", "application/json")
                    .query_pairs(pairs)
                    .send(text)
            }
        };
        let mut response = result.map_err(|error| format!("{}: {error}", describe()))?;
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value.to_str().ok().map(|v| (name.as_str().to_lowercase(), v.trim().to_string()))
            })
            .collect();
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| format!("{}: reading the answer failed: {error}", describe()))?;
        Ok(Answer { status, body, headers })
    }
}

/// What differs between services around the shared retry loop.
pub(crate) trait ServicePolicy {
    /// Refuses to send a request known in advance to fail (a spent quota).
    fn check_before_send(&mut self) -> Result<(), RemoteError> {
        Ok(())
    }
    /// Learns from every answer (quota headers); may turn it into a final error (a quota 402).
    fn observe(&mut self, _answer: &Answer) -> Option<RemoteError> {
        None
    }
    /// Words a refusal: the service's message and what to do.
    fn refusal(&self, request: &Request<'_>, answer: &Answer) -> RemoteError;
}

impl HttpClient {
    /// Sends a request, retrying what is safe to retry: a 429 (refused before any work) after its
    /// `Retry-After` when that is short; network errors and 5xx of an idempotent request, with back-off.
    /// A POST or PATCH without a usable answer is `MaybeStored`: the caller looks before trying again.
    pub(crate) fn send(
        &mut self,
        policy: &mut dyn ServicePolicy,
        request: &Request<'_>,
    ) -> Result<Answer, RemoteError> {
        let idempotent = request.method.is_idempotent();
        let mut delay = self.options.backoff;
        let mut attempt = 1;
        loop {
            policy.check_before_send()?;
            let outcome = self.send_once(request);
            if let Ok(answer) = &outcome
                && let Some(error) = policy.observe(answer)
            {
                return Err(error);
            }
            let retryable = attempt < self.options.attempts;
            let wait = match outcome {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer),
                Ok(answer) if answer.status == 429 => {
                    let wait = answer.retry_after().unwrap_or(Duration::from_secs(1));
                    if wait > self.options.max_wait {
                        return Err(RemoteError::QuotaSpent { retry_after: wait });
                    }
                    if !retryable {
                        return Err(RemoteError::Throttled { attempts: attempt });
                    }
                    wait
                }
                Ok(answer) if answer.status >= 500 && idempotent && retryable => {
                    delay *= 2;
                    delay / 2
                }
                Ok(answer) if answer.status >= 500 => {
                    let message = error_message(&answer.body);
                    let detail = format!("{}: HTTP {}: {message}", request.describe(), answer.status);
                    return Err(RemoteError::MaybeStored { detail });
                }
                Ok(answer) => return Err(policy.refusal(request, &answer)),
                Err(_) if idempotent && retryable => {
                    delay *= 2;
                    delay / 2
                }
                Err(detail) => return Err(RemoteError::MaybeStored { detail }),
            };
            self.pause.sleep(wait).map_err(|_| RemoteError::Interrupted)?;
            attempt += 1;
        }
    }
}

/// Parses a JSON answer; an answer of another shape is treated as no usable answer.
pub(crate) fn parse<T: for<'de> serde::Deserialize<'de>>(
    body: &str,
    service: &str,
    what: &str,
) -> Result<T, RemoteError> {
    serde_json::from_str(body).map_err(|error| RemoteError::MaybeStored {
        detail: format!("{what}: {service}'s answer was not what its API documents ({error})"),
    })
}

/// A service's error message: a JSON object's `message` (or `error`), a JSON string, or the text itself.
pub(crate) fn error_message(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(serde_json::Value::Object(map)) => ["message", "error", "error_message"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_str()).map(str::to_string))
            .unwrap_or_else(|| body.chars().take(200).collect()),
        _ => body.chars().take(200).collect::<String>().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_are_found_in_every_shape() {
        assert_eq!(
            error_message(r#"{"message":"Project doesn't belong to Workspace","code":501}"#),
            "Project doesn't belong to Workspace"
        );
        assert_eq!(error_message(r#""workspace_id mismatch""#), "workspace_id mismatch");
        assert_eq!(
            error_message("Incorrect username and/or password\n"),
            "Incorrect username and/or password"
        );
    }

    #[test]
    fn basic_auth_never_needs_the_token_in_a_message() {
        let auth = Auth::TokenBasic(ApiKey::new("tok").unwrap());
        let (name, value) = auth.header();
        assert_eq!(name, "Authorization");
        assert_eq!(value, "Basic dG9rOmFwaV90b2tlbg==");
        assert!(!format!("{auth:?}").contains("tok\""));
    }
}
