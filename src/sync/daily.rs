//! The daily ratio planner (seed 000): for every day in range, what it is (planned, already synced, not a
//! work day, no sessions, today) and, for a planned day, one keyed step per destination project
//! (`day:<date>:<project id>`), kept, adopted or created as the ledger says. Pure: it takes sessions,
//! rules and the ledger, and returns a deterministic list that `--dry-run` prints and the executor walks.
//! An entry's description is the destination's template filled in for the work it stands for: its
//! mapped project, the day's longest session of it (branch, id), that day's commits in its sessions'
//! folders and their titles (`notes/11-descriptions.md`); its times are a slot of the work day, not
//! when the work happened, so they never choose the commits.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::sessions::{last_component, short_id};
use super::steps::{Action, Batch, DayStatus, EntryMode, EntryTemplate, Step, resume};
use crate::allocate::{AllocationRules, PlannedEntry, allocate_day};
use crate::classify::{Classified, Classifier, ProjectKey, Rules, pair_tagged};
use crate::descriptions::{Fill, WorkDone, cut, render, uses};
use crate::figures;
use crate::folders::FolderTargets;
use crate::ledger::{Ledger, day_key};
use crate::sessions::{Millis, Session};
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
    /// The commits and titles `{commits}` and `{title}` are filled with.
    pub(crate) done: &'a WorkDone,
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
        let steps =
            fixed.into_iter().flatten().map(|entry| step(input, sessions, date, entry.clone())).collect();
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
    let steps = entries.into_iter().map(|entry| step(input, sessions, date, entry)).collect();
    Batch { date, status: DayStatus::Planned, steps, mode: EntryMode::Workday }
}

/// Whether some session has tracked time on the local day `date` ([`figures::has_tracked_time`]).
fn has_tracked_time(sessions: &[Classified<'_>], date: NaiveDate, tz: chrono_tz::Tz) -> bool {
    let (from, to) = workday::days_window(date, date, tz);
    sessions.iter().any(|c| figures::has_tracked_time(c.session, from, to))
}

fn step(input: &PlanInput<'_>, sessions: &[Classified<'_>], date: NaiveDate, entry: PlannedEntry) -> Step {
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
        description: cut(&describe(input, sessions, date, &entry), input.template.limit),
        tags: entry_tags(&input.template.tags, &entry.tags),
        billable: entry.billable.or(input.template.billable),
    };
    Step::new(key, action, entry, draft, previous)
}

/// A workday entry's description: `{project}` is its mapped project's last path component (or rule
/// key), `Other` for the Other bucket, `{path}` the mapped path (or `Other`); `{branch}` and `{session}`
/// are the lead session's: of the sessions the entry stands for (that day's work of its project and
/// tag set), the one with the most active time that day (ties: the earliest start, then the smaller
/// id); `{commits}` the subjects of the commits made that local day in those sessions' folders,
/// `{title}` their titles.
fn describe(
    input: &PlanInput<'_>,
    sessions: &[Classified<'_>],
    date: NaiveDate,
    entry: &PlannedEntry,
) -> String {
    let template = &input.template.description;
    if !template.contains('{') {
        return template.clone();
    }
    let (from, to) = workday::days_window(date, date, input.rules.tz);
    // (first active moment that day, active ms that day, session) of each session the entry stands for.
    let mut members: Vec<(Millis, i64, &Session)> = sessions
        .iter()
        .filter(|c| c.tags == entry.tags.as_slice() && input.rules.target(c.project).0 == entry.project_id)
        .filter_map(|c| {
            let day: Vec<&crate::sessions::Span> =
                c.session.spans.iter().filter(|s| s.overlap_ms(from, to) > 0).collect();
            let first = day.iter().map(|s| s.start.max(from)).min()?;
            Some((first, day.iter().map(|s| s.overlap_ms(from, to)).sum(), c.session))
        })
        .collect();
    members.sort_by(|a, b| (a.0, &a.2.session_id).cmp(&(b.0, &b.2.session_id)));
    let lead = members
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| (b.0, &b.2.session_id).cmp(&(a.0, &a.2.session_id))))
        .map(|(_, _, session)| *session);
    let project = entry.mapped_path.as_deref().unwrap_or(OTHER);
    let mut fill = Fill {
        project: last_component(project),
        path: project,
        branch: lead.and_then(|s| s.git_branch.as_deref()).unwrap_or(""),
        session: lead.map_or("", |s| short_id(&s.session_id)),
        ..Fill::default()
    };
    if uses(template, "commits") {
        fill.commits = input.done.commits_in(members.iter().map(|m| m.2.project.as_str()), (from, to));
    }
    if uses(template, "title") {
        fill.title = input.done.titles_of(members.iter().map(|m| m.2.session_id.as_str()));
    }
    render(template, &fill)
}

