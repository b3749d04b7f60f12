//! The timeline: one sequence of non-overlapping segments, each a stretch of active time owned by one
//! local project and tag set. Per-session entries (`mode = "sessions"`) post its closed segments; the
//! live timer (next) mirrors its open one, so the backfill and the live mirror agree by construction.
//!
//! Rules, in order:
//! 1. A session's active spans (idle gaps already cut) are its time. Sessions of one project and tag set
//!    (an owner) merge: their spans are united, never added.
//! 2. When owners are active at the same moment, each second goes to the one whose current stretch of
//!    work began most recently (ties: the smaller project key, then tag set). Starting work somewhere
//!    else is where the attention went; the older stretch (a long agent run in the background) takes the
//!    time back when the newer one ends. No wall-clock second is counted twice.
//! 3. A segment shorter than the minimum entry that touches a neighbour is absorbed by the longer
//!    neighbour it touches (its time is not lost; an owner met again on the other side merges);
//!    interruptions go before the ends of a run (the last end may still be growing). A short segment
//!    with idle time on both sides stays: it is real work, alone.
//! 4. A segment whose last activity is within the idle threshold of `now` is open (work may go on).
//!
//! Pure: sessions and settings in, segments out; no clock, no I/O.

use crate::classify::{Classified, ProjectKey};
use crate::sessions::{Millis, Session};

/// What the timeline depends on besides the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimelineSettings {
    /// Segments shorter than this that touch a neighbour are absorbed by it.
    pub(crate) min_entry_ms: i64,
    /// A segment whose end is closer than this to `now` is open.
    pub(crate) idle_ms: i64,
    pub(crate) now: Millis,
}

/// One stretch of active time of one owner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment<'a> {
    pub(crate) start: Millis,
    pub(crate) end: Millis,
    pub(crate) project: &'a ProjectKey,
    /// The owner's tag set (sorted names).
    pub(crate) tags: &'a [String],
    /// The rules' `billable` when every session in the segment agrees, else `None`.
    pub(crate) billable: Option<bool>,
    /// The session whose work began the segment: its folder, branch and id fill a description.
    pub(crate) lead: &'a Session,
    /// Work may still go on: not to be posted yet.
    pub(crate) open: bool,
}

impl Segment<'_> {
    /// Active milliseconds.
    pub(crate) fn duration_ms(&self) -> i64 {
        self.end - self.start
    }

    fn same_owner(&self, other: &Segment<'_>) -> bool {
        self.project == other.project && self.tags == other.tags
    }
}

/// A merged stretch of one owner's spans.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    owner: usize,
    start: Millis,
    end: Millis,
    /// Index of the session whose span began the stretch.
    lead: usize,
    billable: Option<Option<bool>>,
}

/// The timeline of these sessions.
pub(crate) fn timeline<'a>(sessions: &[Classified<'a>], settings: TimelineSettings) -> Vec<Segment<'a>> {
    let owners = owners(sessions);
    let stretches = stretches(sessions, &owners);
    let mut segments = resolve(sessions, &owners, &stretches);
    absorb_short(&mut segments, settings.min_entry_ms);
    for segment in &mut segments {
        segment.open = settings.now - segment.end < settings.idle_ms;
    }
    segments
}

/// The distinct (project, tag set) owners, sorted (their order breaks ties), and each session's owner.
fn owners<'a>(sessions: &[Classified<'a>]) -> Owners<'a> {
    let mut keys: Vec<(&'a ProjectKey, &'a [String])> =
        sessions.iter().map(|c| (c.project, c.tags)).collect();
    keys.sort_unstable();
    keys.dedup();
    let of_session =
        sessions.iter().map(|c| keys.binary_search(&(c.project, c.tags)).unwrap_or_default()).collect();
    Owners { keys, of_session }
}

struct Owners<'a> {
    keys: Vec<(&'a ProjectKey, &'a [String])>,
    of_session: Vec<usize>,
}

