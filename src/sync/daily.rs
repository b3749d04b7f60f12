//! The daily ratio planner (seed 000): for every day in range, what it is (planned, already synced, not a
//! work day, no sessions, today) and, for a planned day, one keyed step per destination project
//! (`day:<date>:<project id>`), kept, adopted or created as the ledger says. Pure: it takes sessions,
//! rules and the ledger, and returns a deterministic list that `--dry-run` prints and the executor walks.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::steps::{Action, Batch, DayStatus, EntryMode, EntryTemplate, Step, resume};
use crate::allocate::{AllocationRules, PlannedEntry, allocate_day};
use crate::classify::{Classified, Classifier, ProjectKey, Rules, pair_tagged};
use crate::figures;
use crate::folders::FolderTargets;
use crate::ledger::{Ledger, day_key};
use crate::sessions::Session;
use crate::timesheet::EntryDraft;
use crate::workday;

/// Everything the plan depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanInput<'a> {
    /// First and last day to consider, inclusive.
    pub(crate) since: NaiveDate,
    pub(crate) until: NaiveDate,
    /// The local date now: it and later days are never synced.
    pub(crate) today: NaiveDate,
    pub(crate) work_days: &'a [Weekday],
    /// Sessions overlapping the range, in any order.
    pub(crate) sessions: &'a [Session],
    pub(crate) rules: &'a AllocationRules,
    /// What every entry says besides its times and project.
    pub(crate) template: &'a EntryTemplate,
    /// The auto-tag rules: a rule's `project` key picks the project when the mapping names it.
    pub(crate) tag_rules: &'a Rules,
    /// Each session's tags (sorted names, by session id): work with other tags is another entry.
    pub(crate) session_tags: &'a BTreeMap<String, Vec<String>>,
    /// Where folders with a symlink in them lead: rules and mappings match there too.
    pub(crate) folders: &'a FolderTargets,
    pub(crate) ledger: &'a Ledger,
    /// Days already synced carry the entries they were posted with (as `Keep` steps), for a spreadsheet
    /// of everything; `sync` lists them without.
    pub(crate) show_synced: bool,
}

/// Plans every day from `since` to `until`.
pub(crate) fn plan(input: &PlanInput<'_>) -> Vec<Batch> {
    let (projects, billable) = Classifier::new(input.rules.mapping.keys()).classify_all_with(
        input.tag_rules,
        input.sessions,
        input.folders,
    );
    let classified = classified(input.sessions, &projects, &billable, input.session_tags);
    workday::dates(input.since, input.until).map(|date| plan_day(input, &classified, date)).collect()
}

/// Each session with its project, its tags and the `billable` of the rule it matched.
pub(super) fn classified<'a>(
    sessions: &'a [Session],
    projects: &'a [ProjectKey],
    billable: &[Option<bool>],
    tags: &'a BTreeMap<String, Vec<String>>,
) -> Vec<Classified<'a>> {
    let mut classified = pair_tagged(sessions, projects, tags);
    for (session, billable) in classified.iter_mut().zip(billable) {
        session.billable = *billable;
    }
    classified
}

fn plan_day(input: &PlanInput<'_>, sessions: &[Classified<'_>], date: NaiveDate) -> Batch {
    let day = |status| Batch { date, status, steps: Vec::new(), mode: EntryMode::Workday };
    if date >= input.today {
        return day(DayStatus::Today);
    }
    if !input.work_days.contains(&date.weekday()) {
        return day(DayStatus::NotAWorkDay);
    }
    if input.ledger.synced_days.contains(&date) {
        let fixed = input.ledger.fixed_plans.get(&date).filter(|_| input.show_synced);
        let steps = fixed.into_iter().flatten().map(|entry| step(input, date, entry.clone())).collect();
        return Batch { date, status: DayStatus::Synced, steps, mode: EntryMode::Workday };
    }
    // A day whose first entry went out keeps the plan (times) it was started with. Otherwise a day
    // without tracked time (the one definition `report` and `status` share) has nothing to split.
    let entries = match input.ledger.fixed_plans.get(&date) {
        Some(fixed) => with_current_ids(fixed, date, input),
        None if !has_tracked_time(sessions, date, input.rules.tz) => Vec::new(),
        None => allocate_day(sessions, date, input.rules),
    };
    if entries.is_empty() {
        return day(DayStatus::NoSessions);
    }
    let steps = entries.into_iter().map(|entry| step(input, date, entry)).collect();
    Batch { date, status: DayStatus::Planned, steps, mode: EntryMode::Workday }
}

