//! The sessions planner (`mode = "sessions"`, seed 003 §2 `push`): every closed segment of the timeline
//! (or every session, with `granularity = "session"`) becomes an entry at the time it happened, keyed
//! `seg:<local date>:<start>`. The ledger is the seed's push log: an entry already posted is kept, one
//! that changed since (the work went on, a re-ingest found more, rules moved its project or tags) is
//! updated in place, one whose time went to a neighbour is deleted; `--force` re-sends every entry as an
//! update. Pure: sessions, rules and the ledger in, batches of keyed steps out.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;

use super::daily::{classified, entry_tags};
use super::steps::{Action, Batch, DayStatus, EntryMode, EntryTemplate, Granularity, Step, resume};
use crate::allocate::{AllocationRules, PlannedEntry};
use crate::classify::{Classified, Classifier, ProjectKey, Rules};
use crate::descriptions::{Fill, WorkDone, cut, render, uses};
use crate::folders::FolderTargets;
use crate::ledger::{EntryState, KeyedEntry, Ledger, fingerprint};
use crate::sessions::{Millis, Session};
use crate::timeline::{TimelineSettings, timeline};
use crate::workday;

/// The prefix of every sessions-mode key.
pub(crate) const KEY_PREFIX: &str = "seg:";

/// Everything the plan depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionsInput<'a> {
    /// Work and recorded entries overlapping `[from, to)` are planned (the range grows to take in whole
    /// entries that cross its ends); recorded ones that no work matches any more are deleted.
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
    /// Nothing starting before this is planned, however the range grows (`start_date`, or the day after
    /// the last day another mode synced).
    pub(crate) earliest: DateTime<Utc>,
    /// Sessions overlapping the range, in any order.
    pub(crate) sessions: &'a [Session],
    /// The destination's mapping, Other project and time zone.
    pub(crate) rules: &'a AllocationRules,
    pub(crate) template: &'a EntryTemplate,
    pub(crate) tag_rules: &'a Rules,
    pub(crate) session_tags: &'a BTreeMap<String, Vec<String>>,
    /// Where folders with a symlink in them lead: rules and mappings match there too.
    pub(crate) folders: &'a FolderTargets,
    /// The commits and titles `{commits}` and `{title}` are filled with.
    pub(crate) done: &'a WorkDone,
    pub(crate) granularity: Granularity,
    /// The minimum entry, the idle threshold and now (open work is not posted yet).
    pub(crate) timeline: TimelineSettings,
    pub(crate) ledger: &'a Ledger,
    /// Re-send every recorded entry as an update.
    pub(crate) force: bool,
    /// Live mode under `watch`: the latest open stretch gets a running entry (started, or updated when
    /// its project, tags or description change), and a running entry whose stretch another project's
    /// work has followed is stopped at the switch (an update with its end).
    pub(crate) live: bool,
    /// Live mode: how long another project's newest stretch must hold the work before the running entry
    /// switches to it (hysteresis: a glance never produces a request). The quota may lengthen it; it
    /// only ever delays the running entry's switch, never reshapes entries already posted.
    pub(crate) switch_min_ms: i64,
    /// No live timer owns this destination's running entries any more (its mode is not `live`): each is
    /// stopped at its stretch's last activity so far.
    pub(crate) stop_running: bool,
}

/// The plan: batches by local day, and how many pieces of work are still open (posted by a later run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionsPlan {
    pub(crate) batches: Vec<Batch>,
    pub(crate) open: usize,
}

/// One entry's worth of work, before it meets the ledger.
#[derive(Debug, Clone)]
struct Piece<'a> {
    /// The key it gets when nothing recorded matches it.
    natural_key: String,
    start: Millis,
    end: Millis,
    /// Active seconds (the length, except for a whole session).
    seconds: i64,
    project: &'a ProjectKey,
    tags: &'a [String],
    billable: Option<bool>,
    lead: &'a Session,
    /// When the work ran, `[first, last)`: the piece itself, except for a whole session (its entry
    /// lasts its active time; the work ran from its first to its last activity). Its commits are those
    /// made then.
    ran: (Millis, Millis),
    open: bool,
}

