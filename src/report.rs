//! Time and tokens per project, per day, per tag or per machine over a range of local days, as a table
//! or as JSON;
//! each table rounded as a whole so that its figures add up (`notes/09-figures.md`).
//! Pure: it takes stored sessions and a range and returns rows and text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::attention::{self, BandTotals};
use crate::classify::Classified;
use crate::figures;
use crate::sessions::{Millis, Session, Usage};
use crate::workday;

/// The local days a report covers, inclusive, in one time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReportRange {
    pub(crate) since: NaiveDate,
    pub(crate) until: NaiveDate,
    pub(crate) tz: Tz,
}

/// The numbers every row and the total line carry (before rounding).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) active_ms: i64,
    /// Distinct sessions with tracked time here ([`figures::has_tracked_time`]).
    pub(crate) sessions: u64,
    pub(crate) usage: Usage,
    /// `active_ms` split by who was there (their sum is `active_ms`).
    pub(crate) bands: BandTotals,
    /// Of `sessions`, those with no person at all (scheduled tasks, `claude -p`).
    pub(crate) automated: u64,
}

impl Totals {
    /// Every token counter together (the dashboard's one token column).
    pub(crate) fn tokens(&self) -> u64 {
        let usage = self.usage;
        usage
            .input
            .saturating_add(usage.output)
            .saturating_add(usage.cache_creation)
            .saturating_add(usage.cache_read)
    }
}

/// What one session brings to a window: its tracked time, the tokens of its messages there, whether it
/// counts as a session there, and its last sign of life there.
struct Contribution {
    active_ms: i64,
    bands: BandTotals,
    usage: Usage,
    counts: bool,
    last: Millis,
}

/// A session's contribution to `[from, to)`: `None` when it shows no sign of life there.
fn contribution(session: &Session, from: Millis, to: Millis) -> Option<Contribution> {
    let mut usage = Usage::default();
    let mut last: Option<Millis> = None;
    for message in session.messages.iter().filter(|m| (from..to).contains(&m.at)) {
        usage.add(&message.usage);
        last = last.max(Some(message.at));
    }
    for span in session.spans.iter().filter(|s| s.start < to && s.end >= from) {
        last = last.max(Some(span.end.min(to - 1)));
    }
    Some(Contribution {
        active_ms: figures::tracked_ms(session, from, to),
        bands: attention::totals_within(session, from, to),
        usage,
        counts: figures::has_tracked_time(session, from, to),
        last: last?,
    })
}

/// Sums contributions, each session counted once however many pieces of it are added.
#[derive(Default)]
struct Tally<'a> {
    active_ms: i64,
    bands: BandTotals,
    usage: Usage,
    sessions: BTreeSet<&'a str>,
    automated: BTreeSet<&'a str>,
    last: Option<Millis>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, session: &'a Session, contribution: &Contribution) {
        self.active_ms += contribution.active_ms;
        self.bands.add(contribution.bands);
        self.usage.add(&contribution.usage);
        if contribution.counts {
            self.sessions.insert(session.session_id.as_str());
            if session.automated {
                self.automated.insert(session.session_id.as_str());
            }
        }
        self.last = self.last.max(Some(contribution.last));
    }

    fn totals(&self) -> Totals {
        Totals {
            active_ms: self.active_ms,
            sessions: self.sessions.len() as u64,
            usage: self.usage,
            bands: self.bands,
            automated: self.automated.len() as u64,
        }
    }
}

/// A report's rows before rounding, with what rounding needs: the disjoint parts (a project, a day, a
/// set of tags) whose times make up each row and, all together, the total. Rounding the parts once and
/// summing them makes every row's figure and the total's add up ([`Grouped::rounded_bands`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grouped<K> {
    pub(crate) rows: Vec<Row<K>>,
    parts: Vec<Totals>,
    /// The whole range, each session once.
    pub(crate) total: Totals,
}

/// One line of a report: what it is about, its numbers, and the parts it is the sum of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row<K> {
    pub(crate) key: K,
    pub(crate) totals: Totals,
    parts: Vec<usize>,
}

impl<K> Grouped<K> {
    /// Active time in whole minutes, per row and in total, as every table shows it.
    pub(crate) fn active_minutes(&self) -> (Vec<i64>, i64) {
        let (rows, total) = self.rounded_bands(figures::MINUTE_MS);
        (rows.iter().map(|row| row.iter().sum()).collect(), total.iter().sum())
    }

    /// The three attention bands (hands-on, supervised, autonomous) in whole `unit`s, per row and in
    /// total ([`figures::apportion_grid`]): each part's bands add up to its active share (as every
    /// table's active column), each band's parts to that band's exact total rounded, whatever the
    /// grouping, and the three totals to the total active time.
    pub(crate) fn rounded_bands(&self, unit: i64) -> (Vec<[i64; 3]>, [i64; 3]) {
        let active: Vec<i64> = self.parts.iter().map(|part| part.active_ms).collect();
        let shares = figures::apportion(&active, unit);
        let cells: Vec<[i64; 3]> =
            self.parts.iter().map(|p| [p.bands.hands_on, p.bands.supervised, p.bands.autonomous]).collect();
        let parts = figures::apportion_grid(&cells, &shares, unit);
        let add = |mut sum: [i64; 3], cell: &[i64; 3]| {
            sum.iter_mut().zip(cell).for_each(|(s, c)| *s += c);
            sum
        };
        let rows =
            self.rows.iter().map(|row| row.parts.iter().map(|&i| &parts[i]).fold([0; 3], add)).collect();
        let total = parts.iter().fold([0; 3], add);
        (rows, total)
    }

    /// Whether the rows share parts (a session with two tags): their figures then sum to more than the
    /// total.
    fn rows_overlap(&self) -> bool {
        let mut seen = BTreeSet::new();
        self.rows.iter().flat_map(|row| &row.parts).any(|part| !seen.insert(*part))
    }
}

