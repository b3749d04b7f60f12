//! Attention bands: a session's active time split by who was there. *Hands-on* is the person typing and
//! reacting (from the activity before a person's line up to that line); *supervised* is the agent working
//! within `attention_ms` after a person's line (ended early by an away summary); *autonomous* is the
//! rest. The three partition the active spans exactly, so their sum is the active time. And what a
//! destination counts: all active time (`count = "active"`) or the attended part (`"attended"`).
//!
//! Pure: timestamps in, spans out.

use crate::classify::Rules;
use crate::folders::FolderTargets;
use crate::sessions::{Millis, Session, Span};

/// The hands-on and supervised parts of a session's active spans (what is in neither is autonomous).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Bands {
    pub(crate) hands_on: Vec<Span>,
    pub(crate) supervised: Vec<Span>,
}

/// Active milliseconds per band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BandTotals {
    pub(crate) hands_on: i64,
    pub(crate) supervised: i64,
    pub(crate) autonomous: i64,
}

impl BandTotals {
    /// Adds another session's (or day's) figures.
    pub(crate) fn add(&mut self, other: BandTotals) {
        self.hands_on += other.hands_on;
        self.supervised += other.supervised;
        self.autonomous += other.autonomous;
    }
}

/// The bands of one session. `spans` are its active spans (from `activity`), `person` the person's
/// timestamps (a subset of `activity`), `away` the away summaries. One pass over the gaps between
/// consecutive activity: a gap inside a span that ends in a person's line is hands-on; else its part
/// before the latest person line's window closes (`attention_ms` later, or at the next away summary) is
/// supervised. (The latest window reaches furthest, so it alone decides.)
pub(crate) fn bands(
    spans: &[Span],
    activity: &[Millis],
    person: &[Millis],
    away: &[Millis],
    attention_ms: i64,
) -> Bands {
    let mut result = Bands::default();
    let (mut next_person, mut window_end): (usize, Option<Millis>) = (0, None);
    let mut span = 0;
    for pair in activity.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        while next_person < person.len() && person[next_person] <= from {
            let at = person[next_person];
            let left = away.get(away.partition_point(|&t| t <= at)).copied();
            window_end = Some(left.map_or(at + attention_ms, |left| left.min(at + attention_ms)));
            next_person += 1;
        }
        // The gap is active when one span covers it (else it is idle, cut out).
        while spans.get(span).is_some_and(|s| s.end < to) {
            span += 1;
        }
        if spans.get(span).is_none_or(|s| s.start > from) {
            continue;
        }
        if person.get(next_person) == Some(&to) {
            push_joined(&mut result.hands_on, from, to);
        } else if let Some(end) = window_end.filter(|end| *end > from) {
            push_joined(&mut result.supervised, from, end.min(to));
        }
    }
    result
}

/// Appends `[start, end)`, joining it to the last span when they touch.
fn push_joined(spans: &mut Vec<Span>, start: Millis, end: Millis) {
    match spans.last_mut() {
        Some(last) if last.end == start => last.end = end,
        _ => spans.push(Span { start, end }),
    }
}

/// The bands of a session whose lines were read before they were told apart: all hands-on, as before.
pub(crate) fn bands_unknown(spans: &[Span]) -> Bands {
    Bands { hands_on: spans.iter().copied().filter(|s| s.end > s.start).collect(), supervised: Vec::new() }
}

/// The bands of a session inside `[from, to)`.
pub(crate) fn totals_within(session: &Session, from: Millis, to: Millis) -> BandTotals {
    let within = |spans: &[Span]| spans.iter().map(|s| s.overlap_ms(from, to)).sum::<i64>();
    let active = within(&session.spans);
    let hands_on = within(&session.hands_on);
    let supervised = within(&session.supervised);
    BandTotals { hands_on, supervised, autonomous: active - hands_on - supervised }
}

/// What a destination or a rule bills of a session's active time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Count {
    /// Every active second, whoever was there (the original rule).
    #[default]
    Active,
    /// Hands-on and supervised time only: an agent working alone is not the person's time.
    Attended,
}

/// What a destination bills: its `count`, and whether sessions with no person are posted at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Billing {
    pub(crate) count: Count,
    pub(crate) automated: bool,
}

/// The sessions as a destination bills them: automated sessions left out (unless it or their rule counts
/// them), and each session's spans cut to what its rule (else the destination) counts. Every planner
/// (the daily split, the timeline, the live timer) takes these, so all modes agree.
pub(crate) fn billed(
    sessions: &[Session],
    rules: &Rules,
    folders: &FolderTargets,
    billing: Billing,
) -> Vec<Session> {
    sessions
        .iter()
        .filter_map(|session| {
            let rule = rules.first_match(session, folders);
            let automated_counts = rule.and_then(|r| r.count_automated).unwrap_or(billing.automated);
            if session.automated && !automated_counts {
                return None;
            }
            Some(counted(session, rule.and_then(|r| r.count).unwrap_or(billing.count)))
        })
        .collect()
}

