//! What a session is made of, and the pure arithmetic on it: merging what several files (or several runs)
//! saw of one session, cutting its activity into active spans, and summing its tokens.
//!
//! Nothing here touches the file system, the database or the clock.

use std::collections::HashMap;

/// Milliseconds since the Unix epoch, UTC: the one time unit of the capture pipeline.
pub(crate) type Millis = i64;

/// The four token counters of an assistant message, as Claude Code's `usage` object reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_creation: u64,
    pub(crate) cache_read: u64,
}

impl Usage {
    /// Adds another message's usage, for totals (saturating: a hostile transcript cannot wrap a total).
    pub(crate) fn add(&mut self, other: &Usage) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_creation = self.cache_creation.saturating_add(other.cache_creation);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
    }

    /// Keeps the larger value of each counter: Claude Code rewrites a streamed message with growing counts.
    fn keep_largest(&mut self, other: &Usage) {
        self.input = self.input.max(other.input);
        self.output = self.output.max(other.output);
        self.cache_creation = self.cache_creation.max(other.cache_creation);
        self.cache_read = self.cache_read.max(other.cache_read);
    }
}

/// One distinct assistant message: its identity (a hash of `message.id` and `requestId`, else of the
/// line's `uuid`), when it was written, and what it cost. Kept per message so that repeats across lines,
/// files and runs count once, and so that a day gets exactly the tokens spent on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageRecord {
    pub(crate) key: u64,
    pub(crate) at: Millis,
    pub(crate) usage: Usage,
}

/// A run of activity with no idle gap inside: the unit that report and sync cut into local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: Millis,
    pub(crate) end: Millis,
}

impl Span {
    /// The part of this span inside `[from, to)`, in milliseconds.
    pub(crate) fn overlap_ms(&self, from: Millis, to: Millis) -> i64 {
        (self.end.min(to) - self.start.max(from)).max(0)
    }
}

/// Where a session's project came from: the `cwd` of its earliest main-chain activity line (a side-chain
/// line only when the session has no main-chain line at all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) from_sidechain: bool,
    pub(crate) at: Millis,
    pub(crate) cwd: String,
    pub(crate) git_branch: Option<String>,
}

/// A folder the session worked in from `at` on (until the next place): `cwd` follows `/cd`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub(crate) struct Place {
    pub(crate) at: Millis,
    pub(crate) cwd: String,
}

/// Everything claude-tracker keeps about one session, in a form that merges without double counting:
/// activity is a set of timestamps, messages a set keyed by identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SessionDigest {
    pub(crate) origin: Option<Origin>,
    /// Sorted, distinct timestamps of main-chain lines that are activity: `user` and `assistant` lines,
    /// and a person's lines of other kinds (queued typing, a local slash command).
    pub(crate) activity: Vec<Millis>,
    /// The part of `activity` that is a person's (sorted, distinct): see `transcripts::kinds`.
    pub(crate) person: Vec<Millis>,
    /// When Claude Code wrote an away summary: the person had left (sorted, distinct).
    pub(crate) away: Vec<Millis>,
    /// Where the main chain worked, from when: sorted, each place a change of folder.
    pub(crate) places: Vec<Place>,
    /// Read before lines were told apart (schema 10 or older) and never read again: who was there is
    /// not known, so all of its active time counts as the person's, as it did then.
    pub(crate) who_unknown: bool,
    /// Sorted by key, one record per distinct message.
    pub(crate) messages: Vec<MessageRecord>,
    /// The models that answered (sorted, distinct): what a rule's `model` is matched against.
    pub(crate) models: Vec<String>,
}

impl SessionDigest {
    /// Records the project a line names, keeping the earliest.
    pub(crate) fn offer_origin(&mut self, candidate: Origin) {
        if self.would_take_origin(candidate.from_sidechain, candidate.at) {
            self.origin = Some(candidate);
        }
    }

    /// Whether a line at `at` would name the project (main-chain lines beat side-chain lines, then the
    /// earlier line wins): lets the parser skip copying `cwd` for the many
    /// lines that would not.
    pub(crate) fn would_take_origin(&self, from_sidechain: bool, at: Millis) -> bool {
        self.origin.as_ref().is_none_or(|current| (from_sidechain, at) < (current.from_sidechain, current.at))
    }

