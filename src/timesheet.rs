//! The one interface every timesheet service implements (Clockify, Toggl Track, the in-memory fake of
//! the tests): create, update, delete and list entries, and start, stop and read a running entry. The
//! sync executor depends on this module, never on a client; the clients' wire types stay private to them.
//!
//! Pure: types and a trait, no I/O.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// What is sent for one entry: the same shape for a create, an update and a start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct EntryDraft {
    pub(crate) start: DateTime<Utc>,
    /// `None` for a running entry (a timer).
    pub(crate) end: Option<DateTime<Utc>>,
    /// The service's project id; `None` posts an entry without a project.
    pub(crate) project_id: Option<String>,
    pub(crate) description: String,
    /// Tag names (a service without tags by name ignores them).
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
}

/// The one rounding rule for every instant sent to a service: down to the whole second. Services keep
/// whole seconds (Toggl checks `duration` = `stop` - `start`), and the ledger, its fingerprints and
/// adoption compare whole seconds too, so start and end are cut alike, once, before anything (a
/// duration) is derived from them. Cutting rather than rounding to the nearest keeps every entry posted
/// before this rule exactly as it was recorded (no update on upgrade).
pub(crate) fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

impl EntryDraft {
    /// The draft as it is sent: start and end in whole seconds ([`whole_second`]).
    pub(crate) fn in_whole_seconds(mut self) -> EntryDraft {
        self.start = whole_second(self.start);
        self.end = self.end.map(whole_second);
        self
    }
}

/// An entry as the service holds it, as much as adoption and the live timer need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteEntry {
    pub(crate) id: String,
    pub(crate) project_id: Option<String>,
    pub(crate) start: DateTime<Utc>,
    /// `None` while the entry is running.
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) description: String,
}

/// Why a request failed, as a caller must tell the cases apart: whether something may have been stored
/// decides between "look before trying again" and "try again".
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteError {
    /// No usable answer (a network error, a timeout, a 5xx): a create may or may not have been stored.
    #[error("no usable answer ({detail})")]
    MaybeStored { detail: String },
    /// The service's request quota (Toggl's hourly one) is spent until `retry_after` has passed.
    #[error("the request quota is spent for {}", minutes(*retry_after))]
    QuotaSpent { retry_after: Duration },
    /// The service kept answering `429 Too Many Requests` (a per-second bucket), past our waits.
    #[error("the service kept answering 429 Too Many Requests ({attempts} attempts)")]
    Throttled { attempts: u32 },
    /// The service refused the request; repeating it will not help.
    #[error("{request} was refused with HTTP {status}: {message}. {hint}")]
    Refused { status: u16, request: String, message: String, hint: String },
    /// We refused to send it: what we would send is wrong (a malformed id in the config).
    #[error("{request} was not sent: {message}. {hint}")]
    Invalid { request: String, message: String, hint: String },
    /// A long-running caller asked the wait before a retry to end.
    #[error("interrupted while waiting to retry")]
    Interrupted,
}

/// "1 minute", "5 minutes": a wait rounded up to whole minutes.
pub(crate) fn minutes(wait: Duration) -> String {
    match wait.as_secs().div_ceil(60).max(1) {
        1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    }
}

/// What the executor and the live timer need of a timesheet service.
pub(crate) trait Timesheet {
    /// The service's name, for messages.
    fn service(&self) -> &'static str;
    /// Creates a finished entry (`draft.end` set) and returns its id.
    fn create(&mut self, draft: &EntryDraft) -> Result<String, RemoteError>;
    /// Rewrites an entry in place.
    fn update(&mut self, id: &str, draft: &EntryDraft) -> Result<(), RemoteError>;
    /// Deletes an entry; one already gone counts as deleted.
    fn delete(&mut self, id: &str) -> Result<(), RemoteError>;
    /// The user's entries starting in `[from, to]`.
    fn list(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RemoteEntry>, RemoteError>;
    /// Starts a running entry (`draft.end` is ignored) and returns its id.
    fn start(&mut self, draft: &EntryDraft) -> Result<String, RemoteError>;
    /// Stops the running entry `id` at `at`.
    fn stop(&mut self, id: &str, at: DateTime<Utc>) -> Result<(), RemoteError>;
    /// The user's running entry, if any (the live timer looks once before its first start).
    fn running(&mut self) -> Result<Option<RemoteEntry>, RemoteError>;
    /// Makes sure every tag can go on an entry before a day's first request (Clockify takes tag ids: an
    /// unknown name is created, or refused with what to do); a service taking names needs nothing.
    fn prepare_tags(&mut self, _tags: &[String]) -> Result<(), RemoteError> {
        Ok(())
    }
    /// Requests the service still allows for entries in its current window, when it says (Toggl's
    /// hourly quota): the live timer plans its switches with it.
    fn quota_left(&self) -> Option<u32> {
        None
    }
    /// What the service said of its quotas, to keep in the database (see `Toggl::quota_snapshot`);
    /// empty for a service without quotas.
    fn quota_snapshot(&self) -> String {
        String::new()
    }
    /// Merges a stored quota snapshot into what the client knows (the later reset wins).
    fn restore_quota(&mut self, _snapshot: &str) {}
    /// Requests sent so far, retries included, for the summary and the benchmark.
    fn requests_sent(&self) -> u64;
    /// The user id, once known, so the caller can cache it.
    fn known_user_id(&self) -> Option<&str>;
    /// True when listing is dear (Toggl's `/me` quota): the days in doubt are then listed in one request
    /// over their whole span rather than one request each.
    fn prefers_one_listing(&self) -> bool {
        false
    }
}

/// An in-memory timesheet for unit tests: it keeps entries, logs every call, and fails on demand.
#[cfg(test)]
pub(crate) mod memory {
    use super::*;

