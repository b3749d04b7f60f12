//! Time and tokens per project (or per day) over a range of local days, as a table or as JSON.
//! Pure: it takes stored sessions and a range and returns rows and text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::classify::Classified;
use crate::sessions::Session;
use crate::sessions::{Millis, Usage};
use crate::workday;

/// The local days a report covers, inclusive, in one time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReportRange {
    pub(crate) since: NaiveDate,
    pub(crate) until: NaiveDate,
    pub(crate) tz: Tz,
}

/// The numbers every row and the total line carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) active_ms: i64,
    pub(crate) sessions: u64,
    pub(crate) usage: Usage,
}

impl Totals {
    fn add(&mut self, other: &Totals) {
        self.active_ms += other.active_ms;
        self.sessions += other.sessions;
        self.usage.add(&other.usage);
    }

    /// Active time in whole seconds, rounded to the nearest.
    pub(crate) fn active_seconds(&self) -> i64 {
        (self.active_ms + 500).div_euclid(1000)
    }
}

/// One project's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProjectRow {
    pub(crate) project: String,
    pub(crate) name: String,
    pub(crate) totals: Totals,
    pub(crate) last_activity: Option<Millis>,
    /// Every tag of the project's sessions in the range, sorted.
    pub(crate) tags: Vec<String>,
}

/// One tag's line: the sessions that carry it (a session with two tags counts in both lines, once in the
/// total).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagRow {
    /// `None` for sessions without any tag.
    pub(crate) tag: Option<String>,
    pub(crate) totals: Totals,
}

/// The label of the line of sessions without tags.
pub(crate) const UNTAGGED: &str = "(untagged)";

/// One local day's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayRow {
    pub(crate) date: NaiveDate,
    pub(crate) totals: Totals,
}

/// What one session contributes to a window: nothing when it shows no sign of life there.
fn session_totals(session: &Session, from: Millis, to: Millis) -> Option<(Totals, Option<Millis>)> {
    let mut usage = Usage::default();
    let mut last: Option<Millis> = None;
    for message in session.messages.iter().filter(|m| (from..to).contains(&m.at)) {
        usage.add(&message.usage);
        last = last.max(Some(message.at));
    }
    for span in session.spans.iter().filter(|s| s.start < to && s.end >= from) {
        last = last.max(Some(span.end.min(to - 1)));
    }
    let active_ms = session.spans.iter().map(|s| s.overlap_ms(from, to)).sum();
    last.map(|last| (Totals { active_ms, sessions: 1, usage }, Some(last)))
}

/// Rows per local project (as `classify` names it), most active first, with names made unique.
pub(crate) fn by_project(sessions: &[Classified<'_>], range: ReportRange) -> Vec<ProjectRow> {
    let (from, to) = workday::days_window(range.since, range.until, range.tz);
    let mut projects: BTreeMap<&str, (Totals, Option<Millis>, BTreeSet<&str>)> = BTreeMap::new();
    for classified in sessions {
        if let Some((totals, last)) = session_totals(classified.session, from, to) {
            let entry = projects.entry(classified.project.name()).or_default();
            entry.0.add(&totals);
            entry.1 = entry.1.max(last);
            entry.2.extend(classified.tags.iter().map(String::as_str));
        }
    }
    let names = short_names(projects.keys().copied());
    let mut rows: Vec<ProjectRow> = projects
        .into_iter()
        .map(|(project, (totals, last_activity, tags))| ProjectRow {
            project: project.to_string(),
            name: names[project].clone(),
            totals,
            last_activity,
            tags: tags.into_iter().map(str::to_string).collect(),
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.totals.active_ms, b.totals.usage.output)
            .cmp(&(a.totals.active_ms, a.totals.usage.output))
            .then_with(|| a.project.cmp(&b.project))
    });
    rows
}

