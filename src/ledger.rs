//! The ledger: what each destination holds of ours, as keyed entries. One row per entry key (a day's
//! project today, `day:<date>:<project id>`; a session segment or a running timer next), with the remote
//! id, the times and a fingerprint of what was sent, and a state. An intent row is written before every
//! request (create, update, delete, start, stop), so a crash at any point leaves a row that says what may
//! have happened; planners read the ledger and say what is left to do.
//!
//! Pure: types and rules; `store` reads and writes the rows.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use xxhash_rust::xxh3::Xxh3;

use crate::allocate::PlannedEntry;
use crate::timesheet::EntryDraft;

/// Whose ledger: a destination (`clockify`, `toggl`) and its workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LedgerScope<'a> {
    pub(crate) destination: &'a str,
    pub(crate) workspace_id: &'a str,
}

/// Where one keyed entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryState {
    /// A request was about to be sent; it may or may not have reached the service.
    Intended,
    /// The service holds the entry as recorded.
    Stored,
    /// A request went out and its answer was lost: the service may or may not have acted on it.
    InDoubt,
    /// A running entry (a timer) the service holds.
    Running,
    /// The service refused the last request for this key (`reason` says why). The row still says what
    /// the service holds: nothing without a remote id, else the entry as last stored. Every later run
    /// plans it again, whatever its range.
    Refused,
    /// The user deleted the entry in the service (an update answered 404): it is not posted again, except
    /// by `push --force`.
    DeletedByUser,
}

impl EntryState {
    /// Every state, for lookups and tests.
    pub(crate) const ALL: [EntryState; 6] = [
        EntryState::Intended,
        EntryState::Stored,
        EntryState::InDoubt,
        EntryState::Running,
        EntryState::Refused,
        EntryState::DeletedByUser,
    ];

    /// The name in the database.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EntryState::Intended => "intended",
            EntryState::Stored => "stored",
            EntryState::InDoubt => "in_doubt",
            EntryState::Running => "running",
            EntryState::Refused => "refused",
            EntryState::DeletedByUser => "deleted_by_user",
        }
    }

    /// The state a database name stands for.
    pub(crate) fn from_name(name: &str) -> Option<EntryState> {
        EntryState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// True when the last request's outcome is unknown: the next run must look (or repeat an
    /// idempotent request) before anything else.
    pub(crate) fn is_unsettled(self) -> bool {
        matches!(self, EntryState::Intended | EntryState::InDoubt)
    }
}

/// The request an unsettled row was written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Create,
    Update,
    Delete,
    Start,
    Stop,
}

impl Operation {
    /// The name in the database and in `--dry-run`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Start => "start",
            Operation::Stop => "stop",
        }
    }

    /// The operation a database name stands for.
    pub(crate) fn from_name(name: &str) -> Option<Operation> {
        [Operation::Create, Operation::Update, Operation::Delete, Operation::Start, Operation::Stop]
            .into_iter()
            .find(|o| o.name() == name)
    }
}

/// What a request carried besides the times: kept with the row, so an entry whose answer was lost is
/// looked for as it was sent (never as the plan says now), and a stopped or withdrawn entry can be
/// rewritten without the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub(crate) project_id: Option<String>,
    pub(crate) description: String,
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
}

impl Sent {
    /// What a draft carries besides its times.
    pub(crate) fn of(draft: &EntryDraft) -> Sent {
        Sent {
            project_id: draft.project_id.clone(),
            description: draft.description.clone(),
            tags: draft.tags.clone(),
            billable: draft.billable,
        }
    }