    /// One call, as the log records it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Call {
        Create(String),
        Update(String),
        Delete(String),
        List(DateTime<Utc>, DateTime<Utc>),
        Start(String),
        Stop(String),
        Running,
    }

    /// The service's state and what it was asked.
    #[derive(Debug, Default)]
    pub(crate) struct Memory {
        pub(crate) entries: Vec<(RemoteEntry, EntryDraft)>,
        pub(crate) calls: Vec<Call>,
        /// Answers to give instead of doing the work, first in first out; `store_anyway` stores the
        /// entry before failing (an answer lost on the way back).
        pub(crate) faults: Vec<(RemoteError, bool)>,
        /// Offline while set: every request (a look at the running entry too) fails with
        /// [`RemoteError::MaybeStored`] and nothing is stored; the queued `faults` wait.
        pub(crate) offline: bool,
        next_id: u64,
    }

    impl Memory {
        fn fault(&mut self) -> Option<(RemoteError, bool)> {
            if self.offline {
                return Some((RemoteError::MaybeStored { detail: "offline".into() }, false));
            }
            (!self.faults.is_empty()).then(|| self.faults.remove(0))
        }

        /// One timer per user, as on the real services: a start stops the running entry at the new
        /// start (a finished entry created meanwhile leaves it running).
        fn stop_running(&mut self, at: DateTime<Utc>) {
            for (remote, draft) in self.entries.iter_mut().filter(|(e, _)| e.end.is_none()) {
                remote.end = Some(at);
                draft.end = Some(at);
            }
        }

        /// Keeps an entry. One without an end is a timer, as on the real services (a create without an
        /// end starts one, like a start): the running one is stopped first.
        fn store(&mut self, draft: &EntryDraft) -> String {
            if draft.end.is_none() {
                self.stop_running(draft.start);
            }
            self.next_id += 1;
            let id = format!("e{}", self.next_id);
            let remote = RemoteEntry {
                id: id.clone(),
                project_id: draft.project_id.clone(),
                start: draft.start,
                end: draft.end,
                description: draft.description.clone(),
            };
            self.entries.push((remote, draft.clone()));
            id
        }

        fn created(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
            match self.fault() {
                Some((error, true)) => {
                    self.store(draft);
                    Err(error)
                }
                Some((error, false)) => Err(error),
                None => Ok(self.store(draft)),
            }
        }

        /// Counts calls of one kind.
        pub(crate) fn count(&self, matches: impl Fn(&Call) -> bool) -> usize {
            self.calls.iter().filter(|c| matches(c)).count()
        }
    }

    impl Timesheet for Memory {
        fn service(&self) -> &'static str {
            "Memory"
        }

        fn create(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
            self.calls.push(Call::Create(draft.start.to_rfc3339()));
            self.created(draft)
        }

        fn update(&mut self, id: &str, draft: &EntryDraft) -> Result<(), RemoteError> {
            self.calls.push(Call::Update(id.to_string()));
            if let Some((error, _)) = self.fault() {
                return Err(error);
            }
            let (remote, stored) =
                self.entries.iter_mut().find(|(e, _)| e.id == id).ok_or_else(|| RemoteError::Refused {
                    status: 404,
                    request: "PUT".into(),
                    message: "no such entry".into(),
                    hint: String::new(),
                })?;
            remote.start = draft.start;
            remote.end = draft.end;
            remote.project_id.clone_from(&draft.project_id);
            *stored = draft.clone();
            Ok(())
        }

