//! The live timer's rules beyond the timeline (seed 004): the sessions planner with `live` on gives the
//! running entry of the open stretch (start, update, stop at the switch or at the last activity); here,
//! what `watch` adds: a running entry it did not start is left alone (and ours not started) or stopped,
//! as `foreign_timer` says; and when the request quota runs low, stretches must be longer before they
//! become entries (fewer switches), and the last requests are kept for stops. Pure: a plan and facts in,
//! the plan adjusted and what to tell the user out.

use chrono::{DateTime, Utc};

use super::steps::{Action, Batch, ForeignTimer, Step};
use crate::ledger::Ledger;
use crate::timesheet::EntryDraft;

/// What the watcher knows besides the plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LiveFacts<'a> {
    /// A running entry on the service that the ledger does not hold (not ours), if one was seen.
    pub(crate) foreign: Option<&'a str>,
    pub(crate) policy: ForeignTimer,
    /// Requests the service still allows in its current window, when it says.
    pub(crate) quota_left: Option<u32>,
    pub(crate) now: DateTime<Utc>,
    /// When an earlier pass already asked to stop that foreign timer (its stop is in doubt): the stop is
    /// repeated at that time, not moved later by every pass.
    pub(crate) foreign_stop_at: Option<DateTime<Utc>>,
}

/// Why a plan was changed, said once by the watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LiveNotice {
    /// A timer not ours runs and `foreign_timer = "leave"`: ours is not started.
    ForeignLeft,
    /// The quota is nearly spent: no timer is started; what is left is kept for stops and updates.
    QuotaKeptForStops,
}

/// Requests kept back for stops: below this many left, no timer is started.
pub(crate) const KEPT_FOR_STOPS: u32 = 3;

/// The minimum entry under a quota: as configured while requests are plentiful; longer as they run out
/// (at two requests per switch, 10 minutes costs at most 12 an hour, 30 minutes 4).
pub(crate) fn min_entry_ms(configured_ms: i64, quota_left: Option<u32>) -> i64 {
    let floor_minutes = match quota_left {
        Some(left) if left < 10 => 30,
        Some(left) if left < 20 => 10,
        _ => 0,
    };
    configured_ms.max(floor_minutes * 60_000)
}

/// When an earlier pass already asked to stop the foreign timer `foreign` and that stop is still in
/// doubt: its time, so the stop is repeated as it was asked ([`LiveFacts::foreign_stop_at`]).
pub(crate) fn foreign_stop_in_doubt(ledger: &Ledger, foreign: Option<&str>) -> Option<DateTime<Utc>> {
    ledger
        .entries
        .get(&format!("foreign:{}", foreign?))
        .filter(|row| row.state.is_unsettled())
        .and_then(|row| row.end)
}

/// Applies the foreign-timer policy and the quota reserve to a live plan.
pub(crate) fn guard(batches: &mut [Batch], facts: &LiveFacts<'_>) -> Vec<LiveNotice> {
    let mut notices = Vec::new();
    let starts = |batches: &[Batch]| batches.iter().flat_map(|b| &b.steps).any(|s| s.action == Action::Start);
    if !starts(batches) {
        return notices;
    }
    if facts.quota_left.is_some_and(|left| left < KEPT_FOR_STOPS) {
        drop_starts(batches);
        notices.push(LiveNotice::QuotaKeptForStops);
        return notices;
    }
    match (facts.foreign, facts.policy) {
        (None, _) => {}
        (Some(_), ForeignTimer::Leave) => {
            drop_starts(batches);
            notices.push(LiveNotice::ForeignLeft);
        }
        (Some(foreign), ForeignTimer::Stop) => {
            if let Some(batch) =
                batches.iter_mut().find(|b| b.steps.iter().any(|s| s.action == Action::Start))
            {
                let index = batch.steps.iter().position(|s| s.action == Action::Start).unwrap_or(0);
                let template = batch.steps[index].clone();
                let at = facts.foreign_stop_at.unwrap_or(facts.now);
                batch.steps.insert(index, stop_foreign(&template, foreign, at));
            }
        }
    }
    notices
}

