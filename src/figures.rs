//! How every figure is counted, rounded and written, in one place, so that the figures of any table,
//! listing or CSV add up (notes/09-figures.md): the one rounding (largest remainder), the one duration
//! style (`H:MM`), the clock times of a listing, the one definition of "tracked time on a day", and
//! the one time format, hours and tag separator of every CSV.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::sessions::{Millis, Session};

/// A minute in milliseconds: tables and listings show whole minutes.
pub(crate) const MINUTE_MS: i64 = 60_000;
/// A second in milliseconds: JSON shows whole seconds.
pub(crate) const SECOND_MS: i64 = 1_000;

/// `value` in whole `unit`s, the nearest (a half rounds up); never below zero.
pub(crate) fn round_to(value: i64, unit: i64) -> i64 {
    let unit = unit.max(1);
    (value.max(0) + unit / 2) / unit
}

/// Whole `unit`s for a grid of parts (rows) by three columns (the attention bands) that adds up both
/// ways: row `i` sums to `row_totals[i]` (its share already rounded), each column to its exact total
/// rounded ([`apportion_to`] against the rows' sum), so a band's total is the same in every grouping of
/// the same parts. Each cell is its floor, or one more when it has a remainder (a cell of exact units,
/// zero included, stays as it is). Which cells get the units left is a small flow problem (rows to
/// columns, augmenting paths). Fixed row and column totals do not always admit one; then other column
/// totals next to the exact ones (floor or ceiling) are tried, and should none fit, each row is split
/// alone and the columns take what they add up to (the unit test counts how often each happens).
pub(crate) fn apportion_grid(cells: &[[i64; 3]], row_totals: &[i64], unit: i64) -> Vec<[i64; 3]> {
    let unit = unit.max(1);
    let cells: Vec<[i64; 3]> = cells.iter().map(|c| c.map(|v| v.max(0))).collect();
    let total: i64 = row_totals.iter().sum();
    let exact: Vec<i64> = (0..3).map(|j| cells.iter().map(|c| c[j]).sum()).collect();
    let floors: Vec<[i64; 3]> = cells.iter().map(|c| c.map(|v| v / unit)).collect();
    let floor_sums: Vec<i64> = (0..3).map(|j| floors.iter().map(|f| f[j]).sum()).collect();
    let rounded = apportion_to(&exact, unit, total);
    // The exact totals rounded first; else any other column totals next to their exact ones (floor or
    // ceiling each) that add up to the total.
    let mut candidates = vec![rounded.clone()];
    for mask in 0..8_u32 {
        let targets: Vec<i64> =
            (0..3).map(|j| exact[j] / unit + i64::from(mask >> j & 1 == 1 && exact[j] % unit > 0)).collect();
        if targets.iter().sum::<i64>() == total && targets != rounded {
            candidates.push(targets);
        }
    }
    for targets in candidates {
        let left: Vec<i64> = targets.iter().zip(&floor_sums).map(|(t, f)| t - f).collect();
        if let Some(grid) = raise(&cells, &floors, row_totals, unit, left) {
            return grid;
        }
    }
    cells.iter().zip(row_totals).map(|(c, &t)| to_array(apportion_to(c, unit, t))).collect()
}

/// The floors, with one more in as many cells (with a remainder) as each row still needs and each
/// column may still take; `None` when they cannot all be placed.
fn raise(
    cells: &[[i64; 3]],
    floors: &[[i64; 3]],
    row_totals: &[i64],
    unit: i64,
    mut column_left: Vec<i64>,
) -> Option<Vec<[i64; 3]>> {
    if column_left.iter().any(|left| *left < 0) {
        return None;
    }
    let mut raised = vec![[false; 3]; cells.len()];
    let open = |i: usize, j: usize| cells[i][j] % unit > 0;
    // Rows with the largest remainders first, so ties go as `apportion` gives them.
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cells[i].iter().map(|v| v % unit).sum::<i64>()));
    for start in order {
        let need = row_totals[start] - floors[start].iter().sum::<i64>();
        if need < 0 {
            return None;
        }
        for _ in 0..need {
            if !augment(start, &open, &mut raised, &mut column_left) {
                return None;
            }
        }
    }
    let mut grid = floors.to_vec();
    for (row, raised) in grid.iter_mut().zip(&raised) {
        row.iter_mut().zip(raised).filter(|(_, r)| **r).for_each(|(cell, _)| *cell += 1);
    }
    Some(grid)
}

