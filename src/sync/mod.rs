//! The sync loop: walks the plan through a timesheet service, recording every step in the store as it
//! goes, so a crash anywhere leaves a state the next run finishes without posting anything twice.
//!
//! Crash safety: before each POST an intent row (day, project, planned start and end) is written; the
//! returned id settles it. An unsettled intent means "may have been posted": only for those days are the
//! user's entries listed, and an entry with the same project and start is adopted instead of posted again.

pub mod plan;

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::store::{LedgerEntry, LedgerScope, Store};
use crate::timesheet::{EntryDraft, RemoteEntry, RemoteError, Timesheet};
use plan::{DayPlan, DayStatus, StepState};

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunSettings<'a> {
    /// The destination and workspace whose ledger this run writes.
    pub scope: LedgerScope<'a>,
    pub description: &'a str,
    pub billable: Option<bool>,
    pub tags: &'a [String],
    /// List the user's entries for every planned day and adopt matches (a second machine syncing the
    /// same account).
    pub reconcile: bool,
    /// Attempts at one POST that got no usable answer (each after a look at what was stored).
    pub post_attempts: u32,
    /// What to tell the user when a day has unmapped time but no Other project to put it in.
    pub unmapped_time_hint: &'a str,
    pub backoff: Duration,
    pub now: DateTime<Utc>,
}

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    pub days_synced: usize,
    pub entries_posted: usize,
    pub entries_adopted: usize,
}

/// What happened to one day, for progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayReport {
    pub posted: usize,
    pub adopted: usize,
}

/// Entries found on the service, for adoption; each can be adopted once.
#[derive(Debug, Default)]
struct RemoteIndex {
    entries: Vec<RemoteEntry>,
}

impl RemoteIndex {
    fn extend(&mut self, more: RemoteIndex) {
        for entry in more.entries {
            if !self.entries.iter().any(|known| known.id == entry.id) {
                self.entries.push(entry);
            }
        }
    }

    /// Takes the entry of `project` that starts exactly at `start`: what an earlier POST of ours stored.
    fn take_exact(&mut self, project: &str, start: DateTime<Utc>) -> Option<String> {
        self.take_where(|e| {
            e.project_id.as_deref() == Some(project) && e.start.timestamp() == start.timestamp()
        })
    }