    /// Records the folder of a main-chain line; only a change of folder is kept (lines come in file order).
    pub(crate) fn offer_place(&mut self, at: Millis, cwd: &str) {
        if self.places.last().is_none_or(|last| last.cwd != cwd) {
            self.places.push(Place { at, cwd: cwd.to_string() });
        }
    }

    /// Whether the session had no person at all: a scheduled task, `/loop`, `claude -p` or an SDK run.
    pub(crate) fn automated(&self) -> bool {
        !self.who_unknown && self.person.is_empty() && !self.activity.is_empty()
    }

    /// Puts activity and messages into their canonical order (sorted, distinct); call after pushing raw
    /// values and before merging or storing.
    pub(crate) fn normalize(&mut self) {
        for times in [&mut self.activity, &mut self.person, &mut self.away] {
            times.sort_unstable();
            times.dedup();
        }
        self.places.sort_unstable();
        self.places.dedup_by(|later, kept| later.cwd == kept.cwd);
        self.messages.sort_unstable_by_key(|m| (m.key, m.at));
        self.models.sort_unstable();
        self.models.dedup();
        self.messages.dedup_by(|later, kept| {
            if later.key == kept.key {
                kept.usage.keep_largest(&later.usage);
                true
            } else {
                false
            }
        });
    }

    /// Unites another view of the same session with this one; both must be normalized.
    pub(crate) fn merge(&mut self, other: SessionDigest) {
        if let Some(origin) = other.origin {
            self.offer_origin(origin);
        }
        // Who was there is unknown only while every view with activity says so (a view with tokens alone
        // says nothing either way): the same whichever view comes first.
        let (mine, theirs) = (!self.activity.is_empty(), !other.activity.is_empty());
        self.who_unknown = (mine || theirs) && (!mine || self.who_unknown) && (!theirs || other.who_unknown);
        self.activity.extend(other.activity);
        self.person.extend(other.person);
        self.away.extend(other.away);
        self.places.extend(other.places);
        if !other.messages.is_empty() {
            self.messages.extend(other.messages);
        }
        self.models.extend(other.models);
        self.normalize();
    }

    /// Earliest and latest moment the session shows any sign of life (activity or a message): what a
    /// range query must cover, so that a sub-agent's tokens after the last main-chain line are found.
    pub(crate) fn bounds(&self) -> Option<(Millis, Millis)> {
        let activity = self.activity.first().zip(self.activity.last());
        let messages = self.messages.iter().map(|m| m.at);
        let first = activity.map(|(f, _)| *f).into_iter().chain(messages.clone()).min()?;
        let last = activity.map(|(_, l)| *l).into_iter().chain(messages).max()?;
        Some((first, last))
    }
}

/// Cuts sorted activity timestamps into spans: consecutive timestamps closer than `idle_ms` belong to
/// one span; a gap of `idle_ms` or more is idle and starts a new one. A lone timestamp is a span of zero
/// length (it shows the session was there, but adds no time).
pub(crate) fn active_spans(activity: &[Millis], idle_ms: i64) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for &at in activity {
        match spans.last_mut() {
            Some(span) if at - span.end < idle_ms => span.end = span.end.max(at),
            _ => spans.push(Span { start: at, end: at }),
        }
    }
    spans
}

/// Total active milliseconds of a set of spans.
#[cfg(test)]
pub(crate) fn active_ms(spans: &[Span]) -> i64 {
    spans.iter().map(|s| s.end - s.start).sum()
}

/// A session as every output sees it (report, the sync planners, export): where it ran, its active
/// spans (idle gaps cut out) and its messages with their token counts. `store` builds it from rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Session {
    pub(crate) session_id: String,
    /// The working directory (`cwd`) the session ran in.
    pub(crate) project: String,
    pub(crate) git_branch: Option<String>,
    pub(crate) spans: Vec<Span>,
    pub(crate) messages: Vec<MessageRecord>,
    /// The models that answered, sorted.
    pub(crate) models: Vec<String>,
    /// No line of a person: a scheduled task, `/loop`, `claude -p` or an SDK run (see notes/09-time-model.md).
    pub(crate) automated: bool,
    /// The parts of `spans` where the person was typing and reacting (sorted, inside `spans`).
    pub(crate) hands_on: Vec<Span>,
    /// The parts of `spans` where the agent worked while the person was present (sorted, disjoint from
    /// `hands_on`). What is in neither is autonomous.
    pub(crate) supervised: Vec<Span>,
    /// The name of the machine the session is attributed to, as the database names it; `""` for this
    /// machine when the database has not named it (no `[share] dir`, never exported): the commands show
    /// it as this machine's name. `(unknown)` for another machine never named.
    pub(crate) machine: String,
}

