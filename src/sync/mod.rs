//! The one executor: walks the sorted steps a planner produced through a timesheet service, recording
//! every step in the ledger as it goes, so a crash anywhere leaves a state the next run finishes without
//! doing anything twice. Every planner (the daily ratio split today; session segments and the live
//! timer next) hands its batches to [`execute`].
//!
//! Crash safety: before each request an intent row (key, what is sent, the operation) is written; the
//! answer settles it. An unsettled row means "may have happened": a create is looked for (only the days
//! with such a row are listed, and an entry with the same project and start is adopted) before it is sent
//! again; an update, delete or stop is repeated (they are idempotent).

pub(crate) mod daily;
pub(crate) mod live;
pub(crate) mod sessions;
pub(crate) mod steps;

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Days, NaiveDate, Utc};

use crate::allocate::PlannedEntry;
use crate::ledger::{EntryState, KeyedEntry, LedgerScope, Operation, Sent, fingerprint};
use crate::pause::Pause;
use crate::store::Store;
use crate::timesheet::{RemoteEntry, RemoteError, Timesheet};
#[cfg(test)]
use steps::EntryMode;
use steps::{Action, Batch, DayStatus, Step};

/// Settings of one run.
#[derive(Debug, Clone)]
pub(crate) struct RunSettings<'a> {
    /// The destination and workspace whose ledger this run writes.
    pub(crate) scope: LedgerScope<'a>,
    /// List the user's entries for every planned day and adopt matches (a second machine syncing the
    /// same account).
    pub(crate) reconcile: bool,
    /// Attempts at one create that got no usable answer (each after a look at what was stored).
    pub(crate) post_attempts: u32,
    /// What to tell the user when a day has unmapped time but no Other project to put it in.
    pub(crate) unmapped_time_hint: &'a str,
    pub(crate) backoff: Duration,
    /// Waits go through it, so a long-running caller can cut them short.
    pub(crate) pause: Pause,
    pub(crate) now: DateTime<Utc>,
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SyncCounts {
    pub(crate) days_synced: usize,
    pub(crate) entries_posted: usize,
    pub(crate) entries_adopted: usize,
    pub(crate) entries_updated: usize,
    pub(crate) entries_deleted: usize,
    /// Entries the user deleted in the service (an update answered 404): left deleted.
    pub(crate) entries_deleted_by_user: usize,
    /// Sessions-mode entries the service refused (the rest went on); a re-run retries them.
    pub(crate) failures: Vec<EntryFailure>,
}

/// What happened to one batch, for progress output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchReport {
    pub(crate) posted: usize,
    pub(crate) adopted: usize,
    pub(crate) updated: usize,
    pub(crate) deleted: usize,
    /// Updates answered 404: the user deleted the entry in the service, and it is left deleted.
    pub(crate) deleted_by_user: usize,
    pub(crate) failed: usize,
    /// `--reconcile`: the day was found posted by another machine and adopted whole, as it was posted.
    pub(crate) adopted_whole: bool,
}

/// One entry the service refused, with what to do about it (seed 003's list of failed pushes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryFailure {
    /// The ledger key it stays recorded under (state `refused`).
    pub(crate) key: String,
    pub(crate) start: DateTime<Utc>,
    /// The entry as planned (its project and mapped path, for the listing).
    pub(crate) entry: PlannedEntry,
    pub(crate) error: String,
    pub(crate) hint: String,
}

/// Where progress goes. Writing may fail (stdout closed by `| head`): the executor then stops reporting
/// and goes on, so a closed terminal never leaves days unsynced.
pub(crate) trait Progress {
    /// One batch is complete.
    fn batch_done(&mut self, batch: &Batch, report: BatchReport) -> std::io::Result<()>;
}

/// A sink that says nothing.
#[cfg(test)]
pub(crate) struct Silent;

#[cfg(test)]
impl Progress for Silent {
    fn batch_done(&mut self, _batch: &Batch, _report: BatchReport) -> std::io::Result<()> {
        Ok(())
    }
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

    /// Takes the entry of `project` that starts exactly at `start`: what an earlier request of ours
    /// stored.
    fn take_exact(&mut self, project: Option<&str>, start: DateTime<Utc>) -> Option<RemoteEntry> {
        self.take_where(|e| e.project_id.as_deref() == project && e.start.timestamp() == start.timestamp())
    }