/// Every owner's spans united into stretches, sorted by start.
fn stretches(sessions: &[Classified<'_>], owners: &Owners<'_>) -> Vec<Stretch> {
    let mut spans: Vec<(usize, Millis, Millis, usize)> = Vec::new();
    for (index, classified) in sessions.iter().enumerate() {
        let owner = owners.of_session[index];
        spans.extend(
            classified
                .session
                .spans
                .iter()
                .filter(|s| s.end > s.start)
                .map(|s| (owner, s.start, s.end, index)),
        );
    }
    // By owner, then start; a tie in start goes to the smaller session id (deterministic leads).
    spans.sort_unstable_by(|a, b| {
        (a.0, a.1, &sessions[a.3].session.session_id).cmp(&(b.0, b.1, &sessions[b.3].session.session_id))
    });
    let mut stretches: Vec<Stretch> = Vec::new();
    for (owner, start, end, session) in spans {
        let billable = sessions[session].billable;
        match stretches.last_mut() {
            Some(last) if last.owner == owner && start <= last.end => {
                last.end = last.end.max(end);
                if last.billable != Some(billable) {
                    last.billable = Some(None);
                }
            }
            _ => stretches.push(Stretch { owner, start, end, lead: session, billable: Some(billable) }),
        }
    }
    stretches.sort_unstable_by_key(|s| (s.start, s.owner));
    stretches
}

/// Gives every moment covered by some stretch to exactly one: the one begun last (ties: the smaller
/// owner); consecutive moments of one stretch form a segment.
fn resolve<'a>(sessions: &[Classified<'a>], owners: &Owners<'a>, stretches: &[Stretch]) -> Vec<Segment<'a>> {
    let mut bounds: Vec<Millis> = stretches.iter().flat_map(|s| [s.start, s.end]).collect();
    bounds.sort_unstable();
    bounds.dedup();
    let mut segments: Vec<Segment<'a>> = Vec::new();
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    let mut last_piece: Option<(usize, Millis)> = None; // (stretch, end) of the piece last added
    for pair in bounds.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        while next < stretches.len() && stretches[next].start <= from {
            active.push(next);
            next += 1;
        }
        active.retain(|&i| stretches[i].end > from);
        let Some(&winner) = active.iter().max_by(|&&a, &&b| {
            let (a, b) = (&stretches[a], &stretches[b]);
            a.start.cmp(&b.start).then_with(|| b.owner.cmp(&a.owner))
        }) else {
            continue;
        };
        if last_piece == Some((winner, from)) {
            if let Some(segment) = segments.last_mut() {
                segment.end = to;
            }
        } else {
            let stretch = &stretches[winner];
            let (project, tags) = owners.keys[stretch.owner];
            segments.push(Segment {
                start: from,
                end: to,
                project,
                tags,
                billable: stretch.billable.flatten(),
                lead: sessions[stretch.lead].session,
                open: false,
            });
        }
        last_piece = Some((winner, to));
    }
    segments
}

/// Rule 3, run by run of touching segments (a run is short: one stretch of parallel work).
fn absorb_short(segments: &mut Vec<Segment<'_>>, min_ms: i64) {
    if min_ms <= 0 {
        return;
    }
    let mut result = Vec::with_capacity(segments.len());
    let mut run: Vec<Segment<'_>> = Vec::new();
    for segment in segments.drain(..) {
        if run.last().is_some_and(|last| last.end != segment.start) {
            absorb_in_run(&mut run, min_ms);
            result.append(&mut run);
        }
        run.push(segment);
    }
    absorb_in_run(&mut run, min_ms);
    result.append(&mut run);
    *segments = result;
}

