//! The `schedule` target: a time zone, a start string, a length and a weekly
//! count through the scheduling rules (`domain::schedule`, in the order the
//! API applies them), then the occurrences with fuzzed names and
//! descriptions through the calendar feed (`ics`).
//!
//! Checks: nothing panics; an accepted start lies in the years 2000–2200;
//! lengths and counts are accepted exactly inside their documented ranges;
//! `weekly` gives `count` occurrences, each `minutes` long, a civil week
//! apart in the group's zone at the same local time of day (a local time
//! that does not exist, in a clock change gap or a skipped day, moves
//! forward by the gap's length); `rfc3339` reads
//! back to the same instant. The calendar: every line ends with CRLF, no
//! physical line exceeds 75 octets or holds a control character, folding
//! undoes to the logical lines, those lines are exactly the documented
//! properties in order, UTC times are `YYYYMMDDTHHMMSSZ` of the right
//! instant, and every TEXT value unescapes to what was given (line breaks
//! as `\n`, other control characters dropped).

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};
use peercircle::domain::schedule::{
    check_duration, check_weekly_count, parse_start, rfc3339, weekly, DURATION_MINUTES,
    WEEKLY_COUNT,
};
use peercircle::domain::TimeZoneName;
use peercircle::ics;

use super::bytes::Bytes;

/// Zones with unusual rules: 30- and 45-minute offsets and changes, a
/// negative DST, a skipped day, DST for Ramadan, far east and far west.
const ZONES: [&str; 16] = [
    "Europe/London",
    "America/New_York",
    "UTC",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Europe/Dublin",
    "America/Santiago",
    "Antarctica/Troll",
    "Asia/Tehran",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/St_Johns",
    "Australia/Adelaide",
];

const OFFSETS: [&str; 8] = [
    "", "Z", "+01:00", "-04:00", "+14:00", "-12:00", "+05:45", "+00:00",
];

const BASE_URLS: [&str; 5] = [
    "http://127.0.0.1:8080",
    "https://circle.example.org",
    "https://example.org/peer/",
    "http://localhost",
    "",
];

/// 2000-01-01T00:00:00Z and 2200-01-01T00:00:00Z in unix ms.
const YEAR_2000_MS: i64 = 946_684_800_000;
const YEAR_2200_MS: i64 = 7_258_118_400_000;

pub fn run(data: &[u8]) {
    let mut b = Bytes::new(data);
    let zone_name = if b.byte() < 224 {
        ZONES[b.below(ZONES.len())].to_string()
    } else {
        b.string(40)
    };
    let start = if b.bool() {
        b.string(70)
    } else {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
            1995 + b.below(215),
            b.below(14),
            b.below(33),
            b.below(26),
            b.below(61),
            b.below(61),
            b.pick(&OFFSETS)
        )
    };
    let minutes = match b.byte() % 4 {
        0 => b.u64() as i64,
        _ => i64::from(b.u16() % 800),
    };
    let count = match b.byte() % 4 {
        0 => b.u64() as i64,
        _ => i64::from(b.byte() % 110),
    };
    let now = YEAR_2000_MS + (b.u64() % (YEAR_2200_MS - YEAR_2000_MS) as u64) as i64;
    let base_url = if b.byte() < 200 {
        BASE_URLS[b.below(BASE_URLS.len())].to_string()
    } else {
        // The operator's setting: no control characters.
        b.string(60).chars().filter(|c| !c.is_control()).collect()
    };
    let name = b.string(120);
    let description = b.string(255);

    // The API's order: zone, start, length, count, then the occurrences.
    let Ok(zone) = TimeZoneName::parse(&zone_name) else {
        return;
    };
    let zone = zone.zone().clone();
    let Ok(start) = parse_start(&start, &zone) else {
        return;
    };
    let year = start.to_zoned(TimeZone::UTC).year();
    assert!((2000..=2200).contains(&year), "a start in {year}");
    assert_eq!(
        check_duration(minutes).is_ok(),
        DURATION_MINUTES.contains(&minutes)
    );
    assert_eq!(
        check_weekly_count(count).is_ok(),
        WEEKLY_COUNT.contains(&count)
    );
    let (Ok(minutes), Ok(count)) = (check_duration(minutes), check_weekly_count(count)) else {
        return;
    };
    let Ok(times) = weekly(start, &zone, minutes, count) else {
        return;
    };
    check_weekly(start, &zone, minutes, count, &times);

    let events: Vec<ics::Event> = times
        .iter()
        .enumerate()
        .map(|(k, &(starts_at, ends_at))| {
            let uid = format!("s_{k}");
            ics::Event {
                url: format!("{base_url}/s/{uid}"),
                uid,
                starts_at,
                ends_at,
                summary: name.clone(),
                description: description.clone(),
            }
        })
        .collect();
    let calendar = ics::calendar(&name, &base_url, &events, now);
    check_calendar(&calendar, &name, &events, now);
    check_fold(&description);
}