    /// Takes an entry of `project` starting within `[from, to)`: what another machine posted for that day
    /// (its own transcripts give it another split, so the times differ).
    fn take_in_window(
        &mut self,
        project: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<RemoteEntry> {
        self.take_where(|e| e.project_id.as_deref() == project && e.start >= from && e.start < to)
    }

    fn take_where(&mut self, matches: impl Fn(&RemoteEntry) -> bool) -> Option<RemoteEntry> {
        let index = self.entries.iter().position(matches)?;
        Some(self.entries.swap_remove(index))
    }
}

/// Lists entries around a span of days: a day's margin each side, because the service may read the
/// filter in the user's profile time zone rather than UTC.
fn list_around(
    timesheet: &mut dyn Timesheet,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<RemoteIndex, RemoteError> {
    let midnight = |date: NaiveDate| date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let from = midnight(first.checked_sub_days(Days::new(1)).unwrap_or(first));
    let to = midnight(last.checked_add_days(Days::new(2)).unwrap_or(last));
    Ok(RemoteIndex { entries: timesheet.list(from, to)? })
}

/// What a run did, also when it stopped early: the commands print the summary (with every refused
/// entry and its hint) in every case, then why it stopped.
#[derive(Debug)]
pub(crate) struct RunReport {
    pub(crate) counts: SyncCounts,
    /// Why the run stopped before the end of the plan (a spent quota, no answer, a local error), as
    /// facts: the commands word it (`planning::stop_message`).
    pub(crate) stopped: Option<Stop>,
}

/// Why a run stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The listing that looks for entries already posted failed: nothing was sent.
    Listing { first: NaiveDate, last: NaiveDate, error: RemoteError },
    /// A step of the day `date` failed in a way that stops every request.
    Step {
        date: NaiveDate,
        project_id: Option<String>,
        mapped_path: Option<String>,
        cause: FailureKind,
        /// Entries still to send (the refused ones left out).
        remaining: usize,
        /// Entries were refused earlier in the run (listed with the counts).
        refused_earlier: bool,
    },
    /// The database failed between steps.
    Local(anyhow::Error),
}

#[cfg(test)]
impl RunReport {
    /// The counts when the run went to the end, else why it stopped, worded as `sync` says it.
    pub(crate) fn into_result(self) -> Result<SyncCounts> {
        match self.stopped {
            None => Ok(self.counts),
            Some(stop) => Err(crate::planning::stop_message(
                stop,
                "Memory",
                "claude-tracker sync",
                "map them",
                "2026-12-01T00:00:00Z".parse().unwrap_or_default(),
            )),
        }
    }
}

/// Walks the plan: adopts what is already there, sends the rest, marks complete days. Updates the plan
/// in place (each done step becomes `Keep`, each finished day `Synced`) and reports after every batch.
pub(crate) fn execute(
    batches: &mut [Batch],
    store: &mut Store,
    timesheet: &mut dyn Timesheet,
    settings: &RunSettings<'_>,
    progress: &mut dyn Progress,
) -> RunReport {
    let mut counts = SyncCounts::default();
    let mut remote = match initial_listing(batches, timesheet, settings) {
        Ok(remote) => remote,
        Err(stop) => return RunReport { counts, stopped: Some(*stop) },
    };
    // An entry the ledger already holds under some key is ours as recorded: never adopted again, never
    // withdrawn for another row.
    if !remote.entries.is_empty() {
        match store.known_remote_ids(settings.scope) {
            Ok(known) => remote.entries.retain(|entry| !known.contains(&entry.id)),
            Err(error) => return RunReport { counts, stopped: Some(Stop::Local(error)) },
        }
    }
    let mut reporting = true;
    for index in 0..batches.len() {
        if batches[index].status != DayStatus::Planned {
            continue;
        }
        let mut run = StepRun {
            store,
            timesheet,
            settings,
            remote: &mut remote,
            failures: Vec::new(),
            report: BatchReport::default(),
        };
        let outcome = run.batch(&mut batches[index]);
        let failures = std::mem::take(&mut run.failures);
        let report = run.report;
        let day_refused = !failures.is_empty();
        counts.failures.extend(failures);
        // What a batch did before it stopped counts too: the summary is always whole.
        counts.entries_posted += report.posted;
        counts.entries_adopted += report.adopted;
        counts.entries_updated += report.updated;
        counts.entries_deleted += report.deleted;
        counts.entries_deleted_by_user += report.deleted_by_user;
        if let Err(failure) = outcome {
            let refused: Vec<&str> = counts.failures.iter().map(|f| f.key.as_str()).collect();
            let stop = failure.into_stop(batches, index, &refused);
            return RunReport { counts, stopped: Some(stop) };
        }
        if !day_refused {
            if let Err(error) =
                store.mark_day_synced(settings.scope, batches[index].date, batches[index].mode, settings.now)
            {
                return RunReport { counts, stopped: Some(Stop::Local(error)) };
            }
            batches[index].status = DayStatus::Synced;
            counts.days_synced += 1;
        }
        if reporting && progress.batch_done(&batches[index], report).is_err() {
            reporting = false;
        }
    }
    RunReport { counts, stopped: None }
}

/// The listings a run may need: with `--reconcile`, one over the whole span of days with something to
/// do; otherwise one around each day with a create in doubt (after a crash, usually one day). A normal
/// run needs none.
fn initial_listing(
    batches: &[Batch],
    timesheet: &mut dyn Timesheet,
    settings: &RunSettings<'_>,
) -> Result<RemoteIndex, Box<Stop>> {
    let in_doubt = |batch: &&Batch| {
        batch
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::Adopt { .. } | Action::Withdraw { look_for: Some(_) }))
    };
    let to_do = |batch: &&Batch| batch.steps.iter().any(|s| s.action.is_pending());
    let planned = batches.iter().filter(|b| b.status == DayStatus::Planned);
    let whole_span = |dates: &mut dyn DoubleEndedIterator<Item = NaiveDate>| -> Vec<(NaiveDate, NaiveDate)> {
        dates.next().map(|first| (first, dates.next_back().unwrap_or(first))).into_iter().collect()
    };
    let spans = if settings.reconcile {
        whole_span(&mut planned.filter(to_do).map(|b| b.date))
    } else if timesheet.prefers_one_listing() {
        whole_span(&mut planned.filter(in_doubt).map(|b| b.date))
    } else {
        planned.filter(in_doubt).map(|b| (b.date, b.date)).collect()
    };
    let mut remote = RemoteIndex::default();
    for (first, last) in spans {
        let found = list_around(timesheet, first, last)
            .map_err(|error| Box::new(Stop::Listing { first, last, error }))?;
        remote.extend(found);
    }
    Ok(remote)
}

/// Why a batch stopped, before it is worded for the user.
struct StepFailure {
    project_id: Option<String>,
    mapped_path: Option<String>,
    error: FailureKind,
}

/// What made a step fail.
#[derive(Debug)]
pub(crate) enum FailureKind {
    Remote(RemoteError),
    Local(anyhow::Error),
    NoOtherProject,
}

impl StepFailure {
    /// The stop this failure makes, with what is left of the plan.
    fn into_stop(self, batches: &[Batch], index: usize, refused: &[&str]) -> Stop {
        let remaining: usize = batches[index..]
            .iter()
            .filter(|b| b.status == DayStatus::Planned)
            .flat_map(|b| &b.steps)
            .filter(|s| s.action.is_pending() && !refused.contains(&s.key.as_str()))
            .count();
        Stop::Step {
            date: batches[index].date,
            project_id: self.project_id,
            mapped_path: self.mapped_path,
            cause: self.error,
            remaining,
            refused_earlier: !refused.is_empty(),
        }
    }
}

/// The state one batch's steps share while they run.
struct StepRun<'r, 'a> {
    store: &'r mut Store,
    timesheet: &'r mut dyn Timesheet,
    settings: &'r RunSettings<'a>,
    remote: &'r mut RemoteIndex,
    /// Entries refused in a batch that goes on without them (sessions mode).
    failures: Vec<EntryFailure>,
    /// What the batch did so far.
    report: BatchReport,
}

type StepResult<T> = Result<T, Box<StepFailure>>;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Posted,
    Adopted,
    Updated,
    Deleted,
    Started,
    Stopped,
    /// An update answered 404: the user deleted the entry; it is left deleted.
    DeletedByUser,
    /// A row no work stands for was dropped without a request (nothing of it was on the service).
    Forgotten,
}

