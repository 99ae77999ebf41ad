//! What each notification says. Every message has the same parts: a subject, a few plain
//! sentences, the booking's details, and the link to the reservation's page; the confirmation
//! adds its calendar entry. Plain text for every mail client, and the same words as simple HTML.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, DOCTYPE};

use booking::{NotificationFacts, NotificationKind};

use crate::calendar::{self, Event};
use crate::Email;

/// The email for `facts`. `public_url` is where the website is (`https://book.example.com`),
/// `now` the moment it is written (the calendar entry's stamp).
pub fn compose(facts: &NotificationFacts, public_url: &str, now: DateTime<Utc>) -> Email {
    let link = format!(
        "{}/reservations/{}",
        public_url.trim_end_matches('/'),
        facts.reservation_id
    );
    let when = When::of(facts);
    let restaurant = &facts.restaurant_name;
    let (subject, paragraphs) = wording(facts, &when);
    let details = details(facts, &when);
    let mut text = format!("Hello {},\n\n", facts.guest_name);
    for paragraph in &paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
    }
    for (label, value) in &details {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!(
        "\nYour reservation: {link}\n\n{restaurant}\n{}\n",
        facts.restaurant_address
    ));
    let html = page(&subject, facts, &paragraphs, &details, &link).into_string();
    let attachments = match (facts.kind, when.start) {
        (NotificationKind::Confirmed, Some(start)) => {
            let summary = format!("Table at {restaurant}");
            let location = location(facts);
            let description = format!(
                "{} for {}. Your reservation: {link}",
                facts.table_type_name,
                people(facts.party_size)
            );
            vec![calendar::attachment(&Event {
                uid: format!("{}@maitred", facts.reservation_id),
                start,
                end: start + chrono::Duration::minutes(i64::from(facts.duration_minutes)),
                summary: &summary,
                location: &location,
                description: &description,
                url: &link,
                stamp: now,
            })]
        }
        _ => Vec::new(),
    };
    Email {
        to_name: facts.guest_name.clone(),
        to_address: facts.guest_email.clone(),
        subject,
        message_id: format!("<{}.{}@maitred>", facts.kind.key(), facts.reservation_id),
        text,
        html,
        attachments,
    }
}

/// The booking's time as the diner reads it: the restaurant's wall clock.
struct When {
    /// `Saturday 12 December 2026 at 19:30`.
    local: String,
    start: Option<DateTime<Utc>>,
    /// The hold's expiry on the restaurant's clock, `19:42`.
    hold_until: Option<String>,
}

impl When {
    fn of(facts: &NotificationFacts) -> Self {
        let local = format!(
            "{} at {}",
            facts.date.format("%A %-d %B %Y"),
            facts.time.format("%H:%M")
        );
        let start =
            booking::schedule::start_instant(&facts.time_zone, facts.date.and_time(facts.time));
        let hold_until = facts
            .hold_expires_at
            .map(|at| match facts.time_zone.parse::<Tz>() {
                Ok(tz) => at.with_timezone(&tz).format("%H:%M").to_string(),
                Err(_) => at.format("%H:%M UTC").to_string(),
            });
        Self {
            local,
            start,
            hold_until,
        }
    }
}

