//! Session times: parsing a start time and laying out weekly repeats.
//!
//! Weekly repeats keep the local wall-clock time of the group's time zone
//! across clock changes: the start is converted to the zone, weeks are added
//! as a civil-calendar span, and the result converted back to an instant. A
//! session's length is real (elapsed) time. Pure functions, no clock reads.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use super::ValidationError;

/// Shortest and longest session, in minutes.
pub const DURATION_MINUTES: std::ops::RangeInclusive<i64> = 5..=720;
/// Fewest and most occurrences one `repeat: {weekly: N}` creates.
pub const WEEKLY_COUNT: std::ops::RangeInclusive<i64> = 1..=104;

/// Parses a start time: RFC 3339 with an offset (`2026-10-15T19:00:00+01:00`,
/// `…Z`), or a local date and time without one (`2026-10-15T19:00`), which
/// is read in the group's time zone.
pub fn parse_start(raw: &str, zone: &TimeZone) -> Result<Timestamp, ValidationError> {
    let raw = raw.trim();
    let bad = || {
        ValidationError::new(
            "Please give the start as a date and time, for example 2026-10-15T19:00:00+01:00.",
        )
    };
    if raw.is_empty() || raw.len() > 64 {
        return Err(bad());
    }
    let ts = match raw.parse::<Timestamp>() {
        Ok(ts) => ts,
        Err(_) => {
            let civil: DateTime = raw.parse().map_err(|_| bad())?;
            civil.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp()
        }
    };
    let year = ts.to_zoned(TimeZone::UTC).year();
    if !(2000..=2200).contains(&year) {
        return Err(ValidationError::new(
            "Please choose a start between the years 2000 and 2200.",
        ));
    }
    Ok(ts)
}

/// Checks a session length in minutes.
pub fn check_duration(minutes: i64) -> Result<i64, ValidationError> {
    if DURATION_MINUTES.contains(&minutes) {
        Ok(minutes)
    } else {
        Err(ValidationError::new(
            "A session lasts between 5 minutes and 12 hours (720 minutes).",
        ))
    }
}

/// Checks the number of weekly occurrences.
pub fn check_weekly_count(count: i64) -> Result<i64, ValidationError> {
    if WEEKLY_COUNT.contains(&count) {
        Ok(count)
    } else {
        Err(ValidationError::new(
            "A weekly repeat creates between 1 and 104 sessions.",
        ))
    }
}

/// `count` weekly occurrences from `start`, each `minutes` long, as
/// `(starts_at, ends_at)` in unix milliseconds. The local time of day in
/// `zone` stays the same from week to week, whatever the UTC offset does.
pub fn weekly(
    start: Timestamp,
    zone: &TimeZone,
    minutes: i64,
    count: i64,
) -> Result<Vec<(i64, i64)>, ValidationError> {
    let too_far = || ValidationError::new("Those sessions would run past the calendar's end.");
    let first = start.to_zoned(zone.clone());
    let length = Span::new().minutes(minutes);
    let mut times = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for week in 0..count {
        let local = first
            .checked_add(Span::new().weeks(week))
            .map_err(|_| too_far())?;
        let begins = local.timestamp();
        let ends = begins.checked_add(length).map_err(|_| too_far())?;
        times.push((begins.as_millisecond(), ends.as_millisecond()));
    }
    Ok(times)
}

/// Milliseconds to an RFC 3339 UTC string (`2026-10-15T18:00:00Z`).
pub fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london() -> TimeZone {
        TimeZone::get("Europe/London").expect("zone")
    }

    fn utc(ms: i64) -> String {
        rfc3339(ms)
    }

    #[test]
    fn autumn_clock_change_keeps_seven_pm_local() {
        let start = parse_start("2026-10-15T19:00:00+01:00", &london()).expect("start");
        let times = weekly(start, &london(), 90, 3).expect("times");
        let starts: Vec<String> = times.iter().map(|t| utc(t.0)).collect();
        assert_eq!(
            starts,
            [
                "2026-10-15T18:00:00Z",
                "2026-10-22T18:00:00Z",
                "2026-10-29T19:00:00Z"
            ]
        );
        assert_eq!(utc(times[2].1), "2026-10-29T20:30:00Z");
    }

    #[test]
    fn spring_clock_change_keeps_seven_pm_local() {
        let start = parse_start("2027-03-18T19:00:00Z", &london()).expect("start");
        let times = weekly(start, &london(), 60, 3).expect("times");
        let starts: Vec<String> = times.iter().map(|t| utc(t.0)).collect();
        // British Summer Time starts on 28 March 2027.
        assert_eq!(
            starts,
            [
                "2027-03-18T19:00:00Z",
                "2027-03-25T19:00:00Z",
                "2027-04-01T18:00:00Z"
            ]
        );
    }

    #[test]
    fn a_session_across_the_change_lasts_its_real_length() {
        // 00:30 local on the night the clocks go back: 3 hours is 3 real hours.
        let start = parse_start("2026-10-25T00:30:00+01:00", &london()).expect("start");
        let times = weekly(start, &london(), 180, 1).expect("times");
        assert_eq!(times[0].1 - times[0].0, 3 * 3_600_000);
    }

    #[test]
    fn local_times_without_offset_are_read_in_the_group_zone() {
        let ts = parse_start("2026-07-01T19:00", &london()).expect("start");
        assert_eq!(ts.to_string(), "2026-07-01T18:00:00Z");
        let ny = TimeZone::get("America/New_York").expect("zone");
        let ts = parse_start("2026-07-01T19:00:00", &ny).expect("start");
        assert_eq!(ts.to_string(), "2026-07-01T23:00:00Z");
    }

    #[test]
    fn other_zones_keep_their_own_local_time() {
        let ny = TimeZone::get("America/New_York").expect("zone");
        // US clocks go back on 1 November 2026.
        let start = parse_start("2026-10-29T18:00:00-04:00", &ny).expect("start");
        let times = weekly(start, &ny, 60, 2).expect("times");
        assert_eq!(utc(times[0].0), "2026-10-29T22:00:00Z");
        assert_eq!(utc(times[1].0), "2026-11-05T23:00:00Z");
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(parse_start("", &london()).is_err());
        assert!(parse_start("tomorrow at seven", &london()).is_err());
        assert!(parse_start("1900-01-01T00:00:00Z", &london()).is_err());
        assert!(check_duration(4).is_err());
        assert!(check_duration(5).is_ok());
        assert!(check_duration(720).is_ok());
        assert!(check_duration(721).is_err());
        assert!(check_weekly_count(0).is_err());
        assert!(check_weekly_count(104).is_ok());
        assert!(check_weekly_count(105).is_err());
    }

    #[test]
    fn counts_and_spacing() {
        let start = parse_start("2026-01-05T10:00:00Z", &TimeZone::UTC).expect("start");
        let times = weekly(start, &TimeZone::UTC, 60, 104).expect("times");
        assert_eq!(times.len(), 104);
        for pair in times.windows(2) {
            assert_eq!(pair[1].0 - pair[0].0, 7 * 24 * 3_600_000);
        }
    }
}