/// What `{project}` and `{path}` say of the Other bucket's entry.
const OTHER: &str = "Other";

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
            done: &crate::descriptions::NOTHING_DONE,
            ledger,
            show_synced: false,
        }
    }

    static NO_RULES: std::sync::LazyLock<Rules> = std::sync::LazyLock::new(Rules::default);
    static NO_TAGS: BTreeMap<String, Vec<String>> = BTreeMap::new();

    static TEMPLATE: EntryTemplate = EntryTemplate {
        description: String::new(),
        billable: None,
        tags: Vec::new(),
        limit: crate::descriptions::DescriptionLimit::None,
    };

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

    fn at(text: &str) -> crate::sessions::Millis {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    #[test]
    fn a_workday_entry_is_described_by_the_days_work_of_its_project_not_by_its_slot() {
        // Project a: a short session on main, then the day's longest on a feature branch in a subfolder;
        // b is unmapped (Other).
        let mut short = session("/w/a", "2026-11-02T10:00:00Z", 60);
        (short.session_id, short.git_branch) = ("aaaa1111-short".into(), Some("main".into()));
        let mut long = session("/w/a/web", "2026-11-02T12:00:00Z", 90);
        (long.session_id, long.git_branch) = ("bbbb2222-long".into(), Some("feature".into()));
        let mut other = session("/w/b", "2026-11-02T14:00:00Z", 30);
        other.session_id = "cccc3333-other".into();
        let sessions = [short, long, other];
        let commit = |when: &str, hash: &str, subject: &str| crate::descriptions::Commit {
            at: at(when),
            hash: hash.into(),
            subject: subject.into(),
        };
        let mut done = WorkDone::default();
        // Before the entry's 09:00 slot, and after its end: still that day's work.
        done.commits.insert("/w/a".into(), vec![commit("2026-11-02T08:00:00Z", "c1", "Early fix")]);
        done.commits.insert(
            "/w/a/web".into(),
            vec![
                commit("2026-11-02T16:30:00Z", "c2", "Feature work"),
                commit("2026-11-03T09:00:00Z", "c3", "Next day"),
            ],
        );
        done.commits.insert("/w/b".into(), vec![commit("2026-11-02T14:10:00Z", "c4", "Other work")]);
        done.titles.insert("bbbb2222-long".into(), "Feature".into());
        done.titles.insert("aaaa1111-short".into(), "Cart".into());
        let template = EntryTemplate {
            description: "{project} ({branch}) {session} {path}: {commits} [{title}]".into(),
            ..EntryTemplate::default()
        };
        let rules = rules();
        let ledger = Ledger::default();
        let input = PlanInput {
            template: &template,
            done: &done,
            ..input(("2026-11-02", "2026-11-02", "2026-11-10"), &sessions, &rules, &ledger)
        };
        let descriptions: Vec<String> =
            plan(&input)[0].steps.iter().map(|step| step.draft.description.clone()).collect();
        assert_eq!(
            descriptions,
            vec![
                "a (feature) bbbb2222 /w/a: Early fix; Feature work [Cart; Feature]".to_string(),
                "Other cccc3333 Other: Other work".to_string(),
            ]
        );
    }
}
