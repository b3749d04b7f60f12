//! Turns one local day of classified sessions into timesheet entries: tracked time is only a ratio; the
//! whole work day is split across the destination's projects by it and stacked as contiguous entries.
//! Which project a session belongs to is decided before (`classify`); this module only maps the local
//! project key to the destination's id and splits the time. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::classify::{Classified, ProjectKey, normalize};
use crate::sessions::Millis;
use crate::workday;

/// How a day is split: the work window, the rounding, and where each local project goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AllocationRules {
    pub(crate) tz: Tz,
    pub(crate) work_day_start: NaiveTime,
    pub(crate) work_day_end: NaiveTime,
    /// Every share is a multiple of this many minutes (0: whole seconds); the day's entries then end at
    /// the last whole increment of the work window.
    pub(crate) round_to_minutes: u32,
    pub(crate) mapping: ProjectMapping,
    /// Where unmapped time goes; `None`: nowhere (a day with unmapped time cannot be posted).
    pub(crate) other_project_id: Option<String>,
}

/// Local project keys (paths) to a destination's project ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProjectMapping {
    /// Normalized key to project id.
    ids: BTreeMap<String, String>,
}

impl ProjectMapping {
    /// Builds a mapping from `(key, project id)` pairs.
    pub(crate) fn new(pairs: impl IntoIterator<Item = (String, String)>) -> ProjectMapping {
        ProjectMapping { ids: pairs.into_iter().map(|(key, id)| (normalize(&key), id)).collect() }
    }

    /// The keys, for the classifier.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.ids.keys().map(String::as_str)
    }

    /// The project id mapped to exactly this key, if any.
    pub(crate) fn id_of(&self, key: &str) -> Option<&str> {
        self.ids.get(key).map(String::as_str)
    }
}

impl AllocationRules {
    /// Where a local project's time goes: `(project id, mapped key)`; the mapped key is `None` for the
    /// Other bucket.
    pub(crate) fn target(&self, project: &ProjectKey) -> (Option<String>, Option<String>) {
        match project {
            ProjectKey::Mapped(key) => match self.mapping.id_of(key) {
                Some(id) => (Some(id.to_string()), Some(key.clone())),
                None => (self.other_project_id.clone(), None),
            },
            ProjectKey::Unmapped(_) => (self.other_project_id.clone(), None),
        }
    }
}

/// One entry to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlannedEntry {
    /// `None`: unmapped time with no Other project to put it in.
    pub(crate) project_id: Option<String>,
    /// The mapped local key, or `None` for the Other bucket.
    pub(crate) mapped_path: Option<String>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) seconds: i64,
    /// Share of the tracked time, in parts per million (for display).
    pub(crate) share_ppm: u32,
    /// The tag set of the work it stands for (sorted; empty without rules or tags).
    pub(crate) tags: Vec<String>,
    /// The rules' `billable` for this work (`None`: the destination's setting).
    pub(crate) billable: Option<bool>,
}

#[derive(Debug)]
struct Bucket {
    project_id: Option<String>,
    mapped_path: Option<String>,
    /// The sessions' tag set (sorted): work of one project with other tags is another entry.
    tags: Vec<String>,
    /// The rules' `billable` when every session of the bucket agrees on one, else `None`.
    billable: Option<Option<bool>>,
    tracked_ms: i64,
}

/// Active milliseconds per destination project inside the local day, projects with no time left out.
fn tracked_buckets(
    sessions: &[Classified<'_>],
    from: Millis,
    to: Millis,
    rules: &AllocationRules,
) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = Vec::new();
    for classified in sessions {
        let tracked: i64 = classified.session.spans.iter().map(|s| s.overlap_ms(from, to)).sum();
        if tracked == 0 {
            continue;
        }
        let (project_id, mapped_path) = rules.target(classified.project);
        let tags = classified.tags;
        match buckets.iter_mut().find(|b| b.project_id == project_id && b.tags == tags) {
            Some(bucket) => {
                bucket.tracked_ms += tracked;
                if bucket.billable != Some(classified.billable) {
                    bucket.billable = Some(None); // sessions disagree: the destination's default
                }
            }
            None => buckets.push(Bucket {
                project_id,
                mapped_path,
                tags: tags.to_vec(),
                billable: Some(classified.billable),
                tracked_ms: tracked,
            }),
        }
    }
    buckets
}