/// Plans the range.
pub(crate) fn plan(input: &SessionsInput<'_>) -> SessionsPlan {
    let (projects, billable) = Classifier::new(input.rules.mapping.keys()).classify_all_with(
        input.tag_rules,
        input.sessions,
        input.folders,
    );
    let sessions = classified(input.sessions, &projects, &billable, input.session_tags);
    let tz = input.rules.tz;
    let now = input.timeline.now;
    let mut all_pieces = match input.granularity {
        Granularity::Segment => segment_pieces(&sessions, input.timeline, tz),
        Granularity::Session => session_pieces(&sessions, input.timeline, tz),
    };
    if input.live {
        // A prompt newer than all open work is where the work went (not the older stretch).
        let newest_open = all_pieces.iter().filter(|p| p.open).map(|p| p.end).max();
        all_pieces.extend(
            first_prompt_piece(&sessions, input.timeline, tz)
                .filter(|p| newest_open.is_none_or(|end| p.start > end)),
        );
    }
    let all_rows: Vec<&KeyedEntry> = input
        .ledger
        .entries
        .range(KEY_PREFIX.to_string()..)
        .take_while(|(key, _)| key.starts_with(KEY_PREFIX))
        .map(|(_, row)| row)
        .collect();
    let spans: Vec<(Millis, Millis)> = all_pieces
        .iter()
        .map(|p| (p.start, p.end))
        .chain(all_rows.iter().map(|row| row_span(row, now)))
        .collect();
    let earliest = input.earliest.timestamp_millis();
    let (lo, hi) =
        whole_range((input.from.timestamp_millis(), input.to.timestamp_millis()), &spans, earliest);
    let inside = |(start, end): (Millis, Millis)| start >= earliest && overlaps((start, end), (lo, hi));
    let pieces: Vec<Piece<'_>> = all_pieces.into_iter().filter(|p| inside((p.start, p.end))).collect();
    let recorded: Vec<&KeyedEntry> = all_rows.into_iter().filter(|row| inside(row_span(row, now))).collect();
    let matched = match_recorded(&pieces, &recorded, now);
    let mut steps: Vec<Step> = Vec::new();
    let mut open = 0;
    // The one stretch a live timer follows: the open one that ends last.
    let latest_open = pieces
        .iter()
        .enumerate()
        .filter(|(_, p)| p.open)
        .max_by_key(|(_, p)| (p.end, p.start))
        .map(|(i, _)| i);
    let held_from =
        input.live.then(|| held_switch(&pieces, &matched, &recorded, latest_open, input)).flatten();
    for (index, (piece, row)) in pieces.iter().zip(&matched).enumerate() {
        let row = row.map(|r| recorded[r]);
        // A running entry, or one whose last request (a stop at the switch) is in doubt: its step is
        // resumed now, not when its stretch closes.
        let running = row.is_some_and(|r| r.state == EntryState::Running || r.state.is_unsettled());
        if held_from.is_some_and(|from| index >= from) {
            // The switch waits: the running entry runs on over the newer work until it holds.
            open += 1;
        } else if !piece.open {
            steps.push(piece_step(input, &sessions, piece, row, false));
        } else if input.live && Some(index) == latest_open {
            steps.push(piece_step(input, &sessions, piece, row, true));
        } else if running && (input.live || input.stop_running) {
            // Work moved on to another project, or no live timer owns this one any more: it stops where
            // its stretch ends so far.
            steps.push(piece_step(input, &sessions, piece, row, false));
        } else {
            open += 1;
        }
    }
    // A recorded entry no piece claimed stands for no work any more.
    let mut claimed = vec![false; recorded.len()];
    for &index in matched.iter().flatten() {
        claimed[index] = true;
    }
    // Every unclaimed row gets a step, so none is left in doubt by a later plan: one the service holds is
    // deleted; a create in doubt is looked for as it was sent and deleted if found; a refused create or
    // a deletion by the user is forgotten.
    for (row, _) in recorded.iter().zip(claimed).filter(|(_, claimed)| !claimed) {
        // A running timer only its live planner may delete (a plan without the live timer's first-prompt
        // stretch would take it for vanished work); `status` reports one nothing owns.
        if row.state == EntryState::Running && !input.live {
            continue;
        }
        steps.push(delete_step(row));
    }
    SessionsPlan { batches: batches(steps), open }
}

/// Live mode: where a switch of the running entry is held back (the index of its piece; it and every
/// later piece wait). A switch is held while the newest open stretch, of another project, is shorter
/// than the switch minimum: the running entry keeps running, nothing is stopped, started or posted
/// after it, so a glance costs no request and a scarce quota delays the switch instead of rewriting
/// what was posted.
fn held_switch(
    pieces: &[Piece<'_>],
    matched: &[Option<usize>],
    recorded: &[&KeyedEntry],
    latest_open: Option<usize>,
    input: &SessionsInput<'_>,
) -> Option<usize> {
    let newest = latest_open?;
    let running =
        matched.iter().position(|row| row.is_some_and(|r| recorded[r].state == EntryState::Running))?;
    let piece = &pieces[newest];
    let switching = running < newest && pieces[running].open;
    (switching && piece.end - piece.start < input.switch_min_ms).then_some(running)
}

/// Live mode: a new session's first prompt (or the first line after an idle gap) is one line, a
/// zero-length span that the timeline holds no segment for; when it is newer than all open work, it
/// opens a stretch of its own, so the timer starts (or the switch is considered, with its hysteresis) at
/// the prompt (hooks fire there) rather than at the second line.
fn first_prompt_piece<'a>(
    sessions: &[Classified<'a>],
    settings: TimelineSettings,
    tz: Tz,
) -> Option<Piece<'a>> {
    let (classified, at) = sessions
        .iter()
        .filter_map(|c| {
            let last = c.session.spans.iter().max_by_key(|s| s.end)?;
            (last.end == last.start && settings.now - last.start < settings.idle_ms)
                .then_some((c, last.start))
        })
        .max_by_key(|(c, at)| (*at, std::cmp::Reverse(c.session.session_id.as_str())))?;
    let start = instant(at);
    Some(Piece {
        natural_key: format!(
            "{KEY_PREFIX}{}:{}",
            workday::local_date(start, tz),
            start.to_rfc3339_opts(SecondsFormat::Millis, true)
        ),
        start: at,
        end: at,
        seconds: 0,
        project: classified.project,
        tags: classified.tags,
        billable: classified.billable,
        lead: classified.session,
        ran: (at, at),
        open: true,
    })
}

fn segment_pieces<'a>(sessions: &[Classified<'a>], settings: TimelineSettings, tz: Tz) -> Vec<Piece<'a>> {
    timeline(sessions, settings)
        .into_iter()
        .map(|segment| {
            let start = instant(segment.start);
            Piece {
                natural_key: format!(
                    "{KEY_PREFIX}{}:{}",
                    workday::local_date(start, tz),
                    start.to_rfc3339_opts(SecondsFormat::Millis, true)
                ),
                start: segment.start,
                end: segment.end,
                seconds: segment.duration_ms() / 1000,
                project: segment.project,
                tags: segment.tags,
                billable: segment.billable,
                lead: segment.lead,
                ran: (segment.start, segment.end),
                open: segment.open,
            }
        })
        .collect()
}