/// Gives row `start` one more raised cell, moving other rows' raised cells to other columns along an
/// alternating path when the column it can take is full (breadth first, columns by most left).
fn augment(
    start: usize,
    open: &impl Fn(usize, usize) -> bool,
    raised: &mut [[bool; 3]],
    column_left: &mut [i64],
) -> bool {
    let rows = raised.len();
    let mut via_column: [Option<usize>; 3] = [None; 3];
    let mut via_row: Vec<Option<usize>> = vec![None; rows];
    let mut seen_row = vec![false; rows];
    seen_row[start] = true;
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(row) = queue.pop_front() {
        let mut columns = [0, 1, 2];
        columns.sort_by_key(|&j| std::cmp::Reverse(column_left[j]));
        for j in columns {
            if via_column[j].is_some() || raised[row][j] || !open(row, j) {
                continue;
            }
            via_column[j] = Some(row);
            if column_left[j] > 0 {
                column_left[j] -= 1;
                let mut column = j;
                while let Some(owner) = via_column[column] {
                    raised[owner][column] = true;
                    match via_row[owner] {
                        Some(previous) if owner != start => {
                            raised[owner][previous] = false;
                            column = previous;
                        }
                        _ => break,
                    }
                }
                return true;
            }
            for other in 0..rows {
                if raised[other][j] && !seen_row[other] {
                    seen_row[other] = true;
                    via_row[other] = Some(j);
                    queue.push_back(other);
                }
            }
        }
    }
    false
}

fn to_array(values: Vec<i64>) -> [i64; 3] {
    [values[0], values[1], values[2]]
}

/// As [`apportion`], with the total given: whole `unit`s for each part summing to `total` (a share
/// already rounded elsewhere, e.g. a row's active minutes split among its attention bands). Floors
/// first; the units left go to the largest remainders, ties to the earlier part; units too many come
/// off the smallest remainders, last part first.
pub(crate) fn apportion_to(parts: &[i64], unit: i64, total: i64) -> Vec<i64> {
    let unit = unit.max(1);
    let parts: Vec<i64> = parts.iter().map(|p| (*p).max(0)).collect();
    let mut shares: Vec<i64> = parts.iter().map(|p| p / unit).collect();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(parts[index] % unit));
    let mut left = total - shares.iter().sum::<i64>();
    for &index in order.iter().cycle().take(parts.len() * 4) {
        if left <= 0 {
            break;
        }
        shares[index] += 1;
        left -= 1;
    }
    for &index in order.iter().rev().cycle().take(parts.len() * 4) {
        if left >= 0 {
            break;
        }
        if shares[index] > 0 {
            shares[index] -= 1;
            left += 1;
        }
    }
    shares
}

/// Whole `unit`s for each part (in the order shown), summing to the parts' total rounded to the
/// nearest unit: each part gets its floor, and the units left over go to the parts with the largest
/// remainders, ties to the earlier part. Each part is then within one unit of its exact value, and a
/// column of them adds up to the total shown beneath it.
pub(crate) fn apportion(parts: &[i64], unit: i64) -> Vec<i64> {
    let unit = unit.max(1);
    let parts: Vec<i64> = parts.iter().map(|p| (*p).max(0)).collect();
    let total = round_to(parts.iter().sum(), unit);
    let mut shares: Vec<i64> = parts.iter().map(|p| p / unit).collect();
    let left = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    // Largest remainder first; `sort_by_key` is stable, so ties keep the order shown.
    order.sort_by_key(|&index| std::cmp::Reverse(parts[index] % unit));
    for index in order.into_iter().take(usize::try_from(left).unwrap_or(0)) {
        shares[index] += 1;
    }
    shares
}

/// The one duration style: hours and minutes, `8:00`, `1:29`, `0:07`, `12:30`.
pub(crate) fn duration(minutes: i64) -> String {
    let minutes = minutes.max(0);
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

/// One entry of a listing as shown: its start and end in whole minutes since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShownSpan {
    pub(crate) start_minute: i64,
    pub(crate) end_minute: i64,
}

impl ShownSpan {
    /// The duration shown, in minutes: its end minus its start, as shown.
    pub(crate) fn minutes(self) -> i64 {
        self.end_minute - self.start_minute
    }

    /// The shown start, to format in a time zone.
    pub(crate) fn start(self) -> DateTime<Utc> {
        minute_instant(self.start_minute)
    }

