//! What every planner returns and the one executor walks: batches (a day each) of keyed steps, each an
//! action on one ledger key (create, adopt, update, delete, start, stop, or keep what is there) with the
//! draft to send. Pure: types and the rule that turns an unsettled ledger row back into a step.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use crate::allocate::PlannedEntry;
use crate::ledger::{KeyedEntry, Operation};
use crate::timesheet::EntryDraft;

/// How a destination receives the work: the seed's daily ratio split, or the real timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EntryMode {
    /// Each past work day split across projects by tracked time (`day:` keys, plans fixed once posted).
    #[default]
    Workday,
    /// Each closed stretch of work at the time it happened (`seg:` keys, updated when they change).
    Sessions,
    /// As `sessions`, and `watch` keeps a running entry for the open stretch.
    Live,
}

impl EntryMode {
    /// The name in the config, the database and messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EntryMode::Workday => "workday",
            EntryMode::Sessions => "sessions",
            EntryMode::Live => "live",
        }
    }

    /// A day's planned entries are fixed before its first request (the ratio split never moves a
    /// posted entry); timeline entries follow the work instead.
    pub(crate) fn fixes_plan(self) -> bool {
        self == EntryMode::Workday
    }
}

/// What `watch` does with a running entry it did not start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ForeignTimer {
    /// Leave it running and start none of ours (said once).
    #[default]
    Leave,
    /// Stop it, then start ours.
    Stop,
}

/// In sessions mode: what one entry stands for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Granularity {
    /// A timeline segment: no second counted twice.
    #[default]
    Segment,
    /// A whole session (seed 003): from its first activity, as long as its active time.
    Session,
}

/// What a batch (a day) is, for the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayStatus {
    Planned,
    Synced,
    NotAWorkDay,
    NoSessions,
    /// Today or later: the work day is not over.
    Today,
    /// Planned, and held back until the user approves the day (`approve = true`).
    Waiting,
    /// Every entry of the work day excluded by the user: nothing posted, the day not marked synced.
    Excluded,
}

impl DayStatus {
    /// The status as `--json` names it.
    pub(crate) fn json_name(self) -> &'static str {
        match self {
            DayStatus::Planned => "planned",
            DayStatus::Synced => "synced",
            DayStatus::NotAWorkDay => "not_a_work_day",
            DayStatus::NoSessions => "no_sessions",
            DayStatus::Today => "today",
            DayStatus::Waiting => "waiting_for_approval",
            DayStatus::Excluded => "excluded",
        }
    }

    /// The status as the text output says it.
    pub(crate) fn label(self, date: NaiveDate) -> &'static str {
        match self {
            DayStatus::Planned => "planned",
            DayStatus::Synced => "already synced",
            DayStatus::NotAWorkDay if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) => "weekend",
            DayStatus::NotAWorkDay => "not a work day",
            DayStatus::NoSessions => "no sessions",
            DayStatus::Today => "today",
            DayStatus::Waiting => "waiting for approval",
            DayStatus::Excluded => "every entry excluded",
        }
    }
}

/// What every entry of a destination says besides its times and project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EntryTemplate {
    pub(crate) description: String,
    pub(crate) billable: Option<bool>,
    pub(crate) tags: Vec<String>,
    /// The service's limit on a description: a longer one is cut to it on a word boundary.
    pub(crate) limit: crate::descriptions::DescriptionLimit,
}

/// What to do for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing: the service holds it as recorded, with this id.
    Keep {
        remote_id: String,
    },
    Create,
    /// An earlier create may have reached the service: adopt the entry of the same project starting at
    /// `look_for` if there is one, else create.
    Adopt {
        look_for: DateTime<Utc>,
    },
    Update {
        remote_id: String,
    },
    Delete {
        remote_id: String,
    },
    /// A recorded entry no work stands for any more, whose create may have reached the service: it is
    /// looked for as it was sent (at `look_for`) and deleted if there; the row is forgotten either way.
    /// `None`: nothing of it can be on the service (a refused create, an entry the user deleted), so the
    /// row is only forgotten.
    Withdraw {
        look_for: Option<DateTime<Utc>>,
    },
    /// Nothing: the user deleted the entry in the service, and their deletion wins (`push --force` posts
    /// it again).
    Leave,
    /// A running entry (the live timer of the open stretch).
    Start,
    Stop {
        remote_id: String,
        at: DateTime<Utc>,
    },
}

impl Action {
    /// True when the step still has something to do.
    pub(crate) fn is_pending(&self) -> bool {
        !matches!(self, Action::Keep { .. } | Action::Leave)
    }