/// One piece per session with active time: it starts at the first activity and lasts the active time,
/// so its stop minus its start is its duration (as Toggl requires); sessions in parallel overlap.
fn session_pieces<'a>(sessions: &[Classified<'a>], settings: TimelineSettings, tz: Tz) -> Vec<Piece<'a>> {
    let mut pieces: Vec<Piece<'a>> = sessions
        .iter()
        .filter_map(|classified| {
            let session = classified.session;
            let active: i64 = session.spans.iter().map(|s| s.end - s.start).sum();
            let first = session.spans.iter().filter(|s| s.end > s.start).map(|s| s.start).min()?;
            let last = session.spans.iter().map(|s| s.end).max()?;
            let start = instant(first);
            Some(Piece {
                natural_key: format!(
                    "{KEY_PREFIX}{}:session:{}",
                    workday::local_date(start, tz),
                    session.session_id
                ),
                start: first,
                end: first + active,
                seconds: active / 1000,
                project: classified.project,
                tags: classified.tags,
                billable: classified.billable,
                lead: session,
                ran: (first, last),
                open: settings.now - last < settings.idle_ms,
            })
        })
        .collect();
    pieces.sort_by(|a, b| (a.start, &a.natural_key).cmp(&(b.start, &b.natural_key)));
    pieces
}

/// For each piece, the recorded row it continues, if any: the row of its own key first; then, for a
/// piece whose start moved (more work found, a neighbour's time absorbed), the unclaimed row it overlaps
/// most. A row is claimed once.
/// A recorded entry's span; a running one reaches `now`.
fn row_span(row: &KeyedEntry, now: Millis) -> (Millis, Millis) {
    let start = row.start.timestamp_millis();
    (start, row.end.map_or(now.max(start), |end| end.timestamp_millis()))
}

/// True when two spans share a moment (an empty span counts at its start).
fn overlaps((start, end): (Millis, Millis), (from, to): (Millis, Millis)) -> bool {
    start < to && end.max(start + 1) > from
}

/// The range grown until no piece of work or recorded entry crosses its ends (an entry half in the range
/// is planned whole, so it is neither lost nor doubled), never before `earliest`.
fn whole_range(range: (Millis, Millis), spans: &[(Millis, Millis)], earliest: Millis) -> (Millis, Millis) {
    let mut range = range;
    loop {
        let mut grown = range;
        for &(start, end) in spans.iter().filter(|span| overlaps(**span, range)) {
            grown = (grown.0.min(start).max(earliest), grown.1.max(end));
        }
        if grown == range {
            return range;
        }
        range = grown;
    }
}