/// A session that moved folder (`/cd`) as one part per folder: each part keeps the session id and owns
/// the spans, bands and messages from its move until the next (a span crossing a move is cut there). The
/// first part keeps the session's project; a part with no time and no tokens is left out.
pub(crate) fn split_by_place(session: Session, places: &[Place]) -> Vec<Session> {
    if places.len() < 2 {
        return vec![session];
    }
    let bounds: Vec<(Millis, Millis, &str)> = places
        .iter()
        .enumerate()
        .map(|(i, place)| {
            let from = if i == 0 { Millis::MIN } else { place.at };
            let to = places.get(i + 1).map_or(Millis::MAX, |next| next.at);
            let cwd = if i == 0 { session.project.as_str() } else { place.cwd.as_str() };
            (from, to, cwd)
        })
        .collect();
    // A lone timestamp (a span of no length) stays in its part: it shows the session was there.
    let clip = |spans: &[Span], from: Millis, to: Millis| -> Vec<Span> {
        spans
            .iter()
            .filter(|s| s.end >= from && s.start < to)
            .map(|s| Span { start: s.start.max(from), end: s.end.min(to) })
            .filter(|s| s.end > s.start || (s.start >= from && s.start < to))
            .collect()
    };
    let clip_bands = |spans: &[Span], from: Millis, to: Millis| -> Vec<Span> {
        clip(spans, from, to).into_iter().filter(|s| s.end > s.start).collect()
    };
    let parts: Vec<Session> = bounds
        .iter()
        .map(|&(from, to, cwd)| Session {
            project: cwd.to_string(),
            spans: clip(&session.spans, from, to),
            hands_on: clip_bands(&session.hands_on, from, to),
            supervised: clip_bands(&session.supervised, from, to),
            messages: session.messages.iter().filter(|m| (from..to).contains(&m.at)).copied().collect(),
            ..session.clone()
        })
        .filter(|part| !part.spans.is_empty() || !part.messages.is_empty())
        .collect();
    if parts.is_empty() { vec![session] } else { parts }
}

#[cfg(test)]
impl SessionDigest {
    /// Token totals over distinct messages.
    pub(crate) fn usage_total(&self) -> Usage {
        let mut total = Usage::default();
        for message in &self.messages {
            total.add(&message.usage);
        }
        total
    }
}

/// Sessions seen in one pass, by session id, merged as they arrive.
#[derive(Debug, Default)]
pub(crate) struct SessionDigests {
    pub(crate) by_id: HashMap<String, SessionDigest>,
    /// The title lines read (only with `[capture] keep_titles`), in file order: kept beside the
    /// sessions, never merged into them (a title is not activity).
    pub(crate) titles: Vec<crate::descriptions::TitleLine>,
}