/// The work window of a local day in UTC (its length follows DST: it is the wall-clock window).
pub(crate) fn work_window(date: NaiveDate, rules: &AllocationRules) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        workday::local_instant(date, rules.work_day_start, rules.tz),
        workday::local_instant(date, rules.work_day_end, rules.tz),
    )
}

/// Splits `total` units across weights so that every share is within one unit of its exact value and
/// the shares sum to `total` (largest remainder; ties go to the earlier weight).
pub(crate) fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|w| {
            let scaled = i128::from(total) * i128::from(*w);
            (i64::try_from(scaled / sum).unwrap_or(0), scaled % sum)
        })
        .collect();
    let mut shares: Vec<i64> = exact.iter().map(|(floor, _)| *floor).collect();
    let left = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for index in order.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[index] += 1;
    }
    shares
}

/// The entries for one local day: none when nothing was tracked that day.
pub(crate) fn allocate_day(
    sessions: &[Classified<'_>],
    date: NaiveDate,
    rules: &AllocationRules,
) -> Vec<PlannedEntry> {
    let (day_from, day_to) = workday::days_window(date, date, rules.tz);
    let mut buckets = tracked_buckets(sessions, day_from, day_to, rules);
    if buckets.is_empty() {
        return Vec::new();
    }
    // A stable order before splitting, so ties in the remainders are deterministic.
    buckets.sort_by(|a, b| {
        b.tracked_ms.cmp(&a.tracked_ms).then_with(|| (&a.project_id, &a.tags).cmp(&(&b.project_id, &b.tags)))
    });
    let (start, end) = work_window(date, rules);
    let work_seconds = (end - start).num_seconds();
    let weights: Vec<i64> = buckets.iter().map(|b| b.tracked_ms).collect();
    let seconds = split_seconds(work_seconds, &weights, rules.round_to_minutes);
    let tracked_total: i64 = weights.iter().sum();

    let mut shares: Vec<(Bucket, i64)> = buckets.into_iter().zip(seconds).filter(|(_, s)| *s > 0).collect();
    shares.sort_by(|a, b| {
        b.1.cmp(&a.1).then_with(|| (&a.0.project_id, &a.0.tags).cmp(&(&b.0.project_id, &b.0.tags)))
    });
    let mut cursor = start;
    shares
        .into_iter()
        .map(|(bucket, seconds)| {
            let entry_start = cursor;
            cursor += Duration::seconds(seconds);
            let share = i128::from(bucket.tracked_ms) * 1_000_000 / i128::from(tracked_total);
            PlannedEntry {
                project_id: bucket.project_id,
                mapped_path: bucket.mapped_path,
                start: entry_start,
                end: cursor,
                seconds,
                share_ppm: u32::try_from(share).unwrap_or(0),
                tags: bucket.tags,
                billable: bucket.billable.flatten(),
            }
        })
        .collect()
}

/// Whole seconds per weight summing to `work_seconds`; with rounding, whole increments only (largest
/// remainder over the increments that fit the window: what is left of the window after the last whole
/// increment is not posted). A window shorter than one increment (a DST day of a work day barely longer
/// than the increment) is split in whole seconds.
fn split_seconds(work_seconds: i64, weights: &[i64], round_to_minutes: u32) -> Vec<i64> {
    let increment = i64::from(round_to_minutes) * 60;
    if increment <= 0 || work_seconds < increment {
        return largest_remainder(work_seconds, weights);
    }
    largest_remainder(work_seconds / increment, weights).into_iter().map(|units| units * increment).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Classifier, pair};
    use crate::sessions::{Session, Span};

    const HOUR: i64 = 3_600_000;

    fn at(text: &str) -> Millis {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    /// Classifies with the rules' mapping, then splits: what the planner does.
    fn allocate_day(sessions: &[Session], date: NaiveDate, rules: &AllocationRules) -> Vec<PlannedEntry> {
        let projects = Classifier::new(rules.mapping.keys()).classify_all(sessions);
        super::allocate_day(&pair(sessions, &projects), date, rules)
    }

    fn session(project: &str, start: &str, hours: f64) -> Session {
        let start = at(start);
        Session {
            session_id: format!("{project}-{start}"),
            project: project.into(),
            git_branch: None,
            spans: vec![Span { start, end: start + (hours * HOUR as f64) as i64 }],
            messages: Vec::new(),
            models: Vec::new(),
            ..Default::default()
        }
    }

    fn rules(mapping: &[(&str, &str)]) -> AllocationRules {
        AllocationRules {
            tz: chrono_tz::UTC,
            work_day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            work_day_end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            round_to_minutes: 0,
            mapping: ProjectMapping::new(mapping.iter().map(|(p, i)| (p.to_string(), i.to_string()))),
            other_project_id: Some("other".into()),
        }
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn summary(entries: &[PlannedEntry]) -> Vec<(String, String, String, i64)> {
        entries
            .iter()
            .map(|e| {
                (
                    e.project_id.clone().unwrap(),
                    e.start.format("%H:%M:%S").to_string(),
                    e.end.format("%H:%M:%S").to_string(),
                    e.seconds,
                )
            })
            .collect()
    }

    #[test]
    fn seed_example_three_one_one_over_eight_hours() {
        let sessions = [
            session("/w/npr", "2026-11-02T08:00:00Z", 3.0),
            session("/w/tracker", "2026-11-02T12:00:00Z", 1.0),
            session("/w/unmapped", "2026-11-02T14:00:00Z", 1.0),
        ];
        let entries =
            allocate_day(&sessions, date("2026-11-02"), &rules(&[("/w/npr", "npr"), ("/w/tracker", "ct")]));
        assert_eq!(
            summary(&entries),
            vec![
                ("npr".into(), "09:00:00".into(), "13:48:00".into(), 4 * 3600 + 48 * 60),
                ("ct".into(), "13:48:00".into(), "15:24:00".into(), 3600 + 36 * 60),
                ("other".into(), "15:24:00".into(), "17:00:00".into(), 3600 + 36 * 60),
            ]
        );
        assert_eq!(entries[0].mapped_path.as_deref(), Some("/w/npr"));
        assert_eq!(entries[2].mapped_path, None);
        assert_eq!(entries[0].share_ppm, 600_000);
    }

    #[test]
    fn no_other_entry_when_everything_is_mapped_and_none_without_sessions() {
        let sessions = [session("/w/a", "2026-11-02T08:00:00Z", 1.0)];
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules(&[("/w/a", "a")]));
        assert_eq!(summary(&entries), vec![("a".into(), "09:00:00".into(), "17:00:00".into(), 8 * 3600)]);
        assert!(allocate_day(&sessions, date("2026-11-03"), &rules(&[])).is_empty());
    }

    #[test]
    fn thirds_sum_exactly_and_stay_within_a_second() {
        let sessions = [
            session("/w/a", "2026-11-02T08:00:00Z", 1.0),
            session("/w/b", "2026-11-02T10:00:00Z", 1.0),
            session("/w/c", "2026-11-02T12:00:00Z", 1.0),
        ];
        let entries = allocate_day(
            &sessions,
            date("2026-11-02"),
            &rules(&[("/w/a", "a"), ("/w/b", "b"), ("/w/c", "c")]),
        );
        let seconds: Vec<i64> = entries.iter().map(|e| e.seconds).collect();
        assert_eq!(seconds.iter().sum::<i64>(), 8 * 3600);
        assert!(seconds.iter().all(|s| (s - 9600).abs() <= 1), "{seconds:?}");
        assert_eq!(entries[0].project_id.as_deref(), Some("a"), "ties go by project id");
        assert_eq!(entries.last().unwrap().end.format("%H:%M").to_string(), "17:00");
    }

    #[test]
    fn largest_remainder_properties() {
        assert_eq!(largest_remainder(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(largest_remainder(7, &[0, 5]), vec![0, 7]);
        assert_eq!(largest_remainder(7, &[0, 0]), vec![0, 0]);
        for total in [1, 59, 28_800, 86_399] {
            let weights = [7, 13, 1, 999, 2];
            let shares = largest_remainder(total, &weights);
            assert_eq!(shares.iter().sum::<i64>(), total);
            let weight_sum: i64 = weights.iter().sum();
            for (share, weight) in shares.iter().zip(weights) {
                let exact = total as f64 * weight as f64 / weight_sum as f64;
                assert!((*share as f64 - exact).abs() < 1.0, "{share} vs {exact}");
            }
        }
    }

    #[test]
    fn rounding_to_increments_sums_to_the_day_and_drops_zero_buckets() {
        let sessions = [
            session("/w/a", "2026-11-02T08:00:00Z", 5.0),
            session("/w/b", "2026-11-02T14:00:00Z", 0.1),
            session("/w/c", "2026-11-02T15:00:00Z", 2.0),
        ];
        let mut rules = rules(&[("/w/a", "a"), ("/w/b", "b"), ("/w/c", "c")]);
        rules.round_to_minutes = 15;
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules);
        let seconds: Vec<(String, i64)> =
            entries.iter().map(|e| (e.project_id.clone().unwrap(), e.seconds)).collect();
        // Exact quarter hours of 32: a 22.54, b 0.45, c 9.01 -> floors 22, 0, 9; the one left goes to a.
        assert_eq!(seconds, vec![("a".into(), 23 * 900), ("c".into(), 9 * 900)]);
        assert!(entries.iter().all(|e| e.seconds % 900 == 0));
    }

    #[test]
    fn every_share_is_a_whole_increment_and_the_day_ends_at_the_last_one() {
        // 25-minute increments over 8 hours: 19 fit (7 h 55 min); the 5 minutes after them are not posted.
        let sessions = [
            session("/w/a", "2026-11-02T08:00:00Z", 3.0),
            session("/w/b", "2026-11-02T12:00:00Z", 2.0),
            session("/w/c", "2026-11-02T15:00:00Z", 1.3),
        ];
        let mut rules = rules(&[("/w/a", "a"), ("/w/b", "b"), ("/w/c", "c")]);
        rules.round_to_minutes = 25;
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules);
        assert_eq!(
            summary(&entries),
            vec![
                ("a".into(), "09:00:00".into(), "12:45:00".into(), 9 * 1500),
                ("b".into(), "12:45:00".into(), "15:15:00".into(), 6 * 1500),
                ("c".into(), "15:15:00".into(), "16:55:00".into(), 4 * 1500),
            ]
        );
    }

    #[test]
    fn a_window_shorter_than_one_increment_is_split_in_seconds() {
        let sessions =
            [session("/w/a", "2026-11-02T08:00:00Z", 3.0), session("/w/c", "2026-11-02T12:00:00Z", 1.0)];
        let mut rules = rules(&[("/w/a", "a"), ("/w/c", "c")]);
        rules.round_to_minutes = 480;
        rules.work_day_end = NaiveTime::from_hms_opt(16, 0, 0).unwrap();
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules);
        assert_eq!(
            entries.iter().map(|e| (e.project_id.as_deref(), e.seconds)).collect::<Vec<_>>(),
            vec![(Some("a"), 18_900), (Some("c"), 6300)]
        );
    }

    #[test]
    fn work_of_one_project_with_other_tags_is_another_entry() {
        let sessions = [
            session("/w/a", "2026-11-02T08:00:00Z", 3.0),
            session("/w/a", "2026-11-02T12:00:00Z", 1.0),
            session("/w/a", "2026-11-02T14:00:00Z", 1.0),
        ];
        let tags = std::collections::BTreeMap::from([
            (sessions[0].session_id.clone(), vec!["billable".to_string()]),
            (sessions[2].session_id.clone(), vec!["billable".to_string()]),
        ]);
        let rules = rules(&[("/w/a", "a")]);
        let projects = Classifier::new(rules.mapping.keys()).classify_all(&sessions);
        let entries = super::allocate_day(
            &crate::classify::pair_tagged(&sessions, &projects, &tags),
            date("2026-11-02"),
            &rules,
        );
        let summary: Vec<(Vec<String>, i64)> = entries.iter().map(|e| (e.tags.clone(), e.seconds)).collect();
        // 4 h billable, 1 h not: 6:24 and 1:36 of the 8-hour day, both to project `a`.
        assert_eq!(summary, vec![(vec!["billable".to_string()], 23_040), (Vec::new(), 5_760)]);
        assert!(entries.iter().all(|e| e.project_id.as_deref() == Some("a")));
    }

    #[test]
    fn unmapped_time_without_an_other_project_has_no_id() {
        let sessions = [session("/w/x", "2026-11-02T08:00:00Z", 1.0)];
        let mut rules = rules(&[]);
        rules.other_project_id = None;
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules);
        assert_eq!(entries.iter().map(|e| e.project_id.clone()).collect::<Vec<_>>(), vec![None]);
    }

    #[test]
    fn session_across_midnight_counts_only_the_days_part() {
        let sessions =
            [session("/w/a", "2026-11-02T23:00:00Z", 2.0), session("/w/b", "2026-11-03T09:00:00Z", 1.0)];
        let entries = allocate_day(&sessions, date("2026-11-03"), &rules(&[("/w/a", "a"), ("/w/b", "b")]));
        // a: 1h on the 3rd, b: 1h: an even split.
        assert_eq!(entries.iter().map(|e| e.seconds).collect::<Vec<_>>(), vec![4 * 3600, 4 * 3600]);
    }

    #[test]
    fn two_paths_to_one_project_make_one_entry() {
        let sessions =
            [session("/w/a", "2026-11-02T08:00:00Z", 1.0), session("/w/b", "2026-11-02T10:00:00Z", 1.0)];
        let entries =
            allocate_day(&sessions, date("2026-11-02"), &rules(&[("/w/a", "same"), ("/w/b", "same")]));
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].seconds, 8 * 3600);
    }

    #[test]
    fn dst_day_uses_the_wall_clock_window() {
        let mut rules = rules(&[("/w/a", "a")]);
        rules.tz = chrono_tz::Europe::Berlin;
        rules.work_day_start = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        rules.work_day_end = NaiveTime::from_hms_opt(5, 0, 0).unwrap();
        let sessions = [session("/w/a", "2026-03-29T08:00:00Z", 1.0)];
        let entries = allocate_day(&sessions, date("2026-03-29"), &rules);
        assert_eq!(entries[0].seconds, 3 * 3600, "01:00-05:00 on the spring-forward day is 3 hours");
        assert_eq!(entries[0].start.to_rfc3339(), "2026-03-29T00:00:00+00:00");
        rules.work_day_start = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        rules.work_day_end = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        let entries = allocate_day(&sessions, date("2026-03-29"), &rules);
        assert_eq!(entries[0].start.to_rfc3339(), "2026-03-29T07:00:00+00:00");
        assert_eq!(entries[0].seconds, 8 * 3600);
    }
}
