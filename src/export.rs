//! CSV rows for a spreadsheet: one per session, or one per entry of the plan sync would post. Pure: it
//! takes sessions and rules and returns text cells, each made safe to open in a spreadsheet.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::attention;
use crate::figures::{apportion, csv_hours, csv_time, hours_of_ms, tag_list};
use crate::sessions::{Millis, Session, Usage};
use crate::sync::steps::Batch;
use crate::workday;

/// Header of `--sessions`. The id comes first: it is what `tag`, `untag` and `rules check --session` take.
/// Later columns are added at the end, so that a sheet that reads columns by position keeps working.
pub(crate) const SESSION_HEADER: [&str; 17] = [
    "id",
    "start",
    "end",
    "duration_hours",
    "description",
    "tags",
    "working_directory",
    "git_branch",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "hands_on_hours",
    "supervised_hours",
    "autonomous_hours",
    "automated",
    "machine",
];

/// Header of `--allocations`.
pub(crate) const ALLOCATION_HEADER: [&str; 7] =
    ["date", "destination", "project", "project_id", "start", "end", "hours"];

/// Header of `push --csv` (seed 003's columns).
pub(crate) const PUSH_HEADER: [&str; 6] =
    ["start", "end", "duration_hours", "description", "tags", "working_directory"];

/// A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) gets a
/// leading `'`, which spreadsheets show as text.
pub(crate) fn safe_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A stored instant as every CSV writes it ([`csv_time`]).
fn local(at: Millis, tz: Tz) -> String {
    csv_time(DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default(), tz)
}

/// One row per session that started (first sign of life) on one of the local days `since..=until`.
/// Its `duration_hours` is its active time (idle gaps cut, seed 003's "total time, not elapsed time"),
/// so it is at most `end - start`; the rows of entries (allocations, `push --csv`) equal it. Its
/// `machine` is the name the database has for the session's machine: empty for this machine before
/// the database names it (a `[share] dir` pass or `export --format jsonl` does).
pub(crate) fn session_rows(
    sessions: &[Session],
    tags: &BTreeMap<String, Vec<String>>,
    since: NaiveDate,
    until: NaiveDate,
    tz: Tz,
) -> Vec<Vec<String>> {
    let (from, to) = workday::days_window(since, until, tz);
    let mut rows: Vec<(Millis, Vec<String>)> = sessions
        .iter()
        .filter_map(|session| {
            let (start, end) = bounds(session)?;
            if !(from..to).contains(&start) {
                return None;
            }
            let mut usage = Usage::default();
            for message in &session.messages {
                usage.add(&message.usage);
            }
            let active: i64 = session.spans.iter().map(|s| s.end - s.start).sum();
            let bands = attention::totals_within(session, Millis::MIN, Millis::MAX);
            // Apportioned in ten-thousandths of an hour, so the three add up to `duration_hours`.
            let band_hours =
                apportion(&[bands.hands_on, bands.supervised, bands.autonomous], HOUR_FRACTION_MS);
            let row = vec![
                safe_cell(&session.session_id).into_owned(),
                local(start, tz),
                local(end, tz),
                hours_of_ms(active),
                safe_cell(folder_name(&session.project)).into_owned(),
                safe_cell(&tags.get(&session.session_id).map(|t| tag_list(t)).unwrap_or_default())
                    .into_owned(),
                safe_cell(&session.project).into_owned(),
                safe_cell(session.git_branch.as_deref().unwrap_or("")).into_owned(),
                usage.input.to_string(),
                usage.output.to_string(),
                usage.cache_creation.to_string(),
                usage.cache_read.to_string(),
                ten_thousandths(band_hours[0]),
                ten_thousandths(band_hours[1]),
                ten_thousandths(band_hours[2]),
                session.automated.to_string(),
                safe_cell(&session.machine).into_owned(),
            ];
            Some((start, row))
        })
        .collect();
    rows.sort_by_key(|(start, _)| *start);
    rows.into_iter().map(|(_, row)| row).collect()
}

/// Where a session starts and ends: its main chain's activity (a sub-agent's lines never move it), or
/// its messages when it has no activity at all (a side-chain seen without its parent).
fn bounds(session: &Session) -> Option<(Millis, Millis)> {
    let spans = session.spans.first().zip(session.spans.last()).map(|(first, last)| (first.start, last.end));
    spans.or_else(|| {
        let times = session.messages.iter().map(|m| m.at);
        Some((times.clone().min()?, times.max()?))
    })
}

/// One ten-thousandth of an hour (the precision of every hours column), in milliseconds.
const HOUR_FRACTION_MS: i64 = 360;

/// A count of ten-thousandths of an hour as the hours columns write it: `1.1025`.
fn ten_thousandths(count: i64) -> String {
    format!("{}.{:04}", count / 10_000, count % 10_000)
}

/// A session's description in the spreadsheet: the last segment of its folder (never message text).
fn folder_name(path: &str) -> &str {
    path.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(path)
}

/// One row per entry of a destination's plan (the days to post and, when shown, those already posted),
/// as `sync` computes it.
pub(crate) fn allocation_rows(batches: &[Batch], destination: &str, tz: Tz) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for batch in batches {
        for step in &batch.steps {
            let entry = &step.planned();
            let project = entry.mapped_path.as_deref().unwrap_or("Other");
            rows.push(vec![
                batch.date.to_string(),
                destination.to_string(),
                safe_cell(project).into_owned(),
                safe_cell(entry.project_id.as_deref().unwrap_or("")).into_owned(),
                csv_time(entry.start, tz),
                csv_time(entry.end, tz),
                csv_hours(entry.start, entry.end),
            ]);
        }
    }
    rows
}

