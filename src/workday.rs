//! Local calendar days and their boundaries in UTC. Every "today", "this day" and "last 7 days" of the
//! tool goes through here, so a day means the same thing in report and sync, across DST changes too.

use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use crate::sessions::Millis;

/// The local date of an instant.
pub(crate) fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The first instant of a local day. Where midnight does not exist (a DST jump at 00:00), the day starts
/// at the first local time that does.
pub(crate) fn day_start(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    local_instant(date, NaiveTime::MIN, tz)
}

/// The UTC instant of a local wall-clock time; a time skipped by a DST jump moves forward to the first
/// time that exists, an ambiguous one takes the earlier instant.
pub(crate) fn local_instant(date: NaiveDate, time: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let wall = date.and_time(time);
    (0..=180)
        .find_map(|minutes| tz.from_local_datetime(&(wall + Duration::minutes(minutes))).earliest())
        .map_or_else(|| Utc.from_utc_datetime(&wall), |t| t.with_timezone(&Utc))
}

/// `[start, end)` in milliseconds covering the local days `since..=until`.
pub(crate) fn days_window(since: NaiveDate, until: NaiveDate, tz: Tz) -> (Millis, Millis) {
    let end_date = until.succ_opt().unwrap_or(until);
    (day_start(since, tz).timestamp_millis(), day_start(end_date, tz).timestamp_millis())
}

/// Every date from `since` to `until`, inclusive.
pub(crate) fn dates(since: NaiveDate, until: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    since.iter_days().take_while(move |d| *d <= until)
}

/// Which end of a range a `--since`/`--until` value bounds: a bare date is the start of that local day
/// for `--since` and the end of it (the next local midnight) for `--until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BoundEnd {
    Start,
    End,
}

/// A `--since`/`--until` day as written. Read by clap without a clock (so a bad value fails before
/// anything runs) and resolved later against the run's today (`--now` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayArg {
    Date(NaiveDate),
    Today,
    Yesterday,
    /// The latest such day not after today (today itself on that weekday): a range starting "monday"
    /// is this week so far, never a day to come.
    Weekday(Weekday),
}

/// The forms a day takes, for the one error every command gives.
const DAY_FORMS: &str = "write a day as YYYY-MM-DD, or today, yesterday, or a weekday (monday … sunday)";

/// The forms push's bounds take: a day, or a time of day.
const WHEN_FORMS: &str = "write a day as YYYY-MM-DD, or today, yesterday, or a weekday (monday … sunday); or a \
                          time as YYYY-MM-DDTHH:MM:SS (local) or YYYY-MM-DDTHH:MM:SSZ (UTC)";

impl DayArg {
    /// The local date this day names, `today` being the run's local date.
    pub(crate) fn resolve(self, today: NaiveDate) -> NaiveDate {
        match self {
            DayArg::Date(date) => date,
            DayArg::Today => today,
            DayArg::Yesterday => today.pred_opt().unwrap_or(today),
            DayArg::Weekday(day) => {
                let back = (7 + today.weekday().num_days_from_monday() - day.num_days_from_monday()) % 7;
                today.checked_sub_days(Days::new(u64::from(back))).unwrap_or(today)
            }
        }
    }
}

/// Reads a day (clap's `value_parser` for every `--since`/`--until` but push's). Case and surrounding
/// blanks do not matter; weekdays take chrono's names (`monday` or `mon`).
pub fn parse_day(text: &str) -> Result<DayArg, String> {
    day(text).ok_or_else(|| DAY_FORMS.to_string())
}

fn day(text: &str) -> Option<DayArg> {
    let text = text.trim().to_ascii_lowercase();
    match text.as_str() {
        "today" => Some(DayArg::Today),
        "yesterday" => Some(DayArg::Yesterday),
        _ => text
            .parse::<NaiveDate>()
            .map(DayArg::Date)
            .or_else(|_| text.parse::<Weekday>().map(DayArg::Weekday))
            .ok(),
    }
}

/// A push bound as written: a day (its start for `--since`, its end for `--until`), a local time, or a
/// UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenArg {
    Day(DayArg),
    Local(NaiveDateTime),
    Utc(DateTime<Utc>),
}

/// Reads a push bound (clap's `value_parser` for push's `--since`/`--until`): the day forms, plus seed
/// 003's `YYYY-MM-DDTHH:MM:SS` (local time) and `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn parse_when(text: &str) -> Result<WhenArg, String> {
    let trimmed = text.trim();
    if let Some(day) = day(trimmed) {
        return Ok(WhenArg::Day(day));
    }
    let time = |t: &str| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok();
    match trimmed.strip_suffix(['Z', 'z']) {
        Some(utc) => time(utc).map(|at| WhenArg::Utc(at.and_utc())),
        None => time(trimmed).map(WhenArg::Local),
    }
    .ok_or_else(|| WHEN_FORMS.to_string())
}

impl WhenArg {
    /// The instant this bound stands for, at the run's `today` in `tz`.
    pub(crate) fn resolve(self, end: BoundEnd, today: NaiveDate, tz: Tz) -> DateTime<Utc> {
        match self {
            WhenArg::Day(day) => {
                let date = day.resolve(today);
                let date = match end {
                    BoundEnd::Start => date,
                    BoundEnd::End => date.succ_opt().unwrap_or(date),
                };
                day_start(date, tz)
            }
            WhenArg::Local(at) => local_instant(at.date(), at.time(), tz),
            WhenArg::Utc(at) => at,
        }
    }
}

