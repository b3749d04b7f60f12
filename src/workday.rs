//! Local calendar days and their boundaries in UTC. Every "today", "this day" and "last 7 days" of the
//! tool goes through here, so a day means the same thing in report and sync, across DST changes too.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
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

/// Reads a range bound the way seed 003 lists them: `YYYY-MM-DD` (a local day), `YYYY-MM-DDTHH:MM:SS`
/// (local time) or `YYYY-MM-DDTHH:MM:SSZ` (UTC). The error says which forms are accepted.
pub(crate) fn parse_bound(text: &str, end: BoundEnd, tz: Tz) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(date) = text.parse::<NaiveDate>() {
        let date = match end {
            BoundEnd::Start => date,
            BoundEnd::End => date.succ_opt().unwrap_or(date),
        };
        return Ok(day_start(date, tz));
    }
    if let Some(utc) = text.strip_suffix(['Z', 'z']) {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(utc, "%Y-%m-%dT%H:%M:%S") {
            return Ok(at.and_utc());
        }
    } else if let Ok(at) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Ok(local_instant(at.date(), at.time(), tz));
    }
    Err(format!(
        "`{text}` is not a date or time: write YYYY-MM-DD (a local day), YYYY-MM-DDTHH:MM:SS (local time) or \
         YYYY-MM-DDTHH:MM:SSZ (UTC)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe};

    #[test]
    fn bounds_read_as_local_days_local_times_or_utc() {
        let tz = America::Los_Angeles;
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_bound("2025-01-28", BoundEnd::Start, tz), Ok(at("2025-01-28T08:00:00Z")));
        assert_eq!(parse_bound("2025-01-28", BoundEnd::End, tz), Ok(at("2025-01-29T08:00:00Z")));
        assert_eq!(parse_bound("2025-01-28T18:30:00", BoundEnd::Start, tz), Ok(at("2025-01-29T02:30:00Z")));
        assert_eq!(parse_bound("2025-01-28T18:30:00Z", BoundEnd::End, tz), Ok(at("2025-01-28T18:30:00Z")));
        assert_eq!(
            parse_bound("last week", BoundEnd::Start, tz),
            Err("`last week` is not a date or time: write YYYY-MM-DD (a local day), YYYY-MM-DDTHH:MM:SS (local \
                 time) or YYYY-MM-DDTHH:MM:SSZ (UTC)"
                .to_string())
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