    /// The draft that sends this again between `start` and `end` (`None`: running).
    pub(crate) fn draft(&self, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> EntryDraft {
        EntryDraft {
            start,
            end,
            project_id: self.project_id.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            billable: self.billable,
        }
    }
}

/// One keyed entry of a destination's workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyedEntry {
    pub(crate) key: String,
    /// The service's id, once known (never for a create whose answer was lost).
    pub(crate) remote_id: Option<String>,
    pub(crate) start: DateTime<Utc>,
    /// `None` while running.
    pub(crate) end: Option<DateTime<Utc>>,
    /// What was (or is about to be) sent, hashed; empty for rows from before fingerprints.
    pub(crate) fingerprint: String,
    pub(crate) state: EntryState,
    /// The request the row was last written for.
    pub(crate) operation: Operation,
    /// Found on the service rather than created by this database.
    pub(crate) adopted: bool,
    /// What the row's request carried (`None` for rows written before schema 10).
    pub(crate) sent: Option<Sent>,
    /// Why the service refused the last request (state `Refused`), with the hint.
    pub(crate) reason: Option<String>,
}

/// What the database knows of one destination's workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ledger {
    /// Days whose every entry is recorded, in either mode.
    pub(crate) synced_days: BTreeSet<NaiveDate>,
    /// The synced days that sessions mode synced (the rest were split in workday mode).
    pub(crate) sessions_days: BTreeSet<NaiveDate>,
    /// Every keyed entry, by key.
    pub(crate) entries: BTreeMap<String, KeyedEntry>,
    /// Plans fixed when a day's first entry went out (in posting order).
    pub(crate) fixed_plans: BTreeMap<NaiveDate, Vec<PlannedEntry>>,
    /// The user's edits of this workspace's entries and the days approved (applied to every plan:
    /// [`crate::overrides::apply`]).
    pub(crate) edits: crate::overrides::Edits,
}

/// A running entry (a timer claude-tracker started) as recorded in any destination's ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunningEntry {
    pub(crate) destination: String,
    pub(crate) workspace_id: String,
    pub(crate) remote_id: Option<String>,
    pub(crate) start: DateTime<Utc>,
}

/// Who stops a running entry now, as the config stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerOwner {
    /// A live destination of this workspace: `watch` (or a hook's `watch --once`) stops it.
    Live,
    /// The destination is configured in another mode: the next `push` or `sync` stops it.
    Planner,
    /// No destination of this workspace is configured: nothing of ours will stop it.
    Nobody,
}

/// What needs the user about one running entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimerProblem {
    pub(crate) entry: RunningEntry,
    pub(crate) owner: TimerOwner,
    /// The last activity, when the timer runs past it by more than the idle threshold and a minute.
    pub(crate) idle_since: Option<DateTime<Utc>>,
}

/// The running entries that need the user: every one no live destination owns, and every one still
/// running more than the idle threshold plus a minute after the last activity (nothing stopped it: no
/// watcher ran). `owner_of` says who owns a (destination, workspace).
pub(crate) fn timer_problems(
    running: &[RunningEntry],
    owner_of: impl Fn(&str, &str) -> TimerOwner,
    last_activity: Option<DateTime<Utc>>,
    idle: chrono::Duration,
    now: DateTime<Utc>,
) -> Vec<TimerProblem> {
    running
        .iter()
        .filter_map(|entry| {
            let owner = owner_of(&entry.destination, &entry.workspace_id);
            let last = last_activity.unwrap_or(entry.start).max(entry.start);
            let idle_since = (now > last + idle + chrono::Duration::minutes(1)).then_some(last);
            (owner != TimerOwner::Live || idle_since.is_some()).then(|| TimerProblem {
                entry: entry.clone(),
                owner,
                idle_since,
            })
        })
        .collect()
}

/// The prefix of every key of the daily ratio split./// The prefix of every key of the daily ratio split.
pub(crate) const DAY_KEY_PREFIX: &str = "day:";

/// The key of one (project, tag set) entry of a day in the daily ratio split; without tags it is the key
/// entries had before tags (`day:<date>:<project>`), so existing ledgers still match.
pub(crate) fn day_key(date: NaiveDate, project_id: &str, tags: &[String]) -> String {
    if tags.is_empty() {
        format!("day:{date}:{project_id}")
    } else {
        // JSON: a tag holding `,` or `:` cannot make two tag sets one key.
        format!("day:{date}:{project_id}:{}", serde_json::to_string(tags).unwrap_or_default())
    }
}

