//! The `.ics` calendar entry (RFC 5545) of a confirmed booking. Start and end are written as
//! UTC instants, computed from the restaurant's local time in its IANA zone, so every calendar
//! shows the right hour wherever the diner is, with no time zone table to ship.

use chrono::{DateTime, Utc};

use crate::Attachment;

/// One event.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Stable per reservation, so a calendar updates its entry instead of adding a second.
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    pub url: &'a str,
    /// When the entry was made (`DTSTAMP`).
    pub stamp: DateTime<Utc>,
}

/// The event as an `.ics` attachment.
pub fn attachment(event: &Event<'_>) -> Attachment {
    Attachment {
        filename: "reservation.ics".into(),
        content_type: "text/calendar; charset=utf-8; method=PUBLISH".into(),
        body: ics(event).into_bytes(),
    }
}

/// The calendar text: CRLF line ends, long lines folded, text values escaped.
pub fn ics(event: &Event<'_>) -> String {
    let instant = |at: DateTime<Utc>| at.format("%Y%m%dT%H%M%SZ").to_string();
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//maitred//reservations//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", event.uid),
        format!("DTSTAMP:{}", instant(event.stamp)),
        format!("DTSTART:{}", instant(event.start)),
        format!("DTEND:{}", instant(event.end)),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("LOCATION:{}", escape(event.location)),
        format!("DESCRIPTION:{}", escape(event.description)),
        format!("URL:{}", event.url),
        "STATUS:CONFIRMED".to_owned(),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|line| fold(line) + "\r\n").collect()
}

/// A TEXT value: backslash, semicolon, comma and line breaks escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            ';' => escaped.push_str("\\;"),
            ',' => escaped.push_str("\\,"),
            '\n' => escaped.push_str("\\n"),
            '\r' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// Lines longer than 75 octets continue on the next line after a space, never inside a
/// character.
fn fold(line: &str) -> String {
    let mut folded = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            folded.push_str("\r\n ");
            width = 1;
        }
        folded.push(c);
        width += c.len_utf8();
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_a_calendar_with_utc_instants_and_escaped_folded_text() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let description = "Table for 2, ".repeat(10);
        let event = Event {
            uid: "abc@maitred".into(),
            start: at("2026-12-12T18:00:00Z"),
            end: at("2026-12-12T19:30:00Z"),
            summary: "Dinner at Le Petit Maître; 2-top",
            location: "1 rue X, Paris",
            description: &description,
            url: "https://example.com/reservations/abc",
            stamp: at("2026-12-05T12:00:00Z"),
        };
        let text = ics(&event);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("\r\nDTSTART:20261212T180000Z\r\n"));
        assert!(text.contains("\r\nDTEND:20261212T193000Z\r\n"));
        assert!(text.contains("SUMMARY:Dinner at Le Petit Maître\\; 2-top\r\n"));
        assert!(text.contains("LOCATION:1 rue X\\, Paris\r\n"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:{}", escape(&description))));
    }
}