fn match_recorded(pieces: &[Piece<'_>], recorded: &[&KeyedEntry], now: Millis) -> Vec<Option<usize>> {
    let by_key: HashMap<&str, usize> =
        recorded.iter().enumerate().map(|(index, row)| (row.key.as_str(), index)).collect();
    let mut claimed = vec![false; recorded.len()];
    let mut matched: Vec<Option<usize>> = pieces
        .iter()
        .map(|piece| {
            let index = *by_key.get(piece.natural_key.as_str())?;
            claimed[index] = true;
            Some(index)
        })
        .collect();
    for (piece, slot) in pieces.iter().zip(&mut matched).filter(|(_, slot)| slot.is_none()) {
        let overlap = |row: &KeyedEntry| {
            let (start, end) = row_span(row, now);
            piece.end.min(end) - piece.start.max(start)
        };
        let best = (0..recorded.len())
            .filter(|&index| !claimed[index] && overlap(recorded[index]) > 0)
            .max_by_key(|&index| (overlap(recorded[index]), std::cmp::Reverse(index)));
        if let Some(index) = best {
            claimed[index] = true;
            *slot = Some(index);
        }
    }
    matched
}

/// The step for one piece; `running`: it is the live timer's (no end sent: it runs on).
fn piece_step(
    input: &SessionsInput<'_>,
    sessions: &[Classified<'_>],
    piece: &Piece<'_>,
    row: Option<&KeyedEntry>,
    running: bool,
) -> Step {
    let (project_id, mapped_path) = input.rules.target(piece.project);
    let entry = PlannedEntry {
        project_id: project_id.clone(),
        mapped_path,
        start: instant(piece.start),
        end: instant(piece.end),
        seconds: piece.seconds,
        share_ppm: 0,
        tags: piece.tags.to_vec(),
        billable: piece.billable,
    };
    let draft = crate::timesheet::EntryDraft {
        start: entry.start,
        end: (!running).then_some(entry.end),
        project_id,
        description: cut(&describe(input, sessions, piece), input.template.limit),
        tags: entry_tags(&input.template.tags, piece.tags),
        billable: piece.billable.or(input.template.billable),
    }
    .in_whole_seconds();
    // Listings, CSV and summaries show what is posted: the whole seconds of the draft.
    let end = crate::timesheet::whole_second(entry.end);
    let entry = PlannedEntry { start: draft.start, end, seconds: (end - draft.start).num_seconds(), ..entry };
    let action = match row {
        None if running => Action::Start,
        None => Action::Create,
        Some(row) if row.state.is_unsettled() => resume(row),
        // The user deleted it in the service: their deletion wins, except with `--force`.
        Some(row) if row.state == EntryState::DeletedByUser && !input.force => Action::Leave,
        Some(row) if row.state == EntryState::DeletedByUser && running => Action::Start,
        Some(row) if row.state == EntryState::DeletedByUser => Action::Create,
        // Refused last time: sent again (an update when the service holds an older version).
        Some(row) if row.state == EntryState::Refused => match &row.remote_id {
            Some(remote_id) => Action::Update { remote_id: remote_id.clone() },
            None if running => Action::Start,
            None => Action::Create,
        },
        Some(row) => match &row.remote_id {
            Some(remote_id) if input.force || row.fingerprint != fingerprint(&draft) => {
                Action::Update { remote_id: remote_id.clone() }
            }
            Some(remote_id) => Action::Keep { remote_id: remote_id.clone() },
            None => Action::Adopt { look_for: row.start },
        },
    };
    let key = row.map_or_else(|| piece.natural_key.clone(), |row| row.key.clone());
    Step::new(key, action, entry, draft, row.cloned())
}

/// A recorded entry no work stands for any more (its time went to a neighbour).
fn delete_step(row: &KeyedEntry) -> Step {
    let end = row.end.unwrap_or(row.start);
    let entry = PlannedEntry {
        // What the service holds it under (the label of a delete), when the row knows.
        project_id: row.sent.as_ref().and_then(|sent| sent.project_id.clone()),
        mapped_path: None,
        start: row.start,
        end,
        seconds: (end - row.start).num_seconds(),
        share_ppm: 0,
        tags: Vec::new(),
        billable: None,
    };
    let draft = crate::timesheet::EntryDraft {
        start: row.start,
        end: Some(end),
        project_id: None,
        description: String::new(),
        tags: Vec::new(),
        billable: None,
    };
    let action = match (&row.remote_id, row.state) {
        (_, EntryState::DeletedByUser) => Action::Withdraw { look_for: None },
        (Some(remote_id), _) => Action::Delete { remote_id: remote_id.clone() },
        (None, EntryState::Refused) => Action::Withdraw { look_for: None },
        (None, _) => Action::Withdraw { look_for: Some(row.start) },
    };
    Step::new(row.key.clone(), action, entry, draft, Some(row.clone()))
}

/// Steps grouped by the local day their key names, in order of start; a day with nothing to send is
/// `Synced`.
fn batches(steps: Vec<Step>) -> Vec<Batch> {
    let mut by_day: BTreeMap<NaiveDate, Vec<Step>> = BTreeMap::new();
    for step in steps {
        by_day
            .entry(key_date(&step.key).unwrap_or_else(|| step.draft.start.date_naive()))
            .or_default()
            .push(step);
    }
    by_day
        .into_iter()
        .map(|(date, mut steps)| {
            // Stops of running entries go first: a scarce quota spends its last requests on them.
            let not_a_stop = |s: &Step| {
                !(s.previous.as_ref().is_some_and(|p| p.state == EntryState::Running)
                    && s.draft.end.is_some())
            };
            steps.sort_by(|a, b| {
                (not_a_stop(a), a.draft.start, &a.key).cmp(&(not_a_stop(b), b.draft.start, &b.key))
            });
            let status = if steps.iter().any(|s| s.action.is_pending()) {
                DayStatus::Planned
            } else {
                DayStatus::Synced
            };
            Batch { date, status, steps, mode: EntryMode::Sessions }
        })
        .collect()
}

/// The local date a `seg:` key names.
fn key_date(key: &str) -> Option<NaiveDate> {
    key.strip_prefix(KEY_PREFIX)?.get(..10)?.parse().ok()
}

fn instant(at: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at).unwrap_or_default()
}

/// A piece's description from the destination's template: `{project}` is the project's last path
/// component (or the rule's project key), `{path}` the lead session's folder, `{branch}` its git branch,
/// `{session}` the first 8 characters of its id; `{commits}` the subjects of the commits made while the
/// work ran in the folders of the sessions the entry stands for, `{title}` their titles. Commits and
/// titles are looked up only when the template asks for them.
fn describe(input: &SessionsInput<'_>, sessions: &[Classified<'_>], piece: &Piece<'_>) -> String {
    let template = &input.template.description;
    if !template.contains('{') {
        return template.clone();
    }
    let lead = piece.lead;
    let mut fill = Fill {
        project: short_name(piece.project),
        path: &lead.project,
        branch: lead.git_branch.as_deref().unwrap_or(""),
        session: short_id(&lead.session_id),
        ..Fill::default()
    };
    let (with_commits, with_title) = (uses(template, "commits"), uses(template, "title"));
    if with_commits || with_title {
        let members = members(sessions, piece);
        if with_commits {
            fill.commits = input.done.commits_in(members.iter().map(|s| s.project.as_str()), piece.ran);
        }
        if with_title {
            fill.title = input.done.titles_of(members.iter().map(|s| s.session_id.as_str()));
        }
    }
    render(template, &fill)
}