fn check_weekly(start: Timestamp, zone: &TimeZone, minutes: i64, count: i64, times: &[(i64, i64)]) {
    assert_eq!(times.len() as i64, count, "not `count` occurrences");
    let first = start.to_zoned(zone.clone());
    assert_eq!(
        times[0].0,
        start.as_millisecond(),
        "the first is not the start"
    );
    for (k, &(begins, ends)) in times.iter().enumerate() {
        assert_eq!(
            ends - begins,
            minutes * 60_000,
            "occurrence {k} has the wrong length"
        );
        if k > 0 {
            assert!(begins > times[k - 1].0, "occurrences out of order");
        }
        let local = Timestamp::from_millisecond(begins)
            .expect("an occurrence is a valid instant")
            .to_zoned(zone.clone());
        // The same local time a civil week on; a local time that does not
        // exist that day (a gap: clocks going forward, or a skipped day)
        // moves forward by the gap's length.
        let date = first
            .date()
            .checked_add(Span::new().weeks(k as i64))
            .expect("the date of a week within range");
        let wanted = DateTime::from_parts(date, first.time());
        let expected = match zone.to_ambiguous_zoned(wanted).offset() {
            AmbiguousOffset::Gap { before, after } => wanted
                .checked_add(Span::new().seconds(after.seconds() - before.seconds()))
                .expect("a gap within range"),
            _ => wanted,
        };
        assert_eq!(
            local.datetime(),
            expected,
            "occurrence {k} is not a civil week on"
        );
        for ms in [begins, ends] {
            let text = rfc3339(ms);
            let back: Timestamp = text.parse().expect("rfc3339 reads back");
            assert_eq!(back.as_millisecond(), ms, "{text} is not {ms}");
        }
    }
}

/// What a TEXT value must unescape to: line breaks as `\n`, other control
/// characters dropped.
fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect()
}

/// Reads an escaped TEXT value back; panics on an unescaped `;` or `,` or
/// an unknown escape.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\\'),
                Some(';') => out.push(';'),
                Some(',') => out.push(','),
                Some('n') | Some('N') => out.push('\n'),
                other => panic!("bad escape \\{other:?} in a TEXT value"),
            },
            ';' | ',' => panic!("unescaped {c:?} in a TEXT value"),
            c => out.push(c),
        }
    }
    out
}

/// `YYYYMMDDTHHMMSSZ`, computed apart from the code under test.
fn utc(ms: i64) -> String {
    let t = Timestamp::from_millisecond(ms).expect("a valid instant");
    let d = t.to_zoned(TimeZone::UTC).datetime();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

fn check_calendar(calendar: &str, name: &str, events: &[ics::Event], now: i64) {
    let bytes = calendar.as_bytes();
    assert!(
        calendar.ends_with("\r\n"),
        "the calendar does not end with CRLF"
    );
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "a bare LF at {i}");
        }
        if b == b'\r' {
            assert_eq!(bytes.get(i + 1), Some(&b'\n'), "a bare CR at {i}");
        }
    }
    let physical: Vec<&str> = calendar[..calendar.len() - 2].split("\r\n").collect();
    let mut logical: Vec<String> = Vec::new();
    for line in &physical {
        assert!(line.len() <= 75, "a line of {} octets", line.len());
        assert!(
            !line.chars().any(char::is_control),
            "a control character in a line"
        );
        match line.strip_prefix(' ') {
            Some(rest) => logical
                .last_mut()
                .expect("the first line is not a continuation")
                .push_str(rest),
            None => logical.push((*line).to_string()),
        }
    }
    let properties: Vec<(&str, &str)> = logical
        .iter()
        .map(|l| {
            l.split_once(':')
                .unwrap_or_else(|| panic!("a line without a property name: {l:?}"))
        })
        .collect();
    let mut lines = properties.into_iter();
    let mut expect = |property: &str| next_property(&mut lines, property);
    assert_eq!(expect("BEGIN"), "VCALENDAR");
    assert_eq!(expect("VERSION"), "2.0");
    expect("PRODID");
    assert_eq!(expect("CALSCALE"), "GREGORIAN");
    assert_eq!(expect("METHOD"), "PUBLISH");
    assert_eq!(unescape(expect("X-WR-CALNAME")), normalized(name));
    for e in events {
        assert_eq!(expect("BEGIN"), "VEVENT");
        let uid = expect("UID");
        let host = uid
            .strip_prefix(&format!("{}@", e.uid))
            .expect("the UID is the session id at a host");
        assert!(
            !host.is_empty() && !host.contains(['/', ':']),
            "UID host {host:?}"
        );
        assert_eq!(expect("DTSTAMP"), utc(now));
        assert_eq!(expect("DTSTART"), utc(e.starts_at));
        assert_eq!(expect("DTEND"), utc(e.ends_at));
        assert_eq!(unescape(expect("SUMMARY")), normalized(&e.summary));
        let mut description = e.description.trim().to_string();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("Join here: ");
        description.push_str(&e.url);
        assert_eq!(unescape(expect("DESCRIPTION")), normalized(&description));
        assert_eq!(expect("URL"), e.url);
        assert_eq!(expect("END"), "VEVENT");
    }
    assert_eq!(expect("END"), "VCALENDAR");
    assert!(lines.next().is_none(), "lines after the end");
}

/// The value of the next logical line, which must be `property`.
fn next_property<'a>(
    lines: &mut impl Iterator<Item = (&'a str, &'a str)>,
    property: &str,
) -> &'a str {
    let (p, value) = lines.next().expect("the calendar ends early");
    assert_eq!(p, property, "property out of order");
    value
}

fn check_fold(text: &str) {
    let line = format!("DESCRIPTION:{}", ics::escape(text));
    let folded = ics::fold(&line);
    for physical in folded.split("\r\n") {
        assert!(
            physical.len() <= 75,
            "a folded line of {} octets",
            physical.len()
        );
    }
    assert_eq!(folded.replace("\r\n ", ""), line, "folding lost something");
}