impl StepRun<'_, '_> {
    fn batch(&mut self, batch: &mut Batch) -> StepResult<()> {
        if batch.mode.fixes_plan() {
            check_batch(batch)?;
        }
        // Every tag the day's entries carry must be usable before the first of them goes out.
        let mut tags: Vec<String> =
            batch.steps.iter().filter(|s| s.action.is_pending()).flat_map(|s| s.draft.tags.clone()).collect();
        tags.sort_unstable();
        tags.dedup();
        if let Err(error) = self.timesheet.prepare_tags(&tags) {
            let tagged = batch.steps.iter().find(|s| s.action.is_pending() && !s.draft.tags.is_empty());
            let (project_id, mapped_path) =
                tagged.map_or((None, None), |s| (s.draft.project_id.clone(), s.plan.mapped_path.clone()));
            return Err(failure(project_id, mapped_path, FailureKind::Remote(error)));
        }
        let date = batch.date;
        if self.settings.reconcile && batch.mode.fixes_plan() && self.adopt_whole_day(batch)? {
            return Ok(());
        }
        // The day's plan is fixed before its first entry goes out, so a later run finishes the same plan
        // even if the config changed in between (posted entries cannot be moved).
        if batch.mode.fixes_plan() && batch.steps.iter().any(|s| s.action.is_pending()) {
            let entries: Vec<_> = batch.steps.iter().map(|s| s.planned()).collect();
            self.store
                .fix_day_plan(self.settings.scope, date, &entries)
                .map_err(|e| failure(None, None, FailureKind::Local(e)))?;
        }
        // Where `--reconcile` looks for another machine's entries: the day's work window (ratio split).
        let window = batch.mode.fixes_plan().then(|| {
            (
                batch.steps.iter().map(|s| s.draft.start).min().unwrap_or_default(),
                batch.steps.iter().map(|s| s.plan.end).max().unwrap_or_default(),
            )
        });
        let each_on_its_own = !batch.mode.fixes_plan();
        for step in &mut batch.steps {
            let outcome = match self.step(step, window) {
                Err(failure) if each_on_its_own => match entry_failure(step, *failure, self.settings) {
                    Ok(refused) => {
                        // Reported even if the ledger cannot keep it.
                        self.failures.push(refused.clone());
                        self.keep_refused(step, &refused)?;
                        self.report.failed += 1;
                        continue;
                    }
                    Err(failure) => return Err(failure),
                },
                outcome => outcome?,
            };
            let Some((done, remote_id)) = outcome else { continue };
            match done {
                Done::Posted | Done::Started => self.report.posted += 1,
                Done::Adopted => self.report.adopted += 1,
                Done::Updated | Done::Stopped => self.report.updated += 1,
                Done::Deleted => self.report.deleted += 1,
                Done::DeletedByUser => self.report.deleted_by_user += 1,
                Done::Forgotten => {}
            }
            step.action = match done {
                Done::DeletedByUser | Done::Forgotten => Action::Leave,
                _ => Action::Keep { remote_id },
            };
        }
        Ok(())
    }

    /// `--reconcile`, ratio split: a day another machine already posted whole (entries of the day's
    /// projects cover at least 90 % of its work window, and nothing of ours is recorded yet) is adopted
    /// whole, as it was posted:
    /// its entries are recorded with their own times and projects, become the day's fixed plan, and
    /// nothing of ours is added, so the day never holds more than one work day. True when adopted.
    fn adopt_whole_day(&mut self, batch: &mut Batch) -> StepResult<bool> {
        let begun = batch.steps.iter().any(|s| s.previous.is_some());
        let (Some(from), Some(to)) =
            (batch.steps.iter().map(|s| s.draft.start).min(), batch.steps.iter().map(|s| s.plan.end).max())
        else {
            return Ok(false);
        };
        if begun {
            return Ok(false);
        }
        let projects: Vec<Option<String>> = batch.steps.iter().map(|s| s.draft.project_id.clone()).collect();
        let mut theirs = Vec::new();
        while let Some(found) =
            self.remote.take_where(|e| projects.contains(&e.project_id) && e.start >= from && e.start < to)
        {
            theirs.push(found);
        }
        // Only a day posted whole counts (their entries cover nearly the whole window): a meeting logged
        // by hand is not another machine's day; it is left to the per-project look of each step.
        let covered: i64 =
            theirs.iter().map(|e| (e.end.unwrap_or(to).min(to) - e.start).num_seconds().max(0)).sum();
        if theirs.is_empty() || covered * 10 < (to - from).num_seconds() * 9 {
            self.remote.entries.extend(theirs);
            return Ok(false);
        }
        theirs.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        let day_seconds = (to - from).num_seconds().max(1);
        let template = batch.steps[0].clone();
        let mut steps = Vec::new();
        for found in &theirs {
            let end = found.end.unwrap_or(to);
            let mapped_path = batch
                .steps
                .iter()
                .find(|s| s.draft.project_id == found.project_id)
                .and_then(|s| s.plan.mapped_path.clone());
            let seconds = (end - found.start).num_seconds();
            let entry = PlannedEntry {
                project_id: found.project_id.clone(),
                mapped_path,
                start: found.start,
                end,
                seconds,
                share_ppm: u32::try_from(seconds * 1_000_000 / day_seconds).unwrap_or(0),
                tags: Vec::new(),
                billable: None,
            };
            let base = crate::ledger::day_key(batch.date, found.project_id.as_deref().unwrap_or(""), &[]);
            let taken = |key: &String| steps.iter().any(|s: &Step| &s.key == key);
            let key = std::iter::once(base.clone())
                .chain((2..).map(|n| format!("{base}#{n}")))
                .find(|key| !taken(key))
                .unwrap_or(base);
            let step = Step::new(
                key,
                template.action.clone(),
                entry,
                template.draft.clone(),
                template.previous.clone(),
            );
            let row = KeyedEntry { key: step.key.clone(), ..adopted_row(&step, found) };
            self.store.write_entry(self.settings.scope, &row).map_err(|e| self.local(&step, e))?;
            steps.push(Step {
                action: Action::Keep { remote_id: found.id.clone() },
                previous: Some(row),
                ..step
            });
        }
        let entries: Vec<PlannedEntry> = steps.iter().map(|s| s.planned()).collect();
        self.store
            .fix_day_plan(self.settings.scope, batch.date, &entries)
            .map_err(|e| failure(None, None, FailureKind::Local(e)))?;
        self.report.adopted += steps.len();
        self.report.adopted_whole = true;
        batch.steps = steps;
        Ok(true)
    }