/// The session as a destination that counts `count` sees it: its spans are the counted time.
pub(crate) fn counted(session: &Session, count: Count) -> Session {
    match count {
        Count::Active => session.clone(),
        Count::Attended => {
            let mut attended = union(session.hands_on.iter().chain(&session.supervised).copied().collect());
            attended.retain(|s| s.end > s.start);
            Session { spans: attended, ..session.clone() }
        }
    }
}

/// Sorted, merged union of spans (touching spans join).
pub(crate) fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::active_spans;

    const MIN: i64 = 60_000;
    const IDLE: i64 = 15 * MIN;

    fn span(start: i64, end: i64) -> Span {
        Span { start: start * MIN, end: end * MIN }
    }

    fn total(spans: &[Span]) -> i64 {
        spans.iter().map(|s| s.end - s.start).sum()
    }

    /// The worked example of notes/09-time-model.md: a prompt at 0, Claude works to 12, the person reads
    /// and prompts again at 20, Claude works to 50 (the person left: away summary at 30), then one more
    /// prompt at 58 answered by 60.
    #[test]
    fn the_worked_example_of_the_notes() {
        let activity: Vec<i64> =
            [0, 4, 8, 12, 20, 24, 30, 36, 42, 50, 58, 60].iter().map(|m| m * MIN).collect();
        let person = vec![0, 20 * MIN, 58 * MIN];
        let away = vec![30 * MIN];
        let spans = active_spans(&activity, IDLE);
        assert_eq!(spans, vec![span(0, 60)]);
        let bands = bands(&spans, &activity, &person, &away, 15 * MIN);
        assert_eq!(bands.hands_on, vec![span(12, 20), span(50, 58)]);
        assert_eq!(bands.supervised, vec![span(0, 12), span(20, 30), span(58, 60)]);
        let session =
            Session { spans, hands_on: bands.hands_on, supervised: bands.supervised, ..Session::default() };
        let totals = totals_within(&session, 0, 60 * MIN);
        assert_eq!(totals, BandTotals { hands_on: 16 * MIN, supervised: 24 * MIN, autonomous: 20 * MIN });
        assert_eq!(totals.hands_on + totals.supervised + totals.autonomous, 60 * MIN);
    }

    #[test]
    fn an_overnight_run_after_one_prompt_is_autonomous_after_the_window() {
        let activity: Vec<i64> = (0..=120).step_by(2).map(|m| m * MIN).collect();
        let spans = active_spans(&activity, IDLE);
        let bands = bands(&spans, &activity, &[0], &[], 15 * MIN);
        assert!(bands.hands_on.is_empty(), "nothing before the first prompt");
        assert_eq!(bands.supervised, vec![span(0, 15)]);
        let session =
            Session { spans, hands_on: bands.hands_on, supervised: bands.supervised, ..Session::default() };
        assert_eq!(totals_within(&session, 0, 121 * MIN).autonomous, 105 * MIN);
        assert_eq!(total(&counted(&session, Count::Attended).spans), 15 * MIN);
        assert_eq!(total(&counted(&session, Count::Active).spans), 120 * MIN);
    }

    #[test]
    fn hands_on_never_crosses_an_idle_gap() {
        // Claude answered at 0; the person came back 40 minutes later (an idle gap) and typed at 40.
        let activity = vec![0, 40 * MIN, 45 * MIN];
        let spans = active_spans(&activity, IDLE);
        let bands = bands(&spans, &activity, &[40 * MIN], &[], 15 * MIN);
        assert!(bands.hands_on.is_empty());
        assert_eq!(bands.supervised, vec![span(40, 45)]);
    }

    #[test]
    fn no_person_is_all_autonomous_and_unknown_is_all_hands_on() {
        let activity = vec![0, 5 * MIN, 10 * MIN];
        let spans = active_spans(&activity, IDLE);
        assert_eq!(bands(&spans, &activity, &[], &[], 15 * MIN), Bands::default());
        assert_eq!(bands_unknown(&spans).hands_on, vec![span(0, 10)]);
    }

    #[test]
    fn a_rule_decides_over_its_destination_for_the_sessions_it_matches() {
        let spec = |name: &str, cwd: &str, count: Option<Count>, automated: Option<bool>| {
            crate::classify::RuleSpec {
                name: name.into(),
                line: 1,
                cwd: Some(cwd.into()),
                git_branch: None,
                model: None,
                machine: None,
                tags: Vec::new(),
                billable: None,
                project: None,
                count,
                count_automated: automated,
            }
        };
        let rules = Rules::compile(
            vec![
                spec("all of it", "/w/client", Some(Count::Active), None),
                spec("bot", "/w/bot", Some(Count::Active), Some(true)),
            ],
            None,
        )
        .unwrap();
        let session = |id: &str, project: &str, automated: bool| Session {
            session_id: id.into(),
            project: project.into(),
            spans: vec![span(0, 60)],
            supervised: if automated { Vec::new() } else { vec![span(0, 15)] },
            automated,
            ..Session::default()
        };
        let sessions = [
            session("c", "/w/client", false),
            session("o", "/w/own", false),
            session("b", "/w/bot", true),
            session("x", "/w/x", true),
        ];
        let billing = Billing { count: Count::Attended, automated: false };
        let billed: Vec<(String, i64)> = billed(&sessions, &rules, &FolderTargets::default(), billing)
            .iter()
            .map(|s| (s.session_id.clone(), total(&s.spans) / MIN))
            .collect();
        // The client's rule counts all of it; an own folder gets the destination's attended 15 minutes; the
        // bot's rule posts its automated session, all of it; another automated session is left out.
        assert_eq!(billed, vec![("c".to_string(), 60), ("o".to_string(), 15), ("b".to_string(), 60)]);
    }

    #[test]
    fn set_operations() {
        assert_eq!(union(vec![span(5, 8), span(0, 2), span(2, 3), span(7, 9)]), vec![span(0, 3), span(5, 9)]);
        assert_eq!(intersect(&[span(0, 10), span(20, 30)], &[span(5, 25)]), vec![span(5, 10), span(20, 25)]);
        assert_eq!(
            subtract(&[span(0, 10), span(20, 30)], &[span(2, 3), span(8, 22)]),
            vec![span(0, 2), span(3, 8), span(22, 30)]
        );
        assert_eq!(subtract(&[span(0, 10)], &[]), vec![span(0, 10)]);
    }

    /// The rules as set operations, the way the notes state them: the oracle the one-pass `bands` is
    /// held to.
    fn bands_by_sets(
        spans: &[Span],
        activity: &[Millis],
        person: &[Millis],
        away: &[Millis],
        attention_ms: i64,
    ) -> Bands {
        let reacting: Vec<Span> = person
            .iter()
            .filter_map(|&at| {
                let before = activity.partition_point(|&t| t < at);
                let previous = before.checked_sub(1).map(|i| activity[i])?;
                Some(Span { start: previous, end: at })
            })
            .collect();
        let hands_on = intersect(spans, &union(reacting));
        let present: Vec<Span> = person
            .iter()
            .map(|&at| {
                let next_away = away.get(away.partition_point(|&t| t <= at)).copied();
                Span {
                    start: at,
                    end: next_away.map_or(at + attention_ms, |left| left.min(at + attention_ms)),
                }
            })
            .collect();
        let supervised = subtract(&intersect(spans, &union(present)), &hands_on);
        Bands { hands_on, supervised }
    }

    #[test]
    fn one_pass_gives_what_the_set_rules_give() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..3_000 {
            let mut at = 0;
            let activity: Vec<Millis> = (0..rng.usize(0..40))
                .map(|_| {
                    at += [1, 30, 90, 300, 900, 1_200, 3_600][rng.usize(0..7)] * 1_000 + rng.i64(0..1_000);
                    at
                })
                .collect();
            let person: Vec<Millis> = activity.iter().copied().filter(|_| rng.u8(0..4) == 0).collect();
            let away: std::collections::BTreeSet<Millis> =
                (0..rng.usize(0..3)).map(|_| rng.i64(0..at.max(1))).collect();
            let away: Vec<Millis> = away.into_iter().collect();
            let spans = active_spans(&activity, IDLE);
            let attention = [60_000, 5 * MIN, 15 * MIN][rng.usize(0..3)];
            assert_eq!(
                bands(&spans, &activity, &person, &away, attention),
                bands_by_sets(&spans, &activity, &person, &away, attention),
                "{activity:?} {person:?} {away:?} {attention}"
            );
        }
    }

    /// The parts of sorted disjoint `a` inside sorted disjoint `b` (positive length only).
    fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < a.len() && j < b.len() {
            let start = a[i].start.max(b[j].start);
            let end = a[i].end.min(b[j].end);
            if end > start {
                out.push(Span { start, end });
            }
            if a[i].end < b[j].end { i += 1 } else { j += 1 }
        }
        out
    }

    /// The parts of sorted disjoint `a` outside sorted disjoint `b`.
    fn subtract(a: &[Span], b: &[Span]) -> Vec<Span> {
        let mut out = Vec::new();
        let mut j = 0;
        for span in a {
            let mut start = span.start;
            while j < b.len() && b[j].end <= start {
                j += 1;
            }
            let mut k = j;
            while k < b.len() && b[k].start < span.end {
                if b[k].start > start {
                    out.push(Span { start, end: b[k].start });
                }
                start = start.max(b[k].end);
                k += 1;
            }
            if span.end > start {
                out.push(Span { start, end: span.end });
            }
        }
        out
    }
}
