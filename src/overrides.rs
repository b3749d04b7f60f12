//! The user's edits of planned entries (`review`, `entries`): kept against an entry's ledger key, and
//! applied to every plan after it is made and before anything is sent, so a dry run, `sync`, `push`,
//! `watch` and the CSV all honour them. An override changes what is sent, never the ledger's record of
//! what was sent: an edited entry already posted is compared with that record and updated, an excluded
//! one is held back (and deleted from the service only once the user confirmed it). With `approve`, a
//! day is posted only once the user approved it. notes/11-review.md.
//!
//! Pure: batches, the ledger and the edits in, batches and what was held back out.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::descriptions::DescriptionLimit;
use crate::ledger::{EntryState, Ledger, fingerprint};
use crate::sync::steps::{Action, Batch, DayStatus, EntryMode, Step};

/// One entry's edits; a field left `None` keeps what the plan says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Override {
    /// Never post it.
    pub(crate) excluded: bool,
    /// The user confirmed that an excluded entry already posted is deleted from the service.
    pub(crate) delete_confirmed: bool,
    pub(crate) description: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) billable: Option<bool>,
    /// The entry's times when the edit was made. A timeline entry not yet posted is keyed by its start:
    /// when earlier activity arrives (a late transcript, another machine's copy) its key moves, and the
    /// edit then follows the work by overlap ([`apply`]).
    pub(crate) span: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Override {
    /// True when it changes nothing (then it is not kept).
    pub(crate) fn is_empty(&self) -> bool {
        Override { span: None, ..self.clone() } == Override::default()
    }
}

/// The edits of one destination's workspace, by entry key, and the days approved for posting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Edits {
    pub(crate) by_key: BTreeMap<String, Override>,
    pub(crate) approved_days: BTreeSet<NaiveDate>,
    /// Days a real run held back for approval (`approve = true`): they stay in a sessions destination's
    /// default range until posted, wherever its last entry is.
    pub(crate) held_days: BTreeSet<NaiveDate>,
}

impl Edits {
    /// The earliest day a run held back that no run has posted yet: a sessions destination's default
    /// range starts there at the latest. (A day approved in advance was never held: it needs no room.)
    pub(crate) fn earliest_unposted(&self, synced: &BTreeSet<NaiveDate>) -> Option<NaiveDate> {
        self.held_days.iter().filter(|day| !synced.contains(day)).min().copied()
    }
}

/// What the edits held back from a plan, for the listings and the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HeldBack {
    /// Excluded entries not sent (by day); `true` when the service still holds one (posted before it
    /// was excluded, its deletion not confirmed).
    pub(crate) excluded: Vec<(NaiveDate, Step, bool)>,
    /// Days with entries to post that wait for the user's approval (`approve = true`).
    pub(crate) waiting: Vec<NaiveDate>,
}

/// Applies `edits` to `batches` planned against `ledger`. `approve`: only approved days post (a day
/// that waits keeps its listing, as [`DayStatus::Waiting`], which the executor passes over); `force`:
/// every recorded entry is sent again (`push --force`), edited or not.
pub(crate) fn apply(
    batches: &mut [Batch],
    ledger: &Ledger,
    edits: &Edits,
    (approve, force, limit): (bool, bool, DescriptionLimit),
) -> HeldBack {
    let mut held = HeldBack::default();
    let keys: BTreeSet<String> = batches.iter().flat_map(|b| &b.steps).map(|s| s.key.clone()).collect();
    // Edits whose entry is not in this plan under its key: a new timeline entry over the same time is
    // that entry under a new key (its start moved).
    let orphans: Vec<&Override> = edits
        .by_key
        .iter()
        .filter(|(key, _)| key.starts_with(crate::sync::sessions::KEY_PREFIX) && !keys.contains(*key))
        .map(|(_, edit)| edit)
        .collect();
    for batch in batches.iter_mut() {
        let planned_any = !batch.steps.is_empty();
        let mut kept = Vec::with_capacity(batch.steps.len());
        for mut step in std::mem::take(&mut batch.steps) {
            let edit = edits.by_key.get(&step.key).or_else(|| followed(&step, &orphans));
            match edit {
                Some(edit) if edit.excluded => {
                    if let Some(step) = exclude(step, edit, &mut held, batch.date) {
                        kept.push(step);
                    }
                }
                Some(edit) => {
                    edit_step(&mut step, edit, ledger, (force, limit));
                    kept.push(step);
                }
                None => kept.push(step),
            }
        }
        batch.steps = kept;
        // A work day whose every entry is excluded is not posted, and not marked synced either: an
        // entry included again later is still posted.
        if batch.mode == EntryMode::Workday
            && batch.status == DayStatus::Planned
            && planned_any
            && batch.steps.is_empty()
        {
            batch.status = DayStatus::Excluded;
        }
        // A timeline day is planned while something on it is to send (a confirmed deletion, an edit).
        if batch.mode == EntryMode::Sessions && matches!(batch.status, DayStatus::Planned | DayStatus::Synced)
        {
            let pending = batch.steps.iter().any(|s| s.action.is_pending());
            batch.status = if pending { DayStatus::Planned } else { DayStatus::Synced };
        }
        let waits =
            approve && batch.status == DayStatus::Planned && !edits.approved_days.contains(&batch.date);
        if waits && batch.steps.iter().any(is_new_work) {
            // The executor walks planned days only: the day keeps its listing and sends nothing.
            held.waiting.push(batch.date);
            batch.status = DayStatus::Waiting;
        }
    }
    held
}