    /// Takes an entry of `project` starting within `[from, to)`: what another machine posted for that day
    /// (its own transcripts give it another split, so the times differ).
    fn take_in_window(&mut self, project: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<String> {
        self.take_where(|e| e.project_id.as_deref() == Some(project) && e.start >= from && e.start < to)
    }

    fn take_where(&mut self, matches: impl Fn(&RemoteEntry) -> bool) -> Option<String> {
        let index = self.entries.iter().position(matches)?;
        Some(self.entries.swap_remove(index).id)
    }
}

/// Lists entries around a span of days: a day's margin each side, because the service may read the
/// filter in the user's profile time zone rather than UTC.
fn list_around(
    timesheet: &mut dyn Timesheet,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<RemoteIndex, RemoteError> {
    let from = first
        .checked_sub_days(Days::new(1))
        .unwrap_or(first)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let to = last
        .checked_add_days(Days::new(2))
        .unwrap_or(last)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    Ok(RemoteIndex { entries: timesheet.list(from, to)? })
}

/// Walks the plan: adopts what is already there, posts the rest, marks complete days. Updates the plan
/// in place (each step's state, each finished day's status) and calls `on_day` after every planned day.
pub fn execute(
    days: &mut [DayPlan],
    store: &mut Store,
    timesheet: &mut dyn Timesheet,
    settings: &RunSettings<'_>,
    on_day: &mut dyn FnMut(&DayPlan, DayReport),
) -> Result<SyncCounts> {
    let mut counts = SyncCounts::default();
    let mut remote = initial_listing(days, timesheet, settings)?;
    for index in 0..days.len() {
        if days[index].status != DayStatus::Planned {
            continue;
        }
        let report = sync_day(&mut days[index], store, timesheet, settings, &mut remote)
            .map_err(|failure| failure.into_error(days, index, timesheet.service(), settings))?;
        store.mark_day_synced(settings.scope, days[index].date, settings.now)?;
        days[index].status = DayStatus::Synced;
        counts.days_synced += 1;
        counts.entries_posted += report.posted;
        counts.entries_adopted += report.adopted;
        on_day(&days[index], report);
    }
    Ok(counts)
}

/// The listings a run may need: with `--reconcile`, one over the whole span of days with something to
/// post; otherwise one around each day with an entry in doubt (after a crash, usually one day). A normal
/// run needs none.
fn initial_listing(
    days: &[DayPlan],
    timesheet: &mut dyn Timesheet,
    settings: &RunSettings<'_>,
) -> Result<RemoteIndex> {
    let in_doubt = |day: &&DayPlan| day.steps.iter().any(|s| matches!(s.state, StepState::InDoubt { .. }));
    let to_post = |day: &&DayPlan| day.steps.iter().any(|s| !matches!(s.state, StepState::Posted(_)));
    let planned = days.iter().filter(|d| d.status == DayStatus::Planned);
    let whole_span = |dates: &mut dyn DoubleEndedIterator<Item = NaiveDate>| -> Vec<(NaiveDate, NaiveDate)> {
        dates.next().map(|first| (first, dates.next_back().unwrap_or(first))).into_iter().collect()
    };
    let spans = if settings.reconcile {
        whole_span(&mut planned.filter(to_post).map(|d| d.date))
    } else if timesheet.prefers_one_listing() {
        whole_span(&mut planned.filter(in_doubt).map(|d| d.date))
    } else {
        planned.filter(in_doubt).map(|d| (d.date, d.date)).collect()
    };
    let mut remote = RemoteIndex::default();
    for (first, last) in spans {
        let found = list_around(timesheet, first, last).map_err(|error| {
            anyhow::anyhow!(
                "could not list your {} entries from {first} to {last} to check for entries already \
                 posted: {error}; nothing was posted, run `claude-tracker sync` again",
                timesheet.service()
            )
        })?;
        remote.extend(found);
    }
    Ok(remote)
}

/// Why a day stopped, before it is worded for the user.
struct DayFailure {
    project_id: String,
    mapped_path: Option<String>,
    error: FailureKind,
}

enum FailureKind {
    Remote(RemoteError),
    Local(anyhow::Error),
    NoOtherProject,
}

impl DayFailure {
    fn into_error(
        self,
        days: &[DayPlan],
        index: usize,
        service: &str,
        settings: &RunSettings<'_>,
    ) -> anyhow::Error {
        let day = &days[index];
        let project = match &self.mapped_path {
            Some(path) => format!("`{}` ({path})", self.project_id),
            None if self.project_id.is_empty() => "Other".to_string(),
            None => format!("`{}` (Other)", self.project_id),
        };
        let remaining: usize = days[index..]
            .iter()
            .filter(|d| d.status == DayStatus::Planned)
            .flat_map(|d| &d.steps)
            .filter(|s| !matches!(s.state, StepState::Posted(_)))
            .count();
        match self.error {
            FailureKind::Remote(RemoteError::QuotaSpent { retry_after }) => {
                let when = chrono::Duration::from_std(retry_after)
                    .ok()
                    .and_then(|wait| settings.now.checked_add_signed(wait))
                    .unwrap_or(settings.now);
                anyhow::anyhow!(
                    "{service}'s request quota is spent (at {} {project}); {remaining} entries remain. \
                     Nothing is lost: run `claude-tracker sync` again after {} UTC (in about {})",
                    day.date,
                    when.format("%H:%M"),
                    crate::timesheet::minutes(retry_after)
                )
            }
            FailureKind::Remote(error) => anyhow::anyhow!(
                "sync stopped at {} {project}: {service}: {error}. Earlier days are complete; {remaining} \
                 entries remain: fix this and run `claude-tracker sync` again",
                day.date
            ),
            FailureKind::Local(error) => error.context(format!("sync stopped at {} {project}", day.date)),
            FailureKind::NoOtherProject => anyhow::anyhow!(
                "{} has time in projects that are not mapped and no Other project to put it in: {}, then run \
                 `claude-tracker sync` again; nothing of that day was posted",
                day.date,
                settings.unmapped_time_hint
            ),
        }
    }
}

/// Refuses a day that cannot be posted whole, before anything of it is posted.
fn check_day(day: &DayPlan) -> Result<(), Box<DayFailure>> {
    match day.steps.iter().find(|s| s.entry.project_id.is_empty()) {
        Some(step) => Err(Box::new(DayFailure {
            project_id: String::new(),
            mapped_path: step.entry.mapped_path.clone(),
            error: FailureKind::NoOtherProject,
        })),
        None => Ok(()),
    }
}

fn sync_day(
    day: &mut DayPlan,
    store: &mut Store,
    timesheet: &mut dyn Timesheet,
    settings: &RunSettings<'_>,
    remote: &mut RemoteIndex,
) -> Result<DayReport, Box<DayFailure>> {
    let mut report = DayReport { posted: 0, adopted: 0 };
    let date = day.date;
    check_day(day)?;
    // The day's plan is fixed before its first entry goes out, so a later run finishes the same plan
    // even if the config changed in between (posted entries cannot be moved).
    if day.steps.iter().any(|s| !matches!(s.state, StepState::Posted(_))) {
        let entries: Vec<_> = day.steps.iter().map(|s| s.entry.clone()).collect();
        store.fix_day_plan(settings.scope, date, &entries).map_err(|e| {
            Box::new(DayFailure {
                project_id: String::new(),
                mapped_path: None,
                error: FailureKind::Local(e),
            })
        })?;
    }
    let window = (
        day.steps.iter().map(|s| s.entry.start).min().unwrap_or_default(),
        day.steps.iter().map(|s| s.entry.end).max().unwrap_or_default(),
    );
    for step in &mut day.steps {
        let failure = |error| {
            Box::new(DayFailure {
                project_id: step.entry.project_id.clone(),
                mapped_path: step.entry.mapped_path.clone(),
                error,
            })
        };
        let entry = LedgerEntry {
            scope: settings.scope,
            date,
            project_id: &step.entry.project_id,
            start: step.entry.start,
            end: step.entry.end,
        };
        let found = match &step.state {
            StepState::Posted(_) => continue,
            StepState::InDoubt { start } => remote.take_exact(entry.project_id, *start),
            StepState::ToPost if settings.reconcile => {
                remote.take_in_window(entry.project_id, window.0, window.1)
            }
            StepState::ToPost => None,
        };
        if let Some(id) = found {
            store.record_posted_entry(entry, &id, true).map_err(|e| failure(FailureKind::Local(e)))?;
            step.state = StepState::Posted(id);
            report.adopted += 1;
            continue;
        }
        let (id, adopted) = post_once(entry, timesheet, store, settings).map_err(failure)?;
        step.state = StepState::Posted(id);
        if adopted {
            report.adopted += 1;
        } else {
            report.posted += 1;
        }
    }
    Ok(report)
}

/// Posts one entry under an intent; when the answer is lost, looks at what was stored before trying
/// again. Returns the remote id and whether it was adopted rather than created.
fn post_once(
    entry: LedgerEntry<'_>,
    timesheet: &mut dyn Timesheet,
    store: &mut Store,
    settings: &RunSettings<'_>,
) -> Result<(String, bool), FailureKind> {
    let local = FailureKind::Local;
    store.record_intent(entry).map_err(local)?;
    let new_entry = EntryDraft {
        project_id: Some(entry.project_id.to_string()),
        start: entry.start,
        end: Some(entry.end),
        description: settings.description.to_string(),
        billable: settings.billable,
        tags: settings.tags.to_vec(),
    };
    let mut delay = settings.backoff;
    let mut attempt = 1;
    // Once an attempt went unanswered, the entry may be stored whatever later attempts say.
    let mut maybe_stored = false;
    loop {
        match timesheet.create(&new_entry) {
            Ok(id) => {
                store.record_posted_entry(entry, &id, false).map_err(local)?;
                return Ok((id, false));
            }
            Err(RemoteError::MaybeStored { detail }) if attempt < settings.post_attempts => {
                maybe_stored = true;
                std::thread::sleep(delay);
                delay *= 2;
                attempt += 1;
                // The entry may have been stored before the answer was lost: look before posting again.
                let found = list_around(timesheet, entry.date, entry.date)
                    .map_err(|e| FailureKind::Remote(with_detail(e, &detail)))?
                    .take_exact(entry.project_id, entry.start);
                if let Some(id) = found {
                    store.record_posted_entry(entry, &id, true).map_err(local)?;
                    return Ok((id, true));
                }
            }
            Err(error @ RemoteError::MaybeStored { .. }) => return Err(FailureKind::Remote(error)),
            Err(error) => {
                // Refused or rate limited: this attempt stored nothing. The intent goes only when no
                // earlier attempt could have stored the entry; otherwise the next run looks first.
                if !maybe_stored {
                    store.drop_intent(entry.scope, entry.date, entry.project_id).map_err(local)?;
                }
                return Err(FailureKind::Remote(error));
            }
        }
    }
}

fn with_detail(error: RemoteError, first: &str) -> RemoteError {
    match error {
        RemoteError::MaybeStored { detail } => {
            RemoteError::MaybeStored { detail: format!("{first}; then {detail}") }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::PlannedEntry;
    use crate::timesheet::memory::{Call, Memory};
    use plan::Step;

    fn day(date: &str, state: StepState) -> DayPlan {
        let date: NaiveDate = date.parse().unwrap();
        let start = date.and_hms_opt(9, 0, 0).unwrap().and_utc();
        let entry = PlannedEntry {
            project_id: "p".into(),
            mapped_path: Some("/w".into()),
            start,
            end: start + chrono::Duration::hours(8),
            seconds: 8 * 3600,
            share_ppm: 1_000_000,
        };
        DayPlan { date, status: DayStatus::Planned, steps: vec![Step { entry, state }] }
    }

    fn settings(reconcile: bool) -> RunSettings<'static> {
        RunSettings {
            scope: LedgerScope { destination: "memory", workspace_id: "ws" },
            description: "Development",
            billable: None,
            tags: &[],
            reconcile,
            post_attempts: 3,
            unmapped_time_hint: "map them",
            backoff: Duration::ZERO,
            now: "2026-12-01T00:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn only_days_in_doubt_are_listed_each_on_its_own() {
        let mut store = Store::open_in_memory().unwrap();
        let stored_start = "2026-11-02T09:00:00Z".parse().unwrap();
        let mut memory = Memory::default();
        let draft = EntryDraft {
            start: stored_start,
            end: None,
            project_id: Some("p".into()),
            description: String::new(),
            tags: Vec::new(),
            billable: None,
        };
        let remote = RemoteEntry {
            id: "already".into(),
            project_id: Some("p".into()),
            start: stored_start,
            end: None,
            description: String::new(),
        };
        memory.entries.push((remote, draft));
        let mut days = vec![
            day("2026-11-02", StepState::InDoubt { start: stored_start }),
            day("2026-11-03", StepState::ToPost),
            day("2026-11-20", StepState::InDoubt { start: "2026-11-20T09:00:00Z".parse().unwrap() }),
        ];
        let counts = execute(&mut days, &mut store, &mut memory, &settings(false), &mut |_, _| {}).unwrap();
        assert_eq!(counts, SyncCounts { days_synced: 3, entries_posted: 2, entries_adopted: 1 });
        let listings: Vec<&Call> = memory.calls.iter().filter(|c| matches!(c, Call::List(..))).collect();
        assert_eq!(listings.len(), 2, "one listing per day in doubt, none for the rest");
        assert!(
            matches!(listings[1], Call::List(from, _) if from.to_rfc3339() == "2026-11-19T00:00:00+00:00")
        );
        assert_eq!(memory.count(|c| matches!(c, Call::Create(_))), 2);
        assert_eq!(days[0].steps[0].state, StepState::Posted("already".into()));
        let scope = LedgerScope { destination: "memory", workspace_id: "ws" };
        assert_eq!(store.ledger(scope).unwrap().synced_days.len(), 3);
    }

    #[test]
    fn a_normal_run_lists_nothing_and_reconcile_lists_once() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let mut days = vec![day("2026-11-02", StepState::ToPost), day("2026-11-03", StepState::ToPost)];
        execute(&mut days, &mut store, &mut memory, &settings(false), &mut |_, _| {}).unwrap();
        assert_eq!(memory.count(|c| matches!(c, Call::List(..))), 0);
        assert_eq!(memory.requests_sent(), 2);

        let mut other_store = Store::open_in_memory().unwrap();
        let mut days = vec![day("2026-11-02", StepState::ToPost), day("2026-11-03", StepState::ToPost)];
        let counts =
            execute(&mut days, &mut other_store, &mut memory, &settings(true), &mut |_, _| {}).unwrap();
        assert_eq!(memory.count(|c| matches!(c, Call::List(..))), 1);
        assert_eq!(counts.entries_adopted, 2, "a second machine adopts what the first posted");
        assert_eq!(memory.count(|c| matches!(c, Call::Create(_))), 2);
    }
}