    /// Runs one step; `None` when it had nothing to do.
    fn step(
        &mut self,
        step: &Step,
        window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> StepResult<Option<(Done, String)>> {
        let project = step.draft.project_id.as_deref();
        // An earlier request is looked for as it was sent: the plan may have moved it to another project.
        let sent_project =
            step.previous.as_ref().and_then(|row| row.sent.as_ref()).map(|s| s.project_id.clone());
        let found = match &step.action {
            Action::Keep { .. } | Action::Leave => return Ok(None),
            Action::Withdraw { look_for } => return self.withdraw(step, *look_for, sent_project),
            Action::Adopt { look_for } => {
                let looked_for = sent_project.as_ref().map_or(project, |sent| sent.as_deref());
                self.remote.take_exact(looked_for, *look_for)
            }
            // Another machine's split of a day has other times: any entry of the project that day. A
            // timeline entry is the same on every machine with the same transcripts: its exact start.
            Action::Create if self.settings.reconcile => match window {
                Some((from, to)) => self.remote.take_in_window(project, from, to),
                None => self.remote.take_exact(project, step.draft.start),
            },
            _ => None,
        };
        if let Some(found) = found {
            let id = found.id.clone();
            // A timeline entry found as an earlier run left it (still running, an older draft, another
            // project) is brought to what is planned now; a day of the ratio split adopted from another
            // machine is kept as that machine posted it.
            let bring_to_plan = window.is_none() && !matches_draft(&found, &step.draft);
            let adopted = adopted_row(step, &found);
            // A day of the ratio split adopted from another machine is recorded with its own times.
            let adopted = if bring_to_plan || window.is_some() {
                adopted
            } else {
                self.row(step, Operation::Create, EntryState::Stored, Some(&id), true)
            };
            self.store.write_entry(self.settings.scope, &adopted).map_err(|e| self.local(step, e))?;
            if bring_to_plan {
                let update = Step { previous: Some(adopted), ..step.clone() };
                self.idempotent(&update, Operation::Update, &id, |t, id| t.update(id, &step.draft))?;
            }
            return Ok(Some((Done::Adopted, id)));
        }
        if step.action.sends_project() && project.is_none() {
            return Err(failure(None, step.plan.mapped_path.clone(), FailureKind::NoOtherProject));
        }
        let done = match &step.action {
            Action::Keep { .. } | Action::Leave | Action::Withdraw { .. } => return Ok(None),
            Action::Create | Action::Adopt { .. } => self.create(step)?,
            Action::Start => self.start(step)?,
            Action::Update { remote_id } => {
                match self.idempotent(step, Operation::Update, remote_id, |t, id| t.update(id, &step.draft)) {
                    Ok(()) => (Done::Updated, remote_id.clone()),
                    // The user deleted it in the service: their deletion wins (recorded, not posted again
                    // except by `push --force`).
                    Err(failure) if failure.is_gone() => {
                        let mut row = step.previous.clone().unwrap_or_else(|| {
                            self.row(step, Operation::Update, EntryState::Stored, Some(remote_id), false)
                        });
                        row.state = EntryState::DeletedByUser;
                        row.reason = None;
                        self.store.write_entry(self.settings.scope, &row).map_err(|e| self.local(step, e))?;
                        (Done::DeletedByUser, remote_id.clone())
                    }
                    Err(failure) => return Err(failure),
                }
            }
            Action::Delete { remote_id } => {
                self.idempotent(step, Operation::Delete, remote_id, |t, id| t.delete(id))?;
                (Done::Deleted, remote_id.clone())
            }
            Action::Stop { remote_id, at } => {
                self.idempotent(step, Operation::Stop, remote_id, |t, id| t.stop(id, *at))?;
                (Done::Stopped, remote_id.clone())
            }
        };
        Ok(Some(done))
    }

    /// The step's row: what is (about to be) sent, in `state`. A delete or stop sends no entry: the row
    /// keeps what the service holds.
    fn row(
        &self,
        step: &Step,
        operation: Operation,
        state: EntryState,
        remote_id: Option<&str>,
        adopted: bool,
    ) -> KeyedEntry {
        let end = match (operation, &step.action) {
            (Operation::Stop, Action::Stop { at, .. }) => Some(*at),
            (Operation::Start, _) => None,
            _ => step.draft.end,
        };
        // An entry sent without an end runs on the service (a start, or a running one adopted or updated).
        let state = if state == EntryState::Stored && end.is_none() { EntryState::Running } else { state };
        let sends_entry = !matches!(operation, Operation::Delete | Operation::Stop);
        let sent = match (&step.previous, sends_entry) {
            (Some(previous), false) => previous.sent.clone(),
            _ => Some(Sent::of(&step.draft)),
        };
        KeyedEntry {
            key: step.key.clone(),
            remote_id: remote_id.map(str::to_string),
            start: step.draft.start,
            end,
            fingerprint: fingerprint(&step.draft),
            state,
            operation,
            adopted,
            sent,
            reason: None,
        }
    }

    /// Writes the step's row (see [`StepRun::row`]).
    fn record(
        &mut self,
        step: &Step,
        operation: Operation,
        state: EntryState,
        remote_id: Option<&str>,
        adopted: bool,
    ) -> StepResult<()> {
        let row = self.row(step, operation, state, remote_id, adopted);
        self.store.write_entry(self.settings.scope, &row).map_err(|e| self.local(step, e))
    }

    /// A refused entry stays in the ledger with its reason, so every later run (whatever its range) plans
    /// it again and `status` shows it: what the service holds is kept (its id, its last stored state, a
    /// running timer still running); a create that stored nothing holds no id.
    fn keep_refused(&mut self, step: &Step, refused: &EntryFailure) -> StepResult<()> {
        let current =
            self.store.ledger_entry(self.settings.scope, &step.key).map_err(|e| self.local(step, e))?;
        let mut row = match current {
            Some(row) if row.remote_id.is_some() || row.state == EntryState::InDoubt => row,
            _ => self.row(step, Operation::Create, EntryState::Refused, None, false),
        };
        if row.state != EntryState::Running && row.state != EntryState::InDoubt {
            row.state = EntryState::Refused;
        }
        row.reason = Some(format!("{}. {}", refused.error, refused.hint).trim_end_matches(". ").to_string());
        self.store.write_entry(self.settings.scope, &row).map_err(|e| self.local(step, e))
    }

    /// A row no work stands for: what its lost create may have stored is deleted, and the row goes.
    fn withdraw(
        &mut self,
        step: &Step,
        look_for: Option<DateTime<Utc>>,
        sent_project: Option<Option<String>>,
    ) -> StepResult<Option<(Done, String)>> {
        let found = look_for.and_then(|at| match &sent_project {
            Some(project) => self.remote.take_exact(project.as_deref(), at),
            // A row from before the ledger kept what was sent: any entry starting at that very second.
            None => self.remote.take_where(|e| e.start.timestamp() == at.timestamp()),
        });
        let Some(found) = found else {
            self.store.remove_entry(self.settings.scope, &step.key).map_err(|e| self.local(step, e))?;
            return Ok(Some((Done::Forgotten, String::new())));
        };
        let held = Step { previous: Some(adopted_row(step, &found)), ..step.clone() };
        self.idempotent(&held, Operation::Delete, &found.id, |t, id| t.delete(id))?;
        Ok(Some((Done::Deleted, found.id)))
    }

    /// After a refusal (nothing happened on the service): the row as it was before the intent, or none.
    /// A create left in doubt without an id is not restored: its adopt looked and found nothing, so
    /// nothing of it was stored. Any row with an id is kept as it was, so an entry the service holds is
    /// never forgotten.
    fn undo_intent(&mut self, step: &Step) -> StepResult<()> {
        let scope = self.settings.scope;
        let undone = match &step.previous {
            Some(previous) if previous.remote_id.is_some() || !previous.state.is_unsettled() => {
                self.store.write_entry(scope, previous)
            }
            _ => self.store.remove_entry(scope, &step.key),
        };
        undone.map_err(|e| self.local(step, e))
    }

    fn local(&self, step: &Step, error: anyhow::Error) -> Box<StepFailure> {
        failure(step.draft.project_id.clone(), step.plan.mapped_path.clone(), FailureKind::Local(error))
    }

    fn remote_failure(&self, step: &Step, error: RemoteError) -> Box<StepFailure> {
        failure(step.draft.project_id.clone(), step.plan.mapped_path.clone(), FailureKind::Remote(error))
    }

    /// Creates one entry under an intent; when the answer is lost, looks at what was stored before trying
    /// again.
    fn create(&mut self, step: &Step) -> StepResult<(Done, String)> {
        self.record(step, Operation::Create, EntryState::Intended, None, false)?;
        let project = step.draft.project_id.as_deref();
        let mut delay = self.settings.backoff;
        let mut attempt = 1;
        // Once an attempt went unanswered, the entry may be stored whatever later attempts say.
        let mut maybe_stored = false;
        loop {
            match self.timesheet.create(&step.draft) {
                Ok(id) => {
                    self.record(step, Operation::Create, EntryState::Stored, Some(&id), false)?;
                    return Ok((Done::Posted, id));
                }
                Err(RemoteError::MaybeStored { detail }) if attempt < self.settings.post_attempts => {
                    maybe_stored = true;
                    self.record(step, Operation::Create, EntryState::InDoubt, None, false)?;
                    if self.settings.pause.sleep(delay).is_err() {
                        return Err(self.remote_failure(step, RemoteError::MaybeStored { detail }));
                    }
                    delay *= 2;
                    attempt += 1;
                    // The entry may have been stored before the answer was lost: look before posting again.
                    let date = step.draft.start.date_naive();
                    let found = list_around(self.timesheet, date, date)
                        .map_err(|e| self.remote_failure(step, with_detail(e, &detail)))?
                        .take_exact(project, step.draft.start);
                    if let Some(found) = found {
                        // What this very request stored: the draft itself.
                        self.record(step, Operation::Create, EntryState::Stored, Some(&found.id), true)?;
                        return Ok((Done::Adopted, found.id));
                    }
                }
                Err(error @ RemoteError::MaybeStored { .. }) => {
                    self.record(step, Operation::Create, EntryState::InDoubt, None, false)?;
                    return Err(self.remote_failure(step, error));
                }
                Err(error) => {
                    // Refused or out of quota: this attempt stored nothing. The intent goes only when no
                    // earlier attempt could have stored the entry; otherwise the next run looks first.
                    if !maybe_stored {
                        self.undo_intent(step)?;
                    }
                    return Err(self.remote_failure(step, error));
                }
            }
        }
    }

    /// Starts a running entry under an intent (a lost answer leaves the row in doubt: the live timer looks
    /// for the running entry before starting another).
    fn start(&mut self, step: &Step) -> StepResult<(Done, String)> {
        self.record(step, Operation::Start, EntryState::Intended, None, false)?;
        match self.timesheet.start(&step.draft) {
            Ok(id) => {
                self.record(step, Operation::Start, EntryState::Running, Some(&id), false)?;
                Ok((Done::Started, id))
            }
            Err(error @ RemoteError::MaybeStored { .. }) => {
                self.record(step, Operation::Start, EntryState::InDoubt, None, false)?;
                Err(self.remote_failure(step, error))
            }
            Err(error) => {
                self.undo_intent(step)?;
                Err(self.remote_failure(step, error))
            }
        }
    }

    /// An update, delete or stop of a known entry under an intent: on success the row is settled (or
    /// removed, for a delete); a lost answer leaves it in doubt (the next run repeats the request); a
    /// refusal restores the row as it was.
    fn idempotent(
        &mut self,
        step: &Step,
        operation: Operation,
        remote_id: &str,
        send: impl FnOnce(&mut dyn Timesheet, &str) -> Result<(), RemoteError>,
    ) -> StepResult<()> {
        self.record(step, operation, EntryState::Intended, Some(remote_id), false)?;
        match send(self.timesheet, remote_id) {
            Ok(()) if operation == Operation::Delete => {
                self.store.remove_entry(self.settings.scope, &step.key).map_err(|e| self.local(step, e))
            }
            Ok(()) => self.record(step, operation, EntryState::Stored, Some(remote_id), false),
            Err(error @ RemoteError::MaybeStored { .. }) => {
                self.record(step, operation, EntryState::InDoubt, Some(remote_id), false)?;
                Err(self.remote_failure(step, error))
            }
            Err(error) => {
                self.undo_intent(step)?;
                Err(self.remote_failure(step, error))
            }
        }
    }
}

impl StepFailure {
    /// The service says the entry does not exist (HTTP 404).
    fn is_gone(&self) -> bool {
        matches!(self.error, FailureKind::Remote(RemoteError::Refused { status: 404, .. }))
    }
}

fn failure(project_id: Option<String>, mapped_path: Option<String>, error: FailureKind) -> Box<StepFailure> {
    Box::new(StepFailure { project_id, mapped_path, error })
}

/// Refuses a day of the ratio split that cannot be sent whole, before anything of it is sent.
fn check_batch(batch: &Batch) -> StepResult<()> {
    match batch.steps.iter().find(|s| s.action.sends_project() && s.draft.project_id.is_none()) {
        Some(step) => Err(failure(None, step.plan.mapped_path.clone(), FailureKind::NoOtherProject)),
        None => Ok(()),
    }
}

/// A sessions-mode step that failed on its own: refused (or without a project), it is listed and the
/// run goes on; anything that stops every request (a spent quota, no answer) still stops the run.
fn entry_failure(step: &Step, failure: StepFailure, settings: &RunSettings<'_>) -> StepResult<EntryFailure> {
    let (error, hint) = match &failure.error {
        FailureKind::Remote(RemoteError::Refused { status, request, message, hint }) => {
            (format!("{request} was refused with HTTP {status}: {message}"), hint.clone())
        }
        FailureKind::Remote(RemoteError::Invalid { request, message, hint }) => {
            (format!("{request} was not sent: {message}"), hint.clone())
        }
        FailureKind::NoOtherProject => {
            ("unmapped time and no Other project".to_string(), settings.unmapped_time_hint.to_string())
        }
        _ => return Err(Box::new(failure)),
    };
    Ok(EntryFailure { key: step.key.clone(), start: step.draft.start, entry: step.planned(), error, hint })
}

/// The row of an entry found on the service as it holds it (its own times, project and description), so
/// that a refusal of what follows never forgets it.
fn adopted_row(step: &Step, found: &RemoteEntry) -> KeyedEntry {
    let sent = Sent {
        project_id: found.project_id.clone(),
        description: found.description.clone(),
        tags: Vec::new(),
        billable: None,
    };
    KeyedEntry {
        key: step.key.clone(),
        remote_id: Some(found.id.clone()),
        start: found.start,
        end: found.end,
        fingerprint: fingerprint(&sent.draft(found.start, found.end)),
        state: if found.end.is_some() { EntryState::Stored } else { EntryState::Running },
        operation: Operation::Create,
        adopted: true,
        sent: Some(sent),
        reason: None,
    }
}

/// True when the service's entry says what the draft says (times to the second, project, description).
fn matches_draft(found: &RemoteEntry, draft: &crate::timesheet::EntryDraft) -> bool {
    let second = |at: Option<DateTime<Utc>>| at.map(|at| at.timestamp());
    found.start.timestamp() == draft.start.timestamp()
        && second(found.end) == second(draft.end)
        && found.project_id == draft.project_id
        && found.description == draft.description
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
    use crate::ledger::Ledger;
    use crate::timesheet::EntryDraft;
    use crate::timesheet::memory::{Call, Memory};

    const SCOPE: LedgerScope<'static> = LedgerScope { destination: "memory", workspace_id: "ws" };

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn draft(start: DateTime<Utc>) -> EntryDraft {
        EntryDraft {
            start,
            end: Some(start + chrono::Duration::hours(8)),
            project_id: Some("p".into()),
            description: "Development".into(),
            tags: Vec::new(),
            billable: None,
        }
    }

    fn step(date: NaiveDate, action: Action) -> Step {
        let start = date.and_hms_opt(9, 0, 0).unwrap().and_utc();
        let entry = PlannedEntry {
            project_id: Some("p".into()),
            mapped_path: Some("/w".into()),
            start,
            end: start + chrono::Duration::hours(8),
            seconds: 8 * 3600,
            share_ppm: 1_000_000,
            tags: Vec::new(),
            billable: None,
        };
        Step::new(format!("day:{date}:p"), action, entry, draft(start), None)
    }

    fn day(date: &str, action: Action) -> Batch {
        let date: NaiveDate = date.parse().unwrap();
        Batch { date, status: DayStatus::Planned, steps: vec![step(date, action)], mode: EntryMode::Workday }
    }

    fn settings(reconcile: bool) -> RunSettings<'static> {
        RunSettings {
            scope: SCOPE,
            reconcile,
            post_attempts: 3,
            unmapped_time_hint: "map them",
            backoff: Duration::ZERO,
            pause: Pause::default(),
            now: at("2026-12-01T00:00:00Z"),
        }
    }

