//! The iCalendar feed of a group (RFC 5545): one `VEVENT` per session that
//! is not cancelled, times in UTC, text escaped, lines folded at 75 octets
//! and ended with CRLF. Pure text building: no I/O, no clock reads.

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// One session as a calendar event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The session id (made globally unique with the host).
    pub uid: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub summary: String,
    pub description: String,
    /// The join link.
    pub url: String,
}

/// The whole `VCALENDAR`, stamped at `now` (unix ms).
pub fn calendar(name: &str, base_url: &str, events: &[Event], now: i64) -> String {
    let host = base_url
        .split("://")
        .nth(1)
        .unwrap_or(base_url)
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("peercircle");
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&fold(&text));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//peercircle//peercircle 1//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!("X-WR-CALNAME:{}", escape(name)));
    for e in events {
        let mut description = e.description.trim().to_string();
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str("Join here: ");
        description.push_str(&e.url);
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}@{}", e.uid, host));
        line(format!("DTSTAMP:{}", utc(now)));
        line(format!("DTSTART:{}", utc(e.starts_at)));
        line(format!("DTEND:{}", utc(e.ends_at)));
        line(format!("SUMMARY:{}", escape(&e.summary)));
        line(format!("DESCRIPTION:{}", escape(&description)));
        line(format!("URL:{}", e.url));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// `20261015T180000Z`.
fn utc(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t
            .to_zoned(TimeZone::UTC)
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string(),
        Err(_) => "19700101T000000Z".into(),
    }
}

/// Escapes TEXT values: backslash, `;`, `,` and line breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line so no physical line exceeds 75 octets, never
/// splitting a UTF-8 character; continuation lines start with a space.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_values() {
        assert_eq!(escape("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let long = format!("DESCRIPTION:{}", "é".repeat(100));
        let folded = fold(&long);
        for physical in folded.split("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = folded.replace("\r\n ", "");
        assert_eq!(unfolded, long);
        assert_eq!(fold("SHORT:x"), "SHORT:x");
    }

    #[test]
    fn builds_a_calendar_with_crlf_and_utc_times() {
        let ev = Event {
            uid: "s_1".into(),
            starts_at: 1_792_087_200_000,
            ends_at: 1_792_092_600_000,
            summary: "Evening circle, Tuesdays".into(),
            description: "Bring tea; be kind.".into(),
            url: "http://example.org/s/s_1".into(),
        };
        let ics = calendar("Evening circle", "http://example.org:8080", &[ev], 0);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "every line ends with CRLF"
        );
        assert!(ics.contains("UID:s_1@example.org\r\n"));
        assert!(ics.contains("DTSTART:20261015T180000Z\r\n"));
        assert!(ics.contains("SUMMARY:Evening circle\\, Tuesdays\r\n"));
        assert!(ics.contains("DTSTAMP:19700101T000000Z\r\n"));
    }
}