/// Whether some session has tracked time on the local day `date` ([`figures::has_tracked_time`]).
fn has_tracked_time(sessions: &[Classified<'_>], date: NaiveDate, tz: chrono_tz::Tz) -> bool {
    let (from, to) = workday::days_window(date, date, tz);
    sessions.iter().any(|c| figures::has_tracked_time(c.session, from, to))
}

fn step(input: &PlanInput<'_>, date: NaiveDate, entry: PlannedEntry) -> Step {
    let key = day_key(date, entry.project_id.as_deref().unwrap_or(""), &entry.tags);
    let previous = input.ledger.entries.get(&key).cloned();
    let action = match &previous {
        None => Action::Create,
        Some(row) if row.state.is_unsettled() => resume(row),
        // A posted day entry is never touched again: the day's plan is fixed.
        Some(row) => Action::Keep { remote_id: row.remote_id.clone().unwrap_or_default() },
    };
    let draft = EntryDraft {
        start: entry.start,
        end: Some(entry.end),
        project_id: entry.project_id.clone(),
        description: input.template.description.clone(),
        tags: entry_tags(&input.template.tags, &entry.tags),
        billable: entry.billable.or(input.template.billable),
    };
    Step::new(key, action, entry, draft, previous)
}

/// The destination's own tags, then the entry's (sessions' tags), each once.
pub(super) fn entry_tags(destination: &[String], entry: &[String]) -> Vec<String> {
    let mut tags = destination.to_vec();
    for tag in entry {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

/// A fixed plan's entries not yet sent take their project id from the current config (a refused id
/// can be corrected), unless that would give two entries one (project, tag set).
fn with_current_ids(fixed: &[PlannedEntry], date: NaiveDate, input: &PlanInput<'_>) -> Vec<PlannedEntry> {
    let untouched = |entry: &PlannedEntry| {
        !input.ledger.entries.contains_key(&day_key(
            date,
            entry.project_id.as_deref().unwrap_or(""),
            &entry.tags,
        ))
    };
    let current_id = |entry: &PlannedEntry| match &entry.mapped_path {
        Some(path) => input.rules.mapping.id_of(path).map(str::to_string),
        None => input.rules.other_project_id.clone(),
    };
    let remapped: Vec<PlannedEntry> = fixed
        .iter()
        .map(|entry| match current_id(entry).filter(|_| untouched(entry)) {
            Some(id) => PlannedEntry { project_id: Some(id), ..entry.clone() },
            None => entry.clone(),
        })
        .collect();
    let mut ids: Vec<(Option<&str>, &[String])> =
        remapped.iter().map(|e| (e.project_id.as_deref(), e.tags.as_slice())).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() == remapped.len() { remapped } else { fixed.to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::ProjectMapping;
    use crate::ledger::{EntryState, KeyedEntry, Operation};
    use crate::sessions::Span;
    use chrono::{DateTime, NaiveTime, Utc};

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn session(project: &str, start: &str, minutes: i64) -> Session {
        let start = start.parse::<DateTime<Utc>>().unwrap().timestamp_millis();
        Session {
            session_id: format!("{project}{start}"),
            project: project.into(),
            git_branch: None,
            spans: vec![Span { start, end: start + minutes * 60_000 }],
            messages: Vec::new(),
            models: Vec::new(),
            ..Default::default()
        }
    }

    fn rules() -> AllocationRules {
        AllocationRules {
            tz: chrono_tz::UTC,
            work_day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            work_day_end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            round_to_minutes: 0,
            mapping: ProjectMapping::new([("/w/a".to_string(), "pa".to_string())]),
            other_project_id: Some("other".into()),
        }
    }

    const WEEKDAYS: [Weekday; 5] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];

    /// A plan over `(since, until, today)` on weekdays.
    fn input<'a>(
        (since, until, today): (&str, &str, &str),
        sessions: &'a [Session],
        rules: &'a AllocationRules,
        ledger: &'a Ledger,
    ) -> PlanInput<'a> {
        PlanInput {
            since: date(since),
            until: date(until),
            today: date(today),
            work_days: &WEEKDAYS,
            sessions,
            rules,
            template: &TEMPLATE,
            tag_rules: &NO_RULES,
            session_tags: &NO_TAGS,
            folders: FolderTargets::none(),
            ledger,
            show_synced: false,
        }
    }

    static NO_RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(Rules::default);
    static NO_TAGS: BTreeMap<String, Vec<String>> = BTreeMap::new();

    static TEMPLATE: EntryTemplate =
        EntryTemplate { description: String::new(), billable: None, tags: Vec::new() };

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
        let input = input(("2026-11-02", "2026-11-09", "2026-11-09"), &sessions, &rules, &ledger);
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
    fn a_day_whose_only_session_has_no_tracked_time_has_no_sessions() {
        // One lone message on Monday (no active span): nothing to split, as `report` counts no session.
        let mut lone = session("/w/a", "2026-11-02T10:00:00Z", 0);
        lone.spans.clear();
        lone.messages.push(crate::sessions::MessageRecord {
            key: 1,
            at: "2026-11-02T10:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp_millis(),
            usage: crate::sessions::Usage::default(),
        });
        let rules = rules();
        let ledger = Ledger::default();
        let sessions = [lone];
        let days = plan(&input(("2026-11-02", "2026-11-02", "2026-11-10"), &sessions, &rules, &ledger));
        assert_eq!(days[0].status, DayStatus::NoSessions);
    }

    #[test]
    fn recorded_and_doubtful_entries_are_marked() {
        let sessions =
            [session("/w/a", "2026-11-02T10:00:00Z", 60), session("/w/b", "2026-11-02T12:00:00Z", 30)];
        let mut ledger = Ledger::default();
        let row = |key: &str, remote_id: Option<&str>, state| KeyedEntry {
            key: key.into(),
            remote_id: remote_id.map(str::to_string),
            start: "2026-11-02T14:20:00Z".parse().unwrap(),
            end: None,
            fingerprint: String::new(),
            state,
            operation: Operation::Create,
            adopted: false,
            sent: None,
            reason: None,
        };
        ledger.entries.insert(
            "day:2026-11-02:pa".into(),
            row("day:2026-11-02:pa", Some("remote-1"), EntryState::Stored),
        );
        let start: DateTime<Utc> = "2026-11-02T14:20:00Z".parse().unwrap();
        ledger
            .entries
            .insert("day:2026-11-02:other".into(), row("day:2026-11-02:other", None, EntryState::Intended));
        let rules = rules();
        let day = &plan(&input(("2026-11-02", "2026-11-02", "2026-11-10"), &sessions, &rules, &ledger))[0];
        assert_eq!(day.steps[0].action, Action::Keep { remote_id: "remote-1".into() });
        assert_eq!(day.steps[1].action, Action::Adopt { look_for: start });
        assert_eq!(day.steps.iter().map(|s| s.plan.seconds).sum::<i64>(), 8 * 3600);
    }
}
