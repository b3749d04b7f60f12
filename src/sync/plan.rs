//! The sync plan: for every day in range, what it is (planned, already synced, not a work day, no
//! sessions, today) and, for a planned day, each entry and whether it still has to be posted. Pure: it
//! takes sessions, rules and the ledger, and returns a deterministic list that `--dry-run` prints and the
//! executor walks.

use chrono::{Datelike, NaiveDate, Weekday};

use crate::allocate::{AllocationRules, PlannedEntry, allocate_day};
use crate::store::{Ledger, StoredSession};
use crate::workday;

/// What a day is, for the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    Planned,
    Synced,
    NotAWorkDay,
    NoSessions,
    /// Today or later: the work day is not over.
    Today,
}

impl DayStatus {
    /// The status as `--json` names it.
    pub fn json_name(self) -> &'static str {
        match self {
            DayStatus::Planned => "planned",
            DayStatus::Synced => "synced",
            DayStatus::NotAWorkDay => "not_a_work_day",
            DayStatus::NoSessions => "no_sessions",
            DayStatus::Today => "today",
        }
    }

    /// The status as the text output says it.
    pub fn label(self, date: NaiveDate) -> &'static str {
        match self {
            DayStatus::Planned => "planned",
            DayStatus::Synced => "already synced",
            DayStatus::NotAWorkDay if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) => "weekend",
            DayStatus::NotAWorkDay => "not a work day",
            DayStatus::NoSessions => "no sessions",
            DayStatus::Today => "today",
        }
    }
}

/// Where one planned entry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    ToPost,
    /// Recorded with this remote id.
    Posted(String),
    /// An earlier POST may or may not have reached the service; its planned start is what to look for.
    InDoubt {
        start: chrono::DateTime<chrono::Utc>,
    },
}

/// One entry of a planned day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub entry: PlannedEntry,
    pub state: StepState,
}

/// One day of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPlan {
    pub date: NaiveDate,
    pub status: DayStatus,
    pub steps: Vec<Step>,
}

/// Everything the plan depends on.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// First and last day to consider, inclusive.
    pub since: NaiveDate,
    pub until: NaiveDate,
    /// The local date now: it and later days are never synced.
    pub today: NaiveDate,
    pub work_days: &'a [Weekday],
    /// Sessions overlapping the range, in any order.
    pub sessions: &'a [StoredSession],
    pub rules: &'a AllocationRules,
    pub ledger: &'a Ledger,
}

/// Plans every day from `since` to `until`.
pub fn plan(input: &PlanInput<'_>) -> Vec<DayPlan> {
    workday::dates(input.since, input.until).map(|date| plan_day(input, date)).collect()
}

fn plan_day(input: &PlanInput<'_>, date: NaiveDate) -> DayPlan {
    let day = |status| DayPlan { date, status, steps: Vec::new() };
    if date >= input.today {
        return day(DayStatus::Today);
    }
    if !input.work_days.contains(&date.weekday()) {
        return day(DayStatus::NotAWorkDay);
    }
    if input.ledger.synced_days.contains(&date) {
        return day(DayStatus::Synced);
    }
    // A day whose first entry went out keeps the plan (times) it was started with.
    let entries = match input.ledger.fixed_plans.get(&date) {
        Some(fixed) => with_current_ids(fixed, date, input),
        None => allocate_day(input.sessions, date, input.rules),
    };
    if entries.is_empty() {
        return day(DayStatus::NoSessions);
    }
    let steps = entries
        .into_iter()
        .map(|entry| {
            let key = (date, entry.project_id.clone());
            let state = match (input.ledger.entries.get(&key), input.ledger.intents.get(&key)) {
                (Some(id), _) => StepState::Posted(id.clone()),
                (None, Some((start, _))) => StepState::InDoubt { start: *start },
                (None, None) => StepState::ToPost,
            };
            Step { entry, state }
        })
        .collect();
    DayPlan { date, status: DayStatus::Planned, steps }
}