/// One row per entry of a sessions plan made with every project its own (its path): start and end as
/// posted (whole seconds, with the zone's offset), their difference in hours, description, tags,
/// folder.
pub(crate) fn push_rows(batches: &[Batch], tz: Tz) -> Vec<Vec<String>> {
    batches
        .iter()
        .flat_map(|batch| &batch.steps)
        .map(|step| {
            vec![
                csv_time(step.draft.start, tz),
                csv_time(step.plan.end, tz),
                csv_hours(step.draft.start, step.plan.end),
                safe_cell(&step.draft.description).into_owned(),
                safe_cell(&tag_list(&step.draft.tags)).into_owned(),
                safe_cell(step.plan.mapped_path.as_deref().unwrap_or("")).into_owned(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::{MessageRecord, Span};
    use chrono::NaiveTime;

    fn at(text: &str) -> Millis {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    #[test]
    fn formula_starts_are_neutralised() {
        for dangerous in ["=SUM(A1)", "+1", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(safe_cell(dangerous), format!("'{dangerous}"));
        }
        assert_eq!(safe_cell("/home/dev/app"), "/home/dev/app");
        assert_eq!(safe_cell("a=b"), "a=b");
        assert_eq!(safe_cell(""), "");
    }

    #[test]
    fn sessions_rows_carry_times_hours_and_tokens() {
        let session = Session {
            session_id: "s".into(),
            project: "=HYPERLINK(\"x\")".into(),
            git_branch: Some("-main".into()),
            spans: vec![Span { start: at("2026-11-02T08:00:00Z"), end: at("2026-11-02T09:30:00Z") }],
            // A sub-agent's message before the session's first line: tokens, never the start.
            messages: vec![MessageRecord {
                key: 1,
                at: at("2026-11-02T07:49:00Z"),
                usage: Usage { input: 1, output: 2, cache_creation: 3, cache_read: 4 },
            }],
            models: Vec::new(),
            hands_on: vec![Span { start: at("2026-11-02T08:00:00Z"), end: at("2026-11-02T08:20:00Z") }],
            supervised: vec![Span { start: at("2026-11-02T08:20:00Z"), end: at("2026-11-02T08:40:00Z") }],
            machine: "work-laptop".into(),
            ..Default::default()
        };
        let date = "2026-11-02".parse().unwrap();
        let tags = BTreeMap::from([("s".to_string(), vec!["=cmd".to_string(), "acme".to_string()])]);
        let rows = session_rows(&[session], &tags, date, date, chrono_tz::Europe::Berlin);
        assert_eq!(
            rows,
            vec![vec![
                "s".to_string(),
                "2026-11-02T09:00:00+01:00".into(),
                "2026-11-02T10:30:00+01:00".into(),
                "1.5000".into(),
                "'=HYPERLINK(\"x\")".into(),
                "'=cmd, acme".into(),
                "'=HYPERLINK(\"x\")".into(),
                "'-main".into(),
                "1".into(),
                "2".into(),
                "3".into(),
                "4".into(),
                "0.3334".into(),
                "0.3333".into(),
                "0.8333".into(),
                "false".into(),
                "work-laptop".into(),
            ]]
        );
    }

    #[test]
    fn the_description_is_the_folder_name() {
        assert_eq!(folder_name("/home/dev/code/webshop/"), "webshop");
        assert_eq!(folder_name("C:\\work\\app"), "app");
        assert_eq!(folder_name("/"), "/");
    }

    #[test]
    fn allocation_rows_follow_the_plan() {
        use crate::allocate::{AllocationRules, ProjectMapping};
        use crate::ledger::Ledger;
        use crate::sync::daily::{PlanInput, plan};
        use crate::sync::steps::EntryTemplate;
        let session = Session {
            session_id: "s".into(),
            project: "/w/a".into(),
            git_branch: None,
            spans: vec![Span { start: at("2026-11-02T08:00:00Z"), end: at("2026-11-02T09:00:00Z") }],
            messages: Vec::new(),
            models: Vec::new(),
            ..Default::default()
        };
        let rules = AllocationRules {
            tz: chrono_tz::UTC,
            work_day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            work_day_end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            round_to_minutes: 0,
            mapping: ProjectMapping::new([("/w/a".to_string(), "123".to_string())]),
            other_project_id: Some("9".into()),
        };
        let batches = plan(&PlanInput {
            since: "2026-11-01".parse().unwrap(),
            until: "2026-11-03".parse().unwrap(),
            today: "2026-11-10".parse().unwrap(),
            work_days: &[chrono::Weekday::Mon, chrono::Weekday::Tue],
            sessions: &[session],
            rules: &rules,
            template: &EntryTemplate::default(),
            tag_rules: &crate::classify::Rules::default(),
            session_tags: &BTreeMap::new(),
            folders: crate::folders::FolderTargets::none(),
            done: &crate::descriptions::NOTHING_DONE,
            ledger: &Ledger::default(),
            show_synced: true,
        });
        let rows = allocation_rows(&batches, "toggl", rules.tz);
        assert_eq!(
            rows,
            vec![vec![
                "2026-11-02".to_string(),
                "toggl".into(),
                "/w/a".into(),
                "123".into(),
                "2026-11-02T09:00:00+00:00".into(),
                "2026-11-02T17:00:00+00:00".into(),
                "8.0000".into()
            ]]
        );
    }
}