    /// True when the request carries the entry's project (a delete or stop does not).
    pub(crate) fn sends_project(&self) -> bool {
        matches!(self, Action::Create | Action::Adopt { .. } | Action::Update { .. } | Action::Start)
    }
}

/// One keyed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// The ledger key (`day:<date>:<project id>`).
    pub(crate) key: String,
    pub(crate) action: Action,
    /// The entry: what is sent (times, project, description, tags, billable).
    pub(crate) draft: EntryDraft,
    /// What the plan knows of it besides what is sent (for listings, the fixed plan and the keys).
    pub(crate) plan: PlanFacts,
    /// The ledger row before this step, restored when the service refuses an update or delete.
    pub(crate) previous: Option<KeyedEntry>,
}

/// What a plan knows of a step's entry that is not sent: where its project came from, its planned end
/// (a running entry is sent without one), its active seconds and share of the day, and the allocation's
/// own tags and billable (the keys and fixed plans of the ratio split are built on them, without the
/// destination's `tags` and default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanFacts {
    pub(crate) mapped_path: Option<String>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) seconds: i64,
    pub(crate) share_ppm: u32,
    pub(crate) tags: Vec<String>,
    pub(crate) billable: Option<bool>,
}

impl Step {
    /// A step for `entry` as planned, sending `draft` (its project and start are the entry's: one entry,
    /// never two copies that could disagree).
    pub(crate) fn new(
        key: String,
        action: Action,
        entry: PlannedEntry,
        draft: EntryDraft,
        previous: Option<KeyedEntry>,
    ) -> Step {
        let plan = PlanFacts {
            mapped_path: entry.mapped_path,
            end: entry.end,
            seconds: entry.seconds,
            share_ppm: entry.share_ppm,
            tags: entry.tags,
            billable: entry.billable,
        };
        let draft = EntryDraft { project_id: entry.project_id, start: entry.start, ..draft };
        Step { key, action, draft, plan, previous }
    }

    /// The entry as the plan has it (a fixed plan's row, a refusal's listing).
    pub(crate) fn planned(&self) -> PlannedEntry {
        PlannedEntry {
            project_id: self.draft.project_id.clone(),
            mapped_path: self.plan.mapped_path.clone(),
            start: self.draft.start,
            end: self.plan.end,
            seconds: self.plan.seconds,
            share_ppm: self.plan.share_ppm,
            tags: self.plan.tags.clone(),
            billable: self.plan.billable,
        }
    }
}

/// One day of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) date: NaiveDate,
    pub(crate) status: DayStatus,
    pub(crate) steps: Vec<Step>,
    /// Which planner made it: the day is recorded as synced in this mode, and a workday batch's plan is
    /// fixed (`day_plans`) before its first request, so a later run finishes the same plan.
    pub(crate) mode: EntryMode,
}

/// The step that finishes what an unsettled ledger row started: a create or start whose answer was lost
/// is looked for before it is sent again; an update, delete or stop is idempotent and simply repeated.
pub(crate) fn resume(row: &KeyedEntry) -> Action {
    match (row.operation, row.remote_id.clone()) {
        (Operation::Update, Some(remote_id)) => Action::Update { remote_id },
        (Operation::Delete, Some(remote_id)) => Action::Delete { remote_id },
        (Operation::Stop, Some(remote_id)) => Action::Stop { remote_id, at: row.end.unwrap_or(row.start) },
        _ => Action::Adopt { look_for: row.start },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::EntryState;

    #[test]
    fn unsettled_rows_resume_with_a_look_or_a_repeat() {
        let start: DateTime<Utc> = "2026-11-02T09:00:00Z".parse().unwrap();
        let end: DateTime<Utc> = "2026-11-02T10:00:00Z".parse().unwrap();
        let row = |operation, remote_id: Option<&str>| KeyedEntry {
            key: "k".into(),
            remote_id: remote_id.map(str::to_string),
            start,
            end: Some(end),
            fingerprint: String::new(),
            state: EntryState::InDoubt,
            operation,
            adopted: false,
            sent: None,
            reason: None,
        };
        assert_eq!(resume(&row(Operation::Create, None)), Action::Adopt { look_for: start });
        assert_eq!(resume(&row(Operation::Start, None)), Action::Adopt { look_for: start });
        assert_eq!(resume(&row(Operation::Update, Some("r"))), Action::Update { remote_id: "r".into() });
        assert_eq!(resume(&row(Operation::Delete, Some("r"))), Action::Delete { remote_id: "r".into() });
        assert_eq!(resume(&row(Operation::Stop, Some("r"))), Action::Stop { remote_id: "r".into(), at: end });
    }
}