/// A fixed plan's entries not yet sent take their project id from the current config (a refused id
/// can be corrected), unless that would give two entries one project.
fn with_current_ids(fixed: &[PlannedEntry], date: NaiveDate, input: &PlanInput<'_>) -> Vec<PlannedEntry> {
    let untouched = |entry: &PlannedEntry| {
        let key = (date, entry.project_id.clone());
        !input.ledger.entries.contains_key(&key) && !input.ledger.intents.contains_key(&key)
    };
    let current_id = |entry: &PlannedEntry| match &entry.mapped_path {
        Some(path) => input.rules.mapping.id_of(path).map(str::to_string),
        None => Some(input.rules.other_project_id.clone()).filter(|id| !id.is_empty()),
    };
    let remapped: Vec<PlannedEntry> = fixed
        .iter()
        .map(|entry| match current_id(entry).filter(|_| untouched(entry)) {
            Some(id) => PlannedEntry { project_id: id, ..entry.clone() },
            None => entry.clone(),
        })
        .collect();
    let mut ids: Vec<&str> = remapped.iter().map(|e| e.project_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == remapped.len() { remapped } else { fixed.to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::ProjectMapping;
    use crate::sessions::Span;
    use chrono::{DateTime, NaiveTime, Utc};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn session(project: &str, start: &str, minutes: i64) -> StoredSession {
        let start = start.parse::<DateTime<Utc>>().unwrap().timestamp_millis();
        StoredSession {
            session_id: format!("{project}{start}"),
            project: project.into(),
            git_branch: None,
            spans: vec![Span { start, end: start + minutes * 60_000 }],
            messages: Vec::new(),
        }
    }

    fn rules() -> AllocationRules {
        AllocationRules {
            tz: chrono_tz::UTC,
            work_day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            work_day_end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            round_to_minutes: 0,
            mapping: ProjectMapping::new([("/w/a".to_string(), "pa".to_string())]),
            other_project_id: "other".into(),
        }
    }

    const WEEKDAYS: [Weekday; 5] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];

    #[test]
    fn statuses_per_day() {
        let sessions = [
            session("/w/a", "2026-11-02T10:00:00Z", 60), // Monday
            session("/w/b", "2026-11-03T10:00:00Z", 60), // Tuesday, synced already
            session("/w/a", "2026-11-07T10:00:00Z", 60), // Saturday
            session("/w/a", "2026-11-09T10:00:00Z", 60), // Monday = today
        ];
        let mut ledger = Ledger::default();
        ledger.synced_days.insert(date("2026-11-03"));
        let rules = rules();
        let input = PlanInput {
            since: date("2026-11-02"),
            until: date("2026-11-09"),
            today: date("2026-11-09"),
            work_days: &WEEKDAYS,
            sessions: &sessions,
            rules: &rules,
            ledger: &ledger,
        };
        let statuses: Vec<(String, &str)> =
            plan(&input).iter().map(|d| (d.date.to_string(), d.status.label(d.date))).collect();
        assert_eq!(
            statuses,
            vec![
                ("2026-11-02".into(), "planned"),
                ("2026-11-03".into(), "already synced"),
                ("2026-11-04".into(), "no sessions"),
                ("2026-11-05".into(), "no sessions"),
                ("2026-11-06".into(), "no sessions"),
                ("2026-11-07".into(), "weekend"),
                ("2026-11-08".into(), "weekend"),
                ("2026-11-09".into(), "today"),
            ]
        );
    }

    #[test]
    fn recorded_and_doubtful_entries_are_marked() {
        let sessions =
            [session("/w/a", "2026-11-02T10:00:00Z", 60), session("/w/b", "2026-11-02T12:00:00Z", 30)];
        let mut ledger = Ledger::default();
        ledger.entries.insert((date("2026-11-02"), "pa".into()), "remote-1".into());
        let start: DateTime<Utc> = "2026-11-02T14:20:00Z".parse().unwrap();
        ledger.intents.insert((date("2026-11-02"), "other".into()), (start, start));
        let rules = rules();
        let input = PlanInput {
            since: date("2026-11-02"),
            until: date("2026-11-02"),
            today: date("2026-11-10"),
            work_days: &WEEKDAYS,
            sessions: &sessions,
            rules: &rules,
            ledger: &ledger,
        };
        let day = &plan(&input)[0];
        assert_eq!(day.steps[0].state, StepState::Posted("remote-1".into()));
        assert_eq!(day.steps[1].state, StepState::InDoubt { start });
        assert_eq!(day.steps.iter().map(|s| s.entry.seconds).sum::<i64>(), 8 * 3600);
    }
}