        fn delete(&mut self, id: &str) -> Result<(), RemoteError> {
            self.calls.push(Call::Delete(id.to_string()));
            if let Some((error, _)) = self.fault() {
                return Err(error);
            }
            self.entries.retain(|(e, _)| e.id != id);
            Ok(())
        }

        fn list(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<RemoteEntry>, RemoteError> {
            self.calls.push(Call::List(from, to));
            if let Some((error, _)) = self.fault() {
                return Err(error);
            }
            Ok(self
                .entries
                .iter()
                .map(|(e, _)| e.clone())
                .filter(|e| e.start >= from && e.start <= to)
                .collect())
        }

        /// Starts a timer; like a real service, it stops the running one first (at the new start), also
        /// when the answer is lost after the start was stored.
        fn start(&mut self, draft: &EntryDraft) -> Result<String, RemoteError> {
            self.calls.push(Call::Start(draft.start.to_rfc3339()));
            self.created(&EntryDraft { end: None, ..draft.clone() })
        }

        fn stop(&mut self, id: &str, at: DateTime<Utc>) -> Result<(), RemoteError> {
            self.calls.push(Call::Stop(id.to_string()));
            if let Some((error, _)) = self.fault() {
                return Err(error);
            }
            if let Some((remote, draft)) = self.entries.iter_mut().find(|(e, _)| e.id == id) {
                remote.end = Some(at);
                draft.end = Some(at);
            }
            Ok(())
        }

        fn running(&mut self) -> Result<Option<RemoteEntry>, RemoteError> {
            self.calls.push(Call::Running);
            if self.offline {
                return Err(RemoteError::MaybeStored { detail: "offline".into() });
            }
            Ok(self.entries.iter().map(|(e, _)| e.clone()).find(|e| e.end.is_none()))
        }

        fn requests_sent(&self) -> u64 {
            self.calls.len() as u64
        }

        fn known_user_id(&self) -> Option<&str> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_told_in_whole_minutes_with_the_right_plural() {
        assert_eq!(minutes(Duration::from_secs(1)), "1 minute");
        assert_eq!(minutes(Duration::from_secs(60)), "1 minute");
        assert_eq!(minutes(Duration::from_secs(61)), "2 minutes");
        assert_eq!(minutes(Duration::ZERO), "1 minute");
    }

    #[test]
    fn the_memory_timesheet_runs_one_timer() {
        use memory::{Call, Memory};
        let mut memory = Memory::default();
        let start: DateTime<Utc> = "2026-11-02T09:00:00Z".parse().unwrap();
        let draft = EntryDraft {
            start,
            end: None,
            project_id: Some("p".into()),
            description: "Development".into(),
            tags: Vec::new(),
            billable: None,
        };
        let id = memory.start(&draft).unwrap();
        assert_eq!(memory.running().unwrap().map(|e| e.id), Some(id.clone()));
        memory.stop(&id, start + chrono::Duration::hours(1)).unwrap();
        assert_eq!(memory.running().unwrap(), None);
        assert_eq!(
            memory.calls,
            vec![Call::Start(start.to_rfc3339()), Call::Running, Call::Stop(id), Call::Running]
        );
    }

    #[test]
    fn a_local_refusal_never_reads_as_an_http_status() {
        let error = RemoteError::Invalid {
            request: "POST time_entries".into(),
            message: "`abc` is not a Toggl id".into(),
            hint: "fix it".into(),
        };
        assert_eq!(error.to_string(), "POST time_entries was not sent: `abc` is not a Toggl id. fix it");
    }

    #[test]
    fn instants_are_cut_to_the_whole_second_alike() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(whole_second(at("2026-11-02T17:00:00.900Z")), at("2026-11-02T17:00:00Z"));
        assert_eq!(whole_second(at("2026-11-02T17:10:00.100Z")), at("2026-11-02T17:10:00Z"));
        assert_eq!(whole_second(at("1969-12-31T23:59:59.700Z")), at("1969-12-31T23:59:59Z"));
        let draft = EntryDraft {
            start: at("2026-11-02T17:00:00.900Z"),
            end: Some(at("2026-11-02T17:10:00.100Z")),
            project_id: None,
            description: String::new(),
            tags: Vec::new(),
            billable: None,
        }
        .in_whole_seconds();
        assert_eq!(draft.end.unwrap() - draft.start, chrono::Duration::seconds(600));
    }
}