/// The sessions a piece stands for: its owner's (project and tag set) with activity while it ran, by
/// first activity then id; the lead first when nothing else is found (a first prompt's lone line).
fn members<'a>(sessions: &[Classified<'a>], piece: &Piece<'a>) -> Vec<&'a Session> {
    let (from, to) = piece.ran;
    let mut found: Vec<(Millis, &'a Session)> = sessions
        .iter()
        .filter(|c| c.project == piece.project && c.tags == piece.tags)
        .filter_map(|c| {
            let first = c
                .session
                .spans
                .iter()
                .filter(|s| s.start < to.max(from + 1) && s.end.max(s.start + 1) > from)
                .map(|s| s.start.max(from))
                .min()?;
            Some((first, c.session))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1.session_id).cmp(&(b.0, &b.1.session_id)));
    found.dedup_by(|later, kept| std::ptr::eq(later.1, kept.1));
    let mut members: Vec<&'a Session> = found.into_iter().map(|(_, session)| session).collect();
    if members.is_empty() {
        members.push(piece.lead);
    }
    members
}

/// A project as `{project}` names it: the last component of its path (or the rule's project key).
pub(crate) fn short_name(project: &ProjectKey) -> &str {
    last_component(project.name())
}

/// The last component of a path (a key without separators is itself).
pub(crate) fn last_component(path: &str) -> &str {
    let name = path.trim_end_matches(['/', '\\']);
    name.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(name)
}

/// A session id as `{session}` names it: its first 8 characters.
pub(crate) fn short_id(session_id: &str) -> &str {
    session_id.get(..8).unwrap_or(session_id)
}

/// The first local day a sessions (or live) destination plans when no range is given: the one rule
/// `push`, `watch`, `sync`, `status` and the dashboard share. It is the day of the latest timeline entry
/// recorded (that whole day, so its changes are seen), or an earlier day holding a row that is not
/// settled (a create in doubt, a refused entry, a running timer), so a default run always revisits
/// those; with nothing recorded, Monday of this week. Never before `start_date`; never after today.
pub(crate) fn default_first_day(
    ledger: &Ledger,
    tz: Tz,
    today: NaiveDate,
    start_date: Option<NaiveDate>,
) -> NaiveDate {
    let rows =
        || ledger.entries.range(KEY_PREFIX.to_string()..).take_while(|(key, _)| key.starts_with(KEY_PREFIX));
    let latest = rows().map(|(_, row)| row.start).max();
    let unsettled = rows()
        .filter(|(_, row)| {
            row.state.is_unsettled() || matches!(row.state, EntryState::Refused | EntryState::Running)
        })
        .map(|(_, row)| row.start)
        .min();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let first = latest
        .into_iter()
        .chain(unsettled)
        .map(|start| workday::local_date(start, tz))
        .min()
        .unwrap_or(monday)
        .min(today);
    // A day held back for approval (or approved) and not yet posted stays in range.
    let first = ledger.edits.earliest_unposted(&ledger.synced_days).map_or(first, |held| first.min(held));
    start_date.map_or(first, |start| first.max(start))
}

/// The last day `mode` holds anything of: days it synced, and days it began (an entry recorded or, for
/// the ratio split, a plan fixed) even if a stop left them unfinished. The other mode starts after it.
pub(crate) fn last_day_in(ledger: &Ledger, mode: EntryMode) -> Option<NaiveDate> {
    let sessions = mode != EntryMode::Workday;
    let synced = ledger.synced_days.iter().filter(|date| ledger.sessions_days.contains(date) == sessions);
    let prefix = if sessions { KEY_PREFIX } else { crate::ledger::DAY_KEY_PREFIX };
    let begun = ledger
        .entries
        .range(prefix.to_string()..)
        .take_while(|(key, _)| key.starts_with(prefix))
        .filter_map(|(key, _)| key.get(prefix.len()..prefix.len() + 10)?.parse::<NaiveDate>().ok());
    let fixed = ledger.fixed_plans.keys().filter(|_| !sessions);
    synced.copied().chain(begun).chain(fixed.copied()).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocate::ProjectMapping;
    use crate::descriptions::Commit;
    use crate::ledger::{EntryState, Operation};
    use crate::sessions::Span;
    use chrono::NaiveTime;

    const MIN: i64 = 60_000;
    /// 2026-11-02T00:00:00Z in milliseconds.
    const MONDAY: i64 = 1_793_577_600_000;

    fn at(minute: i64) -> DateTime<Utc> {
        instant(MONDAY + minute * MIN)
    }

    /// A session in `cwd` active over `[from, to)` minutes after Monday 00:00 UTC.
    fn session(id: &str, cwd: &str, from: i64, to: i64) -> Session {
        Session {
            session_id: id.into(),
            project: cwd.into(),
            git_branch: Some("main".into()),
            spans: vec![Span { start: MONDAY + from * MIN, end: MONDAY + to * MIN }],
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
            mapping: ProjectMapping::new([("/w/a".into(), "pa".into()), ("/w/b".into(), "pb".into())]),
            other_project_id: Some("other".into()),
        }
    }

    struct Fixture {
        sessions: Vec<Session>,
        rules: AllocationRules,
        template: EntryTemplate,
        tag_rules: Rules,
        tags: BTreeMap<String, Vec<String>>,
        done: WorkDone,
        ledger: Ledger,
    }

    impl Fixture {
        fn new(sessions: Vec<Session>) -> Fixture {
            Fixture {
                sessions,
                rules: rules(),
                template: EntryTemplate {
                    description: "{project} ({branch})".into(),
                    ..EntryTemplate::default()
                },
                tag_rules: Rules::default(),
                tags: BTreeMap::new(),
                done: WorkDone::default(),
                ledger: Ledger::default(),
            }
        }

        fn plan(&self, granularity: Granularity, force: bool) -> SessionsPlan {
            self.plan_from(0, granularity, force, false)
        }

        fn plan_from(&self, minute: i64, granularity: Granularity, force: bool, live: bool) -> SessionsPlan {
            plan(&SessionsInput {
                from: at(minute),
                to: at(24 * 60),
                earliest: at(-24 * 60),
                sessions: &self.sessions,
                rules: &self.rules,
                template: &self.template,
                tag_rules: &self.tag_rules,
                session_tags: &self.tags,
                folders: FolderTargets::none(),
                done: &self.done,
                granularity,
                timeline: TimelineSettings {
                    min_entry_ms: MIN,
                    idle_ms: 15 * MIN,
                    now: MONDAY + 20 * 60 * MIN,
                },
                ledger: &self.ledger,
                force,
                live,
                switch_min_ms: MIN,
                stop_running: !live,
            })
        }

        /// Records every step of a plan as the executor would after success.
        fn record(&mut self, plan: &SessionsPlan) {
            for step in plan.batches.iter().flat_map(|b| &b.steps) {
                if matches!(step.action, Action::Delete { .. }) {
                    self.ledger.entries.remove(&step.key);
                    continue;
                }
                let remote_id = match &step.action {
                    Action::Keep { remote_id } | Action::Update { remote_id } => remote_id.clone(),
                    _ => format!("r-{}", step.key),
                };
                self.ledger.entries.insert(
                    step.key.clone(),
                    KeyedEntry {
                        key: step.key.clone(),
                        remote_id: Some(remote_id),
                        start: step.draft.start,
                        end: step.draft.end,
                        fingerprint: fingerprint(&step.draft),
                        state: if step.draft.end.is_none() {
                            EntryState::Running
                        } else {
                            EntryState::Stored
                        },
                        operation: Operation::Create,
                        adopted: false,
                        sent: None,
                        reason: None,
                    },
                );
            }
        }
    }

    /// (key, action name, project id, start minute, end minute, description) of every step.
    fn shape(plan: &SessionsPlan) -> Vec<(String, &'static str, String, i64, i64, String)> {
        plan.batches
            .iter()
            .flat_map(|b| &b.steps)
            .map(|s| {
                let action = match s.action {
                    Action::Keep { .. } => "keep",
                    Action::Create => "create",
                    Action::Adopt { .. } => "adopt",
                    Action::Update { .. } => "update",
                    Action::Delete { .. } => "delete",
                    Action::Withdraw { .. } => "withdraw",
                    Action::Leave => "leave",
                    Action::Start | Action::Stop { .. } => "timer",
                };
                let minute = |t: DateTime<Utc>| (t.timestamp_millis() - MONDAY) / MIN;
                (
                    s.key.clone(),
                    action,
                    s.draft.project_id.clone().unwrap_or_default(),
                    minute(s.draft.start),
                    s.draft.end.map_or(-1, minute),
                    s.draft.description.clone(),
                )
            })
            .collect()
    }

    fn row(
        key: &str,
        action: &'static str,
        project: &str,
        span: (i64, i64),
        description: &str,
    ) -> (String, &'static str, String, i64, i64, String) {
        (key.into(), action, project.into(), span.0, span.1, description.into())
    }

    const K540: &str = "seg:2026-11-02:2026-11-02T09:00:00.000Z";
    const K570: &str = "seg:2026-11-02:2026-11-02T09:30:00.000Z";
    const K600: &str = "seg:2026-11-02:2026-11-02T10:00:00.000Z";

    #[test]
    fn a_day_of_two_projects_plans_three_keyed_entries_and_then_keeps_them() {
        let mut fixture =
            Fixture::new(vec![session("a", "/w/a", 540, 660), session("b", "/w/b/x", 570, 600)]);
        let first = fixture.plan(Granularity::Segment, false);
        assert_eq!(
            shape(&first),
            vec![
                row(K540, "create", "pa", (540, 570), "a (main)"),
                row(K570, "create", "pb", (570, 600), "b (main)"),
                row(K600, "create", "pa", (600, 660), "a (main)"),
            ]
        );
        assert_eq!((first.batches[0].status, first.open), (DayStatus::Planned, 0));
        fixture.record(&first);
        let again = fixture.plan(Granularity::Segment, false);
        assert!(shape(&again).iter().all(|s| s.1 == "keep"), "{:?}", shape(&again));
        assert_eq!(again.batches[0].status, DayStatus::Synced);
        let forced = fixture.plan(Granularity::Segment, true);
        assert!(shape(&forced).iter().all(|s| s.1 == "update"), "--force re-sends every entry");
    }

    #[test]
    fn changed_work_updates_the_matching_entry_and_deletes_what_no_work_stands_for() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 540, 660), session("b", "/w/b", 570, 600)]);
        fixture.record(&fixture.plan(Granularity::Segment, false));
        // b turns out to have started at 09:10: the shop entry shrinks, b's entry (keyed 09:30) moves.
        fixture.sessions[1].spans[0].start = MONDAY + 550 * MIN;
        assert_eq!(
            shape(&fixture.plan(Granularity::Segment, false)),
            vec![
                row(K540, "update", "pa", (540, 550), "a (main)"),
                row(K570, "update", "pb", (550, 600), "b (main)"),
                row(K600, "keep", "pa", (600, 660), "a (main)"),
            ]
        );
        // b belonged to a all along (a rule, a remapping): one stretch; the others are deleted.
        fixture.rules.mapping = ProjectMapping::new([("/w".into(), "pw".into())]);
        assert_eq!(
            shape(&fixture.plan(Granularity::Segment, false)),
            vec![
                row(K540, "update", "pw", (540, 660), "w (main)"),
                row(K570, "delete", "", (570, 600), ""),
                row(K600, "delete", "", (600, 660), ""),
            ]
        );
    }

    #[test]
    fn an_entry_crossing_the_start_of_the_range_is_planned_whole_never_lost_or_doubled() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 540, 600), session("b", "/w/b", 600, 660)]);
        fixture.record(&fixture.plan(Granularity::Segment, false));
        // Both turn out to be one project's work; the push starts at 10:00.
        fixture.rules.mapping = ProjectMapping::new([("/w".into(), "pw".into())]);
        assert_eq!(
            shape(&fixture.plan_from(600, Granularity::Segment, false, false)),
            vec![row(K540, "update", "pw", (540, 660), "w (main)"), row(K600, "delete", "", (600, 660), "")]
        );
        fixture.record(&fixture.plan_from(600, Granularity::Segment, false, false));
        // And back: the merged entry (from 09:00) shrinks, the 10:00 one is posted again, from 10:00 too.
        fixture.rules = rules();
        assert_eq!(
            shape(&fixture.plan_from(600, Granularity::Segment, false, false)),
            vec![
                row(K540, "update", "pa", (540, 600), "a (main)"),
                row(K600, "create", "pb", (600, 660), "b (main)")
            ]
        );
    }

    #[test]
    fn a_running_entry_follows_its_stretch_when_the_stretch_start_moves() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 1186, 1199)]);
        fixture.record(&fixture.plan_from(0, Granularity::Segment, false, true));
        let running = &fixture.ledger.entries["seg:2026-11-02:2026-11-02T19:46:00.000Z"];
        assert_eq!((running.state, running.end), (EntryState::Running, None));
        // Earlier activity of the same stretch turns up: it began at 19:40.
        fixture.sessions[0].spans[0].start = MONDAY + 1180 * MIN;
        assert_eq!(
            shape(&fixture.plan_from(0, Granularity::Segment, false, true))
                .into_iter()
                .map(|s| (s.0, s.1, s.3))
                .collect::<Vec<_>>(),
            vec![("seg:2026-11-02:2026-11-02T19:46:00.000Z".to_string(), "update", 1180)],
            "the running entry is updated in place, not deleted and started again"
        );
    }

    #[test]
    fn open_work_is_not_posted_and_keeps_its_recorded_entry() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 540, 600)]);
        fixture.record(&fixture.plan(Granularity::Segment, false));
        // The session went on and is still going at 20:00 (its last line at 19:50).
        fixture.sessions[0].spans[0].end = MONDAY + 1190 * MIN;
        let plan = fixture.plan(Granularity::Segment, false);
        assert_eq!(plan.open, 1);
        assert!(shape(&plan).is_empty(), "nothing sent, nothing deleted: {:?}", shape(&plan));
    }

    #[test]
    fn unsettled_rows_resume_and_a_lost_create_is_looked_for() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 540, 600)]);
        let plan = fixture.plan(Granularity::Segment, false);
        fixture.record(&plan);
        let entry = fixture.ledger.entries.get_mut(K540).unwrap();
        (entry.state, entry.remote_id) = (EntryState::InDoubt, None);
        assert_eq!(shape(&fixture.plan(Granularity::Segment, false))[0].1, "adopt");
        let entry = fixture.ledger.entries.get_mut(K540).unwrap();
        (entry.state, entry.operation, entry.remote_id) =
            (EntryState::Intended, Operation::Update, Some("r".into()));
        assert_eq!(shape(&fixture.plan(Granularity::Segment, false))[0].1, "update");
    }

    #[test]
    fn every_unsettled_or_refused_row_gets_a_step_when_its_work_is_reshaped() {
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 540, 600), session("b", "/w/b", 600, 660)]);
        fixture.record(&fixture.plan(Granularity::Segment, false));
        // The 10:00 create was lost in doubt; then b turns out to be a's work: one stretch 09:00-11:00.
        let entry = fixture.ledger.entries.get_mut(K600).unwrap();
        (entry.state, entry.remote_id) = (EntryState::InDoubt, None);
        fixture.rules.mapping = ProjectMapping::new([("/w".into(), "pw".into())]);
        assert_eq!(
            shape(&fixture.plan(Granularity::Segment, false)),
            vec![
                row(K540, "update", "pw", (540, 660), "w (main)"),
                row(K600, "withdraw", "", (600, 660), "")
            ],
            "the row in doubt is looked for and deleted if stored, never left behind"
        );
        let withdraw = &fixture.plan(Granularity::Segment, false).batches[0].steps[1];
        assert_eq!(withdraw.action, Action::Withdraw { look_for: Some(at(600)) });
        // A refused create is sent again as long as its work stands; forgotten once it does not.
        fixture.rules = rules();
        let entry = fixture.ledger.entries.get_mut(K600).unwrap();
        (entry.state, entry.remote_id) = (EntryState::Refused, None);
        assert_eq!(shape(&fixture.plan(Granularity::Segment, false))[1].1, "create");
        fixture.rules.mapping = ProjectMapping::new([("/w".into(), "pw".into())]);
        let plan = fixture.plan(Granularity::Segment, false);
        assert_eq!(plan.batches[0].steps[1].action, Action::Withdraw { look_for: None });
        // An entry the user deleted in the service stays deleted, except with `--force`.
        fixture.rules = rules();
        let entry = fixture.ledger.entries.get_mut(K600).unwrap();
        (entry.state, entry.remote_id) = (EntryState::DeletedByUser, Some("r".into()));
        assert_eq!(shape(&fixture.plan(Granularity::Segment, false))[1].1, "leave");
        assert_eq!(shape(&fixture.plan(Granularity::Segment, true))[1].1, "create");
    }

    #[test]
    fn only_the_live_planner_deletes_a_running_timer_whose_work_it_cannot_see() {
        // A timer the live planner started at a first prompt (a stretch only it sees) is running.
        let mut fixture = Fixture::new(vec![session("a", "/w/a", 1186, 1199)]);
        fixture.record(&fixture.plan_from(0, Granularity::Segment, false, true));
        fixture.sessions.clear();
        assert!(
            shape(&fixture.plan_from(0, Granularity::Segment, false, false)).is_empty(),
            "push leaves it"
        );
        assert_eq!(shape(&fixture.plan_from(0, Granularity::Segment, false, true))[0].1, "delete");
    }

    #[test]
    fn a_session_entry_lasts_its_active_time_from_its_first_activity() {
        let mut long = session("a", "/w/a", 540, 600);
        long.spans.push(Span { start: MONDAY + 700 * MIN, end: MONDAY + 730 * MIN });
        let fixture = Fixture::new(vec![long, session("b", "/w/b", 550, 560)]);
        assert_eq!(
            shape(&fixture.plan(Granularity::Session, false)),
            vec![
                row("seg:2026-11-02:session:a", "create", "pa", (540, 630), "a (main)"),
                row("seg:2026-11-02:session:b", "create", "pb", (550, 560), "b (main)"),
            ]
        );
    }

    #[test]
    fn descriptions_fill_placeholders_and_leave_no_empty_brackets() {
        let mut fixture = Fixture::new(vec![session("0123456789abcdef", "/w/a/shop", 540, 600)]);
        fixture.template.description = "{project} ({branch}) {path} {session}".into();
        let description = |fixture: &Fixture| shape(&fixture.plan(Granularity::Segment, false))[0].5.clone();
        assert_eq!(description(&fixture), "a (main) /w/a/shop 01234567");
        fixture.sessions[0].git_branch = None;
        fixture.template.description = "{project} ({branch})".into();
        assert_eq!(description(&fixture), "a");
        fixture.template.description = "Development".into();
        assert_eq!(description(&fixture), "Development");
        assert_eq!(short_name(&ProjectKey::Mapped("acme".into())), "acme");
        assert_eq!(short_name(&ProjectKey::Mapped("/home/dev/shop/".into())), "shop");
    }

    fn commit(minute: i64, hash: &str, subject: &str) -> Commit {
        Commit { at: MONDAY + minute * MIN, hash: hash.into(), subject: subject.into() }
    }

    #[test]
    fn commits_are_those_of_the_entrys_sessions_folders_while_it_ran() {
        // Two sessions of project a in two folders; b cuts a's work in two.
        let mut fixture = Fixture::new(vec![
            session("s1", "/w/a", 540, 600),
            session("s2", "/w/a/api", 550, 580),
            session("b", "/w/b", 600, 630),
            session("s3", "/w/a", 630, 660),
        ]);
        fixture.template.description = "{project}: {commits} [{title}]".into();
        fixture.done.commits.insert(
            "/w/a".into(),
            vec![
                commit(530, "c0", "Before the entry"),
                commit(545, "c1", "Add the cart"),
                commit(640, "c4", "Fix totals"),
            ],
        );
        fixture.done.commits.insert("/w/a/api".into(), vec![commit(570, "c2", "Add the cart API")]);
        fixture.done.commits.insert("/w/b".into(), vec![commit(610, "c3", "Tracker work")]);
        fixture.done.titles.insert("s2".into(), "Cart API".into());
        fixture.done.titles.insert("s1".into(), "Cart".into());
        let plan = fixture.plan(Granularity::Segment, false);
        assert_eq!(
            shape(&plan).into_iter().map(|s| s.5).collect::<Vec<_>>(),
            vec![
                "a: Add the cart; Add the cart API [Cart; Cart API]".to_string(),
                "b: Tracker work".to_string(),
                "a: Fix totals".to_string(),
            ]
        );
        // A whole session's entry lasts its active time; its commits are those of its whole span.
        let mut fixture = Fixture::new(vec![session("s1", "/w/a", 540, 560)]);
        fixture.sessions[0].spans.push(Span { start: MONDAY + 700 * MIN, end: MONDAY + 710 * MIN });
        fixture.template.description = "{commits}".into();
        fixture.done.commits.insert("/w/a".into(), vec![commit(705, "c9", "Late commit")]);
        let plan = fixture.plan(Granularity::Session, false);
        assert_eq!(
            shape(&plan),
            vec![row("seg:2026-11-02:session:s1", "create", "pa", (540, 570), "Late commit")]
        );
    }

    #[test]
    fn a_long_description_is_cut_to_the_services_limit() {
        let mut fixture = Fixture::new(vec![session("s1", "/w/a", 540, 600)]);
        fixture.template = EntryTemplate {
            description: "{commits}".into(),
            limit: crate::descriptions::DescriptionLimit::Utf8Bytes(20),
            ..EntryTemplate::default()
        };
        fixture.done.commits.insert(
            "/w/a".into(),
            vec![
                commit(545, "c1", "Add the cart"),
                commit(546, "c2", "Fix totals"),
                commit(547, "c3", "Rename the checkout step"),
            ],
        );
        assert_eq!(shape(&fixture.plan(Granularity::Segment, false))[0].5, "Add the cart; Fix…");
    }

    #[test]
    fn the_last_day_of_each_mode() {
        let mut ledger = Ledger::default();
        let date = |d: &str| d.parse::<NaiveDate>().unwrap();
        ledger.synced_days.extend([date("2026-11-02"), date("2026-11-03"), date("2026-11-05")]);
        ledger.sessions_days.insert(date("2026-11-03"));
        assert_eq!(last_day_in(&ledger, EntryMode::Workday), Some(date("2026-11-05")));
        assert_eq!(last_day_in(&ledger, EntryMode::Sessions), Some(date("2026-11-03")));
        assert_eq!(last_day_in(&Ledger::default(), EntryMode::Sessions), None);
        // Days begun and not finished (a quota stop) count too.
        let begun = |key: &str| KeyedEntry {
            key: key.into(),
            remote_id: Some("r".into()),
            start: at(0),
            end: Some(at(1)),
            fingerprint: String::new(),
            state: EntryState::Stored,
            operation: Operation::Create,
            adopted: false,
            sent: None,
            reason: None,
        };
        ledger.entries.insert("day:2026-11-06:p".into(), begun("day:2026-11-06:p"));
        ledger.entries.insert("seg:2026-11-04:x".into(), begun("seg:2026-11-04:x"));
        assert_eq!(last_day_in(&ledger, EntryMode::Workday), Some(date("2026-11-06")));
        assert_eq!(last_day_in(&ledger, EntryMode::Sessions), Some(date("2026-11-04")));
        ledger.fixed_plans.insert(date("2026-11-09"), Vec::new());
        assert_eq!(last_day_in(&ledger, EntryMode::Workday), Some(date("2026-11-09")));
    }
}