impl SessionDigests {
    /// Merges one file's (normalized) view of a session.
    pub(crate) fn absorb(&mut self, session_id: String, digest: SessionDigest) {
        match self.by_id.get_mut(&session_id) {
            Some(existing) => existing.merge(digest),
            None => {
                self.by_id.insert(session_id, digest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn usage(input: u64, output: u64) -> Usage {
        Usage { input, output, cache_creation: 0, cache_read: 0 }
    }

    fn origin(at: Millis, cwd: &str, from_sidechain: bool) -> Origin {
        Origin { from_sidechain, at, cwd: cwd.into(), git_branch: None }
    }

    #[test]
    fn gaps_shorter_than_threshold_are_active() {
        let spans = active_spans(&[0, 5 * MIN, 14 * MIN], 15 * MIN);
        assert_eq!(spans, vec![Span { start: 0, end: 14 * MIN }]);
        assert_eq!(active_ms(&spans), 14 * MIN);
    }

    #[test]
    fn gap_equal_to_threshold_is_idle() {
        let spans = active_spans(&[0, 15 * MIN], 15 * MIN);
        assert_eq!(spans, vec![Span { start: 0, end: 0 }, Span { start: 15 * MIN, end: 15 * MIN }]);
        assert_eq!(active_ms(&spans), 0);
    }

    #[test]
    fn idle_gap_splits_spans_and_is_cut_out() {
        let spans = active_spans(&[0, 10 * MIN, 60 * MIN, 70 * MIN, 71 * MIN], 15 * MIN);
        assert_eq!(spans, vec![Span { start: 0, end: 10 * MIN }, Span { start: 60 * MIN, end: 71 * MIN }]);
        assert_eq!(active_ms(&spans), 21 * MIN);
    }

    #[test]
    fn no_activity_gives_no_spans() {
        assert!(active_spans(&[], 15 * MIN).is_empty());
    }

    #[test]
    fn overlap_clips_span_to_window() {
        let span = Span { start: 10, end: 50 };
        assert_eq!(span.overlap_ms(0, 30), 20);
        assert_eq!(span.overlap_ms(30, 100), 20);
        assert_eq!(span.overlap_ms(60, 100), 0);
        assert_eq!(span.overlap_ms(0, 100), 40);
    }

    #[test]
    fn repeated_message_keeps_largest_counts_once() {
        let mut digest = SessionDigest {
            messages: vec![
                MessageRecord { key: 7, at: 100, usage: usage(4, 10) },
                MessageRecord { key: 7, at: 101, usage: usage(4, 50) },
                MessageRecord { key: 9, at: 102, usage: usage(1, 1) },
            ],
            ..SessionDigest::default()
        };
        digest.normalize();
        assert_eq!(digest.messages.len(), 2);
        assert_eq!(digest.usage_total(), usage(5, 51));
        assert_eq!(digest.messages[0].at, 100, "the first sighting dates the message");
    }

    #[test]
    fn merging_a_resumed_copy_doubles_nothing() {
        let mut original = SessionDigest {
            origin: Some(origin(0, "/a", false)),
            activity: vec![0, MIN, 2 * MIN],
            messages: vec![MessageRecord { key: 1, at: MIN, usage: usage(3, 3) }],
            models: Vec::new(),
            ..SessionDigest::default()
        };
        let mut resumed = original.clone();
        resumed.activity.push(3 * MIN);
        resumed.messages.push(MessageRecord { key: 2, at: 3 * MIN, usage: usage(1, 1) });
        resumed.origin = Some(origin(0, "/elsewhere", false));
        resumed.normalize();
        original.merge(resumed);
        assert_eq!(original.activity, vec![0, MIN, 2 * MIN, 3 * MIN]);
        assert_eq!(original.usage_total(), usage(4, 4));
        assert_eq!(original.origin.unwrap().cwd, "/a", "a tie keeps the project first seen");
    }

    #[test]
    fn earliest_main_chain_line_names_the_project() {
        let mut digest = SessionDigest::default();
        digest.offer_origin(origin(50, "/late", false));
        digest.offer_origin(origin(10, "/sidechain", true));
        assert_eq!(digest.origin.as_ref().unwrap().cwd, "/late");
        digest.offer_origin(origin(20, "/early", false));
        assert_eq!(digest.origin.as_ref().unwrap().cwd, "/early");
    }

    #[test]
    fn bounds_cover_activity_and_messages() {
        let digest = SessionDigest {
            origin: None,
            activity: vec![100, 200],
            messages: vec![MessageRecord { key: 1, at: 300, usage: usage(1, 1) }],
            models: Vec::new(),
            ..SessionDigest::default()
        };
        assert_eq!(digest.bounds(), Some((100, 300)));
        assert_eq!(SessionDigest::default().bounds(), None);
    }

    /// Whether a session's who-was-there is known does not depend on the order its views merge in (an
    /// imported file and a local transcript arrive in either order), and a view of tokens alone leaves it
    /// as the views with activity say.
    #[test]
    fn who_unknown_merges_the_same_in_either_order() {
        let old = SessionDigest { activity: vec![10, 20], who_unknown: true, ..SessionDigest::default() };
        let tokens_only = SessionDigest {
            messages: vec![MessageRecord { key: 1, at: 30, usage: usage(5, 6) }],
            ..SessionDigest::default()
        };
        let read_now = SessionDigest { activity: vec![40], person: vec![40], ..SessionDigest::default() };
        let merged = |a: &SessionDigest, b: &SessionDigest| {
            let mut merged = a.clone();
            merged.merge(b.clone());
            merged.who_unknown
        };
        for (a, b, unknown) in
            [(&old, &tokens_only, true), (&old, &read_now, false), (&tokens_only, &read_now, false)]
        {
            assert_eq!((merged(a, b), merged(b, a)), (unknown, unknown));
        }
        assert!(!merged(&tokens_only, &tokens_only), "no activity anywhere: nothing unknown to say");
    }
}
