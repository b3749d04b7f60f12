//! Turns one local day of sessions into timesheet entries: tracked time is only a ratio; the whole work
//! day is split across projects by it and stacked as contiguous entries. Pure: no I/O, no clock.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::sessions::Millis;
use crate::store::StoredSession;
use crate::workday;

/// How a day is split: the work window, the rounding, and where each local project goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRules {
    pub tz: Tz,
    pub work_day_start: NaiveTime,
    pub work_day_end: NaiveTime,
    /// Every share is a multiple of this many minutes (0: whole seconds).
    pub round_to_minutes: u32,
    pub mapping: ProjectMapping,
    /// Where unmapped time goes.
    pub other_project_id: String,
}

/// Local project paths to a destination's project ids. A path covers every folder below it; the
/// longest covering path wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectMapping {
    /// `(path without trailing separators, project id)`, longest path first.
    rules: Vec<(String, String)>,
}

impl ProjectMapping {
    /// Builds a mapping from `(path, project id)` pairs.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> ProjectMapping {
        let mut rules: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(path, id)| {
                let trimmed = path.trim_end_matches(['/', '\\']);
                (if trimmed.is_empty() { path } else { trimmed.to_string() }, id)
            })
            .collect();
        rules.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        ProjectMapping { rules }
    }

    /// The project id mapped to exactly this path (a key of the mapping), if any.
    pub fn id_of(&self, path: &str) -> Option<&str> {
        self.rules.iter().find(|(key, _)| key == path).map(|(_, id)| id.as_str())
    }

    /// The mapped `(path, project id)` covering `project`, if any.
    pub fn lookup(&self, project: &str) -> Option<(&str, &str)> {
        self.rules
            .iter()
            .find(|(path, _)| covers(path, project))
            .map(|(path, id)| (path.as_str(), id.as_str()))
    }
}

/// True when `project` is `path` or a folder below it (by whole path segments).
fn covers(path: &str, project: &str) -> bool {
    if path == "/" {
        return project.starts_with('/');
    }
    project.strip_prefix(path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '\\']))
}

/// One entry to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEntry {
    pub project_id: String,
    /// The mapped local path, or `None` for the Other bucket.
    pub mapped_path: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub seconds: i64,
    /// Share of the tracked time, in parts per million (for display).
    pub share_ppm: u32,
}

#[derive(Debug)]
struct Bucket {
    project_id: String,
    mapped_path: Option<String>,
    tracked_ms: i64,
}

/// Active milliseconds per bucket inside the local day, buckets with no time left out.
fn tracked_buckets(
    sessions: &[StoredSession],
    from: Millis,
    to: Millis,
    rules: &AllocationRules,
) -> Vec<Bucket> {
    let mut buckets: Vec<Bucket> = Vec::new();
    for session in sessions {
        let tracked: i64 = session.spans.iter().map(|s| s.overlap_ms(from, to)).sum();
        if tracked == 0 {
            continue;
        }
        let (project_id, mapped_path) = match rules.mapping.lookup(&session.project) {
            Some((path, id)) => (id.to_string(), Some(path.to_string())),
            None => (rules.other_project_id.clone(), None),
        };
        match buckets.iter_mut().find(|b| b.project_id == project_id) {
            Some(bucket) => bucket.tracked_ms += tracked,
            None => buckets.push(Bucket { project_id, mapped_path, tracked_ms: tracked }),
        }
    }
    buckets
}

/// The work window of a local day in UTC (its length follows DST: it is the wall-clock window).
pub fn work_window(date: NaiveDate, rules: &AllocationRules) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        workday::local_instant(date, rules.work_day_start, rules.tz),
        workday::local_instant(date, rules.work_day_end, rules.tz),
    )
}

/// Splits `total` units across weights so that every share is within one unit of its exact value and
/// the shares sum to `total` (largest remainder; ties go to the earlier weight).
pub fn largest_remainder(total: i64, weights: &[i64]) -> Vec<i64> {
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
pub fn allocate_day(
    sessions: &[StoredSession],
    date: NaiveDate,
    rules: &AllocationRules,
) -> Vec<PlannedEntry> {
    let (day_from, day_to) = workday::days_window(date, date, rules.tz);
    let mut buckets = tracked_buckets(sessions, day_from, day_to, rules);
    if buckets.is_empty() {
        return Vec::new();
    }
    // A stable order before splitting, so ties in the remainders are deterministic.
    buckets.sort_by(|a, b| b.tracked_ms.cmp(&a.tracked_ms).then_with(|| a.project_id.cmp(&b.project_id)));
    let (start, end) = work_window(date, rules);
    let work_seconds = (end - start).num_seconds();
    let weights: Vec<i64> = buckets.iter().map(|b| b.tracked_ms).collect();
    let seconds = split_seconds(work_seconds, &weights, rules.round_to_minutes);
    let tracked_total: i64 = weights.iter().sum();

    let mut shares: Vec<(Bucket, i64)> = buckets.into_iter().zip(seconds).filter(|(_, s)| *s > 0).collect();
    shares.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.project_id.cmp(&b.0.project_id)));
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
            }
        })
        .collect()
}

