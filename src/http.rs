//! The one HTTP layer the service clients share: a blocking ureq agent with keep-alive, timeouts and the
//! user agent, pacing between requests, authentication, and answers read whole with the headers the
//! clients act on. Status codes are answers, not errors, so a service's own message is kept. Retry and
//! classification are each client's business: the services differ there.

use std::time::{Duration, Instant};

use base64::Engine;

use crate::secrets::ApiKey;
use crate::sync::RemoteError;

/// Tunables of a client; each service has its own defaults.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// Pause between two requests.
    pub min_interval: Duration,
    /// Attempts for a request that is safe to repeat, and waits on a short 429.
    pub attempts: u32,
    /// First back-off delay, doubled on each retry.
    pub backoff: Duration,
    /// A wait longer than this ends the run instead (an hourly quota).
    pub max_wait: Duration,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl ClientOptions {
    /// Clockify: 50 requests per second allowed; 25 ms apart keeps a run at 40.
    pub fn clockify() -> ClientOptions {
        ClientOptions { min_interval: Duration::from_millis(25), ..Self::base() }
    }

    /// Toggl Track: at most one request per second.
    pub fn toggl() -> ClientOptions {
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
pub enum Auth {
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

/// One answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<Duration>,
    /// `X-Toggl-Quota-Remaining`.
    pub quota_remaining: Option<i64>,
    /// `X-Toggl-Quota-Resets-In`, in seconds.
    pub quota_resets_in: Option<Duration>,
}

/// A paced, authenticated agent for one service.
pub struct HttpClient {
    agent: ureq::Agent,
    base_url: String,
    auth: Auth,
    pub options: ClientOptions,
    last_request: Option<Instant>,
    /// Requests sent, retries included.
    pub requests_sent: u64,
}

impl HttpClient {
    /// A client for `base_url`.
    pub fn new(base_url: &str, auth: Auth, options: ClientOptions) -> HttpClient {
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
            last_request: None,
            requests_sent: 0,
        }
    }

    /// Waits until `min_interval` has passed since the previous answer arrived (measured from the answer,
    /// not the request, so the service's own clock never sees two requests closer than that).
    fn pace(&self) {
        if let Some(last) = self.last_request {
            let since = last.elapsed();
            if since < self.options.min_interval {
                std::thread::sleep(self.options.min_interval - since);
            }
        }
    }

    /// Sends one request (a POST when there is a body, else a GET) after the pacing pause. `Err` is a
    /// request that got no answer at all, described without the secret.
    pub fn send_once(
        &mut self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        self.pace();
        self.requests_sent += 1;
        let answer = self.send_now(path, query, body);
        self.last_request = Some(Instant::now());
        answer
    }

    fn send_now(
        &mut self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base_url);
        let (auth_name, auth_value) = self.auth.header();
        let pairs = query.iter().map(|(k, v)| (*k, v.as_str()));
        let method = if body.is_some() { "POST" } else { "GET" };
        let result = match body {
            Some(body) => self
                .agent
                .post(&url)
                .header(auth_name, &auth_value)
                .header("Content-Type", "application/json")
                .query_pairs(pairs)
                .send(body.to_string()),
            None => self.agent.get(&url).header(auth_name, &auth_value).query_pairs(pairs).call(),
        };
        let mut response = result.map_err(|error| format!("{method} {path}: {error}"))?;
        let header = |name: &str| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string())
        };
        // Capped at a day: a longer wait means the same (come back later), and no arithmetic on it can
        // overflow.
        let seconds = |value: Option<String>| {
            value.and_then(|v| v.parse::<u64>().ok()).map(|s| Duration::from_secs(s.min(MAX_WAIT_SECONDS)))
        };
        let retry_after = seconds(header("retry-after"));
        let quota_remaining = header("x-toggl-quota-remaining").and_then(|v| v.parse().ok());
        let quota_resets_in = seconds(header("x-toggl-quota-resets-in"));
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|error| format!("{method} {path}: reading the answer failed: {error}"))?;
        Ok(Answer { status, body, retry_after, quota_remaining, quota_resets_in })
    }
}

/// What differs between services around the shared retry loop.
pub trait ServicePolicy {
    /// Refuses to send a request known in advance to fail (a spent quota).
    fn check_before_send(&mut self) -> Result<(), RemoteError> {
        Ok(())
    }
    /// Learns from every answer (quota headers); may turn it into a final error (a quota 402).
    fn observe(&mut self, _answer: &Answer) -> Option<RemoteError> {
        None
    }
    /// Words a refusal: the service's message and what to do.
    fn refusal(&self, method: &str, path: &str, answer: &Answer) -> RemoteError;
}

impl HttpClient {
    /// Sends a request, retrying what is safe to retry: a 429 (refused before any work) after its
    /// `Retry-After` when that is short; network errors and 5xx of a request that may be repeated, with
    /// back-off. A POST without a usable answer is `Transient`: it may have been stored, so the caller
    /// looks before trying again.
    pub fn send(
        &mut self,
        policy: &mut dyn ServicePolicy,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        idempotent: bool,
    ) -> Result<Answer, RemoteError> {
        let method = if body.is_some() { "POST" } else { "GET" };
        let mut delay = self.options.backoff;
        let mut attempt = 1;
        loop {
            policy.check_before_send()?;
            let outcome = self.send_once(path, query, body);
            if let Ok(answer) = &outcome
                && let Some(error) = policy.observe(answer)
            {
                return Err(error);
            }
            let retryable = attempt < self.options.attempts;
            match outcome {
                Ok(answer) if (200..300).contains(&answer.status) => return Ok(answer),
                Ok(answer) if answer.status == 429 => {
                    let wait = answer.retry_after.unwrap_or(Duration::from_secs(1));
                    if wait > self.options.max_wait || !retryable {
                        return Err(RemoteError::RateLimited { retry_after: wait });
                    }
                    std::thread::sleep(wait);
                }
                Ok(answer) if answer.status >= 500 && idempotent && retryable => {
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Ok(answer) if answer.status >= 500 && !idempotent => {
                    let message = error_message(&answer.body);
                    let detail = format!("{method} {path}: HTTP {}: {message}", answer.status);
                    return Err(RemoteError::Transient { detail });
                }
                Ok(answer) => return Err(policy.refusal(method, path, &answer)),
                Err(_) if idempotent && retryable => {
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(detail) => return Err(RemoteError::Transient { detail }),
            }
            attempt += 1;
        }
    }
}

/// Parses a JSON answer; an answer of another shape is treated as no usable answer.
pub fn parse<T: for<'de> serde::Deserialize<'de>>(
    body: &str,
    service: &str,
    what: &str,
) -> Result<T, RemoteError> {
    serde_json::from_str(body).map_err(|error| RemoteError::Transient {
        detail: format!("{what}: {service}'s answer was not what its API documents ({error})"),
    })
}

/// A service's error message: a JSON object's `message` (or `error`), a JSON string, or the text itself.
pub fn error_message(body: &str) -> String {
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