/// The subject and the paragraphs of each kind.
fn wording(facts: &NotificationFacts, when: &When) -> (String, Vec<String>) {
    let restaurant = &facts.restaurant_name;
    let at = &when.local;
    let price = price(facts);
    match facts.kind {
        NotificationKind::Confirmed => (
            format!("Your table at {restaurant} is confirmed: {at}"),
            vec![
                format!("Your table at {restaurant} is booked for {at}. We look forward to seeing you."),
                "The attached calendar entry adds it to your calendar.".into(),
            ],
        ),
        NotificationKind::Rejected => (
            format!("We could not book your table at {restaurant}"),
            vec![
                format!(
                    "We are sorry: your table at {restaurant} for {at} could not be booked, because {}.",
                    rejection(facts.reason.as_deref())
                ),
                "Nothing was charged. Another time or another table may still be free.".into(),
            ],
        ),
        NotificationKind::HoldExpiring => {
            let until = when.hold_until.as_deref().unwrap_or("soon");
            (
                format!("Your table at {restaurant} is held until {until}"),
                vec![format!(
                    "We are holding your table at {restaurant} for {at} until {until}. \
                     Pay on your reservation's page before then to keep it; after that the table \
                     goes back to other diners."
                )],
            )
        }
        NotificationKind::Reminder { lead } => (
            format!("Reminder: your table at {restaurant}, {at}"),
            vec![format!(
                "A reminder: your table at {restaurant} is booked for {at}, {} from now. \
                 If your plans changed, please cancel on your reservation's page so someone else \
                 can have the table.",
                in_words(lead)
            )],
        ),
        NotificationKind::Canceled => (
            format!("Your booking at {restaurant} is canceled"),
            vec![format!(
                "Your booking at {restaurant} for {at} is canceled. If a refund is due, a \
                 separate email tells you when it is made."
            )],
        ),
        NotificationKind::Refunded => (
            format!("Your refund from {restaurant}"),
            vec![format!(
                "We have refunded {} for your canceled booking at {restaurant} for {at}. It can \
                 take a few days to show on your statement.",
                price.as_deref().unwrap_or("your payment")
            )],
        ),
        NotificationKind::WaitlistOffer => {
            let until = when.hold_until.as_deref().unwrap_or("soon");
            (
                format!("A table at {restaurant} is free for you"),
                vec![format!(
                    "Good news: a table at {restaurant} for {at} is free, and we are holding it \
                     for you until {until}. Confirm it on your reservation's page before then."
                )],
            )
        }
        NotificationKind::Modified { .. } => {
            let mut paragraphs = vec![format!(
                "Your booking at {restaurant} is changed: it is now for {at}, {} at {} {}.",
                people(facts.party_size),
                facts.table_count,
                facts.table_type_name
            )];
            if let Some(previous) = &facts.previous {
                paragraphs.push(format!(
                    "It was for {} at {}, {}.",
                    previous.date.format("%A %-d %B %Y"),
                    previous.time.format("%H:%M"),
                    people(previous.party_size)
                ));
                let before = previous.price_cents.unwrap_or(0);
                let now = facts.price_cents.unwrap_or(0);
                let currency = facts.currency.as_deref().unwrap_or("");
                let amount = |cents: i64| format!("{}.{:02} {currency}", cents / 100, cents % 100);
                if now > before {
                    paragraphs.push(format!(
                        "The new price is {}: the difference of {} was charged to the card you gave.",
                        amount(now),
                        amount(now - before)
                    ));
                } else if now < before {
                    paragraphs.push(format!(
                        "The new price is {}: the difference of {} is refunded to your card.",
                        amount(now),
                        amount(before - now)
                    ));
                }
            }
            (
                format!("Your booking at {restaurant} is changed: {at}"),
                paragraphs,
            )
        }
        NotificationKind::FeeCharged => {
            let fee = match (facts.fee_cents, facts.currency.as_deref()) {
                (Some(cents), Some(currency)) => {
                    format!("{}.{:02} {currency}", cents / 100, (cents % 100).abs())
                }
                _ => "the fee".to_owned(),
            };
            (
                format!("A fee from {restaurant} for your booking of {at}"),
                vec![format!(
                    "Your booking at {restaurant} for {at} was not kept, so the restaurant's fee \
                     of {fee}, which the booking page named, was charged to the card you gave."
                )],
            )
        }
    }
}

/// A rejection's reason, in plain words.
fn rejection(reason: Option<&str>) -> &'static str {
    match reason {
        Some("no_availability") => "no table was left for that time",
        Some("closed") => "the restaurant is not open at that time",
        Some("table_type_unavailable") => "that kind of table is no longer offered",
        Some("payment_declined") => "the payment was declined",
        Some("pacing_limit") => "the kitchen is already starting as many guests then as it can",
        _ => "the restaurant could not take it",
    }
}

/// A lead time in words: `24 hours`, `2 hours`, `90 minutes`, `30 seconds`.
fn in_words(lead: std::time::Duration) -> String {
    let seconds = lead.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        plural(seconds / 3600, "hour")
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

fn people(party_size: i32) -> String {
    if party_size == 1 {
        "1 person".into()
    } else {
        format!("{party_size} people")
    }
}

fn price(facts: &NotificationFacts) -> Option<String> {
    let cents = facts.price_cents?;
    let currency = facts.currency.as_deref()?;
    Some(format!(
        "{}.{:02} {currency}",
        cents / 100,
        (cents % 100).abs()
    ))
}

fn location(facts: &NotificationFacts) -> String {
    [
        &facts.restaurant_name,
        &facts.restaurant_address,
        &facts.restaurant_city,
    ]
    .iter()
    .filter(|part| !part.is_empty())
    .map(|part| part.as_str())
    .collect::<Vec<_>>()
    .join(", ")
}

/// The booking's facts, label and value, in both bodies.
fn details(facts: &NotificationFacts, when: &When) -> Vec<(&'static str, String)> {
    let mut details = vec![
        ("When", when.local.clone()),
        ("Where", location(facts)),
        (
            "Table",
            format!(
                "{} × {} for {}",
                facts.table_count,
                facts.table_type_name,
                people(facts.party_size)
            ),
        ),
    ];
    if let Some(price) = price(facts) {
        details.push(("Price", price));
    }
    details
}

fn page(
    subject: &str,
    facts: &NotificationFacts,
    paragraphs: &[String],
    details: &[(&'static str, String)],
    link: &str,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif; line-height: 1.5; max-width: 36em" {
                p { "Hello " (facts.guest_name) "," }
                @for paragraph in paragraphs { p { (paragraph) } }
                table {
                    @for (label, value) in details {
                        tr { th style="text-align: left; padding-right: 1em" { (label) } td { (value) } }
                    }
                }
                p { a href=(link) { "Your reservation" } }
                p style="color: #555" { (facts.restaurant_name) br; (facts.restaurant_address) }
            }
        }
    }
}