/// Rows per tag, most active first (ties by name), then the sessions without tags; and the total over
/// the distinct sessions.
pub(crate) fn by_tag(sessions: &[Classified<'_>], range: ReportRange) -> (Vec<TagRow>, Totals) {
    let (from, to) = workday::days_window(range.since, range.until, range.tz);
    let mut tags: BTreeMap<Option<&str>, Totals> = BTreeMap::new();
    let mut total = Totals::default();
    for classified in sessions {
        let Some((totals, _)) = session_totals(classified.session, from, to) else { continue };
        total.add(&totals);
        if classified.tags.is_empty() {
            tags.entry(None).or_default().add(&totals);
        }
        for tag in classified.tags {
            tags.entry(Some(tag.as_str())).or_default().add(&totals);
        }
    }
    let mut rows: Vec<TagRow> =
        tags.into_iter().map(|(tag, totals)| TagRow { tag: tag.map(str::to_string), totals }).collect();
    rows.sort_by(|a, b| {
        (a.tag.is_none(), std::cmp::Reverse(a.totals.active_ms), &a.tag).cmp(&(
            b.tag.is_none(),
            std::cmp::Reverse(b.totals.active_ms),
            &b.tag,
        ))
    });
    (rows, total)
}

/// Rows per local day that saw any activity, oldest first.
pub(crate) fn by_day(sessions: &[Classified<'_>], range: ReportRange) -> Vec<DayRow> {
    workday::dates(range.since, range.until)
        .filter_map(|date| {
            let (from, to) = workday::days_window(date, date, range.tz);
            let mut totals = Totals::default();
            for (session_totals, _) in sessions.iter().filter_map(|c| session_totals(c.session, from, to)) {
                totals.add(&session_totals);
            }
            (totals.sessions > 0).then_some(DayRow { date, totals })
        })
        .collect()
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

/// `3:07` for three hours and seven minutes.
pub(crate) fn hours_minutes(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    format!("{}:{:02}", minutes / 60, minutes % 60)
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

fn rfc3339(at: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The table for people.
pub(crate) fn project_table(rows: &[ProjectRow], range: ReportRange) -> String {
    let latest = rows.iter().filter_map(|r| r.last_activity.map(|at| (at, &r.project))).max();
    let lines = rows.iter().map(|row| {
        let marker = if latest.is_some_and(|(_, p)| *p == row.project) { "*" } else { "" };
        (marker, row.name.clone(), &row.totals)
    });
    let mut text = render_table("project", lines, range);
    if !rows.is_empty() {
        text.push_str("\n* latest activity\n");
    }
    text
}

/// The table per tag; its total counts each session once.
pub(crate) fn tag_table(rows: &[TagRow], total: &Totals, range: ReportRange) -> String {
    let lines =
        rows.iter().map(|row| ("", row.tag.clone().unwrap_or_else(|| UNTAGGED.to_string()), &row.totals));
    render_table_with_total("tag", lines, Some(total), range)
}

/// The table per day.
pub(crate) fn day_table(rows: &[DayRow], range: ReportRange) -> String {
    let lines = rows.iter().map(|row| ("", row.date.format("%a %Y-%m-%d").to_string(), &row.totals));
    render_table("day", lines, range)
}

/// Heading, one line per row (marker, label, numbers) and a total line.
fn render_table<'a>(
    label: &str,
    rows: impl Iterator<Item = (&'a str, String, &'a Totals)>,
    range: ReportRange,
) -> String {
    render_table_with_total(label, rows, None, range)
}

/// A table whose total is given (rows that overlap) or, when `None`, the sum of its rows.
fn render_table_with_total<'a>(
    label: &str,
    rows: impl Iterator<Item = (&'a str, String, &'a Totals)>,
    given_total: Option<&Totals>,
    range: ReportRange,
) -> String {
    let mut table =
        Table::new(["", label, "active", "sessions", "input", "output", "cache write", "cache read"]);
    let mut total = Totals::default();
    for (marker, name, totals) in rows {
        table.push(marker, &name, totals);
        total.add(totals);
    }
    let total = given_total.copied().unwrap_or(total);
    let mut text = heading(range);
    if table.rows.len() == 1 {
        text.push_str("no Claude Code activity in this range\n");
        return text;
    }
    table.push("", "total", &total);
    text.push_str(&table.render());
    text
}

fn heading(range: ReportRange) -> String {
    if range.since == range.until {
        format!("Claude Code time on {} ({})\n\n", range.since, range.tz.name())
    } else {
        format!("Claude Code time from {} to {} ({})\n\n", range.since, range.until, range.tz.name())
    }
}

/// Plain left/right aligned columns: the first two columns are text, the rest numbers.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: [&str; 8]) -> Table {
        Table { rows: vec![header.iter().map(ToString::to_string).collect()] }
    }

    fn push(&mut self, marker: &str, label: &str, totals: &Totals) {
        let usage = totals.usage;
        self.rows.push(vec![
            marker.to_string(),
            label.to_string(),
            hours_minutes(totals.active_seconds()),
            totals.sessions.to_string(),
            compact(usage.input),
            compact(usage.output),
            compact(usage.cache_creation),
            compact(usage.cache_read),
        ]);
    }

    fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.rows[0].len())
            .map(|c| self.rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut text = String::new();
        for row in &self.rows {
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
}

#[derive(Serialize)]
struct JsonNumbers {
    active_seconds: i64,
    sessions: u64,
    input_tokens: u64,
    output_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
}

impl From<&Totals> for JsonNumbers {
    fn from(totals: &Totals) -> Self {
        JsonNumbers {
            active_seconds: totals.active_seconds(),
            sessions: totals.sessions,
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
    total: JsonNumbers,
}

/// Sums rows so the total line always equals the rows above it, to the second.
fn sum_seconds<'a>(rows: impl Iterator<Item = &'a Totals>) -> JsonNumbers {
    let mut total = Totals::default();
    let mut seconds = 0;
    for row in rows {
        total.add(row);
        seconds += row.active_seconds();
    }
    JsonNumbers { active_seconds: seconds, ..JsonNumbers::from(&total) }
}

/// `report --json` by project, in the documented shape.
pub(crate) fn project_json(rows: &[ProjectRow], range: ReportRange) -> String {
    let projects = rows
        .iter()
        .map(|row| JsonProject {
            project: &row.project,
            name: &row.name,
            numbers: JsonNumbers::from(&row.totals),
            last_activity: row.last_activity.map(rfc3339),
            tags: &row.tags,
        })
        .collect();
    let report = JsonReport {
        since: range.since.to_string(),
        until: range.until.to_string(),
        timezone: range.tz.name(),
        projects: Some(projects),
        days: None,
        tags: None,
        total: sum_seconds(rows.iter().map(|r| &r.totals)),
    };
    serde_json::to_string(&report).unwrap_or_default()
}

/// `report --by day --json`: the same shape with `days` in place of `projects`.
pub(crate) fn day_json(rows: &[DayRow], range: ReportRange) -> String {
    let days = rows
        .iter()
        .map(|row| JsonDay { date: row.date.to_string(), numbers: JsonNumbers::from(&row.totals) })
        .collect();
    let report: JsonReport<'_, JsonDay> = JsonReport {
        since: range.since.to_string(),
        until: range.until.to_string(),
        timezone: range.tz.name(),
        projects: None,
        days: Some(days),
        tags: None,
        total: sum_seconds(rows.iter().map(|r| &r.totals)),
    };
    serde_json::to_string(&report).unwrap_or_default()
}

/// `report --by tag --json`: `tags` rows (`"tag": null` for the untagged), the total over distinct
/// sessions.
pub(crate) fn tag_json(rows: &[TagRow], total: &Totals, range: ReportRange) -> String {
    let tags = rows
        .iter()
        .map(|row| JsonTag { tag: row.tag.as_deref(), numbers: JsonNumbers::from(&row.totals) })
        .collect();
    let report: JsonReport<'_, JsonTag<'_>> = JsonReport {
        since: range.since.to_string(),
        until: range.until.to_string(),
        timezone: range.tz.name(),
        projects: None,
        days: None,
        tags: Some(tags),
        total: JsonNumbers::from(total),
    };
    serde_json::to_string(&report).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies as `report` does (each session its own folder), then groups.
    fn by_project(sessions: &[Session], range: ReportRange) -> Vec<ProjectRow> {
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
        assert_eq!(first[0].totals.active_ms, HOUR + HOUR / 2);
        assert_eq!(first[0].totals.usage.output, 10);
        let second = by_project(&sessions, range("2026-11-03", "2026-11-03"));
        assert_eq!(second[0].totals.active_ms, HOUR + HOUR / 2);
        assert_eq!(second[0].totals.usage.output, 20);
        let projects = crate::classify::Classifier::default().classify_all(&sessions);
        let days =
            super::by_day(&crate::classify::pair(&sessions, &projects), range("2026-11-01", "2026-11-04"));
        assert_eq!(days.iter().map(|d| d.totals.active_ms).collect::<Vec<_>>(), vec![HOUR * 3 / 2; 2]);
    }

    #[test]
    fn projects_sum_sessions_and_sort_by_time() {
        let sessions = [
            session("a", "/w/small", &[("2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z")], &[]),
            session("b", "/w/big", &[("2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z")], &[]),
            session("c", "/w/big", &[("2026-11-02T12:00:00Z", "2026-11-02T12:30:00Z")], &[]),
            session("d", "/w/other-day", &[("2026-11-05T12:00:00Z", "2026-11-05T12:30:00Z")], &[]),
        ];
        let rows = by_project(&sessions, range("2026-11-02", "2026-11-02"));
        let summary: Vec<(&str, i64, u64)> =
            rows.iter().map(|r| (r.name.as_str(), r.totals.active_seconds(), r.totals.sessions)).collect();
        assert_eq!(summary, vec![("big", 5400, 2), ("small", 1800, 1)]);
        assert_eq!(rows[0].last_activity, Some(at("2026-11-02T12:30:00Z")));
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
    fn hours_and_minutes() {
        assert_eq!(hours_minutes(0), "0:00");
        assert_eq!(hours_minutes(3 * 3600 + 7 * 60 + 59), "3:07");
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
        let (rows, total) = by_tag(&classified, r);
        let lines: Vec<(Option<&str>, i64, u64)> = rows
            .iter()
            .map(|row| (row.tag.as_deref(), row.totals.active_seconds(), row.totals.sessions))
            .collect();
        assert_eq!(lines, vec![(Some("acme"), 5400, 2), (Some("billable"), 3600, 1), (None, 900, 1)]);
        assert_eq!((total.active_seconds(), total.sessions), (6300, 3));
        assert_eq!(
            tag_json(&rows, &total, r),
            r#"{"since":"2026-11-02","until":"2026-11-02","timezone":"Europe/Berlin","tags":[{"tag":"acme","active_seconds":5400,"sessions":2,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"tag":"billable","active_seconds":3600,"sessions":1,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0},{"tag":null,"active_seconds":900,"sessions":1,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}],"total":{"active_seconds":6300,"sessions":3,"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#
        );
    }

    #[test]
    fn json_has_the_documented_shape() {
        let sessions = [session(
            "a",
            "/w/app",
            &[("2026-11-02T09:00:00Z", "2026-11-02T09:30:00Z")],
            &[("2026-11-02T09:10:00Z", 7)],
        )];
        let r = range("2026-11-02", "2026-11-02");
        let json = project_json(&by_project(&sessions, r), r);
        assert_eq!(
            json,
            r#"{"since":"2026-11-02","until":"2026-11-02","timezone":"Europe/Berlin","projects":[{"project":"/w/app","name":"app","active_seconds":1800,"sessions":1,"input_tokens":0,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"last_activity":"2026-11-02T09:30:00Z","tags":[]}],"total":{"active_seconds":1800,"sessions":1,"input_tokens":0,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}"#
        );
    }

    #[test]
    fn table_marks_latest_project_and_totals() {
        let sessions = [
            session("a", "/w/one", &[("2026-11-02T09:00:00Z", "2026-11-02T10:00:00Z")], &[]),
            session("b", "/w/two", &[("2026-11-02T11:00:00Z", "2026-11-02T11:15:00Z")], &[]),
        ];
        let r = range("2026-11-02", "2026-11-02");
        let text = project_table(&by_project(&sessions, r), r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Claude Code time on 2026-11-02 (Europe/Berlin)");
        assert!(lines[3].starts_with("  one"), "{text}");
        assert!(lines[4].starts_with("* two"), "{text}");
        assert!(lines[5].starts_with("  total") && lines[5].contains(" 1:15 "), "{text}");
    }
}
