//! How the pages write money, dates, times and statuses for people.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// `€42.50`, `£18.00`, `$30.00`, or `42.50 CHF` for a currency without a common sign.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let amount = format!(
        "{}.{:02}",
        cents.unsigned_abs() / 100,
        cents.unsigned_abs() % 100
    );
    match currency {
        "EUR" => format!("{sign}€{amount}"),
        "GBP" => format!("{sign}£{amount}"),
        "USD" => format!("{sign}${amount}"),
        "JPY" => format!("{sign}¥{}", cents.unsigned_abs() / 100),
        other => format!("{sign}{amount} {other}"),
    }
}

/// `Saturday 24 December 2026`.
pub fn long_date(date: NaiveDate) -> String {
    date.format("%A %-d %B %Y").to_string()
}

/// `19:30`.
pub fn time(time: NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// An instant as the restaurant's local clock shows it: `Sat 24 Dec 19:30`.
pub fn local_instant(instant: DateTime<Utc>, time_zone: &str) -> String {
    match time_zone.parse::<Tz>() {
        Ok(tz) => instant
            .with_timezone(&tz)
            .format("%a %-d %b %H:%M")
            .to_string(),
        Err(_) => instant.format("%a %-d %b %H:%M UTC").to_string(),
    }
}

/// `1 hour 5 minutes`, `40 seconds`: a span people read at a glance.
pub fn span(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        0..60 => plural(seconds, "second"),
        60..3600 => plural((seconds + 30) / 60, "minute"),
        _ => {
            let minutes = (seconds % 3600) / 60;
            let hours = plural(seconds / 3600, "hour");
            if minutes == 0 {
                hours
            } else {
                format!("{hours} {}", plural(minutes, "minute"))
            }
        }
    }
}

/// ISO weekday (1 = Monday) as a name.
pub fn weekday(iso: i16) -> &'static str {
    match iso {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        7 => "Sunday",
        _ => "?",
    }
}

/// "12 Rue X, Paris": the address, and the city unless the address already names it.
pub fn address(address: &str, city: &str) -> String {
    match (address.trim(), city.trim()) {
        (address, "") => address.to_owned(),
        ("", city) => city.to_owned(),
        (address, city) if address.contains(city) => address.to_owned(),
        (address, city) => format!("{address}, {city}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_names_its_city_once() {
        assert_eq!(
            address("3 place de la Bastille", "Paris"),
            "3 place de la Bastille, Paris"
        );
        assert_eq!(address("24 rue X, Paris", "Paris"), "24 rue X, Paris");
        assert_eq!(address("", "Paris"), "Paris");
        assert_eq!(address("1 Main St", ""), "1 Main St");
    }

    #[test]
    fn money_is_written_with_the_currency_sign() {
        assert_eq!(money(4250, "EUR"), "€42.50");
        assert_eq!(money(1800, "GBP"), "£18.00");
        assert_eq!(money(5, "USD"), "$0.05");
        assert_eq!(money(12345, "CHF"), "123.45 CHF");
    }

    #[test]
    fn spans_round_to_what_people_read() {
        assert_eq!(span(1), "1 second");
        assert_eq!(span(59), "59 seconds");
        assert_eq!(span(89), "1 minute");
        assert_eq!(span(3600), "1 hour");
        assert_eq!(span(3900), "1 hour 5 minutes");
        assert_eq!(span(-3), "0 seconds");
    }
}