/// A push bound as the user thinks of it, for the empty-range error: a local day when the bound falls on
/// a local midnight (for `End`, the day it closes), else the local time.
pub(crate) fn bound_label(at: DateTime<Utc>, end: BoundEnd, tz: Tz) -> String {
    let date = local_date(at, tz);
    if day_start(date, tz) != at {
        return at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
    }
    match end {
        BoundEnd::Start => date.to_string(),
        BoundEnd::End => date.pred_opt().unwrap_or(date).to_string(),
    }
}

/// The one wording of a range whose start comes after its end, on every command: both ends as they
/// resolved (a default included), so the user sees which day went where.
pub(crate) fn empty_range(since: impl std::fmt::Display, until: impl std::fmt::Display) -> String {
    format!(
        "the range is empty: `--since` {since} comes after `--until` {until}; give the earlier day to `--since`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe};

    #[test]
    fn bounds_read_as_local_days_local_times_or_utc() {
        let tz = America::Los_Angeles;
        let today = date("2026-12-01");
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let bound = |text: &str, end| parse_when(text).map(|w| w.resolve(end, today, tz));
        assert_eq!(bound("2025-01-28", BoundEnd::Start), Ok(at("2025-01-28T08:00:00Z")));
        assert_eq!(bound("2025-01-28", BoundEnd::End), Ok(at("2025-01-29T08:00:00Z")));
        assert_eq!(bound("2025-01-28T18:30:00", BoundEnd::Start), Ok(at("2025-01-29T02:30:00Z")));
        assert_eq!(bound("2025-01-28T18:30:00Z", BoundEnd::End), Ok(at("2025-01-28T18:30:00Z")));
        assert_eq!(bound("yesterday", BoundEnd::End), Ok(at("2026-12-01T08:00:00Z")));
        assert_eq!(bound("last week", BoundEnd::Start), Err(WHEN_FORMS.to_string()));
        assert_eq!(
            WHEN_FORMS,
            "write a day as YYYY-MM-DD, or today, yesterday, or a weekday (monday … sunday); or a time as \
             YYYY-MM-DDTHH:MM:SS (local) or YYYY-MM-DDTHH:MM:SSZ (UTC)"
        );
    }

    #[test]
    fn days_read_as_dates_or_names_relative_to_today() {
        // Tuesday 2026-12-01.
        let today = date("2026-12-01");
        let day = |text: &str| parse_day(text).map(|d| d.resolve(today));
        assert_eq!(day("2026-01-31"), Ok(date("2026-01-31")));
        assert_eq!(day(" Today "), Ok(today));
        assert_eq!(day("yesterday"), Ok(date("2026-11-30")));
        assert_eq!(day("monday"), Ok(date("2026-11-30")));
        assert_eq!(day("tuesday"), Ok(today), "today's weekday is today");
        assert_eq!(day("wed"), Ok(date("2026-11-25")), "never a day to come");
        assert_eq!(day("Sunday"), Ok(date("2026-11-29")));
        let forms =
            "write a day as YYYY-MM-DD, or today, yesterday, or a weekday (monday … sunday)".to_string();
        for bad in ["2026-13-45", "last week", "", "2026-01-31T10:00:00"] {
            assert_eq!(parse_day(bad), Err(forms.clone()), "{bad}");
        }
    }

    #[test]
    fn push_bounds_read_back_as_days_or_times() {
        let tz = Europe::Berlin;
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(bound_label(at("2026-01-30T23:00:00Z"), BoundEnd::Start, tz), "2026-01-31");
        assert_eq!(bound_label(at("2026-01-01T23:00:00Z"), BoundEnd::End, tz), "2026-01-01");
        assert_eq!(bound_label(at("2026-01-01T09:30:00Z"), BoundEnd::End, tz), "2026-01-01 10:30:00");
    }

    #[test]
    fn an_empty_range_is_worded_once() {
        assert_eq!(
            empty_range(date("2026-01-31"), date("2026-01-01")),
            "the range is empty: `--since` 2026-01-31 comes after `--until` 2026-01-01; give the earlier day to \
             `--since`"
        );
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn berlin_winter_day_starts_at_23_utc() {
        assert_eq!(day_start(date("2026-11-02"), Europe::Berlin).to_rfc3339(), "2026-11-01T23:00:00+00:00");
    }

    #[test]
    fn dst_days_are_23_and_25_hours() {
        let (start, end) = days_window(date("2026-03-29"), date("2026-03-29"), Europe::Berlin);
        assert_eq!(end - start, 23 * 3_600_000);
        let (start, end) = days_window(date("2026-10-25"), date("2026-10-25"), Europe::Berlin);
        assert_eq!(end - start, 25 * 3_600_000);
    }

    #[test]
    fn missing_midnight_starts_at_first_valid_time() {
        // Santiago skipped 00:00-01:00 on 2022-09-11.
        let start = day_start(date("2022-09-11"), America::Santiago);
        assert_eq!(start.to_rfc3339(), "2022-09-11T04:00:00+00:00");
    }

    #[test]
    fn local_date_crosses_utc_midnight() {
        let at: DateTime<Utc> = "2026-11-02T23:30:00Z".parse().unwrap();
        assert_eq!(local_date(at, Europe::Berlin), date("2026-11-03"));
        assert_eq!(local_date(at, chrono_tz::UTC), date("2026-11-02"));
    }

    #[test]
    fn dates_are_inclusive() {
        let all: Vec<NaiveDate> = dates(date("2026-11-01"), date("2026-11-03")).collect();
        assert_eq!(all.len(), 3);
    }
}