    fn run(batches: &mut [Batch], store: &mut Store, memory: &mut Memory) -> Result<SyncCounts> {
        execute(batches, store, memory, &settings(false), &mut Silent).into_result()
    }

    fn transient() -> RemoteError {
        RemoteError::MaybeStored { detail: "connection reset".into() }
    }

    fn refused() -> RemoteError {
        RemoteError::Refused { status: 400, request: "PUT".into(), message: "no".into(), hint: "fix".into() }
    }

    #[test]
    fn only_days_in_doubt_are_listed_each_on_its_own() {
        let mut store = Store::open_in_memory().unwrap();
        let stored_start = at("2026-11-02T09:00:00Z");
        let mut memory = Memory::default();
        memory.create(&draft(stored_start)).unwrap();
        memory.calls.clear();
        let mut days = vec![
            day("2026-11-02", Action::Adopt { look_for: stored_start }),
            day("2026-11-03", Action::Create),
            day("2026-11-20", Action::Adopt { look_for: at("2026-11-20T09:00:00Z") }),
        ];
        let counts = run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!(
            counts,
            SyncCounts { days_synced: 3, entries_posted: 2, entries_adopted: 1, ..SyncCounts::default() }
        );
        assert_eq!(
            memory.calls,
            vec![
                Call::List(at("2026-11-01T00:00:00Z"), at("2026-11-04T00:00:00Z")),
                Call::List(at("2026-11-19T00:00:00Z"), at("2026-11-22T00:00:00Z")),
                Call::Create("2026-11-03T09:00:00+00:00".into()),
                Call::Create("2026-11-20T09:00:00+00:00".into()),
            ],
            "one listing per day in doubt, none for the rest"
        );
        assert_eq!(days[0].steps[0].action, Action::Keep { remote_id: "e1".into() });
        let ledger = store.ledger(SCOPE).unwrap();
        assert_eq!(ledger.synced_days.len(), 3);
        assert_eq!(
            ledger.entries.values().map(|e| (e.state, e.adopted)).collect::<Vec<_>>(),
            vec![(EntryState::Stored, true), (EntryState::Stored, false), (EntryState::Stored, false)]
        );
    }