/// Whole seconds per weight summing to `work_seconds`; with rounding, whole increments (largest
/// remainder over increments), and any part of the day smaller than one increment added to the largest.
fn split_seconds(work_seconds: i64, weights: &[i64], round_to_minutes: u32) -> Vec<i64> {
    let increment = i64::from(round_to_minutes) * 60;
    if increment <= 0 {
        return largest_remainder(work_seconds, weights);
    }
    let mut shares: Vec<i64> = largest_remainder(work_seconds / increment, weights)
        .into_iter()
        .map(|units| units * increment)
        .collect();
    let leftover = work_seconds - shares.iter().sum::<i64>();
    // The first of the largest shares, in bucket order (most tracked time first); when every share
    // rounded to zero, the most tracked bucket.
    let largest = shares.iter().enumerate().fold(0, |best, (i, s)| if *s > shares[best] { i } else { best });
    if let Some(share) = shares.get_mut(largest) {
        *share += leftover;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::Span;

    const HOUR: i64 = 3_600_000;

    fn at(text: &str) -> Millis {
        text.parse::<DateTime<Utc>>().unwrap().timestamp_millis()
    }

    fn session(project: &str, start: &str, hours: f64) -> StoredSession {
        let start = at(start);
        StoredSession {
            session_id: format!("{project}-{start}"),
            project: project.into(),
            git_branch: None,
            spans: vec![Span { start, end: start + (hours * HOUR as f64) as i64 }],
            messages: Vec::new(),
        }
    }

    fn rules(mapping: &[(&str, &str)]) -> AllocationRules {
        AllocationRules {
            tz: chrono_tz::UTC,
            work_day_start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            work_day_end: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            round_to_minutes: 0,
            mapping: ProjectMapping::new(mapping.iter().map(|(p, i)| (p.to_string(), i.to_string()))),
            other_project_id: "other".into(),
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
                    e.project_id.clone(),
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
        assert_eq!(entries[0].project_id, "a", "ties go by project id");
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
        let seconds: Vec<(String, i64)> = entries.iter().map(|e| (e.project_id.clone(), e.seconds)).collect();
        // Exact quarter hours of 32: a 22.54, b 0.45, c 9.01 -> floors 22, 0, 9; the one left goes to a.
        assert_eq!(seconds, vec![("a".into(), 23 * 900), ("c".into(), 9 * 900)]);
        assert!(entries.iter().all(|e| e.seconds % 900 == 0));
    }

    #[test]
    fn rounding_leftover_goes_to_the_most_tracked_project() {
        let sessions =
            [session("/w/a", "2026-11-02T08:00:00Z", 3.0), session("/w/c", "2026-11-02T12:00:00Z", 2.0)];
        let mut rules = rules(&[("/w/a", "a"), ("/w/c", "c")]);
        rules.round_to_minutes = 480;
        rules.work_day_end = NaiveTime::from_hms_opt(16, 0, 0).unwrap();
        let entries = allocate_day(&sessions, date("2026-11-02"), &rules);
        assert_eq!(
            entries.iter().map(|e| (e.project_id.as_str(), e.seconds)).collect::<Vec<_>>(),
            vec![("a", 7 * 3600)]
        );
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
    fn sub_folder_of_mapped_project_is_covered_and_longest_wins() {
        let mapping = ProjectMapping::new([
            ("/w/shop/".to_string(), "shop".to_string()),
            ("/w/shop/frontend".to_string(), "front".to_string()),
        ]);
        assert_eq!(mapping.lookup("/w/shop/api/src"), Some(("/w/shop", "shop")));
        assert_eq!(mapping.lookup("/w/shop/frontend/app"), Some(("/w/shop/frontend", "front")));
        assert_eq!(mapping.lookup("/w/shopping"), None, "whole segments only");
        assert_eq!(mapping.lookup("/w/shop"), Some(("/w/shop", "shop")));
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