/// The edits with each orphaned timeline edit moved to the key of the listed entry it now follows (the
/// entry whose start moved): what `entries` and `review` edit, so that an edit made on the listed entry
/// replaces the one it follows instead of being shadowed by it. Returns the moves, `(old, new)`.
pub(crate) fn rekeyed(
    edits: &Edits,
    rows: &[(String, DateTime<Utc>, DateTime<Utc>)],
) -> (Edits, Vec<(String, String)>) {
    let listed: BTreeSet<&String> = rows.iter().map(|(key, ..)| key).collect();
    let mut moved = edits.clone();
    let mut moves = Vec::new();
    for (old, edit) in &edits.by_key {
        if listed.contains(old) || !old.starts_with(crate::sync::sessions::KEY_PREFIX) {
            continue;
        }
        let Some((from, to)) = edit.span else { continue };
        let target = rows.iter().find(|(key, start, end)| {
            !edits.by_key.contains_key(key)
                && key.starts_with(crate::sync::sessions::KEY_PREFIX)
                && from < *end
                && *start < to
        });
        if let Some((new, ..)) = target {
            moved.by_key.remove(old);
            moved.by_key.insert(new.clone(), edit.clone());
            moves.push((old.clone(), new.clone()));
        }
    }
    (moved, moves)
}

/// The orphaned edit a new timeline entry takes: one whose entry overlapped this one's time (never an
/// entry the service already holds under its own key).
fn followed<'a>(step: &Step, orphans: &[&'a Override]) -> Option<&'a Override> {
    let new = step.previous.is_none() && matches!(step.action, Action::Create | Action::Start);
    if !new || !step.key.starts_with(crate::sync::sessions::KEY_PREFIX) {
        return None;
    }
    let (start, end) = (step.draft.start, step.plan.end);
    orphans.iter().copied().find(|edit| edit.span.is_some_and(|(from, to)| from < end && start < to))
}

/// A step that would put work on the timesheet (a delete or stop of what is there is not held back).
fn is_new_work(step: &Step) -> bool {
    matches!(step.action, Action::Create | Action::Adopt { .. } | Action::Update { .. } | Action::Start)
}

/// An excluded entry: not sent. Posted before and its deletion confirmed: deleted. Posted and not
/// confirmed: left as the service holds it (kept in the plan, so nothing else claims it).
fn exclude(step: Step, edit: &Override, held: &mut HeldBack, date: NaiveDate) -> Option<Step> {
    // A running timer excluded is stopped at its last activity (never left running, gaining hours), then
    // kept as posted until its deletion is confirmed.
    let running = step.previous.as_ref().filter(|row| row.state == EntryState::Running);
    if let (Some(row), false) = (running, edit.delete_confirmed)
        && let Some(remote_id) = row.remote_id.clone()
    {
        held.excluded.push((date, step.clone(), true));
        let mut stop = Step { action: Action::Update { remote_id }, ..step };
        stop.draft.end = Some(stop.plan.end);
        return Some(stop);
    }
    let posted = match &step.action {
        Action::Keep { remote_id } | Action::Update { remote_id } => Some(remote_id.clone()),
        // The user deleted it in the service already: nothing there to delete.
        Action::Leave => None,
        _ => step.previous.as_ref().and_then(|row| row.remote_id.clone()),
    };
    match (posted, edit.delete_confirmed) {
        // Nothing of it on the service: nothing to send (a lost create is settled by the next plan
        // without the exclusion, never posted while excluded).
        (None, _) => {
            held.excluded.push((date, step, false));
            None
        }
        (Some(remote_id), true) => Some(Step { action: Action::Delete { remote_id }, ..step }),
        (Some(remote_id), false) => {
            held.excluded.push((date, step.clone(), true));
            Some(Step { action: Action::Keep { remote_id }, ..step })
        }
    }
}