    /// The shown end, to format in a time zone.
    pub(crate) fn end(self) -> DateTime<Utc> {
        minute_instant(self.end_minute)
    }
}

/// An instant rounded to the nearest minute (a half rounds up): how a listing shows a time on its own.
pub(crate) fn nearest_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    minute_instant(round_to(at.timestamp_millis(), MINUTE_MS))
}

fn minute_instant(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(minute.saturating_mul(MINUTE_MS)).unwrap_or_default()
}

/// The entries of one listing (one day of one destination, in the order shown) with clock times and
/// durations that add up: each duration is the entry's share of the listing's rounded total
/// ([`apportion`]), each line's end minus start is its duration, and an entry that begins where the
/// one before it ended begins, as shown, where that one ended as shown. Any other entry begins at its
/// start rounded to the nearest minute, never before the previous one ends as shown. A shown time is
/// thus within about a minute of the instant posted (the exact seconds are in `--json` and the CSV).
pub(crate) fn shown_spans(spans: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<ShownSpan> {
    let lengths: Vec<i64> = spans.iter().map(|(start, end)| (*end - *start).num_milliseconds()).collect();
    let minutes = apportion(&lengths, MINUTE_MS);
    let mut shown: Vec<ShownSpan> = Vec::with_capacity(spans.len());
    for (index, ((start, _), minutes)) in spans.iter().zip(minutes).enumerate() {
        let previous = index.checked_sub(1).map(|before| (spans[before].1, shown[before]));
        let start_minute = match previous {
            Some((end, previous)) if end == *start => previous.end_minute,
            Some((_, previous)) => round_to(start.timestamp_millis(), MINUTE_MS).max(previous.end_minute),
            None => round_to(start.timestamp_millis(), MINUTE_MS),
        };
        shown.push(ShownSpan { start_minute, end_minute: start_minute + minutes });
    }
    shown
}

/// A session's tracked time in `[from, to)`: its active spans there (idle gaps cut), in milliseconds.
pub(crate) fn tracked_ms(session: &Session, from: Millis, to: Millis) -> i64 {
    session.spans.iter().map(|span| span.overlap_ms(from, to)).sum()
}

/// The one definition of "a day (or range) with tracked time", shared by `sync` (a work day without it
/// is "no sessions"), `status` (it is not waiting) and `report` (a session counts in a row only where
/// it has tracked time): some session has active time in `[from, to)`. A session whose only sign of
/// life there is a lone message (zero active time) does not make one: there is no time to split, bill
/// or show.
pub(crate) fn has_tracked_time(session: &Session, from: Millis, to: Millis) -> bool {
    tracked_ms(session, from, to) > 0
}

/// The one time format of every CSV: RFC 3339 in whole seconds (cut, as entries are posted) with the
/// configured zone's offset, `2026-11-09T09:00:00+01:00`: the local wall time a person reads, and an
/// instant a program parses without knowing the zone (a DST change cannot make two rows look alike).
pub(crate) fn csv_time(at: DateTime<Utc>, tz: Tz) -> String {
    crate::timesheet::whole_second(at).with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Hours between two CSV times, to 4 decimals (rounded): the whole-second end minus the whole-second
/// start as written beside them, so the column always equals `end - start`.
pub(crate) fn csv_hours(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let length = crate::timesheet::whole_second(end) - crate::timesheet::whole_second(start);
    hours_of_ms(length.num_milliseconds())
}

/// Milliseconds as hours to 4 decimals, rounded to the nearest (in integers: no float drift).
pub(crate) fn hours_of_ms(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ten_thousandths = round_to(ms.saturating_abs(), 360);
    format!("{sign}{}.{:04}", ten_thousandths / 10_000, ten_thousandths % 10_000)
}

/// The one tag separator of every text output (listings, CSV, `tag`, `rules check`); JSON keeps arrays.
pub(crate) const TAG_SEPARATOR: &str = ", ";

/// Tags as every text output writes them: `acme, billable`.
pub(crate) fn tag_list(tags: &[String]) -> String {
    tags.join(TAG_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn apportioned_parts_add_up_to_the_rounded_total() {
        // The report: rows cut to 1:29 + 1:06 + 0:54 + 0:10 + 0:07 = 3:46 under 3:47.
        // 89.2 + 66.3 + 54.4 + 10.3 + 7.1 = 227.3 minutes: the largest remainder (54.4) takes the minute left.
        let seconds = [5_352, 3_978, 3_264, 618, 426];
        let parts: Vec<i64> = seconds.iter().map(|s| s * 1000).collect();
        let minutes = apportion(&parts, MINUTE_MS);
        assert_eq!(minutes, vec![89, 66, 55, 10, 7]);
        assert_eq!(minutes.iter().sum::<i64>(), 227);
        // The day: 17009 s + 11791 s = 8 hours.
        assert_eq!(apportion(&[17_009_000, 11_791_000], MINUTE_MS), vec![283, 197]);
    }

    #[test]
    fn a_grid_adds_up_both_ways_and_its_columns_are_their_exact_totals_rounded() {
        let mut rng = fastrand::Rng::with_seed(16);
        let (mut columns_as_rounded, mut columns_near) = (0, 0);
        for _ in 0..2_000 {
            let rows = rng.usize(1..12);
            let cells: Vec<[i64; 3]> = (0..rows)
                .map(|_| [0; 3].map(|_| if rng.bool() { 0 } else { rng.i64(0..5 * MINUTE_MS) }))
                .collect();
            let active: Vec<i64> = cells.iter().map(|c| c.iter().sum()).collect();
            let shares = apportion(&active, MINUTE_MS);
            let grid = apportion_grid(&cells, &shares, MINUTE_MS);
            let total: i64 = shares.iter().sum();
            for (row, share) in grid.iter().zip(&shares) {
                assert_eq!(row.iter().sum::<i64>(), *share, "{cells:?}");
            }
            for (row, cell) in grid.iter().zip(&cells) {
                for (shown, exact) in row.iter().zip(cell) {
                    assert!((shown * MINUTE_MS - exact).abs() < MINUTE_MS, "{cells:?}: {shown} for {exact}");
                }
            }
            let exact: Vec<i64> = (0..3).map(|j| cells.iter().map(|c| c[j]).sum()).collect();
            let columns: Vec<i64> = (0..3).map(|j| grid.iter().map(|r| r[j]).sum()).collect();
            assert_eq!(columns.iter().sum::<i64>(), total);
            let near = columns
                .iter()
                .zip(&exact)
                .all(|(shown, exact)| (shown * MINUTE_MS - exact).abs() < MINUTE_MS);
            columns_near += usize::from(near);
            columns_as_rounded += usize::from(columns == apportion_to(&exact, MINUTE_MS, total));
        }
        println!("{columns_as_rounded} rounded, {columns_near} within a unit");
        assert!(columns_as_rounded >= 1_900, "{columns_as_rounded} of 2000 columns as their totals rounded");
        assert!(columns_near >= 1_980, "{columns_near} of 2000 columns within a unit");
    }

    #[test]
    fn a_share_already_rounded_is_split_exactly() {
        // A row of 25:40 shown as 0:26, split into bands of 20:20, 5:00 and 0:20.
        let bands = [20 * MINUTE_MS + 20_000, 5 * MINUTE_MS, 20_000];
        assert_eq!(apportion_to(&bands, MINUTE_MS, 26), vec![21, 5, 0]);
        // Fewer units than the floors (a share rounded down): the smallest remainders give them back.
        assert_eq!(apportion_to(&[90_000, 90_000], MINUTE_MS, 1), vec![1, 0]);
        assert_eq!(apportion_to(&[0, 0, 0], MINUTE_MS, 0), vec![0, 0, 0]);
    }

    #[test]
    fn ties_go_to_the_part_shown_first_and_nothing_goes_below_zero() {
        assert_eq!(apportion(&[30_000, 30_000, 30_000], MINUTE_MS), vec![1, 1, 0]);
        assert_eq!(apportion(&[-5, 90_000], MINUTE_MS), vec![0, 2]);
        assert_eq!(apportion(&[], MINUTE_MS), Vec::<i64>::new());
        assert_eq!(apportion(&[29_999], MINUTE_MS), vec![0]);
    }

    #[test]
    fn every_part_is_within_one_unit_and_the_sum_is_the_rounded_total() {
        let mut seed: u64 = 7;
        for _ in 0..2_000 {
            let parts: Vec<i64> = (0..1 + seed % 9)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    i64::try_from((seed >> 33) % 20_000_000).unwrap()
                })
                .collect();
            let shares = apportion(&parts, MINUTE_MS);
            assert_eq!(shares.iter().sum::<i64>(), round_to(parts.iter().sum(), MINUTE_MS), "{parts:?}");
            for (part, share) in parts.iter().zip(&shares) {
                assert!((share * MINUTE_MS - part).abs() < MINUTE_MS, "{parts:?} -> {shares:?}");
            }
        }
    }

    #[test]
    fn one_duration_style() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(480), "8:00");
        assert_eq!(duration(89), "1:29");
        assert_eq!(duration(750), "12:30");
    }

    #[test]
    fn a_listed_day_adds_up_and_each_line_is_its_end_minus_its_start() {
        // The sample's Thursday: 08:00:00, 10:54:59, 13:37:24, 16:00:00 (UTC), 2:55 + 2:42 + 2:23 = 8:00.
        let bounds =
            ["2026-11-12T08:00:00Z", "2026-11-12T10:54:59Z", "2026-11-12T13:37:24Z", "2026-11-12T16:00:00Z"];
        let spans: Vec<_> = bounds.windows(2).map(|w| (at(w[0]), at(w[1]))).collect();
        let shown = shown_spans(&spans);
        let minutes: Vec<i64> = shown.iter().map(|s| s.minutes()).collect();
        assert_eq!(minutes, vec![175, 162, 143]);
        assert_eq!(shown[0].start(), at("2026-11-12T08:00:00Z"));
        assert_eq!(shown[1].start(), at("2026-11-12T10:55:00Z"));
        assert_eq!(shown[2].start(), at("2026-11-12T13:37:00Z"));
        assert_eq!(shown[2].end(), at("2026-11-12T16:00:00Z"));
        // Where rounding each time would break a line (10.4 + 10.4 + 10.2 minutes), the chain holds.
        let spans = [
            (at("2026-11-12T08:00:00Z"), at("2026-11-12T08:10:24Z")),
            (at("2026-11-12T08:10:24Z"), at("2026-11-12T08:20:48Z")),
            (at("2026-11-12T08:20:48Z"), at("2026-11-12T08:31:00Z")),
        ];
        let shown = shown_spans(&spans);
        assert_eq!(shown.iter().map(|s| s.minutes()).collect::<Vec<_>>(), vec![11, 10, 10]);
        assert_eq!(shown[1].start_minute, shown[0].end_minute);
        assert_eq!(shown[2].end(), at("2026-11-12T08:31:00Z"));
    }

    #[test]
    fn a_listed_entry_after_a_gap_starts_at_its_nearest_minute() {
        let spans = [
            (at("2026-11-02T09:00:40Z"), at("2026-11-02T09:30:10Z")),
            (at("2026-11-02T09:30:20Z"), at("2026-11-02T09:40:20Z")),
        ];
        let shown = shown_spans(&spans);
        assert_eq!(shown[0].start(), at("2026-11-02T09:01:00Z"));
        assert_eq!(shown[0].minutes() + shown[1].minutes(), 40);
        assert!(shown[1].start_minute >= shown[0].end_minute);
    }

    #[test]
    fn csv_times_carry_the_local_offset_in_whole_seconds() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(csv_time(at("2026-11-09T08:00:00.903Z"), berlin), "2026-11-09T09:00:00+01:00");
        assert_eq!(csv_time(at("2026-07-09T08:00:00Z"), berlin), "2026-07-09T10:00:00+02:00");
        assert_eq!(csv_time(at("2026-07-09T08:00:00Z"), chrono_tz::UTC), "2026-07-09T08:00:00+00:00");
    }

    #[test]
    fn csv_hours_are_the_end_minus_the_start_written() {
        // The entry: 3969 s from start to end is 1.1025 h (not 1.1022).
        assert_eq!(csv_hours(at("2026-11-02T09:00:00.651Z"), at("2026-11-02T10:06:09.088Z")), "1.1025");
        assert_eq!(hours_of_ms(1_800_000), "0.5000");
        assert_eq!(hours_of_ms(600_000), "0.1667");
        assert_eq!(hours_of_ms(28_800_000), "8.0000");
        assert_eq!(hours_of_ms(0), "0.0000");
        assert_eq!(hours_of_ms(-1_800_000), "-0.5000");
    }

    #[test]
    fn tags_are_joined_one_way() {
        assert_eq!(tag_list(&["acme".into(), "billable".into()]), "acme, billable");
        assert_eq!(tag_list(&[]), "");
    }
}