/// Takes every timer start out of a plan (the watcher cannot tell whose timer runs, or the quota is kept
/// for stops); stops, updates and finished stretches stay.
pub(crate) fn drop_starts(batches: &mut [Batch]) {
    for batch in batches {
        batch.steps.retain(|s| s.action != Action::Start);
    }
}

/// Stops a timer that is not ours, at `now`, recorded under a key of its own so it is stopped once.
fn stop_foreign(template: &Step, remote_id: &str, now: DateTime<Utc>) -> Step {
    Step {
        key: format!("foreign:{remote_id}"),
        action: Action::Stop { remote_id: remote_id.to_string(), at: now },
        draft: EntryDraft { end: Some(now), ..template.draft.clone() },
        plan: template.plan.clone(),
        previous: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::allocate::{AllocationRules, ProjectMapping};
    use crate::classify::Rules;
    use crate::ledger::{EntryState, LedgerScope};
    use crate::pause::Pause;
    use crate::sessions::{Millis, Session, active_spans};
    use crate::store::Store;
    use crate::sync::sessions::{SessionsInput, plan};
    use crate::sync::steps::{EntryTemplate, Granularity};
    use crate::sync::{RunSettings, Silent, execute};
    use crate::timeline::TimelineSettings;
    use crate::timesheet::memory::{Call, Memory};
    use crate::timesheet::{RemoteEntry, RemoteError};
    use chrono::NaiveTime;

    const MIN: i64 = 60_000;
    /// 2026-11-02T00:00:00Z.
    const MONDAY: i64 = 1_793_577_600_000;
    const IDLE: i64 = 15 * MIN;
    const SCOPE: LedgerScope<'static> = LedgerScope { destination: "memory", workspace_id: "ws" };

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(MONDAY + minute * MIN).unwrap()
    }

    fn minute(t: DateTime<Utc>) -> i64 {
        (t.timestamp_millis() - MONDAY) / MIN
    }

    /// A day of work: per session, its folder and activity timestamps (minutes).
    #[derive(Default)]
    struct Day {
        /// Per session, its folder and activity timestamps in seconds (for glances shorter than a minute).
        seconds: Vec<(&'static str, &'static str, Vec<i64>)>,
        activity: Vec<(&'static str, &'static str, Vec<i64>)>,
    }

    impl Day {
        /// The sessions as ingested by `now` (activity after `now` has not happened yet).
        fn sessions(&self, now: i64) -> Vec<Session> {
            let in_seconds = self
                .activity
                .iter()
                .map(|(id, cwd, minutes)| (id, cwd, minutes.iter().map(|m| m * 60).collect::<Vec<i64>>()));
            in_seconds
                .chain(self.seconds.iter().map(|(id, cwd, seconds)| (id, cwd, seconds.clone())))
                .map(|(id, cwd, seconds)| {
                    let seen: Vec<Millis> =
                        seconds.iter().filter(|s| **s <= now * 60).map(|s| MONDAY + s * 1000).collect();
                    Session {
                        session_id: (*id).into(),
                        project: (*cwd).into(),
                        git_branch: None,
                        spans: active_spans(&seen, IDLE),
                        messages: Vec::new(),
                        models: Vec::new(),
                        ..Default::default()
                    }
                })
                .collect()
        }
    }

    /// Every 2 minutes from `from` to `to`, inclusive.
    fn every_two(from: i64, to: i64) -> Vec<i64> {
        (from..=to).step_by(2).collect()
    }

    /// `watch` in miniature, pass by pass: the ledger in a database, the plan and guard of a live pass,
    /// and the one executor against the in-memory timesheet (which logs every request, keeps one timer
    /// and goes offline on demand).
    struct Watcher {
        store: Store,
        service: Memory,
        rules: AllocationRules,
        policy: ForeignTimer,
        /// The running entry not ours, as `watch` last saw it (cleared once a pass stopped it).
        foreign: Option<String>,
        quota_left: Option<u32>,
        notices: Vec<LiveNotice>,
        /// Updates that changed an entry after it had been stopped (history rewritten), from the service's
        /// call log and its entries before and after each pass.
        rewrites: usize,
    }

    impl Watcher {
        fn new() -> Watcher {
            Watcher {
                store: Store::open_in_memory().unwrap(),
                service: Memory::default(),
                rules: AllocationRules {
                    tz: chrono_tz::UTC,
                    work_day_start: NaiveTime::MIN,
                    work_day_end: NaiveTime::MIN,
                    round_to_minutes: 0,
                    mapping: ProjectMapping::new([
                        ("/w/a".into(), "pa".into()),
                        ("/w/b".into(), "pb".into()),
                    ]),
                    other_project_id: Some("other".into()),
                },
                policy: ForeignTimer::Leave,
                foreign: None,
                quota_left: None,
                notices: Vec::new(),
                rewrites: 0,
            }
        }

        /// A timer someone else started at `minute` in project `x`, running on the service.
        fn their_timer(&mut self, minute: i64) {
            let draft = EntryDraft {
                start: at(minute),
                end: None,
                project_id: Some("x".into()),
                description: "theirs".into(),
                tags: Vec::new(),
                billable: None,
            };
            let remote = RemoteEntry {
                id: "theirs".into(),
                project_id: draft.project_id.clone(),
                start: draft.start,
                end: None,
                description: draft.description.clone(),
            };
            self.service.entries.push((remote, draft));
            self.foreign = Some("theirs".into());
        }

        /// One pass at minute `now`, as `watch` runs it: the ledger read back, plan, guard, then the one
        /// executor. A pass that fails (offline) leaves its rows for the next one, as `watch` does.
        fn pass(&mut self, day: &Day, now: i64) {
            let sessions = day.sessions(now);
            let tags = BTreeMap::new();
            let rules = Rules::default();
            let template = EntryTemplate { description: "{project}".into(), ..EntryTemplate::default() };
            let ledger = self.store.ledger(SCOPE).unwrap();
            let mut batches = plan(&SessionsInput {
                from: at(0),
                to: at(24 * 60),
                earliest: at(0),
                sessions: &sessions,
                rules: &self.rules,
                template: &template,
                tag_rules: &rules,
                session_tags: &tags,
                folders: crate::folders::FolderTargets::none(),
                done: &crate::descriptions::NOTHING_DONE,
                granularity: Granularity::Segment,
                timeline: TimelineSettings { min_entry_ms: MIN, idle_ms: IDLE, now: MONDAY + now * MIN },
                ledger: &ledger,
                force: false,
                live: true,
                switch_min_ms: min_entry_ms(MIN, self.quota_left),
                stop_running: false,
            })
            .batches;
            let facts = LiveFacts {
                foreign: self.foreign.as_deref(),
                policy: self.policy,
                quota_left: self.quota_left,
                now: at(now),
                // As `watch`: a stop of theirs already in doubt is repeated at its own time.
                foreign_stop_at: foreign_stop_in_doubt(&ledger, self.foreign.as_deref()),
            };
            for notice in guard(&mut batches, &facts) {
                if !self.notices.contains(&notice) {
                    self.notices.push(notice);
                }
            }
            let pending: Vec<String> = batches
                .iter()
                .flat_map(|b| &b.steps)
                .filter(|s| s.action.is_pending())
                .map(|s| s.key.clone())
                .collect();
            if pending.is_empty() {
                return;
            }
            let settings = RunSettings {
                scope: SCOPE,
                reconcile: false,
                // As `watch` with the default HTTP options.
                post_attempts: 4,
                unmapped_time_hint: "map them",
                backoff: Duration::ZERO,
                pause: Pause::default(),
                now: at(now),
            };
            let before = self.entries_by_id();
            let calls = self.service.calls.len();
            let run = execute(&mut batches, &mut self.store, &mut self.service, &settings, &mut Silent);
            assert!(run.counts.failures.is_empty(), "nothing is refused: {:?}", run.counts.failures);
            if pending.iter().any(|key| key.starts_with("foreign:")) && run.stopped.is_none() {
                self.foreign = None;
            }
            let after = self.entries_by_id();
            for call in &self.service.calls[calls..] {
                let Call::Update(id) = call else { continue };
                let stopped_before = before.get(id).filter(|e| e.2.is_some());
                if stopped_before.is_some_and(|entry| after.get(id) != Some(entry)) {
                    self.rewrites += 1;
                }
            }
        }

        /// The service's entries by id: (project, start, end).
        fn entries_by_id(&self) -> BTreeMap<String, (String, i64, Option<i64>)> {
            self.service
                .entries
                .iter()
                .map(|(e, _)| {
                    let project = e.project_id.clone().unwrap_or_default();
                    (e.id.clone(), (project, minute(e.start), e.end.map(minute)))
                })
                .collect()
        }

        /// Requests sent to the service so far.
        fn requests(&self) -> usize {
            self.service.calls.len()
        }

        /// The entry running on the service: (project, start).
        fn running(&self) -> Option<(String, i64)> {
            self.entries().into_iter().find(|e| e.2.is_none()).map(|e| (e.0, e.1))
        }

        /// Every entry: (project, start, end).
        fn entries(&self) -> Vec<(String, i64, Option<i64>)> {
            let mut all: Vec<_> = self.entries_by_id().into_values().collect();
            all.sort_by_key(|e| e.1);
            all
        }

        /// The ledger as the next pass (or `sync`) reads it.
        fn ledger_states(&self) -> Vec<EntryState> {
            self.store.ledger(SCOPE).unwrap().entries.values().map(|e| e.state).collect()
        }
    }

    /// A day: a from 09:00 to 10:00; b interrupts for 30 seconds at 09:30 (flapping) and takes over from
    /// 10:00 to 10:40; a comes back at 11:00 to 11:20; then nothing.
    fn day() -> Day {
        let mut a = every_two(540, 600);
        a.extend(every_two(660, 680));
        Day {
            activity: vec![("a", "/w/a", a), ("b", "/w/b", every_two(600, 640)), ("blip", "/w/b", vec![570])],
            ..Day::default()
        }
    }

    #[test]
    fn a_day_of_work_runs_one_timer_that_follows_it_and_stops_at_the_last_activity() {
        let day = day();
        let mut watcher = Watcher::new();
        let mut seen = Vec::new();
        for now in 530..=760 {
            watcher.pass(&day, now);
            seen.push((now, watcher.running()));
        }
        let at_minute = |m: i64| seen.iter().find(|(now, _)| *now == m).unwrap().1.clone();
        assert_eq!(at_minute(535), None, "no work yet");
        assert_eq!(at_minute(540), Some(("pa".into(), 540)), "a first prompt starts the timer");
        assert_eq!(at_minute(542), Some(("pa".into(), 540)), "the second line keeps it");
        assert_eq!(at_minute(571), Some(("pa".into(), 540)), "a lone line of b does not switch");
        assert_eq!(at_minute(603), Some(("pb".into(), 600)), "switched once b's stretch is long enough");
        assert_eq!(at_minute(650), Some(("pb".into(), 600)));
        assert_eq!(at_minute(655), None, "stopped within a minute of the idle threshold");
        assert_eq!(at_minute(662), Some(("pa".into(), 660)));
        assert_eq!(
            watcher.entries(),
            vec![("pa".into(), 540, Some(600)), ("pb".into(), 600, Some(640)), ("pa".into(), 660, Some(680))],
            "each stopped where its work ended, not where the stop was noticed"
        );
        // Requests: per entry a start and a stop (an update with the end), nothing else.
        assert_eq!(watcher.requests(), 6);
        // `sync` afterwards has nothing to do: the ledger holds every closed stretch as posted.
        assert!(watcher.ledger_states().iter().all(|s| *s == EntryState::Stored));
    }

    #[test]
    fn a_crash_or_sleep_resumes_from_the_ledger_and_an_offline_spell_is_replayed() {
        let day = day();
        let mut watcher = Watcher::new();
        for now in 530..=560 {
            watcher.pass(&day, now);
        }
        // The watcher dies at 09:20 and comes back at 10:30: b runs, a's timer is stopped at 10:00.
        watcher.pass(&day, 630);
        assert_eq!(watcher.running(), Some(("pb".into(), 600)));
        assert_eq!(watcher.entries()[0], ("pa".into(), 540, Some(600)));
        // Offline from 10:45: the stop cannot go out; the intent waits; back online at 11:10, it is sent.
        watcher.service.offline = true;
        let before = watcher.requests();
        for now in 645..=669 {
            watcher.pass(&day, now);
        }
        // The executor ends a pass at its first unanswered request: from 10:55 each pass repeats b's stop
        // once, and a's start (due from 11:00) is not tried until the stop has gone out.
        assert_eq!(watcher.requests() - before, 15);
        assert!(watcher.ledger_states().contains(&EntryState::InDoubt));
        watcher.service.offline = false;
        for now in 670..=760 {
            watcher.pass(&day, now);
        }
        assert_eq!(
            watcher.entries(),
            vec![("pa".into(), 540, Some(600)), ("pb".into(), 600, Some(640)), ("pa".into(), 660, Some(680))]
        );
    }

    #[test]
    fn a_foreign_timer_is_left_or_stopped() {
        let day = day();
        let mut leaving = Watcher::new();
        leaving.their_timer(500);
        for now in 530..=560 {
            leaving.pass(&day, now);
        }
        assert_eq!(leaving.running(), Some(("x".into(), 500)), "theirs runs on; ours is not started");
        assert_eq!(leaving.notices, vec![LiveNotice::ForeignLeft]);

        let mut stopping = Watcher::new();
        stopping.policy = ForeignTimer::Stop;
        stopping.their_timer(500);
        for now in 530..=560 {
            stopping.pass(&day, now);
        }
        assert_eq!(stopping.running(), Some(("pa".into(), 540)));
        assert_eq!(
            stopping.entries_by_id()["theirs"],
            ("x".into(), 500, Some(540)),
            "stopped when ours began"
        );
        assert!(stopping.notices.is_empty());

        // Offline when ours begins (09:00 to 09:05): the stop of theirs waits in doubt and goes out at
        // 09:00 when the service answers again, not at whatever minute the pass runs.
        let mut offline = Watcher::new();
        offline.policy = ForeignTimer::Stop;
        offline.their_timer(500);
        for now in 530..=560 {
            offline.service.offline = (540..=545).contains(&now);
            offline.pass(&day, now);
        }
        assert_eq!(
            offline.entries_by_id()["theirs"],
            ("x".into(), 500, Some(540)),
            "stopped when ours began"
        );
    }

    #[test]
    fn a_low_quota_means_longer_entries_and_keeps_the_last_requests_for_stops() {
        assert_eq!(min_entry_ms(MIN, None), MIN);
        assert_eq!(min_entry_ms(MIN, Some(25)), MIN);
        assert_eq!(min_entry_ms(MIN, Some(15)), 10 * MIN);
        assert_eq!(min_entry_ms(MIN, Some(5)), 30 * MIN);
        // Eight minutes of b inside a's work would switch twice; with few requests left they stay a's.
        let mut a = every_two(540, 640);
        a.retain(|m| !(591..=597).contains(m));
        let day =
            Day { activity: vec![("a", "/w/a", a), ("b", "/w/b", every_two(590, 598))], ..Day::default() };
        let mut plenty = Watcher::new();
        let mut scarce = Watcher::new();
        scarce.quota_left = Some(15);
        for now in 530..=700 {
            plenty.pass(&day, now);
            scarce.pass(&day, now);
        }
        // The quota only delays the running entry's switch: history comes out the same, nothing posted is
        // rewritten, and the scarce watcher spends fewer requests.
        let history =
            vec![("pa".into(), 540, Some(590)), ("pb".into(), 590, Some(598)), ("pa".into(), 598, Some(640))];
        assert_eq!(plenty.entries(), history);
        assert_eq!(scarce.entries(), history);
        assert_eq!((scarce.requests(), plenty.requests()), (5, 6));
        assert_eq!((scarce.rewrites, plenty.rewrites), (0, 0));
        // The quota falls *after* b's visit was posted (plenty until 10:05, then 15, then 5 from 10:20):
        // what was posted stays as posted (the old rule re-planned the morning with the longer minimum
        // and merged b back into a: one update and two deletes).
        let mut falling = Watcher::new();
        for now in 530..=700 {
            falling.quota_left = match now {
                ..605 => None,
                605..620 => Some(15),
                _ => Some(5),
            };
            falling.pass(&day, now);
        }
        assert_eq!(falling.entries(), history);
        assert_eq!(falling.rewrites, 0, "nothing posted is rewritten when the quota falls");
        // Almost nothing left: no timer is started, but a running one is still stopped.
        let day = Day {
            activity: vec![("a", "/w/a", every_two(540, 600)), ("b", "/w/b", every_two(650, 690))],
            ..Day::default()
        };
        let mut last = Watcher::new();
        for now in 530..=560 {
            last.pass(&day, now);
        }
        last.quota_left = Some(2);
        for now in 561..=720 {
            last.pass(&day, now);
            if now == 670 {
                assert_eq!(last.running(), None, "b's timer is not started");
            }
        }
        assert_eq!(
            last.entries(),
            vec![("pa".into(), 540, Some(600)), ("pb".into(), 650, Some(690))],
            "a's timer stopped at its end; b's stretch posted once closed"
        );
        assert_eq!(last.notices, vec![LiveNotice::QuotaKeptForStops]);
    }

    #[test]
    fn a_glance_at_another_project_produces_no_request() {
        // a works 09:00-10:00 with a line a minute; at 09:30:10 and 09:30:35 two lines in b (25 s).
        let day = Day {
            activity: vec![("a", "/w/a", (540..=600).collect())],
            seconds: vec![("b", "/w/b", vec![570 * 60 + 10, 570 * 60 + 35])],
        };
        let mut watcher = Watcher::new();
        let mut requests = Vec::new();
        for now in 530..=640 {
            watcher.pass(&day, now);
            requests.push((now, watcher.requests()));
        }
        let at_minute = |m: i64| requests.iter().find(|(now, _)| *now == m).unwrap().1;
        assert_eq!(at_minute(569), 1, "the start");
        assert_eq!(at_minute(572), 1, "the glance sent nothing");
        assert_eq!(watcher.entries(), vec![("pa".into(), 540, Some(600))]);
        assert_eq!(watcher.requests(), 2, "a start and a stop, nothing else");
    }

    #[test]
    fn a_start_whose_answer_is_lost_is_looked_for_once_and_never_doubled() {
        let day = day();
        let history =
            vec![("pa".into(), 540, Some(600)), ("pb".into(), 600, Some(640)), ("pa".into(), 660, Some(680))];
        // The first start never reached the service (offline at 09:00): the next pass looks for it with one
        // listing, finds nothing, and sends it again (as a create without an end: a timer, on every service).
        let mut lost = Watcher::new();
        for now in 530..=760 {
            lost.service.offline = now == 540;
            lost.pass(&day, now);
            if now == 541 {
                assert_eq!(lost.running(), Some(("pa".into(), 540)), "running from the stretch's start");
            }
        }
        assert_eq!(lost.entries(), history);
        assert_eq!(
            lost.service.calls[..3],
            [
                Call::Start(at(540).to_rfc3339()),
                Call::List(at(-24 * 60), at(2 * 24 * 60)),
                Call::Create(at(540).to_rfc3339())
            ]
        );
        assert_eq!(lost.requests(), 8, "the day's 6, the failed start and the listing");
        // The start reached the service and only its answer was lost: the listing finds it and it is
        // adopted as it runs, never started twice.
        let mut stored = Watcher::new();
        for now in 530..=760 {
            if now == 540 {
                stored.service.faults.push((RemoteError::MaybeStored { detail: "reset".into() }, true));
            }
            stored.pass(&day, now);
        }
        assert_eq!(stored.entries(), history);
        assert_eq!(stored.requests(), 7, "the day's 6 and the listing");
        assert!(stored.ledger_states().iter().all(|s| *s == EntryState::Stored));
    }
}