/// A project's line: its path, its name made unique, its last sign of life and every tag of its
/// sessions in the range, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProjectKey {
    pub(crate) project: String,
    pub(crate) name: String,
    pub(crate) last_activity: Option<Millis>,
    pub(crate) tags: Vec<String>,
}

/// The label of the line of sessions without tags.
pub(crate) const UNTAGGED: &str = "(untagged)";

/// A window's total, every session once; `None` when no session shows a sign of life there.
fn window_total(sessions: &[Classified<'_>], (from, to): (Millis, Millis)) -> Option<Totals> {
    let mut tally = Tally::default();
    let mut seen = false;
    for classified in sessions {
        if let Some(contribution) = contribution(classified.session, from, to) {
            tally.add(classified.session, &contribution);
            seen = true;
        }
    }
    seen.then(|| tally.totals())
}

/// The range's total: every session once.
fn range_total(sessions: &[Classified<'_>], window: (Millis, Millis)) -> Totals {
    window_total(sessions, window).unwrap_or_default()
}

/// Rows per local project (as `classify` names it), most active first, with names made unique.
pub(crate) fn by_project(sessions: &[Classified<'_>], range: ReportRange) -> Grouped<ProjectKey> {
    let window = workday::days_window(range.since, range.until, range.tz);
    let mut projects: BTreeMap<&str, (Tally<'_>, BTreeSet<&str>)> = BTreeMap::new();
    for classified in sessions {
        if let Some(contribution) = contribution(classified.session, window.0, window.1) {
            let entry = projects.entry(classified.project.name()).or_default();
            entry.0.add(classified.session, &contribution);
            entry.1.extend(classified.tags.iter().map(String::as_str));
        }
    }
    let names = short_names(projects.keys().copied());
    let mut rows: Vec<(ProjectKey, Totals)> = projects
        .into_iter()
        .map(|(project, (tally, tags))| {
            let key = ProjectKey {
                project: project.to_string(),
                name: names[project].clone(),
                last_activity: tally.last,
                tags: tags.into_iter().map(str::to_string).collect(),
            };
            (key, tally.totals())
        })
        .collect();
    rows.sort_by(|(a, a_totals), (b, b_totals)| {
        (b_totals.active_ms, b_totals.usage.output)
            .cmp(&(a_totals.active_ms, a_totals.usage.output))
            .then_with(|| a.project.cmp(&b.project))
    });
    disjoint(rows, range_total(sessions, window))
}

/// Rows that are their own parts (projects, days).
fn disjoint<K>(rows: Vec<(K, Totals)>, total: Totals) -> Grouped<K> {
    let parts = rows.iter().map(|(_, totals)| *totals).collect();
    let rows =
        rows.into_iter().enumerate().map(|(part, (key, totals))| Row { key, totals, parts: vec![part] });
    Grouped { rows: rows.collect(), parts, total }
}

/// Rows per tag, most active first (ties by name), then the sessions without tags (`None`); a
/// session counts in the line of each of its tags, and once in the total. The parts are the sets of
/// tags sessions carry, so a tag's time is the sum of its sets', rounded once.
pub(crate) fn by_tag(sessions: &[Classified<'_>], range: ReportRange) -> Grouped<Option<String>> {
    let window = workday::days_window(range.since, range.until, range.tz);
    let mut sets: BTreeMap<&[String], Tally<'_>> = BTreeMap::new();
    let mut tags: BTreeMap<Option<&str>, (Tally<'_>, BTreeSet<&[String]>)> = BTreeMap::new();
    for classified in sessions {
        let Some(contribution) = contribution(classified.session, window.0, window.1) else { continue };
        sets.entry(classified.tags).or_default().add(classified.session, &contribution);
        let names: Vec<Option<&str>> = if classified.tags.is_empty() {
            vec![None]
        } else {
            classified.tags.iter().map(|t| Some(t.as_str())).collect()
        };
        for name in names {
            let entry = tags.entry(name).or_default();
            entry.0.add(classified.session, &contribution);
            entry.1.insert(classified.tags);
        }
    }
    let set_index: BTreeMap<&[String], usize> = sets.keys().enumerate().map(|(i, set)| (*set, i)).collect();
    let parts: Vec<Totals> = sets.values().map(Tally::totals).collect();
    let mut rows: Vec<Row<Option<String>>> = tags
        .into_iter()
        .map(|(tag, (tally, sets))| Row {
            key: tag.map(str::to_string),
            totals: tally.totals(),
            parts: sets.iter().map(|set| set_index[set]).collect(),
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.key.is_none(), std::cmp::Reverse(a.totals.active_ms), &a.key).cmp(&(
            b.key.is_none(),
            std::cmp::Reverse(b.totals.active_ms),
            &b.key,
        ))
    });
    Grouped { rows, parts, total: range_total(sessions, window) }
}

/// Rows per local day that saw any activity, oldest first. A session that crosses midnight counts on
/// each day it has tracked time on, and once in the total.
pub(crate) fn by_day(sessions: &[Classified<'_>], range: ReportRange) -> Grouped<NaiveDate> {
    let rows = workday::dates(range.since, range.until)
        .filter_map(|date| Some((date, window_total(sessions, workday::days_window(date, date, range.tz))?)))
        .collect();
    disjoint(rows, range_total(sessions, workday::days_window(range.since, range.until, range.tz)))
}

/// Gives the sessions of this machine that the database has not named (`machine` empty: no `[share]
/// dir`, never exported) this machine's name (`name`), as the outputs that know it show them.
pub(crate) fn name_this_machine(sessions: &mut [Session], name: &str) {
    for session in sessions.iter_mut().filter(|s| s.machine.is_empty()) {
        session.machine = name.to_string();
    }
}

/// Rows per machine (the session's `machine`: a name, never empty once the command has named this
/// machine), most active first (ties by name). Each session runs on one machine, so the rows are
/// disjoint and add up to the total.
pub(crate) fn by_machine(sessions: &[Classified<'_>], range: ReportRange) -> Grouped<String> {
    let window = workday::days_window(range.since, range.until, range.tz);
    let mut machines: BTreeMap<&str, Tally<'_>> = BTreeMap::new();
    for classified in sessions {
        if let Some(contribution) = contribution(classified.session, window.0, window.1) {
            machines
                .entry(classified.session.machine.as_str())
                .or_default()
                .add(classified.session, &contribution);
        }
    }
    let mut rows: Vec<(String, Totals)> =
        machines.into_iter().map(|(machine, tally)| (machine.to_string(), tally.totals())).collect();
    rows.sort_by(|(a, a_totals), (b, b_totals)| {
        b_totals.active_ms.cmp(&a_totals.active_ms).then_with(|| a.cmp(b))
    });
    disjoint(rows, range_total(sessions, window))
}

/// The last path segment of each project, with parent segments added where two would share a name.
pub(crate) fn short_names<'a>(projects: impl Iterator<Item = &'a str>) -> HashMap<&'a str, String> {
    let segments: Vec<(&str, Vec<&str>)> =
        projects.map(|p| (p, p.split(['/', '\\']).filter(|s| !s.is_empty()).rev().collect())).collect();
    let name_with = |parts: &[&str], depth: usize| -> String {
        let mut chosen: Vec<&str> = parts.iter().take(depth).copied().collect();
        chosen.reverse();
        if chosen.is_empty() { "/".to_string() } else { chosen.join("/") }
    };
    let mut names = HashMap::new();
    for (project, parts) in &segments {
        let mut depth = 1;
        while depth < parts.len()
            && segments.iter().any(|(other, other_parts)| {
                other != project && name_with(other_parts, depth) == name_with(parts, depth)
            })
        {
            depth += 1;
        }
        names.insert(*project, name_with(parts, depth));
    }
    names
}

/// `950`, `3.2k`, `1.4M`, `2.0B`: token counts that fit a column.
pub(crate) fn compact(count: u64) -> String {
    const UNITS: [(f64, &str); 3] = [(1e9, "B"), (1e6, "M"), (1e3, "k")];
    #[allow(clippy::cast_precision_loss)] // display only
    let value = count as f64;
    for (scale, suffix) in UNITS {
        if value >= scale * 0.999_95 {
            return format!("{:.1}{suffix}", value / scale);
        }
    }
    count.to_string()
}

/// A last activity in JSON: UTC, to the millisecond when it has one.
fn rfc3339(at: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// How one column's cell reads.
#[derive(Clone, Copy)]
enum Cell {
    /// Active time (`None`) or one attention band (0 hands-on, 1 supervised, 2 autonomous), rounded with
    /// every band of the table ([`Grouped::rounded_bands`]) and shown as `H:MM`.
    Band(Option<usize>),
    /// A count, as is.
    Count(fn(&Totals) -> u64),
    /// A token count, compact.
    Tokens(fn(&Totals) -> u64),
}

/// One column of a report table: its heading and its cell. A new column is one more entry in
/// [`COLUMNS`] (a duration column is rounded like `active`, against its own total).
struct Column {
    heading: &'static str,
    cell: Cell,
}

/// The columns of every report table, after the marker and the label.
const COLUMNS: [Column; 10] = [
    Column { heading: "active", cell: Cell::Band(None) },
    Column { heading: "hands-on", cell: Cell::Band(Some(0)) },
    Column { heading: "supervised", cell: Cell::Band(Some(1)) },
    Column { heading: "autonomous", cell: Cell::Band(Some(2)) },
    Column { heading: "sessions", cell: Cell::Count(|t| t.sessions) },
    Column { heading: "automated", cell: Cell::Count(|t| t.automated) },
    Column { heading: "input", cell: Cell::Tokens(|t| t.usage.input) },
    Column { heading: "output", cell: Cell::Tokens(|t| t.usage.output) },
    Column { heading: "cache write", cell: Cell::Tokens(|t| t.usage.cache_creation) },
    Column { heading: "cache read", cell: Cell::Tokens(|t| t.usage.cache_read) },
];

/// The columns a table shows: all of them, `automated` only when some session in it is.
fn columns<K>(grouped: &Grouped<K>) -> Vec<&'static Column> {
    COLUMNS.iter().filter(|column| column.heading != "automated" || grouped.total.automated > 0).collect()
}

/// The cells of every column for each row and for the total line.
fn cells<K>(grouped: &Grouped<K>) -> (Vec<Vec<String>>, Vec<String>) {
    let mut rows = vec![Vec::new(); grouped.rows.len()];
    let mut total = Vec::new();
    let (band_rows, band_total) = grouped.rounded_bands(figures::MINUTE_MS);
    let band = |bands: &[i64; 3], which: Option<usize>| which.map_or(bands.iter().sum(), |i| bands[i]);
    for column in columns(grouped) {
        match column.cell {
            Cell::Band(which) => {
                for (cells, bands) in rows.iter_mut().zip(&band_rows) {
                    cells.push(figures::duration(band(bands, which)));
                }
                total.push(figures::duration(band(&band_total, which)));
            }
            Cell::Count(field) | Cell::Tokens(field) => {
                let show = |value: u64| match column.cell {
                    Cell::Tokens(_) => compact(value),
                    _ => value.to_string(),
                };
                for (cells, row) in rows.iter_mut().zip(&grouped.rows) {
                    cells.push(show(field(&row.totals)));
                }
                total.push(show(field(&grouped.total)));
            }
        }
    }
    (rows, total)
}

/// The table per project, `*` on the project worked on last.
pub(crate) fn project_table(grouped: &Grouped<ProjectKey>, range: ReportRange) -> String {
    let latest = grouped.rows.iter().filter_map(|r| r.key.last_activity.map(|at| (at, &r.key.project))).max();
    let labels = grouped.rows.iter().map(|row| {
        let marker = if latest.is_some_and(|(_, p)| *p == row.key.project) { "*" } else { "" };
        (marker, row.key.name.clone())
    });
    let mut text = render_table("project", labels, grouped, range);
    if !grouped.rows.is_empty() {
        text.push_str("\n* latest activity\n");
    }
    text
}

/// The table per tag; its total counts each session once.
pub(crate) fn tag_table(grouped: &Grouped<Option<String>>, range: ReportRange) -> String {
    let labels = grouped.rows.iter().map(|row| ("", row.key.clone().unwrap_or_else(|| UNTAGGED.to_string())));
    let mut text = render_table("tag", labels, grouped, range);
    if grouped.rows_overlap() {
        text.push_str(
            "\nA session with several tags counts in the line of each; the total counts it once.\n",
        );
    }
    text
}

/// The table per day; its total counts each session once.
pub(crate) fn day_table(grouped: &Grouped<NaiveDate>, range: ReportRange) -> String {
    let labels = grouped.rows.iter().map(|row| ("", row.key.format("%a %Y-%m-%d").to_string()));
    let mut text = render_table("day", labels, grouped, range);
    if grouped.rows.iter().map(|r| r.totals.sessions).sum::<u64>() != grouped.total.sessions {
        text.push_str("\nA session on several days counts on each of them; the total counts it once.\n");
    }
    text
}

/// The table per machine.
pub(crate) fn machine_table(grouped: &Grouped<String>, range: ReportRange) -> String {
    render_table("machine", grouped.rows.iter().map(|row| ("", row.key.clone())), grouped, range)
}

/// Heading, one line per row (marker, label, the columns) and the total line.
fn render_table<K>(
    label: &str,
    labels: impl Iterator<Item = (&'static str, String)>,
    grouped: &Grouped<K>,
    range: ReportRange,
) -> String {
    let mut text = heading(range);
    if grouped.rows.is_empty() {
        text.push_str(NO_ACTIVITY);
        text.push('\n');
        return text;
    }
    let (row_cells, total_cells) = cells(grouped);
    let mut lines = vec![
        [
            vec![String::new(), label.to_string()],
            columns(grouped).iter().map(|c| c.heading.to_string()).collect(),
        ]
        .concat(),
    ];
    for ((marker, name), cells) in labels.zip(row_cells) {
        lines.push([vec![marker.to_string(), name], cells].concat());
    }
    lines.push([vec![String::new(), "total".to_string()], total_cells].concat());
    text.push_str(&align(&lines));
    text
}

/// The usual line of a table with no row.
const NO_ACTIVITY: &str = "no Claude Code activity in this range";

/// Why a report shows no row, and where the sessions are instead: what an empty table says so that
/// the next command shows something (`notes/12-first-hour.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Nothing {
    /// No session is recorded at all: the folders searched for transcripts (none: the defaults do not
    /// exist).
    Recorded { folders: Vec<String> },
    /// Sessions are recorded, none in the range: the first and last local day of them.
    Here { first: NaiveDate, last: NaiveDate },
    /// `--tag` names a tag no session has: the tags there are, sorted.
    Tagged { tag: String, known: Vec<String> },
    /// Sessions have the tag, none in the range: the first and last local day of them.
    TaggedHere { tag: String, first: NaiveDate, last: NaiveDate },
}

/// The table of a report without rows: the heading, what matched nothing, and where the sessions are
/// with the command that would show them (`by`: the `--by` to keep in it, none for the default).
pub(crate) fn empty_table(range: ReportRange, nothing: &Nothing, by: Option<&str>) -> String {
    let mut text = heading(range);
    let retry = |first: NaiveDate, last: NaiveDate, tag: Option<&str>| {
        let by = by.map(|by| format!(" --by {by}")).unwrap_or_default();
        let tag = tag.map(|tag| format!(" --tag {}", shell_word(tag))).unwrap_or_default();
        format!("try `claude-tracker report --since {first} --until {last}{by}{tag}`")
    };
    let days = |first: NaiveDate, last: NaiveDate| {
        if first == last { format!("are all on {first}") } else { format!("run from {first} to {last}") }
    };
    let lines = match nothing {
        Nothing::Recorded { folders } => {
            let looked_in = if folders.is_empty() {
                "~/.claude/projects and ~/.config/claude/projects (neither exists)".to_string()
            } else {
                folders.join(", ")
            };
            format!(
                "{NO_ACTIVITY}\nno session is recorded yet: transcripts are looked for in {looked_in}; if Claude \
                 Code keeps them elsewhere, set `[capture] projects_dirs` in the config or $CLAUDE_CONFIG_DIR (the \
                 folder that holds `projects`); `claude-tracker status` shows what is found"
            )
        }
        Nothing::Here { first, last } => {
            format!(
                "{NO_ACTIVITY}\nrecorded sessions {}: {}",
                days(*first, *last),
                retry(*first, *last, None)
            )
        }
        Nothing::Tagged { tag, known } if known.is_empty() => format!(
            "no session has tag `{tag}`, nor any tag yet: `[[rules.auto_tag]]` in the config or `claude-tracker \
             tag SESSION TAG` gives them"
        ),
        Nothing::Tagged { tag, known } => {
            let known: Vec<String> = known.iter().map(|t| format!("`{t}`")).collect();
            format!(
                "no session has tag `{tag}`: the tags there are {} (`claude-tracker report --by tag` shows their \
                 time)",
                known.join(", ")
            )
        }
        Nothing::TaggedHere { tag, first, last } => format!(
            "no session in this range has tag `{tag}`\nsessions with tag `{tag}` {}: {}",
            days(*first, *last),
            retry(*first, *last, Some(tag))
        ),
    };
    text.push_str(&lines);
    text.push('\n');
    text
}

/// `word` as one shell word: as it is when nothing in it is special, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain =
        !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/+@=,".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// The line above every table: the range and its time zone.
fn heading(range: ReportRange) -> String {
    if range.since == range.until {
        format!("Claude Code time on {} ({})\n\n", range.since, range.tz.name())
    } else {
        format!("Claude Code time from {} to {} ({})\n\n", range.since, range.until, range.tz.name())
    }
}

/// Plain left/right aligned columns: the first two columns are text, the rest numbers.
fn align(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            let width = widths[column];
            match column {
                0 => line.push_str(&format!("{cell:<width$} ")),
                1 => line.push_str(&format!("{cell:<width$}")),
                _ => line.push_str(&format!("  {cell:>width$}")),
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[derive(Serialize)]
struct JsonNumbers {
    active_seconds: i64,
    hands_on_seconds: i64,
    supervised_seconds: i64,
    autonomous_seconds: i64,
    sessions: u64,
    automated_sessions: u64,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
}

impl JsonNumbers {
    /// The numbers of a row or total, with its bands in whole seconds as rounded with the rest (active
    /// time is their sum).
    fn new(totals: &Totals, [hands_on, supervised, autonomous]: [i64; 3]) -> Self {
        JsonNumbers {
            active_seconds: hands_on + supervised + autonomous,
            hands_on_seconds: hands_on,
            supervised_seconds: supervised,
            autonomous_seconds: autonomous,
            sessions: totals.sessions,
            automated_sessions: totals.automated,
            input_tokens: totals.usage.input,
            output_tokens: totals.usage.output,
            cache_creation_input_tokens: totals.usage.cache_creation,
            cache_read_input_tokens: totals.usage.cache_read,
        }
    }
}

#[derive(Serialize)]
struct JsonProject<'a> {
    project: &'a str,
    name: &'a str,
    #[serde(flatten)]
    numbers: JsonNumbers,
    last_activity: Option<String>,
    tags: &'a [String],
}

#[derive(Serialize)]
struct JsonTag<'a> {
    /// `null` for sessions without tags.
    tag: Option<&'a str>,
    #[serde(flatten)]
    numbers: JsonNumbers,
}

#[derive(Serialize)]
struct JsonDay {
    date: String,
    #[serde(flatten)]
    numbers: JsonNumbers,
}

#[derive(Serialize)]
struct JsonMachine<'a> {
    machine: &'a str,
    #[serde(flatten)]
    numbers: JsonNumbers,
}

#[derive(Serialize)]
struct JsonReport<'a, Row: Serialize> {
    since: String,
    until: String,
    timezone: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    projects: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<Row>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    machines: Option<Vec<Row>>,
    total: JsonNumbers,
}

/// The numbers of every row and of the total, active seconds rounded together (they add up as the
/// table's minutes do).
fn json_numbers<K>(grouped: &Grouped<K>) -> (Vec<JsonNumbers>, JsonNumbers) {
    let (seconds, total) = grouped.rounded_bands(figures::SECOND_MS);
    let rows = grouped.rows.iter().zip(seconds).map(|(row, s)| JsonNumbers::new(&row.totals, s)).collect();
    (rows, JsonNumbers::new(&grouped.total, total))
}

/// Which list a JSON report holds.
#[derive(Clone, Copy)]
enum JsonRows {
    Projects,
    Days,
    Tags,
    Machines,
}

/// The JSON object of one report: the range, its rows under `which`, the total.
fn json_report<Row: Serialize>(
    range: ReportRange,
    which: JsonRows,
    rows: Vec<Row>,
    total: JsonNumbers,
) -> String {
    let (mut projects, mut days, mut tags, mut machines) = (None, None, None, None);
    match which {
        JsonRows::Projects => projects = Some(rows),
        JsonRows::Days => days = Some(rows),
        JsonRows::Tags => tags = Some(rows),
        JsonRows::Machines => machines = Some(rows),
    }
    let report = JsonReport {
        since: range.since.to_string(),
        until: range.until.to_string(),
        timezone: range.tz.name(),
        projects,
        days,
        tags,
        machines,
        total,
    };
    serde_json::to_string(&report).unwrap_or_default()
}

/// `report --json` by project, in the documented shape.
pub(crate) fn project_json(grouped: &Grouped<ProjectKey>, range: ReportRange) -> String {
    let (numbers, total) = json_numbers(grouped);
    let projects = grouped
        .rows
        .iter()
        .zip(numbers)
        .map(|(row, numbers)| JsonProject {
            project: &row.key.project,
            name: &row.key.name,
            numbers,
            last_activity: row.key.last_activity.map(rfc3339),
            tags: &row.key.tags,
        })
        .collect();
    json_report(range, JsonRows::Projects, projects, total)
}

/// `report --by day --json`: the same shape with `days` in place of `projects`.
pub(crate) fn day_json(grouped: &Grouped<NaiveDate>, range: ReportRange) -> String {
    let (numbers, total) = json_numbers(grouped);
    let days = grouped
        .rows
        .iter()
        .zip(numbers)
        .map(|(row, numbers)| JsonDay { date: row.key.to_string(), numbers })
        .collect();
    json_report(range, JsonRows::Days, days, total)
}

/// `report --by tag --json`: `tags` rows (`"tag": null` for the untagged), the total over distinct
/// sessions.
pub(crate) fn tag_json(grouped: &Grouped<Option<String>>, range: ReportRange) -> String {
    let (numbers, total) = json_numbers(grouped);
    let tags = grouped
        .rows
        .iter()
        .zip(numbers)
        .map(|(row, numbers)| JsonTag { tag: row.key.as_deref(), numbers })
        .collect();
    json_report(range, JsonRows::Tags, tags, total)
}

/// `report --by machine --json`: `machines` rows, the total.
pub(crate) fn machine_json(grouped: &Grouped<String>, range: ReportRange) -> String {
    let (numbers, total) = json_numbers(grouped);
    let machines = grouped
        .rows
        .iter()
        .zip(numbers)
        .map(|(row, numbers)| JsonMachine { machine: &row.key, numbers })
        .collect();
    json_report(range, JsonRows::Machines, machines, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies as `report` does (each session its own folder), then groups.
    fn by_project(sessions: &[Session], range: ReportRange) -> Grouped<ProjectKey> {
        let projects = crate::classify::Classifier::default().classify_all(sessions);
        super::by_project(&crate::classify::pair(sessions, &projects), range)
    }
    use crate::sessions::{MessageRecord, Span};

    const HOUR: i64 = 3_600_000;

    fn at(text: &str) -> Millis {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    fn session(id: &str, project: &str, spans: &[(&str, &str)], tokens: &[(&str, u64)]) -> Session {
        Session {
            session_id: id.into(),
            project: project.into(),
            git_branch: None,
            spans: spans.iter().map(|(s, e)| Span { start: at(s), end: at(e) }).collect(),
            messages: tokens
                .iter()
                .enumerate()
                .map(|(i, (t, output))| MessageRecord {
                    key: i as u64,
                    at: at(t),
                    usage: Usage { output: *output, ..Usage::default() },
                })
                .collect(),
            models: Vec::new(),
            ..Default::default()
        }
    }

    fn range(since: &str, until: &str) -> ReportRange {
        ReportRange {
            since: since.parse().unwrap(),
            until: until.parse().unwrap(),
            tz: chrono_tz::Europe::Berlin,
        }
    }

    #[test]
    fn session_crossing_midnight_gives_each_day_its_own_time() {
        // 22:30-01:30 Berlin time (UTC+1 in November).
        let s = session(
            "s",
            "/p",
            &[("2026-11-02T21:30:00Z", "2026-11-03T00:30:00Z")],
            &[("2026-11-02T21:40:00Z", 10), ("2026-11-03T00:10:00Z", 20)],
        );
        let sessions = [s];
        let first = by_project(&sessions, range("2026-11-02", "2026-11-02"));
        assert_eq!(first.rows[0].totals.active_ms, HOUR + HOUR / 2);
        assert_eq!(first.rows[0].totals.usage.output, 10);
        let second = by_project(&sessions, range("2026-11-03", "2026-11-03"));
        assert_eq!(second.rows[0].totals.active_ms, HOUR + HOUR / 2);
        assert_eq!(second.rows[0].totals.usage.output, 20);
        let projects = crate::classify::Classifier::default().classify_all(&sessions);
        let r = range("2026-11-01", "2026-11-04");
        let days = super::by_day(&crate::classify::pair(&sessions, &projects), r);
        assert_eq!(days.rows.iter().map(|d| d.totals.active_ms).collect::<Vec<_>>(), vec![HOUR * 3 / 2; 2]);
        // Once on each day, once in the total.
        assert_eq!(days.rows.iter().map(|d| d.totals.sessions).collect::<Vec<_>>(), vec![1, 1]);
        assert_eq!((days.total.sessions, days.total.active_ms), (1, 3 * HOUR));
        assert!(
            day_table(&days, r)
                .ends_with("\nA session on several days counts on each of them; the total counts it once.\n")
        );
    }

    #[test]
    fn projects_sum_sessions_and_sort_by_time() {
        let sessions = [
            session("a", "/w/small", &[("2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z")], &[]),
            session("b", "/w/big", &[("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z")], &[]),
            session("c", "/w/big", &[("2026-11-02T12:00:00Z", "2026-11-02T12:30:00Z")], &[]),
            session("d", "/w/other-day", &[("2026-11-05T12:00:00Z", "2026-11-05T12:30:00Z")], &[]),
        ];
        let grouped = by_project(&sessions, range("2026-11-02", "2026-11-02"));
        let summary: Vec<(&str, i64, u64)> = grouped
            .rows
            .iter()
            .map(|r| (r.key.name.as_str(), r.totals.active_ms / 1000, r.totals.sessions))
            .collect();
        assert_eq!(summary, vec![("big", 5400, 2), ("small", 1800, 1)]);
        assert_eq!(grouped.rows[0].key.last_activity, Some(at("2026-11-02T12:30:00Z")));
    }

    #[test]
    fn shared_last_segments_get_parent_names() {
        let names = short_names(["/a/x/api", "/b/x/api", "/c/web", "/"].into_iter());
        assert_eq!(names["/a/x/api"], "a/x/api");
        assert_eq!(names["/b/x/api"], "b/x/api");
        assert_eq!(names["/c/web"], "web");
        assert_eq!(names["/"], "/");
    }

    #[test]
    fn compact_numbers() {
        assert_eq!(compact(950), "950");
        assert_eq!(compact(3_210), "3.2k");
        assert_eq!(compact(1_400_000), "1.4M");
        assert_eq!(compact(999_999), "1.0M");
        assert_eq!(compact(2_000_000_000), "2.0B");
    }

    #[test]
    fn tags_rows_count_a_session_in_each_of_its_tags_and_once_in_the_total() {
        let sessions = [
            session("a", "/w/a", &[("2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z")], &[]),
            session("b", "/w/b", &[("2026-11-02T11:00:00Z", "2026-11-02T11:30:00Z")], &[]),
            session("c", "/w/c", &[("2026-11-02T12:00:00Z", "2026-11-02T12:15:00Z")], &[]),
        ];
        let projects = crate::classify::Classifier::default().classify_all(&sessions);
        let tags = BTreeMap::from([
            ("a".to_string(), vec!["acme".to_string(), "billable".to_string()]),
            ("b".to_string(), vec!["acme".to_string()]),
        ]);
        let classified = crate::classify::pair_tagged(&sessions, &projects, &tags);
        let r = range("2026-11-02", "2026-11-02");
        let grouped = by_tag(&classified, r);
        let lines: Vec<(Option<&str>, i64, u64)> = grouped
            .rows
            .iter()
            .map(|row| (row.key.as_deref(), row.totals.active_ms / 1000, row.totals.sessions))
            .collect();
        assert_eq!(lines, vec![(Some("acme"), 5400, 2), (Some("billable"), 3600, 1), (None, 900, 1)]);
        assert_eq!((grouped.total.active_ms / 1000, grouped.total.sessions), (6300, 3));
        assert_eq!(
            tag_json(&grouped, r),
            r#"{"since":"2026-11-02","until":"2026-11-02","timezone":"Europe/Berlin","tags":[{"tag":"acme","active_seconds":5400,"hands_on_seconds":0,"supervised_seconds":0,"autonomous_seconds":5400,"sessions":2,"automated_sessions":0,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"tag":"billable","active_seconds":3600,"hands_on_seconds":0,"supervised_seconds":0,"autonomous_seconds":3600,"sessions":1,"automated_sessions":0,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"tag":null,"active_seconds":900,"hands_on_seconds":0,"supervised_seconds":0,"autonomous_seconds":900,"sessions":1,"automated_sessions":0,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}],"total":{"active_seconds":6300,"hands_on_seconds":0,"supervised_seconds":0,"autonomous_seconds":6300,"sessions":3,"automated_sessions":0,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#
        );
    }

    /// Each session runs on one machine: the rows are disjoint, most active first, and their minutes
    /// (rounded as one table) add up to the total; this machine, unnamed in the database, takes the
    /// name the command gives it.
    #[test]
    fn machines_rows_are_disjoint_and_add_up_to_the_total() {
        let on = |machine: &str, mut session: Session| {
            session.machine = machine.into();
            session
        };
        let mut sessions = [
            on("laptop", session("a", "/w/a", &[("2026-11-02T09:00:00Z", "2026-11-02T09:20:20Z")], &[])),
            on("", session("b", "/w/a", &[("2026-11-02T10:00:00Z", "2026-11-02T10:40:40Z")], &[])),
            on("laptop", session("c", "/w/b", &[("2026-11-02T11:00:00Z", "2026-11-02T11:20:20Z")], &[])),
            on("(unknown)", session("d", "/w/b", &[("2026-11-02T12:00:00Z", "2026-11-02T12:00:30Z")], &[])),
        ];
        name_this_machine(&mut sessions, "desk");
        assert_eq!(sessions[1].machine, "desk");
        assert_eq!(sessions[0].machine, "laptop", "a named machine keeps its name");
        let projects = crate::classify::Classifier::default().classify_all(&sessions);
        let r = range("2026-11-02", "2026-11-02");
        let grouped = by_machine(&crate::classify::pair(&sessions, &projects), r);
        let lines: Vec<(&str, i64, u64)> = grouped
            .rows
            .iter()
            .map(|row| (row.key.as_str(), row.totals.active_ms / 1000, row.totals.sessions))
            .collect();
        assert_eq!(lines, vec![("desk", 2440, 1), ("laptop", 2440, 2), ("(unknown)", 30, 1)]);
        let (minutes, total) = grouped.active_minutes();
        assert_eq!((minutes, total), (vec![41, 41, 0], 82), "each rounded alone: 41 + 41 + 1 = 83");
        assert_eq!(
            machine_table(&grouped, r),
            "Claude Code time on 2026-11-02 (Europe/Berlin)\n\n\
             \x20machine    active  hands-on  supervised  autonomous  sessions  input  output  cache write  cache read\n\
             \x20desk         0:41      0:00        0:00        0:41         1      0       0            0           0\n\
             \x20laptop       0:41      0:00        0:00        0:41         2      0       0            0           0\n\
             \x20(unknown)    0:00      0:00        0:00        0:00         1      0       0            0           0\n\
             \x20total        1:22      0:00        0:00        1:22         4      0       0            0           0\n"
        );
        let json: serde_json::Value = serde_json::from_str(&machine_json(&grouped, r)).unwrap();
        let seconds: Vec<(&str, i64)> = json["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["machine"].as_str().unwrap(), m["active_seconds"].as_i64().unwrap()))
            .collect();
        assert_eq!(seconds, vec![("desk", 2440), ("laptop", 2440), ("(unknown)", 30)]);
        assert_eq!(json["total"]["active_seconds"], 4910);
    }

    #[test]
    fn json_has_the_documented_shape() {
        let mut app = session(
            "a",
            "/w/app",
            &[("2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z")],
            &[("2026-11-02T09:10:00Z", 7)],
        );
        app.hands_on = vec![Span { start: at("2026-11-02T09:00:00Z"), end: at("2026-11-02T09:05:00Z") }];
        app.supervised = vec![Span { start: at("2026-11-02T09:05:00Z"), end: at("2026-11-02T09:20:00Z") }];
        let sessions = [app];
        let r = range("2026-11-02", "2026-11-02");
        let json = project_json(&by_project(&sessions, r), r);
        assert_eq!(
            json,
            r#"{"since":"2026-11-02","until":"2026-11-02","timezone":"Europe/Berlin","projects":[{"project":"/w/app","name":"app","active_seconds":1800,"hands_on_seconds":300,"supervised_seconds":900,"autonomous_seconds":600,"sessions":1,"automated_sessions":0,"input_tokens":0,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"last_activity":"2026-11-02T09:30:00Z","tags":[]}],"total":{"active_seconds":1800,"hands_on_seconds":300,"supervised_seconds":900,"autonomous_seconds":600,"sessions":1,"automated_sessions":0,"input_tokens":0,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#
        );
    }

    #[test]
    fn table_marks_latest_project_and_totals() {
        let sessions = [
            session("a", "/w/one", &[("2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z")], &[]),
            session("b", "/w/two", &[("2026-11-02T11:00:00Z", "2026-11-02T11:15:00Z")], &[]),
        ];
        let (mut one, mut two) = (sessions[0].clone(), sessions[1].clone());
        one.hands_on = vec![Span { start: at("2026-11-02T09:00:00Z"), end: at("2026-11-02T09:20:00Z") }];
        one.supervised = vec![Span { start: at("2026-11-02T09:20:00Z"), end: at("2026-11-02T09:35:00Z") }];
        two.automated = true;
        let sessions = [one, two];
        let r = range("2026-11-02", "2026-11-02");
        assert_eq!(
            project_table(&by_project(&sessions, r), r),
            "Claude Code time on 2026-11-02 (Europe/Berlin)\n\n\
             \x20 project  active  hands-on  supervised  autonomous  sessions  automated  input  output  cache write  cache read\n\
             \x20 one        1:00      0:20        0:15        0:25         1          0      0       0            0           0\n\
             * two        0:15      0:00        0:00        0:15         1          1      0       0            0           0\n\
             \x20 total      1:15      0:20        0:15        0:40         2          1      0       0            0           0\n\
             \n* latest activity\n"
        );
    }

    /// Five projects whose minutes, each cut, summed to a minute less than the total's.
    #[test]
    fn the_rows_add_up_to_the_total_shown() {
        let from = at("2026-11-02T08:00:00Z");
        let sessions: Vec<Session> =
            [("a", 5_352_417), ("b", 3_978_903), ("c", 3_264_088), ("d", 618_651), ("e", 426_000)]
                .iter()
                .map(|(name, ms)| Session {
                    session_id: (*name).into(),
                    project: format!("/w/{name}"),
                    spans: vec![Span { start: from, end: from + ms }],
                    ..Default::default()
                })
                .collect();
        let r = range("2026-11-02", "2026-11-02");
        let grouped = by_project(&sessions, r);
        let (rows, total) = grouped.active_minutes();
        assert_eq!((rows.clone(), total), (vec![89, 66, 55, 10, 7], 227));
        assert_eq!(rows.iter().sum::<i64>(), total);
        let json: serde_json::Value = serde_json::from_str(&project_json(&grouped, r)).unwrap();
        let seconds: Vec<i64> = json["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["active_seconds"].as_i64().unwrap())
            .collect();
        assert_eq!(seconds.iter().sum::<i64>(), json["total"]["active_seconds"].as_i64().unwrap());
        assert_eq!(json["total"]["active_seconds"], 13_640);
    }

    #[test]
    fn a_session_without_tracked_time_is_no_session_but_its_row_and_tokens_stay() {
        // A lone answer: a message, no active span.
        let lone = session("lone", "/w/a", &[], &[("2026-11-02T09:00:00Z", 40)]);
        let worked = session("worked", "/w/a", &[("2026-11-02T10:00:00Z", "2026-11-02T10:30:00Z")], &[]);
        let r = range("2026-11-02", "2026-11-02");
        let alone = by_project(std::slice::from_ref(&lone), r);
        assert_eq!(
            alone.rows[0].totals,
            Totals {
                active_ms: 0,
                sessions: 0,
                usage: Usage { output: 40, ..Usage::default() },
                ..Totals::default()
            }
        );
        assert_eq!(alone.total.sessions, 0);
        let both = by_project(&[lone, worked], r);
        assert_eq!((both.rows[0].totals.sessions, both.rows[0].totals.usage.output), (1, 40));
    }

    #[test]
    fn an_empty_table_says_where_the_sessions_are_and_what_to_run() {
        let r = range("2026-11-01", "2026-11-07");
        let day = |text: &str| text.parse::<NaiveDate>().unwrap();
        let heading = "Claude Code time from 2026-11-01 to 2026-11-07 (Europe/Berlin)\n\n";
        let here = Nothing::Here { first: day("2025-12-12"), last: day("2026-01-22") };
        assert_eq!(
            empty_table(r, &here, Some("day")),
            format!(
                "{heading}no Claude Code activity in this range\nrecorded sessions run from 2025-12-12 to \
                 2026-01-22: try `claude-tracker report --since 2025-12-12 --until 2026-01-22 --by day`\n"
            )
        );
        let one_day =
            Nothing::TaggedHere { tag: "it's".into(), first: day("2026-01-02"), last: day("2026-01-02") };
        assert_eq!(
            empty_table(r, &one_day, None),
            format!(
                "{heading}no session in this range has tag `it's`\nsessions with tag `it's` are all on 2026-01-02: \
                 try `claude-tracker report --since 2026-01-02 --until 2026-01-02 --tag 'it'\\''s'`\n"
            )
        );
        let tagged =
            Nothing::Tagged { tag: "nonexistent".into(), known: vec!["acme".into(), "billable".into()] };
        assert_eq!(
            empty_table(r, &tagged, None),
            format!(
                "{heading}no session has tag `nonexistent`: the tags there are `acme`, `billable` \
                 (`claude-tracker report --by tag` shows their time)\n"
            )
        );
        let none = Nothing::Recorded { folders: Vec::new() };
        assert!(empty_table(r, &none, None).contains(
            "transcripts are looked for in ~/.claude/projects and ~/.config/claude/projects (neither exists)"
        ));
    }
}