/// A fingerprint of what is sent for an entry: equal drafts, equal fingerprints; any change in times,
/// project, description, tags or billable changes it (so a planner can tell an entry that needs an
/// update).
pub(crate) fn fingerprint(draft: &EntryDraft) -> String {
    let mut hasher = Xxh3::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(&draft.start.timestamp().to_le_bytes());
    field(&draft.end.map_or(i64::MIN, |end| end.timestamp()).to_le_bytes());
    field(draft.project_id.as_deref().unwrap_or("\u{0}none").as_bytes());
    field(draft.description.as_bytes());
    for tag in &draft.tags {
        field(tag.as_bytes());
    }
    field(&[match draft.billable {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    }]);
    format!("{:016x}", hasher.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> EntryDraft {
        EntryDraft {
            start: "2026-11-02T09:00:00Z".parse().unwrap(),
            end: Some("2026-11-02T12:00:00Z".parse().unwrap()),
            project_id: Some("p1".into()),
            description: "Development".into(),
            tags: vec!["a".into()],
            billable: None,
        }
    }

    #[test]
    fn every_sent_field_changes_the_fingerprint() {
        let base = fingerprint(&draft());
        assert_eq!(base, fingerprint(&draft()), "deterministic");
        let changed = [
            EntryDraft { end: None, ..draft() },
            EntryDraft { project_id: None, ..draft() },
            EntryDraft { description: "Dev".into(), ..draft() },
            EntryDraft { tags: vec!["a".into(), "b".into()], ..draft() },
            EntryDraft { tags: vec!["ab".into()], ..draft() },
            EntryDraft { billable: Some(false), ..draft() },
            EntryDraft { start: "2026-11-02T09:00:01Z".parse().unwrap(), ..draft() },
        ];
        for other in changed {
            assert_ne!(fingerprint(&other), base, "{other:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for state in EntryState::ALL {
            assert_eq!(EntryState::from_name(state.name()), Some(state));
        }
        for operation in
            [Operation::Create, Operation::Update, Operation::Delete, Operation::Start, Operation::Stop]
        {
            assert_eq!(Operation::from_name(operation.name()), Some(operation));
        }
        let date = "2026-11-02".parse().unwrap();
        assert_eq!(day_key(date, "p1", &[]), "day:2026-11-02:p1");
        assert_eq!(day_key(date, "p1", &["a,b".into(), "c".into()]), r#"day:2026-11-02:p1:["a,b","c"]"#);
    }

    #[test]
    fn a_timer_needs_the_user_when_no_live_destination_owns_it_or_it_ran_past_idle() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let entry = |destination: &str| RunningEntry {
            destination: destination.into(),
            workspace_id: "ws".into(),
            remote_id: Some("1".into()),
            start: at("2026-11-02T09:00:00Z"),
        };
        let running = [entry("toggl"), entry("clockify")];
        let owner = |destination: &str, _: &str| {
            if destination == "toggl" { TimerOwner::Live } else { TimerOwner::Nobody }
        };
        let idle = chrono::Duration::minutes(15);
        let last = Some(at("2026-11-02T09:30:00Z"));
        let problems = timer_problems(&running, owner, last, idle, at("2026-11-02T09:46:00Z"));
        assert_eq!(
            problems,
            vec![TimerProblem { entry: entry("clockify"), owner: TimerOwner::Nobody, idle_since: None }]
        );
        let problems = timer_problems(&running, owner, last, idle, at("2026-11-02T09:46:01Z"));
        assert_eq!(
            problems.iter().map(|p| (p.owner, p.idle_since)).collect::<Vec<_>>(),
            vec![(TimerOwner::Live, last), (TimerOwner::Nobody, last)]
        );
    }
}