fn absorb_in_run(run: &mut Vec<Segment<'_>>, min_ms: i64) {
    while run.len() > 1 {
        // The shortest one below the minimum, an interruption (neighbours on both sides) before an end
        // of the run: the end may be work that is still growing, and an interruption absorbed first
        // lets its owner's two sides join (the earliest of equals).
        let at_end = |i: usize| i == 0 || i + 1 == run.len();
        let Some(short) = (0..run.len())
            .filter(|&i| run[i].duration_ms() < min_ms)
            .min_by_key(|&i| (at_end(i), run[i].duration_ms(), i))
        else {
            return;
        };
        let into = match (short.checked_sub(1), (short + 1 < run.len()).then_some(short + 1)) {
            (Some(before), Some(after)) if run[after].duration_ms() > run[before].duration_ms() => after,
            (Some(before), _) => before,
            (None, Some(after)) => after,
            (None, None) => return,
        };
        let absorbed = run.remove(short);
        let into = if into > short { into - 1 } else { into };
        run[into].start = run[into].start.min(absorbed.start);
        run[into].end = run[into].end.max(absorbed.end);
        // An owner met again on the other side of what was absorbed is one segment.
        for neighbour in [into + 1, into.wrapping_sub(1)] {
            if neighbour < run.len() && run[neighbour].same_owner(&run[into]) {
                let other = run.remove(neighbour);
                let keep = if neighbour < into { into - 1 } else { into };
                if other.start < run[keep].start {
                    run[keep].lead = other.lead;
                }
                if other.billable != run[keep].billable {
                    run[keep].billable = None;
                }
                run[keep].start = run[keep].start.min(other.start);
                run[keep].end = run[keep].end.max(other.end);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::Span;

    const MIN: i64 = 60_000;

    fn session(id: &str, spans: &[(i64, i64)]) -> Session {
        Session {
            session_id: id.into(),
            project: format!("/w/{id}"),
            git_branch: None,
            spans: spans.iter().map(|&(start, end)| Span { start: start * MIN, end: end * MIN }).collect(),
            messages: Vec::new(),
            models: Vec::new(),
            ..Default::default()
        }
    }

    fn settings(min_entry_minutes: i64) -> TimelineSettings {
        TimelineSettings { min_entry_ms: min_entry_minutes * MIN, idle_ms: 15 * MIN, now: 100_000 * MIN }
    }

    /// (project, start minute, end minute) of each segment.
    fn shape(segments: &[Segment<'_>]) -> Vec<(String, i64, i64)> {
        segments.iter().map(|s| (s.project.name().to_string(), s.start / MIN, s.end / MIN)).collect()
    }

    fn classified<'a>(sessions: &'a [Session], projects: &'a [ProjectKey]) -> Vec<Classified<'a>> {
        crate::classify::pair(sessions, projects)
    }

    fn keys(sessions: &[Session]) -> Vec<ProjectKey> {
        sessions.iter().map(|s| ProjectKey::Unmapped(s.project.clone())).collect()
    }

    #[test]
    fn the_stretch_begun_last_owns_the_overlap() {
        let sessions = [session("a", &[(0, 180)]), session("b", &[(60, 90)])];
        let projects = keys(&sessions);
        let segments = timeline(&classified(&sessions, &projects), settings(1));
        assert_eq!(
            shape(&segments),
            vec![("/w/a".into(), 0, 60), ("/w/b".into(), 60, 90), ("/w/a".into(), 90, 180)]
        );
    }

    #[test]
    fn sessions_of_one_project_merge_and_keep_the_first_as_lead() {
        let mut second = session("z", &[(30, 120)]);
        second.project = "/w/a".into();
        let sessions = [session("a", &[(0, 60)]), second];
        let projects = keys(&sessions);
        let segments = timeline(&classified(&sessions, &projects), settings(1));
        assert_eq!(shape(&segments), vec![("/w/a".into(), 0, 120)]);
        assert_eq!(segments[0].lead.session_id, "a");
    }

    #[test]
    fn a_short_segment_goes_to_its_longer_neighbour_and_the_owner_rejoins() {
        // b interrupts a for 30 seconds: a keeps the whole stretch.
        let mut b = session("b", &[]);
        b.spans = vec![Span { start: 60 * MIN, end: 60 * MIN + 30_000 }];
        let sessions = [session("a", &[(0, 120)]), b];
        let projects = keys(&sessions);
        let segments = timeline(&classified(&sessions, &projects), settings(1));
        assert_eq!(shape(&segments), vec![("/w/a".into(), 0, 120)]);
        // With no minimum it stands on its own.
        let segments = timeline(&classified(&sessions, &projects), settings(0));
        assert_eq!(segments.len(), 3);
        assert_eq!(segments[1].duration_ms(), 30_000);
    }

    #[test]
    fn a_short_segment_alone_stays_and_a_lone_timestamp_is_no_time() {
        let mut a = session("a", &[]);
        a.spans = vec![Span { start: 0, end: 20_000 }, Span { start: 60 * MIN, end: 60 * MIN }];
        let sessions = [a];
        let projects = keys(&sessions);
        let segments = timeline(&classified(&sessions, &projects), settings(1));
        assert_eq!(segments.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(), vec![(0, 20_000)]);
    }

    #[test]
    fn the_last_segment_is_open_within_the_idle_threshold() {
        let sessions = [session("a", &[(0, 60), (100, 170)])];
        let projects = keys(&sessions);
        let mut now = settings(1);
        now.now = 180 * MIN;
        let segments = timeline(&classified(&sessions, &projects), now);
        assert_eq!(segments.iter().map(|s| s.open).collect::<Vec<_>>(), vec![false, true]);
        now.now = 185 * MIN;
        assert!(timeline(&classified(&sessions, &projects), now).iter().all(|s| !s.open));
    }

    #[test]
    fn tags_make_another_owner() {
        let sessions = [session("a", &[(0, 60)]), session("b", &[(30, 90)])];
        let projects = vec![ProjectKey::Unmapped("/w".into()); 2];
        let tags = [vec!["x".to_string()], Vec::new()];
        let classified: Vec<Classified<'_>> = sessions
            .iter()
            .zip(&projects)
            .zip(&tags)
            .map(|((session, project), tags)| Classified { session, project, tags, billable: None })
            .collect();
        let segments = timeline(&classified, settings(1));
        assert_eq!(
            segments.iter().map(|s| (s.tags.to_vec(), s.start / MIN, s.end / MIN)).collect::<Vec<_>>(),
            vec![(vec!["x".to_string()], 0, 30), (Vec::new(), 30, 90)]
        );
    }

    /// A small deterministic generator for the property tests.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: u64) -> i64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n) as i64
        }
    }

    fn random_sessions(rng: &mut Lcg) -> Vec<Session> {
        (0..rng.below(8) + 1)
            .map(|i| {
                let mut session = session(&format!("s{i}"), &[]);
                session.project = format!("/w/{}", rng.below(3));
                let mut at = rng.below(600) * 1_000;
                for _ in 0..rng.below(5) + 1 {
                    let length = rng.below(40 * 60) * 1_000;
                    session.spans.push(Span { start: at, end: at + length });
                    at += length + rng.below(30 * 60) * 1_000 + 15 * MIN;
                }
                session
            })
            .collect()
    }

    /// Milliseconds covered by at least one span.
    fn union_ms(sessions: &[Session]) -> i64 {
        let mut spans: Vec<(i64, i64)> =
            sessions.iter().flat_map(|s| s.spans.iter().map(|sp| (sp.start, sp.end))).collect();
        spans.sort_unstable();
        let (mut total, mut reach) = (0, i64::MIN);
        for (start, end) in spans {
            let from = start.max(reach);
            if end > from {
                total += end - from;
            }
            reach = reach.max(end);
        }
        total
    }

    #[test]
    fn properties_hold_on_random_days() {
        let mut rng = Lcg(7);
        for case in 0..500 {
            let sessions = random_sessions(&mut rng);
            let projects = keys(&sessions);
            let minimum = rng.below(3);
            let segments = timeline(&classified(&sessions, &projects), settings(minimum));
            for pair in segments.windows(2) {
                assert!(pair[0].end <= pair[1].start, "case {case}: overlap {pair:?}");
                assert!(
                    !(pair[0].end == pair[1].start && pair[0].same_owner(&pair[1])),
                    "case {case}: one owner's touching segments are one"
                );
            }
            let total: i64 = segments.iter().map(Segment::duration_ms).sum();
            assert_eq!(total, union_ms(&sessions), "case {case}: total equals the union of active time");

            // Deterministic: the order the sessions come in does not matter.
            let mut reversed = sessions.clone();
            reversed.reverse();
            let reversed_projects = keys(&reversed);
            let again = timeline(&classified(&reversed, &reversed_projects), settings(minimum));
            assert_eq!(shape(&again), shape(&segments), "case {case}");
            assert_eq!(
                again.iter().map(|s| &s.lead.session_id).collect::<Vec<_>>(),
                segments.iter().map(|s| &s.lead.session_id).collect::<Vec<_>>()
            );

            // Stable under re-ingest: a session seen twice (its spans repeated) changes nothing.
            let mut doubled = sessions.clone();
            doubled.extend(sessions.iter().cloned());
            let doubled_projects = keys(&doubled);
            let twice = timeline(&classified(&doubled, &doubled_projects), settings(minimum));
            assert_eq!(shape(&twice), shape(&segments), "case {case}");
        }
    }
}