/// The user's description, project and billable flag in the draft; a posted entry whose record no
/// longer matches what is now to be sent is updated.
fn edit_step(step: &mut Step, edit: &Override, ledger: &Ledger, (force, limit): (bool, DescriptionLimit)) {
    // The user's description, cut to the service's limit as a template's is.
    if let Some(description) = &edit.description {
        step.draft.description = crate::descriptions::cut(description, limit);
    }
    if let Some(project_id) = &edit.project_id {
        step.draft.project_id = Some(project_id.clone());
    }
    if let Some(billable) = edit.billable {
        step.draft.billable = Some(billable);
    }
    // The planner compared the record with the draft before the edit: compare again with the edit.
    let row = ledger.entries.get(&step.key);
    let matches = row.is_some_and(|row| row.fingerprint == fingerprint(&step.draft));
    match &step.action {
        Action::Keep { remote_id } if !matches => {
            step.action = Action::Update { remote_id: remote_id.clone() }
        }
        Action::Update { remote_id }
            if matches && !force && row.is_some_and(|row| row.state == crate::ledger::EntryState::Stored) =>
        {
            step.action = Action::Keep { remote_id: remote_id.clone() };
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::PlannedEntry;
    use crate::ledger::{KeyedEntry, Operation};
    use crate::timesheet::EntryDraft;
    use chrono::{DateTime, Utc};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn step(key: &str, action: Action) -> Step {
        let entry = PlannedEntry {
            project_id: Some("p-shop".into()),
            mapped_path: Some("/w/shop".into()),
            start: at("2026-11-02T09:00:00Z"),
            end: at("2026-11-02T13:00:00Z"),
            seconds: 14_400,
            share_ppm: 500_000,
            tags: vec![],
            billable: None,
        };
        let draft = EntryDraft {
            start: entry.start,
            end: Some(entry.end),
            project_id: entry.project_id.clone(),
            description: "Development".into(),
            tags: vec![],
            billable: None,
        };
        Step::new(key.into(), action, entry, draft, None)
    }

    fn day(steps: Vec<Step>) -> Vec<Batch> {
        vec![Batch {
            date: "2026-11-02".parse().unwrap(),
            status: DayStatus::Planned,
            steps,
            mode: EntryMode::Workday,
        }]
    }

    fn ledger_with(step: &Step) -> Ledger {
        let mut ledger = Ledger::default();
        ledger.entries.insert(
            step.key.clone(),
            KeyedEntry {
                key: step.key.clone(),
                remote_id: Some("r-1".into()),
                start: step.draft.start,
                end: step.draft.end,
                fingerprint: fingerprint(&step.draft),
                state: EntryState::Stored,
                operation: Operation::Create,
                adopted: false,
                sent: None,
                reason: None,
            },
        );
        ledger
    }

    fn edits(key: &str, edit: Override) -> Edits {
        Edits { by_key: BTreeMap::from([(key.to_string(), edit)]), ..Edits::default() }
    }

    #[test]
    fn an_excluded_new_entry_is_not_sent_and_is_listed_as_held_back() {
        let mut batches = day(vec![step("a", Action::Create), step("b", Action::Create)]);
        let held = apply(
            &mut batches,
            &Ledger::default(),
            &edits("a", Override { excluded: true, ..Override::default() }),
            (false, false, DescriptionLimit::None),
        );
        assert_eq!(batches[0].steps.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(held.excluded.len(), 1);
        assert!(!held.excluded[0].2, "nothing on the service");
    }

    #[test]
    fn a_work_day_with_every_entry_excluded_is_not_marked_synced() {
        let mut batches = day(vec![step("a", Action::Create)]);
        let excluded = Override { excluded: true, ..Override::default() };
        apply(
            &mut batches,
            &Ledger::default(),
            &edits("a", excluded),
            (false, false, DescriptionLimit::None),
        );
        assert_eq!((batches[0].status, batches[0].steps.len()), (DayStatus::Excluded, 0));
    }

    #[test]
    fn an_excluded_posted_entry_is_deleted_only_once_confirmed() {
        let posted = step("a", Action::Keep { remote_id: "r-1".into() });
        let ledger = ledger_with(&posted);
        let mut batches = day(vec![posted.clone()]);
        let held = apply(
            &mut batches,
            &ledger,
            &edits("a", Override { excluded: true, ..Override::default() }),
            (false, false, DescriptionLimit::None),
        );
        assert_eq!(batches[0].steps[0].action, Action::Keep { remote_id: "r-1".into() });
        assert!(held.excluded[0].2, "still on the service");
        let mut batches = day(vec![posted]);
        let confirmed = Override { excluded: true, delete_confirmed: true, ..Override::default() };
        apply(&mut batches, &ledger, &edits("a", confirmed), (false, false, DescriptionLimit::None));
        assert_eq!(batches[0].steps[0].action, Action::Delete { remote_id: "r-1".into() });
    }

    #[test]
    fn an_edit_is_what_is_sent_and_a_posted_entry_is_updated_once() {
        let edit = Override {
            description: Some("Auth service".into()),
            project_id: Some("p-other".into()),
            billable: Some(true),
            ..Override::default()
        };
        let mut batches = day(vec![step("a", Action::Create)]);
        apply(
            &mut batches,
            &Ledger::default(),
            &edits("a", edit.clone()),
            (false, false, DescriptionLimit::None),
        );
        let draft = &batches[0].steps[0].draft;
        assert_eq!(
            (draft.description.as_str(), draft.project_id.as_deref(), draft.billable),
            ("Auth service", Some("p-other"), Some(true))
        );
        // Posted as planned, edited afterwards: updated; posted with the edit: kept.
        let posted = step("a", Action::Keep { remote_id: "r-1".into() });
        let mut batches = day(vec![posted.clone()]);
        apply(
            &mut batches,
            &ledger_with(&posted),
            &edits("a", edit.clone()),
            (false, false, DescriptionLimit::None),
        );
        assert_eq!(batches[0].steps[0].action, Action::Update { remote_id: "r-1".into() });
        let sent = batches[0].steps[0].clone();
        let mut again = day(vec![posted]);
        apply(&mut again, &ledger_with(&sent), &edits("a", edit), (false, false, DescriptionLimit::None));
        assert_eq!(again[0].steps[0].action, Action::Keep { remote_id: "r-1".into() });
    }

    #[test]
    fn an_edited_description_is_cut_to_the_services_limit_as_a_templates_is() {
        let edit =
            Override { description: Some("Auth service implementation".into()), ..Override::default() };
        let mut batches = day(vec![step("a", Action::Create)]);
        apply(
            &mut batches,
            &Ledger::default(),
            &edits("a", edit),
            (false, false, DescriptionLimit::Utf8Bytes(16)),
        );
        assert_eq!(
            batches[0].steps[0].draft.description,
            crate::descriptions::cut("Auth service implementation", DescriptionLimit::Utf8Bytes(16))
        );
        assert_eq!(batches[0].steps[0].draft.description, "Auth service…");
    }

    #[test]
    fn an_edit_follows_a_new_entry_whose_start_moved() {
        // Excluded as `seg:…09:00`; earlier activity makes it `seg:…08:50`: still excluded.
        let moved =
            Step { key: "seg:2026-11-02:2026-11-02T08:50:00.000Z".into(), ..step("x", Action::Create) };
        let span = Some((at("2026-11-02T09:00:00Z"), at("2026-11-02T13:00:00Z")));
        let excluded = Override { excluded: true, span, ..Override::default() };
        let edits = edits("seg:2026-11-02:2026-11-02T09:00:00.000Z", excluded);
        let mut batches = day(vec![moved.clone()]);
        let held = apply(&mut batches, &Ledger::default(), &edits, (false, false, DescriptionLimit::None));
        assert_eq!((batches[0].steps.len(), held.excluded.len()), (0, 1));
        // An entry the service holds under its own key is never taken over.
        let posted = Step { previous: ledger_with(&moved).entries.values().next().cloned(), ..moved };
        let mut batches = day(vec![Step { action: Action::Keep { remote_id: "r-1".into() }, ..posted }]);
        apply(&mut batches, &Ledger::default(), &edits, (false, false, DescriptionLimit::None));
        assert_eq!(batches[0].steps.len(), 1);
    }

    #[test]
    fn with_approval_an_unapproved_day_waits_and_an_approved_one_posts() {
        let mut batches = day(vec![step("a", Action::Create)]);
        let held =
            apply(&mut batches, &Ledger::default(), &Edits::default(), (true, false, DescriptionLimit::None));
        assert_eq!(held.waiting, vec!["2026-11-02".parse::<NaiveDate>().unwrap()]);
        assert_eq!((batches[0].status, &batches[0].steps[0].action), (DayStatus::Waiting, &Action::Create));
        let approved =
            Edits { approved_days: BTreeSet::from(["2026-11-02".parse().unwrap()]), ..Edits::default() };
        let mut batches = day(vec![step("a", Action::Create)]);
        let held = apply(&mut batches, &Ledger::default(), &approved, (true, false, DescriptionLimit::None));
        assert!(held.waiting.is_empty());
        assert_eq!((batches[0].status, &batches[0].steps[0].action), (DayStatus::Planned, &Action::Create));
    }
}