/// The email with a diner's sign-in link: `link` opens their history on the website once,
/// within `valid_minutes`. It names no booking, so it tells nothing to whoever else reads it.
pub fn sign_in_link(to_address: &str, link: &str, valid_minutes: u32, id: &str) -> Email {
    let subject = "Your sign-in link".to_owned();
    let lines = [
        "Here is the link you asked for to see your bookings.".to_owned(),
        format!("It works once, for the next {valid_minutes} minutes."),
        "If you did not ask for it, ignore this email: nothing happens without the link."
            .to_owned(),
    ];
    let mut text = "Hello,\n\n".to_owned();
    for line in &lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    text.push_str(&format!("Sign in: {link}\n"));
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif; line-height: 1.5; max-width: 36em" {
                p { "Hello," }
                @for line in &lines { p { (line) } }
                p { a href=(link) { "Sign in to see your bookings" } }
            }
        }
    }
    .into_string();
    Email {
        to_name: String::new(),
        to_address: to_address.to_owned(),
        subject,
        message_id: format!("<sign_in.{id}@maitred>"),
        text,
        html,
        attachments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking::Status;
    use uuid::Uuid;

    fn facts(kind: NotificationKind) -> NotificationFacts {
        NotificationFacts {
            notification_id: 1,
            kind,
            reservation_id: Uuid::nil(),
            status: Status::Confirmed,
            guest_name: "Ada <Lovelace>".into(),
            guest_email: "ada@example.com".into(),
            party_size: 2,
            table_count: 1,
            date: "2026-12-12".parse().unwrap(),
            time: "19:30:00".parse().unwrap(),
            duration_minutes: 90,
            price_cents: Some(4000),
            fee_cents: None,
            previous: None,
            currency: Some("EUR".into()),
            reason: Some("no_availability".into()),
            hold_expires_at: Some("2026-12-05T11:10:00Z".parse().unwrap()),
            restaurant_name: "Le Petit Maître".into(),
            restaurant_address: "1 rue de Rivoli".into(),
            restaurant_city: "Paris".into(),
            time_zone: "Europe/Paris".into(),
            table_type_name: "2-top".into(),
        }
    }

    #[test]
    fn a_change_says_what_the_booking_was_is_now_and_what_the_difference_did() {
        let now = "2026-12-05T12:00:00Z".parse().unwrap();
        let mut changed = facts(NotificationKind::Modified { count: 1 });
        changed.party_size = 4;
        changed.price_cents = Some(6000);
        changed.previous = Some(booking::PreviousDetails {
            date: "2026-12-11".parse().unwrap(),
            time: "20:00:00".parse().unwrap(),
            party_size: 2,
            price_cents: Some(4000),
        });
        let email = compose(&changed, "https://book.example/", now);
        assert!(email
            .subject
            .contains("is changed: Saturday 12 December 2026 at 19:30"));
        assert!(
            email
                .text
                .contains("now for Saturday 12 December 2026 at 19:30, 4 people"),
            "{}",
            email.text
        );
        assert!(email
            .text
            .contains("It was for Friday 11 December 2026 at 20:00, 2 people."));
        assert!(email
            .text
            .contains("the difference of 20.00 EUR was charged"));
        assert_eq!(
            NotificationKind::parse("modified_2"),
            Some(NotificationKind::Modified { count: 2 })
        );
    }

    #[test]
    fn a_confirmation_links_the_reservation_and_carries_its_local_time_as_utc() {
        let now = "2026-12-05T12:00:00Z".parse().unwrap();
        let email = compose(
            &facts(NotificationKind::Confirmed),
            "https://book.example/",
            now,
        );
        let link = format!("https://book.example/reservations/{}", Uuid::nil());
        assert!(email.text.contains(&link), "{}", email.text);
        assert!(email.html.contains(&format!("href=\"{link}\"")));
        assert!(
            email.html.contains("Ada &lt;Lovelace&gt;"),
            "escaped: {}",
            email.html
        );
        assert!(email.subject.contains("Saturday 12 December 2026 at 19:30"));
        let ics = String::from_utf8(email.attachments[0].body.clone()).unwrap();
        // 19:30 in Paris in December is 18:30 UTC; 90 minutes later is 20:00.
        assert!(ics.contains("DTSTART:20261212T183000Z"), "{ics}");
        assert!(ics.contains("DTEND:20261212T200000Z"), "{ics}");
    }

    #[test]
    fn each_kind_says_what_happened_in_plain_words() {
        let now = Utc::now();
        let rejected = compose(&facts(NotificationKind::Rejected), "http://x", now);
        assert!(rejected.text.contains("no table was left for that time"));
        assert!(rejected.attachments.is_empty());
        let hold = compose(&facts(NotificationKind::HoldExpiring), "http://x", now);
        assert!(
            hold.subject.ends_with("held until 12:10"),
            "{}",
            hold.subject
        );
        let lead = std::time::Duration::from_secs(2 * 3600);
        let reminder = compose(&facts(NotificationKind::Reminder { lead }), "http://x", now);
        assert!(reminder.text.contains("2 hours from now"));
        let refunded = compose(&facts(NotificationKind::Refunded), "http://x", now);
        assert!(refunded.text.contains("40.00 EUR"));
        assert_ne!(rejected.message_id, hold.message_id);
    }
}