    #[test]
    fn a_normal_run_lists_nothing_and_reconcile_lists_once() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let mut days = vec![day("2026-11-02", Action::Create), day("2026-11-03", Action::Create)];
        run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!(memory.count(|c| matches!(c, Call::List(..))), 0);
        assert_eq!(memory.requests_sent(), 2);

        let mut other_store = Store::open_in_memory().unwrap();
        let mut days = vec![day("2026-11-02", Action::Create), day("2026-11-03", Action::Create)];
        let counts = execute(&mut days, &mut other_store, &mut memory, &settings(true), &mut Silent)
            .into_result()
            .unwrap();
        assert_eq!(memory.count(|c| matches!(c, Call::List(..))), 1);
        assert_eq!(counts.entries_adopted, 2, "a second machine adopts what the first posted");
        assert_eq!(memory.count(|c| matches!(c, Call::Create(_))), 2);
    }

    #[test]
    fn a_lost_answer_is_looked_for_before_posting_again() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        memory.faults.push((transient(), true)); // stored, then the answer was lost
        let mut days = vec![day("2026-11-02", Action::Create)];
        let counts = run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!(counts.entries_adopted, 1);
        assert_eq!(memory.entries.len(), 1, "never posted twice");
        assert_eq!(memory.count(|c| matches!(c, Call::Create(_))), 1);
    }

    #[test]
    fn a_create_left_in_doubt_is_adopted_by_the_next_plan() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        memory.faults.push((transient(), true));
        let mut days = vec![day("2026-11-02", Action::Create)];
        let mut once = settings(false);
        once.post_attempts = 1;
        let error =
            execute(&mut days, &mut store, &mut memory, &once, &mut Silent).into_result().unwrap_err();
        assert_eq!(
            error.to_string(),
            "sync stopped at 2026-11-02 `p` (/w): Memory: no usable answer (connection reset). Earlier days \
             are complete; 1 entries remain: fix this and run `claude-tracker sync` again"
        );
        let row = store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"].clone();
        assert_eq!(
            (row.state, row.operation, row.remote_id.clone()),
            (EntryState::InDoubt, Operation::Create, None)
        );
        assert_eq!(steps::resume(&row), Action::Adopt { look_for: at("2026-11-02T09:00:00Z") });
        let mut days = vec![day("2026-11-02", steps::resume(&row))];
        let counts = run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!((counts.entries_adopted, counts.entries_posted), (1, 0));
        assert_eq!(memory.entries.len(), 1);
    }

    #[test]
    fn updates_deletes_and_timers_go_through_intents_and_settle() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let mut days = vec![day("2026-11-02", Action::Create)];
        run(&mut days, &mut store, &mut memory).unwrap();

        let mut update = step(date, Action::Update { remote_id: "e1".into() });
        update.draft.end = Some(at("2026-11-02T18:00:00Z"));
        let mut start = step(date, Action::Start);
        start.key = "live:ws".into();
        start.draft.start = at("2026-11-02T18:30:00Z");
        let mut days = vec![Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![update, start],
            mode: EntryMode::Sessions,
        }];
        let counts = run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!((counts.entries_updated, counts.entries_posted), (1, 1));
        let ledger = store.ledger(SCOPE).unwrap();
        assert_eq!(ledger.entries["day:2026-11-02:p"].end, Some(at("2026-11-02T18:00:00Z")));
        assert_eq!(ledger.entries["day:2026-11-02:p"].state, EntryState::Stored);
        assert_eq!(ledger.entries["live:ws"].state, EntryState::Running);
        assert_eq!(ledger.entries["live:ws"].remote_id.as_deref(), Some("e2"));
        assert_eq!(memory.entries[0].0.end, Some(at("2026-11-02T18:00:00Z")));

        let mut stop = step(date, Action::Stop { remote_id: "e2".into(), at: at("2026-11-02T19:00:00Z") });
        stop.key = "live:ws".into();
        let delete = step(date, Action::Delete { remote_id: "e1".into() });
        let mut days = vec![Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![stop, delete],
            mode: EntryMode::Sessions,
        }];
        let counts = run(&mut days, &mut store, &mut memory).unwrap();
        assert_eq!((counts.entries_updated, counts.entries_deleted), (1, 1));
        let ledger = store.ledger(SCOPE).unwrap();
        assert_eq!(ledger.entries.keys().collect::<Vec<_>>(), vec!["live:ws"]);
        assert_eq!(ledger.entries["live:ws"].state, EntryState::Stored);
        assert_eq!(ledger.entries["live:ws"].end, Some(at("2026-11-02T19:00:00Z")));
        assert_eq!(
            memory.entries.iter().map(|(e, _)| (e.id.as_str(), e.end)).collect::<Vec<_>>(),
            vec![("e2", Some(at("2026-11-02T19:00:00Z")))]
        );
    }

    #[test]
    fn a_refused_update_restores_the_row_and_a_lost_one_is_repeated() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        run(&mut [day("2026-11-02", Action::Create)], &mut store, &mut memory).unwrap();
        let before = store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"].clone();

        let mut update = step(date, Action::Update { remote_id: "e1".into() });
        update.draft.end = Some(at("2026-11-02T18:00:00Z"));
        update.previous = Some(before.clone());
        memory.faults.push((refused(), false));
        let batch = || Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![update.clone()],
            mode: EntryMode::Sessions,
        };
        let counts = run(&mut [batch()], &mut store, &mut memory).unwrap();
        assert_eq!(
            counts.failures,
            vec![EntryFailure {
                key: "day:2026-11-02:p".into(),
                start: at("2026-11-02T09:00:00Z"),
                entry: step(date, Action::Create).planned(),
                error: "PUT was refused with HTTP 400: no".into(),
                hint: "fix".into(),
            }],
            "sessions mode lists a refused entry and goes on"
        );
        assert_eq!(counts.days_synced, 0, "a day with a failed entry is not complete");
        let refused_row = KeyedEntry {
            state: EntryState::Refused,
            reason: Some("PUT was refused with HTTP 400: no. fix".into()),
            ..before.clone()
        };
        assert_eq!(
            store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"],
            refused_row,
            "refused: what the service holds, marked refused with the reason"
        );

        memory.faults.push((transient(), false));
        assert!(run(&mut [batch()], &mut store, &mut memory).is_err());
        let row = store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"].clone();
        assert_eq!((row.state, row.operation), (EntryState::InDoubt, Operation::Update));
        assert_eq!(steps::resume(&row), Action::Update { remote_id: "e1".into() });
        run(&mut [batch()], &mut store, &mut memory).unwrap();
        assert_eq!(store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"].state, EntryState::Stored);
        assert_eq!(memory.count(|c| matches!(c, Call::Update(_))), 3);
    }

    #[test]
    fn a_refusal_never_forgets_an_entry_the_service_holds() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        run(&mut [day("2026-11-02", Action::Create)], &mut store, &mut memory).unwrap();
        // An update whose answer was lost, then refused when repeated: the row keeps its id.
        let mut update = step(date, Action::Update { remote_id: "e1".into() });
        update.draft.end = Some(at("2026-11-02T18:00:00Z"));
        memory.faults.push((transient(), false));
        let batch = |step: &Step| Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![step.clone()],
            mode: EntryMode::Sessions,
        };
        assert!(run(&mut [batch(&update)], &mut store, &mut memory).is_err());
        let in_doubt = store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"].clone();
        update.previous = Some(in_doubt.clone());
        memory.faults.push((refused(), false));
        assert_eq!(run(&mut [batch(&update)], &mut store, &mut memory).unwrap().failures.len(), 1);
        assert_eq!(
            store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"],
            KeyedEntry { reason: Some("PUT was refused with HTTP 400: no. fix".into()), ..in_doubt },
            "kept in doubt, id and all"
        );
        // A timer start refused over a key that held a stopped timer: the stopped one stays recorded.
        let mut start = step(date, Action::Start);
        start.key = "live:ws".into();
        run(&mut [batch(&start)], &mut store, &mut memory).unwrap();
        let stop = Step {
            action: Action::Stop { remote_id: "e2".into(), at: at("2026-11-02T10:00:00Z") },
            ..start.clone()
        };
        run(&mut [batch(&stop)], &mut store, &mut memory).unwrap();
        let stopped = store.ledger(SCOPE).unwrap().entries["live:ws"].clone();
        start.previous = Some(stopped.clone());
        memory.faults.push((refused(), false));
        assert_eq!(run(&mut [batch(&start)], &mut store, &mut memory).unwrap().failures.len(), 1);
        assert_eq!(
            store.ledger(SCOPE).unwrap().entries["live:ws"],
            KeyedEntry {
                state: EntryState::Refused,
                reason: Some("PUT was refused with HTTP 400: no. fix".into()),
                ..stopped
            }
        );
    }

    #[test]
    fn a_timer_left_running_by_a_lost_start_is_adopted_and_stopped_where_the_plan_says() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        // An earlier run's start reached the service; its answer was lost.
        memory.start(&draft(at("2026-11-02T09:00:00Z"))).unwrap();
        memory.calls.clear();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let mut closed = step(date, Action::Adopt { look_for: at("2026-11-02T09:00:00Z") });
        closed.draft.end = Some(at("2026-11-02T10:00:00Z"));
        let batch =
            Batch { date, status: DayStatus::Planned, steps: vec![closed], mode: EntryMode::Sessions };
        let counts = run(&mut [batch], &mut store, &mut memory).unwrap();
        assert_eq!((counts.entries_adopted, counts.entries_posted), (1, 0));
        assert_eq!(
            memory.entries.iter().map(|(e, _)| e.end).collect::<Vec<_>>(),
            vec![Some(at("2026-11-02T10:00:00Z"))],
            "stopped at the planned end, not left running"
        );
        let row = &store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"];
        assert_eq!((row.state, row.end), (EntryState::Stored, Some(at("2026-11-02T10:00:00Z"))));
    }

    #[test]
    fn reconcile_adopts_a_timeline_entry_only_at_its_exact_start() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        memory.create(&draft(at("2026-11-02T09:00:00Z"))).unwrap();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let mut later = step(date, Action::Create);
        later.key = "seg:later".into();
        later.draft.start = at("2026-11-02T10:00:00Z");
        let batch = Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![later, step(date, Action::Create)],
            mode: EntryMode::Sessions,
        };
        let counts = execute(&mut [batch], &mut store, &mut memory, &settings(true), &mut Silent)
            .into_result()
            .unwrap();
        assert_eq!((counts.entries_adopted, counts.entries_posted), (1, 1));
        let ledger = store.ledger(SCOPE).unwrap();
        assert_eq!(
            ledger.entries.values().map(|e| (e.key.as_str(), e.adopted)).collect::<Vec<_>>(),
            vec![("day:2026-11-02:p", true), ("seg:later", false)],
            "the 10:00 entry is not the 09:00 one"
        );
    }

    #[test]
    fn an_entry_the_user_deleted_in_the_service_stays_deleted() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        let mut update = step(date, Action::Update { remote_id: "gone".into() });
        update.draft.end = Some(at("2026-11-02T18:00:00Z"));
        let batch =
            Batch { date, status: DayStatus::Planned, steps: vec![update], mode: EntryMode::Sessions };
        let counts = run(&mut [batch], &mut store, &mut memory).unwrap();
        assert_eq!(
            (
                counts.entries_posted,
                counts.entries_updated,
                counts.entries_deleted_by_user,
                counts.failures.len()
            ),
            (0, 0, 1, 0)
        );
        assert_eq!(memory.calls, vec![Call::Update("gone".into())], "not posted again");
        let row = &store.ledger(SCOPE).unwrap().entries["day:2026-11-02:p"];
        assert_eq!((row.remote_id.as_deref(), row.state), (Some("gone"), EntryState::DeletedByUser));
    }

    #[test]
    fn a_lost_answer_then_a_project_change_adopts_what_was_sent_and_moves_it() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        // Stored, answer lost, and the follow-up listing fails too: the row stays in doubt.
        memory.faults.push((transient(), true));
        memory.faults.push((transient(), false));
        let mut first = step(date, Action::Create);
        first.key = "seg:a".into();
        let batch = |step: Step| Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![step],
            mode: EntryMode::Sessions,
        };
        assert!(run(&mut [batch(first.clone())], &mut store, &mut memory).is_err());
        let in_doubt = store.ledger(SCOPE).unwrap().entries["seg:a"].clone();
        assert_eq!((in_doubt.state, in_doubt.remote_id.clone()), (EntryState::InDoubt, None));
        // A mapping change moves the work to project q: the entry is looked for as it was sent (p).
        let mut moved = Step { action: steps::resume(&in_doubt), previous: Some(in_doubt), ..first };
        moved.draft.project_id = Some("q".into());
        let counts = run(&mut [batch(moved)], &mut store, &mut memory).unwrap();
        assert_eq!((counts.entries_adopted, counts.entries_posted), (1, 0));
        assert_eq!(memory.entries.len(), 1, "never posted twice");
        assert_eq!(memory.entries[0].0.project_id.as_deref(), Some("q"), "brought to the plan");
        let row = &store.ledger(SCOPE).unwrap().entries["seg:a"];
        assert_eq!((row.state, row.remote_id.as_deref()), (EntryState::Stored, Some("e1")));
        assert_eq!(row.sent.as_ref().unwrap().project_id.as_deref(), Some("q"));
    }

    #[test]
    fn a_withdrawn_create_in_doubt_is_deleted_if_stored_and_forgotten_if_not() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        memory.faults.push((transient(), true));
        let mut stored = step(date, Action::Create);
        stored.key = "seg:stored".into();
        let mut lost = step(date, Action::Create);
        lost.key = "seg:lost".into();
        lost.draft.start = at("2026-11-02T18:00:00Z");
        let mut once = settings(false);
        once.post_attempts = 1;
        let batch =
            |steps: Vec<Step>| Batch { date, status: DayStatus::Planned, steps, mode: EntryMode::Sessions };
        assert!(
            execute(&mut [batch(vec![stored])], &mut store, &mut memory, &once, &mut Silent)
                .stopped
                .is_some()
        );
        memory.faults.push((transient(), false));
        assert!(
            execute(&mut [batch(vec![lost])], &mut store, &mut memory, &once, &mut Silent).stopped.is_some()
        );
        let ledger = store.ledger(SCOPE).unwrap();
        let withdraw = |key: &str| {
            let row = ledger.entries[key].clone();
            Step {
                key: key.into(),
                action: Action::Withdraw { look_for: Some(row.start) },
                previous: Some(row),
                ..step(date, Action::Create)
            }
        };
        memory.calls.clear();
        let counts =
            run(&mut [batch(vec![withdraw("seg:stored"), withdraw("seg:lost")])], &mut store, &mut memory)
                .unwrap();
        assert_eq!(counts.entries_deleted, 1);
        assert!(memory.entries.is_empty(), "what the lost answer stored is deleted");
        assert_eq!(memory.count(|c| matches!(c, Call::List(..))), 1);
        assert!(store.ledger(SCOPE).unwrap().entries.is_empty(), "no row is left in doubt");
    }

    #[test]
    fn a_refusal_then_a_dropped_connection_keeps_the_refusal_and_reports_both() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let date: NaiveDate = "2026-11-02".parse().unwrap();
        memory.faults.push((refused(), false));
        memory.faults.push((transient(), false));
        let mut second = step(date, Action::Create);
        second.key = "seg:b".into();
        second.draft.start = at("2026-11-02T18:00:00Z");
        let mut first = step(date, Action::Create);
        first.key = "seg:a".into();
        let mut once = settings(false);
        once.post_attempts = 1;
        let mut batches = [Batch {
            date,
            status: DayStatus::Planned,
            steps: vec![first, second],
            mode: EntryMode::Sessions,
        }];
        let report = execute(&mut batches, &mut store, &mut memory, &once, &mut Silent);
        assert_eq!(report.counts.failures.len(), 1, "the refusal is reported though the run stopped");
        assert_eq!(
            report.stopped.map(|stop| {
                crate::planning::stop_message(
                    stop,
                    "Memory",
                    "claude-tracker push",
                    "map them",
                    at("2026-12-01T00:00:00Z"),
                )
                .to_string()
            }),
            Some(
                "push stopped at 2026-11-02 `p` (/w): Memory: no usable answer (connection reset). Earlier \
                 entries are done except those refused (listed above); 1 entries remain: fix this and run \
                 `claude-tracker push` again"
                    .to_string()
            )
        );
        let ledger = store.ledger(SCOPE).unwrap();
        assert_eq!(
            (ledger.entries["seg:a"].state, ledger.entries["seg:a"].reason.as_deref()),
            (EntryState::Refused, Some("PUT was refused with HTTP 400: no. fix"))
        );
        assert_eq!(ledger.entries["seg:b"].state, EntryState::InDoubt);
        assert!(ledger.synced_days.is_empty());
    }

    /// A sink whose writes all fail, as stdout does once `| head` has gone.
    struct ClosedPipe(usize);

    impl Progress for ClosedPipe {
        fn batch_done(&mut self, _batch: &Batch, _report: BatchReport) -> std::io::Result<()> {
            self.0 += 1;
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_failing_progress_sink_never_stops_the_sync() {
        let mut store = Store::open_in_memory().unwrap();
        let mut memory = Memory::default();
        let mut days = vec![day("2026-11-02", Action::Create), day("2026-11-03", Action::Create)];
        let mut sink = ClosedPipe(0);
        let counts =
            execute(&mut days, &mut store, &mut memory, &settings(false), &mut sink).into_result().unwrap();
        assert_eq!(counts.days_synced, 2);
        assert_eq!(sink.0, 1, "asked once, then left alone");
        assert_eq!(store.ledger(SCOPE).unwrap().synced_days.len(), 2);
        assert_ne!(store.ledger(SCOPE).unwrap(), Ledger::default());
    }
}
